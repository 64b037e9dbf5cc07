#!/bin/sh
# tests/integ/crash.sh: durable delivery under crashes (issue 17;
# doc/PROTOCOL.md section 11), TAP.
#
# Four senders each send N durable messages (bodies carry sender and
# sequence, each message its own idempotency key, retried with that key
# after an outcome it cannot know) to three recipients while secmsgd is
# killed with SIGKILL and restarted four times at random moments, and
# receivers come and go, acknowledging only what they have recorded
# (tests/integ/crash.py, on the independent Python implementation).  At
# the end every OK'd message was received, nothing else was, every
# repeated delivery is flagged or follows an ambiguous try, and first
# deliveries are in order per sender and recipient.
#
# Then secmsg-client's own retry: `send --durable` through a proxy
# (tests/integ/cutproxy.py) that swallows the daemon's OK and drops the
# connection; the client tries again with the same key and the daemon
# answers with the first msgid, flagged a duplicate: one message stored.
# And with the daemon stopped (SIGSTOP) for a while: the client's tries
# time out, it tries again, and the message is stored once.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
"$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no python3-dissononce"

# Messages per sender: 4 x 60 in all, through 4 crashes, keeps the test
# within a few seconds on an idle machine and well under a minute on a
# loaded one or under the sanitizers.
N=${SECMSG_CRASH_N:-60}
KILLS=4

plan 20

for k in s0 s1 s2 s3 r0 r1 r2 alice bob; do
	keygen "$k"
	authorize "$k"
done
CONF='store = "lmdb";
store_map_size = 32;'

ok "secmsgd starts with a store" start_daemon "$CONF"

# crash.py restarts the daemon itself (same config, same port) and
# leaves its pid here; stop it whatever happens.
trap 'kill -KILL $(cat "$T/crash.pid" 2>/dev/null) 2>/dev/null; cleanup' EXIT
timeout -k 10 100 "$PY" "$top_srcdir/tests/integ/crash.py" "$SECMSGD" \
    "$T/secmsgd.conf" "$T/daemon.log" "$PORT" "$SERVER_KEY" "$T" \
    "$(daemon_pid)" "$N" "$KILLS" "$T/crash.pid" > "$T/crash.out" 2>&1
ok "the crash driver ran to its end" test $? -eq 0
wait "$DPID" 2>/dev/null
grep '^#' "$T/crash.out"
# One TAP line per check of the driver (10), in its order.
n=0
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok }" true ;;
	"not ok "*) ok "${line#not ok }" false ;;
	*) continue ;;
	esac
	n=$((n + 1))
done < "$T/crash.out"
ok "the driver made all its checks" test "$n" -eq 10
[ "$n" -eq 10 ] || sed 's/^/# /' "$T/crash.out" | tail -n 20

# secmsg-client's retry path.
if [ ! -x "$CLIENT" ]; then
	for i in 1 2 3 4 5 6 7; do
		echo "ok $((TAP_N + i)) # SKIP no secmsg-client binary"
	done
	exit 0
fi
ok "secmsgd starts again, on the store the crashes left" \
    start_daemon "$CONF"
timeout -k 5 60 "$PY" "$top_srcdir/tests/integ/cutproxy.py" \
    "$T/proxy.port" "$PORT" 2> "$T/proxy.err" &
PIDS="$PIDS $!"
wait_for "$T/proxy.port" '[0-9]' 50
PPORT=$(cat "$T/proxy.port")
timeout -k 5 40 "$CLIENT" -s "127.0.0.1:$PPORT" -i "$T/alice.key" \
    --server-key "$SERVER_KEY" --timeout 10 --json send --durable bob \
    "only once" > "$T/send.out" 2> "$T/send.err" < /dev/null
RC=$?
sed 's/^/# /' "$T/send.err"
ok "send --durable, its first OK lost with the connection: retried, exit 0" \
    sh -c "[ $RC -eq 0 ] && grep -q 'trying again with the same key' \
    '$T/send.err'"
ok "the retry is answered with the first msgid, flagged a duplicate" \
    "$PY" -c '
import json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(L) == 1 and L[0]["type"] == "ok" and
         L[0]["duplicate"] is True and L[0]["tries"] == 2 else 1)' \
    "$T/send.out"
timeout -k 5 30 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/bob.key" \
    --server-key "$SERVER_KEY" fetch > "$T/fetch.out" 2>&1 < /dev/null
ok "bob's mailbox holds it once" sh -c "[ \$(grep -c 'alice: only once\$' \
    '$T/fetch.out') -eq 1 ] && [ \$(wc -l < '$T/fetch.out') -eq 1 ]"

# The daemon stopped (SIGSTOP): each try of the client times out (1 s)
# and it tries again; the daemon continues after 2.5 s, meets the dead
# tries' connections first, and the message is stored once.
kill -STOP "$(daemon_pid)"
timeout -k 5 40 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/alice.key" \
    --server-key "$SERVER_KEY" --timeout 1 --json send --durable bob \
    "after a stop" > "$T/stop.out" 2> "$T/stop.err" < /dev/null &
CPID=$!
sleep 2.5
kill -CONT "$(daemon_pid)"
wait "$CPID"
RC=$?
sed 's/^/# /' "$T/stop.err"
ok "send --durable to a stopped daemon: timed out, tried again, exit 0" \
    sh -c "[ $RC -eq 0 ] && grep -q 'trying again\|timed out' '$T/stop.err'"
ok "its OK: a new message, after more than one try" "$PY" -c '
import json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if len(L) == 1 and L[0]["type"] == "ok" and
         L[0]["tries"] >= 2 and L[0]["stored"] == 1 else 1)' "$T/stop.out"
timeout -k 5 30 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/bob.key" \
    --server-key "$SERVER_KEY" fetch > "$T/fetch2.out" 2>&1 < /dev/null
ok "stored once" sh -c "[ \$(grep -c 'alice: after a stop\$' \
    '$T/fetch2.out') -eq 1 ] && [ \$(wc -l < '$T/fetch2.out') -eq 1 ]"
stop_daemon
exit 0

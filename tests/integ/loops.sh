#!/bin/sh
# tests/integ/loops.sh: several session loops (workers = 4).  Each
# authenticated connection lives on the worker loop that ran its handshake
# (round robin), so clients connected one after another sit on different
# loops, and everything between them crosses loops: SEND to a name with
# connections on two loops, PUBLISH to subscribers on three, WHO merging
# every loop's list, replies in request order behind cross-loop requests,
# a reload reaching every loop, a half-closed client answered in full
# before it is closed, and shutdown (which a reload does not undo).

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"

# This test is about several loops, whatever the suite's own setting.
SECMSG_TEST_CONF=""

for k in bee1 bee2 carol dave erin frank; do
	keygen "$k"
done
echo "$(cat "$T/bee1.pub") bee" >> "$T/authorized_keys"
echo "$(cat "$T/bee2.pub") bee" >> "$T/authorized_keys"
authorize carol
authorize dave
authorize erin
authorize frank
start_daemon "workers = 4;
handshake_rate = 0;
log_level = \"info\";" || exit 1
ok "four session loops started" logged "workers=4 "

# Three listeners, connected one after another: three different loops.
# (They stay until the daemon stops: 90 s at most, long enough for a
# loaded machine.)
for c in bee1 bee2 carol; do
	(SWARM_TIMEOUT=120; cl "$c.bg" "$c" join ch end 90) &
	PIDS="$PIDS $!"
	wait_for "$T/$c.bg" "join ok" 100
done
loop_of() {
	grep -E "authenticated name=$1 key=$(swarm fp "$T/$2.pub") " \
	    "$T/daemon.log" | sed -n 's/.* loop=\([0-9]*\)$/\1/p' | head -n 1
}
L1=$(loop_of bee bee1) L2=$(loop_of bee bee2) L3=$(loop_of carol carol)
ok "the listeners sit on three different loops ($L1 $L2 $L3)" \
    test -n "$L1" -a -n "$L2" -a -n "$L3" -a "$L1" != "$L2" -a \
    "$L1" != "$L3" -a "$L2" != "$L3"

cl dave.out dave who send bee text:direct publish ch text:fanout \
    send nobody text:x send erin text:x pipeline bee 40 ping
sed 's/^/# dave: /' "$T/dave.out"
ok "WHO merges the loops: bee once with 2 connections, ch with 3" \
    grep -q "^who ok .*c:ch:3 .*p:bee:2 " "$T/dave.out"
ok "SEND reaches both connections of bee, on two other loops" \
    has dave.out "send ok 2 0"
ok "PUBLISH reaches the 3 subscribers on three other loops" \
    has dave.out "publish ok 3 0"
ok "SEND to a name no key has: unknown-peer (no loop has it)" \
    has dave.out "send error 3 unknown-peer"
ok "SEND to a known name offline everywhere: offline" \
    has dave.out "send error 4 offline"
ok "80 pipelined requests (SEND across loops, PING local): replies in \
request order" has dave.out "pipeline in-order 80"
ok "the connection goes on afterwards" has dave.out "ping ok"

sleep 0.5
for c in bee1 bee2; do
	ok "$c got the direct message and all 40 pipelined ones, once each" \
	    test "$(grep -c '^deliver dave - ' "$T/$c.bg")" -eq 41
	ok "$c got the channel message" grep -q '^deliver dave ch 6 ' \
	    "$T/$c.bg"
done
ok "carol got the channel message only" \
    test "$(grep -c '^deliver dave' "$T/carol.bg")" -eq 1

# Half-close: 30 SENDs across loops, then shutdown(SHUT_WR) at once.  The
# answers come from other loops after the EOF is read; each is still sent,
# in order, before the daemon closes (as with a single loop).
cl erin.out erin halfclose bee 30
sed 's/^/# erin: /' "$T/erin.out"
ok "half-closed after 30 SENDs across loops: all 30 replies, in order" \
    has erin.out "halfclose in-order 30"
ok "then closed: reason=eof, not a flush timeout" \
    logged "closed reason=eof peer=[^ ]* name=erin "
sleep 0.3
for c in bee1 bee2; do
	ok "$c got erin's 30 messages" \
	    test "$(grep -c '^deliver erin - ' "$T/$c.bg")" -eq 30
done

# A reload reaches every loop: carol's key is removed.
grep -v "$(cut -d' ' -f1,2 "$T/carol.pub")" "$T/authorized_keys" \
    > "$T/ak.new"
mv "$T/ak.new" "$T/authorized_keys"
chmod 600 "$T/authorized_keys"
reload_daemon "reloaded configuration"
i=0
while [ $i -lt 50 ] && ! grep -q "^eof" "$T/carol.bg"; do
	sleep 0.1
	i=$((i + 1))
done
ok "reload: carol, on her own loop, gets GOODBYE key-revoked" \
    has carol.bg "goodbye 18 key-revoked"
cl dave2.out dave who
ok "reload: WHO no longer lists carol's subscription (ch: 2)" \
    grep -q "^who ok .*c:ch:2 " "$T/dave2.out"

# A subscriber that stops reading (a 4 KiB receive buffer) with a few MB
# queued for it: its GOODBYE cannot leave, so the shutdown lasts the flush
# timeout (2 s).  A SIGHUP meanwhile must not reopen the listeners.
cl frank.bg frank --rcvbuf 4096 join big sleep 30 &
PIDS="$PIDS $!"
wait_for "$T/frank.bg" "join ok" 100
cl dave3.out dave publish big rand:900000 publish big rand:900000 \
    publish big rand:900000 publish big rand:900000
sed 's/^/# dave: /' "$T/dave3.out"
DP=$(daemon_pid)
kill -TERM "$DP"
wait_for "$T/daemon.log" "stopping" 30
kill -HUP "$DP"
wait_for "$T/daemon.log" "reload ignored" 30
refused() {
	"$PY" -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2).close()
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$PORT"
}
ok "SIGHUP while stopping: ignored, logged" \
    logged "reload ignored: shutting down"
# Refused while the daemon is still there, stopping (frank holds it).
still_refused() { kill -0 "$DP" && refused && kill -0 "$DP"; }
ok "SIGHUP while stopping: the port stays closed, the daemon still up" \
    still_refused
ok "SIGHUP while stopping: nothing is listening again" \
    sh -c "! sed -n '/stopping/,\$p' '$T/daemon.log' | grep -q 'listening on'"
stop_daemon
ok "daemon exits 0 on SIGTERM" test "$DSTATUS" -eq 0
ok "SIGTERM: sessions on worker loops get GOODBYE shutdown" \
    has bee1.bg "goodbye 19 shutdown"
ok "SIGTERM: and so does the other loop's" has bee2.bg "goodbye 19 shutdown"

plan "$TAP_N"

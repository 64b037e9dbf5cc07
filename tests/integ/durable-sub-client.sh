#!/bin/sh
# tests/integ/durable-sub-client.sh: secmsg-client's durable channels
# (issue 17; doc/PROTOCOL.md 11.3), TAP.
#
# `subscribe --durable` subscribes the name in the store (it outlives the
# client and a SIGKILL of the daemon); `publish --durable` stores a
# message for the subscribed names and prints its msgid (--json: stored,
# full); a subscriber that comes back gets the backlog in order, past the
# server's window, and acknowledges each message only once it is written:
# into /dev/full it exits 1 and the next one gets the message again,
# flagged (--json: msgid, redelivery).  -n stops after N messages and
# leaves the others stored; -W ends with exit 7.  `unsubscribe --durable`
# ends the subscription; without --durable it is a usage error.  The key's
# subscribe= list is applied.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"

plan 19

keygen ops
keygen plc
keygen bob
authorize ops
authorize plc
authorize bob "subscribe=other.*"

CONF='store = "lmdb";
store_map_size = 16;
store_max_unacked = 4;'

# c OUT WHO ARGS...: secmsg-client as WHO (bounded), stdout in $T/OUT,
# stderr in $T/OUT.err; its exit status in RC.
c() {
	_o=$1 _w=$2
	shift 2
	timeout -k 10 30 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/$_w.key" \
	    --server-key "$SERVER_KEY" "$@" > "$T/$_o" 2> "$T/$_o.err" \
	    < /dev/null
	RC=$?
	return 0
}
# json OUT EXPR: a python3 expression over the JSON lines of $T/OUT (L).
json() {
	"$PY" -c '
import json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval("(" + sys.argv[2].strip() + ")") else 1)' "$T/$1" "$2"
}

ok "secmsgd starts with a store" start_daemon "$CONF"

c s0.out ops subscribe --durable -W 2 alarms
ok "subscribe --durable -W 2 with nothing stored: nothing, exit 7" \
    sh -c "[ $RC -eq 7 ] && [ ! -s '$T/s0.out' ]"
c p1.out plc publish --durable alarms "a1"
ok "publish --durable: exit 0, prints the msgid" \
    sh -c "[ $RC -eq 0 ] && grep -qx 1 '$T/p1.out'"
c p2.out plc --json publish --durable '#alarms' "a2"
ok "publish --durable --json: msgid, duplicate, stored, full" \
    json p2.out 'len(L) == 1 and L[0]["type"] == "ok" and
    L[0]["request"] == "publish" and L[0]["msgid"] == 2 and
    L[0]["duplicate"] is False and L[0]["stored"] == 1 and
    L[0]["full"] == 0'

ok "the daemon is killed (SIGKILL)" sh -c "kill -KILL $(daemon_pid)"
wait "$DPID" 2>/dev/null
ok "and restarts on the same store" start_daemon "$CONF"

c s1.out ops subscribe --durable -n 2 alarms
ok "subscribe --durable -n 2: both, in order, from plc on #alarms" \
    sh -c "[ $RC -eq 0 ] && [ \$(wc -l < '$T/s1.out') -eq 2 ] &&
    sed -n 1p '$T/s1.out' | grep -q '#alarms.*plc: a1$' &&
    sed -n 2p '$T/s1.out' | grep -q '#alarms.*plc: a2$'"
c s2.out ops subscribe --durable -W 2 alarms
ok "they were acknowledged: the next one gets nothing (exit 7)" \
    sh -c "[ $RC -eq 7 ] && [ ! -s '$T/s2.out' ]"

c p3.out plc publish --durable alarms "a3"
timeout -k 10 30 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/ops.key" \
    --server-key "$SERVER_KEY" subscribe --durable -n 1 alarms \
    > /dev/full 2> "$T/full.err" < /dev/null
RC=$?
ok "a durable subscriber writing into /dev/full exits 1, says why" \
    sh -c "[ $RC -eq 1 ] && grep -q 'No space left on device' \
    '$T/full.err'"
c s3.out ops --json subscribe --durable -n 1 alarms
ok "the next gets it again, --json: msgid, redelivery, channel, body" \
    json s3.out 'len(L) == 1 and L[0]["type"] == "stored" and
    L[0]["msgid"] == 3 and L[0]["redelivery"] is True and
    L[0]["from"] == "plc" and L[0]["channel"] == "alarms" and
    L[0]["body"] == "a3"'

i=1
while [ $i -le 10 ]; do
	c pN.out plc publish --durable alarms "n$i"
	[ "$RC" -eq 0 ] || break
	i=$((i + 1))
done
ok "ten more durable publishes" [ $i -eq 11 ]
c s4.out ops --raw subscribe --durable -n 6 alarms
ok "-n 6 of them, in order, past the window of 4" \
    sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/s4.out')\" = 'n1n2n3n4n5n6' ]"
c f1.out ops --raw fetch
ok "the four it did not show are still stored: fetch gets them" \
    sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/f1.out')\" = 'n7n8n9n10' ]"

# A subscriber that is there when the message comes.
nb=$(count_in "$T/daemon.log" 'authenticated name=ops')
timeout -k 10 30 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/ops.key" \
    --server-key "$SERVER_KEY" --raw subscribe --durable -n 1 -W 20 \
    alarms > "$T/live.out" 2> "$T/live.err" < /dev/null &
LPID=$!
PIDS="$PIDS $LPID"
n0=0
while [ $n0 -lt 100 ] && [ "$(count_in "$T/daemon.log" \
    'authenticated name=ops')" -le "$nb" ]; do
	sleep 0.1
	n0=$((n0 + 1))
done
sleep 0.3
c p4.out plc publish --durable alarms "live"
wait "$LPID"
RC=$?
ok "a connected durable subscriber gets a new message at once" \
    sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/live.out')\" = live ]"

c u1.out ops unsubscribe --durable alarms
ok "unsubscribe --durable: exit 0" [ "$RC" -eq 0 ]
c p5.out plc --json publish --durable alarms "after"
ok "a durable publish then stores nothing: msgid 0, stored 0" \
    json p5.out 'len(L) == 1 and L[0]["msgid"] == 0 and
    L[0]["stored"] == 0'
c u2.out ops unsubscribe alarms
ok "unsubscribe without --durable: usage, exit 2" [ "$RC" -eq 2 ]
c b1.out bob subscribe --durable -W 5 alarms
ok "subscribe --durable where the key's subscribe= says no: exit 6" \
    sh -c "[ $RC -eq 6 ] && grep -q 'not permitted' '$T/b1.out.err'"

stop_daemon
ok "secmsgd stops cleanly" test "$DSTATUS" -eq 0

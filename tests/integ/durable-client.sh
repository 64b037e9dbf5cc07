#!/bin/sh
# tests/integ/durable-client.sh: secmsg-client's durable delivery (issue
# 17; doc/PROTOCOL.md section 11), TAP.
#
# `send --durable` to a name that is offline stores the message and prints
# its msgid; the daemon is killed with SIGKILL and restarted; `fetch`
# prints the message and acknowledges it, so a second fetch prints
# nothing.  A fetch whose output fails (> /dev/full) exits non-zero and
# acknowledges nothing: the next fetch gets the message again, flagged as
# a redelivery.  --json shows msgid, duplicate, stored and full for send,
# and msgid, redelivery, from, ts and body for fetch.  More than a window
# of messages (store_max_unacked) comes through one fetch.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"

plan 21

keygen alice
keygen bob
authorize alice
authorize bob

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
	[ $RC -eq 0 ] || sed 's/^/# stderr: /' "$T/$_o.err" | head -n 5
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

c s1.out alice send --durable bob "alarm at 03:12"
ok "send --durable to bob, offline: exit 0" [ "$RC" -eq 0 ]
ok "it prints the msgid" has s1.out 1

ok "the daemon is killed (SIGKILL)" sh -c "kill -KILL $(daemon_pid)"
wait "$DPID" 2>/dev/null
ok "and restarts on the same store" start_daemon "$CONF"

c f1.out bob fetch
ok "fetch: exit 0" [ "$RC" -eq 0 ]
ok "it prints the message, from alice" \
    grep -q '] alice: alarm at 03:12$' "$T/f1.out"
ok "one line, not flagged" sh -c "[ \$(wc -l < '$T/f1.out') -eq 1 ] &&
    ! grep -q redelivery '$T/f1.out'"
c f2.out bob fetch
ok "a second fetch: exit 0 and nothing (it was acknowledged)" \
    sh -c "[ $RC -eq 0 ] && [ ! -s '$T/f2.out' ]"

c s2.out alice --json send --durable bob "second"
ok "send --durable --json: msgid, duplicate, stored, full" \
    json s2.out 'len(L) == 1 and L[0]["type"] == "ok" and
    L[0]["msgid"] == 2 and L[0]["duplicate"] is False and
    L[0]["stored"] == 1 and L[0]["full"] == 0'

timeout -k 10 30 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/bob.key" \
    --server-key "$SERVER_KEY" fetch > /dev/full 2> "$T/full.err" < /dev/null
RC=$?
ok "a fetch into /dev/full exits 1" [ "$RC" -eq 1 ]
ok "and says why" grep -q 'No space left on device' "$T/full.err"

c f3.out bob --json fetch
ok "the next fetch gets it again: exit 0" [ "$RC" -eq 0 ]
ok "--json: msgid, from, ts, body, flagged as a redelivery" \
    json f3.out 'len(L) == 1 and L[0]["type"] == "stored" and
    L[0]["msgid"] == 2 and L[0]["redelivery"] is True and
    L[0]["from"] == "alice" and L[0]["channel"] is None and
    L[0]["body"] == "second" and L[0]["ts"] > 1700000000000'
c f4.out bob fetch
ok "then it is acknowledged: a further fetch prints nothing" \
    sh -c "[ $RC -eq 0 ] && [ ! -s '$T/f4.out' ]"

# More messages than store_max_unacked (4): fetch must acknowledge as it
# goes, or DRAINED never comes.
i=1
while [ $i -le 10 ]; do
	c sN.out alice send --durable bob "n$i"
	[ "$RC" -eq 0 ] || break
	i=$((i + 1))
done
ok "ten more durable sends" [ $i -eq 11 ]
c f5.out bob --raw fetch
ok "one fetch gets all ten, in order, past the window" \
    sh -c "[ $RC -eq 0 ] &&
    [ \"\$(cat '$T/f5.out')\" = 'n1n2n3n4n5n6n7n8n9n10' ]"
c f6.out bob fetch
ok "and acknowledged them all" sh -c "[ $RC -eq 0 ] && [ ! -s '$T/f6.out' ]"

c u.out alice fetch extra
ok "fetch takes no arguments: usage, exit 2" [ "$RC" -eq 2 ]

stop_daemon
ok "a server without a store: send --durable says so, exit 6" \
    start_daemon ""
c n.out alice send --durable bob x
ok "exit 6, nothing printed" sh -c "[ $RC -eq 6 ] && [ ! -s '$T/n.out' ] &&
    grep -q 'does not offer durable delivery' '$T/n.out.err'"

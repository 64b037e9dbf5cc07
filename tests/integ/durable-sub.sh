#!/bin/sh
# tests/integ/durable-sub.sh: durable channels (issue 17; doc/PROTOCOL.md
# 11.3), TAP, with the independent Python implementation
# (tests/integ/durable-sub.py and durable.py over
# tests/interop/secmsg_noise.py).
#
# DJOIN makes a durable subscription of a name (store_max_subscriptions
# of them at most; the key's subscribe= list applies); a DPUBLISH is
# stored once for every durably subscribed name (one msgid), a retry with
# the same key is recognised, a channel without durable subscribers
# stores nothing (msgid 0).  The subscriptions and the messages survive a
# SIGKILL right after the OK and a SIGTERM; a subscriber that was away gets its
# backlog in order, and what it acknowledged does not come again.  A full
# mailbox is counted in full, all full is quota-exceeded.  DLEAVE ends a
# subscription.  A plain JOINed connection gets a plain DELIVER, a durable
# connection of a subscribed name gets STORED only, the publisher's own
# connection nothing: on one session loop and across two.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
"$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no python3-dissononce"

plan 33

for n in ops carol plc lee bob; do
	keygen $n
done
authorize ops
authorize carol
authorize plc
authorize lee
authorize bob "subscribe=other.* publish=other.*"

SPY="$top_srcdir/tests/integ/durable-sub.py"
DPY="$top_srcdir/tests/integ/durable.py"
CONF='store = "lmdb";
store_map_size = 16;
store_max_messages = 3;
store_max_subscriptions = 2;'
K1=000102030405060708090a0b0c0d0e0f
K0=00000000000000000000000000000000

# s OUT CMD ARGS...: durable-sub.py, bounded, into $T/OUT.
s() {
	_o=$1
	shift
	timeout -k 10 30 "$PY" "$SPY" "$PORT" "$SERVER_KEY" "$T" "$@" \
	    > "$T/$_o" 2>&1
	_rc=$?
	[ $_rc -eq 0 ] || sed 's/^/# /' "$T/$_o"
	return $_rc
}
# f OUT WHO ACK: durable.py fetch (the backlog, then ACK if ACK is 1).
f() {
	timeout -k 10 30 "$PY" "$DPY" "$PORT" "$SERVER_KEY" "$T/$2.key" 2 \
	    fetch "$3" > "$T/$1" 2>&1
	_rc=$?
	[ $_rc -eq 0 ] || sed 's/^/# /' "$T/$1"
	return $_rc
}
# pub OUT BODY [KEY]: plc's DPUBLISH to alarms.
pub() { s "$1" dpublish plc alarms "$2" "${3:-$K0}"; }
# stored OUT: the number of messages stored per the OK in OUT.
stored_of() { sed -n 's/^ok .* stored=\([0-9]*\) .*/\1/p' "$T/$1"; }

ok "secmsgd starts with a store" start_daemon "$CONF"

s j1.out djoin ops alarms
s j2.out djoin ops alarms
ok "DJOIN: OK, and again: OK, nothing changes" \
    sh -c "grep -qx ok '$T/j1.out' && grep -qx ok '$T/j2.out'"
s j3.out djoin carol alarms
s j4.out djoin ops other
s j5.out djoin ops third
ok "a name's third durable subscription (store_max_subscriptions 2): \
too-large" sh -c "grep -qx ok '$T/j3.out' && grep -qx ok '$T/j4.out' &&
    grep -qx 'error 6' '$T/j5.out'"
s j6.out djoin bob alarms
ok "DJOIN of a channel the key's subscribe= does not allow: not-permitted" \
    has j6.out "error 5"
s j7.out dpublish bob alarms x "$K0"
ok "DPUBLISH to a channel its publish= does not allow: not-permitted" \
    has j7.out "error 5"

pub p1.out p1 "$K1"
ok "DPUBLISH to alarms: one msgid, stored for its 2 durable subscribers" \
    has p1.out "ok msgid=1 flags=0 stored=2 full=0 delivered=0 skipped=0"
pub p1b.out p1 "$K1"
ok "its retry with the same key: the same msgid, flagged, not stored again" \
    has p1b.out "ok msgid=1 flags=1 stored=2 full=0 delivered=0 skipped=0"
pub p2.out p2
ok "another: the next msgid" \
    has p2.out "ok msgid=2 flags=0 stored=2 full=0 delivered=0 skipped=0"
s q.out dpublish plc quiet x "$K0"
ok "a channel without durable subscribers stores nothing: msgid 0" \
    has q.out "ok msgid=0 flags=0 stored=0 full=0 delivered=0 skipped=0"

ok "the daemon is killed (SIGKILL) after the OKs" \
    sh -c "kill -KILL $(daemon_pid)"
wait "$DPID" 2>/dev/null
ok "and restarts on the same store" start_daemon "$CONF"
pub p3.out p3
ok "the subscriptions survived: a DPUBLISH is stored for both again" \
    has p3.out "ok msgid=3 flags=0 stored=2 full=0 delivered=0 skipped=0"

f o1.out ops 1
ok "ops, back, gets the backlog in order, from plc on alarms" \
    sh -c "sed -n 1,3p '$T/o1.out' | tr '\n' ' ' | grep -qx \
    'stored 1 0 plc alarms p1 stored 2 0 plc alarms p2 stored 3 0 plc \
alarms p3 '"
ok "then DRAINED up to 3; ACK removes the 3; PENDING 0" \
    sh -c "grep -qx 'drained 3 3' '$T/o1.out' &&
    grep -qx 'ack removed 3' '$T/o1.out' && grep -qx 'pending 0 0' \
    '$T/o1.out'"
f o2.out ops 1
ok "what ops acknowledged does not come again" \
    sh -c "grep -qx 'drained 0 0' '$T/o2.out' &&
    ! grep -q '^stored' '$T/o2.out'"
f c1.out carol 0
ok "carol's mailbox has the same three (one body, two mailboxes)" \
    sh -c "[ \$(grep -c '^stored [123] 0 plc alarms p[123]$' \
    '$T/c1.out') = 3 ]"

# carol holds 3 (store_max_messages 3, unacknowledged); ops none.
pub p4.out p4
ok "carol's mailbox is full: stored for ops, carol counted in full" \
    sh -c "grep -q '^ok msgid=4 flags=0 stored=1 full=1 ' '$T/p4.out'"
pub p5.out p5
pub p6.out p6
pub p7.out p7
ok "both full: ERROR quota-exceeded, nothing stored" has p7.out "error 10"
f c2.out carol 1
ok "carol's next connection gets hers again, flagged, and acknowledges" \
    sh -c "[ \$(grep -c '^stored [123] 1 plc alarms' '$T/c2.out') = 3 ] &&
    grep -qx 'ack removed 3' '$T/c2.out'"
f o3.out ops 1
s l1.out dleave carol alarms
s l2.out dleave carol alarms
ok "DLEAVE: OK, and again: OK" \
    sh -c "grep -qx ok '$T/l1.out' && grep -qx ok '$T/l2.out'"
pub p8.out p8
ok "after carol's DLEAVE a DPUBLISH is stored for ops alone" \
    sh -c "grep -q '^ok msgid=[0-9]* flags=0 stored=1 full=0 ' \
    '$T/p8.out'"

stop_daemon
ok "secmsgd stops cleanly (SIGTERM)" test "$DSTATUS" -eq 0
ok "and restarts" start_daemon "$CONF"
pub p9.out p9
ok "ops is still subscribed, carol still is not" \
    sh -c "grep -q '^ok msgid=[0-9]* flags=0 stored=1 full=0 ' \
    '$T/p9.out'"
f o4.out ops 1
ok "ops gets p8 then p9" \
    sh -c "grep '^stored' '$T/o4.out' | cut -d' ' -f6 | tr '\n' ' ' |
    grep -qx 'p8 p9 '"

s k1.out djoin lee kept
ok "DJOIN, then SIGKILL right after its OK" \
    sh -c "grep -qx ok '$T/k1.out' && kill -KILL $(daemon_pid)"
wait "$DPID" 2>/dev/null
ok "the daemon restarts" start_daemon "$CONF"
s k2.out dpublish plc kept x "$K0"
ok "the subscription was on disk: a DPUBLISH is stored for lee" \
    sh -c "grep -q '^ok msgid=[0-9]* flags=0 stored=1 full=0 ' \
    '$T/k2.out'"

s m1.out mix alarms
ok "mixed subscribers: stored for ops, two plain DELIVERs" \
    sh -c "grep -q '^ok msgid=[0-9]* flags=0 stored=1 full=0 delivered=2 \
skipped=0$' '$T/m1.out'"
ok "the plain JOINed connection of another name gets a DELIVER" \
    has m1.out "lee deliver m1"
ok "ops's durable connection gets it as STORED, not as a DELIVER too" \
    sh -c "grep -qx 'opsd stored m1' '$T/m1.out' &&
    ! grep -q '^opsd deliver' '$T/m1.out'"
ok "ops's plain connection gets a DELIVER; the publisher nothing" \
    sh -c "grep -qx 'opsp deliver m1' '$T/m1.out' &&
    grep -qx 'plc nothing' '$T/m1.out'"
f o5.out ops 1

stop_daemon
# Two loops whatever the suite's own setting (a second "workers" line
# would be an error): the plain DELIVER crosses loops.
SECMSG_TEST_CONF=""
start_daemon "$CONF
workers = 2;"
s m2.out mix alarms
ok "on two session loops: the same" \
    sh -c "grep -q '^ok msgid=[0-9]* flags=0 stored=1 full=0 delivered=2 \
skipped=0$' '$T/m2.out' && grep -qx 'lee deliver m1' '$T/m2.out' &&
    grep -qx 'opsd stored m1' '$T/m2.out' &&
    grep -qx 'opsp deliver m1' '$T/m2.out' &&
    grep -qx 'plc nothing' '$T/m2.out'"
stop_daemon
exit 0

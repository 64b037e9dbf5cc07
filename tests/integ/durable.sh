#!/bin/sh
# tests/integ/durable.sh: durable direct messages (issue 17; doc/PROTOCOL.md
# section 11), TAP, with the independent Python implementation
# (tests/integ/durable.py over tests/interop/secmsg_noise.py).
#
# With store = "lmdb" the server sets hello feature bit 1.  A DSEND to a
# name with no connection is stored (OK with its msgid); its retry with
# the same key is answered with the same msgid, flagged, and stored only
# once; a name nobody has is unknown-peer; a full mailbox quota-exceeded.
# A connection without bit 1 that sends a DSEND gets GOODBYE
# unknown-request.  After a SIGKILL and a restart, the recipient gets its
# backlog as STORED, in order, then DRAINED; ACK removes the messages and
# PENDING says the mailbox is empty.  Messages fetched but not
# acknowledged come again flagged as redeliveries; a message stored while
# the recipient is connected is pushed to it.  With two session loops
# and store_max_unacked = 1, an ACK on one connection of a name frees the
# window of another on the other loop.  A DSEND is also delivered, as a
# plain DELIVER, to the recipient's connections without bit 1 (counted in
# the OK).  A STORED not acknowledged within store_ack_timeout comes
# again, flagged.  A name whose key a reload removes loses its mailbox,
# logged with the count.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
"$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no python3-dissononce"

plan 40

keygen alice
keygen bob
keygen carol
authorize alice
authorize bob
authorize carol

DPY="$top_srcdir/tests/integ/durable.py"
CONF='store = "lmdb";
store_map_size = 16;
store_max_messages = 3;'
K1=000102030405060708090a0b0c0d0e0f
K2=101112131415161718191a1b1c1d1e1f
K0=00000000000000000000000000000000

# d OUT WHO FEATURES CMD ARGS...: the durable client, bounded, into $T/OUT.
d() {
	_o=$1 _w=$2 _f=$3
	shift 3
	timeout -k 10 30 "$PY" "$DPY" "$PORT" "$SERVER_KEY" "$T/$_w.key" \
	    "$_f" "$@" > "$T/$_o" 2>&1
	_rc=$?
	[ $_rc -eq 0 ] || sed 's/^/# /' "$T/$_o"
	return $_rc
}

ok "secmsgd starts with a store" start_daemon "$CONF"
d f.out alice 2 features
# Bits 0 (next-key), 2 (batch) and 3 (quiet) are always there too: 15.
ok "its hello has feature bit 1 (durable)" has f.out "features 15"

d nd.out alice 0 dsend bob x "$K1"
ok "a DSEND on a connection without bit 1: GOODBYE unknown-request" \
    has nd.out "goodbye 2"

d s1.out alice 2 dsend bob one "$K1"
ok "DSEND to bob, offline: OK, stored in his mailbox" \
    has s1.out "ok msgid=1 flags=0 stored=1 full=0 delivered=0 skipped=0"
d s1b.out alice 2 dsend bob one "$K1"
ok "its retry with the same key: the same msgid, flagged a duplicate" \
    has s1b.out "ok msgid=1 flags=1 stored=1 full=0 delivered=0 skipped=0"
d s2.out alice 2 dsend bob two "$K2"
ok "another key: a new message" \
    has s2.out "ok msgid=2 flags=0 stored=1 full=0 delivered=0 skipped=0"
d s3.out alice 2 dsend nobody x "$K0"
ok "DSEND to a name nobody has: ERROR unknown-peer" has s3.out "error 3"
d dj.out alice 2 djoin plant1
ok "DJOIN: OK (durable channels: durable-sub.sh)" has dj.out "ok"

ok "the daemon is killed (SIGKILL) after the OKs" \
    sh -c "kill -KILL $(daemon_pid)"
wait "$DPID" 2>/dev/null
ok "and restarts on the same store" start_daemon "$CONF"
ok "which holds the two messages" logged 'store lmdb .* messages=2 '

d b1.out bob 2 fetch 1
ok "bob gets the first message, from alice" \
    sh -c "sed -n 1p '$T/b1.out' | grep -qx 'stored 1 0 alice - one'"
ok "then the second, in order" \
    sh -c "sed -n 2p '$T/b1.out' | grep -qx 'stored 2 0 alice - two'"
ok "the retry was not stored twice: DRAINED up to 2, 2 stored" \
    sh -c "sed -n 3p '$T/b1.out' | grep -qx 'drained 2 2'"
ok "ACK removes both" has b1.out "ack removed 2"
ok "PENDING: the mailbox is empty" has b1.out "pending 0 0"
d b2.out bob 2 fetch 1
ok "a new connection of bob: nothing left, DRAINED at once" \
    sh -c "grep -qx 'drained 0 0' '$T/b2.out' &&
    ! grep -q '^stored' '$T/b2.out'"

for i in 1 2 3; do
	d q$i.out alice 2 dsend carol "m$i" "$K0"
done
ok "three messages fill carol's mailbox (store_max_messages = 3)" \
    grep -q 'ok msgid=.* stored=1' "$T/q3.out"
d q4.out alice 2 dsend carol m4 "$K0"
ok "a fourth: ERROR quota-exceeded" has q4.out "error 10"

d c1.out carol 2 fetch 0
ok "carol fetches without acknowledging: first deliveries" \
    sh -c "[ \$(grep -c '^stored [0-9]* 0 alice - m' '$T/c1.out') = 3 ]"
d c2.out carol 2 fetch 1
ok "her next connection gets them again, flagged as redeliveries" \
    sh -c "[ \$(grep -c '^stored [0-9]* 1 alice - m' '$T/c2.out') = 3 ] &&
    grep -qx 'ack removed 3' '$T/c2.out' && grep -qx 'pending 0 0' \
    '$T/c2.out'"

# bob connected and waiting: a message stored now is pushed to him.
n0=$(count_in "$T/daemon.log" 'authenticated name=bob')
timeout -k 10 30 "$PY" "$DPY" "$PORT" "$SERVER_KEY" "$T/bob.key" 2 \
    wait 1 > "$T/w.out" 2>&1 &
WPID=$!
PIDS="$PIDS $WPID"
i=0
while [ $i -lt 100 ] &&
    [ "$(count_in "$T/daemon.log" 'authenticated name=bob')" -le "$n0" ]; do
	sleep 0.1
	i=$((i + 1))
done
d s4.out alice 2 dsend bob three "$K0"
wait "$WPID"
ok "a message stored while bob is connected is pushed to him" \
    sh -c "grep -qx 'stored [0-9]* 0 alice - three' '$T/w.out' &&
    grep -qx 'ack removed 1' '$T/w.out' && grep -qx 'pending 0 0' \
    '$T/w.out'"

stop_daemon
ok "secmsgd stops cleanly" test "$DSTATUS" -eq 0

# Two loops whatever the suite's own setting (a second "workers" line
# would be an error).
SECMSG_TEST_CONF=""
ok "secmsgd restarts with two loops, one message in flight at a time" \
    start_daemon "$CONF
workers = 2;
store_max_unacked = 1;"
d t1.out alice 2 dsend carol t1 "$K0"
d t2.out alice 2 dsend carol t2 "$K0"
n1=$(sed -n 's/^ok msgid=\([0-9]*\) .*/\1/p' "$T/t1.out")
d two.out carol 2 two
# The loops of carol's last two connections (round robin: not the same).
loops=$(grep 'authenticated name=carol' "$T/daemon.log" | tail -n 2 |
    sed 's/.* loop=//' | sort -u | wc -l)
ok "carol's two connections, on both loops, each get the first" \
    sh -c "[ $loops = 2 ] && grep -qx 'a stored $n1' '$T/two.out' &&
    grep -qx 'b stored $n1' '$T/two.out'"
ok "an ACK on one frees the other's window: it gets the second" \
    sh -c "grep -qx 'b got $((n1 + 1))' '$T/two.out'"

# wait_auth NAME N0: wait (10 s at most) until the log has more than N0
# lines of NAME authenticated.
wait_auth() {
	_i=0
	while [ $_i -lt 100 ] &&
	    [ "$(count_in "$T/daemon.log" "authenticated name=$1")" -le "$2" ]
	do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# bob has only a plain connection (no bit 1): a DSEND to him is stored
# and also delivered to it as a plain DELIVER (PROTOCOL.md 11.3), on
# whichever loop it is.
n0=$(count_in "$T/daemon.log" 'authenticated name=bob')
timeout -k 10 30 "$PY" "$DPY" "$PORT" "$SERVER_KEY" "$T/bob.key" 0 \
    plain > "$T/p.out" 2>&1 &
WPID=$!
PIDS="$PIDS $WPID"
wait_auth bob "$n0"
d p1.out alice 2 dsend bob plainmsg "$K0"
wait "$WPID"
ok "DSEND to bob with a plain connection: stored, delivered=1 in the OK" \
    grep -q '^ok msgid=[0-9]* flags=0 stored=1 full=0 delivered=1 skipped=0$' \
    "$T/p1.out"
ok "his plain connection got it as a DELIVER from alice" \
    has p.out "deliver alice plainmsg"
d pf.out bob 2 fetch 1
ok "and it waits in his mailbox for his durable connections" \
    sh -c "grep -q '^stored [0-9]* 0 alice - plainmsg$' '$T/pf.out' &&
    grep -qx 'pending 0 0' '$T/pf.out'"
stop_daemon

# store_ack_timeout: a STORED not acknowledged in time comes again to
# the same connection, flagged as a redelivery.
ok "secmsgd restarts with store_ack_timeout = 2" start_daemon "$CONF
store_ack_timeout = 2;"
d a1.out alice 2 dsend bob late "$K0"
d na.out bob 2 noack
ok "a STORED not acknowledged within store_ack_timeout comes again" \
    grep -q '^again [0-9]* 1 ' "$T/na.out"
ok "flagged, and not before the timeout" \
    awk '/^again/ { f = 1; if ($3 != 1 || $4 < 1.5) exit 1 }
    END { exit !f }' "$T/na.out"
d na2.out bob 2 fetch 1
ok "bob acknowledges it on his next connection" has na2.out "pending 0 0"

# Revocation: bob's key removed at a reload drops his mailbox (and his
# durable subscriptions), logged with the count; his key back, his
# mailbox is empty.
d r1.out alice 2 dsend bob gone1 "$K0"
d r2.out alice 2 dsend bob gone2 "$K0"
cp "$T/authorized_keys" "$T/ak.saved"
grep -v ' bob *$' "$T/ak.saved" > "$T/authorized_keys"
ok "bob's key removed, secmsgd reloads" \
    reload_daemon "reloaded configuration"
i=0
while [ $i -lt 50 ] && ! logged 'name=bob revoked: dropped messages='; do
	sleep 0.1
	i=$((i + 1))
done
ok "the log says bob's mailbox was dropped, with its count" \
    logged 'store: name=bob revoked: dropped messages=2 '
cp "$T/ak.saved" "$T/authorized_keys"
ok "his key back, secmsgd reloads" reload_daemon "reloaded configuration"
d r3.out bob 2 fetch 1
ok "bob connects: his mailbox is empty" \
    sh -c "grep -qx 'drained 0 0' '$T/r3.out' &&
    ! grep -q '^stored' '$T/r3.out' && grep -qx 'pending 0 0' '$T/r3.out'"
ok "alice, whose key stayed, kept hers" \
    sh -c "! grep -q 'name=alice revoked' '$T/daemon.log'"

# The revocation races DSENDs to bob: alice floods him from the other
# loop while a reload revokes him.  Every DSEND the loop accepted under
# the old keys must be in the store before the drop (the drop waits for
# every loop to switch), so nothing is left for bob when his key comes
# back: five rounds, each with its flood, reload and drop.
stop_daemon
ok "secmsgd restarts with two loops and no quota" start_daemon 'store = "lmdb";
store_map_size = 64;
store_max_messages = 0;
store_max_bytes = 0;
workers = 2;'
left=0
okall=0
for round in 1 2 3 4 5; do
	nd=$(count_in "$T/daemon.log" 'name=bob revoked: dropped')
	timeout -k 10 40 "$PY" "$DPY" "$PORT" "$SERVER_KEY" "$T/alice.key" 2 \
	    flood bob 30 > "$T/fl$round.out" 2>&1 &
	FPID=$!
	PIDS="$PIDS $FPID"
	i=0
	while [ $i -lt 200 ] && ! grep -q '^flood started' "$T/fl$round.out"
	do
		sleep 0.1
		i=$((i + 1))
	done
	grep -v ' bob *$' "$T/ak.saved" > "$T/authorized_keys"
	reload_daemon "reloaded configuration" || break
	wait "$FPID"
	i=0
	while [ $i -lt 100 ] &&
	    [ "$(count_in "$T/daemon.log" 'name=bob revoked: dropped')" -le \
	    "$nd" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	n=$(sed -n 's/^flood ok=\([0-9]*\) refused=[1-9][0-9]* code=3$/\1/p' \
	    "$T/fl$round.out")
	[ -n "$n" ] || { sed 's/^/# /' "$T/fl$round.out"; break; }
	okall=$((okall + n))
	cp "$T/ak.saved" "$T/authorized_keys"
	reload_daemon "reloaded configuration" || break
	d rr$round.out bob 2 fetch 1
	left=$((left + $(grep -c '^stored' "$T/rr$round.out")))
done
echo "# $round rounds: $okall DSENDs stored before a drop, $left left after"
ok "a DSEND racing bob's revocation is dropped with his mailbox (5 rounds)" \
    test "$round" = 5 -a "$okall" -gt 0 -a "$left" = 0
stop_daemon
exit 0

#!/bin/sh
# tests/integ/reconnect.sh: secmsg-client subscribe --reconnect (issue
# 19), TAP.  A subscriber with --reconnect outlives a restart of secmsgd:
# it says it reconnects, after a pause, joins again and prints what is
# published after the restart (-n counts across connections).  With
# --durable the name's subscription is in the store, so what is published
# while the subscriber is away comes once it is back.  Without a server
# at all, -W still ends it (exit 7); without --reconnect a restart ends
# it (exit 3, client.sh).

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"

plan 12

keygen ops
keygen plc
authorize ops
authorize plc

CONF='store = "lmdb";
store_map_size = 16;'

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
# sub OUT ARGS...: a subscriber as ops in the background (SPID).
sub() {
	_o=$1
	shift
	timeout -k 10 60 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/ops.key" \
	    --server-key "$SERVER_KEY" "$@" > "$T/$_o" 2> "$T/$_o.err" \
	    < /dev/null &
	SPID=$!
	PIDS="$PIDS $SPID"
}
# wait_auth N: until ops has authenticated N times in this daemon's log.
wait_auth() {
	_i=0
	while [ $_i -lt 150 ] && [ "$(count_in "$T/daemon.log" \
	    'authenticated name=ops')" -lt "$1" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	sleep 0.3	# and joined: the join follows the welcome at once
	[ "$(count_in "$T/daemon.log" 'authenticated name=ops')" -ge "$1" ]
}
# restart: stop secmsgd and start it again on the same port and store.
restart() {
	stop_daemon
	_p=$PORT
	random_port() { echo "$_p"; }
	start_daemon "$CONF"
}

ok "secmsgd starts" start_daemon "$CONF"

# A plain subscription: joined again after the restart.
sub s1.out --raw subscribe --reconnect -n 2 -W 50 news
wait_auth 1
c p1.out plc publish news "one"
ok "secmsgd restarts on the same port" restart
ok "the subscriber comes back (a new connection of ops)" wait_auth 1
c p2.out plc publish news "two"
ok "the publish after the restart reaches it (delivered 1)" \
    sh -c "[ $RC -eq 0 ]"
wait "$SPID"
RC=$?
ok "subscribe --reconnect -n 2: exit 0, both messages" \
    sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/s1.out')\" = onetwo ]"
ok "it said it reconnects, after a pause" \
    grep -q 'reconnecting in [0-9.]* s' "$T/s1.out.err"

# A durable subscription: what is published while it is away is stored.
sub s2.out --raw subscribe --durable --reconnect -n 2 -W 50 alarms
wait_auth 1
c p3.out plc publish --durable alarms "a1"
stop_daemon
_p=$PORT
random_port() { echo "$_p"; }
start_daemon "$CONF"
c p4.out plc publish --durable alarms "a2"
ok "a durable publish while the subscriber is away: stored for it" \
    sh -c "[ $RC -eq 0 ] && [ -s '$T/p4.out' ]"
wait "$SPID"
RC=$?
ok "subscribe --durable --reconnect -n 2: exit 0, a1 then a2" \
    sh -c "[ $RC -eq 0 ] && [ \"\$(cat '$T/s2.out')\" = a1a2 ]"
c f1.out ops --raw fetch
ok "both were acknowledged: nothing left to fetch" \
    sh -c "[ $RC -eq 0 ] && [ ! -s '$T/f1.out' ]"
stop_daemon
ok "secmsgd stops cleanly" test "$DSTATUS" -eq 0

# No server at all: it keeps trying until -W, then exit 7.
t0=$(date +%s)
c s3.out ops subscribe --reconnect -W 3 news
t1=$(date +%s)
ok "no server, --reconnect -W 3: exit 7 after about 3 s" \
    sh -c "[ $RC -eq 7 ] && [ $((t1 - t0)) -ge 2 ] && [ $((t1 - t0)) -le 6 ]"
ok "tried more than once" \
    sh -c "[ \$(grep -c 'reconnecting in' '$T/s3.out.err') -ge 1 ]"

#!/bin/sh
# tests/integ/libsecmsg.sh: libsecmsg against a live secmsgd, TAP.
#
# tests/libsecmsg/live drives the blocking API over TCP (its checks are
# numbered here): ping, join/publish/deliveries with from, channel and ts,
# send, who, error codes, the durable requests with a store (durable
# subscriptions too), quiet publish and its ERRORs, known_hosts with
# accept-new.  Then the libevent example (examples/secmsg-event),
# non-blocking, over TCP, a Unix socket and, when the machine has it,
# IPv6 loopback.

. "${top_srcdir:-.}/tests/integ/lib.sh"

LIVE="$top_builddir/tests/libsecmsg/live"
EVENT="$top_builddir/examples/secmsg-event"
[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
[ -x "$LIVE" ] || skip_all "no tests/libsecmsg/live (make check builds it)"
[ -x "$EVENT" ] || skip_all "no examples/secmsg-event"

LIVE_CHECKS=47
plan $((LIVE_CHECKS + 6))

keygen alice
keygen bob
keygen carol
authorize alice
authorize bob
authorize carol "publish=q"

V6=""
if "$PY" -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	V6=', "[::1]:@PORT@"'
fi
LISTEN_EXTRA=", \"unix:$T/s.sock\"$V6"
start_daemon 'store = "lmdb";
store_map_size = 16;' || { echo "Bail out! secmsgd did not start"; exit 1; }

timeout -k 5 60 "$LIVE" "127.0.0.1:$PORT" "$SERVER_KEY" "$T/alice.key" \
    "$T/bob.key" "$T/kh/known_hosts" "$T/carol.key" > "$T/live.out" 2>&1
LRC=$?
n=0
while IFS= read -r line; do
	case $line in
	"ok - "*|"not ok - "*)
		n=$((n + 1))
		TAP_N=$((TAP_N + 1))
		case $line in
		"not ok"*) TAP_FAILED=$((TAP_FAILED + 1)) ;;
		esac
		echo "$line" | sed "s/^\(not \)\{0,1\}ok - /\1ok $TAP_N - /"
		;;
	"#"*) echo "$line" ;;
	*) echo "# $line" ;;
	esac
done < "$T/live.out"
# A crash or a missing check shows as failures, not as a short plan.
while [ "$n" -lt "$LIVE_CHECKS" ]; do
	n=$((n + 1))
	ok "live check $n ran (live exited $LRC)" false
done

ok "live exits 0" [ "$LRC" -eq 0 ]

ev() {
	timeout -k 5 30 "$EVENT" -s "$1" -i "$T/alice.key" -k "$SERVER_KEY" \
	    -n 3 -t 10 > "$T/ev.out" 2> "$T/ev.err"
	ERC=$?
	sed 's/^/# /' "$T/ev.err"
	return 0
}
ev "127.0.0.1:$PORT"
ok "secmsg-event over TCP exits 0" [ "$ERC" -eq 0 ]
ok "and prints its 3 messages in order" sh -c "
	[ \$(wc -l < '$T/ev.out') -eq 3 ] &&
	sed -n 3p '$T/ev.out' | grep -q '#events event message 3$'"
ev "unix:$T/s.sock"
ok "secmsg-event over a Unix socket exits 0" [ "$ERC" -eq 0 ]
if [ -n "$V6" ]; then
	ev "[::1]:$PORT"
	ok "secmsg-event over IPv6 exits 0" [ "$ERC" -eq 0 ]
else
	ok "# SKIP no IPv6 loopback" true
fi
ok "secmsg-event against a closed port exits 1" sh -c "
	timeout 30 '$EVENT' -s 127.0.0.1:1 -i '$T/alice.key' \
	    -k '$SERVER_KEY' -t 5 >/dev/null 2>&1; [ \$? -eq 1 ]"

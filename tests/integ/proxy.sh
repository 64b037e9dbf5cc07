#!/bin/sh
# tests/integ/proxy.sh: client addresses behind HAProxy (issue 18): a
# listener with proxy_protocol, HAProxy in mode tcp with send-proxy-v2 in
# front of it.  The daemon sees the client's address, not HAProxy's, in
# secmsgctl sessions, its log and max_connections_per_address; nobody but
# proxy_trusted may speak on that listener, nor forge a header there; a
# hostile header (garbage, oversize, stalled) closes that connection
# alone; HAProxy's health checks stay out of the log at info level; the
# plain listener beside it is unchanged.  Clients pick their source
# address among 127.0.0.2-5 (Linux routes all of 127/8 to lo).
. "${top_srcdir:-.}/tests/integ/lib.sh"
. "$top_srcdir/tests/integ/libcluster.sh"

CTL="$top_builddir/src/secmsgctl"
have_haproxy || skip_all "no haproxy"
[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"
[ -x "$CTL" ] || skip_all "no secmsgctl binary"

plan 31

keygen alice
keygen bob
keygen carol
authorize alice
authorize bob
authorize carol

# The plain listener on $PORT, the PROXY one on $PORT + 1 (trusting only
# 127.0.0.1, HAProxy's source, among a few networks that are not ours).
LISTEN_EXTRA=', { address = "127.0.0.1:@PORT1@"; proxy_protocol = true;
    proxy_trusted = [ "127.0.0.1", "10.0.0.0/8", "::1" ]; }'
start_daemon 'max_connections_per_address = 2;
handshake_timeout = 3;
handshake_rate = 0;' || { echo "Bail out! no daemon"; exit 1; }
PPORT=$((PORT + 1))
# IPv6 clients too, where the host has ::1.
HAVE6=1
"$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null || HAVE6=0
[ $HAVE6 -eq 1 ] && HAPROXY_FRONTEND_EXTRA='	bind ::1:@PORT@ v6only'
start_haproxy px "127.0.0.1:$PPORT" ||
    { echo "Bail out! no haproxy"; exit 1; }
FE=$HAPROXY_PORT

# raw SRC PORT PYTHON: a raw TCP connection from SRC to PORT; PYTHON runs
# with s (the socket) and prints what it sees.
raw() {
	timeout 20 "$PY" -c '
import socket, sys, time, select
s = socket.socket()
s.bind((sys.argv[1], 0))
s.settimeout(10)
s.connect(("127.0.0.1", int(sys.argv[2])))
def closed(secs):
    r, _, _ = select.select([s], [], [], secs)
    if not r:
        return False
    try:
        return s.recv(4096) == b""
    except OSError:
        return True
exec(sys.argv[3])
' "$@"
}
SIG='b"\r\n\r\n\x00\r\nQUIT\n"'

ok "haproxy's health checks pass (LOCAL headers accepted)" \
    haproxy_wait_up px 1

# ------------------------------------------------------------ real address
swarm client "$FE" "$T/alice.key" --src 127.0.0.2 ping touch "$T/a-in" \
    waitfile "$T/a-stop" 30 > "$T/alice.out" 2>&1 &
swarm client "$FE" "$T/bob.key" --src 127.0.0.3 ping touch "$T/b-in" \
    waitfile "$T/b-stop" 30 > "$T/bob.out" 2>&1 &
wait_for_file() {
	i=0
	while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$1" ]
}
ok "alice through haproxy: welcome and ping" \
    sh -c 'wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do
    sleep 0.1; i=$((i + 1)); done; [ -e "$1" ]; }; wait_for "$0" &&
    grep -q "^welcome" "$1" && grep -q "^ping ok" "$1"' "$T/a-in" \
    "$T/alice.out"
wait_for_file "$T/b-in"
timeout 10 "$CTL" -s "$T/control.sock" --json sessions > "$T/sessions" \
    2>&1
peer_of() {
	"$PY" -c 'import json, sys
print([s["peer"] for s in json.load(open(sys.argv[1]))
       if s["name"] == sys.argv[2]][0])' "$T/sessions" "$1"
}
ok "secmsgctl sessions: alice at 127.0.0.2, not haproxy's address" \
    sh -c 'case "$0" in 127.0.0.2:*) exit 0;; esac; exit 1' \
    "$(peer_of alice 2>/dev/null)"
ok "secmsgctl sessions: bob at 127.0.0.3" \
    sh -c 'case "$0" in 127.0.0.3:*) exit 0;; esac; exit 1' \
    "$(peer_of bob 2>/dev/null)"
ok "log: accepted peer=127.0.0.2 proxy=127.0.0.1" \
    logged 'accepted peer=127\.0\.0\.2:[0-9]+ proxy=127\.0\.0\.1:'
ok "the port in the log is the client's own" \
    logged "accepted peer=127\.0\.0\.2:$(sed -n 's/^connected //p' \
    "$T/alice.out") "

# Over IPv6, from ::1: HAProxy's header then carries an IPv6 address.
if [ $HAVE6 -eq 1 ]; then
	SWARM_HOST=::1 swarm client "$FE" "$T/carol.key" --src ::1 ping \
	    touch "$T/6-in" waitfile "$T/6-stop" 30 > "$T/six.out" 2>&1 &
	SIX=$!
	wait_for_file "$T/6-in"
	timeout 10 "$CTL" -s "$T/control.sock" --json sessions \
	    > "$T/sessions" 2>&1
	ok "an IPv6 client through haproxy: welcome and ping" \
	    grep -q "^ping ok" "$T/six.out"
	ok "secmsgctl sessions: carol at [::1], from the IPv6 header" \
	    sh -c 'case "$0" in "[::1]:"*) exit 0;; esac; exit 1' \
	    "$(peer_of carol 2>/dev/null)"
	touch "$T/6-stop"
	wait "$SIX"
else
	TAP_N=$((TAP_N + 2))
	echo "ok $((TAP_N - 1)) # SKIP no IPv6 loopback"
	echo "ok $TAP_N # SKIP no IPv6 loopback"
fi

# ------------------------------------------------------------ per address
# max_connections_per_address = 2 counts 127.0.0.2, not haproxy: a second
# from .2 gets in, a third is refused, and .4 still gets in.
swarm client "$FE" "$T/carol.key" --src 127.0.0.2 ping touch "$T/c-in" \
    waitfile "$T/c-stop" 30 > "$T/carol.out" 2>&1 &
wait_for_file "$T/c-in"
ok "a second client from 127.0.0.2 is admitted" grep -q "^ping ok" \
    "$T/carol.out"
swarm client "$FE" "$T/carol.key" --src 127.0.0.2 ping > "$T/third.out" 2>&1
ok "a third from 127.0.0.2 is refused (per-address limit)" \
    sh -c '! grep -q "^ping ok" "$0"' "$T/third.out"
ok "log: refused per-address-limit peer=127.0.0.2" \
    logged 'refused reason=per-address-limit peer=127\.0\.0\.2$'
swarm client "$FE" "$T/carol.key" --src 127.0.0.4 ping > "$T/four.out" 2>&1
ok "while one from 127.0.0.4 through the same haproxy gets in" \
    grep -q "^ping ok" "$T/four.out"
touch "$T/a-stop" "$T/b-stop" "$T/c-stop"

# ------------------------------------------------------------ trust
swarm client "$PPORT" "$T/alice.key" --src 127.0.0.5 ping > "$T/direct.out" \
    2>&1
ok "a direct client from 127.0.0.5 on the PROXY listener: closed" \
    sh -c '! grep -q "^ping ok" "$0"' "$T/direct.out"
ok "log: refused reason=untrusted-proxy peer=127.0.0.5" \
    logged 'refused reason=untrusted-proxy peer=127\.0\.0\.5$'
# A forged header from an untrusted source, claiming 10.9.9.9: closed
# before a byte of it is read, and 10.9.9.9 never appears.
raw 127.0.0.5 "$PPORT" "s.sendall($SIG + bytes([0x21, 0x11, 0, 12,
    10, 9, 9, 9, 127, 0, 0, 1, 0x30, 0x39, 0x1c, 0x84]))
print('closed' if closed(5) else 'open')" > "$T/forged.out" 2>&1
ok "a forged header from 127.0.0.5: closed" grep -qx closed "$T/forged.out"
ok "and its address is believed nowhere" \
    sh -c '! grep -q "10\.9\.9\.9" "$0"' "$T/daemon.log"
# The plain listener beside it takes direct clients as before.
swarm client "$PORT" "$T/alice.key" --src 127.0.0.5 ping > "$T/plain.out" \
    2>&1
ok "the plain listener: a direct client from 127.0.0.5 gets in" \
    grep -q "^ping ok" "$T/plain.out"

# ------------------------------------------------------------ hostile
# From the trusted address: each bad header closes its own connection,
# while alice keeps her session through haproxy.
swarm client "$FE" "$T/alice.key" --src 127.0.0.2 touch "$T/h-in" \
    waitfile "$T/h-stop" 30 ping > "$T/held.out" 2>&1 &
HELD=$!
wait_for_file "$T/h-in"
raw 127.0.0.1 "$PPORT" "s.sendall(b'GET / HTTP/1.0\r\n\r\n')
print('closed' if closed(5) else 'open')" > "$T/garbage.out" 2>&1
ok "garbage instead of a header: closed at once" \
    grep -qx closed "$T/garbage.out"
raw 127.0.0.1 "$PPORT" "s.sendall($SIG + bytes([0x21, 0x11, 0xff, 0xff]))
print('closed' if closed(5) else 'open')" > "$T/oversize.out" 2>&1
ok "a header announcing 65535 bytes: closed after 16" \
    grep -qx closed "$T/oversize.out"
raw 127.0.0.1 "$PPORT" "s.sendall($SIG[:10]); t = time.monotonic()
c = closed(10)
print('closed' if c and time.monotonic() - t < 6 else 'open')" \
    > "$T/stall.out" 2>&1
ok "a stalled header: closed within the handshake timeout" \
    grep -qx closed "$T/stall.out"
# A header dripped a byte every 0.4 s: the deadline does not move with
# each byte, so it is closed about handshake_timeout (3 s) after connect.
raw 127.0.0.1 "$PPORT" "t = time.monotonic(); c = False
for b in $SIG + bytes([0x21, 0x11, 0, 12]):
    try:
        s.send(bytes([b]))
    except OSError:
        c = True
        break
    if closed(0.4):
        c = True
        break
print('closed' if c and time.monotonic() - t < 4.5 else 'open')" \
    > "$T/drip.out" 2>&1
ok "a dripped header: closed at the deadline, not extended by each byte" \
    grep -qx closed "$T/drip.out"
ok "log: each refusal says why" \
    sh -c 'grep -q "reason=proxy-header-bad-signature" "$0" &&
    grep -q "reason=proxy-header-too-long" "$0" &&
    grep -q "reason=proxy-header-timeout" "$0"' "$T/daemon.log"
touch "$T/h-stop"
wait "$HELD"
ok "alice's session lived through them all" \
    sh -c '[ "$(grep -c "^ping ok" "$0")" -eq 1 ]' "$T/held.out"

# ------------------------------------------------------------ checks
# Health checks every 500 ms: their connections (LOCAL header, then a
# reset) are logged at debug level only, never at info or above: no line
# but debug names haproxy's address with a port.
sleep 1.5
ok "health checks happened (debug lines from haproxy's address)" \
    sh -c '[ "$(grep "\[debug\]" "$0" | grep -c "peer=127\.0\.0\.1:.* proxy=")" -ge 2 ]' \
    "$T/daemon.log"
ok "none of them logged at info or above" \
    sh -c '! grep -v "\[debug\]" "$0" | grep -q "peer=127\.0\.0\.1:[0-9]"' \
    "$T/daemon.log"

# A plain TCP check (connect, close or reset, not a byte): counted and
# logged at debug only, not as a refusal.
before=$(count_in "$T/daemon.log" 'proxy connection closed before its header')
raw 127.0.0.1 "$PPORT" "s.close()"
raw 127.0.0.1 "$PPORT" "import struct
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
s.close()"
checks_logged() {
	i=0
	while [ $i -lt 50 ]; do
		[ "$(count_in "$T/daemon.log" '\[debug\]: proxy connection closed before its header')" -ge $((before + 2)) ] &&
		    return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
ok "plain TCP checks (close, reset): two debug lines" checks_logged
ok "and no refusal logged for them" \
    sh -c '! grep -Eq "refused reason=proxy-header-(eof|io-error|closed)" "$0"' \
    "$T/daemon.log"

# ------------------------------------------------------------ reload
# proxy_trusted changes on reload for the listener kept open: without
# 127.0.0.1 in it, haproxy's connections are refused from then on.
sed -i 's|proxy_trusted = \[ "127.0.0.1", |proxy_trusted = [ |' \
    "$T/secmsgd.conf"
ok "reload with 127.0.0.1 no longer trusted" \
    reload_daemon "reloaded configuration"
swarm client "$FE" "$T/alice.key" --src 127.0.0.2 ping > "$T/after.out" 2>&1
ok "then a client through haproxy is refused" \
    sh -c '! grep -q "^ping ok" "$0"' "$T/after.out"
ok "as untrusted-proxy from haproxy's address" \
    logged 'refused reason=untrusted-proxy peer=127\.0\.0\.1$'

stop_haproxy px
stop_daemon
ok "daemon exits 0 on SIGTERM" test "$DSTATUS" -eq 0

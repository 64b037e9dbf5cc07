#!/bin/sh
# tests/integ/listen.sh: listen addresses: IPv4, IPv6 (::1) and a Unix
# socket at once; clients reach the daemon on each; a reload opens a new
# address and closes a removed one without touching the others; the Unix
# socket file is removed on stop; a listen address in use fails the start.
. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"
plan 11

keygen alice
authorize alice
SOCK="$T/secmsgd.sock"
# IPv6 loopback may be missing in some containers: then that part skips.
HAVE6=1
"$PY" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' \
    2>/dev/null || HAVE6=0

# ping_at ADDR: one ping round trip as alice to ADDR.
ping_at() {
	timeout -k 10 20 "$CLIENT" -s "$1" -i "$T/alice.key" \
	    --known-hosts "$T/kh" --accept-new ping >/dev/null 2>&1
}

LISTEN_EXTRA=", \"unix:$SOCK\""
[ $HAVE6 -eq 1 ] && LISTEN_EXTRA=", \"[::1]:@PORT@\"$LISTEN_EXTRA"
ok "secmsgd listens on IPv4, IPv6 and a Unix socket at once" start_daemon
ok "a client reaches it over IPv4" ping_at "127.0.0.1:$PORT"
if [ $HAVE6 -eq 1 ]; then
	ok "a client reaches it over IPv6 (::1)" ping_at "[::1]:$PORT"
else
	echo "ok 3 # SKIP no IPv6 loopback here"
	TAP_N=$((TAP_N + 1))
fi
ok "a client reaches it over the Unix socket" ping_at "unix:$SOCK"
ok "the Unix socket is for its owner and group (unix_socket_mode 0660)" \
    test "$(stat -c %a "$SOCK")" = 660

# Reload: drop the Unix socket, add a second TCP port (another one when
# the port we drew happens to be taken).
# reload_with_port2: rewrite the listen list and reload; retries the port.
reload_with_port2() {
	_try=0
	while [ $_try -lt 5 ]; do
		PORT2=$(random_port)
		sed -i "/^listen = /d" "$T/secmsgd.conf"
		echo "listen = [ \"127.0.0.1:$PORT\", \"127.0.0.1:$PORT2\" ];" \
		    >> "$T/secmsgd.conf"
		reload_daemon "reloaded configuration" && return 0
		tail -n 3 "$T/daemon.log" | grep -q 'Address already in use' ||
		    return 1
		_try=$((_try + 1))
	done
	return 1
}
ok "reload with a changed listen list succeeds" reload_with_port2
ok "the new address serves clients" ping_at "127.0.0.1:$PORT2"
ok "the kept address still serves clients" ping_at "127.0.0.1:$PORT"
ok "the removed Unix socket is gone" test ! -e "$SOCK"

# A second daemon on an address in use must fail to start, loudly.
cp "$T/secmsgd.conf" "$T/second.conf"
sed -i "s|state_dir = .*|state_dir = \"$T/state2\";|" "$T/second.conf"
mkdir -p "$T/state2" && chmod 700 "$T/state2"
timeout -k 10 10 "$SECMSGD" -f -c "$T/second.conf" > "$T/second.log" 2>&1
RC=$?
ok "a listen address in use fails the start (exit 1, named in the log)" \
    sh -c "[ $RC -eq 1 ] && grep -q 'listen on 127.0.0.1:$PORT failed' '$T/second.log'"
stop_daemon
ok "the first daemon stops cleanly (exit 0)" test "$DSTATUS" -eq 0

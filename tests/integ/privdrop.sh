#!/bin/sh
# tests/integ/privdrop.sh: started as root with user = "nobody", secmsgd
# binds, loads its key, then drops to nobody (groups, gid, uid) and still
# serves clients.  Skipped when not run as root.
. "${top_srcdir:-.}/tests/integ/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "not root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"
plan 6

uid=$(id -u nobody)
gid=$(id -g nobody)
keygen alice
authorize alice
# The authorized keys file is re-read on reload, as nobody: let it read.
chmod 644 "$T/authorized_keys"
chmod 755 "$T"
ok "secmsgd starts as root with user = nobody" \
    start_daemon 'user = "nobody";'
ok "it says it dropped privileges" \
    grep -q "dropped privileges to user=nobody uid=$uid" "$T/daemon.log"
status=$(cat "/proc/$(daemon_pid)/status" 2>/dev/null)
ok "real, effective, saved uid are nobody's" \
    sh -c "echo '$status' | grep -Eq '^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid$'"
ok "gid is nobody's and no supplementary root group" \
    sh -c "echo '$status' | grep -Eq '^Gid:[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid' &&
        ! echo '$status' | grep -Eq '^Groups:.*\b0\b'"
# ping_alice: one ping round trip as alice, output discarded.
ping_alice() {
	timeout -k 10 20 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/alice.key" \
	    --known-hosts "$T/kh" --accept-new ping >/dev/null 2>&1
}
ok "it serves a client after the drop" ping_alice
stop_daemon
ok "it stops cleanly (exit 0)" test "$DSTATUS" -eq 0

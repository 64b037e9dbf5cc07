#!/bin/sh
# tests/integ/privdrop.sh: started as root with user = "nobody", secmsgd
# binds, loads its key, then drops to nobody (groups, gid, uid) and still
# serves clients.  What a reload reads must be readable by nobody: if not,
# the start and -t refuse, and a reload that fails says so at error level
# and in the service manager's status.  Unix sockets belong to nobody.
# The pid file and the socket, in a directory only root may write to, are
# removed at exit (by a helper that keeps root), even after a SIGKILL.
# Skipped when not run as root.
. "${top_srcdir:-.}/tests/integ/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "not root"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"
[ -x "$PY" ] || skip_all "no /usr/bin/python3"

uid=$(id -u nobody)
gid=$(id -g nobody)
group=$(id -gn nobody)
keygen alice
authorize alice
chmod 755 "$T"
# A directory only root may write to, as /run is.
mkdir -m 755 "$T/run"
SOCK="$T/run/s.sock"
# The control socket is made after the drop: in a folder nobody owns, as
# systemd's RuntimeDirectory= is the service user's.
mkdir -m 700 "$T/ctl"
chown nobody "$T/ctl"
CONTROL_SOCKET="$T/ctl/control.sock"
MSOCK="$T/run/metrics.sock"	# the metrics endpoint's

# ------------------------------------------------ files a reload reads
# Root-owned and 0600 (secmsgd.conf(5) allows it): nobody cannot read it,
# so every reload would fail and keep the old keys.  Refused up front.
chmod 600 "$T/authorized_keys"
PORT=$(random_port)	# refused before it binds
write_conf 'user = "nobody";'
"$SECMSGD" -t -c "$T/secmsgd.conf" > "$T/t1.out" 2>&1
RC=$?
sed 's/^/# -t: /' "$T/t1.out"
ok "-t as root refuses an authorized_keys file nobody cannot read (exit 78)" \
    sh -c "[ $RC -eq 78 ] && grep -q '$T/authorized_keys: Permission denied.*user nobody' '$T/t1.out'"
timeout -k 10 20 "$SECMSGD" -f -c "$T/secmsgd.conf" > "$T/s1.out" 2>&1
RC=$?
ok "... and so does the start (exit 78, file and user named)" \
    sh -c "[ $RC -eq 78 ] && grep -q '\[error\]: $T/authorized_keys: Permission denied.*user nobody' '$T/s1.out'"
chmod 644 "$T/authorized_keys"
chmod 600 "$T/secmsgd.conf"
"$SECMSGD" -t -c "$T/secmsgd.conf" > "$T/t2.out" 2>&1
RC=$?
ok "-t refuses a config file nobody cannot read (exit 78)" \
    sh -c "[ $RC -eq 78 ] && grep -q '$T/secmsgd.conf: Permission denied.*user nobody' '$T/t2.out'"
chmod 644 "$T/secmsgd.conf"
"$SECMSGD" -t -c "$T/secmsgd.conf" > /dev/null 2>&1
ok "-t passes once nobody can read both" test $? -eq 0

# The service manager's notifications, one datagram a line.
timeout -k 5 120 "$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", 0) as f:
    while True:
        f.write(s.recv(4096).replace(b"\n", b" ") + b"\n")
' "$T/notify" "$T/notify.out" &
PIDS="$PIDS $!"
i=0
while [ ! -S "$T/notify" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
NOTIFY_SOCKET="$T/notify"
export NOTIFY_SOCKET
LISTEN_EXTRA=", \"unix:$SOCK\""
PIDF="$T/run/secmsgd.pid"
ok "secmsgd starts as root with user = nobody" \
    start_daemon "user = \"nobody\";
pid_file = \"$PIDF\";
metrics_listen = \"unix:$MSOCK\";"
unset NOTIFY_SOCKET
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

# The Unix socket is nobody's, mode 0660: its group may connect, others
# may not (connecting takes write permission).
ok "the Unix socket belongs to nobody:$group, mode 0660" \
    test "$(stat -c %U:%G:%a "$SOCK")" = "nobody:$group:660"
ok "the control socket belongs to nobody, mode 0600" \
    test "$(stat -c %U:%a "$CONTROL_SOCKET")" = "nobody:600"
ok "root may use it (secmsgctl status)" \
    sh -c 'timeout -k 5 20 "$0" -s "$1" status | grep -q "^pid"' \
    "$top_builddir/src/secmsgctl" "$CONTROL_SOCKET"
# try_connect UID GID: connect to the socket as UID/GID, no groups.
try_connect() {
	setpriv --reuid "$1" --regid "$2" --clear-groups "$PY" -c '
import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$SOCK" 2>/dev/null
}
no_connect() { ! try_connect "$@"; }
ok "a process in its group may connect" try_connect 65533 "$gid"
ok "the metrics socket is nobody's too, with the same mode" \
    test "$(stat -c %U:%G:%a "$MSOCK")" = "nobody:$group:660"
# After the drop the process is not dumpable: /proc/self/fd is still its
# own to read (the kernel lets a process read its own descriptors).
timeout -k 5 20 "$PY" "$top_srcdir/tests/integ/metrics.py" get \
    "unix:$MSOCK" /metrics "$T/m.txt" > "$T/m.out" 2>&1
ok "the metrics endpoint answers after the drop, open fds included" \
    sh -c "grep -qx 'status 200' '$T/m.out' &&
        grep -Eq '^process_open_fds [1-9][0-9]*$' '$T/m.txt' &&
        grep -Eq '^process_resident_memory_bytes [1-9][0-9]*$' '$T/m.txt'"
ok "a process of another user and group may not" no_connect 65533 65533

# A reload that cannot read the key file fails loudly, keeping the old.
chmod 600 "$T/authorized_keys"
ok "SIGHUP with an unreadable authorized_keys: the reload fails" \
    reload_daemon "reload failed"
ok "... at error level, naming the file and reason, old configuration kept" \
    logged "\[error\]: reload failed: $T/authorized_keys: Permission denied; the old configuration stays in force \(authorized_keys=1\)"
ok "... and the service manager's status says so" \
    grep -q "^READY=1 STATUS=reload failed: $T/authorized_keys: Permission denied; the old configuration stays in force" \
    "$T/notify.out"
chmod 644 "$T/authorized_keys"
ok "once readable, the reload works" reload_daemon "reloaded configuration"
# Back to normal: READY, then at once the live status line (watchdog.h).
sleep 0.2
ok "... and the status is back to normal (the live line)" \
    sh -c "tail -n 2 '$T/notify.out' | head -n 1 | grep -qx 'READY=1 STATUS=accepting connections' &&
        tail -n 1 '$T/notify.out' | grep -Eqx 'STATUS=[0-9]+ sessions?, [0-9]+ loops?, [0-9]+ channels?'"
# The cleanup helper: root, holding no socket but its link to the daemon.
HELPER=$(cat "/proc/$(daemon_pid)/task/$(daemon_pid)/children" 2>/dev/null |
    tr ' ' '\n' | while read -r p; do
	[ -n "$p" ] && grep -qx secmsgd-cleanup "/proc/$p/comm" && echo "$p"
    done)
ok "a cleanup helper runs as root ($HELPER)" \
    sh -c "[ -n '$HELPER' ] && grep -Eq '^Uid:[[:space:]]+0[[:space:]]' /proc/$HELPER/status"
ok "... holding no listening socket, only its link to the daemon" \
    test "$(ls -l "/proc/$HELPER/fd" 2>/dev/null | grep -c 'socket:')" -eq 1
ok "the pid file holds the daemon's pid" \
    test "$(cat "$PIDF")" = "$(daemon_pid)"
stop_daemon
ok "it stops cleanly (exit 0)" test "$DSTATUS" -eq 0
# In a directory only root may write to, nobody could not remove them.
ok "the pid file is removed at exit" test ! -e "$PIDF"
ok "the Unix socket is removed at exit" test ! -e "$SOCK"
ok "the metrics socket too" test ! -e "$MSOCK"
ok "the cleanup helper is gone too" test ! -d "/proc/$HELPER"

# Killed outright, the daemon cannot clean up: the helper still does.
start_daemon "user = \"nobody\";
pid_file = \"$PIDF\";" || exit 1
ok "restarted: pid file and socket are there again" \
    test -e "$PIDF" -a -S "$SOCK"
kill -KILL "$(daemon_pid)"
i=0
while { [ -e "$PIDF" ] || [ -e "$SOCK" ] || [ -e "$MSOCK" ]; } &&
    [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "SIGKILL: the helper removes the pid file and the sockets" \
    test ! -e "$PIDF" -a ! -e "$SOCK" -a ! -e "$MSOCK"

plan "$TAP_N"

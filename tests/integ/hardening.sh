#!/bin/sh
# tests/integ/hardening.sh: the daemon's process hardening and its fail-
# closed start (issue 13).  It is not dumpable (PR_SET_DUMPABLE 0): another
# process of the user it runs as cannot read its memory or environment
# through /proc.  An authorized keys file with a bad line refuses the start
# with exit 78 and file:line, as -t does, rather than start admitting
# nobody.  As root, the daemon runs as nobody (started so, without `user`:
# a drop from root would make the kernel clear the flag anyway).
. "${top_srcdir:-.}/tests/integ/lib.sh"

command -v setpriv >/dev/null 2>&1 || skip_all "no setpriv (util-linux)"

# ------------------------------------------------ bad authorized_keys
printf 'not-a-key bob\n' > "$T/badkeys"
chmod 600 "$T/badkeys"
mkdir -m 700 "$T/bs"
PORT=$(random_port)
cat > "$T/bad.conf" <<EOC
listen = [ "127.0.0.1:$PORT" ];
state_dir = "$T/bs";
authorized_keys = "$T/badkeys";
log_destination = "stderr";
EOC
timeout -k 10 20 "$SECMSGD" -t -c "$T/bad.conf" > "$T/bad-t.out" 2>&1
TRC=$?
timeout -k 10 20 "$SECMSGD" -f -c "$T/bad.conf" > "$T/bad-start.out" 2>&1
RC=$?
sed 's/^/# start: /' "$T/bad-start.out"
ok "-t refuses an authorized_keys file with a bad line (exit 78)" \
    test "$TRC" -eq 78
ok "the start refuses it the same way (exit 78, file:line at error level)" \
    sh -c "[ $RC -eq 78 ] && grep -q '\[error\]: $T/badkeys:1:' '$T/bad-start.out'"
ok "... before it creates a key or listens" \
    sh -c "[ ! -e '$T/bs/server.key' ] && ! grep -q 'listening on' '$T/bad-start.out'"

# A missing file is not a bad one: the daemon starts, admitting nobody.
sed -i "s|$T/badkeys|$T/nokeys|" "$T/bad.conf"
timeout -k 10 20 "$SECMSGD" -t -c "$T/bad.conf" > /dev/null 2>&1
ok "-t accepts a missing authorized_keys file (keys come later)" test $? -eq 0

# ------------------------------------------------ not dumpable
keygen alice
authorize alice
# as_user CMD...: run CMD as the user the daemon runs as.
if [ "$(id -u)" -eq 0 ]; then
	id nobody >/dev/null 2>&1 || skip_all "no user nobody"
	RUNAS="nobody"
	as_user() {
		setpriv --reuid nobody --regid "$(id -g nobody)" \
		    --clear-groups "$@"
	}
	chmod 755 "$T"
	# Made after the start as nobody: in a folder nobody owns.
	mkdir -m 700 "$T/ctl"
	chown nobody "$T/ctl"
	CONTROL_SOCKET="$T/ctl/control.sock"
	write_conf ''
	chmod 644 "$T/secmsgd.conf" "$T/authorized_keys"
	chown nobody "$T/state"
	: > "$T/daemon.log"
	timeout -k 10 120 setpriv --reuid nobody --regid "$(id -g nobody)" \
	    --clear-groups "$SECMSGD" -f -d -c "$T/secmsgd.conf" \
	    2>> "$T/daemon.log" &
	DPID=$!
	PIDS="$PIDS $DPID"
	wait_for "$T/daemon.log" 'info\]: ready' 100 ||
	    { sed 's/^/# /' "$T/daemon.log"; exit 1; }
else
	RUNAS=$(id -un)
	as_user() { "$@"; }
	start_daemon '' || exit 1
fi
P=$(daemon_pid)
# cannot_read FILE: the daemon's user, in another process, fails to read.
cannot_read() { ! as_user cat "$1" > /dev/null 2>&1; }
ok "the daemon runs as $RUNAS" \
    test "$(awk '/^Uid:/ { print $2 }' "/proc/$P/status")" = \
    "$(id -u "$RUNAS")"
ok "its /proc files belong to root (PR_SET_DUMPABLE 0)" \
    test "$(stat -c %u "/proc/$P/environ")" -eq 0
ok "another process of $RUNAS cannot read its environment" \
    cannot_read "/proc/$P/environ"
ok "... nor its memory map" cannot_read "/proc/$P/maps"
stop_daemon
ok "it stops cleanly (exit 0)" test "$DSTATUS" -eq 0

plan "$TAP_N"

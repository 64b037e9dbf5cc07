#!/bin/sh
# tests/integ/ops.sh: what an operator sees (issue 15): log lines that
# carry their journald priority when stderr is the journal's stream; a
# listen failure logged as an error that says the daemon exits; -t
# warning when no client could connect; -T printing the effective
# configuration in a form -c reads back.
#
# journald itself does not run here: the test stands in for it by
# setting JOURNAL_STREAM to the device and inode of the file stderr goes
# to, which is what systemd does for the stream it connects, and checks
# the "<N>" prefixes journald reads (sd-daemon(3)).

. "${top_srcdir:-.}/tests/integ/lib.sh"

# start_js LOG JS [CONF LINES]: start secmsgd -f -d on a free port with
# stderr in $T/LOG and JOURNAL_STREAM set to JS: "self" for LOG's own
# device:inode, "" to unset it, anything else as is.  Waits until it is
# ready (either log form).  Sets PORT and DPID.
start_js() {
	_log=$T/$1
	tries=0
	while [ $tries -lt 10 ]; do
		PORT=$(random_port)
		write_conf "$3"
		case $3 in
		*log_destination*)
			sed -i '/^log_destination = "stderr";$/d' \
			    "$T/secmsgd.conf" ;;
		esac
		: > "$_log"
		_js=$2
		[ "$_js" = self ] && _js=$(stat -L -c '%d:%i' "$_log")
		if [ -n "$_js" ]; then
			JOURNAL_STREAM=$_js timeout -k 10 120 "$SECMSGD" -f -d \
			    -c "$T/secmsgd.conf" 2>>"$_log" &
		else
			env -u JOURNAL_STREAM timeout -k 10 120 "$SECMSGD" -f \
			    -d -c "$T/secmsgd.conf" 2>>"$_log" &
		fi
		DPID=$!
		PIDS="$PIDS $DPID"
		i=0
		while [ $i -lt 100 ]; do
			grep -q 'ready$' "$_log" && return 0
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		wait "$DPID" 2>/dev/null
		grep -q 'Address already in use' "$_log" || break
		tries=$((tries + 1))
	done
	echo "# secmsgd did not start:"
	sed 's/^/# /' "$_log"
	return 1
}

HOME="$T/home"
XDG_CONFIG_HOME="$T/home/.config"
export HOME XDG_CONFIG_HOME
mkdir -p "$HOME"

# ping_as NAME: one ping with secmsg-client as NAME (a session's state
# changes are debug lines).
ping_as() {
	timeout -k 10 30 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/$1.key" \
	    --server-key "$("$SECMSGD" -p -c "$T/secmsgd.conf" | head -n 1)" \
	    ping -c 1 > "$T/ping.out" 2>&1 < /dev/null
}

# only_prefixed LOG: every line starts with one priority prefix, and none
# has the plain form's time or "[level]:".
only_prefixed() {
	[ -s "$T/$1" ] &&
	    ! grep -Evq '^<[3-7]>[^<]' "$T/$1" &&
	    ! grep -Eq '^<[0-9]>[0-9]{4}-|\[(error|warning|notice|info|debug)\]:' \
	    "$T/$1"
}
# none_prefixed LOG: no line starts with a priority prefix.
none_prefixed() { [ -s "$T/$1" ] && ! grep -Eq '^<[0-9]>' "$T/$1"; }

plan 43

# ------------------------------------------------- journald priorities
# An empty authorized keys file (a warning), a first start (the key's
# creation is a notice), then a reload that fails (an error).
: > "$T/authorized_keys"
chmod 600 "$T/authorized_keys"
start_js daemon.log self || exit 1
ok "JOURNAL_STREAM is stderr: a warning line gets <4>" \
    grep -Eq '^<4>authorized keys .* is empty: no client can connect$' \
    "$T/daemon.log"
ok "a notice line gets <5>" \
    grep -Eq '^<5>created server key path=.* key=SHA256:' "$T/daemon.log"
ok "an info line gets <6>" grep -qx '<6>ready' "$T/daemon.log"
keygen alice
authorize alice
reload_daemon "reloaded configuration"
ok "a notice on reload gets <5> too" \
    grep -Eq '^<5>reloaded configuration .*authorized_keys=1$' \
    "$T/daemon.log"
ping_as alice
ok "a debug line gets <7>" \
    wait_for "$T/daemon.log" '^<7>session [0-9a-f]* state .* -> open$' 50
printf 'max_connections = ;\n' >> "$T/secmsgd.conf"
reload_daemon "reload failed"
ok "an error line gets <3>" \
    grep -Eq "^<3>reload failed: $T/secmsgd.conf:[0-9]+: " "$T/daemon.log"
stop_daemon
ok "every line has one prefix and no time or level name of its own" \
    only_prefixed daemon.log
ok "the daemon still exits 0 on SIGTERM" test "$DSTATUS" -eq 0

# A JOURNAL_STREAM inherited from a parent whose stderr went elsewhere
# (here: another file's device and inode) leaves stderr plain.
: > "$T/other"
start_js plain1.log "$(stat -L -c '%d:%i' "$T/other")" || exit 1
stop_daemon
ok "JOURNAL_STREAM naming another stream: plain lines" \
    none_prefixed plain1.log
ok "  with the time and level as before" \
    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ secmsgd\[info\]: ready$' \
    "$T/plain1.log"
start_js plain2.log "" || exit 1
stop_daemon
ok "no JOURNAL_STREAM: plain lines" none_prefixed plain2.log
start_js forced.log "" 'log_destination = "journal";' || exit 1
stop_daemon
ok "log_destination \"journal\" without JOURNAL_STREAM: prefixed lines" \
    only_prefixed forced.log
ok "  info at <6>" grep -qx '<6>ready' "$T/forced.log"

# secmsgd -t, as ExecStartPre and ExecReload run it: its error reaches
# the journal as an error too.
printf 'workers = "x";\n' > "$T/bad.conf"
: > "$T/t-js.err"
JOURNAL_STREAM=$(stat -L -c '%d:%i' "$T/t-js.err") \
    timeout -k 10 10 "$SECMSGD" -t -c "$T/bad.conf" 2>>"$T/t-js.err"
RC=$?
ok "-t under the journal: exit 78, the error at <3> with file:line" \
    sh -c "[ $RC -eq 78 ] && grep -q '^<3>$T/bad.conf:1: workers: ' '$T/t-js.err'"
env -u JOURNAL_STREAM timeout -k 10 10 "$SECMSGD" -t -c "$T/bad.conf" \
    2>"$T/t.err"
RC=$?
ok "-t elsewhere: exit 78, \"secmsgd: file:line\" as before" \
    sh -c "[ $RC -eq 78 ] && grep -q '^secmsgd: $T/bad.conf:1: workers: ' '$T/t.err'"
ok "  and no prefix" none_prefixed t.err

# ------------------------------------------------- listen failure
# A port another program holds, for as long as the test needs it.
timeout -k 5 120 "$PY" -c '
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(110)
' "$T/busy.port" > /dev/null 2>&1 &
PIDS="$PIDS $!"
i=0
while [ ! -s "$T/busy.port" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
BUSY=$(cat "$T/busy.port")

# busy_start LOG JS LISTEN: start on LISTEN (the rest as write_conf) and
# wait for the exit; sets RC.
busy_start() {
	write_conf
	sed -i "s|^listen = .*|listen = [ $3 ];|" "$T/secmsgd.conf"
	: > "$T/$1"
	_js=$2
	[ "$_js" = self ] && _js=$(stat -L -c '%d:%i' "$T/$1")
	if [ -n "$_js" ]; then
		JOURNAL_STREAM=$_js timeout -k 10 30 "$SECMSGD" -f \
		    -c "$T/secmsgd.conf" 2>>"$T/$1"
	else
		env -u JOURNAL_STREAM timeout -k 10 30 "$SECMSGD" -f \
		    -c "$T/secmsgd.conf" 2>>"$T/$1"
	fi
	RC=$?
}

busy_start busy.log "" "\"127.0.0.1:$BUSY\""
ok "a port in use at start: exit 1" test "$RC" -eq 1
ok "  logged at error level, naming the address and saying it exits" \
    grep -Eq "secmsgd\[error\]: listen on 127\.0\.0\.1:$BUSY failed: Address already in use; exiting$" \
    "$T/busy.log"
ok "  in that one line (no warning of its own)" \
    test "$(grep -c "127\.0\.0\.1:$BUSY" "$T/busy.log")" -eq 1
busy_start busy-js.log self "\"127.0.0.1:$BUSY\""
ok "  under the journal: the same line at <3>" \
    sh -c "[ $RC -eq 1 ] && grep -qx '<3>listen on 127.0.0.1:$BUSY failed: Address already in use; exiting' '$T/busy-js.log'"
busy_start nodir.log "" "\"unix:$T/no-such-dir/secmsgd.sock\""
ok "a Unix socket in a missing directory: exit 1, an error that exits" \
    sh -c "[ $RC -eq 1 ] && grep -Eq 'secmsgd\[error\]: listen on unix:$T/no-such-dir/secmsgd.sock failed: No such file or directory; exiting$' '$T/nodir.log'"

# On reload the same failure keeps the daemon and its listeners.
start_js daemon.log "" || exit 1
sed -i "s|^listen = .*|listen = [ \"127.0.0.1:$PORT\", \"127.0.0.1:$BUSY\" ];|" \
    "$T/secmsgd.conf"
reload_daemon "reload failed"
ok "a port in use on reload: reload failed, naming the address" \
    grep -Eq "\[error\]: reload failed: listen on 127\.0\.0\.1:$BUSY failed: Address already in use; the old configuration stays in force" \
    "$T/daemon.log"
ok "  and the daemon does not exit" kill -0 "$(daemon_pid)"
stop_daemon
ok "  it still stops cleanly (exit 0)" test "$DSTATUS" -eq 0

# ------------------------------------------------- -t and nobody admitted
# check_t NAME CONF: secmsgd -t on CONF; sets RC, $T/NAME.out and .err.
check_t() {
	printf '%s\n' "$2" > "$T/$1.conf"
	env -u JOURNAL_STREAM timeout -k 10 10 "$SECMSGD" -t -c "$T/$1.conf" \
	    > "$T/$1.out" 2> "$T/$1.err"
	RC=$?
	sed 's/^/# stderr: /' "$T/$1.err"
}
TCONF="state_dir = \"$T/state\";
listen = [ \"127.0.0.1:1\" ];"
check_t nokeys "$TCONF
authorized_keys = \"$T/no-such-file\";"
ok "-t, authorized_keys missing: exit 0, configuration OK" \
    sh -c "[ $RC -eq 0 ] && grep -q '^configuration OK' '$T/nokeys.out'"
ok "  and a warning on stderr that nobody can connect" \
    grep -qx "secmsgd: warning: authorized keys $T/no-such-file does not exist: no client can connect (client_auth is \"authorized\")" \
    "$T/nokeys.err"
printf '# nobody yet\n' > "$T/empty_keys"
chmod 600 "$T/empty_keys"
check_t emptykeys "$TCONF
authorized_keys = \"$T/empty_keys\";"
ok "-t, authorized_keys without a key: exit 0 and a warning" \
    sh -c "[ $RC -eq 0 ] && grep -qx 'secmsgd: warning: authorized keys $T/empty_keys has no keys: no client can connect (client_auth is \"authorized\")' '$T/emptykeys.err'"
check_t onekey "$TCONF
authorized_keys = \"$T/authorized_keys\";"
ok "-t, one key: exit 0 and nothing on stderr" \
    sh -c "[ $RC -eq 0 ] && [ ! -s '$T/onekey.err' ]"
check_t anykeys "$TCONF
client_auth = \"any\";
authorized_keys = \"$T/no-such-file\";"
ok "-t, client_auth \"any\": no warning about the keys file" \
    sh -c "[ $RC -eq 0 ] && [ ! -s '$T/anykeys.err' ]"
: > "$T/nokeys-js.err"
JOURNAL_STREAM=$(stat -L -c '%d:%i' "$T/nokeys-js.err") \
    timeout -k 10 10 "$SECMSGD" -t -c "$T/nokeys.conf" > /dev/null \
    2>>"$T/nokeys-js.err"
RC=$?
ok "-t under the journal: the warning at <4>" \
    sh -c "[ $RC -eq 0 ] && grep -q '^<4>warning: authorized keys .* does not exist' '$T/nokeys-js.err'"
printf 'not-a-key bob\n' > "$T/bad_keys"
chmod 600 "$T/bad_keys"
check_t badkeys "$TCONF
authorized_keys = \"$T/bad_keys\";"
ok "-t, a bad key line is still an error (exit 78), not a warning" \
    sh -c "[ $RC -eq 78 ] && grep -q '^secmsgd: $T/bad_keys:1:' '$T/badkeys.err' && ! grep -q warning '$T/badkeys.err'"

# ------------------------------------------------- -T
# run_T NAME ARGS...: secmsgd -T ARGS; sets RC, $T/NAME.T and .err.
run_T() {
	_n=$1
	shift
	env -u JOURNAL_STREAM timeout -k 10 10 "$SECMSGD" -T "$@" \
	    > "$T/$_n.T" 2> "$T/$_n.err"
	RC=$?
}
# names FILE: the setting names FILE sets (or, the sample, shows).
names() { sed -n 's/^#\{0,1\}\([a-z_]*\) = .*/\1/p' "$1" | sort; }

run_T sample -c "$top_srcdir/conf/secmsgd.conf"
ok "-T on the sample: exit 0" test "$RC" -eq 0
# same_names: -T printed one line for each setting the sample shows,
# each once, and no other.
same_names() {
	names "$top_srcdir/conf/secmsgd.conf" > "$T/want.names"
	names "$T/sample.T" > "$T/got.names"
	[ "$(wc -l < "$T/sample.T")" -eq "$(wc -l < "$T/want.names")" ] &&
	    [ "$(sort -u "$T/want.names" | wc -l)" -eq \
	    "$(wc -l < "$T/want.names")" ] &&
	    cmp -s "$T/want.names" "$T/got.names"
}
ok "  one line per setting, every one the sample documents, and no other" \
    same_names
ok "  each line \"name = value;\"" \
    sh -c "[ -s '$T/sample.T' ] && ! grep -Evq '^[a-z_]+ = .+;\$' '$T/sample.T'"

printf 'max_message_size = 4194304;\nrate_limit = 9;\n' > "$T/few.conf"
STATE_DIRECTORY="$T/sd:/other" run_T few -c "$T/few.conf"
ok "-T resolves: state_dir from STATE_DIRECTORY, the paths under it" \
    sh -c "[ $RC -eq 0 ] &&
    grep -qx 'state_dir = \"$T/sd\";' '$T/few.T' &&
    grep -qx 'server_key = \"$T/sd/server.key\";' '$T/few.T' &&
    grep -qx 'authorized_keys = \"$T/sd/authorized_keys\";' '$T/few.T'"
RUNTIME_DIRECTORY="$T/rd/:/other" run_T rd -c "$T/few.conf"
ok "-T resolves: control_socket from RUNTIME_DIRECTORY (systemd)" \
    sh -c "[ $RC -eq 0 ] &&
    grep -qx 'control_socket = \"$T/rd/control.sock\";' '$T/rd.T'"
ok "  and without it, the build's under /run" \
    grep -qx 'control_socket = "/run/secmsgd/control.sock";' "$T/few.T"
ok "  derived values: max_output_buffer fits the message size, rate_burst" \
    sh -c "grep -qx 'max_output_buffer = 8454144;' '$T/few.T' &&
    grep -qx 'rate_burst = 9;' '$T/few.T'"
ok "  and the built-in defaults" \
    sh -c "grep -qxF 'listen = [ \"127.0.0.1:7300\", \"[::1]:7300\" ];' '$T/few.T' &&
    grep -qx 'idle_timeout = 300;' '$T/few.T' &&
    grep -qx 'unix_socket_mode = \"0660\";' '$T/few.T' &&
    grep -qx 'log_level = \"info\";' '$T/few.T'"

# Round trip: the output is a configuration that prints the same.
cp "$T/few.T" "$T/round.conf"
env -u JOURNAL_STREAM timeout -k 10 10 "$SECMSGD" -t -c "$T/round.conf" \
    > "$T/round.out" 2>&1
ok "-T output fed to -t -c: configuration OK" \
    sh -c "[ $? -eq 0 ] && [ -s '$T/round.conf' ] &&
    grep -q '^configuration OK' '$T/round.out'"
run_T round -c "$T/round.conf"
ok "  and -T of it prints the same text" \
    sh -c "[ -s '$T/round.T' ] && cmp -s '$T/few.T' '$T/round.T'"

run_T bad -c "$T/bad.conf"
ok "-T on a bad file: exit 78, the error, nothing on stdout" \
    sh -c "[ $RC -eq 78 ] && [ ! -s '$T/bad.T' ] &&
    grep -q '^secmsgd: $T/bad.conf:1: workers: ' '$T/bad.err'"
env -u JOURNAL_STREAM timeout -k 10 10 "$SECMSGD" --help > "$T/help.out" 2>&1
ok "--help lists -T" \
    sh -c "[ $? -eq 0 ] && grep -q -- '^  -T ' '$T/help.out' && grep -q 'dfgNptT' '$T/help.out'"

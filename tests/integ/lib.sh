# tests/integ/lib.sh: shared helpers for the integration tests (sourced).
#
# Every test runs in its own mktemp -d folder ($T) with its own config,
# state folder and keys, starts secmsgd on a random loopback port (retrying
# when the port is taken, as memcached's t/lib does), wraps every process in
# timeout(1), and kills what it started on exit.  Output is TAP.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
SECMSGD="$top_builddir/src/secmsgd"
CLIENT="$top_builddir/src/secmsg-client"
PY=/usr/bin/python3

T=$(mktemp -d "${TMPDIR:-/tmp}/secmsg-test.XXXXXX") || exit 1
chmod 700 "$T"
PIDS=""
TAP_N=0
TAP_FAILED=0

cleanup() {
	# PIDS are mostly timeout(1) processes.  Signal the programs under
	# them directly: timeout follows a SIGTERM it passes on with a
	# SIGCONT, which can cancel the SIGSTOP of LeakSanitizer's check at
	# exit (ASan builds) and leave the program spinning, holding the test
	# driver's pipe open.  Whatever is left after a moment is killed.
	for p in $PIDS; do
		pkill -TERM -P "$p" 2>/dev/null
	done
	sleep 0.2
	for p in $PIDS; do
		pkill -KILL -P "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	if [ "$TAP_FAILED" -ne 0 ] && [ -f "$T/daemon.log" ]; then
		echo "# --- daemon log (last 40 lines) ---"
		tail -n 40 "$T/daemon.log" | sed 's/^/# /'
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM PIPE

# plan N
plan() { echo "1..$1"; }

# random_port: a port for a test listener, below Linux's ephemeral range
# (32768-60999), so the kernel never hands it to some client socket.
random_port() { echo $(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 )); }

# ok NAME COMMAND...: one TAP line for the command's success.
ok() {
	name=$1
	shift
	TAP_N=$((TAP_N + 1))
	if "$@"; then
		echo "ok $TAP_N - $name"
	else
		echo "not ok $TAP_N - $name"
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

# skip_all REASON
skip_all() { echo "1..0 # SKIP $1"; exit 0; }

# wait_for FILE PATTERN [TENTHS]: poll until FILE contains PATTERN.
wait_for() {
	i=0
	while [ "$i" -lt "${3:-100}" ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# count_in FILE PATTERN: how many lines match.
count_in() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# write_conf [EXTRA LINES]: $T/secmsgd.conf for port $PORT, with its own
# control socket, $CONTROL_SOCKET or $T/control.sock (never the built-in
# one, which parallel tests would share).
# SECMSG_TEST_CONF, when set, adds lines to every test's config (CI runs
# the suite once with handshake threads and once with "workers = 1;").  LISTEN_EXTRA,
# when set, is appended to the listen list (", \"unix:/p\"", or a listen
# entry group: the list is written with parentheses, which hold both);
# @PORT@ in it stands for $PORT, @PORT1@ for $PORT + 1.
write_conf() {
	mkdir -p "$T/state"
	chmod 700 "$T/state"
	_extra=$(printf '%s' "${LISTEN_EXTRA:-}" |
	    sed "s/@PORT@/$PORT/g; s/@PORT1@/$((PORT + 1))/g")
	cat > "$T/secmsgd.conf" <<EOC
listen = ( "127.0.0.1:$PORT"$_extra );
state_dir = "$T/state";
authorized_keys = "$T/authorized_keys";
log_destination = "stderr";
control_socket = "${CONTROL_SOCKET-$T/control.sock}";
${SECMSG_TEST_CONF:-}
$1
EOC
}

# start_daemon [EXTRA CONF LINES]: start secmsgd, wait until ready.
# Sets PORT, DPID, SERVER_KEY (base64).
start_daemon() {
	tries=0
	while [ $tries -lt 10 ]; do
		PORT=$(random_port)
		write_conf "$1"
		: > "$T/daemon.log"
		timeout -k 10 300 "$SECMSGD" -f -d -c "$T/secmsgd.conf" \
		    2>>"$T/daemon.log" &
		DPID=$!
		PIDS="$PIDS $DPID"
		i=0
		while [ $i -lt 100 ]; do
			grep -q 'info\]: ready' "$T/daemon.log" && break
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		if grep -q 'info\]: ready' "$T/daemon.log"; then
			SERVER_KEY=$("$SECMSGD" -p -c "$T/secmsgd.conf" \
			    2>/dev/null | head -n 1)
			return 0
		fi
		wait "$DPID" 2>/dev/null
		grep -q 'Address already in use' "$T/daemon.log" || break
		tries=$((tries + 1))
	done
	echo "# secmsgd did not start:"
	sed 's/^/# /' "$T/daemon.log"
	return 1
}

# stop_daemon: SIGTERM, wait (bounded), sets DSTATUS.
# SIGTERM goes to secmsgd itself: timeout(1) would send it twice (to the
# child and to its group), and the second one can land after secmsgd has
# restored the default action on its way out, turning exit 0 into 143.
stop_daemon() {
	kill -TERM "$(daemon_pid)" 2>/dev/null
	DSTATUS=255
	i=0
	while [ $i -lt 100 ] && kill -0 "$DPID" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$DPID" 2>/dev/null; then
		echo "# secmsgd did not stop within 10s"
		kill -KILL "$DPID"
	fi
	wait "$DPID" 2>/dev/null
	DSTATUS=$?
}

# daemon_pid: the pid of secmsgd itself (the child of the timeout(1)
# wrapper $DPID), or $DPID when there is no wrapper child.
daemon_pid() {
	_dp=$(cut -d' ' -f1 "/proc/$DPID/task/$DPID/children" 2>/dev/null)
	[ -n "$_dp" ] || _dp=$(ps -o pid= --ppid "$DPID" 2>/dev/null |
	    head -n 1 | tr -d ' ')
	echo "${_dp:-$DPID}"
}

# reload_daemon: SIGHUP and wait for the outcome line; $1 = expected
# pattern ("reloaded configuration" or "reload failed").
# The signal goes to secmsgd itself, not to the timeout(1) wrapper in
# $DPID: timeout forwards a signal to its process group once and then
# ignores that signal for good, so a second SIGHUP would be lost.
reload_daemon() {
	before=$(count_in "$T/daemon.log" 'reload')
	kill -HUP "$(daemon_pid)"
	i=0
	while [ $i -lt 50 ]; do
		now=$(count_in "$T/daemon.log" 'reload')
		[ "$now" -gt "$before" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.1
	tail -n 5 "$T/daemon.log" | grep -q -- "$1"
}

# keygen NAME: a client key pair in $T/NAME.key, public key in $T/NAME.pub.
# Uses the daemon's own key generator, so it works without the client.
keygen() {
	mkdir -p "$T/k-$1"
	printf 'state_dir = "%s";\nlisten = [ "127.0.0.1:1" ];\n' \
	    "$T/k-$1" > "$T/k-$1/conf"
	"$SECMSGD" -g -c "$T/k-$1/conf" 2>/dev/null | head -n 1 > "$T/$1.pub"
	mv "$T/k-$1/server.key" "$T/$1.key"
	rm -rf "$T/k-$1"
}

# authorize NAME [OPTIONS]: append NAME's key to authorized_keys.
authorize() {
	name=$1
	shift
	echo "$(cat "$T/$name.pub") $name $*" >> "$T/authorized_keys"
	chmod 600 "$T/authorized_keys"
}

# The Python driver (tests/integ/swarm.py) and the small helpers every
# script that uses it needs.
SW="$top_srcdir/tests/integ/swarm.py"
# swarm ARGS...: run the driver, bounded.
swarm() { timeout "${SWARM_TIMEOUT:-30}" "$PY" "$SW" "$@"; }
# cl OUT NAME OPS...: a scripted client with NAME's key, output in $T/OUT.
cl() {
	out=$1 who=$2
	shift 2
	swarm client "$PORT" "$T/$who.key" "$@" > "$T/$out" 2>&1
}
# has OUT LINE: OUT has exactly this line.
has() { grep -qx -- "$2" "$T/$1"; }
# logged PATTERN: the daemon log has a line matching PATTERN (ERE).
logged() { grep -Eq -- "$1" "$T/daemon.log"; }

# tests/integ/libcluster.sh: HAProxy in front of secmsgd nodes, for the
# integration tests (sourced after lib.sh, which gives $T, $PIDS,
# random_port and the cleanup that stops what was started).
#
#   have_haproxy                    true when haproxy(1) is installed
#   start_haproxy NAME BACKEND...   one HAProxy in mode tcp: a frontend on
#                                   127.0.0.1:$HAPROXY_PORT balancing over
#                                   BACKENDs ("127.0.0.1:7300"), each with
#                                   $HAPROXY_SERVER_OPTS (default
#                                   "send-proxy-v2 check inter 500ms")
#   haproxy_wait_up NAME N [TENTHS] until N servers of NAME pass checks
#   haproxy_cmd NAME COMMAND        a command on NAME's admin socket
#                                   ("disable server be/n1"), answer on
#                                   stdout
#   stop_haproxy NAME               stop it (bounded) and wait
#
# NAME is a shell identifier (letters, digits, _).
# Files: $T/haproxy-NAME.cfg, .log (its stderr), .sock (admin socket),
# .pid.  HAPROXY_BALANCE (default roundrobin) and HAPROXY_EXTRA (lines
# added to the backend) adjust the backend; HAPROXY_FRONTEND_EXTRA adds
# lines to the frontend, with @PORT@ for its port ("bind ::1:@PORT@").  Every haproxy runs under
# timeout(1), in the foreground (-db), with one thread, and is in $PIDS.

HAPROXY=${HAPROXY:-haproxy}

have_haproxy() { command -v "$HAPROXY" >/dev/null 2>&1; }

# _haproxy_cfg NAME PORT BACKEND...: write NAME's configuration.
_haproxy_cfg() {
	_hn=$1 _hp=$2
	shift 2
	{
		cat <<EOC
global
	nbthread 1
	maxconn 512
	stats socket $T/haproxy-$_hn.sock mode 600 level admin
	pidfile $T/haproxy-$_hn.pid

defaults
	mode tcp
	timeout connect 2s
	timeout client 120s
	timeout server 120s

frontend fe
	bind 127.0.0.1:$_hp
$(printf '%s' "${HAPROXY_FRONTEND_EXTRA:-}" | sed "s/@PORT@/$_hp/g")
	default_backend be

backend be
	balance ${HAPROXY_BALANCE:-roundrobin}
${HAPROXY_EXTRA:-}
EOC
		_i=0
		for _b in "$@"; do
			_i=$((_i + 1))
			printf '\tserver n%d %s %s\n' "$_i" "$_b" \
			    "${HAPROXY_SERVER_OPTS:-send-proxy-v2 check inter 500ms}"
		done
	} > "$T/haproxy-$_hn.cfg"
}

# start_haproxy NAME BACKEND...: start it on a free port; sets
# HAPROXY_PORT and HAPROXY_PID (its timeout(1) wrapper).
start_haproxy() {
	_hn=$1
	shift
	_tries=0
	while [ $_tries -lt 10 ]; do
		HAPROXY_PORT=$(random_port)
		_haproxy_cfg "$_hn" "$HAPROXY_PORT" "$@"
		if ! "$HAPROXY" -c -q -f "$T/haproxy-$_hn.cfg" \
		    > "$T/haproxy-$_hn.log" 2>&1; then
			echo "# haproxy config refused:"
			sed 's/^/# /' "$T/haproxy-$_hn.log"
			return 1
		fi
		timeout -k 5 600 "$HAPROXY" -db -f "$T/haproxy-$_hn.cfg" \
		    >> "$T/haproxy-$_hn.log" 2>&1 &
		HAPROXY_PID=$!
		PIDS="$PIDS $HAPROXY_PID"
		eval "HAPROXY_PID_$_hn=\$HAPROXY_PID"
		_i=0
		while [ $_i -lt 50 ]; do
			[ -S "$T/haproxy-$_hn.sock" ] && return 0
			kill -0 "$HAPROXY_PID" 2>/dev/null || break
			sleep 0.1
			_i=$((_i + 1))
		done
		wait "$HAPROXY_PID" 2>/dev/null
		grep -qi 'cannot bind\|address already in use' \
		    "$T/haproxy-$_hn.log" || break
		_tries=$((_tries + 1))
	done
	echo "# haproxy did not start:"
	sed 's/^/# /' "$T/haproxy-$_hn.log"
	return 1
}

# haproxy_cmd NAME COMMAND: send COMMAND to NAME's admin socket.
haproxy_cmd() {
	timeout 10 "${PY:-python3}" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(out.decode("utf-8", "replace"))
' "$T/haproxy-$1.sock" "$2"
}

# haproxy_wait_up NAME N [TENTHS]: until N servers are UP (checks passed).
haproxy_wait_up() {
	_i=0
	while [ $_i -lt "${3:-100}" ]; do
		# "show stat": CSV, column 18 is the status.
		_up=$(haproxy_cmd "$1" "show stat" 2>/dev/null |
		    awk -F, '$2 ~ /^n[0-9]+$/ && $18 == "UP"' | wc -l)
		[ "$_up" -ge "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# stop_haproxy NAME: SIGTERM (haproxy stops at once), bounded wait.
stop_haproxy() {
	eval "_pid=\${HAPROXY_PID_$1:-}"
	[ -n "$_pid" ] || return 0
	pkill -TERM -P "$_pid" 2>/dev/null
	_i=0
	while [ $_i -lt 50 ] && kill -0 "$_pid" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	kill -KILL "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	eval "HAPROXY_PID_$1="
	return 0
}

# tests/integ/libnats.sh: a NATS cluster and secmsgd nodes for the cluster
# tests (sourced after lib.sh).
#
# nats_start_cluster starts three nats-server processes with JetStream,
# routes between them, separate store folders under $T, ports picked at
# random on 127.0.0.1 (GOMAXPROCS=1 keeps them light on a small machine);
# node_start I starts secmsgd node I against them.  Everything runs under
# timeout(1) and is in $PIDS, so lib.sh's cleanup stops it.

NATS_SERVER=$(command -v nats-server 2>/dev/null)

# nats_ports: pick NATS_P1..3 (clients) and NATS_C1..3 (routes).
nats_ports() {
	for i in 1 2 3; do
		eval "NATS_P$i=$(random_port)"
		eval "NATS_C$i=$(random_port)"
	done
	NATS_URLS="\"nats://127.0.0.1:$NATS_P1\", \"nats://127.0.0.1:$NATS_P2\", \"nats://127.0.0.1:$NATS_P3\""
}

# nats_start I [CONFIG]: start server I (again, with the same ports and
# store), with a configuration file for what has no option (max_payload).
nats_start() {
	i=$1
	eval "p=\$NATS_P$i c=\$NATS_C$i"
	mkdir -p "$T/nats$i"
	: > "$T/nats$i.log"
	GOMAXPROCS=1 timeout -k 5 900 "$NATS_SERVER" ${2:+-c "$2"} \
	    -a 127.0.0.1 -p "$p" \
	    -n "nats$i" --cluster_name secmsgtest \
	    -cluster "nats://127.0.0.1:$c" \
	    -routes "nats://127.0.0.1:$NATS_C1,nats://127.0.0.1:$NATS_C2,nats://127.0.0.1:$NATS_C3" \
	    -js -sd "$T/nats$i" -l "$T/nats$i.log" &
	eval "NATS_PID$i=$!"
	PIDS="$PIDS $!"
	wait_for "$T/nats$i.log" "Server is ready" 100
}

# nats_pid I: the pid of nats-server I itself (under timeout(1)).
nats_pid() {
	eval "_w=\$NATS_PID$1"
	_p=$(ps -o pid= --ppid "$_w" 2>/dev/null | head -n 1 | tr -d ' ')
	echo "${_p:-$_w}"
}

# nats_start_cluster: the three servers, their routes up.
nats_start_cluster() {
	nats_ports
	nats_start 1 && nats_start 2 && nats_start 3 || return 1
	# Each sees the two others.
	for i in 1 2 3; do
		n=0
		while [ "$(grep -c 'Route connection created' "$T/nats$i.log")" -lt 2 ] &&
		    [ $n -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
	done
	return 0
}

# node_conf I [EXTRA]: $T/node$I.conf, node I on port $NODE_PORTI; with
# NODE_PROXY=1 also a listener for HAProxy on $NODE_PORTI + 1 (PROXY
# protocol v2, trusting 127.0.0.1 and ::1 only): $NODE_PPORTI.
node_conf() {
	i=$1
	mkdir -p "$T/n$i"
	chmod 700 "$T/n$i"
	eval "p=\$NODE_PORT$i"
	_pl=
	if [ "${NODE_PROXY:-0}" = 1 ]; then
		eval "NODE_PPORT$i=$((p + 1))"
		_pl=", { address = \"127.0.0.1:$((p + 1))\"; proxy_protocol = true;
    proxy_trusted = [ \"127.0.0.1\", \"::1\" ]; }"
	fi
	cat > "$T/node$i.conf" <<EOC
listen = ( "127.0.0.1:$p"$_pl );
state_dir = "$T/n$i";
authorized_keys = "$T/authorized_keys";
log_destination = "stderr";
log_level = "info";
control_socket = "$T/n$i/control.sock";
handshake_rate = 0;
max_subscriptions = 2048;
${NODE_EXTRA:-}
${SECMSG_TEST_CONF:-}
cluster = {
  node = "node$i";
  service = "secmsgtest";
  servers = [ $NATS_URLS ];
  heartbeat_interval = 300;
  node_expiry = 3000;
  reply_timeout = 1000;
  reconnect_wait = 200;
  max_names_per_node = 2000;
  $2
};
EOC
}

# node_start I [EXTRA CLUSTER LINES]: start node I (a new port unless
# NODE_PORTI is set), wait until ready.
node_start() {
	i=$1
	eval "p=\${NODE_PORT$i:-}"
	# A port of our own choosing may be taken by a test running beside
	# this one: choose again (a restart keeps its port: HAProxy's).
	fresh=0
	[ -n "$p" ] || fresh=1
	tries=0
	while :; do
		[ "$fresh" = 0 ] || eval "NODE_PORT$i=$(random_port)"
		node_conf "$i" "$2"
		: > "$T/node$i.log"
		timeout -k 5 900 "$SECMSGD" -f -d -c "$T/node$i.conf" \
		    2>>"$T/node$i.log" &
		eval "NODE_PID$i=$!"
		PIDS="$PIDS $!"
		# Sanitizer builds on a loaded machine start slowly; one
		# that exited will not get ready.
		eval "_np=\$NODE_PID$i"
		_w=0
		while [ $_w -lt 300 ] && kill -0 "$_np" 2>/dev/null; do
			grep -q 'info\]: ready' "$T/node$i.log" && return 0
			sleep 0.1
			_w=$((_w + 1))
		done
		grep -q 'info\]: ready' "$T/node$i.log" && return 0
		tries=$((tries + 1))
		if [ "$fresh" = 1 ] && [ $tries -lt 5 ] &&
		    grep -q 'in use' "$T/node$i.log"; then
			kill "$_np" 2>/dev/null
			continue
		fi
		tail -n 5 "$T/node$i.log" | sed "s/^/# node $i: /"
		return 1
	done
}

# node_pid I: the pid of secmsgd node I itself.
node_pid() {
	eval "_w=\$NODE_PID$1"
	_p=$(ps -o pid= --ppid "$_w" 2>/dev/null | head -n 1 | tr -d ' ')
	echo "${_p:-$_w}"
}

# ncl OUT NODE KEY OPS...: a scripted client of KEY on node NODE.
ncl() {
	_out=$1 _n=$2 _who=$3
	shift 3
	eval "_p=\$NODE_PORT$_n"
	# Long-lived clients wait for $T/done: bounded, but longer than
	# lib.sh's 30 s default.
	SWARM_TIMEOUT=${SWARM_TIMEOUT:-300} swarm client "$_p" \
	    "$T/$_who.key" "$@" > "$T/$_out" 2>&1
}

# eventually SECS COMMAND...: the command succeeds within SECS.
eventually() {
	_end=$(( $(date +%s) + $1 ))
	shift
	while [ "$(date +%s)" -le "$_end" ]; do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

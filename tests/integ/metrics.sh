#!/bin/sh
# tests/integ/metrics.sh: the Prometheus endpoint (issue 15): metrics_listen
# refused unless loopback or a Unix socket, and shown by -T; a live scrape
# that promtool accepts; counters that move by the right amounts as
# clients connect, send, fail a handshake, rekey and the daemon reloads;
# 404 and 405; a cap on the endpoint's connections that idle clients cannot
# pass (it answers again once they go); a Unix socket endpoint; the
# durable store's series; and the Grafana dashboard, whose every query names a metric the daemon exports.

. "${top_srcdir:-.}/tests/integ/lib.sh"

command -v promtool > /dev/null 2>&1 ||
    skip_all "no promtool (Debian package prometheus)"
[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"

plan 67

MP="$top_srcdir/tests/integ/metrics.py"
DASH="$top_srcdir/contrib/grafana/secmsgd.json"
mp() { timeout -k 5 30 "$PY" "$MP" "$@"; }

# scrape FILE [TARGET]: GET /metrics into $T/FILE; true on a 200.
scrape() {
	mp get "${2:-127.0.0.1:$MPORT}" /metrics "$T/$1" | grep -qx 'status 200'
}
# val FILE SERIES: the value of one series in a scrape.
val() { awk -v s="$2" '$1 == s { print $2 }' "$T/$1"; }
# delta SERIES N: SERIES went up by exactly N from scrape $A to scrape $B.
A=s0
B=s1
delta() {
	_a=$(val "$A" "$1")
	_b=$(val "$B" "$1")
	[ -n "$_a" ] && [ -n "$_b" ] && [ $((_b - _a)) -eq "$2" ] && return 0
	echo "# $1: $_a -> $_b, expected +$2"
	return 1
}
# grew SERIES: SERIES went up from scrape $A to scrape $B.
grew() {
	_a=$(val "$A" "$1")
	_b=$(val "$B" "$1")
	[ -n "$_a" ] && [ -n "$_b" ] &&
	    awk -v a="$_a" -v b="$_b" 'BEGIN { exit !(b > a) }' && return 0
	echo "# $1: $_a -> $_b, expected more"
	return 1
}
# promcheck FILE: promtool finds nothing wrong (lint included).
promcheck() {
	promtool check metrics < "$T/$1" > "$T/$1.lint" 2>&1 && return 0
	sed 's/^/# /' "$T/$1.lint"
	return 1
}
# start_metrics CONF: start_daemon with the endpoint on a free port MPORT
# (another one when that port turns out to be taken).
start_metrics() {
	for _try in 1 2 3 4 5; do
		MPORT=$(random_port)
		start_daemon "metrics_listen = \"127.0.0.1:$MPORT\";
$1" && return 0
	done
	return 1
}
# refused ADDRESS: secmsgd -t fails naming the file, line and setting.
refused() {
	printf 'listen = [ "127.0.0.1:7300" ];\n\nmetrics_listen = "%s";\n' \
	    "$1" > "$T/bad.conf"
	"$SECMSGD" -t -c "$T/bad.conf" > "$T/bad.out" 2>&1
	[ $? -eq 78 ] &&
	    grep -q "bad.conf:3: metrics_listen: .*not a loopback" "$T/bad.out"
}

# ---------------------------------------------------------------- config
ok "-t refuses a non-loopback metrics_listen (IPv4)" refused "192.0.2.1:9100"
ok "-t refuses 0.0.0.0" refused "0.0.0.0:9100"
ok "-t refuses a non-loopback IPv6 address" refused "[2001:db8::1]:9100"
printf 'metrics_listen = "[::1]:9100";\n' > "$T/v6.conf"
printf 'metrics_listen = "unix:/run/secmsgd/metrics.sock";\n' > "$T/ux.conf"
"$SECMSGD" -t -c "$T/v6.conf" > "$T/v6.out" 2>&1
v6=$?
"$SECMSGD" -t -c "$T/ux.conf" > "$T/ux.out" 2>&1
ok "-t takes [::1] and a Unix socket" [ "$v6$?" = 00 ]
"$SECMSGD" -T -c "$T/v6.conf" > "$T/dump.out" 2>&1
ok "-T prints metrics_listen and metrics_max_connections" sh -c \
    "grep -qx 'metrics_listen = \"\[::1\]:9100\";' '$T/dump.out' &&
     grep -qx 'metrics_max_connections = 8;' '$T/dump.out'"

# ---------------------------------------------------------------- live
keygen alice
keygen bob
keygen carol		# not authorized: a failed handshake
keygen rk
keygen pinger
authorize alice
authorize bob
authorize rk
authorize pinger
start_metrics "metrics_max_connections = 3;
max_connections_per_address = 6;
rekey_messages = 16;" || exit 1

ok "scrape answers 200" scrape s0
ok "promtool check metrics accepts it" promcheck s0
ok "secmsgd_build_info carries the version" \
    grep -q '^secmsgd_build_info{version="[0-9.]*"} 1$' "$T/s0"
ok "one secmsgd_loop_sessions series per loop, from 0" \
    grep -q '^secmsgd_loop_sessions{loop="0"} 0$' "$T/s0"
ok "process_resident_memory_bytes and process_open_fds are there" sh -c \
    "grep -Eq '^process_resident_memory_bytes [1-9][0-9]*$' '$T/s0' &&
     grep -Eq '^process_open_fds [1-9][0-9]*$' '$T/s0'"

# Traffic: bob joins news; alice publishes twice and sends bob one
# message (3 deliveries), then pings; carol's key is refused; rk sends 3
# REKEY records; pinger pings 20 times, which with rekey_messages = 16
# makes it and the server rekey once each.
closed0=$(count_in "$T/daemon.log" 'closed reason=eof')
cl bob.out bob join news touch "$T/bob-ready" waitfile "$T/go" 20 end 1 &
bobpid=$!
wait_for "$T/bob.out" "join ok" 100
cl alice.out alice publish news text:one publish news text:two \
    send bob text:three ping
touch "$T/go"
cl carol.out carol ping
cl rk.out rk rekeyflood 3 5
cl pinger.out pinger $(for i in $(seq 20); do printf 'ping '; done)
wait "$bobpid"
# Every session's close has been seen before the counts are read.
i=0
while [ $i -lt 100 ] &&
    [ "$(count_in "$T/daemon.log" 'closed reason=eof')" -lt \
    $((closed0 + 4)) ]; do
	sleep 0.1
	i=$((i + 1))
done
ok "the clients did what they were told" sh -c \
    "grep -q 'publish ok 1 0' '$T/alice.out' &&
     grep -q 'refused 16' '$T/carol.out' &&
     [ \$(grep -c 'ping ok' '$T/pinger.out') -eq 20 ]"
ok "reload (good file)" reload_daemon "reloaded configuration"
cp "$T/secmsgd.conf" "$T/good.conf"
echo "bogus_setting = 1;" >> "$T/secmsgd.conf"
ok "reload (bad file)" reload_daemon "reload failed"
cp "$T/good.conf" "$T/secmsgd.conf"

ok "scrape after the traffic" scrape s1
ok "promtool still accepts it" promcheck s1
ok "accepted: +5 connections" delta secmsgd_connections_accepted_total 5
ok "handshakes completed: +4" delta secmsgd_handshakes_completed_total 4
ok "handshake histogram count: +4" \
    delta secmsgd_handshake_duration_seconds_count 4
ok "handshake histogram +Inf bucket: +4" \
    delta 'secmsgd_handshake_duration_seconds_bucket{le="+Inf"}' 4
ok "handshakes failed unknown-key: +1" \
    delta 'secmsgd_handshakes_failed_total{reason="unknown-key"}' 1
ok "sessions closed eof: +4" \
    delta 'secmsgd_sessions_closed_total{reason="eof"}' 4
ok "requests publish: +2" delta 'secmsgd_requests_total{type="publish"}' 2
ok "requests send: +1" delta 'secmsgd_requests_total{type="send"}' 1
ok "requests join: +1" delta 'secmsgd_requests_total{type="join"}' 1
# alice 1, rekeyflood 1, pinger 20 (carol was refused before any)
ok "requests ping: +22" delta 'secmsgd_requests_total{type="ping"}' 22
ok "deliveries: +3" delta secmsgd_deliveries_total 3
ok "no delivery skipped" \
    delta 'secmsgd_delivery_skips_total{reason="busy"}' 0
ok "rekeys received: +4 (3 flooded, 1 of the pinger's)" \
    delta 'secmsgd_rekeys_total{direction="received"}' 4
ok "rekeys sent: +1 (the pinger's 17th reply)" \
    delta 'secmsgd_rekeys_total{direction="sent"}' 1
ok "reloads ok: +1" delta 'secmsgd_reloads_total{result="ok"}' 1
ok "reloads failed: +1" delta 'secmsgd_reloads_total{result="failed"}' 1
ok "bytes received grew" grew secmsgd_received_bytes_total
ok "bytes sent grew" grew secmsgd_sent_bytes_total
ok "no connection left open" sh -c \
    "grep -qx 'secmsgd_connections{state=\"authenticated\"} 0' '$T/s1' &&
     grep -qx 'secmsgd_connections{state=\"handshaking\"} 0' '$T/s1'"

# Seven raw connections, max_connections_per_address = 6: the seventh is
# refused at accept, the six others end (eof) before any handshake.
swarm hold "$PORT" 7 "$T/stop-hold" > "$T/hold7.out" 2>&1 &
hpid=$!
wait_for "$T/hold7.out" "closed 6" 100
eof1=$(count_in "$T/daemon.log" 'closed reason=eof')
touch "$T/stop-hold"
wait "$hpid"
i=0
while [ $i -lt 100 ] &&
    [ "$(count_in "$T/daemon.log" 'closed reason=eof')" -lt $((eof1 + 6)) ]
do
	sleep 0.1
	i=$((i + 1))
done
ok "scrape after the refusal" scrape s2
A=s1
B=s2
ok "refused per-address-limit: +1" \
    delta 'secmsgd_connections_refused_total{reason="per-address-limit"}' 1
ok "accepted: +6" delta secmsgd_connections_accepted_total 6
ok "handshakes failed eof: +6" \
    delta 'secmsgd_handshakes_failed_total{reason="eof"}' 6
ok "no handshake completed" delta secmsgd_handshakes_completed_total 0

# ---------------------------------------------------------------- HTTP
mp get "127.0.0.1:$MPORT" /other "$T/404" > "$T/404.out"
ok "another path: 404" grep -qx 'status 404' "$T/404.out"
mp get "127.0.0.1:$MPORT" /metrics "$T/405" POST > "$T/405.out"
ok "another method: 405, Allow: GET" sh -c \
    "grep -qx 'status 405' '$T/405.out' && grep -qx 'allow GET' '$T/405.out'"
mp hold "$MPORT" 10 3 > "$T/hold.out" 2>&1
sed 's/^/# /' "$T/hold.out"
ok "10 idle connections: the daemon holds at most 3" \
    grep -qx 'within-cap yes' "$T/hold.out"
ok "a scrape waits while they are held" \
    grep -Eq '^scrape-while-held (TimeoutError|timeout)$' "$T/hold.out"
ok "once they go, the endpoint answers" \
    grep -qx 'scrape-after status 200' "$T/hold.out"

# ---------------------------------------------------------------- Unix
stop_daemon
ok "daemon stopped cleanly" [ "$DSTATUS" -eq 0 ]
start_daemon "metrics_listen = \"unix:$T/metrics.sock\";
unix_socket_mode = \"0600\";" || exit 1
ok "the Unix socket has unix_socket_mode" \
    [ "$(stat -c %a "$T/metrics.sock")" = 600 ]
ok "scrape over the Unix socket" scrape su "unix:$T/metrics.sock"
ok "promtool accepts it" promcheck su
stop_daemon
ok "the Unix socket is removed at exit" [ ! -e "$T/metrics.sock" ]

# ---------------------------------------------------------------- store
# The durable store's series (issue 17): messages stored, refused by
# reason, redelivered (store_ack_timeout and a new connection),
# acknowledged; the store's size.
DPY="$top_srcdir/tests/integ/durable.py"
K0=00000000000000000000000000000000
# d OUT WHO CMD ARGS...: the durable client (feature bit 1), bounded.
d() {
	_o=$1 _w=$2
	shift 2
	timeout -k 10 30 "$PY" "$DPY" "$PORT" "$SERVER_KEY" "$T/$_w.key" \
	    2 "$@" > "$T/$_o" 2>&1
}
ok "secmsgd starts with a store and the endpoint" start_metrics \
    'store = "lmdb";
store_map_size = 16;
store_max_messages = 2;
store_ack_timeout = 1;'
ok "scrape with a store" scrape d0
d ds1.out alice dsend bob one "$K0"
d ds2.out alice dsend bob two "$K0"
d ds3.out alice dsend bob three "$K0"
ok "a third DSEND to bob is over his quota" grep -qx 'error 10' "$T/ds3.out"
d na.out bob noack
ok "bob, who does not acknowledge, gets his first message again" \
    grep -q '^again ' "$T/na.out"
d fe.out bob fetch 1
ok "then fetches and acknowledges both" grep -qx 'ack removed 2' "$T/fe.out"
ok "scrape after" scrape d1
A=d0
B=d1
ok "store stored: +2" delta secmsgd_store_stored_total 2
ok "store refused quota-exceeded: +1" \
    delta 'secmsgd_store_refused_total{reason="quota-exceeded"}' 1
ok "store refused store-full: +0" \
    delta 'secmsgd_store_refused_total{reason="store-full"}' 0
ok "store acknowledged: +2" delta secmsgd_store_acknowledged_total 2
ok "store puts: +3 (the refused one too)" delta secmsgd_store_puts_total 3
# One client after the other: each put has a commit of its own.
ok "store commits: +3" delta secmsgd_store_commits_total 3
# At least 1 after the timeout and 2 to bob's next connection.
rd=$(( $(val d1 secmsgd_store_redelivered_total) -
    $(val d0 secmsgd_store_redelivered_total) ))
ok "store redelivered: +3 at least" [ "$rd" -ge 3 ]
ok "store map size: store_map_size in bytes" \
    [ "$(val d1 secmsgd_store_map_size_bytes)" = 16777216 ]
used=$(val d1 secmsgd_store_used_bytes)
ok "store used bytes: some, below the map size" \
    [ "${used:-0}" -gt 0 -a "${used:-0}" -lt 16777216 ]
ok "promtool accepts the store's series" promcheck d1
stop_daemon

# ---------------------------------------------------------------- dashboard
ok "the dashboard is valid JSON" "$PY" -m json.tool "$DASH" /dev/null
mp dashboard "$DASH" "$T/d1" > "$T/dash.out"
sed 's/^/# /' "$T/dash.out"
ok "every metric the dashboard queries is exported" \
    mp dashboard "$DASH" "$T/d1"

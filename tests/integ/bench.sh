#!/bin/sh
# tests/integ/bench.sh: smoke test of secmsg-bench (issue 6).  Every
# workload runs for a fraction of a second against a test daemon; we check
# that the counts come out exact, that the CSV and JSON output parses and
# that failures give a non-zero exit.  No speed is asserted: figures come
# from bench/run, never from a timed test.

. "${top_srcdir:-.}/tests/integ/lib.sh"

BENCH="$top_builddir/bench/secmsg-bench"
[ -x "$BENCH" ] || skip_all "bench/secmsg-bench not built"
[ -x "$PY" ] || skip_all "no python3 to parse the output"

plan 28

# Fresh client keys (client_auth any); the per-address handshake rate
# would refuse a handshake loop from one address, so it is off.
start_daemon "client_auth = \"any\";
handshake_rate = 0;
pid_file = \"$T/secmsgd.pid\";" || exit 1
DAEMON=$(cat "$T/secmsgd.pid")

# b OUT ARGS...: run the tool against the daemon (bounded).
b() {
	out=$1
	shift
	timeout -k 10 60 "$BENCH" -s "127.0.0.1:$PORT" --server-key "$SERVER_KEY" \
	    "$@" > "$T/$out" 2> "$T/$out.err"
}

# csv_ok FILE ROWS: a header and ROWS rows, every one exact, count > 0.
csv_ok() {
	"$PY" - "$T/$1" "$2" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == int(sys.argv[2]), rows
for r in rows:
    assert r["exact"] == "1", r
    assert int(r["count"]) > 0, r
    assert int(r["skipped"]) == 0 and int(r["errors"]) == 0, r
    float(r["rate_per_s"]); float(r["p99_us"])
EOF
}

# json_ok FILE ROWS: the same for the JSON array.
json_ok() {
	"$PY" - "$T/$1" "$2" <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == int(sys.argv[2]), rows
for r in rows:
    assert r["exact"] is True, r
    assert r["count"] > 0 and r["skipped"] == 0 and r["errors"] == 0, r
EOF
}

ok "handshake runs, exact" b hs.csv -d 0.3 -c 1,2 --csv handshake
ok "handshake csv parses" csv_ok hs.csv 2
ok "ping runs with two threads" b ping.json -d 0.3 -c 1,4 -j 2 --json ping
ok "ping json parses" json_ok ping.json 2
ok "relay publish 64 B, 16 KiB exact" \
    b pub.csv -d 0.3 -P 2 -S 3 -m 64,16K --csv relay
ok "relay publish csv parses" csv_ok pub.csv 2
ok "relay direct exact with two threads" \
    b dir.json -d 0.3 -P 2 -j 2 -m 1K --mode direct --json relay
ok "relay direct json parses" json_ok dir.json 1
ok "bulk runs, exact" b bulk.csv -d 0.3 --csv bulk
ok "bulk csv parses" csv_ok bulk.csv 1

# idle: the daemon's RSS is read, one figure per connection.
idle_ok() {
	b idle.json -d 0.2 -n 40 -c 8 --daemon-pid "$DAEMON" --json idle &&
	"$PY" - "$T/idle.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))[0]
assert r["exact"] is True and r["count"] == 40, r
assert r["daemon_rss_per_conn"] is not None, r
EOF
}
ok "idle holds 40 connections, reads the daemon's RSS" idle_ok

# The daemon's peak RSS during a workload (VmHWM, reset at its start): read,
# and at least what the daemon held before the run (the reset sets the peak
# to the current RSS, never below it).
peak_ok() {
	before=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$DAEMON/status")
	b peak.json -d 0.3 -m 16K --daemon-pid "$DAEMON" --json bulk &&
	"$PY" - "$T/peak.json" "$before" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))[0]
assert r["exact"] is True, r
assert r["daemon_rss_peak"] is not None, r
assert r["daemon_rss_peak"] >= int(sys.argv[2]), (r, sys.argv[2])
EOF
}
ok "bulk reads the daemon's peak RSS during the run" peak_ok

# --raw bulk (bench/compare): 64-byte and 16 KiB chunks streamed through
# the tool's own echo server, each echoed back once, in order.
raw_bulk() {
	tries=0
	while [ $tries -lt 5 ]; do
		EPORT=$(random_port)
		: > "$T/echo.log"
		timeout -k 10 60 "$BENCH" --echo-server "127.0.0.1:$EPORT" \
		    2>> "$T/echo.log" &
		EPID=$!
		PIDS="$PIDS $EPID"
		i=0
		while [ $i -lt 50 ] && ! grep -q ready "$T/echo.log" &&
		    kill -0 "$EPID" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		grep -q ready "$T/echo.log" && break
		tries=$((tries + 1))
	done
	timeout -k 10 60 "$BENCH" -s "127.0.0.1:$EPORT" --raw -d 0.3 -j 2 \
	    -m 64,16K --csv bulk > "$T/rawbulk.csv" 2> "$T/rawbulk.csv.err" &&
	    [ "$(grep -c '^bulk,raw,' "$T/rawbulk.csv")" -eq 2 ]
}
ok "raw bulk through an echo server, exact" raw_bulk
ok "raw bulk csv parses" csv_ok rawbulk.csv 2

# A wrong pinned key fails every connection: exit 1, not exact.
wrong_key() {
	keygen other
	other=$(cat "$T/other.pub")
	timeout -k 10 60 "$BENCH" -s "127.0.0.1:$PORT" --server-key "$other" \
	    -d 0.2 -c 1 --csv ping > "$T/wrong.csv" 2>&1
	[ $? -eq 1 ] && grep -q ',0,' "$T/wrong.csv"
}
ok "a wrong server key is a failure (exit 1)" wrong_key

usage_err() {
	"$BENCH" -s "127.0.0.1:$PORT" nosuchworkload > /dev/null 2>&1
	[ $? -eq 2 ]
}
ok "usage errors exit 2" usage_err

# --crypto-ceiling: its table of nine rows, the two ceilings positive.
ceiling() {
	timeout -k 10 60 "$BENCH" --crypto-ceiling 0.3 > "$T/ceiling.md" || return 1
	_hs='^| ceiling: handshakes/s, both ends on these [0-9]* cores'
	_bk='^| ceiling: bulk MB/s, each end on a core of its own'
	[ "$(grep -c '^| ' "$T/ceiling.md")" -eq 9 ] &&
	    grep -q "$_hs | [1-9][0-9]* |\$" "$T/ceiling.md" &&
	    grep -q "$_bk | [1-9][0-9]* |\$" "$T/ceiling.md"
}
ok "--crypto-ceiling prints the crypto figures and ceilings" ceiling

# durable (issue 17): store to an offline name, then the drain of that
# backlog, both rows exact and the drain's count the store's; with -n, an
# exact number of messages per thread.
stop_daemon
start_daemon "client_auth = \"any\";
handshake_rate = 0;
store = \"lmdb\";
store_map_size = 64;
store_max_messages = 0;
store_max_bytes = 0;
pid_file = \"$T/secmsgd.pid\";" || exit 1
DAEMON=$(cat "$T/secmsgd.pid")
# dur_ok FILE [COUNT]: two rows, store then drain, with the same count
# (COUNT when given).
dur_ok() {
	"$PY" - "$T/$1" "${2:-}" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [r["variant"] for r in rows] == ["store", "drain"], rows
assert rows[0]["count"] == rows[1]["count"], rows
assert sys.argv[2] == "" or rows[0]["count"] == sys.argv[2], rows
EOF
}
durable_run() {
	b dur.csv -d 0.3 -j 2 -c 2 -w 16 --daemon-pid "$DAEMON" --csv \
	    durable && csv_ok dur.csv 2 && dur_ok dur.csv
}
ok "durable store and drain, two threads: exact, the drain got the store's" \
    durable_run
durable_n() {
	b durn.csv -n 300 -d 30 --csv durable && csv_ok durn.csv 2 &&
	    dur_ok durn.csv 300
}
ok "durable -n 300: exactly 300 stored and drained" durable_n

# nats (issue 20), against a nats-server of our own over TLS (its own
# config and certificate in $T), when the tool has OpenSSL and nats-server
# and openssl are installed.  Every row's counts are exact: each message
# received once, in order, by each of its subscribers.
NATS=$(command -v nats-server || echo /usr/bin/nats-server)
if "$BENCH" --help | grep -q 'nats workloads unavailable' ||
    [ ! -x "$NATS" ] || ! command -v openssl > /dev/null 2>&1; then
	for i in 1 2 3 4 5 6; do
		echo "ok $((TAP_N + i)) # SKIP no OpenSSL in the tool, nats-server or openssl"
	done
	TAP_N=$((TAP_N + 6))
else
	# cert NAME: a self-signed ECDSA P-256 certificate for 127.0.0.1.
	cert() {
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -days 2 -subj "/CN=$1" \
		    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/$1.key.pem" \
		    -out "$T/$1.pem" > /dev/null 2>&1
	}
	cert nats
	cert other
	NPORT=$(random_port)
	cat > "$T/nats.conf" <<EOC
listen: 127.0.0.1:$NPORT
tls {
  cert_file: "$T/nats.pem"
  key_file: "$T/nats.key.pem"
  timeout: 5
}
EOC
	timeout -k 5 120 "$NATS" -c "$T/nats.conf" 2> "$T/nats.log" &
	NATSPID=$!
	PIDS="$PIDS $NATSPID"
	wait_for "$T/nats.log" "Server is ready" 50
	NSRV=$(pgrep -P "$NATSPID" | head -n 1)	# the server, not timeout
	# nb OUT ARGS...: the tool against nats-server (bounded).
	nb() {
		out=$1
		shift
		timeout -k 10 60 "$BENCH" -s "127.0.0.1:$NPORT" "$@" \
		    > "$T/$out" 2> "$T/$out.err"
		nrc=$?
		[ $nrc -eq 0 ] && return 0
		# Why, in the test's log (the wrong-CA row expects this).
		tail -n 3 "$T/$out" "$T/$out.err" | sed 's/^/# /'
		return $nrc
	}
	# nats_counts FILE FANOUT...: per row, expected = sent x FANOUT =
	# received, and the connection was TLS 1.3.
	nats_counts() {
		"$PY" - "$T/$1" "$@" <<'EOF2'
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
fan = [int(x) for x in sys.argv[3:]]
assert len(rows) == len(fan), rows
for r, f in zip(rows, fan):
    d = dict(re.findall(r"(\w+)=(\S+)", r["detail"]))
    assert int(d["sent"]) > 0, r
    assert int(d["expected"]) == f * int(d["sent"]), r
    assert int(d["received"]) == int(d["expected"]) == int(r["count"]), r
    assert d["gaps"] == d["dups"] == d["strays"] == "0", r
    assert d["tls"] == "TLSv1.3", r
    assert int(r["fanout"]) == f, r
EOF2
	}
	nats_one() {
		nb n1.csv --cafile "$T/nats.pem" -d 0.3 -P 1 -S 1 -w 256 \
		    --csv nats &&
		    nb n1w1.csv --cafile "$T/nats.pem" -d 0.3 -P 1 -S 1 -w 1 \
		    --csv --no-header nats &&
		    cat "$T/n1w1.csv" >> "$T/n1.csv" && csv_ok n1.csv 2 &&
		    nats_counts n1.csv 1 1
	}
	ok "nats 1 -> 1 over TLS 1.3 at windows 256 and 1: exact counts" \
	    nats_one
	nats_fan() {
		nb nf.csv --cafile "$T/nats.pem" -d 0.3 -P 1 -S 3 -m 64,1K \
		    --csv nats && csv_ok nf.csv 2 && nats_counts nf.csv 3 3
	}
	ok "nats fan-out 1 -> 3, 64 B and 1 KiB: each delivery counted" \
	    nats_fan
	nats_in() {
		nb ni.csv --cafile "$T/nats.pem" -d 0.3 -P 3 -S 1 --csv nats &&
		    csv_ok ni.csv 1 && nats_counts ni.csv 1
	}
	ok "nats fan-in 3 -> 1: exact per publisher" nats_in
	nats_direct() {
		nb nd.csv --cafile "$T/nats.pem" -d 0.3 -P 3 --mode direct \
		    --csv nats && csv_ok nd.csv 1 && nats_counts nd.csv 1 &&
		    grep -q '^nats,direct,3,1,' "$T/nd.csv"
	}
	ok "nats direct, a subject per recipient, 3 pairs: exact" nats_direct
	nats_idle() {
		nb nidle.json --cafile "$T/nats.pem" -d 0.2 -n 20 \
		    --daemon-pid "${NSRV:-0}" --json nats-idle &&
		"$PY" - "$T/nidle.json" <<'EOF2'
import json, sys
r = json.load(open(sys.argv[1]))[0]
assert r["exact"] is True and r["count"] == 20, r
# The server's memory was read (its peak; the growth per connection
# is null when Go's heap shrank meanwhile, which 20 connections allow).
assert r["daemon_rss_peak"] is not None, r
EOF2
	}
	ok "nats-idle holds 20 TLS connections, reads the server's memory" \
	    nats_idle
	# A certificate that does not chain to the CA given: refused, exit 1.
	nats_wrong_ca() {
		nb nbad.csv --cafile "$T/other.pem" -d 0.2 -P 1 -S 1 --csv nats
		[ $? -eq 1 ] && grep -q 'certificate verify failed' \
		    "$T/nbad.csv"
	}
	ok "nats: a server certificate not from --cafile is refused" \
	    nats_wrong_ca
fi

# mqtt, against a mosquitto of our own (persistence in $T), when the tool
# has libmosquitto and mosquitto is installed.
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
if "$BENCH" --help | grep -q 'mqtt workloads unavailable' ||
    [ ! -x "$MOSQ" ]; then
	for i in 1 2 3; do
		echo "ok $((TAP_N + i)) # SKIP no libmosquitto or mosquitto"
	done
	exit 0
fi
MPORT=$(random_port)
mkdir -p "$T/mqdata"
{
	echo "listener $MPORT 127.0.0.1"
	echo "allow_anonymous true"
	echo "persistence true"
	echo "persistence_location $T/mqdata/"
	echo "max_queued_messages 0"
	echo "log_dest stderr"
	[ "$(id -u)" -ne 0 ] || echo "user root"
} > "$T/mosquitto.conf"
timeout -k 5 60 "$MOSQ" -c "$T/mosquitto.conf" 2> "$T/mosq.log" &
PIDS="$PIDS $!"
wait_for "$T/mosq.log" "listen socket on port $MPORT" 100 ||
    sed 's/^/# mosquitto: /' "$T/mosq.log"
# mq OUT ARGS...: the tool against mosquitto (bounded).
mq() {
	out=$1
	shift
	timeout -k 10 60 "$BENCH" -s "127.0.0.1:$MPORT" "$@" > "$T/$out" \
	    2> "$T/$out.err" && return 0
	tail -n 3 "$T/$out" "$T/$out.err" "$T/mosq.log" | sed 's/^/# /'
	return 1
}
mqtt_relay() {
	mq q0.csv -d 0.3 --csv --qos 0 mqtt &&
	    mq q1.csv -d 0.3 --csv --no-header --qos 1 mqtt &&
	    cat "$T/q1.csv" >> "$T/q0.csv" && csv_ok q0.csv 2
}
ok "mqtt relay at QoS 0 and 1 through libmosquitto, exact" mqtt_relay
# Issue 20's other shapes: fan-out 1 -> 3 and fan-in 3 -> 1 at QoS 0, a
# topic per recipient (3 pairs) at QoS 1; every delivery counted.
mqtt_shapes() {
	mq mf.csv -d 0.3 --csv --qos 0 -P 1 -S 3 mqtt &&
	    mq mi.csv -d 0.3 --csv --no-header --qos 0 -P 3 -S 1 mqtt &&
	    mq md.csv -d 0.3 --csv --no-header --qos 1 -P 3 --mode direct \
	    mqtt && cat "$T/mi.csv" "$T/md.csv" >> "$T/mf.csv" &&
	    csv_ok mf.csv 3 &&
	"$PY" - "$T/mf.csv" <<'EOF'
import csv, re, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert [(r["concurrency"], r["fanout"]) for r in rows] == \
    [("1", "3"), ("3", "1"), ("3", "1")], rows
for r, f in zip(rows, (3, 1, 1)):
    d = dict(re.findall(r"(\w+)=(\S+)", r["detail"]))
    assert int(d["expected"]) == f * int(d["sent"]) > 0, r
    assert int(d["received"]) == int(d["expected"]) == int(r["count"]), r
    assert d["gaps"] == d["dups"] == d["strays"] == d["unacked"] == "0", r
EOF
}
ok "mqtt fan-out, fan-in and direct through libmosquitto, exact" \
    mqtt_shapes
mqtt_session() {
	mq sess.csv -d 0.3 --csv mqtt-session && csv_ok sess.csv 2 &&
	    dur_ok sess.csv
}
ok "mqtt persistent session: store and drain, exact, the same count" \
    mqtt_session

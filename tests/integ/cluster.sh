#!/bin/sh
# tests/integ/cluster.sh: several secmsgd nodes as one service over a NATS
# cluster (issue 18): three nats-server processes with JetStream and
# routes, three secmsgd nodes (tests/integ/libnats.sh); cross-node SEND and
# PUBLISH with exact counts and order, WHO converged everywhere, a node
# killed and restarted (new incarnation), a NATS server killed and
# restarted and one stopped for a while, and the bus down: local traffic
# goes on, cross-node traffic gets "unavailable" at once; a node that does
# not answer makes the reply "unavailable" after reply_timeout; a hostile
# member of the bus changes nothing.

. "${top_srcdir:-.}/tests/integ/lib.sh"
. "${top_srcdir:-.}/tests/integ/libnats.sh"

[ -n "$NATS_SERVER" ] || skip_all "no nats-server (Debian package nats-server)"
[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"
printf 'listen = [ "127.0.0.1:1" ];\nstate_dir = "%s";\ncluster = { servers = [ "nats://127.0.0.1:1" ]; };\n' \
    "$T" > "$T/probe.conf"
"$SECMSGD" -t -c "$T/probe.conf" 2>&1 | grep -q "not supported by this build" &&
    skip_all "secmsgd built without libnats (configure --with-nats)"

plan 56

for k in alice bob carol dave erin frank gina; do
	keygen "$k"
	authorize "$k"
done

# every_node_logs PATTERN: each node's log has a line matching it.
every_node_logs() {
	for i in 1 2 3; do
		grep -Eq -- "$1" "$T/node$i.log" || return 1
	done
}
# who_on I OUT: WHO as seen by a client of node I ("who ok e1 e2...").
who_on() { ncl "$2" "$1" frank who; }
# who_has I ENTRY...: node I's WHO lists every ENTRY (kind:name:count).
who_has() {
	_n=$1
	shift
	who_on "$_n" "who$_n.out" || return 1
	for e in "$@"; do
		grep -q "^who ok.* $e\( \|$\)" "$T/who$_n.out" || return 1
	done
}
# who_lacks I NAME: node I's WHO no longer lists peer NAME.
who_lacks() {
	who_on "$1" "who$1.out" || return 1
	grep -q "^who ok" "$T/who$1.out" &&
	    ! grep -q " p:$2:" "$T/who$1.out"
}

# -t checks the cluster section: a credentials file others can read is
# refused, naming the key.
NODE_PORT1=$(random_port)
NATS_URLS='"nats://127.0.0.1:4222"'
node_conf 1
ok "secmsgd -t accepts a cluster section" \
    sh -c "'$SECMSGD' -t -c '$T/node1.conf' >/dev/null 2>&1"
: > "$T/creds"
chmod 644 "$T/creds"
node_conf 1 "credentials = \"$T/creds\";"
"$SECMSGD" -t -c "$T/node1.conf" > "$T/t.out" 2>&1
ok "secmsgd -t refuses a credentials file readable by others" \
    grep -q "cluster.credentials .*readable by group or others" "$T/t.out"
node_conf 1 "colour = 1;"
"$SECMSGD" -t -c "$T/node1.conf" > "$T/t.out" 2>&1
ok "secmsgd -t names file, line and key of a bad cluster setting" \
    grep -q "node1.conf:[0-9]*: cluster.colour: unknown setting" "$T/t.out"
unset NODE_PORT1

ok "three NATS servers with JetStream and routes" nats_start_cluster
# Node 1 serves metrics too.
MPORT=$(random_port)
start_nodes() {
	NODE_EXTRA="metrics_listen = \"127.0.0.1:$MPORT\";"
	node_start 1 || return 1
	NODE_EXTRA=
	node_start 2 && node_start 3
}
ok "three secmsgd nodes ready" start_nodes
ok "every node sees the two others" eventually 10 sh -c "
    for i in 1 2 3; do
	[ \$(grep -c 'cluster: node node. joined' $T/node\$i.log) -ge 2 ] ||
	    exit 1
    done"

# Long-lived clients: bob on node 2, carol on node 3 (both in "news"),
# dave on node 2 in "news" too.
ncl bob.bg 2 bob join news touch "$T/bob-ready" waitfile "$T/done" 240 \
    end 1 &
ncl carol.bg 3 carol join news touch "$T/carol-ready" waitfile "$T/done" 240 \
    end 1 &
ncl dave.bg 2 dave join news touch "$T/dave-ready" waitfile "$T/done" 240 \
    end 1 &
wait_for_file() { eventually 10 test -e "$1"; }
ok "clients on nodes 2 and 3 joined" sh -c "
    for f in bob carol dave; do
	i=0; while [ ! -e $T/\$f-ready ] && [ \$i -lt 100 ]; do
	    sleep 0.1; i=\$((i + 1)); done
	[ -e $T/\$f-ready ] || exit 1
    done"

# WHO converges on every node: bob, carol, dave, and news with 3.
ok "WHO on node 1 lists the names of nodes 2 and 3" \
    eventually 5 who_has 1 p:bob:1 p:carol:1 p:dave:1 c:news:3
ok "WHO on node 2 lists carol (node 3) and news:3" \
    eventually 5 who_has 2 p:bob:1 p:carol:1 p:dave:1 c:news:3
ok "WHO on node 3 lists bob and dave (node 2)" \
    eventually 5 who_has 3 p:bob:1 p:carol:1 p:dave:1 c:news:3

# Cross-node SEND: exact counts.
ncl a1.out 1 alice send bob text:hello-bob send carol text:hello-carol \
    send nobody text:x
ok "SEND alice (node 1) to bob (node 2): OK 1 delivered" \
    has a1.out "send ok 1 0"
ok "SEND to carol (node 3) too; to a name on no node: unknown-peer" \
    sh -c "[ \$(grep -c '^send ok 1 0$' $T/a1.out) -eq 2 ] &&
	grep -qx 'send error 3 unknown-peer' $T/a1.out"

# Cross-node PUBLISH: the three subscribers on two other nodes.
ncl p1.out 1 alice publish news text:n1
ok "PUBLISH news from node 1: OK 3 delivered (nodes 2 and 3)" \
    has p1.out "publish ok 3 0"

# Per-sender order across nodes: 40 messages alice -> erin (node 3).
ncl erin.bg 3 erin touch "$T/erin-ready" waitfile "$T/done" 240 end 1 &
wait_for_file "$T/erin-ready"
eventually 5 who_has 1 p:erin:1
ops=""
for n in $(seq -w 1 40); do ops="$ops send erin text:m$n"; done
# shellcheck disable=SC2086
ncl a2.out 1 alice $ops
ok "40 SENDs to erin across nodes: 40 x OK 1" \
    sh -c "[ \$(grep -c '^send ok 1 0$' $T/a2.out) -eq 40 ]"

# A client on node 1 in 1100 channels: node 3, restarted below, learns
# them from a snapshot in parts (1024 entries at most each).
ncl many.bg 1 gina joinmany many- 1100 touch "$T/many-ready" \
    waitfile "$T/done" 240 end 1 &
wait_for_file "$T/many-ready"

# A node killed: its names leave the others' WHO within seconds.
kill -KILL "$(node_pid 3)"
ok "node 3 killed: carol gone from node 1's WHO within 5 s" \
    eventually 5 who_lacks 1 carol
ok "... and from node 2's" eventually 5 who_lacks 2 carol
ok "node 1 logged node 3 silent" \
    eventually 3 grep -q "node node3 silent" "$T/node1.log"
inc1=$(sed -n 's/.*cluster: node=node3 .*inc=\([0-9a-f]*\).*/\1/p' \
    "$T/node3.log" | head -n 1)
mv "$T/node3.log" "$T/node3.old.log"
node_start 3
ok "node 3 restarted: node 1 sees it join with a new incarnation" \
    eventually 8 sh -c "grep 'cluster: node node3 joined inc=' $T/node1.log |
	grep -qv 'inc=$inc1'"
ncl carol2.bg 3 carol join news touch "$T/carol2-ready" waitfile "$T/done" 240 end 1 &
wait_for_file "$T/carol2-ready"
ok "WHO on node 1 lists carol again" eventually 5 who_has 1 p:carol:1
# whoall_on I: the number of entries in node I's WHO.
who_many() {
	ncl whoall3.out 3 frank whoall || return 1
	n=$(sed -n 's/^whoall \([0-9]*\) .*/\1/p' "$T/whoall3.out")
	[ "${n:-0}" -ge 1100 ]
}
ok "restarted node 3 lists node 1's 1100 channels (snapshot in parts)" \
    eventually 10 who_many

# send_ok NODE TO OUT: a SEND from alice on NODE to TO got OK 1.
# A retry may meet the bus still reconnecting: node 1's ERROR unavailable
# answers to retries are tallied in $T/n1-retry-unavail for the metric.
send_ok() {
	ncl "$3" "$1" alice send "$2" text:x
	_r=$?
	[ "$1" = 1 ] && grep -q "error 13 unavailable" "$T/$3" &&
	    echo x >> "$T/n1-retry-unavail"
	[ $_r -eq 0 ] && has "$3" "send ok 1 0"
}

# A NATS server SIGKILLed and restarted: traffic recovers.
kill -KILL "$(nats_pid 1)"
ok "nats-server 1 killed: cross-node SEND works again within 10 s" \
    eventually 10 send_ok 1 bob k1.out
nats_start 1
ok "nats-server 1 back: cross-node SEND node 3 -> node 2" \
    eventually 10 send_ok 3 bob k2.out

# One SIGSTOPped for a few seconds.
kill -STOP "$(nats_pid 2)"
sleep 3
kill -CONT "$(nats_pid 2)"
ok "nats-server 2 stopped 3 s and resumed: SEND node 1 -> node 2" \
    eventually 10 send_ok 1 bob s1.out
ok "... and node 2 -> node 3" eventually 10 send_ok 2 carol s2.out
converged() {
	who_has 1 p:bob:1 p:carol:1 p:dave:1 c:news:3 &&
	    who_has 2 p:bob:1 p:carol:1 p:dave:1 c:news:3 &&
	    who_has 3 p:bob:1 p:carol:1 p:dave:1 c:news:3
}
show_who() {
	converged && return 0
	cut -c1-300 "$T/who1.out" "$T/who2.out" "$T/who3.out" | sed 's/^/# /' 
	return 1
}
ok "WHO converged again on every node" eventually 10 show_who

# A hostile member of the bus: random and almost-right records on the
# presence subject and on node 1's own; a node announcing more names
# than max_names_per_node (2000 here).  Node 1 drops them, counts them in
# its log, and goes on serving.
N1HEX=$(printf node1 | od -An -tx1 | tr -d ' \n')
ok "hostile records published to the bus" sh -c "
    $(command -v timeout) 30 $PY $top_srcdir/tests/integ/natsinject.py \
	$NATS_P3 secmsgtest $N1HEX garbage 200 | grep -q '^published'"
ok "requests from the bus with good and bad DELIVER headers published" sh -c "
    $(command -v timeout) 30 $PY $top_srcdir/tests/integ/natsinject.py \
	$NATS_P3 secmsgtest $N1HEX req many-1 | grep -q '^published'"
ok "node 1 counted malformed records and dropped them" \
    eventually 5 grep -q "malformed records dropped" "$T/node1.log"
ok "... and did not answer a snapshot request for another node" \
    eventually 5 grep -q "snapshot requests for another node ignored" \
    "$T/node1.log"
ok "a node announcing 2500 names is ignored" sh -c "
    $(command -v timeout) 30 $PY $top_srcdir/tests/integ/natsinject.py \
	$NATS_P3 secmsgtest $N1HEX flood 2500 | grep -q '^published'" 
ok "... and logged" eventually 5 grep -q \
    "announcements over max_nodes or max_names_per_node ignored" \
    "$T/node1.log"
no_flood() { who_on 1 who1.out && grep -q "^who ok" "$T/who1.out" &&
    ! grep -q "flood" "$T/who1.out"; }
ok "... none of its names in node 1's WHO" no_flood
# A node "restarting" 1000 times at once (forged heartbeats, each with
# a new incarnation): a few lines in node 1's log, then a count, not a
# line per record.
ok "1000 heartbeats of node storm, each a new incarnation" sh -c "
    $(command -v timeout) 30 $PY $top_srcdir/tests/integ/natsinject.py \
	$NATS_P3 secmsgtest $N1HEX storm 1000 | grep -q '^published'"
ok "... counted in node 1's log" eventually 5 grep -q \
    "more node joins, restarts and presence gaps not logged" "$T/node1.log"
storm_lines() { n=$(grep -c "node storm " "$T/node1.log"); echo "# $n lines"
    [ "$n" -le 100 ]; }
ok "... not one line each" storm_lines
ok "node 1 still serves: cross-node SEND after all that" \
    eventually 5 send_ok 1 bob h1.out

# A node that does not answer (SIGSTOPped): its names are still known,
# so a SEND to one gets ERROR unavailable after reply_timeout (1 s here),
# not a hang; the message may still reach it once it resumes.
kill -STOP "$(node_pid 2)"
t0=$(date +%s)
ncl st.out 1 alice send bob text:late
t1=$(date +%s)
kill -CONT "$(node_pid 2)"
ok "node 2 stopped: a SEND to bob gets ERROR 13 unavailable" \
    has st.out "send error 13 unavailable"
ok "... after the reply timeout, not a hang (within 3 s)" \
    test $((t1 - t0)) -le 3
ok "... and cross-node SEND works again" eventually 10 send_ok 1 bob s3.out

# The bus down: every NATS server stopped.
for i in 1 2 3; do kill -TERM "$(nats_pid "$i")"; done
ok "bus down: every node logged the disconnection" \
    eventually 10 every_node_logs "disconnected from NATS"
ncl frank.bg 1 frank touch "$T/frank-ready" waitfile "$T/done" 240 end 1 &
wait_for_file "$T/frank-ready"
t0=$(date +%s)
ncl d1.out 1 alice send frank text:local send bob text:remote
t1=$(date +%s)
ok "bus down: a local SEND still gets OK 1" has d1.out "send ok 1 0"
ok "bus down: a SEND to a name on another node gets ERROR 13 unavailable" \
    has d1.out "send error 13 unavailable"
ok "... at once (within 2 s)" test $((t1 - t0)) -le 2
ncl d2.out 2 dave publish news text:x
ok "bus down: PUBLISH with subscribers elsewhere: unavailable" \
    has d2.out "publish error 13 unavailable"
# secmsg-client names the code and exits 6 (the request refused).
timeout -k 5 20 "$CLIENT" -s "127.0.0.1:$NODE_PORT1" -i "$T/alice.key" \
    --known-hosts "$T/kh" --accept-new send bob hello \
    > "$T/c.out" 2> "$T/c.err" < /dev/null
crc=$?
ok "secmsg-client: exit 6 and \"unavailable\" for a SEND to another node" \
    sh -c "[ $crc -eq 6 ] && grep -q unavailable '$T/c.err'"

# NATS back with a max_payload below what a message may be: node 1 says
# so when it connects, and a SEND across nodes above it gets ERROR
# unavailable at once, delivered to nobody.
printf 'max_payload: 4096\n' > "$T/small.conf"
nats_start 1 "$T/small.conf"
ok "a max_payload below max_message_size is logged at connect" \
    eventually 10 grep -q "max_payload 4096 is below max_message_size" \
    "$T/node1.log"
ok "cross-node SEND of a small message works again" \
    eventually 10 send_ok 1 bob p1.out
ncl p2.out 1 alice send bob rand:5000
ok "a 5000-byte SEND across nodes: ERROR 13 unavailable" \
    has p2.out "send error 13 unavailable"
# A subscriber of news on node 1 as well: the refusal comes before any
# delivery, so it gets nothing either.
ncl near.bg 1 frank join news touch "$T/near-ready" waitfile "$T/done" 240 \
    end 1 &
wait_for_file "$T/near-ready"
ncl p3.out 1 alice publish news rand:5000
ok "a 5000-byte PUBLISH with subscribers here and elsewhere: unavailable" \
    has p3.out "publish error 13 unavailable"

# Every ERROR unavailable node 1 answered is counted: the stopped node,
# the bus down (SEND, and secmsg-client's), the two too large.
timeout -k 5 30 "$PY" "$top_srcdir/tests/integ/metrics.py" get \
    "127.0.0.1:$MPORT" /metrics "$T/m1" > "$T/m1.status" 2>&1
retries=$(cat "$T/n1-retry-unavail" 2>/dev/null | wc -l)
ok "node 1's metrics: secmsgd_unavailable_total 5 (+$retries retries)" \
    grep -qx "secmsgd_unavailable_total $((5 + retries))" "$T/m1"

touch "$T/done"
# The clients print what they were delivered once they stop waiting.
sleep 2
late=$("$PY" -c 'import hashlib; print(hashlib.sha256(b"late").hexdigest()[:16])')
h() { "$PY" -c "import hashlib; print(hashlib.sha256(b'$1').hexdigest()[:16])"; }
ok "a request from the bus reaches gina only with a DELIVER header for its channel" \
    sh -c "grep -q '^deliver intruder many-1 8 $(h inj-good)' '$T/many.bg' &&
	! grep -q ' $(h inj-bad) *\$' '$T/many.bg' &&
	! grep -q ' $(h inj-bad2) *\$' '$T/many.bg'"
ok "node 2 resumed after the timeout: bob got the message after all" \
    grep -q "^deliver alice - 4 $late" "$T/bob.bg"
ok "... and never the 5000-byte one refused as unavailable" \
    sh -c "! grep -q '^deliver alice - 5000 ' '$T/bob.bg'"
ok "nor did node 1's own subscriber get the refused PUBLISH" \
    sh -c "grep -q '^join ok' '$T/near.bg' &&
	! grep -q '^deliver alice news 5000 ' '$T/near.bg'"
for i in 1 2 3; do kill -TERM "$(node_pid "$i")" 2>/dev/null; done
sleep 1
ok "no node crashed (no sanitizer report, no fatal)" sh -c "
    ! grep -Eq 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error|fatal' $T/node1.log $T/node2.log $T/node3.log $T/node3.old.log"
# The digests of m01..m40, in order, as swarm.py prints them.
"$PY" -c 'import hashlib
for n in range(1, 41):
    print(hashlib.sha256(b"m%02d" % n).hexdigest()[:16])' > "$T/want.order"
sed -n 's/^deliver alice - 3 //p' "$T/erin.bg" > "$T/got.order"
ok "erin got the 40 messages, each once, in order" \
    cmp -s "$T/want.order" "$T/got.order"

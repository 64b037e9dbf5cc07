#!/bin/sh
# tests/integ/cluster-durable.sh: what durable delivery (DSEND, DPUBLISH,
# DJOIN; doc/PROTOCOL.md section 11) does today when the nodes form a
# cluster (issue 18).  Durable delivery across nodes through JetStream is
# not built yet: each node keeps its own LMDB store, and this test pins
# down that behaviour, the limitation secmsgd-cluster(7) documents:
#
#  - a DSEND is stored on the node that accepted it, whatever node the
#    recipient is connected to; the recipient gets it only from that node
#    (the OK says stored=1 delivered=0; nothing on its own node);
#  - its plain copy does not cross nodes either, where a SEND would;
#  - a node killed keeps its mailboxes on disk but nobody can fetch them
#    until it restarts on the same state_dir;
#  - a DJOIN is recorded on the node that got it only: a DPUBLISH on
#    another node stores nothing for that subscriber (stored=0) and its
#    plain copy reaches no JOINed connection on another node.
#
# Three nats-server processes, three secmsgd nodes with store = "lmdb";
# the clients are durable.py and durable-sub.py on the nodes' listeners.

. "${top_srcdir:-.}/tests/integ/lib.sh"
. "${top_srcdir:-.}/tests/integ/libnats.sh"

[ -n "$NATS_SERVER" ] || skip_all "no nats-server (Debian package nats-server)"
[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"
printf 'listen = [ "127.0.0.1:1" ];\nstate_dir = "%s";\ncluster = { servers = [ "nats://127.0.0.1:1" ]; };\n' \
    "$T" > "$T/probe.conf"
"$SECMSGD" -t -c "$T/probe.conf" 2>&1 | grep -q "not supported by this build" &&
    skip_all "secmsgd built without libnats (configure --with-nats)"

plan 18

for k in alice bob carol; do
	keygen "$k"
	authorize "$k"
done
DPY="$top_srcdir/tests/integ/durable.py"
DSP="$top_srcdir/tests/integ/durable-sub.py"
K0=00000000000000000000000000000000
K1=000102030405060708090a0b0c0d0e0f

# skey I: node I's server key (base64), for the clients to check.
skey() { "$SECMSGD" -p -c "$T/node$1.conf" 2>/dev/null | head -n 1; }
# d OUT NODE WHO FEATURES CMD ARGS...: durable.py on node NODE.
d() {
	_o=$1 _n=$2 _w=$3 _f=$4
	shift 4
	eval "_p=\$NODE_PORT$_n"
	timeout -k 10 30 "$PY" "$DPY" "$_p" "$(skey "$_n")" "$T/$_w.key" \
	    "$_f" "$@" > "$T/$_o" 2>&1
}
# ds OUT NODE CMD ARGS...: durable-sub.py on node NODE.
ds() {
	_o=$1 _n=$2
	shift 2
	eval "_p=\$NODE_PORT$_n"
	timeout -k 10 30 "$PY" "$DSP" "$_p" "$(skey "$_n")" "$T" "$@" \
	    > "$T/$_o" 2>&1
}
# who_has I ENTRY...: node I's WHO lists every ENTRY.
who_has() {
	_n=$1
	shift
	ncl "who$_n.out" "$_n" carol who || return 1
	for e in "$@"; do
		grep -q "^who ok.* $e\( \|$\)" "$T/who$_n.out" || return 1
	done
}

ok "three NATS servers with JetStream and routes" nats_start_cluster
NODE_EXTRA='store = "lmdb";
store_map_size = 16;'
start_nodes() { node_start 1 && node_start 2 && node_start 3; }
ok "three secmsgd nodes with a store each" start_nodes
ok "every node sees the two others" eventually 10 sh -c "
    for i in 1 2 3; do
	[ \$(grep -c 'cluster: node node. joined' $T/node\$i.log) -ge 2 ] ||
	    exit 1
    done"
d f.out 2 bob 2 features
ok "a clustered node with a store offers durable delivery (feature bit 1)" \
    has f.out "features 15"

# Bob has a plain connection (no bit 1) on node 2, joined to "ch".
ncl bob.bg 2 bob join ch touch "$T/bob-ready" waitfile "$T/done" 60 end 1 &
eventually 10 test -e "$T/bob-ready"
eventually 5 who_has 1 p:bob:1 c:ch:1

# ------------------------------------------------------------ DSEND
d s1.out 1 alice 2 dsend bob d1 "$K1"
ok "DSEND alice (node 1) to bob (on node 2): stored on node 1, copied to \
nobody" has s1.out "ok msgid=1 flags=0 stored=1 full=0 delivered=0 skipped=0"
ncl s2.out 1 alice send bob text:live1
ok "while a SEND from node 1 reaches bob on node 2" has s2.out "send ok 1 0"
d b2.out 2 bob 2 fetch 1
ok "bob's durable connection on node 2: nothing stored there" \
    sh -c "grep -qx 'drained 0 0' '$T/b2.out' &&
	! grep -q '^stored' '$T/b2.out' && grep -qx 'pending 0 0' '$T/b2.out'"
d b1.out 1 bob 2 fetch 0
ok "bob on node 1 gets it: the mailbox is the accepting node's" \
    sh -c "grep -qx 'stored 1 0 alice - d1' '$T/b1.out' &&
	grep -qx 'pending 1 2' '$T/b1.out'"

# Node 1 killed: its mailboxes are unreachable until it restarts.
d s3.out 1 alice 2 dsend bob d2 "$K0"
kill -KILL "$(node_pid 1)"
ok "node 1 killed after storing d2; node 2 notices within 5 s" \
    eventually 5 grep -q "node node1 silent" "$T/node2.log"
d s4.out 3 alice 2 dsend bob d3 "$K0"
ok "meanwhile a DSEND to bob on node 3 is stored there" \
    has s4.out "ok msgid=1 flags=0 stored=1 full=0 delivered=0 skipped=0"
d b3.out 2 bob 2 fetch 1
ok "bob on node 2 still gets neither d1, d2 nor d3" \
    sh -c "grep -qx 'drained 0 0' '$T/b3.out' && ! grep -q '^stored' '$T/b3.out'"
mv "$T/node1.log" "$T/node1.old.log"
node_start 1
d b4.out 1 bob 2 fetch 1
ok "node 1 back on its state_dir: bob gets d1 again (a redelivery) and d2" \
    sh -c "grep -qx 'stored 1 1 alice - d1' '$T/b4.out' &&
	grep -qx 'stored 2 0 alice - d2' '$T/b4.out' &&
	grep -qx 'ack removed 2' '$T/b4.out'"
d b5.out 3 bob 2 fetch 1
ok "and d3 only from node 3" \
    sh -c "grep -qx 'stored 1 0 alice - d3' '$T/b5.out' &&
	grep -qx 'ack removed 1' '$T/b5.out'"

# ------------------------------------------------------------ DJOIN
ds j.out 2 djoin bob alerts
ok "bob DJOINs alerts on node 2" has j.out "ok"
ds p1.out 1 dpublish alice alerts a1 "$K0"
ok "DPUBLISH alerts on node 1: stored for nobody (msgid 0)" \
    has p1.out "ok msgid=0 flags=0 stored=0 full=0 delivered=0 skipped=0"
ds p2.out 2 dpublish alice alerts a2 "$K0"
ok "the same on node 2: stored for bob" \
    has p2.out "ok msgid=1 flags=0 stored=1 full=0 delivered=0 skipped=0"
ds p3.out 1 dpublish alice ch c1 "$K0"
ncl p4.out 1 alice publish ch text:c2
ok "DPUBLISH ch on node 1: no plain copy to bob's JOIN on node 2, where \
PUBLISH reaches it" sh -c "
    grep -qx 'ok msgid=0 flags=0 stored=0 full=0 delivered=0 skipped=0' \
	'$T/p3.out' && grep -qx 'publish ok 1 0' '$T/p4.out'"

touch "$T/done"
for i in 1 2 3; do kill -TERM "$(node_pid "$i")" 2>/dev/null; done
sleep 1
ok "no node crashed (no sanitizer report, no fatal)" sh -c "
    ! grep -Eq 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error|fatal' $T/node[123].log $T/node1.old.log"

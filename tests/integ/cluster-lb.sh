#!/bin/sh
# tests/integ/cluster-lb.sh: the cluster behind HAProxy, and the death of a
# node (issue 18).  Three nats-server processes, three secmsgd nodes each
# with a PROXY protocol v2 listener trusting 127.0.0.1 and ::1 only, and
# HAProxy in front (mode tcp, balance leastconn, send-proxy-v2, health
# checks every 500 ms, redispatch), as in secmsgd-cluster(7)'s example.
# Clients connect only through HAProxy, each from its own address among
# 127.0.0.2-7; the nodes' plain listeners serve the test's own WHO per
# node and one client pinned to the node that is killed.
#
# Shown: the clients land on different nodes (secmsgctl sessions on each
# node) with their own address, logged as such; SEND, PUBLISH and WHO
# work across nodes whatever node each client is on.  Then the node of a
# subscriber is SIGKILLed while a publisher on another node streams a
# PUBLISH every 50 ms: the subscriber connects again through HAProxy,
# which sends it to a live node; the dead node's names leave WHO within
# node_expiry (3 s here) and a little; every message published once WHO
# has converged reaches every subscriber (OK 3), once, in order; no
# subscriber gets a message nobody published, nor one twice, nor out of
# order.  The node restarted is a new incarnation, HAProxy sends it the
# next client, and it serves cross-node traffic.

. "${top_srcdir:-.}/tests/integ/lib.sh"
. "${top_srcdir:-.}/tests/integ/libnats.sh"
. "${top_srcdir:-.}/tests/integ/libcluster.sh"

CTL="$top_builddir/src/secmsgctl"
LB="$top_srcdir/tests/integ/lbclient.py"
[ -n "$NATS_SERVER" ] || skip_all "no nats-server (Debian package nats-server)"
have_haproxy || skip_all "no haproxy (Debian package haproxy)"
[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"
[ -x "$CTL" ] || skip_all "no secmsgctl binary"
printf 'listen = [ "127.0.0.1:1" ];\nstate_dir = "%s";\ncluster = { servers = [ "nats://127.0.0.1:1" ]; };\n' \
    "$T" > "$T/probe.conf"
"$SECMSGD" -t -c "$T/probe.conf" 2>&1 | grep -q "not supported by this build" &&
    skip_all "secmsgd built without libnats (configure --with-nats)"

plan 36

for k in alice bob carol dave erin frank gina; do
	keygen "$k"
	authorize "$k"
done

wait_for_file() { eventually "${2:-10}" test -e "$1"; }
# who_has I ENTRY...: node I's WHO (asked on its plain listener) lists
# every ENTRY (kind:name:count).
who_has() {
	_n=$1
	shift
	ncl "who$_n.out" "$_n" frank who || return 1
	for e in "$@"; do
		grep -q "^who ok.* $e\( \|$\)" "$T/who$_n.out" || return 1
	done
}
# who_lacks I NAME: node I's WHO does not list peer NAME.
who_lacks() {
	ncl "who$1.out" "$1" frank who || return 1
	grep -q "^who ok" "$T/who$1.out" && ! grep -q " p:$2:" "$T/who$1.out"
}
# node_of NAME: NODE_OF, the node (1-3) where NAME has a session, by
# secmsgctl sessions on each live node, and PEER_OF, its peer address.
node_of() {
	NODE_OF='' PEER_OF=''
	for _i in 1 2 3; do
		[ "$(eval echo "\${DEAD$_i:-0}")" = 1 ] && continue
		timeout 10 "$CTL" -s "$T/n$_i/control.sock" --json sessions \
		    > "$T/sess$_i.json" 2>/dev/null || continue
		PEER_OF=$("$PY" -c 'import json, sys
print(" ".join(s["peer"] for s in json.load(open(sys.argv[1]))
               if s["name"] == sys.argv[2]))' "$T/sess$_i.json" "$1")
		[ -n "$PEER_OF" ] && { NODE_OF=$_i; return 0; }
	done
	return 1
}
# lb OUT KEY SRC OPS...: a scripted client through HAProxy from SRC.
lb() {
	_o=$1 _k=$2 _s=$3
	shift 3
	swarm client "$FE" "$T/$_k.key" --src "$_s" "$@" > "$T/$_o" 2>&1
}

ok "three NATS servers with JetStream and routes" nats_start_cluster
NODE_PROXY=1
start_nodes() { node_start 1 && node_start 2 && node_start 3; }
ok "three secmsgd nodes ready, each with a PROXY listener" start_nodes
ok "every node sees the two others" eventually 10 sh -c "
    for i in 1 2 3; do
	[ \$(grep -c 'cluster: node node. joined' $T/node\$i.log) -ge 2 ] ||
	    exit 1
    done"

# HAProxy as in secmsgd-cluster(7): leastconn, so that the three
# subscribers below, connected one after the other, land on three nodes;
# a connection refused by a dead node goes to another (redispatch).
HAPROXY_BALANCE=leastconn
HAPROXY_EXTRA='	option redispatch
	retries 2'
start_haproxy lb "127.0.0.1:$NODE_PPORT1" "127.0.0.1:$NODE_PPORT2" \
    "127.0.0.1:$NODE_PPORT3" || { echo "Bail out! no haproxy"; exit 1; }
FE=$HAPROXY_PORT
ok "haproxy: the three nodes pass its health checks" haproxy_wait_up lb 3

# Three subscribers of news through HAProxy, one after the other, each
# from its own address; they live through the death of their node.
sub() {
	timeout -k 5 200 "$PY" "$LB" sub "$FE" "$T/$1.key" "$2" news \
	    "$T/$1-ready" "$T/subs-stop" 180 > "$T/$1.sub" 2>&1 &
	PIDS="$PIDS $!"
	eval "SUBPID_$1=$!"
	wait_for_file "$T/$1-ready.1"
}
SRC_bob=127.0.0.3 SRC_carol=127.0.0.4 SRC_dave=127.0.0.5
subs() { sub bob $SRC_bob && sub carol $SRC_carol && sub dave $SRC_dave; }
ok "bob, carol and dave joined news through haproxy" subs
node_of bob; NB=$NODE_OF PB=$PEER_OF
node_of carol; NC=$NODE_OF PC=$PEER_OF
node_of dave; ND=$NODE_OF PD=$PEER_OF
echo "# bob on node $NB from $PB, carol on $NC from $PC, dave on $ND from $PD"
ok "secmsgctl sessions: bob, carol and dave on three different nodes" \
    sh -c "[ -n '$NB' ] && [ -n '$NC' ] && [ -n '$ND' ] &&
	[ '$NB' != '$NC' ] && [ '$NB' != '$ND' ] && [ '$NC' != '$ND' ]"
ok "... each at its own address, not haproxy's" sh -c "
    case '$PB' in 127.0.0.3:*) ;; *) exit 1;; esac
    case '$PC' in 127.0.0.4:*) ;; *) exit 1;; esac
    case '$PD' in 127.0.0.5:*) ;; *) exit 1;; esac"
ok "bob's node logged him accepted peer=127.0.0.3 proxy=127.0.0.1" \
    grep -Eq "accepted peer=127\.0\.0\.3:[0-9]+ proxy=127\.0\.0\.1:" \
    "$T/node$NB.log"

for i in 1 2 3; do
	ok "WHO on node $i lists bob, carol, dave and news:3" \
	    eventually 5 who_has "$i" p:bob:1 p:carol:1 p:dave:1 c:news:3
done

# Alice through HAProxy: SEND to each, PUBLISH, WHO; at least two of the
# three recipients are on other nodes than hers.
lb a1.out alice 127.0.0.2 send bob text:hi-bob send carol text:hi-carol \
    send dave text:hi-dave publish news text:n1 who
NA=$(grep -l "accepted peer=127\.0\.0\.2:" "$T"/node[123].log | head -n 1 |
    sed 's/.*node\([123]\)\.log/\1/')
echo "# alice landed on node $NA"
ok "SEND from alice to bob, carol and dave: OK 1 each" \
    sh -c "[ \$(grep -c '^send ok 1 0$' $T/a1.out) -eq 3 ] && [ -n '$NA' ]"
ok "PUBLISH news: OK 3 (subscribers on three nodes)" has a1.out \
    "publish ok 3 0"
ok "WHO through haproxy lists the whole service" \
    grep -q "^who ok.* c:news:3 .*p:bob:1 p:carol:1 p:dave:1" "$T/a1.out"
got_all() {
	for n in bob carol dave; do
		grep -q "^deliver 1 alice - hi-$n$" "$T/$n.sub" &&
		    grep -q "^deliver 1 alice news n1$" "$T/$n.sub" || return 1
	done
}
ok "each got its SEND and the PUBLISH, whatever its node" eventually 5 got_all

# ------------------------------------------------------------ a node dies
# The publisher, through HAProxy from 127.0.0.2: a PUBLISH every 50 ms.
timeout -k 5 200 "$PY" "$LB" pub "$FE" "$T/alice.key" 127.0.0.2 news alice \
    "$T/mark" "$T/pub-stop" 150 0.05 > "$T/pub.out" 2>&1 &
PUBPID=$!
PIDS="$PIDS $PUBPID"
eventually 10 sh -c "[ \$(grep -c '^pub [0-9]* ok 3 ' $T/pub.out) -ge 20 ]"
node_of alice; NP=$NODE_OF
# The victim: the node of a subscriber who is not on the publisher's.
for s in bob carol dave; do
	eval "n=\$N$(echo $s | cut -c1 | tr a-z A-Z)"
	[ "$n" != "$NP" ] && { VS=$s V=$n; break; }
done
echo "# publisher on node $NP; killing node $V, $VS's"
ok "the stream flows: 20 PUBLISHes OK 3, publisher on another node" \
    sh -c "[ -n '$NP' ] && [ -n '$V' ] && [ '$NP' != '$V' ]"
# Erin, pinned to the victim on its plain listener, will not come back.
ncl erin.bg "$V" erin touch "$T/erin-ready" waitfile "$T/done" 200 end 1 &
wait_for_file "$T/erin-ready"
S1=$(( V % 3 + 1 ))
S2=$(( S1 % 3 + 1 ))
eventually 5 who_has "$S1" p:erin:1 && eventually 5 who_has "$S2" p:erin:1
sleep 1
inc1=$(sed -n 's/.*cluster: node=node'"$V"' .*inc=\([0-9a-f]*\).*/\1/p' \
    "$T/node$V.log" | head -n 1)
kill -KILL "$(node_pid "$V")"
DEAD_AT=$(date +%s)
eval "DEAD$V=1"
ok "$VS connected again through haproxy within 10 s" \
    wait_for_file "$T/$VS-ready.2" 10
node_of "$VS"; NV=$NODE_OF PV=$PEER_OF
echo "# $VS now on node $NV from $PV"
eval "VSRC=\$SRC_$VS"
ok "... on a live node, from its own address (secmsgctl sessions)" \
    sh -c "[ -n '$NV' ] && [ '$NV' != '$V' ] &&
	case '$PV' in $VSRC:*) exit 0;; esac; exit 1"
ok "erin (the dead node's) left WHO on node $S1 within node_expiry + 2 s" \
    eventually $((DEAD_AT + 5 - $(date +%s))) who_lacks "$S1" erin
ok "... and on node $S2" \
    eventually $((DEAD_AT + 5 - $(date +%s))) who_lacks "$S2" erin
converged() {
	who_has "$S1" p:bob:1 p:carol:1 p:dave:1 c:news:3 &&
	    who_has "$S2" p:bob:1 p:carol:1 p:dave:1 c:news:3
}
ok "WHO converged on the live nodes: $VS once, news:3" eventually 5 converged
# From here on every PUBLISH must reach the three subscribers.
touch "$T/mark"
eventually 10 sh -c "grep -q '^mark' $T/pub.out"
# 25 PUBLISHes after the mark (about 2 s), however loaded the machine.
after_mark() {
	_m=$(sed -n 's/^mark //p' "$T/pub.out")
	[ -n "$_m" ] && grep -q "^pub $((_m + 24)) " "$T/pub.out"
}
eventually 30 after_mark
touch "$T/pub-stop"
eventually 10 sh -c "! kill -0 $PUBPID 2>/dev/null"
sleep 1
echo "# stream: $(grep -c '^pub ' "$T/pub.out") PUBLISHes, $(grep -c \
    '^pub .* ok 3 ' "$T/pub.out") OK 3, $(grep -c '^pub .* ok 2 ' \
    "$T/pub.out") OK 2, $(grep -c '^pub .* error 13' "$T/pub.out") unavailable; $(grep '^mark' "$T/pub.out")"

# check_stream MODE SUB...: the stream's facts from pub.out and the
# subscribers' outputs (see each mode); what is wrong goes out as "# ".
check_stream() {
	"$PY" - "$T" "$@" <<'EOF'
import re, sys
t, mode, subs = sys.argv[1], sys.argv[2], sys.argv[3:]
oks, sent, mark = {}, set(), None
for l in open(t + "/pub.out"):
    f = l.split()
    if f[:1] == ["mark"]:
        mark = int(f[1])
    elif f[:1] == ["pub"]:
        sent.add(int(f[1]))
        if f[2] == "ok":
            oks[int(f[1])] = int(f[3])
bad = []
if mode == "after-mark":
    after = [s for s in sent if mark is not None and s >= mark]
    if len(after) < 20:
        bad.append("%d PUBLISHes after the mark (%s)" % (len(after), mark))
    bad += ["PUBLISH %d after the mark: OK %s" % (s, oks.get(s))
            for s in sorted(after) if oks.get(s) != 3]
# The other messages the subscribers may get, besides the stream.
known = {("alice", "news", "n1"), ("gina", "news", "g1")}
for sub in subs:
    known_here = known | {("alice", "-", "hi-" + sub),
                          ("gina", "-", "g-" + sub)}
    got = []
    for l in open("%s/%s.sub" % (t, sub)):
        f = l.split()
        if f[:1] != ["deliver"]:
            continue
        m = re.match(r"alice-(\d{5})$", f[4]) if f[2:4] == [
            "alice", "news"] else None
        if m:
            got.append(int(m.group(1)))
        elif tuple(f[2:5]) not in known_here:
            bad.append("%s got what nobody sent: %s" % (sub, l.strip()))
    if mode == "sane":
        if len(set(got)) != len(got):
            bad.append("%s got a message twice" % sub)
        if got != sorted(got):
            bad.append("%s got the stream out of order" % sub)
        if not set(got) <= sent:
            bad.append("%s got %s, never published" % (
                sub, sorted(set(got) - sent)[:5]))
    elif mode == "after-mark":
        miss = [s for s in sent if s >= mark and s not in got]
        if miss:
            bad.append("%s missed %s" % (sub, sorted(miss)[:10]))
    elif mode == "all-ok":
        miss = [s for s in oks if s not in got]
        if miss:
            bad.append("%s missed %s, answered OK" % (sub, sorted(miss)[:10]))
for b in bad[:10]:
    print("# " + b)
sys.exit(1 if bad else 0)
EOF
}
SURV=$(for s in bob carol dave; do [ "$s" != "$VS" ] && echo "$s"; done)
ok "the publisher went on through it all; after the mark, OK 3 each" \
    check_stream after-mark
ok "$VS got every message published after the mark" \
    check_stream after-mark "$VS"
ok "no subscriber got a message twice, out of order, or never published" \
    check_stream sane bob carol dave
# shellcheck disable=SC2086
ok "the subscribers on live nodes got every PUBLISH answered OK" \
    check_stream all-ok $SURV
ok "the publishes while the node was dying: OK 2 or ERROR unavailable" \
    sh -c "! grep -Ev '^pub [0-9]+ (ok [23] 0|error 13)$|^(connected|mark|end) ' \
	$T/pub.out | grep -q ."

# ------------------------------------------------------------ it comes back
mv "$T/node$V.log" "$T/node$V.old.log"
node_start "$V" || echo "# node $V did not restart"
eval "DEAD$V=0"
ok "node $V restarted: node $S1 sees it join with a new incarnation" \
    eventually 8 sh -c "grep 'cluster: node node$V joined inc=' \
	$T/node$S1.log | grep -qv 'inc=$inc1'"
ok "haproxy marks it up again" haproxy_wait_up lb 3
# The restarted node has no client: leastconn sends it the next one.
lb g.out gina 127.0.0.6 touch "$T/gina-in" send "$VS" "text:g-$VS" \
    publish news text:g1 waitfile "$T/gina-go" 20 &
GPID=$!
wait_for_file "$T/gina-in"
node_of gina; NG=$NODE_OF
touch "$T/gina-go"
wait "$GPID"
ok "gina through haproxy lands on the restarted node $V" test "$NG" = "$V"
ok "from it, SEND to $VS on node $NV: OK 1" has g.out "send ok 1 0"
ok "... and PUBLISH news: OK 3" has g.out "publish ok 3 0"
ok "WHO on the restarted node lists the whole service" \
    eventually 5 who_has "$V" p:bob:1 p:carol:1 p:dave:1 c:news:3
ok "the dead node's erin is not among them" who_lacks "$V" erin

touch "$T/subs-stop" "$T/done"
for s in bob carol dave; do
	eval "p=\$SUBPID_$s"
	wait "$p"
done
ok "$VS got gina's SEND, once, from the restarted node" \
    sh -c "[ \$(grep -c '^deliver [0-9] gina - g-$VS$' $T/$VS.sub) -eq 1 ]"
ok "the subscribers' sessions each ended cleanly, $VS's lost once" sh -c "
    for s in bob carol dave; do grep -q '^end ' $T/\$s.sub || exit 1; done
    [ \$(grep -c '^lost ' $T/$VS.sub) -eq 1 ]"
stop_haproxy lb
for i in 1 2 3; do kill -TERM "$(node_pid "$i")" 2>/dev/null; done
sleep 1
ok "no node crashed (no sanitizer report, no fatal)" sh -c "
    ! grep -Eq 'ERROR: (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer|runtime error|fatal' $T/node[123].log $T/node$V.old.log"

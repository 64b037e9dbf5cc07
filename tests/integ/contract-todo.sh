#!/bin/sh
# tests/integ/contract-todo.sh: the points where secmsgd does not keep to
# doc/PROTOCOL.md yet (issue 14, "where the daemon and the document
# disagree").  Each test states the documented behaviour; every one of
# them fails with the daemon as it is, so this file is not in TESTS yet:
# it joins them with the daemon fixes.
#   - complete requests before an end in the middle of a frame are
#     answered, also when their replies wait for another loop (7.6);
#   - a client over max_connections gets REFUSED server-full (4.2).

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"

# Two session loops, whatever the suite's own setting.
SECMSG_TEST_CONF=""

for k in alice bob carol far; do
	keygen "$k"
	authorize "$k"
done
start_daemon 'workers = 2;
idle_timeout = 5;
max_message_size = 16384;
max_output_buffer = 98304;
slow_consumer_timeout = 1;
handshake_rate = 0;
log_level = "info";' || exit 1

# -------------------------------------- mid-frame end, replies from afar
# far, then alice: one after the other, they sit on the two loops.
cl far.bg far end 6 &
PIDS="$PIDS $!"
wait_for "$T/daemon.log" "authenticated name=far " 50
cl mid.out alice midclose far 3
loop_of() {
	sed -n "s/.* authenticated name=$1 .* loop=\([0-9]*\)$/\1/p" \
	    "$T/daemon.log" | head -n 1
}
ok "far and alice sit on different loops ($(loop_of far) $(loop_of alice))" \
    test -n "$(loop_of far)" -a "$(loop_of far)" != "$(loop_of alice)"
ok "an end mid-frame: SENDs answered from another loop still answered" \
    has mid.out "midclose in-order 3"
ok "... then the stream ends" has mid.out eof

stop_daemon

# ------------------------------------------------------ server-full
start_daemon 'max_connections = 1;
handshake_rate = 0;
log_level = "info";' || exit 1
swarm hold "$PORT" 1 "$T/stop-hold" --hs "$T/alice.key" > "$T/hold.out" 2>&1 &
HOLD=$!
PIDS="$PIDS $HOLD"
wait_for "$T/hold.out" "^open 0" 100
cl full.out bob ping
touch "$T/stop-hold"
wait "$HOLD"
ok "at max_connections, a client gets REFUSED server-full" \
    grep -q '^refused 17 server-full' "$T/full.out"
ok "... then the end of the stream" has full.out eof
stop_daemon
ok "daemon exits 0 on SIGTERM (status $DSTATUS)" test "$DSTATUS" -eq 0

plan "$TAP_N"

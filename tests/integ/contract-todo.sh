#!/bin/sh
# tests/integ/contract-todo.sh: the points where secmsgd does not keep to
# doc/PROTOCOL.md yet (issue 14, "where the daemon and the document
# disagree").  Each test states the documented behaviour; every one of
# them fails with the daemon as it is, so this file is not in TESTS yet:
# it joins them with the daemon fixes.
#   - a client over max_connections gets REFUSED server-full (4.2).

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"

for k in alice bob; do
	keygen "$k"
	authorize "$k"
done

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

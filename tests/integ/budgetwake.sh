#!/bin/sh
# tests/integ/budgetwake.sh: a connection paused for its loop's budget is
# woken when the budget is freed by connections that close while holding
# it (here: reservations of messages in several records, never finished).

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"
SECMSG_TEST_CONF=""

plan 3

keygen alice
keygen bob
authorize alice
authorize bob
# One loop; its budget B = max_output_buffer (192 KiB), the reserve as
# much again: six messages of 64 KiB under way (seven here), each reserving
# its worst case, fill B + reserve, and the next reader must wait.
start_daemon 'workers = 1;
idle_timeout = 120;
max_connections_per_address = 64;
handshake_rate = 0;
max_message_size = 65536;
max_output_buffer = 196608;
max_total_output = 196608;' || exit 1

for k in 0 1 2 3 4 5 6; do
	cl "p$k.out" alice partial bob 65536 \
	    waitfile "$T/vsent" 30 sleep 1 &
	PIDS="$PIDS $!"
done
for k in 0 1 2 3 4 5 6; do
	wait_for "$T/p$k.out" '^partial sent' 300
done
n=$(cat "$T"/p?.out | grep -c "^partial sent")
ok "seven messages started ($n)" test "$n" -eq 7
# Bob's PING arrives while the budget is full: it waits.  Then every
# holder goes away; nothing else happens on the loop.
cl v.out bob pingnowait touch "$T/vsent" recv 20 &
V=$!
PIDS="$PIDS $V"
wait "$V"
ok "the waiting connection is answered once the holders are gone" \
    grep -q '^ok id=' "$T/v.out"
stop_daemon
ok "daemon exits 0" test "$DSTATUS" -eq 0

#!/bin/sh
# tests/integ/contract2.sh: the points where secmsgd did not keep to
# doc/PROTOCOL.md (issue 14, "where the daemon and the document
# disagree"), each stated as the documented behaviour.
#   - a SEND whose only recipient is skipped for size: ERROR too-large,
#     not busy (PROTOCOL.md 7.2);
#   - a client that sends only REKEY records is not idle (4.2);
#   - after GOODBYE or REFUSED the stream ends with a FIN, never a reset,
#     even with input unread (7.6);
#   - a slow consumer gets GOODBYE slow before the close (7.4);
#   - complete requests before an end in the middle of a frame are
#     answered, also when their replies wait for another loop (7.6);
#   - a client over max_connections (authenticated connections, on
#     every loop) gets REFUSED server-full, then a FIN (4.2).

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

# ------------------------------------------------ only REKEY: not idle
cl idle.bg alice rekeyevery 0.5 8 ping &
IDLE=$!
PIDS="$PIDS $IDLE"

# -------------------------------------------- skipped for size: too-large
cl small.bg bob --maxmsg 1024 join big touch "$T/small-ready" \
    waitfile "$T/small-go" 20 end 1 &
PIDS="$PIDS $!"
i=0
while [ ! -f "$T/small-ready" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
cl size.out carol send bob bin:1000 send bob bin:1020 publish big bin:1020
touch "$T/small-go"
ok "SEND whose DELIVER fits the recipient: delivered (control)" \
    has size.out "send ok 1 0"
ok "SEND whose only recipient is skipped for size: ERROR too-large" \
    has size.out "send error 6 too-large"
ok "PUBLISH in the same case: OK 0 1" has size.out "publish ok 0 1"

# ------------------------------------------------ GOODBYE, then a FIN
cl rst.out alice burst 100 07 next 5 next 5
ok "GOODBYE with input unread behind the bad request: it arrives" \
    grep -q '^got 860002' "$T/rst.out"
ok "... and the stream then ends with a FIN, not a reset" has rst.out eof
keygen stranger
swarm hs "$PORT" "$T/stranger.key" \
    "$(printf '%02x%08x%08x%08x%08x' 1 0 1048576 0 0)" \
    "$(printf '%02x%08x%08x%08x%08x' 1 0 1048576 0 0)" --junk 50 \
    > "$T/refused.out" 2>&1
ok "REFUSED with frames unread behind message 3: it arrives" \
    has refused.out "first refused 16"
ok "... and the stream then ends with a FIN, not a reset" \
    has refused.out eof

# ---------------------------------------------------- GOODBYE slow
SWARM_TIMEOUT=60 swarm slowbye "$PORT" "$T/alice.key" "$T/carol.key" \
    slowch 16000 30 > "$T/slow.out" 2>&1
sed 's/^/# slow: /' "$T/slow.out"
ok "a slow consumer is dropped (the publisher sees it gone)" \
    has slow.out "publisher gone"
ok "... and reads GOODBYE slow as its last message" \
    grep -Eq '^subscriber [0-9]+ last goodbye 21$' "$T/slow.out"
ok "... then the end of the stream" has slow.out eof

wait "$IDLE"
sed 's/^/# idle: /' "$T/idle.bg"
ok "a client sending only REKEY records for 8 s (idle 5 s) is not idle" \
    sh -c "grep -q '^rekeyevery ' '$T/idle.bg' && grep -qx 'ping ok' '$T/idle.bg' && ! grep -q goodbye '$T/idle.bg'"
stop_daemon
ok "daemon exits 0 on SIGTERM (status $DSTATUS)" test "$DSTATUS" -eq 0

# ------------------------------------------------------ server-full
# max_connections counts authenticated connections on every loop (two
# here: consecutive handshakes go to each in turn); a handshake in
# progress takes no place among them (max_handshakes bounds those).
start_daemon 'workers = 2;
max_connections = 2;
handshake_timeout = 60;
handshake_rate = 0;
log_level = "info";' || exit 1
rm -f "$T/stop-hold" "$T/stop-half"
swarm hold "$PORT" 1 "$T/stop-half" --src 127.0.0.2 > "$T/half.out" 2>&1 &
PIDS="$PIDS $!"
wait_for "$T/half.out" "^open 0" 100
swarm hold "$PORT" 2 "$T/stop-hold" --hs "$T/alice.key" > "$T/hold.out" 2>&1 &
HOLD=$!
PIDS="$PIDS $HOLD"
wait_for "$T/hold.out" "^open 1" 100
ok "a handshake in progress takes no place: max_connections (2) held" \
    sh -c "grep -q '^open 0' '$T/hold.out' && grep -q '^open 1' '$T/hold.out'"
ok "... on both loops" \
    sh -c "grep -q 'authenticated name=alice .* loop=0' '$T/daemon.log' &&
        grep -q 'authenticated name=alice .* loop=1' '$T/daemon.log'"
cl full.out bob ping
ok "at max_connections, a client gets REFUSED server-full" \
    grep -q '^refused 17 server-full' "$T/full.out"
ok "... then the end of the stream" has full.out eof
ok "... logged with its reason" \
    logged "refused key=SHA256:[^ ]+ peer=127\.0\.0\.1:[0-9]+ reason=server-full max_connections=2$"
swarm hs "$PORT" "$T/bob.key" \
    "$(printf '%02x%08x%08x%08x%08x' 1 0 1048576 0 0)" \
    "$(printf '%02x%08x%08x%08x%08x' 1 0 1048576 0 0)" --junk 50 \
    > "$T/fulljunk.out" 2>&1
ok "REFUSED server-full with frames unread behind message 3: it arrives" \
    has fulljunk.out "first refused 17"
ok "... and the stream then ends with a FIN, not a reset" \
    has fulljunk.out eof
ok "the handshake in progress was not evicted or closed" \
    sh -c "! grep -q '^closed' '$T/half.out'"
touch "$T/stop-hold"
wait "$HOLD"
# Every place is free again, the refused clients' included: two more
# hold both, and the next is refused again.
rm -f "$T/stop-hold"
wait_for_log() {
	i=0
	while [ "$(grep -c "$1" "$T/daemon.log")" -lt "$2" ] && [ $i -lt 100 ]
	do
		sleep 0.1
		i=$((i + 1))
	done
}
wait_for_log 'closed reason=eof .* name=alice' 2
swarm hold "$PORT" 2 "$T/stop-hold" --hs "$T/alice.key" > "$T/hold2.out" 2>&1 &
HOLD=$!
PIDS="$PIDS $HOLD"
wait_for "$T/hold2.out" "^open 1\|^refused" 100
ok "the places are released: 2 are held again" \
    sh -c "grep -q '^open 0' '$T/hold2.out' && grep -q '^open 1' '$T/hold2.out'"
cl full2.out bob ping
ok "... and the next is refused again" \
    grep -q '^refused 17 server-full' "$T/full2.out"
touch "$T/stop-hold" "$T/stop-half"
wait "$HOLD"
stop_daemon
ok "daemon exits 0 on SIGTERM (status $DSTATUS)" test "$DSTATUS" -eq 0

plan "$TAP_N"

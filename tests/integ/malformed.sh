#!/bin/sh
# tests/integ/malformed.sh: bad input from the network (issue 4).  Garbage,
# empty and oversize frames, truncation, bit flips in handshake and
# transport frames, a replayed frame, bad records, a message above the
# announced maximum, bad requests, half-open connections: each closes that
# connection alone with a logged reason; a bystander connected all along
# notices nothing, a new client still works, no descriptor leaks.

. "${top_srcdir:-.}/tests/integ/lib.sh"

nfds() { ls "/proc/$(daemon_pid)/fd" 2>/dev/null | wc -l; }

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"

keygen alice
keygen bob
authorize alice
authorize bob
start_daemon 'handshake_rate = 0;
handshake_timeout = 2;
max_message_size = 4096;
log_level = "info";' || exit 1

# The bystander: connected through everything, subscribed to a channel.
# (Its own bound is long: on a loaded machine the attacks below take more
# than the default 30 s.)
(SWARM_TIMEOUT=150; cl by.bg bob join news ping waitfile "$T/go" 120 ping \
    end 0.5) &
BY=$!
wait_for "$T/by.bg" "ping ok" 50
FDS0=$(nfds)

# Half-open connections, in the background while the rest runs: 20 that
# send nothing, and one that sends handshake message 1 only.
ATTACK_WAIT=6 swarm hold "$PORT" 20 "$T/stop-hold" > "$T/hold.out" 2>&1 &
HOLD=$!
ATTACK_WAIT=6 swarm attack "$PORT" msg1-only > "$T/msg1-only.out" 2>&1 &
M1=$!

# attack KIND REASON DETAIL: one connection; the server must close it and
# log the reason (and detail, if not empty) for that connection's port.
attack() {
	ATTACK_WAIT=5 swarm attack "$PORT" "$1" "$T/alice.key" \
	    > "$T/$1.out" 2>&1
	lp=$(sed -n 's/^lport //p' "$T/$1.out")
	det=""
	[ -n "$3" ] && det=" detail=$3"
	wait_for "$T/daemon.log" "closed reason=$2$det peer=127.0.0.1:$lp " 30
	ok "$1: connection closed" has "$1.out" closed
	ok "$1: logged reason=$2${3:+ detail=$3}" \
	    logged "closed reason=$2$det peer=127\.0\.0\.1:$lp "
}

attack garbage protocol-error bad-hello
attack garbage-long bad-frame frame-too-long
attack zero bad-frame empty-frame
attack oversize bad-frame frame-too-long
attack truncated eof mid-frame
attack flip-msg1 protocol-error bad-hello
attack flip-msg3 protocol-error handshake-failed
attack flip-transport protocol-error decrypt-failed
ok "flip-transport: the handshake itself had succeeded" \
    has flip-transport.out "first welcome"
attack replay protocol-error decrypt-failed
ok "replay: the original frame was answered before the replay" \
    has replay.out "reply ok"
attack record-type protocol-error bad-record
# Behind message 3 in the same write: the session fails as its loop takes
# it over (with worker threads, before the adoption mail is done with).
attack pipeline-empty bad-frame empty-frame
attack pipeline-flip protocol-error decrypt-failed
attack toobig protocol-error message-too-big

# A good frame that arrives in pieces (the length header split too) is
# read whole and answered; the connection stays open.
ATTACK_WAIT=1 swarm attack "$PORT" dribble "$T/alice.key" > "$T/dribble.out" 2>&1
ok "dribble: a frame sent in four pieces is answered" \
    has dribble.out "reply ok 7 same-data"
ok "dribble: and the connection stays open" has dribble.out open

# A request pipelined right behind handshake message 3 (one write) waits
# for the key policy and is then answered.
ATTACK_WAIT=1 swarm attack "$PORT" pipeline "$T/alice.key" > "$T/pipeline.out" 2>&1
ok "pipeline: WELCOME, then the early PING's reply" \
    sh -c "sed -n 2p '$T/pipeline.out' | grep -q '^got welcome' && sed -n 3p '$T/pipeline.out' | grep -qx 'got ok 9 early'"

cl unknown.out alice ping unknown
ok "unknown request type: GOODBYE unknown-request, then closed" \
    sh -c "grep -qx 'goodbye 2 unknown-request' '$T/unknown.out' && grep -qx eof '$T/unknown.out'"
ok "unknown request type: logged reason=bad-message" \
    logged "closed reason=bad-message detail=unknown-request peer=127\.0\.0\.1:$(sed -n 's/^connected //p' "$T/unknown.out") "
cl badname.out alice badname
ok "bad channel name: GOODBYE bad-request, then closed" \
    sh -c "grep -qx 'goodbye 1 bad-request' '$T/badname.out' && grep -qx eof '$T/badname.out'"
ok "bad channel name: logged reason=bad-message" \
    logged "closed reason=bad-message detail=malformed peer=127\.0\.0\.1:$(sed -n 's/^connected //p' "$T/badname.out") "

# A good client works while the half-open connections are still there.
cl good1.out alice ping who
ok "a good client works while 21 half-open connections wait" \
    has good1.out "ping ok"
ok "the half-open connections were all accepted" \
    test "$(grep -c '^open ' "$T/hold.out")" -eq 20
wait "$M1"
ok "handshake message 1 only: closed after handshake_timeout" \
    has msg1-only.out closed
ok "handshake message 1 only: logged reason=handshake-timeout" \
    logged "closed reason=handshake-timeout peer=127\.0\.0\.1:$(sed -n 's/^lport //p' "$T/msg1-only.out") "
i=0
while [ "$(grep -c '^closed ' "$T/hold.out")" -lt 20 ] && [ $i -lt 60 ]; do
	sleep 0.1
	i=$((i + 1))
done
touch "$T/stop-hold"
wait "$HOLD"
ok "all 20 half-open connections closed by the server" \
    test "$(grep -c '^closed ' "$T/hold.out")" -eq 20
ok "each half-open close logged with reason=handshake-timeout" \
    test "$(count_in "$T/daemon.log" 'closed reason=handshake-timeout')" \
    -eq 21

# Afterwards: the bystander noticed nothing, a new client works.
cl good2.out alice publish news bin:256 ping
sleep 0.3
FDS1=$(nfds)
touch "$T/go"
wait "$BY"
ok "the bystander's connection survived everything (second ping)" \
    test "$(grep -cx 'ping ok' "$T/by.bg")" -eq 2
ok "the bystander still receives channel messages" \
    grep -Eq '^deliver alice news 256 ' "$T/by.bg"
ok "the bystander got no GOODBYE and no EOF before its end" \
    sh -c "! grep -Eq '^(goodbye|eof)' '$T/by.bg'"
ok "a new client after the attacks: publish reaches 1, ping round trip" \
    sh -c "grep -qx 'publish ok 1 0' '$T/good2.out' && grep -qx 'ping ok' '$T/good2.out'"
ok "no descriptor leak ($FDS0 before, $FDS1 after)" test "$FDS1" -eq "$FDS0"
ok "the daemon is still running" kill -0 "$(daemon_pid)"
ok "no message body or private key in the log" \
    sh -c "! grep -qF -e '$(cat "$T/alice.key")' -e body-q7Zx '$T/daemon.log'"

stop_daemon
ok "daemon exits 0 on SIGTERM afterwards (status $DSTATUS)" test "$DSTATUS" -eq 0

plan "$TAP_N"

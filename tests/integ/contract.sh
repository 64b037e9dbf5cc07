#!/bin/sh
# tests/integ/contract.sh: doc/PROTOCOL.md is the contract (issue 14).
# Each answer the document gives to a question a client implementer had to
# settle by experiment is checked here against the daemon, byte for byte
# where the document gives bytes: the OK data of JOIN and LEAVE, JOIN
# twice and LEAVE when not joined, PUBLISH without membership and to a
# channel without subscribers, SEND to one's own name, WHO's contents,
# order and truncation, unknown-peer versus offline under each
# client_auth, which requests end the connection (GOODBYE, never ERROR),
# a server message type from a client, the empty message, REKEY early and
# twice in a row, when a bad hello is found, the room for future hello
# fields, the handshake deadline and admission closing without a message,
# the largest body, the order in which errors are reported, and requests
# answered before an end in the middle of a frame.  The driver is
# tests/integ/swarm.py, on the independent Python implementation.
# (contract2.sh holds the points where the daemon did not keep to the
# document, server-full among them.)

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"

# hello MAX [VERSION] [LENGTH] [FEATURES]: a hello block in hex (section
# 4.1), LENGTH bytes long (17 by default: shorter cuts, longer pads).
hello() {
	_h=$(printf '%02x%08x%08x%08x%08x' "${2:-1}" "${4:-0}" "$1" 0 0)
	_n=$((2 * ${3:-17}))
	while [ ${#_h} -lt "$_n" ]; do
		_h="${_h}00"
	done
	printf '%s\n' "$_h" | cut -c "1-$_n"
}
# hs OUT KEY HELLO1 HELLO3 [OPTIONS]: a handshake by hand (swarm.py hs).
hs() {
	_o=$1 _k=$2
	shift 2
	[ "$_k" = - ] || _k="$T/$_k.key"
	swarm hs "$PORT" "$_k" "$@" > "$T/$_o" 2>&1
}
# line OUT N: line N of OUT.
line() { sed -n "${2}p" "$T/$1"; }
# before OUT A B: in OUT, the first line A comes before the first line B.
before() {
	_a=$(grep -nx -- "$2" "$T/$1" | head -n 1 | cut -d: -f1)
	_b=$(grep -nx -- "$3" "$T/$1" | head -n 1 | cut -d: -f1)
	[ -n "$_a" ] && [ -n "$_b" ] && [ "$_a" -lt "$_b" ]
}

for k in alice bob carol dave erin Zed stranger; do
	keygen "$k"
done
authorize alice
authorize bob
authorize carol no-send no-who
authorize dave 'publish=only.*' 'subscribe=only.*'
authorize erin
authorize Zed

start_daemon 'max_message_size = 1024;
max_subscriptions = 60;
handshake_timeout = 2;
handshake_rate = 0;
log_level = "info";' || exit 1
H=$(hello 1048576)

# ------------------------------------------------------------ JOIN, LEAVE
# Byte for byte: OK with no data, whether or not anything changed.
cl jl.out alice raw 0300000007026368 raw 0300000008026368 whoall \
    raw 0400000009027a7a raw 040000000a026368 raw 040000000b026368 whoall
ok "JOIN: OK with no data (83 00000007)" test "$(line jl.out 3)" = \
    "got 8300000007"
ok "JOIN of a channel joined already: OK with no data" \
    test "$(line jl.out 4)" = "got 8300000008"
ok "JOIN twice: subscribed once (WHO: c:ch:1)" \
    test "$(line jl.out 5)" = "whoall 2 19 p:alice:1 c:ch:1"
ok "LEAVE of a channel never joined: OK with no data" \
    test "$(line jl.out 6)" = "got 8300000009"
ok "LEAVE: OK with no data" test "$(line jl.out 7)" = "got 830000000a"
ok "LEAVE again, not joined any more: OK with no data" \
    test "$(line jl.out 8)" = "got 830000000b"
ok "a channel without subscribers is gone from WHO" \
    test "$(line jl.out 9)" = "whoall 1 11 p:alice:1"

# ------------------------------------------------------------ WHO, limits
# Zed joins 60 channels (max_subscriptions), bob asks WHO announcing
# max_message 1024: the list is cut to what fits 1024 - 139 bytes.
cl zed.bg Zed join B join a join ab joinmany wlist-chan- 57 join a \
    join zzz touch "$T/z-ready" waitfile "$T/b-done" 20 whoall \
    touch "$T/z-done" &
PIDS="$PIDS $!"
cl who-small.bg bob --maxmsg 1024 waitfile "$T/z-ready" 20 whoall \
    touch "$T/b-done" waitfile "$T/z-done" 20 &
W2=$!
PIDS="$PIDS $W2"
wait "$W2"
sed 's/^/# Zed: /' "$T/zed.bg" | cut -c 1-200
ok "JOIN at max_subscriptions of a channel joined already: OK" \
    test "$(sed -n '/^joinmany/{n;p;}' "$T/zed.bg")" = "join ok"
ok "JOIN of one more: too-large" has zed.bg "join error 6 too-large"
WANT="p:Zed:1 p:bob:1 c:B:1 c:a:1 c:ab:1 $(for i in $(seq 0 56); do
	echo "wlist-chan-$i"
done | LC_ALL=C sort | sed 's/^/c:/; s/$/:1/' | tr '\n' ' ' | sed 's/ $//')"
ok "WHO: peers (asker included) then channels, each in byte order" \
    test "$(sed -n 's/^whoall [0-9]* [0-9]* //p' "$T/zed.bg")" = "$WANT"
ok "WHO: 62 entries, 1113 bytes" grep -q '^whoall 62 1113 ' "$T/zed.bg"
# The longest prefix of WANT within 885 bytes (an entry: 6 + name bytes).
CUT=$(echo "$WANT" | tr ' ' '\n' | awk -F: '
	{ n = 6 + length($2); if (t + n > 885) exit; t += n; k++
	  s = s (k > 1 ? " " : "") $0 }
	END { print k, t, s }')
ok "WHO cut after the last whole entry within max_message - 139 ($(echo "$CUT" | awk '{ print $1 " entries, " $2 " bytes" }'))" \
    has who-small.bg "whoall $CUT"

# ------------------------------------------------------- PUBLISH, SEND
cl bob.bg bob join news touch "$T/bob-ready" waitfile "$T/go" 20 end 2 &
PIDS="$PIDS $!"
B1=$!
cl alice2.bg alice join news touch "$T/a2-ready" waitfile "$T/go" 20 \
    end 2 &
A2=$!
PIDS="$PIDS $A2"
i=0
while [ ! -f "$T/bob-ready" ] || [ ! -f "$T/a2-ready" ]; do
	[ $i -lt 100 ] || break
	sleep 0.1
	i=$((i + 1))
done
cl pub.out alice publish news text:one publish empty-chan text:x \
    join news publish news text:two send alice text:me whoall
touch "$T/go"
wait "$B1" "$A2"
ok "PUBLISH without membership reaches the subscribers (ok 2 0)" \
    test "$(line pub.out 3)" = "publish ok 2 0"
ok "PUBLISH to a channel without subscribers: OK 0 0" \
    test "$(line pub.out 4)" = "publish ok 0 0"
ok "PUBLISH skips only the publishing connection (ok 2 0 once joined)" \
    test "$(line pub.out 6)" = "publish ok 2 0"
ok "... and the publishing connection gets no copy" \
    sh -c "! grep -q '^deliver alice news' '$T/pub.out'"
ok "... but another connection of its name does (both PUBLISHes)" \
    test "$(grep -c '^deliver alice news 3 ' "$T/alice2.bg")" -eq 2
ok "the other subscriber got both" \
    test "$(grep -c '^deliver alice news 3 ' "$T/bob.bg")" -eq 2
ok "SEND to one's own name reaches the sending connection, before its OK" \
    before pub.out "deliver alice - 2 $(printf me | sha256sum | cut -c 1-16)" \
    "send ok 2 0"
ok "... and every other connection of the name" \
    grep -q '^deliver alice - 2 ' "$T/alice2.bg"
ok "WHO counts connections; a channel only published to is not listed" \
    grep -qx 'whoall 3 [0-9]* p:alice:2 p:bob:1 c:news:3' "$T/pub.out"

# ------------------------------------------ targets, sizes, error order
# max_message_size 1024: the server announces 1163, the largest body is
# 1163 - 139 = 1024 whatever the request's own header.
N64=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
cl tgt.out alice send erin text:x send nobody text:x send erin rand:1025 \
    send erin rand:1024 send "$N64" rand:1025 ping publish news rand:1025 \
    echo rand:1158
ok "authorized: a name with a key line, not connected: offline" \
    test "$(line tgt.out 3)" = "send error 4 offline"
ok "authorized: a name on no key line: unknown-peer" \
    test "$(line tgt.out 4)" = "send error 3 unknown-peer"
ok "a body of max_message - 138: too-large (checked before the target)" \
    test "$(line tgt.out 5)" = "send error 6 too-large"
ok "a body of max_message - 139 passes that check (then: offline)" \
    test "$(line tgt.out 6)" = "send error 4 offline"
ok "too-large even when the whole SEND fits max_message (64-byte name)" \
    test "$(line tgt.out 7)" = "send error 6 too-large"
ok "... and the connection stays open" test "$(line tgt.out 8)" = "ping ok"
ok "PUBLISH: the same body limit" \
    test "$(line tgt.out 9)" = "publish error 6 too-large"
ok "PING data is limited by max_message only (max_message - 5 echoed)" \
    test "$(line tgt.out 10)" = "ping ok"
cl echo.out alice --maxmsg 1024 echo rand:1019 echo rand:1020 ping
ok "PING whose reply fits the client's max_message: echoed" \
    test "$(line echo.out 3)" = "ping ok"
ok "PING whose reply is 1 byte above it: too-large, connection open" \
    sh -c "[ '$(line echo.out 4)' = 'ping error 6 too-large' ] && [ '$(line echo.out 5)' = 'ping ok' ]"
cl carol.out carol send bob rand:1025 send bob text:x send nobody text:x who
ok "no-send: a body too large is too-large first" \
    test "$(line carol.out 3)" = "send error 6 too-large"
ok "no-send: not-permitted before the target is looked at" \
    sh -c "[ '$(line carol.out 4)' = 'send error 5 not-permitted' ] && [ '$(line carol.out 5)' = 'send error 5 not-permitted' ]"
ok "no-who: WHO gets not-permitted" \
    test "$(line carol.out 6)" = "who error 5 not-permitted"
cl dave.out dave publish news text:x join news join only.x \
    publish only.x text:x
ok "publish= list: PUBLISH elsewhere not-permitted" \
    test "$(line dave.out 3)" = "publish error 5 not-permitted"
ok "subscribe= list: JOIN elsewhere not-permitted, allowed one OK" \
    sh -c "[ '$(line dave.out 4)' = 'join error 5 not-permitted' ] && [ '$(line dave.out 5)' = 'join ok' ]"

# ------------------------------------------------ requests that are fatal
# TYPE-HEX:CODE: each alone on a fresh connection, answered GOODBYE CODE
# (1 bad-request, 2 unknown-request), then the end of the stream.  0x87
# is NEXTKEY, a server type (PROTOCOL.md 7.5).
for t in 0000000001:2 0700000001:2 8000000001:2 88:2 ff00:2 87:1 \
    8300000001:1 8103626f6200000000:1 860013:1 8200106869:1 \
    0300000001016100:1 030000000100:1 0300000001026124:1 0600000001ff:1 \
    01000000:1 0200000001:1; do
	hex=${t%:*} code=${t#*:}
	cl "fatal-$hex.out" alice raw "$hex" next 5
	ok "message $hex: GOODBYE $code, then the end of the stream" \
	    sh -c "grep -q '^got 86000$code' '$T/fatal-$hex.out' && [ \"\$(tail -n 1 '$T/fatal-$hex.out')\" = eof ]"
done
cl empty.out alice rec final - next 5 next 5
ok "an empty message: GOODBYE bad-request, then the end" \
    sh -c "grep -q '^got 860001' '$T/empty.out' && [ \"\$(tail -n 1 '$T/empty.out')\" = eof ]"
cl after.out alice rec final 010000000161 rec final 0700000002 \
    rec final 010000000362 next 5 next 5 next 5
ok "a request before the bad one is answered, the one after is not" \
    sh -c "[ '$(line after.out 3)' = 'got 830000000161' ] && grep -q '^got 860002' '$T/after.out' && ! grep -q '^got 8300000003' '$T/after.out'"

# ------------------------------------------------------- records, rekey
cl rk.out alice rec rekey rec rekey raw 010000000178 \
    rec more 01000000 rec rekey rec final 0263 next 5 \
    rec more 0100000003 rec final - next 5
ok "REKEY before any data record, twice in a row: the PING is answered" \
    test "$(line rk.out 3)" = "got 830000000178"
ok "REKEY between two fragments of a message" \
    test "$(line rk.out 4)" = "got 830000000263"
ok "an empty FINAL after MORE ends the message" \
    test "$(line rk.out 5)" = "got 8300000003"

# ------------------------------------------------------------- hellos
hs h-good.out alice "$H" "$H"
ok "a 17-byte hello: message 2 of 113 bytes, then WELCOME" \
    sh -c "grep -qx 'msg2 113' '$T/h-good.out' && grep -qx 'first welcome' '$T/h-good.out'"
for bad in "v2:$(hello 1048576 2)" "short:$(hello 1048576 1 16)" \
    "max1023:$(hello 1023)"; do
	hs "h1-${bad%%:*}.out" alice "${bad#*:}" "$H"
	ok "bad hello in message 1 (${bad%%:*}): closed, no message 2" \
	    has "h1-${bad%%:*}.out" closed-before-msg2
	hs "h3-${bad%%:*}.out" alice "$H" "${bad#*:}"
	ok "bad hello in message 3 (${bad%%:*}): closed, no WELCOME, no byte" \
	    sh -c "grep -qx closed-before-first '$T/h3-${bad%%:*}.out' && grep -qx 'bytes-after 0' '$T/h3-${bad%%:*}.out'"
done
hs h-long.out alice "$(hello 1048576 1 224)" "$(hello 1048576 1 192)"
ok "future fields: hellos of 224 (message 1) and 192 bytes (message 3)" \
    has h-long.out "first welcome"
hs h-long3.out alice "$H" "$(hello 1048576 1 193)"
ok "a 193-byte hello in message 3 makes a frame above 256: closed" \
    has h-long3.out closed-before-first
hs h-feat.out alice "$(hello 1048576 1 17 4294967295)" \
    "$(hello 1048576 1 17 4294967295)"
ok "unknown feature bits are ignored" has h-feat.out "first welcome"
hs h-differ.out alice "$H" "$(hello 1024)" --echo 1100
hs h-same.out alice "$H" "$H" --echo 1100
ok "the server goes by the hello of message 3 (max_message 1024 there)" \
    sh -c "grep -qx 'echo error 6' '$T/h-differ.out' && grep -qx 'echo ok' '$T/h-same.out'"
hs h-unknown.out - "$H" "$H"
ok "an unknown key: REFUSED unknown-key" has h-unknown.out "first refused 16"

# ------------------------------------------- the handshake deadline, ends
hs h-stop.out alice "$H" -
ok "handshake stopped after message 2: closed at the deadline, no byte" \
    sh -c "grep -Eqx 'eof|reset' '$T/h-stop.out' && grep -qx 'bytes-after 0' '$T/h-stop.out'"
ok "... logged reason=handshake-timeout" \
    logged "closed reason=handshake-timeout "
cl mid.out alice midclose - 3
ok "an end in the middle of a frame: the complete requests are answered" \
    has mid.out "midclose in-order 3"
ok "... and then the stream ends" has mid.out eof

stop_daemon

# ------------------------------------------- rates, admission: no message
start_daemon 'rate_limit = 1;
rate_burst = 1;
max_connections_per_address = 2;
handshake_rate = 0;
log_level = "info";' || exit 1
cl rate.out alice rec final 010000000161 rec final 010000000262 \
    rec final 0700000003 next 5 next 5 next 5 next 5
ok "rate_limit: the second request is rate-limited" \
    sh -c "[ '$(line rate.out 3)' = 'got 830000000161' ] && grep -q '^got 84000000020008' '$T/rate.out'"
ok "an unknown type over the rate: GOODBYE unknown-request, not ERROR" \
    sh -c "grep -q '^got 860002' '$T/rate.out' && [ \"\$(tail -n 1 '$T/rate.out')\" = eof ]"
# That connection must be gone before two others fill the address's room.
wait_for "$T/daemon.log" "closed reason=bad-message " 100
swarm hold "$PORT" 2 "$T/stop-hold" --hs "$T/alice.key" > "$T/hold.out" 2>&1 &
HOLD=$!
PIDS="$PIDS $HOLD"
i=0
while [ "$(grep -c '^open ' "$T/hold.out")" -lt 2 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
hs h-admit.out bob "$H" "$H"
touch "$T/stop-hold"
wait "$HOLD"
ok "two connections from 127.0.0.1 held (max_connections_per_address)" \
    test "$(grep -c '^open ' "$T/hold.out")" -eq 2
ok "admission (per-address limit): closed before message 2, no message" \
    sh -c "grep -qx closed-before-msg2 '$T/h-admit.out' && grep -Eqx 'eof|reset' '$T/h-admit.out'"
ok "... logged reason=per-address-limit" \
    logged "connection refused reason=per-address-limit "
stop_daemon

# ------------------------------------------------------ client_auth any
start_daemon 'client_auth = "any";
handshake_rate = 0;' || exit 1
FP=$(swarm fp "$T/stranger.pub")
BOBFP=$(swarm fp "$T/bob.pub")
cl any.out stranger send nobody text:x send "${BOBFP#SHA256:}" text:x \
    whoall
ok "any: named by the fingerprint without SHA256: (${FP#SHA256:})" \
    test "$(line any.out 2)" = "welcome ${FP#SHA256:} 300"
ok "any: a name never seen: offline, not unknown-peer" \
    test "$(line any.out 3)" = "send error 4 offline"
ok "any: a fingerprint name not connected: offline" \
    test "$(line any.out 4)" = "send error 4 offline"
ok "any: WHO lists that name" \
    grep -qx "whoall 1 28 p:${FP#SHA256:}:1" "$T/any.out"
stop_daemon
ok "daemon exits 0 on SIGTERM (status $DSTATUS)" test "$DSTATUS" -eq 0

plan "$TAP_N"

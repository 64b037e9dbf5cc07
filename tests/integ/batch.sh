#!/bin/sh
# tests/integ/batch.sh: BATCH records (hello feature bit 2) and quiet
# PUBLISH (bit 3), doc/PROTOCOL.md 5.1 and 7.1, against the real daemon,
# driven by the independent implementation (tests/integ/batch.py over
# tests/interop/secmsg_noise.py) and by secmsg-client publish --no-reply.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"

plan 24

BPY="$top_srcdir/tests/integ/batch.py"
for k in pub sub1 sub0; do
	keygen "$k"
done
authorize pub "publish=news"
authorize sub1
authorize sub0

# bp OUT ARGS...: the driver, bounded, into $T/OUT.
bp() {
	_o=$1
	shift
	timeout -k 10 60 "$PY" "$BPY" "$PORT" "$SERVER_KEY" "$T" "$@" \
	    > "$T/$_o" 2>&1
	_rc=$?
	[ $_rc -eq 0 ] || sed 's/^/# /' "$T/$_o"
	return $_rc
}

ok "secmsgd starts" start_daemon "max_message_size = 2000;"

# One BATCH of 200 PUBLISH: the subscriber with the bit gets them in
# BATCH records, all of them, in order; the one without only FINAL ones.
ok "a publisher's burst as one BATCH record" bp fan.out fanout
t_batched() {
	grep -Eq '^sub1 got 200 order=ok batches=[1-9][0-9]* ' "$T/fan.out"
}
ok "subscriber with bit 2: all 200 in order, in BATCH records" t_batched
ok "subscriber without bit 2: all 200 in order, FINAL records only" \
    has fan.out "sub0 got 200 order=ok batches=0 finals=200"
t_pub_oks() { grep -Eq '^pub oks 200 batches=[1-9]' "$T/fan.out"; }
ok "publisher: 200 OKs (2 delivered each), batched too" t_pub_oks

# Malformed: that connection ends, with a logged reason; the other lives.
for kind in zero trunc lone midway; do
	bp bad-$kind.out bad $kind
	ok "malformed BATCH ($kind): connection closed, no message" \
	    has bad-$kind.out closed
	ok "malformed BATCH ($kind): another connection still served" \
	    has bad-$kind.out "other alive"
done
ok "the closes are logged: protocol-error detail=bad-batch" \
    [ "$(count_in "$T/daemon.log" \
    'reason=protocol-error detail=bad-batch')" -eq 4 ]
bp bad-nobit.out bad nobit
ok "BATCH from a client without bit 2: closed as an unknown record" \
    sh -c "grep -qx closed '$T/bad-nobit.out' &&
    grep -q 'reason=protocol-error detail=bad-record' '$T/daemon.log'"

# Quiet PUBLISH: no OK; an ERROR with its id when not carried out.
ok "quiet publishes and a PING" bp quiet.out quiet
t_quiet() {
	# Exactly: the two errors in request order, then the PING's OK.
	[ "$(cat "$T/quiet.out")" = "pub error id=2 code=5
pub error id=3 code=6
pub ok id=9
sub1 deliver quiet one
sub1 deliver quiet two" ]
}
ok "no OK; ERROR not-permitted, too-large with their ids; delivered" \
    t_quiet
bp oldq.out oldquiet
ok "the id bit without feature bit 3: an ordinary PUBLISH, with its OK" \
    has oldq.out "pub ok 0 0"

# secmsg-client publish --no-reply.
t_cli() {
	timeout -k 5 20 "$CLIENT" -s "127.0.0.1:$PORT" --server-key \
	    "$SERVER_KEY" -i "$T/pub.key" "$@" > "$T/cli.out" 2> "$T/cli.err"
}
ok "publish --no-reply: exit 0" t_cli publish --no-reply news hello
t_cli publish --no-reply secret hello
rc=$?
ok "publish --no-reply to a channel not permitted: exit 6, says why" \
    sh -c "[ $rc -eq 6 ] && grep -q 'not-permitted\\|not permitted' \
    '$T/cli.err'"
stop_daemon

# The rate limit applies to quiet publishes: ERROR rate-limited, and what
# was not refused is delivered.
ok "secmsgd starts with rate_limit 5" start_daemon "rate_limit = 5;
rate_burst = 5;
max_message_size = 2000;"
ok "20 quiet publishes in one BATCH" bp rate.out rate 20
t_rate() {
	read -r _ e _ r _ d < "$T/rate.out" &&
	    [ "$e" -ge 1 ] && [ "$e" = "$r" ] && [ $((e + d)) -eq 20 ]
}
ok "rate-limited ones get an ERROR, the others are delivered" t_rate
stop_daemon
ok "the daemon stopped cleanly" [ "$DSTATUS" -eq 0 ]

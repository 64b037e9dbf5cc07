#!/bin/sh
# tests/integ/relay.sh: the relay service (issue 4) against the real daemon,
# driven by the independent protocol implementation (tests/interop/
# secmsg_noise.py, through tests/integ/swarm.py): 50 concurrent clients
# exchanging direct and channel messages, key policy, permissions, reloads
# of the authorized keys, presence listing.

. "${top_srcdir:-.}/tests/integ/lib.sh"

MAXSIZE=100000

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"


# Keys: c00..c47 with their own names, c48 and c49 sharing "fleet"; and
# keys for the policy tests.
swarm genkeys "$T" 50 c || exit 1
for i in $(seq -w 0 49); do
	n=c$i
	[ "$i" -ge 48 ] && n=fleet
	echo "$(cat "$T/c$i.pub") $n" >> "$T/authorized_keys"
done
for k in alice pubr mute shy sub1 gone late stranger; do
	keygen "$k"
done
{
	echo "# comment lines and blank lines are allowed"
	echo ""
} >> "$T/authorized_keys"
authorize alice
authorize pubr "publish=news,sensors.*" "subscribe=news"
authorize mute no-send
authorize shy no-who
authorize sub1 "subscribe=news"
authorize gone

start_daemon "handshake_rate = 0;
max_message_size = $MAXSIZE;
max_output_buffer = 67108864;
log_level = \"info\";" || exit 1

# ---------------------------------------------------------------- swarm
SWARM_TIMEOUT=120 swarm relay "$PORT" "$T" "$MAXSIZE" > "$T/swarm.out" 2>&1
sed 's/^/# /' "$T/swarm.out"
ok "50 clients connected and authenticated" \
    grep -q "^connected 50 " "$T/swarm.out"
ok "every receiver: exact count, no loss, no duplicate, order, bytes" \
    has swarm.out "result ok"
ok "total deliveries as planned" \
    grep -Eq '^delivered ([0-9]+) expected \1$' "$T/swarm.out"
ok "maximum-size bodies ($MAXSIZE bytes) delivered intact" \
    grep -Eq "^maxsize [1-9][0-9]* deliveries of $MAXSIZE$" "$T/swarm.out"
ok "a body of max_message_size + 1 gets ERROR too-large" \
    has swarm.out "oversize error too-large"
ok "the connection survives the oversize refusal" \
    has swarm.out "after-oversize ok"
ok "who lists every name and channel with its count" \
    has swarm.out "who ok"
ok "no FAIL line from the swarm" sh -c "! grep -q FAIL '$T/swarm.out'"
ok "50 authenticated lines with name= and key= fingerprint" \
    test "$(grep -Ec 'authenticated name=(c[0-9]+|fleet) key=SHA256:[A-Za-z0-9_-]+ peer=127\.0\.0\.1:' \
    "$T/daemon.log")" -eq 50
ok "closed lines carry reason, duration and byte counts" \
    grep -Eq 'closed reason=eof peer=127\.0\.0\.1:[0-9]+ name=c[0-9]+ key=SHA256:[^ ]+ duration=[0-9.]+s in=[0-9]+/[0-9]+B out=[0-9]+/[0-9]+B' \
    "$T/daemon.log"

# The independent client follows doc/PROTOCOL.md's tables.
if [ -f "$top_srcdir/doc/PROTOCOL.md" ]; then
	swarm doccheck "$top_srcdir/doc/PROTOCOL.md" > "$T/doc.out" 2>&1
	sed 's/^/# /' "$T/doc.out"
	ok "doc/PROTOCOL.md types and codes match the independent client" \
	    grep -Eq '^doccheck [0-9]+ ok$' "$T/doc.out"
else
	ok "doc/PROTOCOL.md exists" false
fi

# ---------------------------------------------------------------- key policy
cl stranger.out stranger ping
ok "unknown key: REFUSED unknown-key with a text the client can show" \
    grep -Eq '^refused 16 unknown-key key_not_authorized' "$T/stranger.out"
ok "unknown key: connection closed after the refusal" has stranger.out eof
ok "unknown key: refusal logged with fingerprint and reason" \
    logged "refused key=$(swarm fp "$T/stranger.pub") peer=127\.0\.0\.1:[0-9]+ reason=unknown-key"

# ---------------------------------------------------------------- permissions
cl sub1.bg sub1 join news touch "$T/sub1.joined" waitfile "$T/sub1.go" \
    recv 3 waitfile "$T/sub1.go2" recv 1 ping &
SUB1=$!
wait_for "$T/sub1.bg" "join ok" 50
cl pubr.out pubr publish news text:hello publish sensors.t1 bin:300 \
    publish other text:x join news join other send c00 text:direct
ok "publish= allows a listed channel (1 subscriber reached)" \
    has pubr.out "publish ok 1 0"
ok "publish= allows a channel matching a prefix pattern" \
    has pubr.out "publish ok 0 0"
ok "publish to an unlisted channel: ERROR not-permitted" \
    has pubr.out "publish error 5 not-permitted"
ok "subscribe= allows a listed channel" has pubr.out "join ok"
ok "join an unlisted channel: ERROR not-permitted" \
    has pubr.out "join error 5 not-permitted"
touch "$T/sub1.go"
wait_for "$T/sub1.bg" "deliver" 50
ok "subscriber got the channel message with the authenticated sender" \
    grep -Eq '^deliver pubr news 5 [0-9a-f]{16}$' "$T/sub1.bg"
cl mute.out mute send alice text:hi ping who
ok "no-send: direct message refused with not-permitted" \
    has mute.out "send error 5 not-permitted"
ok "no-send: other requests still work" has mute.out "ping ok"
cl shy.out shy who send nobody text:x send alice text:x
ok "no-who: WHO refused with not-permitted" \
    has shy.out "who error 5 not-permitted"
ok "SEND to a name no key has: ERROR unknown-peer" \
    has shy.out "send error 3 unknown-peer"
ok "SEND to a known name with no connection: ERROR offline" \
    has shy.out "send error 4 offline"

# ---------------------------------------------------------------- reloads
cl late1.out late ping
cl gone.bg gone ping waitfile "$T/gone.go" end 5 &
GONE=$!
wait_for "$T/gone.bg" "ping ok" 50
# New file: late added, gone removed, sub1 may no longer subscribe to news.
grep -v "^$(cat "$T/gone.pub") " "$T/authorized_keys" |
    sed "s|^\($(cat "$T/sub1.pub")\) sub1 .*|\1 sub1 subscribe=other|" \
    > "$T/ak.new"
echo "$(cat "$T/late.pub") late" >> "$T/ak.new"
chmod 600 "$T/ak.new"
mv "$T/ak.new" "$T/authorized_keys"
ok "SIGHUP with changed keys: reloaded configuration" \
    reload_daemon "reloaded configuration"
touch "$T/gone.go"
wait "$GONE"
ok "before the reload the new key was refused" \
    grep -q '^refused 16 unknown-key' "$T/late1.out"
cl late2.out late ping
ok "after the reload the added key is accepted" has late2.out "ping ok"
ok "removed key: its live connection gets GOODBYE key-revoked" \
    has gone.bg "goodbye 18 key-revoked"
ok "removed key: connection closed" has gone.bg "eof"
ok "removed key: close logged with reason=key-revoked" \
    logged "closed reason=key-revoked .*name=gone"
cl gone2.out gone ping
ok "removed key: a new connection is refused" \
    grep -q '^refused 16 unknown-key' "$T/gone2.out"
ok "permissions re-checked: sub1 left news, logged" \
    logged "name=sub1 left channel=news reason=not-permitted-after-reload"
cl pubr2.out pubr publish news text:after
ok "permissions re-checked: news now has no subscriber" \
    has pubr2.out "publish ok 0 0"
touch "$T/sub1.go2"
wait "$SUB1"
ok "sub1's connection itself was kept through the reload" \
    has sub1.bg "ping ok"

# A broken key file: refused as a whole, the old one stays.
cp "$T/authorized_keys" "$T/ak.good"
echo "this-is-not-a-key alice2" >> "$T/authorized_keys"
ok "SIGHUP with a broken key file: reload failed" \
    reload_daemon "reload failed"
ok "the failure is logged at error level with file:line" \
    grep -Eq "\[error\]: .*authorized_keys:$(($(wc -l < "$T/ak.good") + 1)):" \
    "$T/daemon.log"
cl alice.out alice ping
cl late3.out late ping
ok "old keys still work after the failed reload" \
    sh -c "grep -qx 'ping ok' '$T/alice.out' && grep -qx 'ping ok' '$T/late3.out'"

# Fail closed: a missing or empty key file admits nobody.
cp "$T/ak.good" "$T/authorized_keys"
reload_daemon "reloaded configuration"
cl alice.bg alice ping waitfile "$T/alice.go" end 5 &
ALICE=$!
wait_for "$T/alice.bg" "ping ok" 50
rm "$T/authorized_keys"
ok "SIGHUP with a missing key file: the reload itself succeeds" \
    reload_daemon "reloaded configuration"
ok "a missing key file is logged at error level" \
    logged "\[error\]: authorized keys $T/authorized_keys does not exist: no client can connect"
touch "$T/alice.go"
wait "$ALICE"
ok "fail closed: live connections of keys no longer listed are closed" \
    has alice.bg "goodbye 18 key-revoked"
cl alice2.out alice ping
ok "fail closed: a missing key file admits nobody" \
    grep -q '^refused 16 unknown-key' "$T/alice2.out"
printf '# nobody\n\n' > "$T/authorized_keys"
chmod 600 "$T/authorized_keys"
reload_daemon "reloaded configuration"
cl alice3.out alice ping
ok "fail closed: an empty key file admits nobody, with a warning" \
    sh -c "grep -q '^refused 16 unknown-key' '$T/alice3.out' && grep -q '\[warning\]: authorized keys $T/authorized_keys is empty' '$T/daemon.log'"

# client_auth "any": every key, named by its fingerprint.
write_conf "handshake_rate = 0;
client_auth = \"any\";
log_level = \"info\";"
reload_daemon "reloaded configuration"
FP=$(swarm fp "$T/stranger.pub")
cl any.out stranger ping who
ok "client_auth any: an unknown key is accepted, named by fingerprint" \
    has any.out "welcome ${FP#SHA256:} 300"
ok "client_auth any: and served" has any.out "ping ok"

stop_daemon
ok "daemon exits 0 on SIGTERM" test "$DSTATUS" -eq 0

plan "$TAP_N"

#!/bin/sh
# tests/integ/client.sh: secmsg-client against a real secmsgd (TAP).
#
# Covers keygen/pubkey, first contact (with and without --accept-new, and
# on a terminal), key mismatch, send/publish/subscribe round trips with
# exact content (text, binary, stdin), --json output checked with python3,
# every documented exit status, keep-alive pings past the idle timeout,
# and chat through a pseudo-terminal (expect) with a second client.
#
# HOME and XDG_CONFIG_HOME point into the test's temp folder: the real
# home and /etc are never touched.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"
[ -x "$PY" ] || skip_all "no /usr/bin/python3"

HOME="$T/home"
XDG_CONFIG_HOME="$T/home/.config"
export HOME XDG_CONFIG_HOME
mkdir -p "$HOME"
KH="$XDG_CONFIG_HOME/secmsg/known_hosts"

# run EXPECTED_STATUS CLIENT_ARGS...: run the client (bounded), output in
# $T/out and $T/err; true when it exits with EXPECTED_STATUS.
run() {
	_want=$1
	shift
	timeout -k 10 30 "$CLIENT" "$@" > "$T/out" 2> "$T/err" < /dev/null
	RC=$?
	if [ "$RC" -ne "$_want" ]; then
		echo "# secmsg-client $*: exit $RC, wanted $_want"
		sed 's/^/# stderr: /' "$T/err" | head -n 20
		return 1
	fi
	return 0
}

# as NAME ARGS...: the client as NAME (its key, the daemon's address).
# run_as STATUS NAME ARGS...: run() as NAME.
run_as() {
	_want=$1
	_who=$2
	shift 2
	run "$_want" -s "127.0.0.1:$PORT" -i "$T/$_who.key" "$@"
}

# quiet CMD...: run CMD with its stdout discarded (expect's transcript).
quiet() { "$@" > /dev/null; }

# json EXPR: evaluate a python3 expression over the lines of $T/out
# parsed as JSON (list L); true when it is true.
json() {
	"$PY" -c '
import json, sys, base64
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(0 if eval("(" + sys.argv[2].strip() + ")") else 1)' "$T/out" "$1"
}

# wait_online NAME: until the server lists NAME (bounded).
wait_online() {
	i=0
	while [ $i -lt 50 ]; do
		timeout -k 10 10 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/alice.key" \
		    --json who 2>/dev/null | grep -q "\"name\":\"$1\"" &&
		    return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_joined CHANNEL: until the server lists CHANNEL with a subscriber.
wait_joined() {
	i=0
	while [ $i -lt 50 ]; do
		timeout -k 10 10 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/alice.key" \
		    --json who 2>/dev/null | grep -q "\"name\":\"$1\"" &&
		    return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# bg NAME OUTFILE ARGS...: start a client as NAME in the background.
bg() {
	_who=$1
	_outf=$2
	shift 2
	timeout -k 10 60 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/$_who.key" \
	    "$@" > "$_outf" 2> "$_outf.err" < /dev/null &
	BGPID=$!
	PIDS="$PIDS $BGPID"
}

# ------------------------------------------------------------ keys

ok "keygen creates a 0600 key in the XDG folder" \
    run 0 keygen
ok "keygen key file mode 600, folder 700" \
    test "$(stat -c %a "$XDG_CONFIG_HOME/secmsg/id.key")" = 600 -a \
    "$(stat -c %a "$XDG_CONFIG_HOME/secmsg")" = 700
ok "keygen prints public key, fingerprint, authorized_keys line" \
    sh -c 'grep -q "^public key:  [A-Za-z0-9+/]\{43\}=$" "$1" &&
    grep -q "^fingerprint: SHA256:" "$1" &&
    ! grep -q "$(cat "$2")" "$1"' - "$T/out" \
    "$XDG_CONFIG_HOME/secmsg/id.key"
PUB1=$(sed -n 's/^public key:  //p' "$T/out")
cp "$XDG_CONFIG_HOME/secmsg/id.key" "$T/id1"
ok "keygen refuses to overwrite without --force (exit 1)" \
    run 1 keygen
ok "refused keygen left the key alone" \
    cmp -s "$T/id1" "$XDG_CONFIG_HOME/secmsg/id.key"
ok "refusal says to use --force" grep -q -- "--force" "$T/err"
run 0 pubkey
ok "pubkey prints key then fingerprint" \
    sh -c '[ "$(sed -n 1p "$1")" = "$2" ] &&
    sed -n 2p "$1" | grep -q "^SHA256:[A-Za-z0-9_-]\{22\}$"' - "$T/out" "$PUB1"
ok "keygen --force replaces the key" run 0 keygen --force -q
ok "replaced key differs" \
    sh -c '! cmp -s "$1" "$2" && [ "$(cat "$3")" != "$4" ]' - "$T/id1" \
    "$XDG_CONFIG_HOME/secmsg/id.key" "$T/out" "$PUB1"
ok "keygen -o FILE, --json output" run 0 --json keygen -o "$T/alice.key"
ok "keygen --json has public_key and fingerprint" \
    json 'L[0]["type"] == "keygen" and len(L[0]["public_key"]) == 44
    and L[0]["fingerprint"].startswith("SHA256:")'
sed -n 's/.*"public_key":"\([^"]*\)".*/\1/p' "$T/out" > "$T/alice.pub"
ok "pubkey -i FILE --json matches" \
    sh -c '"$1" --json pubkey -i "$2" | grep -q "\"public_key\":\"$3\""' \
    - "$CLIENT" "$T/alice.key" "$(cat "$T/alice.pub")"
for n in bob carol dave; do
	"$CLIENT" -q keygen -o "$T/$n.key" > "$T/$n.pub"
done
cp "$T/alice.key" "$T/loose.key"
chmod 644 "$T/loose.key"
ok "a group/world-readable identity is refused (exit 1)" \
    run 1 -i "$T/loose.key" pubkey
ok "exit 1: missing identity" run 1 -i "$T/nothere.key" pubkey
ok "missing identity: says to run keygen" grep -q keygen "$T/err"
ok "--json: a missing identity is one error object" \
    sh -c '"$1" --json -i "$2" pubkey > "$3"; [ $? -eq 1 ]' - "$CLIENT" \
    "$T/nothere.key" "$T/out"
ok "--json: the error object names the command, status and file" \
    json 'len(L) == 1 and L[0]["type"] == "error" and
    L[0]["request"] == "pubkey" and L[0]["status"] == 1 and
    L[0]["error"] == "error" and "nothere.key" in L[0]["text"]'
# Output that cannot be written is a failure, said on stderr.
ok "pubkey > /dev/full: exit 1" \
    sh -c '"$1" -i "$2" pubkey > /dev/full 2> "$3"; [ $? -eq 1 ]' - \
    "$CLIENT" "$T/alice.key" "$T/err"
ok "pubkey > /dev/full: says why" grep -q "No space left" "$T/err"
ok "--json keygen > /dev/full: exit 1" \
    sh -c '"$1" --json keygen -o "$2" > /dev/full 2> /dev/null
    [ $? -eq 1 ]' - "$CLIENT" "$T/full.key"

# ------------------------------------------------------------ daemon

authorize alice
authorize bob
authorize carol "no-send" "publish=" "subscribe=plant1"
# dave is not authorized.
start_daemon 'idle_timeout = 5;' || exit 1
S="127.0.0.1:$PORT"

# ------------------------------------------------------------ first contact

ok "unknown server, no --accept-new, no tty: exit 4" run_as 4 alice ping
ok "first contact prints the server fingerprint" \
    grep -q "$("$SECMSGD" -p -c "$T/secmsgd.conf" | sed -n 2p)" "$T/err"
ok "refused first contact wrote no known_hosts" test ! -e "$KH"
ok "--accept-new: exit 0" run_as 0 alice --accept-new ping
ok "known_hosts holds the server key, mode 600" \
    sh -c '[ "$(cat "$1")" = "$2 $3" ] &&
    [ "$(stat -c %a "$1")" = 600 ]' - "$KH" "$S" "$SERVER_KEY"
ok "pinned server accepted without --accept-new" run_as 0 alice ping
ok "--server-key with the right key" \
    run_as 0 bob --known-hosts "$T/empty_kh" --server-key "$SERVER_KEY" ping
ok "--server-key does not write known_hosts" test ! -e "$T/empty_kh"
WRONG=$(cat "$T/dave.pub")
ok "--server-key with another key: exit 4" \
    run_as 4 bob --server-key "$WRONG" ping
ok "malformed --server-key: exit 2" run_as 2 bob --server-key abc ping
echo "$S $WRONG" > "$T/kh_wrong"
ok "changed server key: exit 4" \
    run_as 4 bob --known-hosts "$T/kh_wrong" --accept-new ping
ok "changed key warning is loud and says how to check and fix" \
    sh -c 'grep -q "WARNING" "$1" && grep -q "secmsgd -p" "$1" &&
    grep -q "line 1 of $2" "$1" && grep -q "$3" "$1"' - "$T/err" \
    "$T/kh_wrong" "$SERVER_KEY"
ok "changed key: known_hosts untouched even with --accept-new" \
    test "$(wc -l < "$T/kh_wrong")" -eq 1
ok "first contact confirmed with 'yes' on a terminal" \
    quiet timeout -k 10 30 expect -c "
	set timeout 20
	spawn $CLIENT -s $S -i $T/bob.key --known-hosts $T/kh_tty ping
	expect \"(yes/no)? \" { send \"yes\r\" } timeout { exit 1 }
	expect \"1 received\" {} timeout { exit 1 }
	expect eof
	catch wait r
	exit [lindex \$r 3]"
ok "confirmed key was remembered" grep -q "^$S $SERVER_KEY\$" "$T/kh_tty"
ok "first contact answered 'no' on a terminal: exit 4" \
    quiet timeout -k 10 30 expect -c "
	set timeout 20
	spawn $CLIENT -s $S -i $T/bob.key --known-hosts $T/kh_no ping
	expect \"(yes/no)? \" { send \"no\r\" } timeout { exit 1 }
	expect eof
	catch wait r
	exit [expr {[lindex \$r 3] == 4 ? 0 : 1}]"

# Everyone else trusts the server from now on (shared known_hosts).
run_as 0 bob ping

# ------------------------------------------------------------ requests

ok "ping -c 2: two replies and a summary" run_as 0 alice ping -c 2
ok "ping output like ping(8)" \
    sh -c '[ "$(grep -c "seq=.*time=.* ms" "$1")" -eq 2 ] &&
    grep -q "2 sent, 2 received, 0% loss" "$1"' - "$T/out"
ok "ping --json" run_as 0 alice --json ping
ok "ping --json objects" \
    json 'L[0]["type"] == "pong" and L[0]["rtt_ms"] >= 0 and
    L[1]["type"] == "ping_summary" and L[1]["received"] == 1'

bg bob "$T/bob.sub" --raw subscribe -n 2 nochannel
wait_online bob
ok "who lists bob" run_as 0 alice who
ok "who text output" grep -q "^peer  *bob  *1$" "$T/out"
ok "who --json" run_as 0 alice --json who
ok "who --json lists alice and bob" \
    json 'set(p["name"] for p in L[0]["peers"]) >= {"alice", "bob"}'
ok "who > /dev/full: exit 1" \
    sh -c '"$@" > /dev/full 2> /dev/null; [ $? -eq 1 ]' - "$CLIENT" \
    -s "$S" -i "$T/alice.key" who

ok "send from arguments" run_as 0 alice send bob hello "  bob"
ok "send prints nothing on success" test ! -s "$T/out" -a ! -s "$T/err"
head -c 3000 /dev/urandom > "$T/bin.in"
ok "send binary from stdin" \
    sh -c '"$@" < "$0"' "$T/bin.in" timeout -k 10 30 "$CLIENT" -s "$S" \
    -i "$T/alice.key" send bob
wait "$BGPID"
ok "subscriber exited 0 after -n 2" test $? -eq 0
printf 'hello   bob' > "$T/want"
cat "$T/bin.in" >> "$T/want"
ok "--raw: direct messages arrived byte for byte" \
    cmp "$T/want" "$T/bob.sub"

bg bob "$T/bob.json" --json subscribe -n 4 plant1 '#plant2'
wait_joined plant2
ok "publish --json to a channel with one subscriber" \
    run_as 0 alice --json publish plant1 "temp 21.5"
ok "publish --json reply keeps the counts: delivered 1, skipped 0" \
    json 'len(L) == 1 and L[0]["type"] == "ok" and
    L[0]["delivered"] == 1 and L[0]["skipped"] == 0'
printf 'a "quoted" \\ line\nand\ttab \001\n' > "$T/text.in"
ok "publish text from stdin" \
    sh -c '"$@" < "$0"' "$T/text.in" timeout -k 10 30 "$CLIENT" -s "$S" \
    -i "$T/alice.key" publish '#plant2'
ok "publish binary from stdin" \
    sh -c '"$@" < "$0"' "$T/bin.in" timeout -k 10 30 "$CLIENT" -s "$S" \
    -i "$T/alice.key" publish plant1
ok "send to bob while he subscribes" run_as 0 alice send bob direct
wait "$BGPID"
ok "json subscriber exited 0" test $? -eq 0
cp "$T/bob.json" "$T/out"
ok "--json deliveries parse, in order, with sender and channel" \
    json 'len(L) == 4 and all(d["type"] == "deliver" and
    d["from"] == "alice" for d in L) and
    [d["channel"] for d in L] == ["plant1", "plant2", "plant1", None]'
ok "--json text body exact (escapes)" \
    json 'L[0]["body"] == "temp 21.5" and
    L[1]["body"] == open(sys.argv[1][:-3] + "text.in").read() and
    L[3]["body"] == "direct"'
ok "--json binary body as body_b64, exact" \
    json '"body" not in L[2] and base64.b64decode(L[2]["body_b64"]) ==
    open(sys.argv[1][:-3] + "bin.in", "rb").read()'
ok "--json timestamps are ms since the epoch, now" \
    json 'all(abs(d["ts"] / 1000 - __import__("time").time()) < 60
    for d in L)'

bg bob "$T/bob.txt" subscribe -n 2 text1
wait_joined text1
run_as 0 alice publish text1 "esc $(printf '\033')[31m red"
run_as 0 alice publish text1 "second"
wait "$BGPID"
ok "text deliveries: time, channel, sender, escaped body" \
    sh -c 'grep -q "^\[$2\] #text1 alice: esc \\\\x1b\[31m red$" "$1" &&
    grep -q "^\[$2\] #text1 alice: second$" "$1"' - "$T/bob.txt" \
    "[0-2][0-9]:[0-5][0-9]:[0-9][0-9]"

# A sender's newlines, carriage returns, line separators and bidi
# overrides must not let its message print a line that looks like someone
# else's: each delivery is exactly one line, the breaks shown escaped.
bg bob "$T/bob.forge" subscribe -n 2 text2
wait_joined text2
H='[12:00:00] #text2 carol:'
LS=$(printf '\342\200\250')		# U+2028 LINE SEPARATOR
RLO=$(printf '\342\200\256')		# U+202E RIGHT-TO-LEFT OVERRIDE
printf 'ok\n%s one\r%s two%s%s %sthree\n' "$H" "$H" "$LS" "$H" "$RLO" \
    > "$T/forge.in"
ok "publish a body with line breaks from stdin" \
    sh -c '"$@" < "$0"' "$T/forge.in" timeout -k 10 30 "$CLIENT" -s "$S" \
    -i "$T/alice.key" publish text2
run_as 0 alice publish text2 "after"
wait "$BGPID"
ok "text: one line per delivery, no line from carol" \
    sh -c '[ "$(wc -l < "$1")" -eq 2 ] &&
    ! grep -q "^\[12:00:0.\] #text2 carol:" "$1" &&
    [ "$(grep -c "^\[$2\] #text2 alice: " "$1")" -eq 2 ]' - \
    "$T/bob.forge" "[0-2][0-9]:[0-5][0-9]:[0-9][0-9]"
ok "text: the breaks and the override shown as escapes" \
    grep -qF "alice: ok\\n$H one\\r$H two\\u2028$H \\u202ethree" \
    "$T/bob.forge"

# The daemon's default max_message_size is 1 MiB (of body).
MAXBODY=1048576
head -c "$MAXBODY" /dev/urandom > "$T/max.in"
bg bob "$T/max.out" --raw subscribe -n 1 nochannel
wait_online bob
ok "send of a maximum-size body from stdin" \
    sh -c '"$@" < "$0"' "$T/max.in" timeout -k 10 30 "$CLIENT" -s "$S" \
    -i "$T/alice.key" send bob
wait "$BGPID"
ok "maximum-size body arrived byte for byte" cmp "$T/max.in" "$T/max.out"
head -c 1 /dev/zero >> "$T/max.in"
ok "exit 6: one byte above the server's maximum" \
    sh -c 'timeout -k 10 30 "$@" < "$0" 2> "$0.err"; [ $? -eq 6 ] &&
    grep -q "maximum" "$0.err"' "$T/max.in" "$CLIENT" -s "$S" \
    -i "$T/alice.key" send bob

ok "send --json ok object" run_as 0 alice --json publish plant1 x
ok "send --json ok fields" \
    json 'L[0]["type"] == "ok" and L[0]["request"] == "publish" and
    L[0]["target"] == "plant1" and L[0]["delivered"] == 0 and
    L[0]["skipped"] == 0'

# ------------------------------------------------------------ pipes, -W

# `subscribe | head -n 1`: once head is gone, the next message cannot be
# written and the subscriber must end, quietly, with status 1.
timeout -k 10 30 sh -c '("$1" -s "$2" -i "$3" subscribe pipe1 \
    2> "$4.err"; echo $? > "$4.rc") | head -n 1 > "$4.out"' - "$CLIENT" \
    "$S" "$T/bob.key" "$T/pipe" &
PIPEPID=$!
PIDS="$PIDS $PIPEPID"
wait_joined pipe1
i=0
while [ ! -s "$T/pipe.rc" ] && [ $i -lt 50 ]; do
	run_as 0 alice publish pipe1 "line $i"
	sleep 0.1
	i=$((i + 1))
done
wait "$PIPEPID"
ok "subscribe | head -n 1: the subscriber ends with status 1" \
    test "$(cat "$T/pipe.rc" 2>/dev/null)" = 1
ok "subscribe | head -n 1: quietly (EPIPE)" test ! -s "$T/pipe.err"
ok "subscribe | head -n 1: head got the first message" \
    grep -q "alice: line 0$" "$T/pipe.out"

ok "subscribe -W 1, nothing published: exit 7" \
    run_as 7 bob subscribe -W 1 quiet1
ok "subscribe -W: says the time is up" grep -q -- "-W" "$T/err"
ok "subscribe --max-wait 1 --json: exit 7" \
    run_as 7 bob --json subscribe --max-wait 1 quiet1
ok "subscribe -W --json: one timeout object" \
    json 'len(L) == 1 and L[0]["type"] == "error" and
    L[0]["request"] == "subscribe" and L[0]["error"] == "timeout" and
    L[0]["status"] == 7'
bg bob "$T/bob.w" subscribe -n 3 -W 8 wch
wait_joined wch
run_as 0 alice publish wch "only one"
wait "$BGPID"
ok "subscribe -n 3 -W 8 with one message: exit 7" test $? -eq 7
ok "subscribe -W: the message before the time was up is shown" \
    grep -q "alice: only one$" "$T/bob.w"
ok "exit 2: -W is for subscribe only" run_as 2 alice ping -W 3
ok "exit 2: -W 0" run_as 2 alice subscribe -W 0 x

# ------------------------------------------------------------ keep-alive

bg bob "$T/bob.idle" subscribe -n 1 idle
wait_joined idle
sleep 7		# idle_timeout is 5: only pings keep bob connected
ok "subscriber outlives the idle timeout (pings)" run_as 0 alice \
    publish idle "still there"
wait "$BGPID"
ok "subscriber got the late message" grep -q "alice: still there" \
    "$T/bob.idle"

# ------------------------------------------------------------ exit codes

ok "exit 2: unknown option" run 2 --no-such-option ping
ok "exit 2: unknown command" run 2 frobnicate
ok "exit 2: no command" run 2
ok "exit 2: option of another command" run 2 who -c 3
# usage_exit ARGS...: exit 2 with the usage text on stderr, nothing done.
usage_exit() { run 2 "$@" && grep -q '^usage: secmsg-client' "$T/err"; }
for args in "ping x" "keygen x" "pubkey x" "who x" "send" "publish" \
    "subscribe" "chat a b"; do
	# shellcheck disable=SC2086
	ok "exit 2 and usage: $args" usage_exit -i "$T/nothere.key" $args
done
ok "-h: usage on stdout, exit 0" \
    sh -c '"$1" send -h 2>/dev/null | grep -q "^usage: secmsg-client"' - \
    "$CLIENT"
ok "exit 2: bad peer name" run_as 2 alice send "bad name!" hi
ok "exit 2: --json with --raw" run 2 --json --raw who
ok "exit 2: bad server address (bare IPv6)" \
    run 2 -s ::1:7300 -i "$T/alice.key" ping
ok "exit 1: bad config file, file:line: setting" \
    sh -c 'printf "server = \"x\";\nbogus = 1;\n" > "$1/c.conf";
    "$2" -F "$1/c.conf" who 2>&1 | grep -q "c.conf:2: bogus"' - "$T" \
    "$CLIENT"
printf 'server = "%s";\nidentity = "%s";\ntimeout = 5;\n' "$S" \
    "$T/alice.key" > "$T/good.conf"
ok "config file sets server and identity" run 0 -F "$T/good.conf" ping
ok "exit 3: connection refused" \
    run 3 -s 127.0.0.1:1 -i "$T/alice.key" ping
ok "exit 3 --json: connection refused" \
    run 3 --json -s 127.0.0.1:1 -i "$T/alice.key" ping
ok "--json: connection refused is one error object" \
    json 'len(L) == 1 and L[0]["type"] == "error" and
    L[0]["request"] == "ping" and L[0]["error"] == "network" and
    L[0]["status"] == 3 and "refused" in L[0]["text"]'
ok "exit 4 --json: pin mismatch" \
    run_as 4 bob --json --server-key "$WRONG" send alice hi
ok "--json: pin mismatch is one error object" \
    json 'len(L) == 1 and L[0]["error"] == "server-key" and
    L[0]["status"] == 4 and L[0]["request"] == "send"'
ok "exit 5 --json: REFUSED" run_as 5 dave --json subscribe x
ok "--json: REFUSED is one error object" \
    json 'len(L) == 1 and L[0]["error"] == "refused" and
    L[0]["status"] == 5'
ok "exit 2 --json: usage error is one error object" \
    sh -c '"$1" --json who extra > "$2" 2> /dev/null; [ $? -eq 2 ]' - \
    "$CLIENT" "$T/out"
ok "--json: usage error object" \
    json 'len(L) == 1 and L[0]["error"] == "usage" and L[0]["status"] == 2'
ok "exit 3: bad host name" \
    run 3 -s no-such-host.invalid:7300 -i "$T/alice.key" ping
ok "exit 4: key mismatch (above) and unknown key" \
    run_as 4 alice --known-hosts "$T/kh_none" ping
ok "exit 5: key not authorized (REFUSED)" run_as 5 dave ping
ok "REFUSED reason shown" grep -q "refused" "$T/err"
ok "exit 6: unknown peer" run_as 6 alice send nobody hi
ok "unknown peer error text" grep -q "unknown" "$T/err"
ok "exit 6: peer offline" run_as 6 alice send carol hi
ok "offline error text" grep -q "offline" "$T/err"
ok "exit 6: not permitted (no-send)" run_as 6 carol send alice hi
ok "exit 6: not permitted (publish=)" run_as 6 carol publish plant1 hi
ok "exit 6: --json error object" run_as 6 alice --json send carol hi
ok "--json error fields" \
    json 'len(L) == 1 and L[0]["type"] == "error" and
    L[0]["code_name"] == "offline" and L[0]["code"] == 4 and
    L[0]["error"] == "request" and L[0]["status"] == 6'
# The man page's script example must see the exit status it tests: run
# it as it is, secmsg-client being bob's (alice is offline: status 6).
mkdir -p "$T/bin"
printf '#!/bin/sh\nexec "%s" -s "%s" -i "%s" "$@"\n' "$CLIENT" "$S" \
    "$T/bob.key" > "$T/bin/secmsg-client"
chmod 755 "$T/bin/secmsg-client"
awk '/act on the result/ { f = 1; next }
    f && /^\.Bd/ { g = 1; next }
    g && /^\.Ed/ { exit }
    g { print }' "$top_srcdir/man/secmsg-client.1.in" |
    sed -e 's/\\e/\\/g' -e 's/\\&//g' > "$T/example.sh"
ok "man page example: sees status 6 (alice offline)" \
    sh -c 'PATH="$1:$PATH" timeout -k 10 30 sh "$2" |
    grep -qx "alice is not online"' - "$T/bin" "$T/example.sh"
"$PY" -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(5)
print(s.getsockname()[1], flush=True)
c = s.accept()
time.sleep(20)' > "$T/silent.port" &
PIDS="$PIDS $!"
wait_for "$T/silent.port" '[0-9]'
ok "exit 7: silent server, --timeout 1" \
    run 7 -s "127.0.0.1:$(cat "$T/silent.port")" -i "$T/alice.key" \
    --server-key "$SERVER_KEY" --timeout 1 ping
ok "exit 7 --json: silent server" \
    run 7 --json -s "127.0.0.1:$(cat "$T/silent.port")" \
    -i "$T/alice.key" --server-key "$SERVER_KEY" --timeout 1 who
ok "--json: timeout is one error object" \
    json 'len(L) == 1 and L[0]["error"] == "timeout" and
    L[0]["status"] == 7 and L[0]["request"] == "who"'

# ------------------------------------------------------------ chat

mkfifo "$T/bob.fifo"
timeout -k 10 60 "$CLIENT" -s "$S" -i "$T/bob.key" chat alice \
    < "$T/bob.fifo" > "$T/bob.chat" 2>&1 &
CHATPID=$!
PIDS="$PIDS $CHATPID"
exec 7> "$T/bob.fifo"
wait_online bob
ok "chat through a pty: lines both ways with a second client" \
    quiet timeout -k 10 40 expect -c "
	set timeout 20
	spawn $CLIENT -s $S -i $T/alice.key chat bob
	expect \"connected as alice\" {} timeout { exit 1 }
	send \"hello from alice\r\"
	sleep 0.5
	exec sh -c {printf 'hi alice\n' >&7}
	expect -re {\[\d\d:\d\d:\d\d\] bob: hi alice} {} timeout { exit 2 }
	expect \"alice> \" {} timeout { exit 4 }
	send \"/who\r\"
	expect -re {peer +bob 1} {} timeout { exit 5 }
	expect \"alice> \" {} timeout { exit 6 }
	send \"half\"
	sleep 0.3
	exec sh -c {printf 'while you type\n' >&7}
	expect -re {bob: while you type\r\n} {} timeout { exit 7 }
	expect \"alice> half\" {} timeout { exit 8 }
	send \" done\r\"
	expect \"alice> \" {} timeout { exit 9 }
	send \"//slash\r\"
	expect \"alice> \" {} timeout { exit 10 }
	send \"/bogus\r\"
	expect \"unknown command\" {} timeout { exit 11 }
	exec sh -c {printf '/who\n' >&7}
	send \"@carol anyone?\r\"
	expect \"offline\" {} timeout { exit 3 }
	send \"\004\"
	expect eof
	catch wait r
	exit [lindex \$r 3]"
ok "bob (a pipe) saw alice's line" \
    wait_for "$T/bob.chat" '^\[..:..:..\] alice: hello from alice$' 50
ok "chat on a terminal: a message coming while a line is half typed does not cut it" \
    grep -q '^\[..:..:..\] alice: half done$' "$T/bob.chat"
ok "chat: //TEXT sends /TEXT; /who and /bogus are commands, never sent" \
    sh -c "grep -q '^\[..:..:..\] alice: /slash\$' '$T/bob.chat' &&
	! grep -q 'alice: /who' '$T/bob.chat' &&
	! grep -q 'alice: /bogus' '$T/bob.chat'"
ok "chat from a pipe: /who is a command there too" \
    grep -Eq '^peer +alice 1$' "$T/bob.chat"
exec 7>&-
wait "$CHATPID"
ok "chat ends with status 0 at end of input" test $? -eq 0
ok "chat to #channel joins it and shows the channel" \
    sh -c 'printf "hi all\n" | timeout -k 10 30 "$1" -s "$2" -i "$3" chat "#room"
    ' - "$CLIENT" "$S" "$T/alice.key"

# ------------------------------------------------------------ endings

bg bob "$T/bob.int" subscribe sig
SUBPID=$BGPID
wait_online bob
# The client itself, not timeout(1): timeout follows the SIGTERM it passes
# on with a SIGCONT, which can cancel the SIGSTOP of LeakSanitizer's
# check at exit (ASan builds) and leave the client spinning for ever.
kill -TERM "$(pgrep -P "$SUBPID")"
wait "$SUBPID"
ok "subscribe ends with status 0 on SIGTERM" test $? -eq 0
bg bob "$T/bob.bye" subscribe bye
SUBPID=$BGPID
wait_online bob
stop_daemon
ok "daemon stopped cleanly" test "$DSTATUS" -eq 0
wait "$SUBPID"
ok "exit 3: server said goodbye (shutdown) to a subscriber" test $? -eq 3
ok "goodbye reason shown" grep -q "server closed the connection: shutdown" \
    "$T/bob.bye.err"
plan "$TAP_N"
[ "$TAP_FAILED" -eq 0 ]

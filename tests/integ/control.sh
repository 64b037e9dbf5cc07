#!/bin/sh
# tests/integ/control.sh: the control socket and secmsgctl against a live
# daemon (issue 15): status, sessions, channels, kick by id, name, key
# (base64 and fingerprint) with GOODBYE 22 at the client and the kick
# logged, reload (ok; a bad file: file:line, exit 1, the old configuration
# still serving), --json validity, a refused non-owner (as root only), and
# the bounds: an oversized request line, too many control clients, and a
# control client that asks for the sessions and never reads does not stall
# relaying, and is dropped before its listing is complete.

. "${top_srcdir:-.}/tests/integ/lib.sh"

CTL="$top_builddir/src/secmsgctl"
BENCH="$top_builddir/bench/secmsg-bench"
[ -x "$CTL" ] || skip_all "no secmsgctl binary"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"
[ -x "$PY" ] || skip_all "no /usr/bin/python3"

HOME="$T/home"
XDG_CONFIG_HOME="$T/home/.config"
export HOME XDG_CONFIG_HOME
mkdir -p "$HOME"
SOCK="$T/control.sock"

# ctl STATUS ARGS...: secmsgctl (bounded) on our socket, output in
# $T/out and $T/err; true when it exits with STATUS.
ctl() {
	_want=$1
	shift
	timeout -k 5 30 "$CTL" -s "$SOCK" "$@" > "$T/out" 2> "$T/err"
	RC=$?
	if [ "$RC" -ne "$_want" ]; then
		echo "# secmsgctl $*: exit $RC, wanted $_want"
		sed 's/^/# stdout: /' "$T/out" | head -n 10
		sed 's/^/# stderr: /' "$T/err" | head -n 10
		return 1
	fi
	return 0
}

# py EXPR: a python3 expression over $T/out parsed as JSON (J).
py() {
	"$PY" -c '
import json, sys
J = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$T/out" "$1"
}

# bg NAME ARGS...: a client as NAME in the background, output in
# $T/NAME.out and .err; its pid in BG_NAME.
bg() {
	_who=$1
	shift
	timeout -k 10 60 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/$_who.key" \
	    --server-key "$SERVER_KEY" "$@" > "$T/$_who.out" \
	    2> "$T/$_who.err" < /dev/null &
	eval "BG_$_who=$!"
	PIDS="$PIDS $!"
}

# until_ok TENTHS CMD...: retry CMD until it succeeds (bounded).
until_ok() {
	_n=$1
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# subscribers CHANNEL N: secmsgctl lists CHANNEL with N subscribers.
subscribers() {
	timeout -k 5 10 "$CTL" -s "$SOCK" --json channels > "$T/ch.json" &&
	    "$PY" -c '
import json, sys
J = json.load(open(sys.argv[1]))
sys.exit(0 if any(c["name"] == sys.argv[2] and
    c["subscribers"] == int(sys.argv[3]) for c in J) else 1)' \
	    "$T/ch.json" "$1" "$2"
}

# exited PID STATUS: PID ends (within 10s) with STATUS.
exited() {
	_i=0
	while [ $_i -lt 100 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
	wait "$1"
	[ $? -eq "$2" ]
}

# session_field NAME FIELD: FIELD of NAME's first session ($T/out JSON).
session_field() {
	"$PY" -c '
import json, sys
J = json.load(open(sys.argv[1]))
print([s for s in J if s["name"] == sys.argv[2]][0][sys.argv[3]])' \
	    "$T/out" "$1" "$2"
}

# skip NAME REASON: a TAP skip.
skip() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1 # SKIP $2"
}

plan 53

# A control socket set in the file, in a folder that does not exist: -t
# and the start refuse it alike.
PORT=$(random_port)
CONTROL_SOCKET="$T/nodir/c.sock" write_conf ''
"$SECMSGD" -t -c "$T/secmsgd.conf" > "$T/t.out" 2>&1
RC=$?
ok "-t: a control_socket in a missing folder is an error (exit 78)" \
    sh -c '[ "$0" -eq 78 ] &&
    grep -q "secmsgd.conf: control_socket: no directory $1/nodir" "$2"' \
    "$RC" "$T" "$T/t.out"
timeout -k 5 20 "$SECMSGD" -f -c "$T/secmsgd.conf" > "$T/s.out" 2>&1
RC=$?
ok "... and so is the start (exit 78)" \
    sh -c '[ "$0" -eq 78 ] && grep -q "control_socket: no directory" "$1"' \
    "$RC" "$T/s.out"

# A live socket of another kind at the path (a datagram one: connecting
# to it fails with EPROTOTYPE, not ECONNREFUSED) is not stale: the start
# refuses it and leaves it alone.
"$PY" -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
open(sys.argv[1] + ".up", "w").close()
print(s.recv(64).decode())' "$T/dgram.sock" > "$T/dgram.out" 2>&1 &
DGRAM=$!
PIDS="$PIDS $DGRAM"
until_ok 50 test -e "$T/dgram.sock.up"
CONTROL_SOCKET="$T/dgram.sock" write_conf ''
timeout -k 5 10 "$SECMSGD" -f -c "$T/secmsgd.conf" > "$T/d.out" 2>&1
RC=$?
ok "a live socket of another process at the path: the start refuses it" \
    sh -c 'echo "# exit $0"; [ "$0" -ne 0 ] && [ "$0" -ne 124 ] &&
    grep -q "dgram.sock: may be in use by another process" "$1"' \
    "$RC" "$T/d.out"
"$PY" -c '
import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"still", sys.argv[1])
' "$T/dgram.sock" 2>/dev/null
wait "$DGRAM"
ok "... and leaves it in place" grep -qx still "$T/dgram.out"

# secmsgctl does not trust what answers at the socket: an error message
# with a terminal escape (ESC ] 0 ; ... BEL, escaped as the protocol
# does) is shown escaped, never raw.
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
s.settimeout(30)
c, _ = s.accept()
c.recv(1024)
c.sendall(b"end status=error msg=\\x1b]0;pwned\\x07\n")
c.close()' "$T/fake.sock" &
FAKE=$!
PIDS="$PIDS $FAKE"
until_ok 50 test -S "$T/fake.sock"
timeout -k 5 20 "$CTL" -s "$T/fake.sock" status > /dev/null 2> "$T/fake.err"
wait "$FAKE"
ok "secmsgctl shows an error's control bytes escaped, not raw" \
    sh -c 'sed "s/^/# /" "$0" | cat -v; ! grep -q "$(printf "\033")" "$0" &&
    grep -qF "status: \\x1b]0;pwned\\x07" "$0"' "$T/fake.err"

for n in alice bob carol dave; do
	keygen $n
	authorize $n
done
start_daemon "handshake_rate = 0;
max_connections = 2000;
max_connections_per_address = 2000;
max_handshakes = 2000;" || exit 1

# ------------------------------------------------------------ socket, status
ok "socket: mode 600, owned by the daemon's user" \
    test "$(stat -c '%a %u' "$SOCK")" = "600 $(id -u)"
ok "status: exit 0" ctl 0 status
ok "status: version, sessions, loops shown" \
    sh -c 'grep -q "^version  *'"$(sed -n 's/^AC_INIT(\[secmsgd\], \[\([^]]*\)\].*/\1/p' \
    "$top_srcdir/configure.ac")"'$" "$0" && grep -q "^sessions  *0$" "$0" &&
    grep -q "^loops  *[1-9]" "$0"' "$T/out"
ok "status --json: valid JSON with the pid" ctl 0 --json status
ok "status --json: pid and config" \
    py "J['pid'] == $(daemon_pid) and J['config'] == '$T/secmsgd.conf'"
ok "sessions and channels, none yet: said so" \
    sh -c '"$0" -s "$1" sessions | grep -qx "no sessions" &&
    "$0" -s "$1" channels | grep -qx "no channels"' "$CTL" "$SOCK"
ok "secmsgctl -f finds the socket in the configuration" \
    sh -c 'timeout -k 5 30 "$0" -f "$1" status | grep -q "^pid"' \
    "$CTL" "$T/secmsgd.conf"

# ------------------------------------------------------------ listings
bg alice subscribe news ops
bg bob subscribe news
ok "channels: news with 2 subscribers" until_ok 100 subscribers news 2
ok "channels: ops with 1" subscribers ops 1
ok "channels (table): news 2" \
    sh -c '"$0" -s "$1" channels | grep -Eq "^news +2$"' "$CTL" "$SOCK"
ok "channels --json: valid JSON" \
    sh -c '"$0" -s "$1" --json channels | "$2" -m json.tool >/dev/null' \
    "$CTL" "$SOCK" "$PY"
ok "sessions --json: valid JSON" \
    sh -c '"$0" -s "$1" --json sessions > "$2" &&
    "$3" -m json.tool < "$2" >/dev/null' "$CTL" "$SOCK" "$T/out" "$PY"
ok "sessions: alice with her key, peer, loop, since and channels" \
    py "[s['name'] for s in J] in (['alice', 'bob'], ['bob', 'alice']) and
    all(s['key'].startswith('SHA256:') and
    s['peer'].startswith('127.0.0.1:') and s['state'] == 'open' and
    isinstance(s['loop'], int) and s['since'] > 1700000000 for s in J) and
    [s for s in J if s['name'] == 'alice'][0]['joined'] in
    (['news', 'ops'], ['ops', 'news']) and
    [s for s in J if s['name'] == 'alice'][0]['channels'] == 2"
ok "sessions: message and byte counters move" \
    py "all(s['msgs_in'] >= 1 and s['bytes_in'] > 0 and
    s['msgs_out'] >= 1 and s['bytes_out'] > 0 for s in J) and
    [s for s in J if s['name'] == 'alice'][0]['msgs_in'] >= 2"
ALICE_ID=$(session_field alice id)
ok "sessions (table): alice's row" \
    sh -c '"$0" -s "$1" sessions | grep -Eq "^$2 +alice +SHA256:"' \
    "$CTL" "$SOCK" "$ALICE_ID"

# ------------------------------------------------------------ kick
ok "kick name bob: exit 0, 1 session" \
    sh -c 'timeout -k 5 30 "$0" -s "$1" kick name bob too chatty |
    grep -qx "kicked 1 session(s)"' "$CTL" "$SOCK"
ok "kicked client: exit 3 (GOODBYE)" exited "$BG_bob" 3
ok "kicked client: saw GOODBYE kicked with the reason" \
    grep -q "kicked.*too chatty" "$T/bob.err"
ok "kick logged: who, and the session with its reason" \
    sh -c 'grep -q "control: kick name bob reason=\"too chatty\" uid=" "$0" &&
    grep -Eq "session [0-9a-f]{16} kicked name=bob .*reason=\"too chatty\"" \
    "$0" && grep -Eq "closed reason=kicked .*name=bob" "$0"' \
    "$T/daemon.log"
ok "kick id (alice's): exit 0" ctl 0 kick id "$ALICE_ID"
ok "kicked by id: alice exits 3" exited "$BG_alice" 3
ok "kicked by id: the default reason" \
    grep -q "kicked by the operator" "$T/alice.err"
bg carol subscribe x
bg dave subscribe x
ok "carol and dave subscribed" until_ok 100 subscribers x 2
ok "kick key (base64 public key): carol" \
    ctl 0 kick key "$(cat "$T/carol.pub")"
ok "kicked by key: carol exits 3" exited "$BG_carol" 3
ctl 0 --json sessions
DAVE_FP=$(session_field dave key)
ok "kick key (fingerprint): dave" ctl 0 kick key "$DAVE_FP"
ok "kicked by fingerprint: dave exits 3" exited "$BG_dave" 3
ok "kick of nobody: exit 1, no such session" \
    sh -c 'ctl_rc=0; "$0" -s "$1" kick name nobody 2> "$2" || ctl_rc=$?;
    [ $ctl_rc -eq 1 ] && grep -q "no such session" "$2"' \
    "$CTL" "$SOCK" "$T/err"
ok "kick with a bad selector: usage, exit 2" ctl 2 kick pid 1

# ------------------------------------------------------------ reload
ok "reload: exit 0, ok" \
    sh -c 'timeout -k 5 30 "$0" -s "$1" reload | grep -qx "reload: ok"' \
    "$CTL" "$SOCK"
cp "$T/secmsgd.conf" "$T/good.conf"
printf 'idle_timeout = 1;\n' >> "$T/secmsgd.conf"
BADLINE=$(wc -l < "$T/secmsgd.conf")
ok "reload of a bad file: exit 1" ctl 1 reload
ok "reload of a bad file: file:line: setting in the error" \
    grep -q "reload failed: $T/secmsgd.conf:$BADLINE: idle_timeout:" "$T/err"
ok "after the failed reload: status says so, and clients still served" \
    sh -c '"$0" -s "$1" status | grep -q "^reload  *failed$" &&
    timeout -k 5 20 "$2" -s "127.0.0.1:$3" -i "$4" --server-key "$5" ping \
    >/dev/null' "$CTL" "$SOCK" "$CLIENT" "$PORT" "$T/alice.key" \
    "$SERVER_KEY"
cp "$T/good.conf" "$T/secmsgd.conf"

# ------------------------------------------------------------ who may
if [ "$(id -u)" -eq 0 ]; then
	chmod 711 "$T"
	ok "non-owner: the socket's mode keeps it out (exit 3)" \
	    sh -c 'setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    timeout -k 5 20 "$0" -s "$1" status 2>/dev/null; [ $? -eq 3 ]' \
	    "$CTL" "$SOCK"
	chmod 666 "$SOCK"
	ok "non-owner on an open socket: refused by its uid (exit 1)" \
	    sh -c 'setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    timeout -k 5 20 "$0" -s "$1" status 2>"$2"; rc=$?;
	    sed "s/^/# /" "$2"; [ $rc -eq 1 ] &&
	    grep -q "permission denied" "$2"' "$CTL" "$SOCK" "$T/err"
	ok "non-owner refusal logged with its uid" \
	    grep -q "control: client refused reason=\"permission denied\" uid=65534" \
	    "$T/daemon.log"
	chmod 600 "$SOCK"
	chmod 700 "$T"
else
	skip "non-owner: the socket's mode keeps it out" "not root"
	skip "non-owner on an open socket: refused by its uid" "not root"
	skip "non-owner refusal logged with its uid" "not root"
fi

# ------------------------------------------------------------ bounds
ok "an oversized request line is refused" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"status " + b" " * 2000 + b"\n")
r = b""
while not r.endswith(b"\n"):
    d = s.recv(4096)
    if not d:
        break
    r += d
sys.exit(0 if r == b"end status=error msg=request\\x20line\\x20too\\x20long\n"
    else 1)' "$SOCK"
ok "a fifth control client at once is refused" "$PY" -c '
import socket, sys
held = []
for i in range(4):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    held.append(s)
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
r = s.recv(4096)
sys.exit(0 if b"too\\x20many\\x20control\\x20clients" in r else 1)' "$SOCK"

# Many sessions, so that their listing is far larger than the socket's
# buffers; a control client asks for it and reads nothing.
if [ -x "$BENCH" ]; then
	stop_daemon
	ok "the daemon stops cleanly (exit 0)" test "$DSTATUS" -eq 0
	start_daemon "handshake_rate = 0;
client_auth = \"any\";
max_connections = 2000;
max_connections_per_address = 2000;
max_handshakes = 2000;" || exit 1
	timeout -k 5 90 "$BENCH" -s "127.0.0.1:$PORT" --insecure-any-key \
	    -n 1500 -d 60 idle > "$T/bench.out" 2>&1 &
	PIDS="$PIDS $!"
	until_ok 400 sh -c '"$0" -s "$1" status | grep -Eq "^sessions +1500$"' \
	    "$CTL" "$SOCK"
	"$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"sessions\n")
open(sys.argv[2], "w").close()
time.sleep(14)
s.settimeout(5)
r = b""
while True:
    try:
        d = s.recv(65536)
    except Exception:
        break
    if not d:
        break
    r += d
print(len(r), r.count(b"\nsession "), b"end status=" in r)' \
	    "$SOCK" "$T/stuck.go" > "$T/stuck.out" 2>&1 &
	STUCK=$!
	PIDS="$PIDS $STUCK"
	until_ok 50 test -e "$T/stuck.go"
	sleep 1
	ok "with a control client not reading: a client's ping is answered" \
	    sh -c 'timeout -k 5 20 "$0" -s "127.0.0.1:$1" -i "$2" \
	    --accept-new --known-hosts "$3" ping >/dev/null' \
	    "$CLIENT" "$PORT" "$T/alice.key" "$T/kh"
	ok "with a control client not reading: status is answered" \
	    ctl 0 status
	wait "$STUCK"
	ok "the stuck client is dropped, its listing not complete" \
	    sh -c 'read len n done < "$0"; echo "# got $len bytes, $n sessions";
	    [ "$done" = False ] && [ "$n" -lt 1500 ]' "$T/stuck.out"
	ok "the drop is logged" grep -q "control: client uid=.* dropped" \
	    "$T/daemon.log"
	# Listed a page at a time, only once the last has left: what the
	# daemon held for it is at most two pages (2 x 16 KiB).
	ok "the daemon held at most two pages of its listing" sh -c '
	    q=$(sed -n "s/.*control: client uid=.* dropped.* queued=\([0-9]*\)$/\1/p" \
	    "$0" | tail -n 1); echo "# queued=$q"; [ -n "$q" ] && [ "$q" -le 32768 ]' \
	    "$T/daemon.log"
else
	skip "the daemon stops cleanly (exit 0)" "no secmsg-bench"
	for n in 1 2 3 4 5; do
		skip "stuck control client check $n" "no secmsg-bench"
	done
fi

stop_daemon
ok "it stops cleanly (exit 0)" test "$DSTATUS" -eq 0
ok "at exit the socket file is removed" test ! -e "$SOCK"

# Out of descriptors (ulimit -n 48, held by 80 client connections), a
# control client waits in the backlog: accept is paused, not retried at
# once, which would spin the main loop (libevent logging every turn).
printf '#!/bin/sh\nulimit -n 48 || exit 1\nexec "%s" "$@"\n' "$SECMSGD" \
    > "$T/lowfd.sh"
chmod +x "$T/lowfd.sh"
SECMSGD="$T/lowfd.sh" start_daemon "handshake_rate = 0;
handshake_timeout = 30;
max_connections = 2000;
max_connections_per_address = 2000;
max_handshakes = 2000;" || exit 1
timeout -k 5 30 "$PY" -c '
import socket, sys, time
held = []
for i in range(80):
    try:
        held.append(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
    except OSError:
        break
time.sleep(1)
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[2])
c.sendall(b"status\n")
time.sleep(3)
print(len(held))' "$PORT" "$SOCK" > "$T/emfile.out" 2>&1
ok "out of descriptors: the control accept failure is logged by us" \
    sh -c 'sed "s/^/# /" "$1"; grep -q "control: accept failed: .*pausing" \
    "$0"' "$T/daemon.log" "$T/emfile.out"
ok "... and not retried in a loop (no libevent accept error)" \
    sh -c '! grep -q "libevent: Error from accept" "$0" ||
    { echo "# $(grep -c "libevent: Error from accept" "$0") lines"; false; }' \
    "$T/daemon.log"
stop_daemon
exit 0

#!/bin/sh
# tests/integ/rotate.sh: server key rotation (issue 14; doc/PROTOCOL.md
# 7.8, secmsgd(8) ROTATING THE SERVER KEY), TAP.
#
# The daemon always sets hello feature bit 0 and sends NEXTKEY (its
# next key, or "no next key") to a client that sets it; the client then
# makes its known_hosts lines for the host exactly the keys the server
# holds.  A key planted beside A goes at the next connection.
# secmsgd -g -N makes a next key B beside the current key A.  A client
# pinned to A through known_hosts connects, learns B (said once;
# known_hosts then lists both); the daemon restarts with B promoted (and
# no next key); that client connects without a prompt and forgets A
# (known_hosts then lists only B), while one that never saw B fails with
# exit 4.  The independent Python implementation
# (tests/interop/secmsg_noise.py, written from the document) checks the
# daemon's proof, and that a client without feature bit 0 gets no
# NEXTKEY; acting as a server, it announces a key whose private half it
# does not hold, which secmsg-client refuses to record.  The next key's
# file checks and the known-hosts subcommand come last.
#
# The daemon also listens on a Unix socket, so that the client's
# known_hosts entry ("unix:PATH") stays the same across restarts.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$SECMSGD" ] || skip_all "no secmsgd binary"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"

HOME="$T/home"
XDG_CONFIG_HOME="$T/home/.config"
export HOME XDG_CONFIG_HOME
mkdir -p "$HOME"
PYLIB="$top_srcdir/tests/interop/secmsg_noise.py"
HAVE_PY=0
"$PY" -c 'import dissononce' 2>/dev/null && HAVE_PY=1
SOCK="$T/sm.sock"
SRV="unix:$SOCK"
LISTEN_EXTRA=", \"unix:$SOCK\""

# run STATUS KH ARGS...: the client as alice with known_hosts KH,
# bounded, output in $T/out and $T/err; true when it exits with STATUS.
run() {
	_want=$1
	_kh=$2
	shift 2
	timeout -k 10 30 "$CLIENT" -s "$SRV" -i "$T/alice.key" \
	    --known-hosts "$_kh" "$@" > "$T/out" 2> "$T/err" < /dev/null
	RC=$?
	if [ "$RC" -ne "$_want" ]; then
		echo "# secmsg-client $*: exit $RC, wanted $_want"
		sed 's/^/# stderr: /' "$T/err" | head -n 20
		return 1
	fi
	return 0
}

# py OUT ARGS...: the Python implementation, bounded, output in $T/OUT.
py() {
	_o=$1
	shift
	timeout -k 10 30 "$PY" "$PYLIB" "$@" > "$T/$_o" 2>&1
}

# pyok NAME CMD...: ok, or a skip without python3-dissononce.
pyok() {
	if [ "$HAVE_PY" -eq 1 ]; then
		ok "$@"
	else
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N # SKIP no python3-dissononce: $1"
	fi
}

# fp_of KEY: KEY's fingerprint, as secmsg-client known-hosts shows it.
fp_of() {
	printf 'x:1 %s\n' "$1" > "$T/fp.kh"
	timeout -k 10 30 "$CLIENT" --known-hosts "$T/fp.kh" known-hosts list |
	    awk '{ print $3 }'
}

# lines FILE: how many lines FILE has (0 when missing).
lines() { if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi; }

plan 39

keygen alice
authorize alice
start_daemon || exit 1
A=$SERVER_KEY
CONF="$T/secmsgd.conf"
KEYFILE="$T/state/server.key"

# ------------------------------------------------------------ next key
printf '%s %s\n' "$SRV" "$A" > "$T/kh1"
printf '%s %s\n' "$SRV" "$A" > "$T/kh3"
t_nonext() {
	! grep -q "next key" "$T/daemon.log" && run 0 "$T/kh1" ping -c 1 &&
	    [ "$(lines "$T/kh1")" = 1 ] && ! grep -q learned "$T/err"
}
ok "no next key: ping, nothing learned, nothing logged" t_nonext
t_py_nonext() {
	py o0 nextkey-client "$PORT" "$A" "$T/alice.key" 1 &&
	    grep -qx "features 13" "$T/o0" && grep -qx "nextkey none" "$T/o0" &&
	    grep -qx "ping ok" "$T/o0"
}
pyok "no next key: bit 0 set all the same, NEXTKEY \"none\"" t_py_nonext
t_py_nonext_old() {
	py o0 nextkey-client "$PORT" "$A" "$T/alice.key" 0 &&
	    grep -qx "features 13" "$T/o0" && ! grep -q nextkey "$T/o0" &&
	    grep -qx "ping ok" "$T/o0"
}
pyok "no next key, client without bit 0: no NEXTKEY, the reply first" \
    t_py_nonext_old
# A key someone planted for the host (with a stolen current key, say):
# the server does not hold it, so it goes.  Other hosts' lines stay.
keygen planted
P=$(cat "$T/planted.pub")
printf '# mine\n%s %s\n%s %s\nother:1 %s\n%s %s\n' "$SRV" "$P" "$SRV" "$A" \
    "$P" "$SRV" "$A" > "$T/kh6"
t_planted() {
	run 0 "$T/kh6" ping -c 1 &&
	    [ "$(grep -c "forgot the server's old key" "$T/err")" = 1 ] &&
	    grep -q "forgot the server's old key $(fp_of "$P") for $SRV\$" \
	    "$T/err" && [ "$(lines "$T/kh6")" = 3 ] &&
	    [ "$(sed -n 1p "$T/kh6")" = "# mine" ] &&
	    [ "$(sed -n 2p "$T/kh6")" = "$SRV $A" ] &&
	    [ "$(sed -n 3p "$T/kh6")" = "other:1 $P" ]
}
ok "a planted extra key for the host: forgotten (said once), A kept once" \
    t_planted
t_planted_quiet() {
	run 0 "$T/kh6" ping -c 1 && ! grep -q "forgot\|learned" "$T/err" &&
	    [ "$(lines "$T/kh6")" = 3 ]
}
ok "next connection: nothing changes, nothing said" t_planted_quiet
printf '%s %s\n%s %s\n' "$SRV" "$A" "$SRV" "$P" > "$T/kh7"
t_planted_pin() {
	run 0 "$T/kh7" --server-key "$A" ping -c 1 &&
	    [ "$(lines "$T/kh7")" = 2 ] && ! grep -q forgot "$T/err"
}
ok "--server-key A: known_hosts untouched, planted key and all" \
    t_planted_pin
stop_daemon

B=$("$SECMSGD" -g -N -c "$CONF" 2>/dev/null | head -n 1)
t_gen() {
	[ -n "$B" ] && [ "$B" != "$A" ] && [ -f "$KEYFILE.next" ] &&
	    [ "$(stat -c %a "$KEYFILE.next")" = 600 ]
}
ok "secmsgd -g -N creates the next key beside the current one" t_gen
t_gen_again() {
	! "$SECMSGD" -g -N -c "$CONF" > /dev/null 2> "$T/err" &&
	    grep -q "already exists" "$T/err"
}
ok "secmsgd -g -N refuses to overwrite it" t_gen_again
t_print() {
	[ "$("$SECMSGD" -p -c "$CONF" | head -n 1)" = "$A" ] &&
	    [ "$("$SECMSGD" -p -N -c "$CONF" | head -n 1)" = "$B" ]
}
ok "-p prints the current key A, -p -N the next key B" t_print

start_daemon || exit 1
t_both() {
	[ "$SERVER_KEY" = "$A" ] &&
	    grep -q "server next key=.* public=$B" "$T/daemon.log"
}
ok "daemon with A current and B next: presents A, logs B" t_both
t_py_valid() {
	py o1 nextkey-client "$PORT" "$A" "$T/alice.key" 1 &&
	    grep -qx "features 13" "$T/o1" &&
	    grep -qx "nextkey $B valid" "$T/o1" && grep -qx "ping ok" "$T/o1"
}
pyok "Python client, feature bit 0: NEXTKEY B with a valid proof" \
    t_py_valid
t_py_old() {
	py o2 nextkey-client "$PORT" "$A" "$T/alice.key" 0 &&
	    grep -qx "features 13" "$T/o2" && ! grep -q nextkey "$T/o2" &&
	    grep -qx "ping ok" "$T/o2"
}
pyok "Python client without feature bit 0: no NEXTKEY, the reply first" \
    t_py_old
t_learn() {
	run 0 "$T/kh1" ping -c 1 &&
	    [ "$(grep -c "learned the server's next key SHA256:" \
	    "$T/err")" = 1 ] && grep -q "for $SRV\$" "$T/err"
}
ok "client pinned to A learns B, says so once on stderr" t_learn
t_kh_both() {
	grep -qx "$SRV $A" "$T/kh1" && grep -qx "$SRV $B" "$T/kh1" &&
	    [ "$(lines "$T/kh1")" = 2 ] && [ "$(stat -c %a "$T/kh1")" = 644 ]
}
ok "known_hosts now lists A and B for the host, mode kept" t_kh_both
t_again() {
	run 0 "$T/kh1" ping -c 1 && ! grep -q learned "$T/err" &&
	    [ "$(lines "$T/kh1")" = 2 ]
}
ok "second connection: nothing new learned, nothing said" t_again
t_pin() {
	run 0 "$T/kh2" --server-key "$A" ping -c 1 &&
	    ! grep -q learned "$T/err" && [ ! -e "$T/kh2" ]
}
ok "--server-key A (an explicit pin): connects, learns nothing" t_pin
ok "daemon log: sessions got NEXTKEY (debug level)" \
    grep -q "sent the next server key" "$T/daemon.log"
stop_daemon

# ------------------------------------------------------------ promote
mv "$KEYFILE.next" "$KEYFILE"
start_daemon || exit 1
t_promoted() {
	[ "$SERVER_KEY" = "$B" ] && ! grep -q "server next key" "$T/daemon.log"
}
ok "promoted: the daemon presents B and holds no next key" t_promoted
t_learned_ok() {
	run 0 "$T/kh1" ping -c 1 && ! grep -q WARNING "$T/err"
}
ok "client that learned B connects without a prompt: exit 0" t_learned_ok
t_forgot_a() {
	[ "$(lines "$T/kh1")" = 1 ] && grep -qx "$SRV $B" "$T/kh1" &&
	    [ "$(grep -c "forgot the server's old key" "$T/err")" = 1 ] &&
	    grep -q "forgot the server's old key $(fp_of "$A") for $SRV\$" \
	    "$T/err"
}
ok "after promotion and one connection: known_hosts lists only B" \
    t_forgot_a
t_py_promoted_old() {
	py o3 nextkey-client "$PORT" "$B" "$T/alice.key" 0 &&
	    ! grep -q nextkey "$T/o3" && grep -qx "ping ok" "$T/o3"
}
pyok "old client (no bit 0) after promotion: no NEXTKEY, unaffected" \
    t_py_promoted_old
t_never() {
	run 4 "$T/kh3" ping -c 1 && grep -q "DOES NOT MATCH" "$T/err"
}
ok "client that never saw B: loud mismatch, exit 4" t_never
stop_daemon

# ------------------------------------------------------------ forged
# A server that announces a key whose private half it does not hold.
t_forged() {
	rm -f "$T/fport"
	timeout -k 10 30 "$PY" "$PYLIB" forged-server "$T/fport" \
	    > "$T/forged.out" 2>&1 &
	_fp=$!
	PIDS="$PIDS $_fp"
	wait_for "$T/fport" " " 100 || return 1
	read -r _port _key < "$T/fport"
	printf '127.0.0.1:%s %s\n' "$_port" "$_key" > "$T/kh4"
	timeout -k 10 30 "$CLIENT" -s "127.0.0.1:$_port" -i "$T/alice.key" \
	    --known-hosts "$T/kh4" ping -c 1 > "$T/out" 2> "$T/err" < /dev/null
	RC=$?
	wait "$_fp"
	_fs=$?
	sed 's/^/# /' "$T/err"
	[ "$RC" -eq 0 ] && [ "$_fs" -eq 0 ] &&
	    grep -q "^sent nextkey" "$T/forged.out" &&
	    grep -q "next server key SHA256:.* with an invalid proof: not" \
	    "$T/err" && [ "$(lines "$T/kh4")" = 1 ] &&
	    ! grep -q learned "$T/err"
}
pyok "a forged next key (private half not held): refused, not recorded" \
    t_forged

# ------------------------------------------------------------ key files
# start_fails PATTERN: secmsgd -f with $CONF exits (bounded) saying so.
start_fails() {
	! timeout -k 5 20 "$SECMSGD" -f -c "$CONF" > /dev/null 2> "$T/err" &&
	    grep -q -- "$1" "$T/err"
}
write_conf "next_server_key = \"$T/missing.key\";"
t_missing_t() {
	! "$SECMSGD" -t -c "$CONF" > /dev/null 2> "$T/err" &&
	    grep -q "next_server_key $T/missing.key does not exist" "$T/err"
}
ok "explicit next_server_key missing: -t fails and names it" t_missing_t
ok "explicit next_server_key missing: the daemon does not start" \
    start_fails "missing.key"
# t_fails PATTERN: secmsgd -t with $CONF fails (78) saying so: -t
# checks the next key as the start does.
t_fails() {
	"$SECMSGD" -t -c "$CONF" > /dev/null 2> "$T/err"
	[ $? -eq 78 ] && grep -q -- "$1" "$T/err"
}
write_conf
cp "$KEYFILE" "$KEYFILE.next"
ok "next key equal to the current key: -t fails" \
    t_fails "is the current server key"
ok "next key equal to the current key: refused at start" \
    start_fails "is the current server key"
rm -f "$KEYFILE.next"
"$SECMSGD" -g -N -c "$CONF" > /dev/null 2>&1
t_good_t() {
	"$SECMSGD" -t -c "$CONF" > "$T/out" 2> "$T/err" &&
	    grep -q "configuration OK" "$T/out"
}
ok "a good next key: -t passes" t_good_t
chmod 644 "$KEYFILE.next"
ok "next key readable by others: -t fails" \
    t_fails "server.key.next: permissions 0644 are too open"
chmod 640 "$KEYFILE.next"
ok "next key readable by the group: refused at start" \
    start_fails "server.key.next: permissions 0640 are too open"
rm -f "$KEYFILE.next"
printf 'junk\n' > "$KEYFILE.next"
chmod 600 "$KEYFILE.next"
ok "junk in the next key file: -t fails" \
    t_fails "next server key: .*server.key.next"
ok "junk in the next key file: refused at start" \
    start_fails "next server key: .*server.key.next"
rm -f "$KEYFILE.next"

# ------------------------------------------------------------ known-hosts
printf '%s %s\n%s %s\n' "$SRV" "$A" "$SRV" "$B" > "$T/kh1"
KC() { timeout -k 10 30 "$CLIENT" --known-hosts "$T/kh1" known-hosts "$@"; }
t_list() {
	KC list "$SRV" > "$T/out" && [ "$(lines "$T/out")" = 2 ] &&
	    grep -q "^$SRV $A SHA256:" "$T/out" &&
	    grep -q "^$SRV $B SHA256:" "$T/out"
}
ok "known-hosts list HOST: both keys with fingerprints" t_list
t_rm_key() {
	KC remove "$SRV" "$A" 2> "$T/err" && grep -q "Removed 1 line" \
	    "$T/err" && [ "$(lines "$T/kh1")" = 1 ] &&
	    grep -qx "$SRV $B" "$T/kh1"
}
ok "known-hosts remove HOST A: only B left" t_rm_key
t_add() {
	KC add "$SRV" "$A" 2> /dev/null && KC add "$SRV" "$A" 2> "$T/err" &&
	    grep -q "Already listed" "$T/err" && [ "$(lines "$T/kh1")" = 2 ]
}
ok "known-hosts add HOST A: listed again; twice: not duplicated" t_add
t_rm_host() {
	echo "# a comment" >> "$T/kh1" && KC remove "$SRV" 2> /dev/null &&
	    [ "$(lines "$T/kh1")" = 1 ] && grep -qx "# a comment" "$T/kh1" &&
	    ! KC remove "$SRV" 2> /dev/null
}
ok "known-hosts remove HOST: every line of it; again: exit 1" t_rm_host
t_badkey() {
	KC add "$SRV" notakey 2> /dev/null
	[ $? -eq 2 ] && [ "$(lines "$T/kh1")" = 1 ]
}
ok "known-hosts add with a bad key: usage error, file unchanged" t_badkey
t_malformed() {
	echo "junk" >> "$T/kh1" && ! KC list 2> "$T/err" &&
	    grep -q "kh1:2: expected" "$T/err"
}
ok "known-hosts on a malformed file: error naming file and line" \
    t_malformed

# A host from a hand-edited file is text like any other: quotes and
# backslashes escaped in JSON, escape sequences shown, never sent raw.
t_list_escaped() {
	_esc=$(printf '\033')
	printf '%s %s\n%s %s\n' 'q"u\o:1' "$A" "${_esc}[31mx:2" "$A" \
	    > "$T/kh5"
	timeout -k 10 30 "$CLIENT" --json --known-hosts "$T/kh5" \
	    known-hosts list > "$T/out" 2> "$T/err" &&
	    "$PY" -c '
import json, sys
hosts = [json.loads(l)["host"] for l in open(sys.argv[1])]
sys.exit(hosts != ["q\"u\\o:1", "\x1b[31mx:2"])' "$T/out" &&
	    timeout -k 10 30 "$CLIENT" --known-hosts "$T/kh5" \
	    known-hosts list > "$T/out" 2> "$T/err" &&
	    [ "$(lines "$T/out")" = 2 ] && ! grep -q "$_esc" "$T/out" &&
	    grep -q '^\\x1b\[31mx:2 ' "$T/out"
}
ok "known-hosts list: hosts escaped (JSON valid, no raw escapes)" \
    t_list_escaped

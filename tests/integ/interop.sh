#!/bin/sh
# interop.sh: the C protocol core (tests/interop/proto_peer) against an
# independent implementation on python3-dissononce
# (tests/interop/secmsg_noise.py) over loopback TCP, in both roles.  Each
# side checks every body it receives; here we check that both sides agree
# on keys, handshake hash, the bodies (SHA-256 of each, both ways) and the
# number of REKEY records.  Then a client expecting another server key must
# give up before message 3.  TAP output; VALGRIND=1 runs the C peer under
# valgrind.

srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
PEER=$builddir/tests/interop/proto_peer
PYLIB=$srcdir/tests/interop/secmsg_noise.py

# dissononce is a Debian package: prefer Debian's interpreter.
PY=
for p in /usr/bin/python3 ${PYTHON3:-}; do
	if [ -x "$p" ] && "$p" -c 'import dissononce' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	echo "1..0 # SKIP no python3-dissononce"
	exit 0
fi
if [ ! -x "$PEER" ]; then
	echo "Bail out! $PEER not built"
	exit 1
fi

CPEER="$PEER"
if [ "${VALGRIND:-0}" = 1 ]; then
	CPEER="valgrind -q --error-exitcode=99 --leak-check=full $PEER"
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/interop.$$.XXXXXX") || exit 1
bgpid=
cleanup() {
	[ -n "$bgpid" ] && kill "$bgpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

n=0
fails=0
# ok COND-EXIT-STATUS NAME
ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
	fi
}

# diag FILE...: show files as TAP comments.
diag() {
	for f in "$@"; do
		[ -f "$f" ] && sed "s|^|# $(basename "$f"): |" "$f"
	done
}

# pair SERVER-CMD CLIENT-CMD [KEY]: run a responder in the background,
# wait for its "PORT KEY" file, run the initiator against it (with KEY
# instead of the announced key if given).  Sets src, crc.
pair() {
	rm -f "$T/port" "$T"/srv.* "$T"/cli.*
	timeout -k 10 60 $1 listen "$T/port" >"$T/srv.out" 2>"$T/srv.err" &
	bgpid=$!
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	port= key=
	[ -s "$T/port" ] && read -r port key <"$T/port"
	[ -n "$3" ] && key=$3
	timeout -k 10 60 $2 connect "${port:-1}" "${key:-x}" \
	    >"$T/cli.out" 2>"$T/cli.err"
	crc=$?
	wait "$bgpid"
	src=$?
	bgpid=
}

# field FILE WORD: the rest of the line that starts with WORD.
field() {
	sed -n "s/^$2 //p" "$1"
}

# check_pair LABEL: the agreement checks on srv.out / cli.out.
check_pair() {
	label=$1
	[ "$src" -eq 0 ] && [ "$crc" -eq 0 ]
	r=$?
	ok $r "$1: both sides complete the exchange"
	[ $r -eq 0 ] || diag "$T/srv.err" "$T/cli.err"

	[ -n "$(field "$T/srv.out" hash)" ] &&
	    [ "$(field "$T/srv.out" hash)" = "$(field "$T/cli.out" hash)" ] &&
	    [ "$(field "$T/srv.out" self)" = "$(field "$T/cli.out" peer)" ] &&
	    [ "$(field "$T/cli.out" self)" = "$(field "$T/srv.out" peer)" ]
	ok $? "$1: same handshake hash, each side sees the other's key"

	grep '^sent ' "$T/srv.out" | sed 's/^sent //' >"$T/a"
	grep '^recv ' "$T/cli.out" | sed 's/^recv //' >"$T/b"
	grep '^sent ' "$T/cli.out" | sed 's/^sent //' >"$T/c"
	grep '^recv ' "$T/srv.out" | sed 's/^recv //' >"$T/d"
	[ "$(wc -l <"$T/a")" -eq 8 ] && [ "$(wc -l <"$T/c")" -eq 8 ] &&
	    cmp -s "$T/a" "$T/b" && cmp -s "$T/c" "$T/d"
	ok $? "$1: 8 bodies each way identical (SHA-256)"

	set -- $(field "$T/srv.out" rekeys)
	s_sent=${1:-0} s_seen=${2:-x}
	set -- $(field "$T/cli.out" rekeys)
	[ "$s_sent" -gt 0 ] && [ "$s_sent" = "${2:-y}" ] &&
	    [ "$s_seen" = "${1:-z}" ]
	ok $? "$label: REKEY records both ways, counts agree"
}

echo "1..10"

pair "$CPEER" "$PY $PYLIB peer"
check_pair "C responder, Python initiator"

pair "$PY $PYLIB peer" "$CPEER"
check_pair "C initiator, Python responder"

# Another server key than expected: the initiator stops before message 3.
# RFC 7748 Bob's public key: valid, and neither side's.
other=3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=
pair "$PY $PYLIB peer" "$CPEER" "$other"
[ "$crc" -eq 1 ] && grep -q 'unexpected server key' "$T/cli.err" &&
    [ "$src" -ne 0 ] && ! grep -q '^peer ' "$T/srv.out"
ok $? "C initiator refuses an unexpected server key before message 3"

pair "$CPEER" "$PY $PYLIB peer" "$other"
[ "$crc" -ne 0 ] && grep -q 'unexpected server key' "$T/cli.err" &&
    [ "$src" -ne 0 ] && ! grep -q '^peer ' "$T/srv.out"
ok $? "Python initiator refuses an unexpected server key before message 3"

[ $fails -eq 0 ]

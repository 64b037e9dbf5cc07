#!/bin/sh
# tests/integ/store.sh: the durable store in the daemon (issue 17, so far):
# with store = "lmdb" secmsgd creates the store and its key file at first
# start with tight modes, says so, closes it at stop; a plain SEND to a
# name with no connection is still "offline" (durability is per
# message); a store it cannot read (not LMDB, its key file missing, the
# wrong key) stops the start-up with a line that names the file, and the
# store is never replaced by an empty one.  A full store (a small
# store_map_size) refuses durable messages with store-full, keeps
# serving, and loses nothing it stored.

. "${top_srcdir:-.}/tests/integ/lib.sh"

plan 22

keygen alice
keygen bob
authorize alice
authorize bob

S="$T/state/store"
K="$T/state/store.key"
CONF='store = "lmdb";
store_map_size = 16;'

# mode FILE: its permission bits, octal.
mode() { stat -c '%a' "$1"; }

ok "secmsgd starts with store = lmdb" start_daemon "$CONF"
ok "it says so" logged 'store lmdb path=.*/state/store messages=0'
ok "the store folder is created 0700" test "$(mode "$S")" = 700
ok "its data file is 0600" test "$(mode "$S/data.mdb")" = 600
ok "the key file, apart, is 0600 and 32 bytes" \
    test "$(mode "$K")" = 600 -a "$(stat -c '%s' "$K")" = 32
if command -v mdb_stat >/dev/null 2>&1; then
	ok "mdb_stat reads it: the store's tables are there" \
	    sh -c "mdb_stat -a '$S' | grep -q 'Status of body'"
else
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - mdb_stat reads it # SKIP no mdb_stat (lmdb-utils)"
fi
cl alice.out alice send bob text:hi ping
ok "a plain SEND to a name with no connection is still offline" \
    has alice.out "send error 4 offline"
stop_daemon
ok "it stops cleanly and closes the store" \
    sh -c "[ $DSTATUS -eq 0 ] && grep -q 'store closed messages=0' \
    '$T/daemon.log'"

# start_fails: secmsgd must exit non-zero before it is ready.
start_fails() {
	write_conf "$CONF"
	timeout -k 10 30 "$SECMSGD" -f -d -c "$T/secmsgd.conf" \
	    > "$T/fail.log" 2>&1
	rc=$?
	[ $rc -ne 0 ] && [ $rc -ne 124 ] && ! grep -q 'ready' "$T/fail.log"
}

mv "$K" "$T/key.saved"
ok "without its key file the store is refused" start_fails
ok "the error names the key file" \
    grep -q "store: cannot open: $K: No such file" "$T/fail.log"
ok "and no new key was made" test ! -e "$K"

head -c 32 /dev/urandom > "$K"
chmod 600 "$K"
ok "with another key the store is refused" start_fails
ok "the error says the key does not match" \
    grep -q 'key file does not match' "$T/fail.log"

mv "$T/key.saved" "$K"
cp "$S/data.mdb" "$T/data.saved"
head -c 16384 /dev/urandom > "$S/data.mdb"
ok "a data file that is not LMDB is refused" start_fails
cp "$T/data.saved" "$S/data.mdb"
ok "the store put back, secmsgd starts again" start_daemon "$CONF"
stop_daemon

# A full store refuses cleanly and loses nothing stored (issue 17): with
# a 1 MiB store, durable messages of 100 KB each to bob (offline) until
# one is refused with store-full; the daemon keeps serving; after a
# restart bob gets every message that got OK, and once he has
# acknowledged them a new one is stored again.
[ -x "$CLIENT" ] || {
	for i in 1 2 3 4 5 6 7; do
		TAP_N=$((TAP_N + 1))
		echo "ok $TAP_N - full store # SKIP no secmsg-client"
	done
	exit 0
}
rm -rf "$S" "$K"
SMALL='store = "lmdb";
store_map_size = 1;'
# dsend OUT I: a durable message "m-I" and 100 KB of padding to bob.
dsend() {
	{ printf 'm-%s ' "$2"; head -c 100000 /dev/zero | tr '\0' x; } |
	    timeout -k 10 30 "$CLIENT" -s "127.0.0.1:$PORT" \
	    -i "$T/alice.key" --server-key "$SERVER_KEY" \
	    send --durable bob > "$T/$1" 2> "$T/$1.err"
}
ok "secmsgd starts with a 1 MiB store" start_daemon "$SMALL"
n=0
full=
while [ $n -lt 40 ]; do
	if dsend fill.out $((n + 1)); then
		n=$((n + 1))
		continue
	fi
	grep -q 'store-full' "$T/fill.out.err" && full=1
	sed 's/^/# /' "$T/fill.out.err"
	break
done
echo "# $n messages stored before the store was full"
ok "some messages are stored, then one is refused with store-full" \
    [ -n "$full" -a "$n" -gt 0 ]
cl full-ping.out alice ping
ok "the daemon keeps serving (a PING is answered)" \
    has full-ping.out "ping ok"
stop_daemon
ok "it stops cleanly" test "$DSTATUS" -eq 0
ok "and restarts on the full store" start_daemon "$SMALL"
timeout -k 10 60 "$CLIENT" -s "127.0.0.1:$PORT" -i "$T/bob.key" \
    --server-key "$SERVER_KEY" fetch > "$T/full-fetch.out" \
    2> "$T/full-fetch.err" < /dev/null
got=$(grep -c ' alice: m-[0-9]* x' "$T/full-fetch.out")
seq_ok=$(awk -v n="$n" '{ sub(/.* alice: m-/, ""); sub(/ .*/, "")
    if ($0 != NR) bad = 1 } END { print (NR == n && !bad) ? "yes" : "no" }' \
    "$T/full-fetch.out")
ok "bob gets every message that got OK, in order ($got of $n)" \
    [ "$got" -eq "$n" -a "$seq_ok" = yes ]
dsend after.out 99
RC=$?
sed 's/^/# /' "$T/full-fetch.err" "$T/after.out.err"
ok "acknowledged, they make room: a new durable message is stored" \
    [ "$RC" -eq 0 ]
stop_daemon
exit 0

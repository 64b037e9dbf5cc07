#!/bin/sh
# A first look at secmsgd: run the freshly built daemon on its built-in
# defaults (no configuration file; 127.0.0.1 and ::1 port 7300), let two
# clients, alice and bob, talk through it, and stop it.  Everything lives in
# a temporary folder that is removed at the end; nothing is installed.
# Usage: scripts/demo.sh [BUILDDIR]
set -u
b=${1:-.}
D=$(mktemp -d "${TMPDIR:-/tmp}/secmsgd-demo.XXXXXX") || exit 1
chmod 700 "$D"
dpid=""
cleanup() {
	[ -n "$dpid" ] && kill -TERM "$dpid" 2>/dev/null
	rm -rf "$D"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
client() {
	who=$1
	shift
	timeout 20 "$b/src/secmsg-client" -i "$D/$who.key" \
	    --known-hosts "$D/known_hosts" "$@"
}

say "alice and bob each make a key pair (secmsg-client keygen)"
client alice keygen -o "$D/alice.key" || exit 1
client bob keygen -o "$D/bob.key" || exit 1

say "the operator authorizes both keys by name"
mkdir -p "$D/state" && chmod 700 "$D/state"
{
	echo "$(client alice pubkey | head -n 1) alice"
	echo "$(client bob pubkey | head -n 1) bob"
} > "$D/state/authorized_keys"
chmod 600 "$D/state/authorized_keys"
sed 's/^/    /' "$D/state/authorized_keys"

say "start secmsgd -f on built-in defaults (state folder: $D/state)"
# STATE_DIRECTORY is how systemd names the state folder; the server key
# is created there on first start.
# RUNTIME_DIRECTORY, systemd's name for the run-time folder, holds the
# control socket that secmsgctl talks to.
mkdir -p "$D/run" && chmod 700 "$D/run"
STATE_DIRECTORY="$D/state" RUNTIME_DIRECTORY="$D/run" \
    timeout 120 "$b/src/secmsgd" -f \
    2> "$D/daemon.log" &
dpid=$!
i=0
while ! grep -q 'ready' "$D/daemon.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 "$dpid" 2>/dev/null; then
		cat "$D/daemon.log"
		echo "secmsgd did not start (is port 7300 in use?)" >&2
		exit 1
	fi
	sleep 0.1
done
sed 's/^/    [secmsgd] /' "$D/daemon.log"

say "bob subscribes to channel plant1 and waits for 2 messages"
client bob --accept-new subscribe -n 2 plant1 > "$D/bob.out" 2>&1 &
bpid=$!
sleep 1

say "alice pings the server (first contact: --accept-new pins its key)"
client alice --accept-new ping -c 3
say "who is online (names with connections, channels with subscribers)"
client alice who
say "the operator's view (secmsgctl, over the daemon's control socket)"
timeout 10 "$b/src/secmsgctl" -s "$D/run/control.sock" sessions |
    sed 's/^/    /'
say "alice sends bob a direct message, then publishes a reading"
client alice -v send bob "hello bob, this is alice"
client alice -v publish plant1 "temperature=21.5C"

wait "$bpid"
say "what bob received"
sed 's/^/    /' "$D/bob.out"

say "stop secmsgd (SIGTERM) and show its log"
kill -TERM "$dpid"
wait "$dpid"
echo "    secmsgd exited with status $?"
dpid=""
sed 's/^/    [secmsgd] /' "$D/daemon.log" | tail -n +9

#!/bin/sh
# tests/integ/admit.sh: admission cannot be gamed (issue 13).  With
# max_handshakes full, only a newcomer that passed every admission check
# (per-address limit, handshake_rate) may evict someone else's handshake:
# a host over its own limits that keeps connecting evicts nobody.  Unix
# socket clients are held to handshake_rate and the per-address limit as
# one address, and the socket gets unix_socket_mode and _group.
. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"
[ -x "$CLIENT" ] || skip_all "no secmsg-client binary"

# hold_until N OUT PATTERN: wait until OUT has N lines matching PATTERN.
hold_until() {
	i=0
	while [ "$(grep -c -- "$3" "$T/$2")" -lt "$1" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
# since LINE PATTERN: lines of the daemon log after line LINE that match.
since() { tail -n "+$(($1 + 1))" "$T/daemon.log" | grep -c -- "$2"; }
# mark: the daemon log's current length in lines.
mark() { wc -l < "$T/daemon.log"; }

keygen alice
keygen bob
authorize alice
authorize bob

# ------------------------------------------------ per-address limit
# 127.0.0.1 holds its one allowed connection (authenticated, so it takes
# no handshake slot); the victim 127.0.0.2 holds the only handshake slot.
start_daemon 'handshake_rate = 0;
log_level = "info";
max_handshakes = 1;
max_connections_per_address = 1;
handshake_timeout = 60;' || exit 1

: > "$T/own.out"
swarm hold "$PORT" 1 "$T/stop-own" --hs "$T/alice.key" > "$T/own.out" 2>&1 &
OWN=$!
hold_until 1 own.out "^open "
: > "$T/victim.out"
swarm hold "$PORT" 1 "$T/stop-victim" --src 127.0.0.2 > "$T/victim.out" 2>&1 &
VICTIM=$!
hold_until 1 victim.out "^open "
M=$(mark)
# Ten more from 127.0.0.1, all over its per-address limit.
swarm hold "$PORT" 10 "$T/stop-flood" > "$T/flood.out" 2>&1 &
FLOOD=$!
hold_until 10 flood.out "^closed "
touch "$T/stop-flood"
wait "$FLOOD"
sleep 0.3		# an eviction, if any, reaches the victim
ok "per-address limit: the flood is refused" \
    test "$(since "$M" 'connection refused reason=per-address-limit peer=127\.0\.0\.1$')" -ge 1
ok "per-address limit: refused connections evict no handshake" \
    test "$(since "$M" 'reason=handshake-evicted')" -eq 0
ok "per-address limit: the victim's handshake is still in progress" \
    sh -c "grep -q '^open 0' '$T/victim.out' && ! grep -q '^closed' '$T/victim.out'"
# A newcomer that passes admission still gets the slot (oldest evicted).
M=$(mark)
cl new.out bob --src 127.0.0.3 ping
ok "an admitted newcomer still evicts the oldest handshake and is served" \
    sh -c "grep -qx 'ping ok' '$T/new.out' &&
        test \"\$(tail -n '+$((M + 1))' '$T/daemon.log' | grep -c 'closed reason=handshake-evicted peer=127\.0\.0\.2:')\" -eq 1"
touch "$T/stop-own" "$T/stop-victim"
wait "$OWN" "$VICTIM"

# ------------------------------------------------ handshake_rate
# 127.0.0.1 spends its one token on an authenticated connection; the
# victim (127.0.0.2) holds the handshake slot; then 127.0.0.1 floods.
# Its bucket may refill while the test runs (1 token a second), so the
# invariant checked is: no more evictions than newcomers admitted.
write_conf 'handshake_rate = 1;
log_level = "info";
max_handshakes = 1;
handshake_timeout = 60;'
reload_daemon "reloaded configuration"
sleep 1.1		# full buckets
rm -f "$T/stop-own" "$T/stop-victim"
: > "$T/own2.out"
swarm hold "$PORT" 1 "$T/stop-own" --hs "$T/alice.key" > "$T/own2.out" 2>&1 &
OWN=$!
hold_until 1 own2.out "^open "
: > "$T/victim2.out"
swarm hold "$PORT" 1 "$T/stop-victim" --src 127.0.0.2 > "$T/victim2.out" \
    2>&1 &
VICTIM=$!
hold_until 1 victim2.out "^open "
M=$(mark)
swarm hold "$PORT" 20 "$T/stop-flood2" > "$T/flood2.out" 2>&1 &
FLOOD=$!
hold_until 20 flood2.out "^open \|^closed "
sleep 0.3
touch "$T/stop-flood2"
wait "$FLOOD"
ADMITTED=$(since "$M" 'session [0-9a-f]* accepted peer=127\.0\.0\.1:')
EVICTED=$(since "$M" 'reason=handshake-evicted')
ok "handshake_rate: the flood is refused" \
    test "$(since "$M" 'connection refused reason=handshake-rate peer=127\.0\.0\.1$')" -ge 1
ok "handshake_rate: evictions ($EVICTED) <= newcomers admitted ($ADMITTED)" \
    test "$EVICTED" -le "$ADMITTED"
ok "handshake_rate: the victim's handshake survives refused connections" \
    test "$(grep -c '^closed' "$T/victim2.out")" -le "$ADMITTED"
touch "$T/stop-own" "$T/stop-victim"
wait "$OWN" "$VICTIM"

stop_daemon
ok "daemon exits 0 on SIGTERM" test "$DSTATUS" -eq 0

# ------------------------------------------------ Unix socket clients
# Local processes are bounded like a network host: all clients of the
# Unix sockets count as one address for handshake_rate and
# max_connections_per_address, and the socket's mode and group are the
# operator's (unix_socket_mode, unix_socket_group).
SOCK="$T/s.sock"
# ping_unix OUT: one ping as bob over the Unix socket (the C client).
ping_unix() {
	timeout -k 10 20 "$CLIENT" -s "unix:$SOCK" -i "$T/bob.key" \
	    --known-hosts "$T/kh" --accept-new ping > "$T/$1" 2>&1
}
# As root, a group other than ours shows the setting at work.
GROUP=$(id -gn)
[ "$(id -u)" -eq 0 ] && getent group nogroup >/dev/null && GROUP=nogroup
LISTEN_EXTRA=", \"unix:$SOCK\"" start_daemon "handshake_rate = 3;
log_level = \"info\";
handshake_timeout = 30;
unix_socket_group = \"$GROUP\";" || exit 1
ok "unix socket: mode 0660 by default (unix_socket_mode)" \
    test "$(stat -c %a "$SOCK")" = 660
ok "unix socket: group $GROUP (unix_socket_group)" \
    test "$(stat -c %G "$SOCK")" = "$GROUP"
sleep 1.1		# a full bucket
M=$(mark)
SWARM_UNIX="$SOCK" swarm hold 0 20 "$T/stop-u1" > "$T/u1.out" 2>&1 &
U1=$!
hold_until 20 u1.out "^open \|^closed "
sleep 0.3
touch "$T/stop-u1"
wait "$U1"
UADM=$(since "$M" 'session [0-9a-f]* accepted peer=unix')
ok "unix socket: handshake_rate holds for local clients ($UADM of 20 admitted)" \
    test "$UADM" -le 10
ok "unix socket: refusals logged as reason=handshake-rate peer=unix" \
    test "$(since "$M" 'connection refused reason=handshake-rate peer=unix$')" -ge 1

write_conf "handshake_rate = 0;
log_level = \"info\";
max_connections_per_address = 2;
unix_socket_group = \"$GROUP\";"
sed -i "s|^listen = .*|listen = [ \"127.0.0.1:$PORT\", \"unix:$SOCK\" ];|" \
    "$T/secmsgd.conf"
reload_daemon "reloaded configuration"
rm -f "$T/stop-u2"
: > "$T/u2.out"
SWARM_UNIX="$SOCK" swarm hold 0 2 "$T/stop-u2" --hs "$T/alice.key" \
    > "$T/u2.out" 2>&1 &
U2=$!
hold_until 2 u2.out "^open "
M=$(mark)
ping_unix u3.out
ok "unix socket: a 3rd local connection is over max_connections_per_address" \
    test "$(since "$M" 'connection refused reason=per-address-limit peer=unix$')" -eq 1
ok "unix socket: ... while a network client is still served" \
    sh -c "timeout -k 10 20 '$CLIENT' -s 127.0.0.1:$PORT -i '$T/bob.key' \
        --known-hosts '$T/kh' --accept-new ping > /dev/null 2>&1"
touch "$T/stop-u2"
wait "$U2"
sleep 0.3
ok "unix socket: once they are gone, a local client is served again" \
    ping_unix u4.out
stop_daemon
ok "daemon exits 0 on SIGTERM" test "$DSTATUS" -eq 0

LISTEN_EXTRA=", \"unix:$SOCK\"" start_daemon 'unix_socket_mode = "0600";' ||
    exit 1
ok "unix socket: unix_socket_mode = \"0600\" is applied" \
    test "$(stat -c %a "$SOCK")" = 600
ok "unix socket: the owner still connects" ping_unix u5.out
stop_daemon

write_conf 'unix_socket_group = "no-such-group-secmsgd";'
"$SECMSGD" -t -c "$T/secmsgd.conf" > "$T/t.out" 2>&1
RC=$?
ok "unix socket: -t refuses an unknown unix_socket_group (exit 78, named)" \
    sh -c "[ $RC -eq 78 ] && grep -q 'secmsgd.conf: unix_socket_group: no such group \"no-such-group-secmsgd\"' '$T/t.out'"

plan "$TAP_N"

#!/bin/sh
# tests/integ/keyalias.sh: one private key, one name (issue 13, finding 11).
#
# X25519 ignores bit 255 of a public key and cancels any small-order
# component of the point, so the same private key can complete a handshake
# under several encodings of its public key; under client_auth "any" each
# encoding would be another name (names are key fingerprints).  A client on
# the independent implementation (tests/interop/secmsg_noise.py) presents
# such encodings of its own key to the real daemon: each must be refused
# during the handshake, with a clear reason in the log and no key bytes,
# while the canonical key is still welcomed.  Then the same encodings in
# authorized_keys are an error naming file and line.

. "${top_srcdir:-.}/tests/integ/lib.sh"

[ -x "$PY" ] && "$PY" -c 'import dissononce' 2>/dev/null ||
    skip_all "no /usr/bin/python3 with dissononce (python3-dissononce)"

# alias PORT KEYFILE KIND: connect with KEYFILE's private key, presenting
# its public key as KIND: canonical, bit255 (bit 255 set) or order8 (plus
# a point of order 8).  Prints "welcome NAME", or "closed" when the
# server drops the connection during the handshake; "pub B64" first.
alias() {
	timeout -k 10 30 "$PY" - "$top_srcdir/tests/interop" "$@" <<'EOF'
import base64, socket, sys
sys.dont_write_bytecode = True
sys.path.insert(0, sys.argv[1])
import secmsg_noise as sn
from dissononce.dh.keypair import KeyPair
from dissononce.dh.x25519.public import PublicKey

P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

def inv(a):
    return pow(a, P - 2, P)

def ed_x(y, sign):
    """x of the Edwards point with this y (and sign of x)."""
    xx = (y * y - 1) * inv(D * y * y + 1) % P
    x = pow(xx, (P + 3) // 8, P)
    if x * x % P != xx:
        x = x * SQRT_M1 % P
    assert x * x % P == xx, "not on the curve"
    return P - x if (x & 1) != sign else x

def ed_add(a, b):
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * inv(1 + t) % P,
            (y1 * y2 + x1 * x2) * inv(1 - t) % P)

def order8_alias(pub):
    """u(A + T), T of order 8: X25519 cannot tell it from u(A)."""
    u = int.from_bytes(pub, "little")
    y = (u - 1) * inv(u + 1) % P
    a = (ed_x(y, 0), y)
    t8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f"
                       "2a2053fa2c39ccc64ec7fd7792ac037a")
    ty = int.from_bytes(t8, "little") & ((1 << 255) - 1)
    t = (ed_x(ty, t8[31] >> 7), ty)
    _, y2 = ed_add(a, t)
    u2 = (1 + y2) * inv(1 - y2) % P
    return u2.to_bytes(32, "little")

port, keyfile, kind = int(sys.argv[2]), sys.argv[3], sys.argv[4]
kp = sn.keypair_from_file(keyfile)
pub = bytes(kp.public.data)
if kind == "bit255":
    pub = pub[:31] + bytes([pub[31] | 0x80])
elif kind == "order8":
    pub = order8_alias(pub)
print("pub", base64.b64encode(pub).decode(), flush=True)
s = socket.create_connection(("127.0.0.1", port), timeout=10)
ch = sn.Channel(s, True, KeyPair(PublicKey(pub), kp.private))
try:
    ch.handshake()
    m = sn.parse_message(ch.recv())
    print(m["type"], m.get("name", ""))
except (sn.ProtocolError, EOFError, OSError):
    print("closed")
EOF
}

keygen mallory
start_daemon 'client_auth = "any";
handshake_rate = 0;
log_level = "info";' || exit 1
FP=$(swarm fp "$T/mallory.pub")

alias "$PORT" "$T/mallory.key" canonical > "$T/canon.out" 2>&1
ok "canonical key welcomed, named by its fingerprint" \
    grep -qx "welcome ${FP#SHA256:}" "$T/canon.out"

for kind in bit255 order8; do
	alias "$PORT" "$T/mallory.key" $kind > "$T/$kind.out" 2>&1
	# The alias is a real one: not the canonical key's text.
	ok "$kind: presented another encoding of the same key" \
	    sh -c 'grep -q "^pub " "$1" && ! grep -qx "pub $(cat "$2")" "$1"' \
	    - "$T/$kind.out" "$T/mallory.pub"
	ok "$kind: refused during the handshake (no welcome)" \
	    grep -qx closed "$T/$kind.out"
done
ok "each refusal logged with its reason" \
    test "$(count_in "$T/daemon.log" \
    'closed reason=protocol-error detail=invalid-static-key')" -eq 2
ok "the log holds no key bytes of the aliases" \
    sh -c '! grep -qF "$(sed -n "s/^pub //p" "$1")" "$3" &&
    ! grep -qF "$(sed -n "s/^pub //p" "$2")" "$3"' - \
    "$T/bit255.out" "$T/order8.out" "$T/daemon.log"
ok "only the canonical name was ever welcomed" \
    test "$(count_in "$T/daemon.log" ' name=')" -eq \
    "$(count_in "$T/daemon.log" " name=${FP#SHA256:} ")"

# The same encodings in authorized_keys: refused with file and line.
stop_daemon
write_conf ""
for kind in bit255 order8; do
	printf '# c\n%s m\n' "$(sed -n 's/^pub //p' "$T/$kind.out")" \
	    > "$T/authorized_keys"
	chmod 600 "$T/authorized_keys"
	"$SECMSGD" -t -c "$T/secmsgd.conf" > "$T/t.$kind" 2>&1
	RC=$?
	ok "$kind in authorized_keys: -t fails naming file:line" \
	    sh -c '[ "$1" -ne 0 ] &&
	    grep -qF "$2:2: bad key: not a valid public key" "$3"' \
	    - "$RC" "$T/authorized_keys" "$T/t.$kind"
done

plan "$TAP_N"
[ "$TAP_FAILED" -eq 0 ]

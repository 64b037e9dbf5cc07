#!/usr/bin/python3
"""secmsg_noise: an independent implementation of the secmsg/1 wire protocol
(doc/PROTOCOL.md) on python3-dissononce, for interoperability tests.

Library:
  Channel(sock, initiator, keypair, params)  handshake, records, rekeying
  encode_hello / decode_hello                the hello block
  Msg codec: ping(), send(), join(), leave(), publish(), who(),
             parse_message(), parse_who()   (src/lib/msg.h)

  nextkey_proof / nextkey_check / nextkey_is_none
                                             NEXTKEY (PROTOCOL.md 7.8)

Command line (used by tests/integ/interop.sh):
  secmsg_noise.py peer listen PORTFILE       responder: writes "PORT KEY"
  secmsg_noise.py peer connect PORT KEY      initiator: checks the server key
Both run the scripted exchange (SCRIPT) and print one line per event:
  self KEY / peer KEY / hash HEX / sent K LEN SHA256 / recv K LEN SHA256

Server key rotation (used by tests/integ/rotate.sh):
  secmsg_noise.py nextkey-client PORT SERVERKEY KEYFILE FEATURES
      a client of secmsgd: prints "features N" (the server's hello),
      "welcome NAME", "nextkey KEY valid|invalid" or "nextkey none"
      when a NEXTKEY came,
      then "ping ok" (the reply to a PING: nothing else came before it)
  secmsg_noise.py forged-server PORTFILE
      a server that announces a next key whose private half it does not
      hold: writes "PORT KEY", then WELCOME, NEXTKEY (to a client that
      set feature bit 0) and OK to each PING, until the client leaves

Run with Debian's /usr/bin/python3 (python3-dissononce is a Debian package).
"""

import base64
import hashlib
import logging
import socket
import struct
import sys
import time

logging.getLogger("dissononce").setLevel(logging.WARNING)

from dissononce.cipher.chachapoly import ChaChaPolyCipher  # noqa: E402
from dissononce.dh.x25519.x25519 import X25519DH  # noqa: E402
from dissononce.exceptions.decrypt import DecryptFailedException  # noqa: E402
from dissononce.hash.sha256 import SHA256Hash  # noqa: E402
from dissononce.processing.handshakepatterns.interactive.XX import \
    XXHandshakePattern  # noqa: E402
from dissononce.processing.impl.cipherstate import CipherState  # noqa: E402
from dissononce.processing.impl.handshakestate import \
    HandshakeState  # noqa: E402
from dissononce.processing.impl.symmetricstate import \
    SymmetricState  # noqa: E402

# ------------------------------------------------------------ constants
PROLOGUE = b"secmsg/1"
VERSION = 1
FRAME_MAX = 65535
HS_MAXFRAME = 256
TAGLEN = 16
REC_MAX = FRAME_MAX - TAGLEN - 1        # 65518 data bytes per record
MIN_MESSAGE = 1024
HELLO_LEN = 17
REC_FINAL, REC_MORE, REC_REKEY, REC_BATCH = 0x00, 0x01, 0x02, 0x03
# Hello feature bits 2 and 3 (PROTOCOL.md 4.1, 5.1, 7.1); bits 0 and 1
# are FEATURE_NEXT_KEY and FEATURE_DURABLE below.
FEATURE_BATCH = 0x00000004
FEATURE_QUIET = 0x00000008
QUIET_ID = 0x80000000       # a PUBLISH id bit: no OK (with FEATURE_QUIET)

MSG_PING, MSG_SEND, MSG_JOIN, MSG_LEAVE, MSG_PUBLISH, MSG_WHO = range(1, 7)
MSG_WELCOME, MSG_REFUSED, MSG_OK, MSG_ERROR, MSG_DELIVER, MSG_GOODBYE = \
    range(0x81, 0x87)
MSG_NEXTKEY = 0x87
FEATURE_NEXT_KEY = 0x00000001
NEXTKEY_LABEL = b"secmsgd next-key v1"
MSG_CODES = {
    1: "bad-request", 2: "unknown-request", 3: "unknown-peer",
    4: "offline", 5: "not-permitted", 6: "too-large", 7: "busy",
    8: "rate-limited", 9: "internal", 13: "unavailable",
    10: "quota-exceeded", 11: "store-full", 12: "store-error",
    16: "unknown-key", 17: "server-full",
    18: "key-revoked", 19: "shutdown", 20: "idle", 21: "slow", 22: "kicked",
}
# Durable delivery (doc/PROTOCOL.md section 11): only on connections
# where both hellos have feature bit 1, FEATURE_DURABLE.
FEATURE_DURABLE = 0x00000002
MSG_DSEND, MSG_DPUBLISH, MSG_DJOIN, MSG_DLEAVE, MSG_ACK, MSG_PENDING = \
    range(7, 13)
MSG_STORED, MSG_DRAINED = 0x88, 0x89


class ProtocolError(Exception):
    """Any violation: the connection must be closed."""


# ------------------------------------------------------------ keys
def generate_keypair():
    return X25519DH().generate_keypair()


def keypair_from_file(path):
    """A secmsgd private key file: base64 of the 32 raw bytes."""
    from dissononce.dh.x25519.private import PrivateKey
    with open(path, "rb") as f:
        sk = base64.b64decode(f.read().strip(), validate=True)
    if len(sk) != 32:
        raise ValueError("%s: not a 32-byte key" % path)
    return X25519DH().generate_keypair(PrivateKey(sk))


def key_b64(pub):
    return base64.b64encode(bytes(pub)).decode()


# ------------------------------------------------------------ framing
def frame(body):
    """2-byte big-endian length, then the body (1..65535 bytes)."""
    if not 1 <= len(body) <= FRAME_MAX:
        raise ProtocolError("frame length %d" % len(body))
    return struct.pack(">H", len(body)) + bytes(body)


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return bytes(buf)


def recv_frame(sock, maxlen):
    """Read one frame body, checking the length before reading it."""
    (n,) = struct.unpack(">H", recv_exact(sock, 2))
    if n == 0 or n > maxlen:
        raise ProtocolError("frame length %d (max %d)" % (n, maxlen))
    return recv_exact(sock, n)


# ------------------------------------------------------------ hello
def encode_hello(max_message, rekey_messages=0, rekey_seconds=0,
                 features=0):
    return struct.pack(">BIIII", VERSION, features, max_message,
                       rekey_messages, rekey_seconds)


def decode_hello(b):
    if len(b) < HELLO_LEN or b[0] != VERSION:
        raise ProtocolError("bad hello")
    _, features, maxm, rmsg, rsec = struct.unpack(">BIIII", b[:HELLO_LEN])
    if maxm < MIN_MESSAGE:
        raise ProtocolError("hello max_message %d" % maxm)
    return {"features": features, "max_message": maxm,
            "rekey_messages": rmsg, "rekey_seconds": rsec}


def minlimit(a, b):
    """The smaller of two limits where 0 means none."""
    if a == 0:
        return b
    if b == 0:
        return a
    return min(a, b)


def rekey(cs):
    """Noise Rekey(): k = REKEY(k), n unchanged.

    Not dissononce's CipherState.rekey() (0.34.3), which differs from the
    spec twice: it keeps all 48 bytes of ENCRYPT() output (ciphertext and
    tag) as the new key where the spec (sections 4.2, 5.1) takes the first
    32, and it resets n to 0 through initialize_key() where the spec keeps
    n.  secmsg follows the spec.
    """
    n = cs._nonce
    k = cs.cipher.encrypt(cs._key, 2 ** 64 - 1, b"", bytes(32))[:32]
    cs.initialize_key(k)
    cs.set_nonce(n)


# ------------------------------------------------------------ channel
class Channel:
    """One secmsg/1 connection over a connected stream socket."""

    def __init__(self, sock, initiator, keypair, max_message=1 << 20,
                 rekey_messages=0, rekey_seconds=0, check_key=None,
                 features=0):
        self.sock = sock
        self.initiator = initiator
        self.keypair = keypair
        self.ours = {"max_message": max_message,
                     "rekey_messages": rekey_messages,
                     "rekey_seconds": rekey_seconds,
                     "features": features}
        self.check_key = check_key
        self.hs = HandshakeState(
            SymmetricState(CipherState(ChaChaPolyCipher()), SHA256Hash()),
            X25519DH())
        self.hs.initialize(XXHandshakePattern(), initiator, PROLOGUE,
                           s=keypair)
        self.peer = None
        self.peer_key = None
        self.handshake_hash = None
        self.tx = self.rx = None
        # Messages of a BATCH record not yet returned by recv(), and the
        # type of every data record received (FINAL, MORE, BATCH).
        self.pending = []
        self.record_types = []

    def _hello(self):
        o = self.ours
        return encode_hello(o["max_message"], o["rekey_messages"],
                            o["rekey_seconds"], o["features"])

    def _write_hs(self):
        buf = bytearray()
        res = self.hs.write_message(self._hello(), buf)
        self.sock.sendall(frame(buf))
        return res

    def _read_hs(self):
        payload = bytearray()
        msg = recv_frame(self.sock, HS_MAXFRAME)
        try:
            res = self.hs.read_message(msg, payload)
        except DecryptFailedException:
            raise ProtocolError("handshake failed")
        self.peer = decode_hello(bytes(payload))
        return res

    def handshake(self):
        """Run XX.  The initiator calls check_key(server_key) before
        message 3 (which reveals its identity); a false result aborts."""
        if self.initiator:
            self._write_hs()
            self._read_hs()
            self.peer_key = bytes(self.hs.rs.data)
            if self.check_key and not self.check_key(self.peer_key):
                raise ProtocolError("unexpected server key")
            cs = self._write_hs()
            # Split(): the first CipherState is initiator -> responder.
            self.tx, self.rx = cs
        else:
            self._read_hs()
            self._write_hs()
            cs = self._read_hs()
            self.peer_key = bytes(self.hs.rs.data)
            self.rx, self.tx = cs
        self.handshake_hash = bytes(
            self.hs.symmetricstate.get_handshake_hash())
        self.hs = None
        self.tx_limit = minlimit(self.ours["rekey_messages"],
                                 self.peer["rekey_messages"])
        self.tx_secs = minlimit(self.ours["rekey_seconds"],
                                self.peer["rekey_seconds"])
        self.tx_count = 0
        self.tx_born = None
        self.rx_count = 0
        self.rekeys_sent = 0
        self.rekeys_received = 0

    # -------------------------------------------------------- records
    def _send_record(self, rtype, data):
        ct = self.tx.encrypt_with_ad(b"", bytes([rtype]) + data)
        self.sock.sendall(frame(ct))

    def _maybe_rekey(self, now):
        if self.tx_born is None:
            self.tx_born = now
        due = self.tx_limit and self.tx_count >= self.tx_limit
        if (self.tx_secs and self.tx_count > 0 and
                now - self.tx_born >= self.tx_secs):
            due = True
        if due:
            self._send_record(REC_REKEY, b"")
            rekey(self.tx)
            self.tx_count = 0
            self.tx_born = now
            self.rekeys_sent += 1

    def send(self, message, now=None):
        """Send one application message (bytes), fragmented as needed."""
        if now is None:
            now = int(time.monotonic())
        if len(message) > self.peer["max_message"]:
            raise ProtocolError("message above the peer's max_message")
        off = 0
        while True:
            chunk = message[off:off + REC_MAX]
            off += len(chunk)
            self._maybe_rekey(now)
            self._send_record(REC_MORE if off < len(message) else REC_FINAL,
                              chunk)
            self.tx_count += 1
            if off >= len(message):
                return

    def send_batch(self, messages=None, data=None, now=None):
        """Send messages as one BATCH record (PROTOCOL.md 5.1); or data,
        raw record data, as it is (malformed on purpose, say)."""
        if now is None:
            now = int(time.monotonic())
        if data is None:
            data = b"".join(struct.pack(">H", len(m)) + m for m in messages)
        self._maybe_rekey(now)
        self._send_record(REC_BATCH, data)
        self.tx_count += 1

    def _batch(self, data):
        """Check a BATCH record's data whole; its messages, in order."""
        if not self.feature(FEATURE_BATCH):
            raise ProtocolError("record type 3 without the batch bit")
        if not data:
            raise ProtocolError("empty BATCH")
        out, off = [], 0
        while off < len(data):
            if len(data) - off < 2:
                raise ProtocolError("BATCH: a lone length byte")
            (n,) = struct.unpack(">H", data[off:off + 2])
            off += 2
            if n == 0 or n > len(data) - off:
                raise ProtocolError("BATCH: bad entry length")
            if n > self.ours["max_message"]:
                raise ProtocolError("message too big")
            out.append(bytes(data[off:off + n]))
            off += n
        return out

    def recv(self):
        """Receive one application message (bytes)."""
        if self.pending:
            return self.pending.pop(0)
        buf = bytearray()
        while True:
            ct = recv_frame(self.sock, FRAME_MAX)
            try:
                pt = self.rx.decrypt_with_ad(b"", ct)
            except DecryptFailedException:
                raise ProtocolError("decrypt failed")
            if len(pt) == 0:
                raise ProtocolError("empty record")
            rtype, data = pt[0], pt[1:]
            if rtype == REC_REKEY:
                if data:
                    raise ProtocolError("REKEY with data")
                rekey(self.rx)
                self.rx_count = 0
                self.rekeys_received += 1
                continue
            if rtype == REC_BATCH and self.feature(FEATURE_BATCH):
                if buf:
                    raise ProtocolError("BATCH between fragments")
                self.rx_count += 1
                lim = self.ours["rekey_messages"]
                if lim and self.rx_count > lim:
                    raise ProtocolError("peer did not rekey")
                self.record_types.append(rtype)
                self.pending = self._batch(data)
                return self.pending.pop(0)
            if rtype not in (REC_FINAL, REC_MORE):
                raise ProtocolError("record type %d" % rtype)
            if rtype == REC_MORE and not data:
                raise ProtocolError("empty MORE")
            self.rx_count += 1
            lim = self.ours["rekey_messages"]
            if lim and self.rx_count > lim:
                raise ProtocolError("peer did not rekey")
            if len(buf) + len(data) > self.ours["max_message"]:
                raise ProtocolError("message too big")
            self.record_types.append(rtype)
            buf += data
            if rtype == REC_FINAL:
                return bytes(buf)


    def feature(self, bit):
        """Both hellos set feature bit(s) bit (PROTOCOL.md 4.1)."""
        return (self.ours["features"] & self.peer["features"] & bit) == bit


# ------------------------------------------------------------ next key
# PROTOCOL.md 7.8, written from the document alone.
P25519 = 2 ** 255 - 19
L25519 = 2 ** 252 + 27742317777372353535851937790883648493


def _ladder(k, u):
    """x-only Montgomery ladder, k unclamped: u([k]P), None for infinity."""
    x2, z2, x3, z3 = 1, 0, u, 1
    for t in reversed(range(k.bit_length())):
        bit = (k >> t) & 1
        if bit:
            x2, x3, z2, z3 = x3, x2, z3, z2
        a, b = (x2 + z2) % P25519, (x2 - z2) % P25519
        c, d = (x3 + z3) % P25519, (x3 - z3) % P25519
        da, cb = d * a % P25519, c * b % P25519
        x3, z3 = (da + cb) ** 2 % P25519, u * (da - cb) ** 2 % P25519
        aa, bb = a * a % P25519, b * b % P25519
        e = (aa - bb) % P25519
        x2, z2 = aa * bb % P25519, e * (aa + 121665 * e) % P25519
        if bit:
            x2, x3, z2, z3 = x3, x2, z3, z2
    return None if z2 == 0 else x2 * pow(z2, P25519 - 2, P25519) % P25519


def static_key_valid(pub):
    """Section 4: bit 255 clear, u < p, a point of the prime-order
    subgroup other than the identity."""
    u = int.from_bytes(pub, "little")
    if len(pub) != 32 or u >= P25519:
        return False
    # u on the curve or its twist; [8]P is the identity for low order,
    # [L]P is not the identity unless P is in the prime-order subgroup.
    if u == 0 or _ladder(8, u) is None:
        return False
    rhs = (u ** 3 + 486662 * u * u + u) % P25519
    if pow(rhs, (P25519 - 1) // 2, P25519) != 1:
        return False            # on the twist: no point of the curve
    return _ladder(L25519, u) is None


def x25519(keypair, pub):
    from dissononce.dh.x25519.public import PublicKey
    return bytes(X25519DH().dh(keypair, PublicKey(bytes(pub))))


def nextkey_proof(keypair, peer_pub, h, cur, nxt):
    """HMAC-SHA-256(X25519(keypair's private, peer_pub), label || h ||
    cur || nxt); None when the DH result is all zero."""
    import hmac
    dh = x25519(keypair, peer_pub)
    if dh == bytes(32):
        return None
    return hmac.new(dh, NEXTKEY_LABEL + h + cur + nxt,
                    hashlib.sha256).digest()


def nextkey_check(ch, nxt, proof):
    """The client's checks of a NEXTKEY on channel ch: True if valid."""
    import hmac
    cur = ch.peer_key
    if not static_key_valid(nxt) or nxt == cur:
        return False
    want = nextkey_proof(ch.keypair, nxt, ch.handshake_hash, cur, nxt)
    return want is not None and hmac.compare_digest(want, proof)


def nextkey_is_none(key, proof):
    """The NEXTKEY that says "no next key": key and proof all zero."""
    return key == bytes(32) and proof == bytes(32)


def nextkey(key, proof):
    assert len(key) == 32 and len(proof) == 32
    return bytes([MSG_NEXTKEY]) + key + proof


def welcome(name, idle):
    return bytes([MSG_WELCOME]) + _name(name) + struct.pack(">I", idle)


def ok(req_id, data=b""):
    return struct.pack(">BI", MSG_OK, req_id) + data


# ------------------------------------------------------------ messages
def _name(s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    if not 1 <= len(b) <= 64:
        raise ValueError("bad name")
    return bytes([len(b)]) + b


def ping(req_id, data=b""):
    return struct.pack(">BI", MSG_PING, req_id) + data


def send(req_id, name, body):
    return struct.pack(">BI", MSG_SEND, req_id) + _name(name) + body


def join(req_id, channel):
    return struct.pack(">BI", MSG_JOIN, req_id) + _name(channel)


def leave(req_id, channel):
    return struct.pack(">BI", MSG_LEAVE, req_id) + _name(channel)


def publish(req_id, channel, body):
    return struct.pack(">BI", MSG_PUBLISH, req_id) + _name(channel) + body


def who(req_id):
    return struct.pack(">BI", MSG_WHO, req_id)


def _take_name(b, off, mayempty=False):
    n = b[off]
    s = b[off + 1:off + 1 + n]
    if len(s) != n or (n == 0 and not mayempty):
        raise ProtocolError("bad name")
    return s.decode("ascii"), off + 1 + n


def parse_message(b):
    """A server message as a dict (type, and its fields)."""
    if not b:
        raise ProtocolError("empty message")
    t = b[0]
    try:
        if t == MSG_WELCOME:
            name, off = _take_name(b, 1)
            (idle,) = struct.unpack(">I", b[off:off + 4])
            if len(b) != off + 4:
                raise ProtocolError("trailing bytes")
            return {"type": "welcome", "name": name, "idle": idle}
        if t in (MSG_REFUSED, MSG_GOODBYE):
            (code,) = struct.unpack(">H", b[1:3])
            return {"type": "refused" if t == MSG_REFUSED else "goodbye",
                    "code": code, "text": b[3:]}
        if t == MSG_OK:
            (rid,) = struct.unpack(">I", b[1:5])
            return {"type": "ok", "id": rid, "data": b[5:]}
        if t == MSG_ERROR:
            rid, code = struct.unpack(">IH", b[1:7])
            return {"type": "error", "id": rid, "code": code,
                    "text": b[7:]}
        if t == MSG_NEXTKEY:
            if len(b) != 65:
                raise ProtocolError("nextkey of %d bytes" % len(b))
            return {"type": "nextkey", "key": b[1:33], "proof": b[33:65]}
        if t == MSG_DELIVER:
            sender, off = _take_name(b, 1)
            chan, off = _take_name(b, off, mayempty=True)
            (ts,) = struct.unpack(">Q", b[off:off + 8])
            return {"type": "deliver", "from": sender, "channel": chan,
                    "ts": ts, "body": b[off + 8:]}
    except (struct.error, IndexError):
        raise ProtocolError("short message")
    raise ProtocolError("unknown message type 0x%02x" % t)


def parse_who(data):
    """OK data of a WHO: list of (kind, name, count)."""
    out, off = [], 0
    while off < len(data):
        kind = chr(data[off])
        name, off = _take_name(data, off + 1)
        (count,) = struct.unpack(">I", data[off:off + 4])
        off += 4
        out.append((kind, name, count))
    return out


# ------------------------------------------------------------ interop peer
# The scripted exchange, shared with tests/interop/proto_peer.c: message k
# has SCRIPT[k] bytes; initiator and responder alternate, initiator first.
SCRIPT = [0, 1, 100, REC_MAX, REC_MAX + 1, 2 * REC_MAX + 7, 3 * REC_MAX, 12]
PEER_MAX_MESSAGE = 4 * REC_MAX
PEER_REKEY = 5          # the C peer announces 3: both must use 3


def script_body(k, initiator):
    """Deterministic content; the same formula as proto_peer.c."""
    n, seed = SCRIPT[k], k + (0 if initiator else 100)
    return bytes(((i * 31 + seed * 7 + (i >> 8)) & 0xff) for i in range(n))


def _peer(argv):
    kp = generate_keypair()
    if argv[0] == "listen":
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        port = ls.getsockname()[1]
        with open(argv[1] + ".tmp", "w") as f:
            f.write("%d %s\n" % (port, key_b64(kp.public.data)))
        import os
        os.rename(argv[1] + ".tmp", argv[1])
        sock, _ = ls.accept()
        ls.close()
        initiator, expect = False, None
    else:
        sock = socket.create_connection(("127.0.0.1", int(argv[1])))
        initiator = True
        expect = base64.b64decode(argv[2], validate=True)
    ch = Channel(sock, initiator, kp, max_message=PEER_MAX_MESSAGE,
                 rekey_messages=PEER_REKEY,
                 check_key=(lambda k: k == expect) if expect else None)
    ch.handshake()
    print("self", key_b64(kp.public.data))
    print("peer", key_b64(ch.peer_key))
    print("hash", ch.handshake_hash.hex())
    for k in range(len(SCRIPT)):
        for turn in (True, False):
            if turn == initiator:
                body = script_body(k, initiator)
                ch.send(body)
                print("sent", k, len(body), hashlib.sha256(body).hexdigest())
            else:
                body = ch.recv()
                if body != script_body(k, not initiator):
                    raise ProtocolError("message %d differs" % k)
                print("recv", k, len(body), hashlib.sha256(body).hexdigest())
    if ch.rekeys_sent == 0 or ch.rekeys_received == 0:
        raise ProtocolError("no rekey happened")
    print("rekeys", ch.rekeys_sent, ch.rekeys_received)
    sock.close()
    return 0


def _nextkey_client(port, server_key, keyfile, features):
    """A client of secmsgd that may ask for the next key (see above)."""
    kp = keypair_from_file(keyfile)
    expect = base64.b64decode(server_key, validate=True)
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    ch = Channel(sock, True, kp, features=int(features),
                 check_key=lambda k: k == expect)
    ch.handshake()
    print("features", ch.peer["features"])
    m = parse_message(ch.recv())
    if m["type"] != "welcome":
        raise ProtocolError("expected welcome, got %s" % m["type"])
    print("welcome", m["name"])
    if ch.feature(FEATURE_NEXT_KEY):
        m = parse_message(ch.recv())
        if m["type"] != "nextkey":
            raise ProtocolError("expected nextkey, got %s" % m["type"])
        if nextkey_is_none(m["key"], m["proof"]):
            print("nextkey none")
        else:
            print("nextkey", key_b64(m["key"]),
                  "valid" if nextkey_check(ch, m["key"], m["proof"])
                  else "invalid")
    ch.send(ping(7, b"hi"))
    m = parse_message(ch.recv())
    if m["type"] != "ok" or m["id"] != 7 or m["data"] != b"hi":
        raise ProtocolError("expected the ping's OK, got %s" % m["type"])
    print("ping ok")
    sock.close()
    return 0


def _forged_server(portfile):
    """Announces key B but proves with key C: B's private half unused."""
    import os
    kp, announced, signer = (generate_keypair(), generate_keypair(),
                             generate_keypair())
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d %s\n" % (ls.getsockname()[1], key_b64(kp.public.data)))
    os.rename(portfile + ".tmp", portfile)
    sock, _ = ls.accept()
    ls.close()
    sock.settimeout(20)
    ch = Channel(sock, False, kp, features=FEATURE_NEXT_KEY)
    ch.handshake()
    ch.send(welcome("forged", 300))
    nxt = bytes(announced.public.data)
    if ch.feature(FEATURE_NEXT_KEY):
        proof = nextkey_proof(signer, ch.peer_key, ch.handshake_hash,
                              bytes(kp.public.data), nxt)
        ch.send(nextkey(nxt, proof))
        print("sent nextkey", key_b64(nxt))
    try:
        while True:
            m = ch.recv()
            if m[0] == MSG_PING:
                ch.send(ok(struct.unpack(">I", m[1:5])[0], m[5:]))
    except EOFError:
        pass
    sock.close()
    return 0


def main(argv):
    if (len(argv) == 3 and argv[:2] == ["peer", "listen"]) or \
            (len(argv) == 4 and argv[:2] == ["peer", "connect"]):
        return _peer(argv[1:])
    if len(argv) == 5 and argv[0] == "nextkey-client":
        return _nextkey_client(*argv[1:])
    if len(argv) == 2 and argv[0] == "forged-server":
        return _forged_server(argv[1])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

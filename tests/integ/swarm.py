#!/usr/bin/python3
"""swarm.py: client-side drivers for the integration tests, built on the
independent protocol implementation tests/interop/secmsg_noise.py.

Run with Debian's /usr/bin/python3 (python3-dissononce).  Every subcommand
is bounded in time; results go to stdout, one line per event, for the shell
scripts (daemon.sh, relay.sh, limits.sh, malformed.sh) to check.

  swarm.py genkeys DIR N [PREFIX]        DIR/PREFIXnn.key + .pub (N pairs)
  swarm.py client PORT KEYFILE [OPTS] OP...
        a scripted client, see run_client() for the operations
  swarm.py relay PORT DIR MAXSIZE        the 50-client relay exercise
  swarm.py attack PORT KIND [KEYFILE]    one malformed-input connection
  swarm.py whostorm PORT DIR N CH W GO   N clients x CH channels x W WHOs
  swarm.py hold PORT N STOPFILE [--src A] [--hs]   N idle connections
  swarm.py fp PUBFILE                     a public key's fingerprint
  swarm.py doccheck doc/PROTOCOL.md       tables vs. this client
  swarm.py slow PORT PUBKEY SUBKEY PID CHANNEL SIZE SECS   slow consumer
  swarm.py budget PORT PUBKEY SUBKEY PID CHANNEL SIZE SECS two slow ones
  swarm.py hs PORT KEYFILE|- HELLO1 HELLO3|- [--junk N] [--echo N]
                                          a handshake with given hellos
  swarm.py slowbye PORT PUBKEY SUBKEY CHANNEL SIZE SECS
                                          a slow consumer's last message
"""

import base64
import hashlib
import os
import random
import select
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import secmsg_noise as sn  # noqa: E402

HOST = os.environ.get("SWARM_HOST", "127.0.0.1")   # "::1": over IPv6
UNIX = os.environ.get("SWARM_UNIX")     # connect there instead of HOST


def out(*a):
    print(*a, flush=True)


def code_name(c):
    return sn.MSG_CODES.get(c, "code%d" % c)


# ------------------------------------------------------------ keys
def genkeys(d, n, prefix="c"):
    from dissononce.dh.x25519.x25519 import X25519DH
    for i in range(n):
        kp = X25519DH().generate_keypair()
        base = os.path.join(d, "%s%02d" % (prefix, i))
        fd = os.open(base + ".key", os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600)
        os.write(fd, base64.b64encode(bytes(kp.private.data)) + b"\n")
        os.close(fd)
        with open(base + ".pub", "w") as f:
            f.write(sn.key_b64(kp.public.data) + "\n")


# ------------------------------------------------------------ connections
def tcp(port, src=None, rcvbuf=None, timeout=10):
    if UNIX:            # SWARM_UNIX=PATH: the Unix socket instead
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(UNIX)
        return s
    s = socket.socket(socket.AF_INET6 if ":" in HOST else socket.AF_INET,
                      socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if src:
        s.bind((src, 0))
    s.settimeout(timeout)
    s.connect((HOST, port))
    return s


def connect(port, keyfile, src=None, rcvbuf=None, max_message=1 << 25):
    """Handshake and first server message.  Returns (channel, first)."""
    s = tcp(port, src, rcvbuf)
    ch = sn.Channel(s, True, sn.keypair_from_file(keyfile),
                    max_message=max_message)
    ch.handshake()
    first = sn.parse_message(ch.recv())
    return ch, first


def closed_by_peer(sock, secs):
    """Wait up to secs for EOF or reset; True if the peer closed."""
    end = time.monotonic() + secs
    while True:
        left = max(0, end - time.monotonic())
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return False
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, ConnectionAbortedError):
            return True
        except socket.timeout:
            return False


# ------------------------------------------------------------ bodies
def body_spec(spec):
    kind, _, arg = spec.partition(":")
    if kind == "text":
        return arg.encode()
    if kind == "rand":
        return random.Random(int(arg)).randbytes(int(arg))
    if kind == "bin":           # every byte value, repeated
        return bytes(i & 0xff for i in range(int(arg)))
    raise ValueError("body spec %r" % spec)


def digest(b):
    return hashlib.sha256(b).hexdigest()[:16]


# ------------------------------------------------------------ WHO storm
def run_whostorm(port, keydir, nconn, nchan, nwho, gofile):
    """nconn clients (keydir/cNN.key) each join nchan channels of their
    own, print "joined N", wait for gofile, then every one pipelines nwho
    WHOs; print "who-replies N BYTES" once every reply is read."""
    chans = []
    joined = 0
    for i in range(nconn):
        ch, first = connect(port, os.path.join(keydir, "c%02d.key" % i),
                            max_message=1 << 21)
        if first["type"] != "welcome":
            out("refused", i)
            return 1
        buf = bytearray()
        for j in range(nchan):
            data = sn.join(j + 1, "s%03dc%04d" % (i, j))
            buf += sn.frame(ch.tx.encrypt_with_ad(b"", bytes([0]) + data))
            ch.tx_count += 1
        ch.sock.sendall(bytes(buf))
        for j in range(nchan):
            joined += sn.parse_message(ch.recv())["type"] == "ok"
        chans.append(ch)
    out("joined", joined)
    end = time.monotonic() + 120
    while not os.path.exists(gofile) and time.monotonic() < end:
        time.sleep(0.05)
    for ch in chans:
        for k in range(nwho):
            ch.send(sn.who(100000 + k))
    replies = nbytes = 0
    for ch in chans:
        ch.sock.settimeout(60)
        for k in range(nwho):
            m = sn.parse_message(ch.recv())
            if m["type"] == "ok":
                replies += 1
                nbytes += len(m["data"])
    out("who-replies", replies, nbytes)
    return 0


# ------------------------------------------------------------ scripted client
class Ended(Exception):
    pass


def show(m):
    t = m["type"]
    if t == "deliver":
        out("deliver", m["from"], m["channel"] or "-", len(m["body"]),
            digest(m["body"]))
    elif t in ("goodbye", "refused"):
        out(t, m["code"], code_name(m["code"]))
    elif t in ("ok", "error"):
        out(t, "id=%d" % m["id"])
    else:
        out("unexpected", t)


def next_msg(ch, secs):
    """The next server message, or None on timeout.  Raises Ended on EOF
    or GOODBYE (printed)."""
    ch.sock.settimeout(secs)
    try:
        m = sn.parse_message(ch.recv())
    except socket.timeout:
        return None
    except (EOFError, ConnectionResetError, sn.ProtocolError):
        out("eof")
        raise Ended()
    if m["type"] == "goodbye":
        show(m)
        try:
            ch.sock.settimeout(3)
            while ch.recv():
                pass
        except Exception:
            pass
        out("eof")
        raise Ended()
    return m


def raw_next(ch, secs):
    """Print the next server message byte for byte ("got HEX"; a DELIVER,
    whose timestamp varies, as show() does), "next timeout", or the end:
    "eof" for an orderly one, "reset" for a TCP reset (then Ended)."""
    ch.sock.settimeout(secs)
    try:
        b = ch.recv()
    except socket.timeout:
        out("next timeout")
        return
    except EOFError:
        out("eof")
        raise Ended()
    except (ConnectionResetError, ConnectionAbortedError):
        out("reset")
        raise Ended()
    if b[:1] == bytes([sn.MSG_DELIVER]):
        show(sn.parse_message(b))
    else:
        out("got", b.hex())


def request(ch, rid, data, secs=10):
    ch.send(data)
    end = time.monotonic() + secs
    while True:
        m = next_msg(ch, max(0.01, end - time.monotonic()))
        if m is None:
            out("timeout")
            raise Ended()
        if m["type"] in ("ok", "error") and m["id"] == rid:
            return m
        show(m)


def result(op, m, fmt_ok=None):
    if m["type"] == "error":
        out(op, "error", m["code"], code_name(m["code"]))
    elif fmt_ok:
        out(op, "ok", fmt_ok(m["data"]))
    else:
        out(op, "ok")


def counts(data):
    return "%d %d" % struct.unpack(">II", data)


def run_client(port, keyfile, args):
    """Options: --src ADDR, --rcvbuf N, --maxmsg N (the max_message we
    announce).  Operations (one output line each,
    plus any DELIVER received meanwhile):
      ping | echo SPEC | send NAME SPEC | publish CHAN SPEC | join CHAN |
      leave CHAN | who | recv SECS | end SECS | waitfile PATH [SECS] |
      touch PATH | sleep SECS | pingevery SECS TOTAL | unknown | badname |
      pipeline NAME N (N x SEND to NAME then PING, sent without waiting:
      are the 2N replies in request order?) |
      halfclose NAME N (N x SEND to NAME, then shutdown(SHUT_WR): are the
      N replies all there, in order, before the server's close?) |
      joinmany PREFIX N (N JOINs pipelined: tally of the replies) |
      wholist (WHO: entry count, bytes, the first four, sorted?) |
      rekeyflood N SECS (N REKEY records, then a PING: answered in SECS?) |
      partial NAME N (the first record of an N-byte SEND, no more) |
      pingnowait (a PING; its reply comes to a later recv) |
      rec final|more HEX|- (one record with these bytes, - for none) |
      rec rekey (a REKEY record) | next SECS (the next server message in
      hex: "got HEX", a DELIVER as usual; "eof" or "reset" at the end) |
      raw HEX (rec final HEX, then next 10) |
      burst N HEX (one write: message HEX, then N PINGs of 1000 bytes) |
      rekeyevery STEP TOTAL (only REKEY records, one every STEP seconds) |
      whoall (WHO: "whoall N BYTES kind:name:count..." in reply order) |
      midclose NAME N (as halfclose, with half a frame before the end;
      NAME -: N PINGs instead; then "eof" or "reset")
    SPEC: text:STR, rand:N, bin:N."""
    src = rcvbuf = None
    maxmsg = 1 << 25
    while args and args[0].startswith("--"):
        if args[0] == "--src":
            src = args[1]
        elif args[0] == "--rcvbuf":
            rcvbuf = int(args[1])
        elif args[0] == "--maxmsg":
            maxmsg = int(args[1])
        args = args[2:]
    try:
        ch, first = connect(port, keyfile, src, rcvbuf, maxmsg)
    except (EOFError, OSError, sn.ProtocolError) as e:
        out("handshake-failed", type(e).__name__)
        return 0
    out("connected", ch.sock.getsockname()[1] if not UNIX else "unix")
    if first["type"] == "refused":
        out("refused", first["code"], code_name(first["code"]),
            first["text"].decode("utf-8", "replace").replace(" ", "_"))
        out("eof" if closed_by_peer(ch.sock, 5) else "still-open")
        return 0
    if first["type"] != "welcome":
        out("unexpected", first["type"])
        return 1
    out("welcome", first["name"], first["idle"])
    rid = 100
    try:
        while args:
            op, args = args[0], args[1:]
            rid += 1
            if op in ("ping", "echo"):
                data = b""
                if op == "echo":
                    data, args = body_spec(args[0]), args[1:]
                m = request(ch, rid, sn.ping(rid, data))
                if m["type"] == "ok" and m["data"] != data:
                    out("ping bad-echo")
                else:
                    result("ping", m)
            elif op == "send":
                body = body_spec(args[1])
                m = request(ch, rid, sn.send(rid, args[0], body))
                result("send", m, counts)
                args = args[2:]
            elif op == "publish":
                body = body_spec(args[1])
                m = request(ch, rid, sn.publish(rid, args[0], body))
                result("publish", m, counts)
                args = args[2:]
            elif op in ("join", "leave"):
                f = sn.join if op == "join" else sn.leave
                result(op, request(ch, rid, f(rid, args[0])))
                args = args[1:]
            elif op == "who":
                m = request(ch, rid, sn.who(rid))
                result("who", m, lambda d: " ".join(sorted(
                    "%s:%s:%d" % e for e in sn.parse_who(d))))
            elif op == "recv":
                m = next_msg(ch, float(args[0]))
                args = args[1:]
                if m is None:
                    out("recv timeout")
                else:
                    show(m)
            elif op == "end":
                end = time.monotonic() + float(args[0])
                while time.monotonic() < end:
                    m = next_msg(ch, max(0.01, end - time.monotonic()))
                    if m is not None:
                        show(m)
                out("end timeout")
                return 0
            elif op == "waitfile":
                secs = float(args[1]) if len(args) > 1 and \
                    args[1].replace(".", "").isdigit() else 30
                path = args[0]
                args = args[2:] if len(args) > 1 and \
                    args[1].replace(".", "").isdigit() else args[1:]
                end = time.monotonic() + secs
                while not os.path.exists(path) and time.monotonic() < end:
                    time.sleep(0.05)
                out("waitfile", "ok" if os.path.exists(path) else
                    "timeout")
            elif op == "touch":
                open(args[0], "w").close()
                args = args[1:]
            elif op == "sleep":
                time.sleep(float(args[0]))
                args = args[1:]
            elif op == "pingevery":
                step, total = float(args[0]), float(args[1])
                args = args[2:]
                end = time.monotonic() + total
                n = 0
                while time.monotonic() < end:
                    time.sleep(step)
                    rid += 1
                    m = request(ch, rid, sn.ping(rid))
                    n += m["type"] == "ok"
                out("pingevery", n)
            elif op == "pipeline":      # N x (SEND NAME, PING), unawaited
                name, n = args[0], int(args[1])
                args = args[2:]
                ids = []
                for _ in range(n):
                    ch.send(sn.send(rid, name, b"p%d" % rid))
                    ch.send(sn.ping(rid + 1, b"q%d" % rid))
                    ids += [rid, rid + 1]
                    rid += 2
                got, delivered = [], 0
                end = time.monotonic() + 20
                while len(got) < len(ids) and time.monotonic() < end:
                    m = next_msg(ch, max(0.01, end - time.monotonic()))
                    if m is None:
                        break
                    if m["type"] in ("ok", "error"):
                        got.append(m["id"])
                    elif m["type"] == "deliver":
                        delivered += 1
                out("pipeline", "in-order" if got == ids else
                    "out-of-order" if sorted(got) == ids else
                    "missing", len(got))
            elif op == "halfclose":     # N x SEND NAME, then SHUT_WR
                name, n = args[0], int(args[1])
                args = args[2:]
                ids = []
                for _ in range(n):
                    ch.send(sn.send(rid, name, b"h%d" % rid))
                    ids.append(rid)
                    rid += 1
                ch.sock.shutdown(socket.SHUT_WR)
                got = []
                end = time.monotonic() + 20
                try:
                    while time.monotonic() < end:
                        m = next_msg(ch, max(0.01, end - time.monotonic()))
                        if m is None:
                            break
                        if m["type"] in ("ok", "error"):
                            got.append(m["id"])
                except Ended:
                    pass
                out("halfclose", "in-order" if got == ids else
                    "out-of-order" if sorted(got) == ids else
                    "missing", len(got))
                return 0
            elif op == "joinmany":      # N JOINs of PREFIXi, pipelined
                prefix, n = args[0], int(args[1])
                args = args[2:]
                for i in range(n):
                    ch.send(sn.join(rid + i, "%s%d" % (prefix, i)))
                tally = {}
                for i in range(n):
                    m = next_msg(ch, 10)
                    if m is None:
                        out("timeout")
                        raise Ended()
                    k = "ok" if m["type"] == "ok" else \
                        code_name(m.get("code", 0))
                    tally[k] = tally.get(k, 0) + 1
                rid += n
                out("joinmany", " ".join("%s=%d" % kv
                                         for kv in sorted(tally.items())))
            elif op == "wholist":       # WHO, the entries in order
                m = request(ch, rid, sn.who(rid))
                if m["type"] != "ok":
                    result("wholist", m)
                else:
                    e = sn.parse_who(m["data"])
                    out("wholist", len(e), len(m["data"]),
                        ",".join("%s:%s:%d" % x for x in e[:4]) or "-",
                        "sorted" if e == sorted(
                            e, key=lambda x: (x[0] != "p",
                                              x[1].encode())) else
                        "unsorted")
            elif op == "rekeyflood":    # N REKEY records, then a PING
                n, secs = int(args[0]), float(args[1])
                args = args[2:]
                buf = bytearray()
                for _ in range(n):
                    buf += sn.frame(ch.tx.encrypt_with_ad(
                        b"", bytes([sn.REC_REKEY])))
                    sn.rekey(ch.tx)
                ch.sock.settimeout(30)
                ch.sock.sendall(bytes(buf))
                ch.send(sn.ping(rid))
                m = next_msg(ch, secs)
                out("rekeyflood", "no-reply" if m is None else
                    "reply-" + m["type"])
            elif op == "rec":           # one record, bytes as given
                kind = args[0]
                if kind == "rekey":
                    ch._send_record(sn.REC_REKEY, b"")
                    sn.rekey(ch.tx)
                    args = args[1:]
                else:
                    data = b"" if args[1] == "-" else bytes.fromhex(args[1])
                    ch._send_record(sn.REC_MORE if kind == "more" else
                                    sn.REC_FINAL, data)
                    ch.tx_count += 1
                    args = args[2:]
            elif op in ("next", "raw"):
                if op == "raw":
                    ch._send_record(sn.REC_FINAL, bytes.fromhex(args[0]))
                    ch.tx_count += 1
                    secs = 10
                else:
                    secs = float(args[0])
                args = args[1:]
                raw_next(ch, secs)
            elif op == "burst":         # a message and N PINGs, one write
                n, data = int(args[0]), bytes.fromhex(args[1])
                args = args[2:]
                buf = bytearray()
                for m in [data] + [sn.ping(rid + i, bytes(1000))
                                   for i in range(n)]:
                    buf += sn.frame(ch.tx.encrypt_with_ad(
                        b"", bytes([sn.REC_FINAL]) + m))
                    ch.tx_count += 1
                rid += n
                ch.sock.sendall(bytes(buf))
            elif op == "rekeyevery":    # REKEY records alone, for TOTAL s
                step, total = float(args[0]), float(args[1])
                args = args[2:]
                end = time.monotonic() + total
                n = 0
                while time.monotonic() < end:
                    ch._send_record(sn.REC_REKEY, b"")
                    sn.rekey(ch.tx)
                    n += 1
                    m = next_msg(ch, step)
                    if m is not None:
                        show(m)
                out("rekeyevery", n)
            elif op == "whoall":        # WHO: every entry, in order
                m = request(ch, rid, sn.who(rid))
                if m["type"] != "ok":
                    result("whoall", m)
                else:
                    e = sn.parse_who(m["data"])
                    out("whoall", len(e), len(m["data"]),
                        " ".join("%s:%s:%d" % x for x in e))
            elif op == "midclose":      # N x SEND NAME, half a frame, end
                name, n = args[0], int(args[1])
                args = args[2:]
                ids, buf = [], bytearray()
                for _ in range(n):
                    buf += sn.frame(ch.tx.encrypt_with_ad(
                        b"", bytes([sn.REC_FINAL]) +
                        (sn.ping(rid, b"m%d" % rid) if name == "-" else
                         sn.send(rid, name, b"m%d" % rid))))
                    ch.tx_count += 1
                    ids.append(rid)
                    rid += 1
                # A PING frame cut after 5 of its bytes.
                buf += sn.frame(ch.tx.encrypt_with_ad(
                    b"", bytes([sn.REC_FINAL]) + sn.ping(rid)))[:5]
                ch.sock.sendall(bytes(buf))
                ch.sock.shutdown(socket.SHUT_WR)
                got, end = [], "open"
                ch.sock.settimeout(20)
                while end == "open":
                    try:
                        m = sn.parse_message(ch.recv())
                    except EOFError:
                        end = "eof"
                    except (ConnectionResetError, ConnectionAbortedError):
                        end = "reset"
                    except socket.timeout:
                        end = "timeout"
                    else:
                        if m["type"] in ("ok", "error"):
                            got.append(m["id"])
                out("midclose", "in-order" if got == ids else
                    "out-of-order" if sorted(got) == ids else
                    "missing", len(got))
                out(end)
                return 0
            elif op == "partial":       # SEND NAME of N bytes: 1st record
                name, n = args[0], int(args[1])
                args = args[2:]
                msg = sn.send(rid, name, b"x" * n)
                ch._send_record(sn.REC_MORE, msg[:sn.REC_MAX])
                out("partial sent")
            elif op == "pingnowait":    # a PING, its reply left to recv
                ch.send(sn.ping(rid))
                out("pingnowait", rid)
            elif op == "unknown":       # a request type the server lacks
                ch.send(struct.pack(">BI", 0x7f, rid))
                m = next_msg(ch, 5)
                out("unknown-request", m and m["type"])
            elif op == "badname":       # JOIN with a bad channel name
                ch.send(struct.pack(">BI", sn.MSG_JOIN, rid) + b"\x03a*b")
                m = next_msg(ch, 5)
                out("badname", m and m["type"])
            else:
                out("bad-op", op)
                return 2
    except Ended:
        return 0
    ch.sock.close()
    out("done")
    return 0


# ------------------------------------------------------------ the swarm
class Peer:
    """One connection in the swarm: a reader thread collects replies and
    deliveries; the main thread of the peer sends with a window."""

    def __init__(self, idx, name, port, keyfile):
        self.idx, self.name = idx, name
        self.ch, first = connect(port, keyfile)
        if first["type"] != "welcome" or first["name"] != name:
            raise RuntimeError("%s: first message %r" % (name, first))
        self.lock = threading.Condition()
        self.replies = {}
        self.deliveries = []
        self.errors = []
        self.window = threading.Semaphore(16)
        self.rid = 0
        self.ch.sock.settimeout(None)
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        try:
            while True:
                m = sn.parse_message(self.ch.recv())
                with self.lock:
                    if m["type"] in ("ok", "error"):
                        self.replies[m["id"]] = m
                        self.window.release()
                    elif m["type"] == "deliver":
                        self.deliveries.append(m)
                    else:
                        self.errors.append("unexpected %r" % (m,))
                    self.lock.notify_all()
        except Exception as e:      # EOF at the end, or a failure
            with self.lock:
                self.errors.append("reader: %r" % (e,))
                self.lock.notify_all()

    def req(self, data_fn):
        self.window.acquire()
        self.rid += 1
        self.ch.send(data_fn(self.rid))
        return self.rid

    def wait_reply(self, rid, secs=60):
        end = time.monotonic() + secs
        with self.lock:
            while rid not in self.replies:
                left = end - time.monotonic()
                if left <= 0 or self.errors:
                    raise RuntimeError("%s: no reply to %d (%s)" %
                                       (self.name, rid, self.errors))
                self.lock.wait(left)
            return self.replies[rid]


def swarm_body(sender, gseq, stream, seq, size):
    hdr = struct.pack(">HIBI", sender, gseq, stream, seq)
    if size < len(hdr):
        size = len(hdr)
    r = random.Random("%d/%d/%d" % (sender, stream, seq))
    return hdr + r.randbytes(size - len(hdr))


def run_relay(port, d, maxsize):
    """50 clients (c00..c47 unique names; f48, f49 share the name "fleet"),
    each joining ch(i%5) and, if even, "bcast"; each sends direct messages
    to another name and to "fleet", and publishes to its channels.  Every
    receiver checks exact counts, no duplicate, per-sender order and every
    byte of every body.  Prints "check NAME ok|FAIL detail" lines."""
    N, NCH, DIRECT, PUB = 50, 5, 12, 12
    names = ["c%02d" % i for i in range(48)] + ["fleet", "fleet"]
    keys = [os.path.join(d, "c%02d.key" % i) for i in range(N)]
    fails = []

    def fail(msg):
        fails.append(msg)
        out("FAIL", msg)

    t0 = time.monotonic()
    peers = [None] * N

    def mk(i):
        peers[i] = Peer(i, names[i], port, keys[i])
    ths = [threading.Thread(target=mk, args=(i,)) for i in range(N)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(60)
    if any(p is None for p in peers):
        fail("not all %d clients connected" % N)
        return 1
    out("connected", N, "in %.1fs" % (time.monotonic() - t0))

    chans = {i: ["ch%d" % (i % NCH)] + (["bcast"] if i % 2 == 0 else [])
             for i in range(N)}
    for i, p in enumerate(peers):
        for c in chans[i]:
            rid = p.req(lambda r, c=c: sn.join(r, c))
            if p.wait_reply(rid)["type"] != "ok":
                fail("%s join %s" % (p.name, c))
    subs = {}
    for i in range(N):
        for c in chans[i]:
            subs.setdefault(c, []).append(i)
    by_name = {}
    for i in range(N):
        by_name.setdefault(names[i], []).append(i)

    # The plan: per sender, a list of (stream, target, size).  Stream 0:
    # direct to its neighbour name, 1: direct to fleet, 2: its own ch,
    # 3: bcast.  Sizes: mostly small binary, some maximum size.
    plans = {}
    expect = {i: [] for i in range(N)}     # receiver -> [(sender, st, seq)]
    for i in range(N):
        rng = random.Random(i)
        items = []
        nb = names[(i + 1) % N]
        if nb == names[i]:
            nb = names[(i + 2) % N]
        items += [(0, nb, None)] * DIRECT
        if names[i] != "fleet":
            items += [(1, "fleet", None)] * 2
        items += [(2, chans[i][0], "ch")] * PUB
        if len(chans[i]) > 1:
            items += [(3, "bcast", "ch")] * 2
        rng.shuffle(items)
        seqs = {}
        plan = []
        for g, (st, tgt, kind) in enumerate(items):
            seq = seqs.get(st, 0)
            seqs[st] = seq + 1
            size = rng.choice([1, 13, 200, 1000, 4096])
            if i % 10 == 0 and seq == 0 and st in (0, 2):
                size = maxsize             # maximum size, exactly
            plan.append((g, st, tgt, kind, seq, size))
            rcv = subs[tgt] if kind else by_name[tgt]
            for r in rcv:
                if r != i or not kind:
                    expect[r].append((i, st, seq, g, size, tgt, kind))
        plans[i] = plan

    def sender(i):
        p = peers[i]
        rids = []
        try:
            for (g, st, tgt, kind, seq, size) in plans[i]:
                body = swarm_body(i, g, st, seq, size)
                if kind:
                    rid = p.req(lambda r: sn.publish(r, tgt, body))
                    want = len(subs[tgt]) - (i in subs[tgt])
                else:
                    rid = p.req(lambda r: sn.send(r, tgt, body))
                    want = len(by_name[tgt])
                rids.append((rid, want, st))
            for rid, want, st in rids:
                m = p.wait_reply(rid)
                if m["type"] != "ok":
                    fail("%s stream %d: %s %s" % (p.name, st, m["type"],
                                                  code_name(m["code"])))
                    continue
                d_, s_ = struct.unpack(">II", m["data"])
                if (d_, s_) != (want, 0):
                    fail("%s stream %d: delivered %d skipped %d, want %d 0"
                         % (p.name, st, d_, s_, want))
        except Exception as e:
            fail("%s sender: %r" % (p.name, e))

    t1 = time.monotonic()
    ths = [threading.Thread(target=sender, args=(i,)) for i in range(N)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(120)
    sent = sum(len(v) for v in plans.values())
    # Every reply is in: each receiver's deliveries precede the reply to a
    # ping it sends now, so after it the counts are final.
    for p in peers:
        rid = p.req(lambda r: sn.ping(r, b"fin"))
        if p.wait_reply(rid)["type"] != "ok":
            fail("%s final ping" % p.name)
    out("sent", sent, "messages in %.1fs" % (time.monotonic() - t1))

    total = 0
    for r, p in enumerate(peers):
        with p.lock:
            got = list(p.deliveries)
            errs = list(p.errors)
        if errs:
            fail("%s: %s" % (p.name, errs))
        want = expect[r]
        total += len(got)
        bad = []
        if len(got) != len(want):
            bad.append("count %d want %d" % (len(got), len(want)))
        last = {}
        seen = set()
        wantset = {(s, st, seq): (g, size, tgt, kind)
                   for (s, st, seq, g, size, tgt, kind) in want}
        for m in got:
            b = m["body"]
            if len(b) < 11:
                bad.append("short body")
                continue
            s, g, st, seq = struct.unpack(">HIBI", b[:11])
            key = (s, st, seq)
            if key in seen:
                bad.append("duplicate %r" % (key,))
            seen.add(key)
            if key not in wantset:
                bad.append("unexpected %r" % (key,))
                continue
            wg, size, tgt, kind = wantset[key]
            if m["from"] != names[s]:
                bad.append("from %s want %s" % (m["from"], names[s]))
            if m["channel"] != (tgt if kind else ""):
                bad.append("channel %r for %r" % (m["channel"], key))
            if b != swarm_body(s, g, st, seq, size) or g != wg:
                bad.append("body differs %r" % (key,))
            if last.get(s, -1) >= g:
                bad.append("order: from %d %d after %d" % (s, g, last[s]))
            last[s] = g
            if not 0 < m["ts"] - time.time() * 1000 + 600000 < 1200000:
                bad.append("timestamp %d" % m["ts"])
        if bad:
            fail("%s: %s" % (p.name, "; ".join(bad[:5])))
    out("delivered", total, "expected", sum(len(v) for v in
                                            expect.values()))
    out("maxsize", sum(1 for v in expect.values() for x in v
                       if x[4] == maxsize), "deliveries of", maxsize)

    # Above the maximum: refused, connection kept.
    p = peers[1]
    rid = p.req(lambda r: sn.send(r, "c02", swarm_body(1, 0, 9, 0,
                                                       maxsize + 1)))
    m = p.wait_reply(rid)
    out("oversize", m["type"], code_name(m.get("code", 0)))
    rid = p.req(lambda r: sn.ping(r))
    out("after-oversize", p.wait_reply(rid)["type"])

    # WHO: every name with its connection count, every channel with its
    # subscriber count.
    rid = p.req(lambda r: sn.who(r))
    m = p.wait_reply(rid)
    who = sorted(sn.parse_who(m["data"]))
    want = sorted([("p", n, 1) for n in names[:48]] + [("p", "fleet", 2)] +
                  [("c", c, len(v)) for c, v in subs.items()])
    out("who", "ok" if who == want else "FAIL %r" % (who[:8],))
    for p in peers:
        p.ch.sock.close()
    out("result", "ok" if not fails else "FAIL %d" % len(fails))
    return 0


# ------------------------------------------------------------ attacks
def established(hs, cs, payload):
    """Channel hs, driven by hand through message 3, goes over to transport
    with cs (from Split()); payload is message 2's (the server's hello)."""
    hs.tx, hs.rx = cs
    hs.peer = sn.decode_hello(bytes(payload))
    hs.hs = None
    hs.tx_limit, hs.tx_secs, hs.tx_count = 0, 0, 0
    hs.tx_born, hs.rx_count = None, 0
    hs.rekeys_sent = hs.rekeys_received = 0


def run_attack(port, kind, keyfile=None):
    """One malformed connection.  Prints "lport N" and then "closed" if the
    server closed it (within 5 s) or "open"; some kinds print more."""
    s = tcp(port)
    out("lport", s.getsockname()[1] if not UNIX else "unix")
    kp = sn.keypair_from_file(keyfile) if keyfile else sn.generate_keypair()
    if kind == "garbage":
        s.sendall(b"\x00\x40" + random.Random(1).randbytes(64))
    elif kind == "garbage-long":
        s.sendall(random.Random(2).randbytes(4096))
    elif kind == "zero":
        s.sendall(b"\x00\x00")
    elif kind == "oversize":            # 257 > the pre-auth limit (256)
        s.sendall(b"\x01\x01" + bytes(257))
    elif kind == "truncated":
        s.sendall(b"\x00\x64" + bytes(50))
        time.sleep(0.2)
        s.shutdown(socket.SHUT_WR)
    elif kind in ("flip-msg1", "flip-msg3", "flip-transport", "replay",
                  "record-type", "toobig", "dribble", "pipeline",
                  "pipeline-empty", "pipeline-flip"):
        hs = sn.Channel(s, True, kp)
        h = hs.hs
        buf = bytearray()
        h.write_message(hs._hello(), buf)
        if kind == "flip-msg1":
            buf[32] ^= 0x80             # the hello's version byte
            s.sendall(sn.frame(buf))
        else:
            s.sendall(sn.frame(buf))
            payload = bytearray()
            h.read_message(sn.recv_frame(s, sn.HS_MAXFRAME), payload)
            buf = bytearray()
            cs = h.write_message(hs._hello(), buf)
            if kind == "flip-msg3":
                buf[40] ^= 0x01         # inside the encrypted static key
                s.sendall(sn.frame(buf))
            elif kind in ("pipeline-empty", "pipeline-flip"):
                # A bad frame right behind message 3, in the same write:
                # the connection fails while its session loop adopts it.
                bad = b"\x00\x00"
                if kind == "pipeline-flip":
                    ct = bytearray(cs[0].encrypt_with_ad(
                        b"", bytes([sn.REC_FINAL]) + sn.ping(9)))
                    ct[2] ^= 0x10
                    bad = sn.frame(ct)
                s.sendall(sn.frame(buf) + bad)
            elif kind == "pipeline":
                # Not an attack: a PING right behind message 3, in the
                # same write, before the WELCOME came back.
                ping = cs[0].encrypt_with_ad(
                    b"", bytes([sn.REC_FINAL]) + sn.ping(9, b"early"))
                s.sendall(sn.frame(buf) + sn.frame(ping))
                established(hs, cs, payload)
                for _ in range(2):
                    m = sn.parse_message(hs.recv())
                    out("got", m["type"], m.get("id", "-"),
                        m.get("data", b"").decode("ascii", "replace"))
            else:
                s.sendall(sn.frame(buf))
                established(hs, cs, payload)
                first = sn.parse_message(hs.recv())
                out("first", first["type"])
                if kind in ("flip-transport", "replay"):
                    ct = hs.tx.encrypt_with_ad(
                        b"", bytes([sn.REC_FINAL]) + sn.ping(1, b"body-q7Zx"))
                if kind == "flip-transport":
                    ct = bytearray(ct)
                    ct[3] ^= 0x04
                    s.sendall(sn.frame(ct))
                elif kind == "replay":
                    s.sendall(sn.frame(ct))
                    m = sn.parse_message(hs.recv())
                    out("reply", m["type"])
                    s.sendall(sn.frame(ct))     # the same frame again
                elif kind == "dribble":
                    # Not an attack: one good frame in four pieces, the
                    # header itself split, for the daemon's partial reads.
                    body = random.Random(3).randbytes(3000)
                    fr = sn.frame(hs.tx.encrypt_with_ad(
                        b"", bytes([sn.REC_FINAL]) + sn.ping(7, body)))
                    for a, b in ((0, 1), (1, 700), (700, 2100),
                                 (2100, len(fr))):
                        s.sendall(fr[a:b])
                        time.sleep(0.1)
                    m = sn.parse_message(hs.recv())
                    out("reply", m["type"], m.get("id"),
                        "same-data" if m.get("data") == body else "other")
                elif kind == "record-type":
                    ct = hs.tx.encrypt_with_ad(b"", b"\x09hello")
                    s.sendall(sn.frame(ct))
                elif kind == "toobig":
                    # Above what the server announced: it must not buffer
                    # the message but close.
                    limit = hs.peer["max_message"]
                    hs.peer["max_message"] = 1 << 30
                    try:
                        hs.send(sn.ping(1, bytes(limit)))
                    except (BrokenPipeError, ConnectionResetError):
                        pass
    elif kind == "halfopen":
        pass
    elif kind == "msg1-only":
        hs = sn.Channel(s, True, kp)
        buf = bytearray()
        hs.hs.write_message(hs._hello(), buf)
        s.sendall(sn.frame(buf))
    else:
        out("bad-kind")
        return 2
    wait = float(os.environ.get("ATTACK_WAIT", "5"))
    out("closed" if closed_by_peer(s, wait) else "open")
    s.close()
    return 0


def run_hold(port, n, stopfile, src=None, handshake=None):
    """Open n connections (raw, or authenticated with key file
    handshake), print "open i LPORT" for each kept and "closed i" for each
    the server closes; run until stopfile exists (at most 60 s)."""
    socks = []
    for i in range(n):
        try:
            if handshake:
                ch, first = connect(port, handshake, src)
                s = ch.sock
                if first["type"] != "welcome":
                    out("refused", i, first["type"])
                    continue
            else:
                s = tcp(port, src)
        except (OSError, EOFError, sn.ProtocolError):
            out("closed", i)
            continue
        if closed_by_peer(s, 0):
            out("closed", i)
            s.close()
            continue
        out("open", i, s.getsockname()[1] if not UNIX else "unix")
        socks.append((i, s))
    end = time.monotonic() + 60
    while not os.path.exists(stopfile) and time.monotonic() < end:
        for i, s in list(socks):
            if closed_by_peer(s, 0):
                out("closed", i)
                socks.remove((i, s))
        time.sleep(0.05)
    for i, s in socks:
        s.close()
    out("done", len(socks))
    return 0


def run_hs(port, keyfile, hello1, hello3, junk=0, echo=None):
    """A handshake driven by hand with the hellos given in hex (hello3 "-":
    stop after message 2 and send nothing more).  Prints what the server
    did at each step: "msg2 LEN" or "closed-before-msg2", then "first
    TYPE [CODE]" or "closed-before-first"; then the end ("eof", "reset" or
    "open") and "bytes-after N", what arrived that was not a message.
    junk N: N PINGs of 1000 bytes right behind message 3, in the same
    write.  echo N: after WELCOME, a PING of N bytes: "echo ok|error C"."""
    s = tcp(port)
    kp = sn.keypair_from_file(keyfile) if keyfile != "-" else \
        sn.generate_keypair()
    ch = sn.Channel(s, True, kp)
    h = ch.hs

    def end_of(sock, secs):
        sock.settimeout(secs)
        n = 0
        try:
            while True:
                d = sock.recv(65536)
                if not d:
                    return "eof", n
                n += len(d)
        except (ConnectionResetError, ConnectionAbortedError):
            return "reset", n
        except socket.timeout:
            return "open", n

    buf = bytearray()
    h.write_message(bytes.fromhex(hello1), buf)
    s.sendall(sn.frame(buf))
    s.settimeout(10)
    try:
        m2 = sn.recv_frame(s, sn.HS_MAXFRAME)
    except (EOFError, ConnectionResetError, ConnectionAbortedError,
            socket.timeout):
        out("closed-before-msg2")
        out(*end_of(s, 1)[:1])
        return 0
    out("msg2", len(m2))
    payload = bytearray()
    h.read_message(m2, payload)
    if hello3 == "-":
        end, n = end_of(s, 15)
        out(end)
        out("bytes-after", n)
        return 0
    buf = bytearray()
    cs = h.write_message(bytes.fromhex(hello3), buf)
    # The channel uses the features this hello announced (BATCH records
    # come when it set bit 2).
    if len(bytes.fromhex(hello3)) >= 5:
        ch.ours["features"] = int.from_bytes(bytes.fromhex(hello3)[1:5],
                                             "big")
    data = sn.frame(buf)
    for i in range(junk):
        data += sn.frame(cs[0].encrypt_with_ad(
            b"", bytes([sn.REC_FINAL]) + sn.ping(i, bytes(1000))))
    try:
        s.sendall(data)
        established(ch, cs, payload)
        first = sn.parse_message(ch.recv())
    except (EOFError, ConnectionResetError, ConnectionAbortedError,
            BrokenPipeError, socket.timeout):
        out("closed-before-first")
        end, n = end_of(s, 3)
        out(end)
        out("bytes-after", n)
        return 0
    out("first", first["type"], *([first["code"]] if "code" in first
                                  else []))
    if echo is not None and first["type"] == "welcome":
        ch.send(sn.ping(1, bytes(echo)))
        m = sn.parse_message(ch.recv())
        out("echo", m["type"], *([m["code"]] if "code" in m else []))
    end, n = end_of(s, 3)
    out(end)
    out("bytes-after", n)
    return 0


def run_slowbye(port, pubkey, subkey, channel, size, secs):
    """A subscriber that does not read while a publisher publishes bodies
    of size bytes until the daemon drops the subscriber (PUBLISH then says
    delivered 0, skipped 0; at most secs seconds); then the subscriber
    reads everything: "publisher gone|never", then "subscriber N last
    TYPE [CODE]" and how its stream ended ("eof" or "reset")."""
    sub, first = connect(port, subkey, rcvbuf=4096)
    sub.send(sn.join(1, channel))
    m = sn.parse_message(sub.recv())
    if first["type"] != "welcome" or m["type"] != "ok":
        out("setup-failed")
        return 1
    pub, first = connect(port, pubkey)
    body = random.Random(5).randbytes(size)
    t0, n, skipped, gone = time.monotonic(), 0, 0, False
    while time.monotonic() - t0 < secs and not gone:
        n += 1
        pub.send(sn.publish(n, channel, body))
        m = sn.parse_message(pub.recv())
        if m["type"] == "ok":
            d, k = struct.unpack(">II", m["data"])
            skipped += k
            gone = skipped > 0 and d == 0 and k == 0
        time.sleep(0.005)
    out("publisher", "gone" if gone else "never")
    got, last, end = 0, None, "open"
    sub.sock.settimeout(10)
    while end == "open":
        try:
            last = sn.parse_message(sub.recv())
            got += 1
        except EOFError:
            end = "eof"
        except (ConnectionResetError, ConnectionAbortedError):
            end = "reset"
        except socket.timeout:
            end = "timeout"
    out("subscriber", got, "last", last["type"] if last else "-",
        *([last["code"]] if last and "code" in last else []))
    out(end)
    return 0


def vmrss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run_slow(port, pubkey, subkey, pid, channel, size, secs):
    """A subscriber that never reads while a publisher keeps publishing
    bodies of size bytes (about 400 a second) for up to secs seconds.  The
    publisher sees the subscriber first skipped (its queue is full), then
    gone (delivered 0, skipped 0: the daemon dropped it), and stops soon
    after.  Prints the daemon's RSS before and at its peak, the publish
    outcomes, when the drop showed, and what the subscriber's socket got."""
    sub, first = connect(port, subkey, rcvbuf=4096)
    sub.send(sn.join(1, channel))
    m = sn.parse_message(sub.recv())
    if first["type"] != "welcome" or m["type"] != "ok":
        out("setup-failed")
        return 1
    pub, first = connect(port, pubkey)
    rss0 = peak = vmrss(pid)
    delivered = skipped = errors = n = 0
    body = random.Random(5).randbytes(size)
    t0 = time.monotonic()
    first_skip = gone = None
    while time.monotonic() - t0 < secs:
        n += 1
        pub.send(sn.publish(n, channel, body))
        m = sn.parse_message(pub.recv())
        now = time.monotonic() - t0
        if m["type"] == "ok":
            d, s = struct.unpack(">II", m["data"])
            delivered += d
            skipped += s
            if s and first_skip is None:
                first_skip = now
            if d == 0 and s == 0 and first_skip is not None and \
                    gone is None:
                gone = now
        else:
            errors += 1
        if n % 50 == 0:
            peak = max(peak, vmrss(pid))
        if gone is not None and now > gone + 0.5:
            break
        time.sleep(0.002)
    peak = max(peak, vmrss(pid))
    out("rss", rss0, peak, "kB")
    out("published", n, "delivered", delivered, "skipped", skipped,
        "errors", errors, "bytes", n * size)
    out("first-skip", "%.1f" % first_skip if first_skip is not None
        else "never")
    out("gone-after", "%.1f" % (gone - first_skip) if gone is not None
        else "never")
    # The subscriber: whatever the kernel holds, then EOF or a reset.
    sub.sock.settimeout(5)
    got, end = 0, "timeout"
    try:
        while True:
            d = sub.sock.recv(1 << 20)
            if not d:
                end = "eof"
                break
            got += len(d)
    except (ConnectionResetError, ConnectionAbortedError):
        end = "reset"
    except socket.timeout:
        pass
    out("subscriber", "closed" if end != "timeout" else "open", got)
    pub.send(sn.ping(n + 1, b"alive"))
    m = sn.parse_message(pub.recv())
    out("publisher", m["type"])
    return 0


def run_budget(port, pubkey, subkey, pid, channel, size, secs):
    """Two subscribers that never read, fed by one publisher for secs
    seconds: with max_total_output equal to max_output_buffer, the daemon's
    total budget fills while each subscriber is still under half its own
    mark.  Prints the RSS before and at peak and the publish outcomes."""
    subs = []
    for i in range(2):
        sub, first = connect(port, subkey, rcvbuf=4096)
        sub.send(sn.join(1, channel))
        m = sn.parse_message(sub.recv())
        if first["type"] != "welcome" or m["type"] != "ok":
            out("setup-failed")
            return 1
        subs.append(sub)
    pub, first = connect(port, pubkey)
    rss0 = peak = vmrss(pid)
    delivered = skipped = errors = n = 0
    body = random.Random(7).randbytes(size)
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        n += 1
        pub.send(sn.publish(n, channel, body))
        m = sn.parse_message(pub.recv())
        if m["type"] == "ok":
            d, k = struct.unpack(">II", m["data"])
            delivered += d
            skipped += k
        else:
            errors += 1
        if n % 50 == 0:
            peak = max(peak, vmrss(pid))
        time.sleep(0.002)
    peak = max(peak, vmrss(pid))
    out("rss", rss0, peak, "kB")
    out("published", n, "delivered", delivered, "skipped", skipped,
        "errors", errors, "bytes", n * size)
    pub.send(sn.ping(n + 1, b"alive"))
    m = sn.parse_message(pub.recv())
    out("publisher", m["type"])
    return 0


def run_doccheck(path):
    """doc/PROTOCOL.md's type and code tables against this client's
    constants, and its table of requests and replies (section 7.2)
    against both: a row for every request type and none other, and in
    the ERROR column exactly the codes the code table says come in an
    ERROR.  Prints one line per mismatch, then "doccheck N ok"."""
    import re
    text = open(path, encoding="utf-8").read()
    types = {int(a, 16): b for a, b in re.findall(
        r"^\| (0x[0-9a-f]{2}) \| ([A-Z]+) +\|", text, re.M)}
    codes = {int(a): b for a, b in re.findall(
        r"^\| (\d+) +\| ([a-z-]+) +\|", text, re.M)}
    mine = {v: k[4:] for k, v in vars(sn).items()
            if k.startswith("MSG_") and isinstance(v, int)}
    bad = 0
    for v, n in mine.items():
        if types.get(v) != n:
            out("type", hex(v), n, "doc:", types.get(v))
            bad += 1
    for v, n in sn.MSG_CODES.items():
        if codes.get(v) != n:
            out("code", v, n, "doc:", codes.get(v))
            bad += 1
    if len(types) != len(mine) or len(codes) != len(sn.MSG_CODES):
        out("doc lists", len(types), "types", len(codes), "codes")
        bad += 1
    # Which messages each code comes in ("ERROR, REFUSED: ...").
    used = {b: {u.strip() for u in c.split(",")} for _, b, c in re.findall(
        r"^\| (\d+) +\| ([a-z-]+) +\| ([A-Z, ]+):", text, re.M)}
    rows = {r: [c.strip() for c in e.split(",")] for r, e in re.findall(
        r"^\| ([A-Z]+) +\| [^|]+\| ([a-z][a-z, -]*?) *\|$", text, re.M)}
    requests = {n for v, n in mine.items() if v < 0x80}
    if set(rows) != requests:
        out("requests table", sorted(rows), "want", sorted(requests))
        bad += 1
    listed = set()
    for r, cs in sorted(rows.items()):
        for c in cs:
            listed.add(c)
            if "ERROR" not in used.get(c, ()):
                out("request", r, "lists", c, "not an ERROR code")
                bad += 1
    for c in sorted(c for c, u in used.items() if "ERROR" in u):
        if c not in listed:
            out("code", c, "used in ERROR but by no request")
            bad += 1
    out("doccheck", len(types) + len(codes) + len(rows),
        "ok" if bad == 0 else "FAIL")
    return 0


def main(argv):
    try:
        cmd = argv[0]
        if cmd == "fp":         # the fingerprint of a .pub file
            with open(argv[1]) as f:
                pub = base64.b64decode(f.read().strip(), validate=True)
            out("SHA256:" + base64.urlsafe_b64encode(
                hashlib.sha256(pub).digest()[:16]).decode().rstrip("="))
            return 0
        if cmd == "doccheck":
            return run_doccheck(argv[1])
        if cmd == "genkeys":
            genkeys(argv[1], int(argv[2]), *argv[3:4])
            return 0
        if cmd == "client":
            return run_client(int(argv[1]), argv[2], argv[3:])
        if cmd == "whostorm":
            return run_whostorm(int(argv[1]), argv[2], int(argv[3]),
                                int(argv[4]), int(argv[5]), argv[6])
        if cmd == "relay":
            return run_relay(int(argv[1]), argv[2], int(argv[3]))
        if cmd == "attack":
            return run_attack(int(argv[1]), argv[2], *argv[3:4])
        if cmd == "hold":
            src = hs = None
            rest = argv[4:]
            while rest:
                if rest[0] == "--src":
                    src = rest[1]
                elif rest[0] == "--hs":
                    hs = rest[1]
                rest = rest[2:]
            return run_hold(int(argv[1]), int(argv[2]), argv[3], src, hs)
        if cmd == "budget":
            return run_budget(int(argv[1]), argv[2], argv[3], int(argv[4]),
                              argv[5], int(argv[6]), float(argv[7]))
        if cmd == "hs":
            rest, junk, echo = argv[5:], 0, None
            while rest:
                if rest[0] == "--junk":
                    junk = int(rest[1])
                elif rest[0] == "--echo":
                    echo = int(rest[1])
                rest = rest[2:]
            return run_hs(int(argv[1]), argv[2], argv[3], argv[4], junk,
                          echo)
        if cmd == "slowbye":
            return run_slowbye(int(argv[1]), argv[2], argv[3], argv[4],
                               int(argv[5]), float(argv[6]))
        if cmd == "slow":
            return run_slow(int(argv[1]), argv[2], argv[3], int(argv[4]),
                            argv[5], int(argv[6]), float(argv[7]))
    except IndexError:
        pass
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

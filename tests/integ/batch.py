#!/usr/bin/python3
"""batch.py: BATCH records and quiet PUBLISH (doc/PROTOCOL.md 5.1, 7.1)
against secmsgd, for batch.sh, on the independent implementation
(tests/interop/secmsg_noise.py).

  batch.py PORT SERVERKEY DIR CMD
    fanout    pub (bits 2, 3) sends N PUBLISH in one BATCH record; sub1
              (bit 2) and sub0 (no bits) each print "subN got K order=ok
              batches=B finals=F"; pub prints "pub oks K batches=B"
    bad KIND  KIND zero | trunc | lone | nobit | midway: a malformed
              BATCH from DIR/pub.key (nobit: without bit 2); prints
              "closed" when the server ends the connection with no message
    quiet     quiet PUBLISH from pub to "news" (delivered), to "secret"
              (not-permitted) and with a body above the maximum
              (too-large), then a PING; prints each reply the publisher
              got and what sub1 got
    oldquiet  the same id bit from a client without bit 3: an OK comes
    rate N    N quiet publishes in one BATCH; prints "errors E
              rate-limited R delivered D" (D from sub1)
Keys: DIR/pub.key, DIR/sub1.key, DIR/sub0.key.  Exit 0, or 1 with
"fail WHY".
"""
import base64
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "..", "interop"))
import secmsg_noise as sn  # noqa: E402

N = 200
BODY_MAX = 2000         # batch.sh's max_message_size


def connect(port, expect, keyfile, features):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    ch = sn.Channel(sock, True, sn.keypair_from_file(keyfile),
                    features=features, check_key=lambda k: k == expect)
    ch.handshake()
    m = sn.parse_message(ch.recv())
    if m["type"] != "welcome":
        raise sn.ProtocolError("no welcome: %r" % m)
    if ch.feature(sn.FEATURE_NEXT_KEY):
        ch.recv()
    return sock, ch


def reply(ch, rid):
    """The reply to request rid (DELIVERs on the way are not expected)."""
    m = sn.parse_message(ch.recv())
    if m["type"] not in ("ok", "error") or m["id"] != rid:
        raise sn.ProtocolError("expected reply %d, got %r" % (rid, m))
    return m


def join(ch, chan):
    ch.send(sn.join(1, chan))
    if reply(ch, 1)["type"] != "ok":
        raise sn.ProtocolError("join refused")
    ch.record_types.clear()


def seqs(ch, n):
    """n DELIVERs, their 4-byte sequence numbers in order?"""
    want = 0
    for _ in range(n):
        m = sn.parse_message(ch.recv())
        if m["type"] != "deliver":
            raise sn.ProtocolError("expected deliver, got %r" % m)
        (seq,) = struct.unpack(">I", m["body"][:4])
        if seq != want:
            return False
        want += 1
    return True


def counts(ch):
    t = ch.record_types
    return t.count(sn.REC_BATCH), t.count(sn.REC_FINAL)


def fanout(port, expect, d):
    _, s1 = connect(port, expect, d + "/sub1.key", sn.FEATURE_BATCH)
    _, s0 = connect(port, expect, d + "/sub0.key", 0)
    _, p = connect(port, expect, d + "/pub.key",
                   sn.FEATURE_BATCH | sn.FEATURE_QUIET)
    join(s1, "news")
    join(s0, "news")
    p.record_types.clear()
    p.send_batch([sn.publish(100 + i, "news", struct.pack(">I", i) +
                             b"x" * 60) for i in range(N)])
    oks = 0
    for i in range(N):
        m = reply(p, 100 + i)
        if m["type"] == "ok" and m["data"] == struct.pack(">II", 2, 0):
            oks += 1
    for name, ch in (("sub1", s1), ("sub0", s0)):
        order = "ok" if seqs(ch, N) else "bad"
        b, f = counts(ch)
        print("%s got %d order=%s batches=%d finals=%d" %
              (name, N, order, b, f))
    print("pub oks %d batches=%d" % (oks, counts(p)[0]))


def bad(port, expect, d, kind):
    _, s1 = connect(port, expect, d + "/sub1.key", sn.FEATURE_BATCH)
    sock, p = connect(port, expect, d + "/pub.key",
                      0 if kind == "nobit" else sn.FEATURE_BATCH)
    ping = sn.ping(5)
    if kind == "midway":
        p._send_record(sn.REC_MORE, b"\x01\x00")
        p.tx_count += 1
    data = {"zero": struct.pack(">H", 5) + ping + b"\x00\x00",
            "trunc": struct.pack(">H", 9) + ping,
            "lone": struct.pack(">H", 5) + ping + b"\x00",
            "nobit": struct.pack(">H", 5) + ping,
            "midway": struct.pack(">H", 5) + ping}[kind]
    p.send_batch(data=data)
    try:
        got = p.recv()
        print("got %r" % sn.parse_message(got))
    except (sn.ProtocolError, EOFError, ConnectionError, OSError):
        print("closed")
    # Only that connection: the other one is served as before.
    s1.send(sn.ping(7))
    if reply(s1, 7)["type"] == "ok":
        print("other alive")


def quiet(port, expect, d):
    _, s1 = connect(port, expect, d + "/sub1.key", sn.FEATURE_BATCH)
    join(s1, "news")
    _, p = connect(port, expect, d + "/pub.key", sn.FEATURE_QUIET)
    q = sn.QUIET_ID
    p.send(sn.publish(q | 1, "news", b"\x00\x00\x00\x00quiet one"))
    p.send(sn.publish(q | 2, "secret", b"nope"))
    p.send(sn.publish(q | 3, "news", b"y" * (BODY_MAX + 1)))
    p.send(sn.publish(q | 4, "news", b"\x00\x00\x00\x01quiet two"))
    p.send(sn.ping(9))
    while True:
        m = sn.parse_message(p.recv())
        if m["type"] == "error":
            print("pub error id=%d code=%d" % (m["id"] & ~q, m["code"]))
        elif m["type"] == "ok":
            print("pub ok id=%d" % m["id"])
            if m["id"] == 9:
                break
        else:
            print("pub %s" % m["type"])
    for _ in range(2):
        m = sn.parse_message(s1.recv())
        print("sub1 %s %s" % (m["type"], m["body"][4:].decode()))


def oldquiet(port, expect, d):
    _, p = connect(port, expect, d + "/pub.key", 0)
    p.send(sn.publish(sn.QUIET_ID | 1, "news", b"x"))
    m = reply(p, sn.QUIET_ID | 1)
    print("pub %s %d %d" % ((m["type"],) + struct.unpack(">II",
                                                          m["data"])))


def rate(port, expect, d, n):
    _, s1 = connect(port, expect, d + "/sub1.key", sn.FEATURE_BATCH)
    join(s1, "news")
    _, p = connect(port, expect, d + "/pub.key",
                   sn.FEATURE_BATCH | sn.FEATURE_QUIET)
    q = sn.QUIET_ID
    p.send_batch([sn.publish(q | i, "news", struct.pack(">I", i))
                  for i in range(n)])
    p.send(sn.ping(q - 1))
    errors = limited = 0
    while True:
        m = sn.parse_message(p.recv())
        if m["type"] in ("ok", "error") and m["id"] == q - 1:
            break       # the PING: everything before it is answered
        if m["type"] != "error":
            raise sn.ProtocolError("unexpected %r" % m)
        errors += 1
        limited += m["code"] == 8
    delivered = 0
    s1.sock.settimeout(1.0)
    try:
        while True:
            if sn.parse_message(s1.recv())["type"] == "deliver":
                delivered += 1
    except (socket.timeout, OSError):
        pass
    print("errors %d rate-limited %d delivered %d" % (errors, limited,
                                                      delivered))


def main():
    port, skey, d, cmd = sys.argv[1:5]
    expect = base64.b64decode(skey, validate=True)
    try:
        if cmd == "fanout":
            fanout(port, expect, d)
        elif cmd == "bad":
            bad(port, expect, d, sys.argv[5])
        elif cmd == "quiet":
            quiet(port, expect, d)
        elif cmd == "oldquiet":
            oldquiet(port, expect, d)
        elif cmd == "rate":
            rate(port, expect, d, int(sys.argv[5]))
        else:
            raise SystemExit("unknown command")
    except (sn.ProtocolError, EOFError, OSError) as e:
        print("fail %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

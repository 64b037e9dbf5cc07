#!/usr/bin/python3
"""durable.py: a scripted durable client of secmsgd for durable.sh, on
the independent implementation (tests/interop/secmsg_noise.py).

  durable.py PORT SERVERKEY KEYFILE FEATURES CMD [ARGS]
    features                 print the server's hello features
    dsend NAME BODY KEYHEX   DSEND; prints "ok msgid=N flags=F stored=S
                             full=U delivered=D skipped=K" or "error CODE"
    djoin CHANNEL            DJOIN; prints "ok" or "error CODE"
    fetch ACK                read STORED until DRAINED, printing
                             "stored ID FLAGS FROM CHANNEL BODY" and
                             "drained UPTO STORED"; with ACK=1 acknowledge
                             them all ("ack removed N"); then PENDING
                             ("pending MESSAGES BYTES")
    wait N                   like fetch 1, but go on until N STORED came
                             (DRAINED counted apart), then ACK and PENDING
    two                      with store_max_unacked = 1 and messages 1, 2
                             stored: connections A then B of the name
                             each get STORED 1; A acknowledges it; prints
                             "b got 2" when B then gets message 2 (its
                             window freed by A's ACK), "b stalled" if not
    plain                    a connection without bit 1: wait (10 s at
                             most) for one DELIVER, print "deliver FROM
                             BODY"
    noack                    read STORED until DRAINED and never ACK them;
                             then wait (20 s at most) for the first of
                             them to come again: "again ID FLAGS AFTER"
                             (AFTER: seconds since it first came, one
                             decimal), or "no redelivery"
    flood NAME SECS          DSENDs to NAME (no key), 32 in flight ("flood
                             started" after the first OK),
                             until one is refused unknown-peer (a reload
                             revoked NAME) or SECS passed; then wait for
                             the replies out: "flood ok=N refused=M
                             code=C" (C: the first refusal's code)
One line per event; exit 0, or 1 with "fail WHY".
"""
import base64
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(
    __file__)), "..", "interop"))
import secmsg_noise as sn  # noqa: E402


def recv(ch):
    b = ch.recv()
    t = b[0]
    if t == sn.MSG_STORED:
        (msgid, flags) = struct.unpack(">QB", b[1:10])
        frm, off = sn._take_name(b, 10)
        chan, off = sn._take_name(b, off, mayempty=True)
        (ts,) = struct.unpack(">Q", b[off:off + 8])
        return {"type": "stored", "id": msgid, "flags": flags,
                "from": frm, "channel": chan or "-", "ts": ts,
                "body": b[off + 8:]}
    if t == sn.MSG_DRAINED:
        if len(b) != 13:
            raise sn.ProtocolError("drained of %d bytes" % len(b))
        (upto, stored) = struct.unpack(">QI", b[1:13])
        return {"type": "drained", "upto": upto, "stored": stored}
    return sn.parse_message(b)


def reply(ch, rid, seen):
    """The reply to request rid; STORED and DRAINED on the way go to
    seen."""
    while True:
        m = recv(ch)
        if m["type"] in ("stored", "drained"):
            seen.append(m)
            continue
        if m["type"] in ("ok", "error") and m["id"] == rid:
            return m
        if m["type"] == "goodbye":
            return m
        raise sn.ProtocolError("unexpected %s" % m["type"])


def show(m):
    if m["type"] == "stored":
        print("stored %d %d %s %s %s" % (m["id"], m["flags"], m["from"],
              m["channel"], m["body"].decode("ascii", "replace")))
    elif m["type"] == "drained":
        print("drained %d %d" % (m["upto"], m["stored"]))


def ack_pending(ch, ids):
    seen = []
    if ids:
        ch.send(struct.pack(">BIH", sn.MSG_ACK, 90, len(ids)) +
                b"".join(struct.pack(">Q", i) for i in ids))
        r = reply(ch, 90, seen)
        if r["type"] != "ok":
            print("ack error %d" % r["code"])
        else:
            print("ack removed %d" % struct.unpack(">I", r["data"])[0])
    ch.send(struct.pack(">BI", sn.MSG_PENDING, 91))
    r = reply(ch, 91, seen)
    for m in seen:
        show(m)
    if r["type"] != "ok":
        print("pending error %d" % r["code"])
    else:
        print("pending %d %d" % struct.unpack(">IQ", r["data"]))


def connect(port, expect, kp, features):
    sock = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    ch = sn.Channel(sock, True, kp, features=int(features),
                    check_key=lambda k: k == expect)
    ch.handshake()
    return sock, ch


def next_stored(ch):
    while True:
        m = recv(ch)
        if m["type"] == "stored":
            return m
        if m["type"] != "drained":
            raise sn.ProtocolError("unexpected %s" % m["type"])


def two(port, expect, kp):
    sa, a = connect(port, expect, kp, sn.FEATURE_DURABLE)
    if recv(a)["type"] != "welcome":
        raise sn.ProtocolError("no welcome")
    first = next_stored(a)["id"]
    print("a stored %d" % first)
    sb, b = connect(port, expect, kp, sn.FEATURE_DURABLE)
    if recv(b)["type"] != "welcome":
        raise sn.ProtocolError("no welcome")
    print("b stored %d" % next_stored(b)["id"])
    a.send(struct.pack(">BIHQ", sn.MSG_ACK, 1, 1, first))
    seen = []
    r = reply(a, 1, seen)
    print("a ack removed %d" % struct.unpack(">I", r["data"])[0])
    sb.settimeout(5)
    try:
        m = next_stored(b)
        print("b got %d" % m["id"])
    except OSError:
        print("b stalled")
    sa.close()
    sb.close()
    return 0


def flood(ch, name, secs):
    end = time.monotonic() + secs
    nextid, out, ok, refused, stop, code = 100, 0, 0, 0, False, 0
    while True:
        while not stop and out < 32:
            ch.send(struct.pack(">BI", sn.MSG_DSEND, nextid) + bytes(16) +
                    sn._name(name) + b"f%d" % nextid)
            nextid += 1
            out += 1
        if out == 0:
            break
        m = recv(ch)
        if m["type"] == "goodbye":
            raise sn.ProtocolError("goodbye %d" % m["code"])
        if m["type"] not in ("ok", "error"):
            continue
        out -= 1
        if m["type"] == "ok":
            ok += 1
            if ok == 1:
                # The caller revokes the name once DSENDs are landing:
                # a fixed sleep was too short on a slow (TSan) build.
                print("flood started", flush=True)
        else:
            refused += 1
            code = code or m["code"]
            stop = True
        if time.monotonic() > end:
            stop = True
    print("flood ok=%d refused=%d code=%d" % (ok, refused, code))
    return 0


def main(argv):
    port, skey, keyfile, features, cmd = argv[:5]
    args = argv[5:]
    kp = sn.keypair_from_file(keyfile)
    expect = base64.b64decode(skey, validate=True)
    if cmd == "two":
        return two(port, expect, kp)
    sock, ch = connect(port, expect, kp, features)
    if cmd == "features":
        print("features", ch.peer["features"])
        return 0
    m = recv(ch)
    if m["type"] != "welcome":
        raise sn.ProtocolError("expected welcome, got %s" % m["type"])
    if cmd == "dsend":
        name, body, key = args[0], args[1].encode(), bytes.fromhex(args[2])
        ch.send(struct.pack(">BI", sn.MSG_DSEND, 5) + key +
                sn._name(name) + body)
        try:
            r = reply(ch, 5, [])
        except (EOFError, sn.ProtocolError) as e:
            print("# closed: %r" % e)
            r = None
        if r is None or r["type"] == "goodbye":
            print("goodbye %d" % (r["code"] if r else -1))
        elif r["type"] == "error":
            print("error %d" % r["code"])
        else:
            print("ok msgid=%d flags=%d stored=%d full=%d delivered=%d "
                  "skipped=%d" % struct.unpack(">QBIIII", r["data"]))
        return 0
    if cmd == "flood":
        return flood(ch, args[0], float(args[1]))
    if cmd == "plain":
        sock.settimeout(10)
        while True:
            m = recv(ch)
            if m["type"] == "deliver":
                print("deliver %s %s" % (m["from"],
                      m["body"].decode("ascii", "replace")))
                return 0
    if cmd == "noack":
        first = {}
        while True:
            m = recv(ch)
            show(m)
            if m["type"] == "drained":
                break
            if m["type"] == "stored" and m["id"] not in first:
                first[m["id"]] = time.monotonic()
        sock.settimeout(20)
        try:
            while True:
                m = recv(ch)
                if m["type"] == "stored" and m["id"] in first:
                    print("again %d %d %.1f" % (m["id"], m["flags"],
                          time.monotonic() - first[m["id"]]))
                    return 0
        except OSError:
            print("no redelivery")
        return 0
    if cmd == "djoin":
        ch.send(struct.pack(">BI", sn.MSG_DJOIN, 6) + sn._name(args[0]))
        r = reply(ch, 6, [])
        if r["type"] == "error":
            print("error %d" % r["code"])
        else:
            print(r["type"])
        return 0
    if cmd in ("fetch", "wait"):
        want = int(args[0]) if cmd == "wait" else None
        ids, drained = [], False
        while not drained or (want is not None and len(ids) < want):
            m = recv(ch)
            show(m)
            if m["type"] == "stored":
                ids.append(m["id"])
            elif m["type"] == "drained":
                drained = True
            else:
                raise sn.ProtocolError("unexpected %s" % m["type"])
        if cmd == "wait" or args[0] == "1":
            ack_pending(ch, ids)
        else:
            ack_pending(ch, [])
        return 0
    print("fail unknown command")
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (sn.ProtocolError, EOFError, OSError) as e:
        print("fail", e)
        sys.exit(1)

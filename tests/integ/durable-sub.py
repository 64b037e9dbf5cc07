#!/usr/bin/python3
"""durable-sub.py: durable channels (doc/PROTOCOL.md 11.3) for
durable-sub.sh, on the independent implementation
(tests/interop/secmsg_noise.py) and durable.py's helpers.

  durable-sub.py PORT SERVERKEY KEYDIR CMD [ARGS]   (keys: KEYDIR/NAME.key)
    djoin NAME CHANNEL        DJOIN; prints "ok" or "error CODE"
    dleave NAME CHANNEL       DLEAVE; the same
    dpublish NAME CHANNEL BODY KEYHEX
                              DPUBLISH; prints "ok msgid=N flags=F
                              stored=S full=U delivered=D skipped=K" or
                              "error CODE"
    mix CHANNEL               four connections JOIN CHANNEL: "lee" plain
                              (not durably subscribed), "ops" durable and
                              "ops" plain ("ops" has DJOINed CHANNEL
                              before), and the publisher "plc" (durable);
                              plc DPUBLISHes "m1"; prints the OK as
                              dpublish does, then one line per connection:
                              "lee deliver m1", "opsd stored m1", "opsp
                              deliver m1", "plc nothing" (what each got
                              within a second, "nothing" if nothing)
One line per event; exit 0, or 1 with "fail WHY".
"""
import base64
import os
import socket
import struct
import sys

import durable as dur
import secmsg_noise as sn


class Conn:
    def __init__(self, port, expect, keydir, name, features):
        kp = sn.keypair_from_file(os.path.join(keydir, name + ".key"))
        self.sock, self.ch = dur.connect(port, expect, kp, features)
        m = dur.recv(self.ch)
        if m["type"] != "welcome":
            raise sn.ProtocolError("expected welcome, got %s" % m["type"])
        self.seen = []
        self.rid = 0

    def request(self, msg_type, payload):
        self.rid += 1
        self.ch.send(struct.pack(">BI", msg_type, self.rid) + payload)
        return dur.reply(self.ch, self.rid, self.seen)

    def plain(self, msg):
        """A plain request (its bytes, id 1 in them) and its reply."""
        self.ch.send(msg)
        return dur.reply(self.ch, 1, self.seen)

    def collect(self, secs):
        """Whatever comes within secs seconds, into seen."""
        self.sock.settimeout(secs)
        try:
            while True:
                m = dur.recv(self.ch)
                if m["type"] in ("stored", "deliver"):
                    self.seen.append(m)
        except (socket.timeout, OSError):
            pass
        return [m for m in self.seen if m["type"] in ("stored", "deliver")]

    def close(self):
        self.sock.close()


def show_reply(r, ok_fmt=None):
    if r["type"] == "error":
        print("error %d" % r["code"])
    elif r["type"] == "goodbye":
        print("goodbye %d" % r["code"])
    elif ok_fmt == "publish":
        print("ok msgid=%d flags=%d stored=%d full=%d delivered=%d "
              "skipped=%d" % struct.unpack(">QBIIII", r["data"]))
    else:
        print(r["type"])


def mix(port, expect, keydir, chan):
    conns = {
        "lee": Conn(port, expect, keydir, "lee", 0),
        "opsd": Conn(port, expect, keydir, "ops", sn.FEATURE_DURABLE),
        "opsp": Conn(port, expect, keydir, "ops", 0),
        "plc": Conn(port, expect, keydir, "plc", sn.FEATURE_DURABLE),
    }
    for c in conns.values():
        r = c.plain(sn.join(1, chan))
        if r["type"] != "ok":
            raise sn.ProtocolError("join: %r" % r)
    # The durable one drains its (empty or not) backlog first.
    conns["opsd"].collect(0.5)
    conns["opsd"].seen = []
    r = conns["plc"].request(sn.MSG_DPUBLISH, bytes(16) + sn._name(chan) +
                             b"m1")
    show_reply(r, "publish")
    for tag in ("lee", "opsd", "opsp", "plc"):
        got = conns[tag].collect(1.0)
        if not got:
            print("%s nothing" % tag)
        for m in got:
            print("%s %s %s" % (tag, m["type"],
                                m["body"].decode("ascii", "replace")))
    for c in conns.values():
        c.close()
    return 0


def main(argv):
    port, skey, keydir, cmd = argv[:4]
    args = argv[4:]
    expect = base64.b64decode(skey, validate=True)
    if cmd == "mix":
        return mix(port, expect, keydir, args[0])
    c = Conn(port, expect, keydir, args[0], sn.FEATURE_DURABLE)
    if cmd == "djoin":
        show_reply(c.request(sn.MSG_DJOIN, sn._name(args[1])))
    elif cmd == "dleave":
        show_reply(c.request(sn.MSG_DLEAVE, sn._name(args[1])))
    elif cmd == "dpublish":
        show_reply(c.request(sn.MSG_DPUBLISH, bytes.fromhex(args[3]) +
                             sn._name(args[1]) + args[2].encode()),
                   "publish")
    else:
        print("fail unknown command")
        return 1
    c.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (sn.ProtocolError, EOFError, OSError) as e:
        print("fail", e)
        sys.exit(1)

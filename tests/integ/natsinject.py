#!/usr/bin/python3
"""tests/integ/natsinject.py: a hostile member of a secmsgd cluster's bus.

Speaks the NATS client protocol (text: INFO, CONNECT, PUB, PING) on a
plain socket and publishes what no honest node would, on the service's
subjects (secmsgd-cluster(7)):

  natsinject.py PORT SERVICE NODEHEX garbage N
      N random payloads on SERVICE.pres and SERVICE.node.NODEHEX, and
      records that are almost right (wrong version, bad names, counts
      that do not add up, answers for tokens nobody asked with, a
      snapshot request for another node)
  natsinject.py PORT SERVICE NODEHEX req CHANNEL
      three PUBLISH requests (REQ) to CHANNEL on that node: one whose
      DELIVER header is right (body "inj-good"), one whose header names
      another channel ("inj-bad") and one whose header is not a DELIVER
      ("inj-bad2"); a node delivers the first alone
  natsinject.py PORT SERVICE NODEHEX flood NAMES
      a node "intruder" announcing NAMES names in one snapshot, in parts
      of 1000 (over the victim's max_names_per_node)
  natsinject.py PORT SERVICE NODEHEX storm N
      N heartbeats of a node "storm", each with a new incarnation (as
      if it restarted N times)

Prints "published N" when the server has acknowledged (PONG) it all.
"""
import os
import random
import socket
import struct
import sys


def name(s):
    return bytes([len(s)]) + s


def head(t, node=b"intruder", inc=0x4242):
    return bytes([1, t]) + name(node) + struct.pack(">Q", inc)


def entry(kind, count, n):
    return bytes([ord(kind)]) + struct.pack(">I", count) + name(n)


class Nats:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), 10)
        self.f = self.s.makefile("rb")
        line = self.f.readline()
        if not line.startswith(b"INFO "):
            raise SystemExit("no INFO: %r" % line)
        self.s.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\n')
        self.n = 0

    def pub(self, subj, data):
        self.s.sendall(b"PUB %s %d\r\n%s\r\n" % (subj.encode(), len(data),
                                                  data))
        self.n += 1

    def sync(self):
        self.s.sendall(b"PING\r\n")
        while True:
            line = self.f.readline()
            if not line:
                raise SystemExit("connection closed")
            if line.startswith(b"PONG"):
                return
            if line.startswith(b"-ERR"):
                raise SystemExit("server error: %r" % line)


def main():
    port, svc, nodehex, what, n = (int(sys.argv[1]), sys.argv[2],
                                   sys.argv[3], sys.argv[4], sys.argv[5])
    nc = Nats(port)
    pres, node = svc + ".pres", svc + ".node." + nodehex
    if what == "req":
        chan = n.encode()

        def req(hdr, body):
            return (head(5) + struct.pack(">QIB", 7, 0, 2) + name(chan) +
                    struct.pack(">H", len(hdr)) + hdr + body)
        deliver = bytes([0x85]) + name(b"intruder")
        ts = struct.pack(">Q", 1700000000000)
        nc.pub(node, req(deliver + name(chan) + ts, b"inj-good"))
        nc.pub(node, req(deliver + name(chan + b"x") + ts, b"inj-bad"))
        nc.pub(node, req(bytes([0x83]) + struct.pack(">I", 1), b"inj-bad2"))
    elif what == "garbage":
        n = int(n)
        rnd = random.Random(18)
        for i in range(n):
            data = bytes(rnd.getrandbits(8)
                         for _ in range(rnd.randrange(0, 300)))
            nc.pub(pres if i % 2 else node, data)
        bad = [
            bytes([2]) + head(1)[1:] + struct.pack(">Q", 1),  # version
            head(9) + b"\0" * 8,                               # type
            bytes([1, 1, 3]) + b"a*b" + b"\0" * 16,           # node name
            head(2) + struct.pack(">QBI", 1, ord("p"), 1) + name(b"a.>"),
            head(2) + struct.pack(">QBI", 1, ord("x"), 1) + name(b"a"),
            head(4) + struct.pack(">QBH", 1, 3, 5) + entry("p", 1, b"a"),
            head(6) + struct.pack(">QIIIII", 1, 0, 1, 1, 1, 2),  # toolarge
            head(6) + struct.pack(">QIIIII", 1, 999, 1, 1, 0, 0),  # loop
            head(6) + struct.pack(">QIIIII", 0xdead << 32, 0, 5, 5, 0, 0),
            head(5) + struct.pack(">QIB", 1, 0, 7) + name(b"bob") +
            struct.pack(">H", 0),                              # REQ kind
            head(5) + struct.pack(">QIB", 1, 0, 1) + name(b"bob") +
            struct.pack(">H", 5000),                           # hdr len
        ]
        for b in bad:
            nc.pub(pres, b)
            nc.pub(node, b)
        nc.pub(node, head(3) + name(b"someone"))  # SNAPREQ, not for it
    elif what == "flood":
        n = int(n)
        ents = [entry("p", 1, b"flood%d" % i) for i in range(n)]
        parts = [ents[i:i + 1000] for i in range(0, n, 1000)] or [[]]
        for i, part in enumerate(parts):
            flags = (1 if i == 0 else 0) | (2 if i == len(parts) - 1 else 0)
            nc.pub(pres, head(4) + struct.pack(">QBH", 7, flags, len(part)) +
                   b"".join(part))
        nc.pub(pres, head(1) + struct.pack(">Q", 7))
    elif what == "storm":
        n = int(n)
        for i in range(n):
            nc.pub(pres, head(1, b"storm", i + 1) + struct.pack(">Q", 0))
    nc.sync()
    print("published", nc.n)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""lbclient.py: clients for tests/integ/cluster-lb.sh that live through
the death of the secmsgd node they are on, by connecting again through
the load balancer (HAProxy) as a real client would.  Built on the
independent protocol implementation (tests/interop/secmsg_noise.py) and
swarm.py's connection helpers.

  lbclient.py sub PORT KEYFILE SRC CHANNEL READY STOP SECS
      connect to PORT from address SRC, JOIN CHANNEL, touch READY.N (N:
      the connection's number, from 1) and print every DELIVER as
      "deliver N FROM CHANNEL BODY" (BODY as text); when the connection
      ends print "lost N" and connect again (every 0.2 s) and JOIN
      again, until the file STOP exists (then 1 s more to drain) or SECS
      have passed
  lbclient.py pub PORT KEYFILE SRC CHANNEL PREFIX MARK STOP SECS GAP
      connect, then PUBLISH "PREFIX-SEQ" to CHANNEL for SEQ = 1, 2, ...
      one after the other's reply, GAP seconds apart, until STOP exists
      or SECS passed; print "pub SEQ ok N DELIVERED" or "pub SEQ error
      CODE"; the first time the file MARK exists before a PUBLISH, print
      "mark SEQ" (that PUBLISH and the later ones come after it)

Every line is flushed at once; every wait is bounded.
"""
import os
import select
import struct
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "interop"))

import secmsg_noise as sn  # noqa: E402
import swarm  # noqa: E402

out = swarm.out
ENDED = (EOFError, OSError, sn.ProtocolError)


def dial(port, keyfile, src, deadline):
    """A session through the balancer (retried until deadline), or None."""
    while time.monotonic() < deadline:
        try:
            ch, first = swarm.connect(port, keyfile, src)
            if first["type"] == "welcome":
                return ch
            ch.sock.close()
        except ENDED:
            pass
        time.sleep(0.2)
    return None


def request(ch, rid, data, shown):
    """The reply to request rid; DELIVERs on the way go to shown()."""
    ch.send(data)
    ch.sock.settimeout(10)
    while True:
        m = sn.parse_message(ch.recv())
        if m["type"] in ("ok", "error") and m["id"] == rid:
            return m
        if m["type"] == "goodbye":
            raise EOFError("goodbye")
        shown(m)


def run_sub(port, keyfile, src, chan, ready, stop, secs):
    deadline = time.monotonic() + secs
    n = 0
    while time.monotonic() < deadline:
        ch = dial(port, keyfile, src, deadline)
        if ch is None:
            break
        n += 1

        def shown(m, n=n):
            if m["type"] == "deliver":
                out("deliver", n, m["from"], m["channel"] or "-",
                    m["body"].decode("ascii", "replace"))
        try:
            out("connected", n, ch.sock.getsockname()[1])
            m = request(ch, 1, sn.join(1, chan), shown)
            out("join", n, m["type"])
            open("%s.%d" % (ready, n), "w").close()
            end = deadline
            while time.monotonic() < end:
                if os.path.exists(stop) and end > time.monotonic() + 1:
                    end = time.monotonic() + 1
                # Wait for a whole record's start, then read it with a
                # longer timeout: never give up in the middle of one.
                if not ch.pending and not select.select(
                        [ch.sock], [], [], 0.2)[0]:
                    continue
                ch.sock.settimeout(10)
                m = sn.parse_message(ch.recv())
                if m["type"] == "goodbye":
                    raise EOFError("goodbye")
                shown(m)
            out("end", n)
            return 0
        except ENDED as e:
            out("lost", n, type(e).__name__)
            ch.sock.close()
    out("gave-up", n)
    return 1


def run_pub(port, keyfile, src, chan, prefix, mark, stop, secs, gap):
    deadline = time.monotonic() + secs
    ch = dial(port, keyfile, src, deadline)
    if ch is None:
        out("gave-up")
        return 1
    out("connected", ch.sock.getsockname()[1])
    marked = False
    seq = 0
    try:
        while time.monotonic() < deadline and not os.path.exists(stop):
            seq += 1
            if not marked and os.path.exists(mark):
                marked = True
                out("mark", seq)
            m = request(ch, seq, sn.publish(seq, chan, b"%s-%05d" % (
                prefix.encode(), seq)), lambda m: None)
            if m["type"] == "ok":
                out("pub", seq, "ok", "%d %d" % struct.unpack(
                    ">II", m["data"]))
            else:
                out("pub", seq, "error", m["code"])
            time.sleep(gap)
    except ENDED as e:
        out("lost", type(e).__name__)
        return 1
    out("end", seq)
    return 0


def main(argv):
    if len(argv) == 8 and argv[0] == "sub":
        return run_sub(int(argv[1]), argv[2], argv[3], argv[4], argv[5],
                       argv[6], float(argv[7]))
    if len(argv) == 10 and argv[0] == "pub":
        return run_pub(int(argv[1]), argv[2], argv[3], argv[4], argv[5],
                       argv[6], argv[7], float(argv[8]), float(argv[9]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

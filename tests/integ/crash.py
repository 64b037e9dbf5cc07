#!/usr/bin/python3
"""crash.py: durable delivery under crashes, for crash.sh (issue 17;
doc/PROTOCOL.md section 11), on the independent implementation
(tests/interop/secmsg_noise.py, through durable.py's decoder).

  crash.py SECMSGD CONF LOG PORT SERVERKEY KEYDIR DPID N KILLS PIDFILE

SECMSGD -f -d -c CONF is running as DPID (started by crash.sh), its
stderr going to LOG.  Senders s0..s3 (KEYDIR/s0.key ...) each send N
durable messages, one at a time, round robin to r0, r1 and r2; a body
is "SENDER SEQ RECIPIENT".  Each message has its own random idempotency
key, and a try whose outcome is unknown (connection lost after the
request went out, ERROR store-error) is retried with the same key.
Meanwhile the daemon is killed with SIGKILL KILLS times, at random
moments of the sending, and restarted on the same CONF (its pid in
PIDFILE, so that crash.sh can always stop it); receivers of r0..r2 come
and go, acknowledging a message only once it is recorded, and sometimes
leave with messages unacknowledged.  At the end each recipient drains
its mailbox; then every check below prints one line "ok WHAT" or
"not ok WHAT (why)", and the daemon is stopped with SIGTERM.
"""
import base64
import ctypes
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
sys.path.insert(0, HERE)
import secmsg_noise as sn  # noqa: E402
import durable as dur  # noqa: E402

SENDERS = ["s0", "s1", "s2", "s3"]
RECIPIENTS = ["r0", "r1", "r2"]
E_STORE_ERROR = 12
DEADLINE = time.monotonic() + 45     # the whole sending phase


class Daemon:
    """The secmsgd under test: killed and restarted by the main thread."""

    def __init__(self, argv):
        self.path, self.conf, self.log = argv[0], argv[1], argv[2]
        self.pid = int(argv[6])
        self.pidfile = argv[9]
        self.proc = None
        self.up = threading.Event()
        self.up.set()

    def readies(self):
        with open(self.log, "rb") as f:
            return f.read().count(b"info]: ready")

    def kill(self):
        self.up.clear()
        os.kill(self.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
        else:
            # crash.sh's daemon is not our child: wait until it is gone.
            for _ in range(100):
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def start(self):
        # The daemon dies with us (PR_SET_PDEATHSIG), whatever happens.
        def pdeath():
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
        for _ in range(20):
            n0 = self.readies()
            log = open(self.log, "ab")
            self.proc = subprocess.Popen(
                [self.path, "-f", "-d", "-c", self.conf],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=log, preexec_fn=pdeath)
            log.close()
            self.pid = self.proc.pid
            with open(self.pidfile, "w") as f:
                f.write("%d\n" % self.pid)
            for _ in range(300):
                if self.readies() > n0:
                    self.up.set()
                    return
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
            if self.proc.poll() is None:
                raise RuntimeError("secmsgd did not get ready")
            time.sleep(0.2)     # the port still taken, say: again
        raise RuntimeError("secmsgd did not restart")

    def stop(self):
        os.kill(self.pid, signal.SIGTERM)
        return self.proc.wait(timeout=20)


def connect(port, expect, kp):
    """A durable connection as kp, WELCOME read; raises OSError etc."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        ch = sn.Channel(sock, True, kp, features=sn.FEATURE_DURABLE,
                        check_key=lambda k: k == expect)
        ch.handshake()
        m = dur.recv(ch)
        if m["type"] != "welcome":
            raise sn.ProtocolError("no welcome: %s" % m["type"])
    except BaseException:
        sock.close()
        raise
    return sock, ch


LOST = (OSError, EOFError, sn.ProtocolError)


class Sender(threading.Thread):
    def __init__(self, name, n, port, expect, kp, progress):
        threading.Thread.__init__(self, daemon=True)
        self.name_, self.n, self.port, self.expect = name, n, port, expect
        self.kp, self.progress = kp, progress
        self.ok = {}            # seq -> (msgid, flags)
        self.ambiguous = set()  # seqs with a try of unknown outcome
        self.retries = 0
        self.failure = None

    def run(self):
        try:
            self.send_all()
        except Exception as e:     # reported by the main thread
            self.failure = repr(e)

    def send_all(self):
        sock = ch = None
        rid = 0
        for seq in range(self.n):
            to = RECIPIENTS[(seq + SENDERS.index(self.name_)) %
                            len(RECIPIENTS)]
            key = os.urandom(16)
            body = ("%s %d %s" % (self.name_, seq, to)).encode()
            while True:
                if time.monotonic() > DEADLINE:
                    raise RuntimeError("seq %d not stored in time" % seq)
                if ch is None:
                    try:
                        sock, ch = connect(self.port, self.expect, self.kp)
                    except LOST:
                        time.sleep(0.05)
                        continue
                rid += 1
                sent = False
                try:
                    ch.send(struct.pack(">BI", sn.MSG_DSEND, rid) + key +
                            sn._name(to) + body)
                    sent = True
                    r = dur.reply(ch, rid, [])
                except LOST:
                    r = None
                if r is not None and r["type"] == "ok":
                    msgid, flags = struct.unpack(">QB", r["data"][:9])
                    self.ok[seq] = (msgid, flags)
                    self.progress()
                    break
                if r is None or r["type"] != "error":
                    # Lost, or GOODBYE: a new connection, the same key.
                    if sent:
                        self.ambiguous.add(seq)
                    sock.close()
                    sock = ch = None
                elif r["code"] == E_STORE_ERROR:
                    self.ambiguous.add(seq)
                else:
                    time.sleep(0.05)  # definite: nothing stored
                self.retries += 1
        if sock is not None:
            sock.close()


class Receiver(threading.Thread):
    """Connections of one recipient name, one at a time, coming and
    going until told to stop; got holds (msgid, flags, from, body) in the
    order received."""

    def __init__(self, name, port, expect, kp):
        threading.Thread.__init__(self, daemon=True)
        self.name_, self.port, self.expect, self.kp = name, port, expect, kp
        self.got = []
        self.stop = threading.Event()
        self.failure = None
        self.rid = 0

    def run(self):
        try:
            while not self.stop.is_set():
                self.session(random.uniform(0.2, 1.5), False)
                time.sleep(random.uniform(0, 0.5))
        except Exception as e:
            self.failure = repr(e)

    def ack(self, ch, ids):
        self.rid += 1
        ch.send(struct.pack(">BIH", sn.MSG_ACK, self.rid, len(ids)) +
                b"".join(struct.pack(">Q", i) for i in ids))
        return self.rid

    def session(self, life, drain):
        """One connection, for about life seconds (or, with drain, until
        DRAINED, every ACK answered and PENDING); returns PENDING's
        (messages, bytes) when drain, else None."""
        try:
            sock, ch = connect(self.port, self.expect, self.kp)
        except LOST:
            if drain:
                raise
            time.sleep(0.05)
            return None
        end = time.monotonic() + (20 if drain else life)
        ids, waiting, drained, pend_rid = [], set(), False, None
        try:
            while time.monotonic() < end:
                if drain and drained and not ids and not waiting:
                    if pend_rid is None:
                        self.rid += 1
                        pend_rid = self.rid
                        ch.send(struct.pack(">BI", sn.MSG_PENDING,
                                            pend_rid))
                if select.select([sock], [], [], 0.1)[0]:
                    m = dur.recv(ch)
                    if m["type"] == "stored":
                        # Recorded first, acknowledged after.
                        self.got.append((m["id"], m["flags"], m["from"],
                                         m["body"]))
                        ids.append(m["id"])
                    elif m["type"] == "drained":
                        drained = True
                    elif m["type"] == "ok" and m["id"] == pend_rid:
                        return struct.unpack(">IQ", m["data"])
                    elif m["type"] == "ok":
                        waiting.discard(m["id"])
                    else:
                        raise sn.ProtocolError("unexpected %s: %r" %
                                               (m["type"], m))
                    if len(ids) < 16 and not drained:
                        continue
                if ids:
                    waiting.add(self.ack(ch, ids[:1024]))
                    del ids[:1024]
            if drain:
                raise RuntimeError("drain not finished in 20 s")
            # Leaving: sometimes with the last ones unacknowledged.
            if ids and random.random() < 0.5:
                self.ack(ch, ids)
        except LOST:
            if drain:
                raise
        finally:
            sock.close()
        return None


def check(results, what, cond, why=""):
    results.append(("ok %s" % what) if cond else
                   ("not ok %s (%s)" % (what, why)))


def verify(senders, receivers, pending):
    res = []
    check(res, "every sender got an OK for each of its messages",
          all(s.failure is None and len(s.ok) == s.n for s in senders),
          "; ".join("%s: %s, %d OK" % (s.name_, s.failure, len(s.ok))
                    for s in senders))
    check(res, "no receiver failed", all(r.failure is None
                                        for r in receivers),
          "; ".join("%s: %s" % (r.name_, r.failure) for r in receivers))
    check(res, "every mailbox is empty at the end",
          all(p == (0, 0) for p in pending), repr(pending))
    sent = {s.name_: s for s in senders}
    bogus, received, body_of = [], set(), {}
    unflagged_dup, dup_unambiguous, order = [], [], []
    for r in receivers:
        seen_ids, last_id, last_seq = set(), 0, {}
        for (msgid, flags, frm, body) in r.got:
            try:
                snd, seq, to = body.decode("ascii").split(" ")
                seq = int(seq)
            except (UnicodeDecodeError, ValueError):
                bogus.append(body)
                continue
            s = sent.get(snd)
            if (s is None or frm != snd or to != r.name_ or
                    seq >= s.n or
                    RECIPIENTS[(seq + SENDERS.index(snd)) % 3] != to):
                bogus.append(body)
                continue
            if body_of.setdefault((r.name_, msgid), body) != body:
                bogus.append(b"msgid %d reused" % msgid)
            received.add((snd, seq))
            if msgid in seen_ids:
                if not flags & 1:
                    unflagged_dup.append((r.name_, msgid))
                continue
            seen_ids.add(msgid)
            if flags & 1:
                continue    # its first delivery went to a closed conn
            # A first delivery: in msgid order in the mailbox, and in
            # sequence order per sender; the same seq again (a new msgid)
            # only for a try of unknown outcome.
            if msgid <= last_id:
                order.append((r.name_, msgid, last_id))
            last_id = msgid
            prev = last_seq.get(snd, -1)
            if seq < prev:
                order.append((r.name_, snd, seq, prev))
            elif seq == prev and seq not in s.ambiguous:
                dup_unambiguous.append((r.name_, snd, seq))
            last_seq[snd] = seq
    missing = [(s.name_, q) for s in senders for q in s.ok
               if (s.name_, q) not in received]
    check(res, "every message that got OK was received", not missing,
          "%d missing, first %r" % (len(missing), missing[:5]))
    check(res, "nothing was received that was never sent", not bogus,
          repr(bogus[:5]))
    check(res, "every repeated delivery of a msgid is flagged",
          not unflagged_dup, repr(unflagged_dup[:5]))
    check(res, "a message stored twice always follows an ambiguous try",
          not dup_unambiguous, repr(dup_unambiguous[:5]))
    check(res, "first deliveries in order per sender and recipient",
          not order, repr(order[:5]))
    return res


def main(argv):
    port, n, kills = int(argv[3]), int(argv[7]), int(argv[8])
    expect = base64.b64decode(argv[4], validate=True)
    keydir = argv[5]
    d = Daemon(argv)
    total, done = n * len(SENDERS), [0]
    lock = threading.Lock()

    def progress():
        with lock:
            done[0] += 1

    def kp(name):
        return sn.keypair_from_file(os.path.join(keydir, name + ".key"))
    senders = [Sender(s, n, port, expect, kp(s), progress) for s in SENDERS]
    receivers = [Receiver(r, port, expect, kp(r)) for r in RECIPIENTS]
    # Kill at random points of the sending, so that every kill lands
    # while messages are in flight however fast this machine is.
    marks = sorted(random.uniform(0.05, 0.9) * total for _ in range(kills))
    for t in receivers + senders:
        t.start()
    killed = 0
    try:
        for mark in marks:
            while done[0] < mark and time.monotonic() < DEADLINE and \
                    any(s.is_alive() for s in senders):
                time.sleep(0.01)
            time.sleep(random.uniform(0, 0.05))
            d.kill()
            killed += 1
            time.sleep(random.uniform(0, 0.3))
            d.start()
        for s in senders:
            s.join(max(1, DEADLINE - time.monotonic() + 5))
        for r in receivers:
            r.stop.set()
        for r in receivers:
            r.join(15)
        pending = []
        for r in receivers:
            try:
                pending.append(r.session(0, True))
            except LOST as e:
                r.failure = r.failure or "drain: %r" % e
                pending.append(None)
        res = verify(senders, receivers, pending)
        check(res, "the daemon was killed %d times while sending" % kills,
              killed == kills, "%d" % killed)
        amb = sum(len(s.ambiguous) for s in senders)
        dups = sum(len(r.got) for r in receivers) - total
        print("# %d messages, %d kills, %d retries, %d ambiguous, "
              "%d extra deliveries" % (total, killed, sum(
                  s.retries for s in senders), amb, dups))
        st = d.stop()
        check(res, "secmsgd stops cleanly after all", st == 0,
              "exit %s" % st)
    finally:
        if d.proc is not None and d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
    for line in res:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

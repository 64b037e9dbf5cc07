# Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE.
"""The secmsg Python package against a live secmsgd (tests/integ/python.sh).

    test_secmsg.py ADDR SERVER_KEY ALICE_KEY BOB_KEY TMPDIR CAROL_KEY

Prints "ok - NAME" / "not ok - NAME" per check (the script numbers them).
"""
import asyncio
import os
import sys
import traceback

import secmsg

ADDR, SKEY, ALICE, BOB, TMP, CAROL = sys.argv[1:7]
failed = 0


def check(name, fn):
    global failed
    try:
        ok = fn()
    except Exception:  # a failed check, with its traceback
        ok = False
        for line in traceback.format_exc().splitlines():
            print("# " + line)
    if not ok:
        failed += 1
    print(("ok" if ok else "not ok") + " - " + name, flush=True)


def raises(exc, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc as e:
        return e
    return None


a_id = secmsg.Identity.load(ALICE)
b_id = secmsg.Identity.load(BOB)
c_id = secmsg.Identity.load(CAROL)
check("version", lambda: secmsg.version() == "0.1.0")
check("identity: generate, save, load, public key and fingerprint",
      lambda: (lambda g: (g.save(os.path.join(TMP, "py.key")) or True) and
               secmsg.Identity.load(os.path.join(TMP, "py.key")).public_key
               == g.public_key and g.fingerprint.startswith("SHA256:"))(
          secmsg.Identity.generate()))

with secmsg.Client(ADDR, a_id, server_key=SKEY) as a, \
        secmsg.Client(ADDR, b_id, server_key=SKEY) as b:
    check("connect: names", lambda: a.name == "alice" and b.name == "bob")
    check("ping echoes", lambda: a.ping(b"abc") == b"abc")
    b.join("sensors")
    check("publish: delivered 1",
          lambda: a.publish("sensors", b"21.5").delivered == 1)
    check("the subscriber iterates deliveries",
          lambda: [(d.sender, d.channel, d.body) for d in
                   b.deliveries(timeout=2)] == [("alice", "sensors",
                                                  b"21.5")])
    check("send: a direct message",
          lambda: a.send("bob", b"hi").delivered == 1 and
          b.receive(5).channel is None)
    e = raises(secmsg.RequestError, a.send, "nobody", b"x")
    check("RequestError carries the protocol code",
          lambda: e is not None and e.code_name in ("unknown-peer",
                                                    "offline"))
    check("who lists both", lambda: {w.name for w in a.who()
                                     if w.kind == "peer"} >=
          {"alice", "bob"})
    check("receive times out", lambda: raises(secmsg.TimeoutError,
                                              b.receive, 0.2) is not None)

    async def one():
        async def later():
            await asyncio.sleep(0.2)
            a.publish("sensors", b"async")
        t = asyncio.ensure_future(later())
        async for d in b.adeliveries():
            await t
            return d.body
    check("asyncio: adeliveries", lambda: asyncio.run(
        asyncio.wait_for(one(), 10)) == b"async")

check("a wrong pin: HostKeyError", lambda: isinstance(raises(
    secmsg.HostKeyError, secmsg.Client, ADDR, a_id,
    server_key=secmsg.Identity.generate().public_key), secmsg.HostKeyError))
kh = os.path.join(TMP, "kh")
check("known_hosts: accept_new, then known", lambda: (
    secmsg.Client(ADDR, a_id, known_hosts=kh, accept_new=True).close()
    or True) and (secmsg.Client(ADDR, a_id, known_hosts=kh).close() or
                  True))
check("refused key: RefusedError", lambda: raises(
    secmsg.RefusedError, secmsg.Client, ADDR, secmsg.Identity.generate(),
    server_key=SKEY) is not None)

with secmsg.Client(ADDR, b_id, server_key=SKEY, durable=True) as b:
    check("durable: drained first", lambda: b.receive(5).kind == "drained")
    r = b.dsend("bob", b"keep", key=b"k" * 16)
    check("dsend stores", lambda: r.msgid > 0 and r.stored == 1)
    check("stored comes back, ack removes it",
          lambda: (lambda d: d.kind == "stored" and d.body == b"keep" and
                   b.ack(d.msgid) == 1)(b.receive(5)))
    check("pending: 0", lambda: b.pending().pending_messages == 0)
    # A durable subscription of the name: kept by the server.
    b.djoin("log")
    r = b.dpublish("log", b"line", key=b"l" * 16)
    check("djoin, then dpublish stores for us",
          lambda: r.msgid > 0 and r.stored == 1)
    check("it comes back stored, on the channel",
          lambda: (lambda d: d.kind == "stored" and d.channel == "log" and
                   d.body == b"line" and b.ack(d.msgid) == 1)(b.receive(5)))
    b.dleave("log")
    check("after dleave a dpublish stores nothing",
          lambda: b.dpublish("log", b"x").stored == 0)

# Quiet publish: carol may publish to #q only (publish=q).
with secmsg.Client(ADDR, a_id, server_key=SKEY) as a, \
        secmsg.Client(ADDR, c_id, server_key=SKEY, quiet=True) as c:
    check("quiet: asked and offered", lambda: c.quiet and not a.quiet)
    a.join("q")
    qid = c.publish_quiet("q", b"one")
    bad = c.publish_quiet("secret", b"two")
    check("publish_quiet: ids with the top bit",
          lambda: qid & 0x80000000 and bad & 0x80000000 and qid != bad)
    e = raises(secmsg.RequestError, c.sync)
    check("sync: RequestError with the failed one's id and code",
          lambda: e is not None and e.id == bad and
          e.code_name == "not-permitted")
    check("sync again: nothing more", lambda: c.sync() is None)
    check("the permitted one is delivered",
          lambda: (lambda d: d.channel == "q" and d.body == b"one")(
              a.receive(5)))
    check("publish_quiet without quiet=True: SecmsgError NOTSUP",
          lambda: raises(secmsg.SecmsgError, a.publish_quiet, "q",
                         b"x").error == secmsg.NOTSUP)

sys.exit(1 if failed else 0)

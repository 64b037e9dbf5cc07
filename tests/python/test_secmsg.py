# Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE.
"""The secmsg Python package against a live secmsgd (tests/integ/python.sh).

    test_secmsg.py ADDR SERVER_KEY ALICE_KEY BOB_KEY TMPDIR

Prints "ok - NAME" / "not ok - NAME" per check (the script numbers them).
"""
import asyncio
import os
import sys
import traceback

import secmsg

ADDR, SKEY, ALICE, BOB, TMP = sys.argv[1:6]
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

sys.exit(1 if failed else 0)

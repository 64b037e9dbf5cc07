# Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE.
"""secmsg: talk to a secmsgd server from Python, through libsecmsg.

The package binds the C library libsecmsg (libsecmsg(3)) with ctypes, so
nothing is compiled at install time; it needs libsecmsg.so.0 installed (or
$SECMSG_LIBRARY naming it).

    import secmsg

    ident = secmsg.Identity.load("sensor.key")
    with secmsg.Client("alarms.example:7300", ident,
                       server_key="4aTZUenU...w14=") as c:
        c.publish("temperature", b"21.5")

    with secmsg.Client(addr, ident, known_hosts=None) as c:
        c.join("alarms")
        for d in c.deliveries(timeout=None):
            print(d.sender, d.channel, d.body)

Errors raise SecmsgError (or a subclass) with .error (the library's stable
number), .code (the protocol's code for a refusal, an ERROR reply or a
GOODBYE) and the message.  With asyncio, Client.fileno() and
Client.process() fit loop.add_reader(); Client.adeliveries() is an async
iterator built on them.
"""
import asyncio
import ctypes
import os
from dataclasses import dataclass
from typing import Iterator, List, Optional

from . import _lib
from ._lib import lib

__all__ = [
    "Identity", "Client", "Delivery", "Reply", "WhoEntry",
    "SecmsgError", "HostKeyError", "RefusedError", "RequestError",
    "TimeoutError", "ConnectionClosed", "version",
]

# The library's error numbers (enum secmsg_err: stable).
OK, INVAL, NOMEM, IO, FORMAT, ADDRESS, NETWORK, PROTOCOL = range(8)
HOSTKEY_UNKNOWN, HOSTKEY_CHANGED, REFUSED, REQUEST, TOOBIG = range(8, 13)
TIMEOUT, GOODBYE, STATE, AGAIN, NOTSUP, INTR = range(13, 19)


class SecmsgError(Exception):
    """A libsecmsg failure: .error is its number, .code a protocol code
    (0 when none), .code_name that code's name."""

    def __init__(self, error: int, message: str, code: int = 0):
        self.error = error
        self.code = code
        self.code_name = (lib.secmsg_code_name(code).decode()
                          if code else "")
        super().__init__(message or lib.secmsg_strerror(error).decode())


class HostKeyError(SecmsgError):
    """The server's key is not pinned, or differs from its pin."""


class RefusedError(SecmsgError):
    """The server refused the client (e.g. its key is not authorized)."""


class RequestError(SecmsgError):
    """The server answered a request with ERROR (.code, .code_name)."""


class TimeoutError(SecmsgError):  # noqa: A001 (the library's timeout)
    """Nothing came within the timeout."""


class ConnectionClosed(SecmsgError):
    """The connection ended (network, protocol error, GOODBYE)."""


_CLASSES = {
    HOSTKEY_UNKNOWN: HostKeyError, HOSTKEY_CHANGED: HostKeyError,
    REFUSED: RefusedError, REQUEST: RequestError, TIMEOUT: TimeoutError,
    NETWORK: ConnectionClosed, PROTOCOL: ConnectionClosed,
    GOODBYE: ConnectionClosed,
}


def _raise(error: int, message: str = "", code: int = 0):
    raise _CLASSES.get(error, SecmsgError)(error, message, code)


def version() -> str:
    """The version of the libsecmsg in use."""
    return lib.secmsg_version().decode()


def _decode_key(b64: str) -> bytes:
    key = ctypes.create_string_buffer(_lib.KEYLEN)
    e = lib.secmsg_key_decode(b64.encode(), key)
    if e != OK:
        _raise(e, "not a valid server key: %r" % b64)
    return key.raw


class Identity:
    """A client key pair; the private key stays in libsodium's guarded
    memory inside libsecmsg and is wiped when the object goes."""

    def __init__(self, handle):
        self._h = handle

    @classmethod
    def generate(cls) -> "Identity":
        """A fresh key pair."""
        h = ctypes.c_void_p()
        e = lib.secmsg_identity_generate(ctypes.byref(h))
        if e != OK:
            _raise(e)
        return cls(h)

    @classmethod
    def load(cls, path: str) -> "Identity":
        """Read a key file (mode 0600, as secmsg-client keygen writes)."""
        h = ctypes.c_void_p()
        msg = ctypes.create_string_buffer(_lib.ERRLEN)
        e = lib.secmsg_identity_load(os.fsencode(path), ctypes.byref(h),
                                     msg, len(msg))
        if e != OK:
            _raise(e, msg.value.decode(errors="replace"))
        return cls(h)

    def save(self, path: str, replace: bool = False) -> None:
        """Write the private key to path with mode 0600."""
        msg = ctypes.create_string_buffer(_lib.ERRLEN)
        e = lib.secmsg_identity_save(self._h, os.fsencode(path),
                                     _lib.SAVE_REPLACE if replace else 0,
                                     msg, len(msg))
        if e != OK:
            _raise(e, msg.value.decode(errors="replace"))

    @property
    def public_key(self) -> str:
        """The public key in base64, as authorized_keys lists it."""
        pub = ctypes.create_string_buffer(_lib.KEYLEN)
        lib.secmsg_identity_public(self._h, pub)
        out = ctypes.create_string_buffer(_lib.KEY_B64LEN + 1)
        lib.secmsg_key_encode(pub.raw, out)
        return out.value.decode()

    @property
    def fingerprint(self) -> str:
        """"SHA256:" and 22 characters."""
        pub = ctypes.create_string_buffer(_lib.KEYLEN)
        lib.secmsg_identity_public(self._h, pub)
        out = ctypes.create_string_buffer(_lib.FP_LEN + 1)
        lib.secmsg_key_fingerprint(pub.raw, out)
        return out.value.decode()

    def __del__(self):
        if getattr(self, "_h", None):
            lib.secmsg_identity_free(self._h)
            self._h = None


@dataclass
class Reply:
    """What the server answered (the fields that apply to the request)."""
    id: int
    data: bytes
    delivered: int = 0
    skipped: int = 0
    msgid: int = 0
    duplicate: bool = False
    stored: int = 0
    full: int = 0
    removed: int = 0
    pending_messages: int = 0
    pending_bytes: int = 0


@dataclass
class Delivery:
    """A message from the server: kind "deliver", "stored" (durable:
    acknowledge .msgid) or "drained" (the mailbox is empty for now)."""
    kind: str
    sender: str
    channel: Optional[str]
    ts: int
    body: bytes
    msgid: int = 0
    redelivery: bool = False


@dataclass
class WhoEntry:
    kind: str       # "peer" or "channel"
    name: str
    count: int


_KINDS = {_lib.DELIVER: "deliver", _lib.STORED: "stored",
          _lib.DRAINED: "drained"}


class Client:
    """One connection to secmsgd, usable as a context manager.

    address: "host:port", "[v6]:port" or "unix:/path".  The server is
    trusted by server_key (base64, pinned), else by the known_hosts file
    (None: the default one, as secmsg-client's), with accept_new adding an
    unknown server's key.  timeout (seconds) bounds every call; durable
    asks for durable delivery, quiet for publishing without a reply
    (publish_quiet()).  Not for use from two threads at once.
    """

    def __init__(self, address: str, identity: Identity, *,
                 server_key: Optional[str] = None,
                 known_hosts: Optional[str] = None,
                 accept_new: bool = False, timeout: float = 10.0,
                 durable: bool = False, quiet: bool = False,
                 connect: bool = True):
        self.address = address
        self._id = identity       # libsecmsg borrows it: keep it alive
        self._c = ctypes.c_void_p()
        e = lib.secmsg_new(identity._h, ctypes.byref(self._c))
        if e != OK:
            _raise(e)
        lib.secmsg_set_timeout(self._c, int(timeout * 1000))
        if server_key is not None:
            lib.secmsg_set_server_key(self._c, _decode_key(server_key))
        else:
            path = os.fsencode(known_hosts) if known_hosts else None
            e = lib.secmsg_set_known_hosts(
                self._c, path, _lib.KH_ACCEPT_NEW if accept_new else 0)
            if e != OK:
                _raise(e)
        lib.secmsg_set_durable(self._c, 1 if durable else 0)
        lib.secmsg_set_quiet(self._c, 1 if quiet else 0)
        if connect:
            self.connect()

    # -- plumbing
    def _fail(self, e: int):
        _raise(e, lib.secmsg_errmsg(self._c).decode(errors="replace"),
               lib.secmsg_code(self._c))

    def _check(self, e: int, rep=None) -> Reply:
        if e == REQUEST and rep is not None and rep:
            r = rep.contents
            _raise(e, lib.secmsg_errmsg(self._c).decode(errors="replace"),
                   r.code)
        if e != OK:
            self._fail(e)
        if rep is None:
            return None
        r = rep.contents
        return Reply(id=r.id, data=ctypes.string_at(r.data, r.datalen),
                     delivered=r.delivered, skipped=r.skipped,
                     msgid=r.msgid, duplicate=bool(r.duplicate),
                     stored=r.stored, full=r.full, removed=r.removed,
                     pending_messages=r.pending_messages,
                     pending_bytes=r.pending_bytes)

    @staticmethod
    def _rep():
        return ctypes.POINTER(_lib.Reply)()

    # -- connection
    def connect(self) -> None:
        """Connect and log in (within the timeout)."""
        e = lib.secmsg_connect(self._c, self.address.encode())
        if e != OK:
            self._fail(e)

    def close(self) -> None:
        """Close the connection and free it."""
        if self._c:
            lib.secmsg_free(self._c)
            self._c = ctypes.c_void_p()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        self.close()

    @property
    def name(self) -> str:
        """Our name, as the server's welcome gave it."""
        return lib.secmsg_name(self._c).decode()

    @property
    def max_body(self) -> int:
        """The largest message body the server accepts."""
        return lib.secmsg_max_body(self._c)

    # -- requests
    def ping(self, data: bytes = b"") -> bytes:
        """The server echoes data back."""
        rep = self._rep()
        return self._check(lib.secmsg_ping(self._c, data, len(data),
                                           ctypes.byref(rep)), rep).data

    def send(self, to: str, body: bytes) -> Reply:
        """A direct message to every connection of name to."""
        rep = self._rep()
        return self._check(lib.secmsg_send(self._c, to.encode(), body,
                                           len(body), ctypes.byref(rep)),
                           rep)

    def publish(self, channel: str, body: bytes) -> Reply:
        """A message to the channel's subscribers (not to ourselves)."""
        rep = self._rep()
        return self._check(lib.secmsg_publish(self._c, channel.encode(),
                                              body, len(body),
                                              ctypes.byref(rep)), rep)

    @property
    def quiet(self) -> bool:
        """Whether publish_quiet() works here (asked, and the server
        offers it)."""
        return bool(lib.secmsg_quiet(self._c))

    def publish_quiet(self, channel: str, body: bytes) -> int:
        """Publish without waiting for any reply (Client(quiet=True));
        the request id (top bit set).  The server answers only when it
        did not carry it out: sync() says so."""
        qid = ctypes.c_uint32(0)
        e = lib.secmsg_publish_quiet(self._c, channel.encode(), body,
                                     len(body), ctypes.byref(qid))
        if e != OK:
            self._fail(e)
        return qid.value

    def sync(self) -> None:
        """Wait until every quiet publish so far was carried out; a
        RequestError with the first failure's code (and .id) when some
        were not (the message counts them)."""
        rep = self._rep()
        e = lib.secmsg_sync(self._c, ctypes.byref(rep))
        if e == REQUEST and rep:
            err = RequestError(e, lib.secmsg_errmsg(self._c).decode(
                errors="replace"), rep.contents.code)
            err.id = rep.contents.id
            raise err
        if e != OK:
            self._fail(e)

    def join(self, channel: str) -> None:
        """Subscribe this connection to channel."""
        rep = self._rep()
        self._check(lib.secmsg_join(self._c, channel.encode(),
                                    ctypes.byref(rep)), rep)

    def leave(self, channel: str) -> None:
        """Unsubscribe this connection from channel."""
        rep = self._rep()
        self._check(lib.secmsg_leave(self._c, channel.encode(),
                                     ctypes.byref(rep)), rep)

    def who(self) -> List[WhoEntry]:
        """The online peers and the channels."""
        rep = self._rep()
        self._check(lib.secmsg_who(self._c, ctypes.byref(rep)), rep)
        out, pos, e = [], ctypes.c_size_t(0), _lib.WhoEntry()
        while True:
            r = lib.secmsg_who_next(rep, ctypes.byref(pos), ctypes.byref(e))
            if r == 0:
                return out
            if r < 0:
                _raise(PROTOCOL, "malformed who reply")
            out.append(WhoEntry("peer" if e.kind == b"p" else "channel",
                                e.name.decode(), e.count))

    def dsend(self, to: str, body: bytes, key: Optional[bytes] = None
              ) -> Reply:
        """Store a message for name to (durable; key: 16 bytes that make
        a retry harmless, None: random)."""
        rep = self._rep()
        return self._check(lib.secmsg_dsend(self._c, to.encode(), key, body,
                                            len(body), ctypes.byref(rep)),
                           rep)

    def dpublish(self, channel: str, body: bytes,
                 key: Optional[bytes] = None) -> Reply:
        """Store a message for every durable subscriber of channel."""
        rep = self._rep()
        return self._check(lib.secmsg_dpublish(self._c, channel.encode(),
                                               key, body, len(body),
                                               ctypes.byref(rep)), rep)

    def djoin(self, channel: str) -> None:
        """A durable subscription of our name to channel."""
        rep = self._rep()
        self._check(lib.secmsg_djoin(self._c, channel.encode(),
                                     ctypes.byref(rep)), rep)

    def dleave(self, channel: str) -> None:
        """End our name's durable subscription of channel."""
        rep = self._rep()
        self._check(lib.secmsg_dleave(self._c, channel.encode(),
                                      ctypes.byref(rep)), rep)

    def ack(self, *msgids: int) -> int:
        """Acknowledge stored messages; how many were removed."""
        ids = (ctypes.c_uint64 * len(msgids))(*msgids)
        rep = self._rep()
        return self._check(lib.secmsg_ack(self._c, ids, len(msgids),
                                          ctypes.byref(rep)), rep).removed

    def pending(self) -> Reply:
        """.pending_messages and .pending_bytes of our mailbox."""
        rep = self._rep()
        return self._check(lib.secmsg_pending(self._c, ctypes.byref(rep)),
                           rep)

    # -- deliveries
    @staticmethod
    def _delivery(d) -> Delivery:
        d = d.contents
        return Delivery(kind=_KINDS.get(d.kind, "unknown"),
                        sender=(d.from_ or b"").decode(errors="replace"),
                        channel=(d.channel or b"").decode() or None,
                        ts=d.ts, body=ctypes.string_at(d.body, d.bodylen),
                        msgid=d.msgid, redelivery=bool(d.redelivery))

    def receive(self, timeout: Optional[float] = None) -> Delivery:
        """The next delivery, waiting up to timeout seconds (None: for
        ever; 0: only what has come).  TimeoutError when none came."""
        d = ctypes.POINTER(_lib.Delivery)()
        ms = -1 if timeout is None else int(timeout * 1000)
        e = lib.secmsg_wait_delivery(self._c, ms, ctypes.byref(d))
        if e != OK:
            self._fail(e)
        return self._delivery(d)

    def deliveries(self, timeout: Optional[float] = None
                   ) -> Iterator[Delivery]:
        """Deliveries as they come; ends when none came within timeout
        (None: never ends but with an error)."""
        while True:
            try:
                yield self.receive(timeout)
            except TimeoutError:
                return

    # -- event loops
    def fileno(self) -> int:
        """The socket, for select/poll/asyncio."""
        return lib.secmsg_fd(self._c)

    def process(self) -> None:
        """Call when fileno() is ready: reads what it can, no blocking."""
        e = lib.secmsg_process(self._c)
        if e != OK:
            self._fail(e)

    async def adeliveries(self):
        """Deliveries as an async iterator, on the running event loop."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        fd = self.fileno()
        loop.add_reader(fd, ready.set)
        try:
            while True:
                d = ctypes.POINTER(_lib.Delivery)()
                while lib.secmsg_next_delivery(self._c,
                                               ctypes.byref(d)) == OK:
                    yield self._delivery(d)
                    d = ctypes.POINTER(_lib.Delivery)()
                await ready.wait()
                ready.clear()
                self.process()
        finally:
            loop.remove_reader(fd)

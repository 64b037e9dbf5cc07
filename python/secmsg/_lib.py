# Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE.
"""ctypes declarations of libsecmsg (include/secmsg/secmsg.h).

The structures mirror the C header; the library owns every pointer it
hands out, valid until the next call on the same connection, so the
Python side copies what it keeps.
"""
import ctypes
import ctypes.util
import os

KEYLEN = 32
KEY_B64LEN = 44
FP_LEN = 29
NAME_MAX = 64
ERRLEN = 512

WANT_READ = 0x01
WANT_WRITE = 0x02
KH_ACCEPT_NEW = 0x01
KH_NO_ROTATE = 0x02
SAVE_REPLACE = 0x01

STATE_IDLE, STATE_CONNECTING, STATE_READY, STATE_CLOSED = range(4)
DELIVER, STORED, DRAINED = 1, 2, 3


class Reply(ctypes.Structure):
    _fields_ = [
        ("id", ctypes.c_uint32),
        ("req", ctypes.c_int),
        ("err", ctypes.c_int),
        ("code", ctypes.c_uint),
        ("text", ctypes.c_char_p),
        ("data", ctypes.POINTER(ctypes.c_uint8)),
        ("datalen", ctypes.c_size_t),
        ("msgid", ctypes.c_uint64),
        ("duplicate", ctypes.c_int),
        ("stored", ctypes.c_uint32),
        ("full", ctypes.c_uint32),
        ("delivered", ctypes.c_uint32),
        ("skipped", ctypes.c_uint32),
        ("removed", ctypes.c_uint32),
        ("pending_messages", ctypes.c_uint32),
        ("pending_bytes", ctypes.c_uint64),
    ]


class Delivery(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_int),
        ("from_", ctypes.c_char_p),
        ("channel", ctypes.c_char_p),
        ("ts", ctypes.c_uint64),
        ("body", ctypes.POINTER(ctypes.c_uint8)),
        ("bodylen", ctypes.c_size_t),
        ("msgid", ctypes.c_uint64),
        ("redelivery", ctypes.c_int),
        ("stored", ctypes.c_uint32),
    ]


class WhoEntry(ctypes.Structure):
    _fields_ = [
        ("kind", ctypes.c_char),
        ("name", ctypes.c_char * (NAME_MAX + 1)),
        ("count", ctypes.c_uint32),
    ]


def _load():
    """The shared library: $SECMSG_LIBRARY, else the system's."""
    path = os.environ.get("SECMSG_LIBRARY")
    if not path:
        path = ctypes.util.find_library("secmsg") or "libsecmsg.so.0"
    return ctypes.CDLL(path)


lib = _load()

_c = ctypes.c_void_p
_pc = ctypes.POINTER(ctypes.c_void_p)
_s = ctypes.c_char_p
_u8p = ctypes.c_char_p          # bytes in, 32-byte keys
_sz = ctypes.c_size_t
_u32p = ctypes.POINTER(ctypes.c_uint32)
_rep = ctypes.POINTER(ctypes.POINTER(Reply))
_i = ctypes.c_int

_decls = {
    "secmsg_strerror": (_s, [_i]),
    "secmsg_code_name": (_s, [ctypes.c_uint]),
    "secmsg_version": (_s, []),
    "secmsg_identity_generate": (_i, [_pc]),
    "secmsg_identity_load": (_i, [_s, _pc, ctypes.c_char_p, _sz]),
    "secmsg_identity_save": (_i, [_c, _s, _i, ctypes.c_char_p, _sz]),
    "secmsg_identity_public": (None, [_c, ctypes.c_char_p]),
    "secmsg_identity_free": (None, [_c]),
    "secmsg_key_encode": (None, [_u8p, ctypes.c_char_p]),
    "secmsg_key_decode": (_i, [_s, ctypes.c_char_p]),
    "secmsg_key_fingerprint": (None, [_u8p, ctypes.c_char_p]),
    "secmsg_new": (_i, [_c, _pc]),
    "secmsg_free": (None, [_c]),
    "secmsg_set_timeout": (None, [_c, _i]),
    "secmsg_set_server_key": (None, [_c, _u8p]),
    "secmsg_set_known_hosts": (_i, [_c, _s, _i]),
    "secmsg_set_durable": (None, [_c, _i]),
    "secmsg_set_quiet": (None, [_c, _i]),
    "secmsg_quiet": (_i, [_c]),
    "secmsg_publish_quiet": (_i, [_c, _s, _u8p, _sz,
                                  ctypes.POINTER(ctypes.c_uint32)]),
    "secmsg_quiet_errors": (ctypes.c_uint, [_c, _rep]),
    "secmsg_sync": (_i, [_c, _rep]),
    "secmsg_connect": (_i, [_c, _s]),
    "secmsg_connect_start": (_i, [_c, _s]),
    "secmsg_close": (None, [_c]),
    "secmsg_errmsg": (_s, [_c]),
    "secmsg_code": (ctypes.c_uint, [_c]),
    "secmsg_name": (_s, [_c]),
    "secmsg_max_body": (_sz, [_c]),
    "secmsg_durable": (_i, [_c]),
    "secmsg_fd": (_i, [_c]),
    "secmsg_want": (_i, [_c]),
    "secmsg_state": (_i, [_c]),
    "secmsg_process": (_i, [_c]),
    "secmsg_ping": (_i, [_c, _u8p, _sz, _rep]),
    "secmsg_send": (_i, [_c, _s, _u8p, _sz, _rep]),
    "secmsg_publish": (_i, [_c, _s, _u8p, _sz, _rep]),
    "secmsg_join": (_i, [_c, _s, _rep]),
    "secmsg_leave": (_i, [_c, _s, _rep]),
    "secmsg_who": (_i, [_c, _rep]),
    "secmsg_who_next": (_i, [ctypes.POINTER(Reply),
                             ctypes.POINTER(ctypes.c_size_t),
                             ctypes.POINTER(WhoEntry)]),
    "secmsg_dsend": (_i, [_c, _s, _u8p, _u8p, _sz, _rep]),
    "secmsg_dpublish": (_i, [_c, _s, _u8p, _u8p, _sz, _rep]),
    "secmsg_djoin": (_i, [_c, _s, _rep]),
    "secmsg_dleave": (_i, [_c, _s, _rep]),
    "secmsg_ack": (_i, [_c, ctypes.POINTER(ctypes.c_uint64), _sz, _rep]),
    "secmsg_pending": (_i, [_c, _rep]),
    "secmsg_wait_delivery": (_i, [_c, _i,
                                  ctypes.POINTER(ctypes.POINTER(Delivery))]),
    "secmsg_next_delivery": (_i, [_c,
                                  ctypes.POINTER(ctypes.POINTER(Delivery))]),
}
for _name, (_res, _args) in _decls.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

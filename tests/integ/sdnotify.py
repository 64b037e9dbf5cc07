#!/usr/bin/python3
# tests/integ/sdnotify.py: the service manager's side of sd_notify(3), for
# tests/integ/watchdog.sh, and a way to stall one thread of a process.
#
#   sdnotify.py listen SOCKET STOPFILE
#       bind a Unix datagram socket at SOCKET and print every line of every
#       datagram as "TIME LINE", TIME the seconds (CLOCK_REALTIME) at which
#       the kernel queued the datagram (SO_TIMESTAMPNS: when it was sent,
#       however late this process reads it), until STOPFILE exists (at
#       most 120 s).
#   sdnotify.py stall PID SECONDS [main]
#       stop one thread of process PID (a worker: any thread but the main
#       one; "main": the main thread) with ptrace (PTRACE_SEIZE, then
#       PTRACE_INTERRUPT: only that thread stops, the others run on), hold
#       it SECONDS, and let it go.  Prints "stalled TID T0" once it is
#       stopped, then "resumed TID T1" just before it is let go (seconds,
#       CLOCK_REALTIME), or "ptrace-denied ERRNO" when the system does not
#       allow it (exit 3).
import ctypes
import ctypes.util
import os
import socket
import struct
import sys
import time

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000
SO_TIMESTAMPNS = 35     # Linux; also the control message's type


def out(*words):
    print(*words, flush=True)


def listen(path, stopfile):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.settimeout(0.1)
    end = time.monotonic() + 120
    while not os.path.exists(stopfile) and time.monotonic() < end:
        try:
            data, anc, _, _ = s.recvmsg(4096, 64)
        except socket.timeout:
            continue
        when = time.time()
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and \
                    len(cdata) >= 16:
                sec, nsec = struct.unpack("qq", cdata[:16])
                when = sec + nsec / 1e9
        for line in data.decode("utf-8", "replace").split("\n"):
            out("%.3f" % when, line)
    s.close()
    return 0


def comm(pid, tid):
    try:
        with open("/proc/%d/task/%d/comm" % (pid, tid)) as f:
            return f.read().strip()
    except OSError:
        return ""


def stall(pid, secs, main):
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p,
                            ctypes.c_void_p]
    libc.ptrace.restype = ctypes.c_long
    tids = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    if main:
        tid = pid
    else:
        # A session loop by its name (pool.c), not by rank: sanitizers
        # and the store add threads of their own.
        others = [t for t in tids if t != pid and
                  comm(pid, t).startswith("secmsgd-loop")]
        if not others:
            out("no-worker-thread")
            return 2
        tid = others[0]
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) == -1:
        out("ptrace-denied", ctypes.get_errno())
        return 3
    if libc.ptrace(PTRACE_INTERRUPT, tid, None, None) == -1:
        out("ptrace-denied", ctypes.get_errno())
        return 3
    os.waitpid(tid, WALL)
    out("stalled", tid, "%.3f" % time.time())
    time.sleep(secs)
    t1 = time.time()
    libc.ptrace(PTRACE_DETACH, tid, None, None)
    out("resumed", tid, "%.3f" % t1)
    return 0


def main(argv):
    if len(argv) == 3 and argv[0] == "listen":
        return listen(argv[1], argv[2])
    if len(argv) in (3, 4) and argv[0] == "stall":
        return stall(int(argv[1]), float(argv[2]),
                     len(argv) == 4 and argv[3] == "main")
    sys.stderr.write(__doc__ if __doc__ else "usage: see the header\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/python3
"""cutproxy.py: a loopback TCP relay that loses the server's reply to the
first request of its first connection, for crash.sh.

  cutproxy.py PORTFILE TARGETPORT

Listens on 127.0.0.1 (an ephemeral port, written to PORTFILE) and relays
every connection to 127.0.0.1:TARGETPORT.  On the first connection only,
once the client has sent three frames (handshake messages 1 and 3, then
its first request; PROTOCOL.md sections 3 and 4), nothing more from the
server reaches the client: the proxy reads what the server answers, and
when the server has been quiet for half a second (or after 5 s) it closes
both sides.  The client sees its connection lost with the request sent
and the server's answer (committed, for a durable SEND) gone: the
ambiguous outcome it must retry with the same key.  Later connections are
relayed as they are.  Runs until killed.
"""
import select
import socket
import sys
import threading
import time


def pump(src, dst):
    """Copy src to dst until either closes."""
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def relay(cli, target):
    srv = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pump, args=(srv, cli), daemon=True).start()
    pump(cli, srv)


def cut(cli, target):
    srv = socket.create_connection(("127.0.0.1", target))
    buf, frames, cutting = b"", 0, False
    quiet_since, cut_at = None, None
    while True:
        r = select.select([cli, srv], [], [], 0.1)[0]
        now = time.monotonic()
        if cli in r:
            b = cli.recv(65536)
            if not b:
                break
            srv.sendall(b)
            buf += b
            while len(buf) >= 2 and len(buf) >= 2 + (buf[0] << 8 | buf[1]):
                buf = buf[2 + (buf[0] << 8 | buf[1]):]
                frames += 1
            if frames >= 3 and not cutting:
                cutting, cut_at = True, now
        if srv in r:
            b = srv.recv(65536)
            if not b:
                break
            if cutting:
                quiet_since = now     # swallowed
            else:
                cli.sendall(b)
        if cutting and ((quiet_since is not None and
                         now - quiet_since > 0.5) or now - cut_at > 5):
            break
    for s in (cli, srv):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def main(argv):
    portfile, target = argv[0], int(argv[1])
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    import os
    os.rename(portfile + ".tmp", portfile)
    first = True
    while True:
        cli, _ = ls.accept()
        fn = cut if first else relay
        first = False
        threading.Thread(target=fn, args=(cli, target), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1:])

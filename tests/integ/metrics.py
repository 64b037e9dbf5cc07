#!/usr/bin/python3
"""metrics.py: the HTTP side of tests/integ/metrics.sh (standard library
only; every operation bounded in time).

  metrics.py get TARGET PATH OUT [METHOD]   one request; prints "status N"
        (or "status error REASON"), the body goes to OUT, the Allow
        header (if any) is printed as "allow VALUE".  TARGET is
        "127.0.0.1:PORT" or "unix:/path".
  metrics.py hold PORT N CAP          N idle connections to 127.0.0.1:PORT;
        prints "accepted K" (how many the server accepted, from
        /proc/net/tcp) and "within-cap yes|no", then "scrape-while-held
        ..." (a GET with a 2 s timeout), closes them, and prints
        "scrape-after status N".
  metrics.py names FILE               the metric names a scrape declares
  metrics.py dashboard JSON SCRAPE    every metric a panel queries is in
        the scrape: prints "panels N exprs N metrics N" then "missing
        NAME" for each one that is not, and exits 1 if any.
"""

import http.client
import json
import re
import socket
import sys
import time

sys.dont_write_bytecode = True


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def request(target, path, method="GET", timeout=10):
    if target.startswith("unix:"):
        c = UnixHTTPConnection(target[5:], timeout)
    else:
        host, port = target.rsplit(":", 1)
        c = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.read(), r.getheader("Allow")
    finally:
        c.close()


def cmd_get(target, path, outfile, method="GET"):
    try:
        status, body, allow = request(target, path, method)
    except (OSError, http.client.HTTPException) as e:
        print("status error", type(e).__name__)
        return 0
    with open(outfile, "wb") as f:
        f.write(body)
    print("status", status)
    if allow is not None:
        print("allow", allow)
    return 0


def accepted(port):
    """Established connections to local port whose socket the server has
    accepted: one not yet accepted (in the listen backlog) has no
    inode."""
    n = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(name).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            lport = int(f[1].split(":")[1], 16)
            if lport == port and f[3] == "01" and f[9] != "0":
                n += 1
    return n


def cmd_hold(port, n, cap):
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        socks.append(s)
    time.sleep(1)
    k = accepted(port)
    print("accepted", k)
    print("within-cap", "yes" if 0 < k <= cap else "no")
    try:
        status, _, _ = request("127.0.0.1:%d" % port, "/metrics",
                               timeout=2)
        print("scrape-while-held status", status)
    except (OSError, http.client.HTTPException) as e:
        print("scrape-while-held", type(e).__name__)
    for s in socks:
        s.close()
    try:
        status, _, _ = request("127.0.0.1:%d" % port, "/metrics",
                               timeout=10)
        print("scrape-after status", status)
    except (OSError, http.client.HTTPException) as e:
        print("scrape-after", type(e).__name__)
    return 0


def names(text):
    return {m.group(1) for m in
            re.finditer(r"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ", text, re.M)}


def cmd_names(path):
    for n in sorted(names(open(path).read())):
        print(n)
    return 0


def exprs(node):
    """Every "expr" string anywhere in a dashboard."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "expr" and isinstance(v, str):
                yield v
            else:
                yield from exprs(v)
    elif isinstance(node, list):
        for v in node:
            yield from exprs(v)


# PromQL words that are not metric names.
PROMQL = {"sum", "rate", "irate", "increase", "by", "without", "on",
          "ignoring", "group_left", "group_right", "histogram_quantile",
          "avg", "max", "min", "count", "topk", "bottomk", "le", "and",
          "or", "unless", "offset", "delta", "deriv", "clamp_min", "abs",
          "label_replace", "vector", "scalar", "time", "bool"}


def cmd_dashboard(jpath, spath):
    d = json.load(open(jpath))
    declared = names(open(spath).read())
    have = set(declared)
    for n in declared:      # a histogram's series
        have |= {n + "_bucket", n + "_sum", n + "_count"}
    panels = d.get("panels", [])
    es = list(exprs(d))
    used = set()
    for e in es:
        e = re.sub(r"\{[^}]*\}", "", e)          # label matchers
        e = re.sub(r"\[[^\]]*\]", "", e)         # ranges
        e = re.sub(r'"[^"]*"', "", e)            # strings
        e = re.sub(r"\b(by|without)\s*\([^)]*\)", "", e)
        for w in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", e):
            if w not in PROMQL:
                used.add(w)
    print("panels", len(panels), "exprs", len(es), "metrics", len(used))
    missing = sorted(used - have)
    for m in missing:
        print("missing", m)
    return 1 if missing or not es else 0


def main(argv):
    if argv[0] == "get":
        return cmd_get(*argv[1:])
    if argv[0] == "hold":
        return cmd_hold(int(argv[1]), int(argv[2]), int(argv[3]))
    if argv[0] == "names":
        return cmd_names(argv[1])
    if argv[0] == "dashboard":
        return cmd_dashboard(argv[1], argv[2])
    print("usage: see the docstring", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

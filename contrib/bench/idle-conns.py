#!/usr/bin/env python3
"""Memory of an SMTP daemon holding many idle connections (a benchmark
figure, not a test).

Opens COUNT connections to 127.0.0.1:PORT, waits until each has its 220
greeting, holds them all open and silent, and reports the daemon's memory
before, while they are held, and after they are closed (QUIT on each):
RSS and PSS of the daemon process (/proc/PID/smaps_rollup), its thread
count, and the summed RSS/PSS of every process in its cpuacct cgroup when
--cgroup is given (a forking daemon like the real sendmail has one process
per connection).

    contrib/bench/idle-conns.py --port 2528 --pid $(head -1 /tmp/bench/swift/sendmail.pid)
"""
import argparse, json, os, resource, selectors, socket, sys, time


def mem(pid):
    out = {"rss_mb": None, "pss_mb": None, "threads": None}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    out["rss_mb"] = round(int(line.split()[1]) / 1024, 1)
                elif line.startswith("Pss:"):
                    out["pss_mb"] = round(int(line.split()[1]) / 1024, 1)
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    out["threads"] = int(line.split()[1])
    except OSError:
        pass
    return out


def cgroup_mem(cg):
    rss = pss = n = 0
    try:
        procs = open(f"/sys/fs/cgroup/cpuacct/{cg}/cgroup.procs").read().split()
    except OSError:
        return None
    for p in procs:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
            n += 1
        except OSError:
            pass
    return {"procs": n, "rss_sum_mb": round(rss / 1024, 1), "pss_sum_mb": round(pss / 1024, 1)}


def snapshot(a):
    s = mem(a.pid)
    if a.cgroup:
        s["cgroup"] = cgroup_mem(a.cgroup)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--pid", type=int, required=True, help="the daemon's pid")
    ap.add_argument("--cgroup", help="cpuacct cgroup of the daemon (sum over its processes)")
    ap.add_argument("-n", "--count", type=int, default=2000)
    ap.add_argument("--hold", type=float, default=5, help="seconds to hold before measuring")
    ap.add_argument("--timeout", type=float, default=120, help="seconds to wait for all greetings")
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    before = snapshot(a)
    sel = selectors.DefaultSelector()
    socks, bufs, greeted, refused = [], {}, set(), 0
    t0 = time.monotonic()
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.connect((a.host, a.port))
        except OSError as e:
            refused += 1
            s.close()
            print(f"connect {i}: {e}", file=sys.stderr)
            continue
        s.setblocking(False)
        socks.append(s)
        bufs[s] = b""
        sel.register(s, selectors.EVENT_READ)
    t_conn = time.monotonic() - t0
    closed_early = 0
    while len(greeted) + closed_early < len(socks) and time.monotonic() - t0 < a.timeout:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_early += 1
                sel.unregister(s)
                continue
            bufs[s] += data
            if b"\n" in bufs[s]:
                if bufs[s].startswith(b"220"):
                    greeted.add(s)
                sel.unregister(s)
    t_greet = time.monotonic() - t0
    time.sleep(a.hold)
    held = snapshot(a)
    for s in socks:
        try:
            s.setblocking(True)
            s.settimeout(5)
            s.sendall(b"QUIT\r\n")
        except OSError:
            pass
    for s in socks:
        s.close()
    time.sleep(a.hold)
    after = snapshot(a)
    res = dict(count=a.count, connected=len(socks), refused=refused, greeted=len(greeted),
               closed_before_greeting=closed_early, connect_s=round(t_conn, 2), all_greeted_s=round(t_greet, 2),
               before=before, held=held, after_close=after)
    if before["rss_mb"] is not None and held["rss_mb"] is not None and len(socks):
        res["rss_per_connection_kb"] = round((held["rss_mb"] - before["rss_mb"]) * 1024 / len(socks), 1)
    print(json.dumps(res, indent=1))
    return 0 if len(greeted) == a.count else 1


if __name__ == "__main__":
    sys.exit(main())

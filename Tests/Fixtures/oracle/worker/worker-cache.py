#!/usr/bin/python3
# worker-cache.py — the driver of WorkerCacheTests.  Written for this test suite.
#
# Usage: worker-cache.py ours|oracle SCRATCH daemon-command...
# Runs inside the test's private network namespace.  Plays next hops on
# 127.0.0.2-8 port 25 (ESMTP with PIPELINING; 127.0.0.3 closes the
# connection right after accepting each message, without waiting for QUIT)
# and counts, over all of them: connections, connections open at once (the
# peak), messages, RSETs, and connections that ended without QUIT.  Starts
# the daemon command (MTA on 127.0.0.1:2525), one delivery worker, and
# submits messages with smtplib one at a time, each waited for where it
# goes (a next hop, or SCRATCH/spool/<user>):
#   ours:   reuse (5 to 127.0.0.2), drop (4 to 127.0.0.3, then one to
#           127.0.0.2 over the session of the first five), bounded (10 to
#           127.0.0.4-8 in turn), idle (12 s without work), local (the LMTP
#           messages below), then the daemon is stopped and started again
#           with ConnectionCacheTimeout=5m, one message goes to 127.0.0.2
#           and the daemon gets SIGTERM: exit (its session's QUIT)
#   oracle: local only
# "local": 4 messages to local users (one also to bin) over
# FEATURE(local_lmtp); SCRATCH/lmtp-starts has a line per mail.local start.
# Prints "=== name: value" lines; exits 0 when every message arrived.
import os, signal, smtplib, socket, subprocess, sys, threading, time

mode, scratch, command = sys.argv[1], sys.argv[2], sys.argv[3:]
lock = threading.RLock()
stats = {"conns": {}, "connections": 0, "open": 0, "peak": 0, "messages": {}, "rsets": 0, "noquit": 0, "quits": 0,
         "quit_times": [], "ends": []}
DROP = "127.0.0.3"

def serve_client(conn, host):
    f = conn.makefile("rb")
    quit_seen = False
    def say(s):
        conn.sendall(s.encode() + b"\r\n")
    try:
        say("220 %s sink ESMTP" % host)
        while True:
            line = f.readline()
            if not line:
                break
            cmd = line.strip().upper()
            if cmd.startswith(b"EHLO"):
                say("250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES" % host)
            elif cmd.startswith(b"HELO") or cmd.startswith(b"MAIL") or cmd.startswith(b"RCPT") or cmd.startswith(b"NOOP"):
                say("250 2.0.0 ok")
            elif cmd.startswith(b"RSET"):
                with lock:
                    stats["rsets"] += 1
                say("250 2.0.0 reset")
            elif cmd == b"DATA":
                say("354 go ahead")
                while True:
                    l = f.readline()
                    if not l or l == b".\r\n":
                        break
                if not l:
                    break
                with lock:
                    stats["messages"][host] = stats["messages"].get(host, 0) + 1
                say("250 2.0.0 queued as sink")
                if host == DROP:
                    break
            elif cmd == b"QUIT":
                quit_seen = True
                with lock:
                    stats["quits"] += 1
                    stats["quit_times"].append(time.time())
                say("221 2.0.0 bye")
                break
            else:
                say("500 5.5.1 what")
    except OSError:
        pass
    finally:
        with lock:
            # (for the diagnostic lines: when each session ended, and how)
            stats["ends"].append((time.time(), host, quit_seen))
            stats["open"] -= 1
            if not quit_seen and host != DROP:
                stats["noquit"] += 1
        conn.close()

def listen(host):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, 25))
    s.listen(64)
    def loop():
        while True:
            c, _ = s.accept()
            with lock:
                stats["conns"][host] = stats["conns"].get(host, 0) + 1
                stats["connections"] += 1
                stats["open"] += 1
                stats["peak"] = max(stats["peak"], stats["open"])
            threading.Thread(target=serve_client, args=(c, host), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()

def wait_for(pred, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False

def wait_port(seconds=15):
    return wait_for(lambda: try_connect(), seconds)

def try_connect():
    # (greeted: the daemon is serving, not only listening)
    try:
        with socket.create_connection(("127.0.0.1", 2525), timeout=5) as c:
            ok = c.recv(512).startswith(b"220")
            c.sendall(b"QUIT\r\n")
            return ok
    except OSError:
        return False

def submit(rcpts, n, body=b"hello\r\n"):
    msg = (b"From: Sender <sender@client.example>\r\nTo: whoever@example.org\r\n"
           b"Subject: worker cache %d\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
           b"Message-ID: <wc%d@client.example>\r\n\r\n" % (n, n)) + body
    with smtplib.SMTP("127.0.0.1", 2525, local_hostname="client.example", timeout=30) as s:
        refused = s.sendmail("sender@client.example", rcpts, msg)
        if refused:
            print("=== refused:", refused)

def sent(host):
    with lock:
        return stats["messages"].get(host, 0)

def start(extra=[]):
    env = dict(os.environ, SENDMAIL_SWIFT_DELIVERY_WORKERS="1")
    p = subprocess.Popen(command + extra, env=env)
    if not wait_port():
        print("=== the daemon does not listen")
        p.kill()
        sys.exit(1)
    return p

def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()

def messages_in(user):
    try:
        data = open(os.path.join(scratch, "spool", user), "rb").read()
    except OSError:
        return 0
    return sum(1 for l in data.split(b"\n") if l.startswith(b"Subject: worker cache"))

for h in ["127.0.0.%d" % k for k in range(2, 9)]:
    listen(h)
ok = True
def check(name, good):
    global ok
    if not good:
        ok = False
        print("=== missing:", name)

daemon = start()
n = 0
try:
    if mode == "ours":
        for i in range(5):
            n += 1; submit(["r%d@[127.0.0.2]" % i], n)
            check("reuse %d" % i, wait_for(lambda: sent("127.0.0.2") == i + 1))
        with lock:
            print("=== reuse: messages=%d connections=%d rsets=%d" % (sent("127.0.0.2"), stats["connections"], stats["rsets"]))
        before = stats["connections"]
        drop_start = time.time()
        for i in range(4):
            n += 1; submit(["d%d@[%s]" % (i, DROP)], n)
            check("drop %d" % i, wait_for(lambda: sent(DROP) == i + 1))
        with lock:
            print("=== drop: messages=%d connections=%d" % (sent(DROP), stats["connections"] - before))
        # the lost session's cache slot was taken, not the live one's
        n += 1; submit(["r5@[127.0.0.2]"], n)
        check("after drop", wait_for(lambda: sent("127.0.0.2") == 6))
        with lock:
            print("=== after drop: 127.0.0.2 connections=%d" % stats["conns"]["127.0.0.2"])
            # diagnostics only (no assertion reads them): how long the drop
            # phase took, and how any 127.0.0.2 session ended meanwhile
            ends = ["%+.1fs %s" % (t - drop_start, "QUIT" if q else "no QUIT")
                    for t, h, q in stats["ends"] if h == "127.0.0.2" and t >= drop_start]
            print("=== diagnostic: drop phase %.1fs; 127.0.0.2 sessions ended since: %s"
                  % (time.time() - drop_start, ", ".join(ends) or "none"))
        # five hosts in turn: the open sessions, once each message is in
        # (and the sink has seen the closes), never exceed the cache size
        hosts = ["127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8"]
        settled = 0
        for i in range(10):
            h = hosts[i % 5]
            n += 1; submit(["b%d@[%s]" % (i, h)], n)
            check("bounded %d" % i, wait_for(lambda: sent(h) == i // 5 + 1))
            time.sleep(0.3)
            with lock:
                settled = max(settled, stats["open"])
        with lock:
            print("=== bounded: messages=%d settled open=%d peak=%d" % (sum(sent(h) for h in hosts), settled, stats["peak"]))
        # (the worker's idle time: min(ConnectionCacheTimeout 20 s, 10 s))
        time.sleep(12)
        with lock:
            print("=== idle: open=%d without QUIT=%d" % (stats["open"], stats["noquit"]))
    # local delivery over LMTP (both binaries)
    bodies = [b"first\r\n", b"From the start of a line\r\n.leading dot\r\n", b"caf\xc3\xa9 8-bit\r\n", b"last\r\n"]
    for i, body in enumerate(bodies):
        rcpts = ["root", "bin"] if i == 2 else ["root"]
        submit(rcpts, 100 + i, body)
        check("local %d" % i, wait_for(lambda: messages_in("root") == i + 1))
    check("local bin", wait_for(lambda: messages_in("bin") == 1))
    starts = len(open(os.path.join(scratch, "lmtp-starts")).read().split()) if os.path.exists(os.path.join(scratch, "lmtp-starts")) else 0
    print("=== local: root=%d bin=%d mail.local starts=%d" % (messages_in("root"), messages_in("bin"), starts))
    if mode == "ours":
        stop(daemon)
        daemon = start(["-OConnectionCacheTimeout=5m"])
        with lock:
            quits = stats["quits"]
        n += 1; submit(["x@[127.0.0.2]"], n)
        check("exit", wait_for(lambda: sent("127.0.0.2") == 7))
        t = time.time()
        stop(daemon)
        # the worker's QUIT comes at its end of input, not after its idle
        # time (10 s with ConnectionCacheTimeout=5m)
        quit_after = wait_for(lambda: stats["quits"] > quits, 9)
        with lock:
            early = quit_after and stats["quit_times"][-1] - t < 9
            print("=== exit: QUIT=%s before idle=%s open=%d" % (quit_after, early, stats["open"]))
finally:
    stop(daemon)
    with lock:
        print("=== totals: connections=%d peak=%d messages=%s" % (stats["connections"], stats["peak"], sorted(stats["messages"].items())))
sys.exit(0 if ok else 1)

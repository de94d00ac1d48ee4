#!/usr/bin/python3
# hup-load.py -- sends messages over several concurrent SMTP sessions to
# 127.0.0.1:2525 while sending SIGHUP to the daemon named by a pid file.
#
#   hup-load.py PIDFILE SESSIONS MESSAGES-PER-SESSION HUP-INTERVAL-SECONDS
#
# Prints "accepted <queue id>" for every message the daemon acknowledged
# with 250, "refused <reply>" / "error <what>" otherwise, and at the end
# "hups N" (signals sent).  Each session reconnects after a failure; every
# wait is bounded.
import os, re, signal, socket, sys, threading, time

pidfile, sessions, per, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
pid = int(open(pidfile).readline())
lock = threading.Lock()
results = []
done = threading.Event()

def reply(f):
    lines = []
    while True:
        l = f.readline()
        if not l:
            raise OSError("connection closed")
        lines.append(l.decode("latin-1").rstrip("\r\n"))
        if l[3:4] != b"-":
            return lines

def session(n):
    sent = 0
    while sent < per:
        try:
            s = socket.create_connection(("127.0.0.1", 2525), timeout=20)
            f = s.makefile("rb")
            reply(f)
            s.sendall(b"EHLO load%d.example\r\n" % n)
            reply(f)
            while sent < per:
                s.sendall(b"MAIL FROM:<load%d@client.example>\r\n" % n)
                r = reply(f)
                if not r[-1].startswith("250"):
                    raise OSError(r[-1])
                s.sendall(b"RCPT TO:<root>\r\n")
                reply(f)
                s.sendall(b"DATA\r\n")
                r = reply(f)
                if not r[-1].startswith("354"):
                    raise OSError(r[-1])
                s.sendall(b"Subject: load %d.%d\r\n\r\nmessage %d of session %d\r\n.\r\n" % (n, sent, sent, n))
                r = reply(f)[-1]
                sent += 1
                m = re.match(r"250 2\.0\.0 (\S+) Message accepted", r)
                with lock:
                    results.append("accepted " + m.group(1) if m else "refused " + r)
            s.sendall(b"QUIT\r\n")
            reply(f)
            s.close()
        except OSError as e:
            with lock:
                results.append("error %s" % e)
            sent += 1
            time.sleep(0.1)

def hupper():
    n = 0
    while not done.is_set():
        os.kill(pid, signal.SIGHUP)
        n += 1
        done.wait(interval)
    with lock:
        results.append("hups %d" % n)

threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
h = threading.Thread(target=hupper)
h.start()
for t in threads:
    t.start()
for t in threads:
    t.join()
done.set()
h.join()
for r in results:
    print(r)

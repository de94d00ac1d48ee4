#!/usr/bin/python3
# kill-load.py -- sends messages over several concurrent SMTP sessions to
# 127.0.0.1:2525 and, once KILL-AFTER of them were acknowledged, kills the
# daemon named by a pid file with SIGKILL (0: never).
#
#   kill-load.py PIDFILE SESSIONS MESSAGES-PER-SESSION KILL-AFTER
#
# Message k of session n has the header "Subject: load n.k" and the body
# "message k of session n".  Prints "accepted <queue id> <n>.<k>" for every
# message the daemon acknowledged with 250, "refused <reply>" or "error
# <what>" otherwise, and "killed" once the signal was sent.  A session whose
# connection fails stops; every wait is bounded.
import os, re, signal, socket, sys, threading

pidfile, sessions, per, kill_after = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
pid = int(open(pidfile).readline())
lock = threading.Lock()
results = []
accepted = [0]
killed = [False]

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
    try:
        s = socket.create_connection(("127.0.0.1", 2525), timeout=20)
        f = s.makefile("rb")
        reply(f)
        s.sendall(b"EHLO load%d.example\r\n" % n)
        reply(f)
        for k in range(per):
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
            s.sendall(b"Subject: load %d.%d\r\n\r\nmessage %d of session %d\r\n.\r\n" % (n, k, k, n))
            r = reply(f)[-1]
            m = re.match(r"250 2\.0\.0 (\S+) Message accepted", r)
            with lock:
                results.append("accepted %s %d.%d" % (m.group(1), n, k) if m else "refused " + r)
                if m:
                    accepted[0] += 1
                if kill_after and accepted[0] >= kill_after and not killed[0]:
                    os.kill(pid, signal.SIGKILL)
                    killed[0] = True
                    results.append("killed")
        s.sendall(b"QUIT\r\n")
        reply(f)
        s.close()
    except OSError as e:
        with lock:
            results.append("error %s" % e)

threads = [threading.Thread(target=session, args=(i,)) for i in range(sessions)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for r in results:
    print(r)

#!/usr/bin/python3
# daemon-harness.py -- starts an SMTP daemon in the foreground (`sendmail
# -bD ...`), plays a script of client sessions against it over TCP, and
# records the dialogue; then stops the daemon with SIGTERM.
#
#   daemon-harness.py PORT[,PORT...] < script -- COMMAND [ARGS...]
#   (the "--" is optional: everything after PORT is the command)
#
# It waits (up to 15 s) until every PORT listens on 127.0.0.1 (read from
# /proc/net/tcp, so no probe connection is made), adds the client
# addresses 10.9.8.7, 10.9.9.8 and 10.9.9.9 to lo (it runs in a private
# network namespace), then reads the script, one client line per line:
#   #CONNECT [port] [source-addr] [source-port]   a new session; its greeting is read
#   #CONNECT6 port [source-port]   the same over IPv6 to ::1
#   #PIPE n        send the next n lines at once, then read n replies
#   #RAW text      send text with Python escapes decoded, no CR LF added
#   #REPLY         read one reply
#   #EARLY text    the next #CONNECT sends text (Python escapes decoded)
#                  right after connecting, before reading the greeting
#   #DROP          close the session's socket without QUIT
#   #SIGNAL NAME   send SIGNAME (TERM, HUP) to the daemon
#   #SLEEP s       wait s seconds
#   #EOF           read what the server still sends until it closes
#   #CONCURRENT n  open n more sessions at once, count the greetings
#                  ("=== concurrent n: k greetings"), then close them
#   #WAITFILE path s  wait up to s seconds for path to exist ("=== file path" or "=== no file path")
#   #RUN cmd...    run a shell command line, record its output as
#                  "::: " lines and "=== run exit N"
#   #TLS [cert key]  (after a 220 to STARTTLS) the TLS handshake over the
#                  session's socket, with that client certificate if given:
#                  "=== tls VERSION" or "=== tls failed: REASON"; what
#                  the server had already sent in clear is reported as
#                  "=== clear after 220: ..." and dropped
#   anything else  send it with CR LF and read the reply (after a 354
#                  reply, lines are message text until "."; 050 lines of
#                  a verbose session are read as part of the reply)
# Transcript lines: ">>> " sent, "<<< " received, "=== " events; at the
# end "=== exit N" with the daemon's exit status after SIGTERM, and the
# daemon's own output as "!!! " lines.  Every wait is bounded
# (HARNESS_TIMEOUT, default 10 s): a timeout is "=== timeout".
import os, signal, socket, ssl, subprocess, sys, time

def listening(port):
    # on 127.0.0.1 (tcp) or ::1 (tcp6)
    wants = ("0100007F:%04X" % port, "00000000000000000000000001000000:%04X" % port)
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            for line in open(path).read().splitlines()[1:]:
                f = line.split()
                if f[1] in wants and f[3] == "0A":
                    return True
        except OSError:
            pass
    return False

class Session:
    def __init__(self, out, timeout, port, src=None, sport=0, v6=False, early=None):
        self.out = out
        self.timeout = timeout
        self.buf = b""
        self.sock = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if src or sport:
            self.sock.bind((src or ("::1" if v6 else "127.0.0.1"), sport))
        self.sock.settimeout(timeout)
        self.sock.connect(("::1" if v6 else "127.0.0.1", port))
        self.closed = False
        if early:
            self.sock.sendall(early)

    def line(self):
        while b"\n" not in self.buf:
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                self.out("=== timeout")
                return None
            except OSError:
                d = b""
            if not d:
                if self.buf:
                    l, self.buf = self.buf, b""
                    return l + b"[noCR-noLF]"
                self.closed = True
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l[:-1] if l.endswith(b"\r") else l + b"[noCR]"

    def reply(self):
        lines = []
        while True:
            l = self.line()
            if l is None:
                if self.closed:
                    self.out("=== closed")
                return lines
            self.out("<<< " + l.decode("latin-1"))
            lines.append(l)
            # "250-" continues a reply; so does a 0xx line (sendmail's
            # verbose notices before the real reply, after VERB)
            if not (len(l) > 3 and (l[3:4] == b"-" or l[0:1] == b"0")):
                return lines

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.out("=== send failed")

def main():
    timeout = float(os.environ.get("HARNESS_TIMEOUT", "10"))
    ports = [int(p) for p in sys.argv[1].split(",")]
    cmd = sys.argv[2:]
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    script = sys.stdin.buffer.read().split(b"\n")
    if script and script[-1] == b"":
        script.pop()
    for a in ("10.9.8.7", "10.9.9.8", "10.9.9.9"):
        subprocess.run(["ip", "addr", "add", a + "/32", "dev", "lo"], stderr=subprocess.DEVNULL)
    log = open("/tmp/daemon-harness-output", "w+b") if False else None
    daemon = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines = []
    def out(s):
        lines.append(s)
    start = time.time()
    while not all(listening(p) for p in ports):
        if daemon.poll() is not None or time.time() - start > 15:
            out("=== daemon not listening")
            break
        time.sleep(0.05)
    sess = None
    extra = []
    in_data = False
    early = None
    i = 0
    while i < len(script):
        raw = script[i]
        i += 1
        text = raw.decode("latin-1")
        if text.startswith("#CONNECT6"):
            f = text.split()
            out(">>> " + text)
            try:
                sess = Session(out, timeout, int(f[1]), None, int(f[2]) if len(f) > 2 else 0, v6=True, early=early)
                early = None
                sess.reply()
            except OSError as e:
                out("=== connect failed: %s" % e.strerror)
                sess = None
            in_data = False
            continue
        if text.startswith("#CONNECT"):
            f = text.split()
            port = int(f[1]) if len(f) > 1 else ports[0]
            src = f[2] if len(f) > 2 else None
            sport = int(f[3]) if len(f) > 3 else 0
            out(">>> " + text)
            try:
                sess = Session(out, timeout, port, src, sport, early=early)
                early = None
                sess.reply()
            except OSError as e:
                out("=== connect failed: %s" % e.strerror)
                sess = None
            in_data = False
            continue
        if text.startswith("#EARLY "):
            out(">>> " + text)
            early = text[7:].encode("latin-1").decode("unicode_escape").encode("latin-1")
            continue
        if text.startswith("#SIGNAL"):
            out(">>> " + text)
            daemon.send_signal(getattr(signal, "SIG" + text.split()[1]))
            continue
        if text.startswith("#SLEEP"):
            time.sleep(float(text.split()[1]))
            continue
        if text.startswith("#WAITFILE"):
            f = text.split()
            end = time.time() + float(f[2])
            while not os.path.exists(f[1]) and time.time() < end:
                time.sleep(0.1)
            out(("=== file " if os.path.exists(f[1]) else "=== no file ") + os.path.basename(f[1]))
            continue
        if text.startswith("#RUN "):
            out(">>> " + text)
            try:
                r = subprocess.run(["/bin/sh", "-c", text[5:]], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, timeout=60)
                for l in r.stdout.decode("latin-1").splitlines():
                    out("::: " + l)
                out("=== run exit %d" % r.returncode)
            except (OSError, subprocess.TimeoutExpired) as e:
                out("=== run failed: %s" % e)
            continue
        if text.startswith("#CONCURRENT"):
            n = int(text.split()[1])
            socks = []
            greeted = 0
            for k in range(n):
                try:
                    s = Session(lambda x: None, timeout, ports[0])
                    socks.append(s)
                except OSError:
                    pass
            for s in socks:
                l = s.line()
                if l is not None and l.startswith(b"220 "):
                    greeted += 1
            out("=== concurrent %d: %d greetings" % (n, greeted))
            for s in socks:
                s.send(b"QUIT\r\n")
            for s in socks:
                s.line()
                s.sock.close()
            continue
        if sess is None:
            out("=== no session for: " + text)
            continue
        if text == "#DROP":
            out(">>> #DROP")
            sess.sock.close()
            sess = None
            continue
        if text == "#EOF":
            while sess.reply():
                pass
            continue
        if text.startswith("#TLS"):
            f = text.split()
            out(">>> " + text)
            if sess.buf:
                out("=== clear after 220: %r" % sess.buf)
                sess.buf = b""
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if len(f) > 2:
                ctx.load_cert_chain(f[1], f[2])
            try:
                sess.sock = ctx.wrap_socket(sess.sock)
                out("=== tls " + sess.sock.version())
            except (OSError, ssl.SSLError) as e:
                out("=== tls failed: %s" % getattr(e, "reason", e))
            continue
        if text == "#REPLY":
            sess.reply()
            continue
        if text.startswith("#RAW "):
            out(">>> " + text)
            sess.send(text[5:].encode("latin-1").decode("unicode_escape").encode("latin-1"))
            continue
        if text.startswith("#PIPE "):
            n = int(text.split()[1])
            batch = script[i:i + n]
            i += n
            for b in batch:
                out(">>> " + b.decode("latin-1"))
            sess.send(b"".join(b + b"\r\n" for b in batch))
            for b in batch:
                r = sess.reply()
                if not r:
                    break
                if r[-1].startswith(b"354"):
                    in_data = True
            continue
        out(">>> " + text)
        sess.send(raw + b"\r\n")
        if in_data:
            if raw == b".":
                in_data = False
                sess.reply()
            continue
        r = sess.reply()
        if r and r[-1].startswith(b"354"):
            in_data = True
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
    try:
        daemon.wait(timeout=15)
    except subprocess.TimeoutExpired:
        out("=== daemon did not stop")
        daemon.kill()
        daemon.wait()
    status = daemon.returncode
    output = daemon.stdout.read().decode("latin-1")
    for l in lines:
        print(l)
    print("=== exit %d" % status)
    for l in output.splitlines():
        print("!!! " + l)
    return 0

sys.exit(main())

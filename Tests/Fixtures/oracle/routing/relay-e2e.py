#!/usr/bin/python3
# relay-e2e.py — the end-to-end relay check of RelayE2ETests.
# Written for this test suite.
#
# Usage: relay-e2e.py CF_B MBOX_DIR daemon-command...
# Runs inside the test's private network namespace: starts the second
# instance (the daemon command's binary with -bD -C CF_B, listening on
# 127.0.0.3:25) and the first (the daemon command as given, 127.0.0.1:2525),
# submits one message with an 8-bit body over SMTP to the first with
# smtplib (BODY=8BITMIME), waits up to 30 s for MBOX_DIR/root to hold it,
# reads it back with the mailbox module and prints what it found ("=== ..."
# lines), stops both daemons with SIGTERM and exits 0 when the message
# arrived intact, 1 otherwise.
import mailbox, os, signal, smtplib, socket, subprocess, sys, time

cf_b, box_dir, command = sys.argv[1], sys.argv[2], sys.argv[3:]
body = "Gr\u00fc\u00dfe aus dem ersten Hop: d\u00e9j\u00e0 vu, na\u00efve caf\u00e9.\n.leading dot\n\nlast line\n".encode("utf-8")
message = (b"From: Sender <sender@client.example>\r\nTo: root@b.example.test\r\n"
           b"Subject: relayed twice\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + body.replace(b"\n", b"\r\n"))

def wait_port(host, port, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False

b = subprocess.Popen([command[0], "-bD", "-C", cf_b, "-ODontProbeInterfaces=true"])
a = subprocess.Popen(command)
status = 1
try:
    if not wait_port("127.0.0.3", 25, 15) or not wait_port("127.0.0.1", 2525, 15):
        print("=== a daemon does not listen")
        sys.exit(1)
    with smtplib.SMTP("127.0.0.1", 2525, local_hostname="client.example", timeout=30) as s:
        code, features = s.ehlo()
        print("=== first hop offers 8BITMIME:", s.has_extn("8bitmime"))
        refused = s.sendmail("sender@client.example", ["root@b.example.test"], message, mail_options=["BODY=8BITMIME"])
        print("=== refused:", refused)
    path = os.path.join(box_dir, "root")
    end = time.time() + 30
    while time.time() < end and not (os.path.exists(path) and b"last line" in open(path, "rb").read()):
        time.sleep(0.2)
    if not os.path.exists(path):
        print("=== no mailbox")
        sys.exit(1)
    msgs = list(mailbox.mbox(path, create=False))
    print("=== messages:", len(msgs))
    m = msgs[0]
    got = m.get_payload(decode=True)
    print("=== subject:", m["Subject"])
    print("=== received:", len(m.get_all("Received") or []))
    for r in m.get_all("Received") or []:
        print("=== received-from:", " ".join(r.split())[:100])
    print("=== body intact:", got == body)
    if got != body:
        print("=== body:", repr(got))
    status = 0 if len(msgs) == 1 and got == body else 1
finally:
    for p in (a, b):
        p.send_signal(signal.SIGTERM)
    for p in (a, b):
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
sys.exit(status)

#!/usr/bin/python3
# lmtp-stdio.py — an LMTP server on stdin/stdout, the local mailer of
# FEATURE(local_lmtp) in the outbound tests (OutboundTests).  Written for
# this test suite.
# Usage: lmtp-stdio.py LOGFILE [-l]: appends the session to LOGFILE
# ("== start uid/gid cwd argv", "C: ..." commands, "S: ..." replies,
# "D: ..." message lines).  The recipient decides its reply after the
# dot: bin 550 5.2.2 Mailbox full, daemon 452 4.2.2 Over quota, others
# 250; sys is refused at RCPT (550 5.1.1).
import os, sys

log = open(sys.argv[1], "ab", buffering=0)
log.write(b"== start %d/%d %s %s\n" % (os.getuid(), os.getgid(), os.getcwd().encode(), " ".join(sys.argv[2:]).encode()))
out = sys.stdout.buffer
inp = sys.stdin.buffer

def reply(text):
    log.write(b"S: " + text.encode() + b"\n")
    out.write(text.encode() + b"\r\n")
    out.flush()

reply("220 lmtp.test LMTP ready")
rcpts = []
while True:
    line = inp.readline()
    if not line:
        log.write(b"== eof\n")
        break
    line = line.rstrip(b"\r\n")
    log.write(b"C: " + line + b"\n")
    cmd = line[:4].upper()
    if cmd == b"LHLO":
        reply("250-lmtp.test hello")
        reply("250-ENHANCEDSTATUSCODES")
        reply("250-PIPELINING")
        reply("250-8BITMIME")
        reply("250 SIZE")
    elif cmd == b"MAIL":
        rcpts = []
        reply("250 2.1.0 Sender ok")
    elif cmd == b"RCPT":
        a = line[line.find(b"<") + 1:].split(b">")[0]
        if a.lower() == b"sys":
            reply("550 5.1.1 <%s>... User unknown" % a.decode())
        else:
            rcpts.append(a)
            reply("250 2.1.5 Recipient ok")
    elif cmd == b"DATA":
        reply("354 Go ahead")
        while True:
            d = inp.readline()
            if not d:
                log.write(b"== eof in data\n")
                sys.exit(0)
            log.write(b"D: " + d.rstrip(b"\r\n") + b"\n")
            if d == b".\r\n":
                break
        for a in rcpts:
            lp = a.lower()
            if lp == b"bin":
                reply("550 5.2.2 <%s>... Mailbox full" % a.decode())
            elif lp == b"daemon":
                reply("452 4.2.2 <%s>... Over quota" % a.decode())
            else:
                reply("250 2.1.5 <%s>... Delivered" % a.decode())
        rcpts = []
    elif cmd == b"RSET":
        rcpts = []
        reply("250 2.0.0 Reset")
    elif cmd == b"QUIT":
        reply("221 2.0.0 Bye")
        break
    else:
        reply("500 5.5.1 Unknown command")

#!/usr/bin/python3
# sink.py — scripted SMTP next hops for the outbound tests (OutboundTests).
# Written for this test suite.
#
# Usage: sink.py LOGFILE program [args...]
# Starts SMTP servers on port 25 of several loopback addresses (inside the
# test's private network namespace), runs the program, waits for it, and
# appends every session to LOGFILE: "== connect <addr>", then "C: <line>"
# for each command and "S: <line>" for each reply line, the DATA bytes as
# "D: <line>" lines.  The program's exit status is passed on.
#
# The address decides the peer's kind:
#   127.0.0.2  ESMTP with PIPELINING SIZE 8BITMIME DSN ENHANCEDSTATUSCODES
#   127.0.0.3  no ESMTP: EHLO answered 500, HELO accepted
#   127.0.0.4  ESMTP without extensions
#   127.0.0.5  (nothing listens: connection refused)
#   127.0.0.6  ESMTP; after the message's final dot it never answers
#   127.0.0.7  ESMTP; greeting 421 4.3.2 (service not available)
#   127.0.0.8  LMTP (LHLO) with per-recipient replies after DATA
#   127.0.0.9  ESMTP; closes the connection when DATA comes
#   127.0.0.10 greeting 554 5.7.1 (no service for you)
#   127.0.0.11 ESMTP without PIPELINING; never answers a RCPT
#   127.0.0.12 ESMTP that greets with the client's own name (a mail loop)
#   127.0.0.13 ESMTP with STARTTLS (certificates: tls/ next to LOGFILE:
#              server.crt/key, ca.crt to check a client's certificate, which
#              is asked for); after the handshake "== tls <version> <cipher>
#              client=<subject or none>" is logged and EHLO offers AUTH
#              LOGIN PLAIN CRAM-MD5 (credentials as for 127.0.0.16)
#   127.0.0.14 ESMTP offering STARTTLS that answers 220 and then the
#              client's hello with a fatal handshake_failure alert
#   127.0.0.15 ESMTP offering STARTTLS that refuses it: 454 4.7.0
#   127.0.0.16 ESMTP with AUTH PLAIN LOGIN (in clear): user "joe" password
#              "secret" (AUTH PLAIN with an initial response or LOGIN
#              with prompts; CRAM-MD5 with a fixed challenge); anything
#              else 535 5.7.8
#   127.0.0.17 ESMTP as 127.0.0.2, also offering DELIVERBY
#   127.0.0.18 ESMTP offering STARTTLS that answers 220 and then neither
#              answers the client's hello nor closes (an hour)
# A recipient's local part decides its RCPT reply: t4... 451 4.2.0, r5...
# 550 5.1.1 User unknown, o4... 451 4.2.0 the first time only (a file
# LOGFILE.once-<local part> remembers it: accepted by the next run), w1...
# 250 after 1.2 s (so that a session's uses fall in different seconds); d5
# as any recipient: 554 5.6.0 after DATA; d4: 452 4.3.1 after DATA;
# with LMTP m5... 550 5.2.2 after DATA.  A sender's local part decides
# MAIL's reply: m5... 553 5.1.8, m4... 451 4.1.8.
import asyncio, base64, hmac, os, ssl, subprocess, sys

LOG = sys.argv[1]
PROGRAM = sys.argv[2:]
out = open(LOG, "ab", buffering=0)

def log(line):
    out.write(line + b"\n")

KINDS = {"127.0.0.2": "full", "127.0.0.3": "old", "127.0.0.4": "bare", "127.0.0.6": "hang",
         "127.0.0.7": "busy", "127.0.0.8": "lmtp", "127.0.0.9": "drop", "127.0.0.10": "refuse",
         "127.0.0.11": "slowrcpt", "127.0.0.12": "loop",
         "127.0.0.13": "tls", "127.0.0.14": "tlsdrop", "127.0.0.15": "tls454", "127.0.0.16": "auth",
         "127.0.0.17": "dby", "127.0.0.18": "tlshang"}
TLSDIR = os.path.join(os.path.dirname(os.path.abspath(LOG)), "tls")
CHALLENGE = b"<1896.697170952@sink.test>"

def check_plain(b64):
    try:
        parts = base64.b64decode(b64, validate=True).split(b"\0")
    except Exception:
        return False
    return len(parts) == 3 and parts[1] == b"joe" and parts[2] == b"secret"

async def session(reader, writer, addr, kind):
    log(b"== connect " + addr.encode())
    async def reply(text):
        for l in text.split("\n"):
            log(b"S: " + l.encode())
        lines = text.split("\n")
        for i, l in enumerate(lines):
            code, rest = l[:3], l[4:]
            sep = " " if i == len(lines) - 1 else "-"
            writer.write((code + sep + rest + "\r\n").encode())
        await writer.drain()
    if kind == "busy":
        await reply("421 4.3.2 sink.test busy, come back later")
        writer.close()
        return
    if kind == "refuse":
        # (RFC 5321: after a 554 greeting only QUIT is answered)
        await reply("554 5.7.1 sink.test no service for you")
        line = await reader.readline()
        log(b"C: " + line.rstrip(b"\r\n") if line else b"== eof")
        if line[:4].upper() == b"QUIT":
            await reply("221 2.0.0 sink.test closing connection")
        writer.close()
        return
    await reply("220 sink.test ESMTP ready" if kind != "lmtp" else "220 sink.test LMTP ready")
    rcpts = []
    mail = False
    secure = False
    while True:
        line = await reader.readline()
        if not line:
            log(b"== eof")
            break
        line = line.rstrip(b"\r\n")
        cmd = line[:4].upper()
        if cmd == b"QUIT":
            # (a client that opens another connection as it says QUIT to
            # this one: the other's connect is logged first, whichever
            # of the two the event loop sees first)
            await asyncio.sleep(0.1)
        log(b"C: " + line)
        if cmd in (b"EHLO", b"LHLO"):
            if kind == "old":
                await reply("500 5.5.1 Command unrecognized")
            elif kind in ("bare", "slowrcpt"):
                await reply("250 sink.test hello")
            elif kind == "loop":
                await reply("250-vm.example.test Hello there\n250 PIPELINING")
            elif kind in ("tls", "tlsdrop", "tls454", "auth", "tlshang"):
                offer = "250 sink.test hello\n250 ENHANCEDSTATUSCODES\n250 PIPELINING\n250 8BITMIME\n250 SIZE 1000000\n250 DSN"
                if kind == "auth":
                    offer += "\n250 AUTH PLAIN LOGIN"
                elif secure:
                    offer += "\n250 AUTH LOGIN PLAIN CRAM-MD5"
                if kind != "auth" and not secure:
                    offer += "\n250 STARTTLS"
                await reply(offer + "\n250 HELP")
            else:
                await reply("250 sink.test hello\n250 ENHANCEDSTATUSCODES\n250 PIPELINING\n250 8BITMIME\n"
                            "250 SIZE 1000000\n250 DSN\n" + ("250 DELIVERBY\n" if kind == "dby" else "") + "250 HELP")
        elif cmd == b"HELO":
            await reply("250 sink.test hello")
        elif cmd == b"MAIL":
            rcpts = []
            sender = line[line.find(b"<") + 1:].split(b">")[0].lower()
            if sender.startswith(b"m5"):
                await reply("553 5.1.8 <%s>... Domain of sender address does not exist" % sender.decode())
            elif sender.startswith(b"m4"):
                await reply("451 4.1.8 <%s>... Sender domain must resolve" % sender.decode())
            else:
                mail = True
                await reply("250 2.1.0 Sender ok")
        elif cmd == b"RCPT" and kind == "slowrcpt":
            log(b"== hanging")
            await asyncio.sleep(3600)
            return
        elif cmd == b"DATA" and kind == "drop":
            log(b"== dropping")
            writer.close()
            return
        elif cmd == b"RCPT":
            a = line[line.find(b"<") + 1:].split(b">")[0]
            lp = a.split(b"@")[0].lower()
            once = LOG.encode() + b".once-" + lp
            if lp.startswith(b"o4") and not os.path.exists(once):
                open(once, "wb").close()
                await reply("451 4.2.0 <%s>... Try again later" % a.decode())
            elif lp.startswith(b"t4"):
                await reply("451 4.2.0 <%s>... Mailbox busy" % a.decode())
            elif lp.startswith(b"w1"):
                await asyncio.sleep(1.2)
                rcpts.append(lp)
                await reply("250 2.1.5 Recipient ok")
            elif lp.startswith(b"r5"):
                await reply("550 5.1.1 <%s>... User unknown" % a.decode())
            else:
                rcpts.append(lp)
                await reply("250 2.1.5 Recipient ok")
        elif cmd == b"DATA":
            if not rcpts:
                await reply("503 5.0.0 Need RCPT (recipient)")
                continue
            await reply("354 Enter mail, end with \".\" on a line by itself")
            while True:
                d = await reader.readline()
                if not d:
                    log(b"== eof in data")
                    return
                log(b"D: " + d.rstrip(b"\r\n") + (b"" if d.endswith(b"\r\n") else b" [no CRLF]"))
                if d == b".\r\n":
                    break
            if kind == "hang":
                log(b"== hanging")
                await asyncio.sleep(3600)
                return
            if any(r.startswith(b"d5") for r in rcpts):
                await reply("554 5.6.0 Message content rejected")
            elif any(r.startswith(b"d4") for r in rcpts):
                await reply("452 4.3.1 Insufficient system storage")
            elif kind == "lmtp":
                for r in rcpts:
                    if r.startswith(b"m5"):
                        await reply("550 5.2.2 Mailbox full")
                    else:
                        await reply("250 2.1.5 Delivered")
            else:
                await reply("250 2.0.0 sink-id Message accepted for delivery")
            rcpts = []
        elif cmd == b"RSET":
            rcpts = []
            await reply("250 2.0.0 Reset state")
        elif cmd == b"QUIT":
            await reply("221 2.0.0 sink.test closing connection")
            break
        elif line.upper() == b"STARTTLS" and kind == "tls454":
            await reply("454 4.7.0 TLS not available due to local problem")
        elif line.upper() == b"STARTTLS" and kind == "tlshang":
            await reply("220 2.0.0 Ready to start TLS")
            log(b"== hanging")
            await asyncio.sleep(3600)
            return
        elif line.upper() == b"STARTTLS" and kind == "tlsdrop":
            await reply("220 2.0.0 Ready to start TLS")
            # the client's hello is answered with a fatal alert
            await reader.read(5)
            log(b"== alert")
            writer.write(b"\x15\x03\x03\x00\x02\x02\x28")  # alert: handshake_failure
            await writer.drain()
            writer.close()
            return
        elif line.upper() == b"STARTTLS" and kind == "tls" and not secure:
            await reply("220 2.0.0 Ready to start TLS")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(os.path.join(TLSDIR, "server.crt"), os.path.join(TLSDIR, "server.key"))
            ctx.load_verify_locations(os.path.join(TLSDIR, "ca.crt"))
            ctx.verify_mode = ssl.CERT_OPTIONAL
            try:
                await writer.start_tls(ctx)
            except (ssl.SSLError, OSError) as e:
                log(b"== tls failed")
                writer.close()
                return
            so = writer.get_extra_info("ssl_object")
            peer = so.getpeercert()
            who = ",".join("%s=%s" % kv for rdn in peer["subject"] for kv in rdn) if peer else "none"
            log(("== tls %s %s client=%s" % (so.version(), so.cipher()[0], who)).encode())
            secure = True
            rcpts = []
        elif cmd == b"AUTH" and (kind == "auth" or secure):
            words = line.split()
            mech = words[1].upper() if len(words) > 1 else b""
            ok = False
            if mech == b"PLAIN":
                if len(words) > 2:
                    ok = check_plain(words[2])
                else:
                    await reply("334 ")
                    r = (await reader.readline()).rstrip(b"\r\n")
                    log(b"C: " + r)
                    ok = check_plain(r)
            elif mech == b"LOGIN":
                answers = []
                for prompt in ("VXNlcm5hbWU6", "UGFzc3dvcmQ6"):
                    await reply("334 " + prompt)
                    r = (await reader.readline()).rstrip(b"\r\n")
                    log(b"C: " + r)
                    try:
                        answers.append(base64.b64decode(r, validate=True))
                    except Exception:
                        answers.append(b"?")
                ok = answers == [b"joe", b"secret"]
            elif mech == b"CRAM-MD5":
                await reply("334 " + base64.b64encode(CHALLENGE).decode())
                r = (await reader.readline()).rstrip(b"\r\n")
                log(b"C: " + r)
                want = b"joe " + hmac.new(b"secret", CHALLENGE, "md5").hexdigest().encode()
                try:
                    ok = base64.b64decode(r, validate=True) == want
                except Exception:
                    ok = False
            if ok:
                await reply("235 2.0.0 OK Authenticated")
            else:
                await reply("535 5.7.8 Authentication credentials invalid")
        elif cmd == b"NOOP":
            await reply("250 2.0.0 OK")
        else:
            await reply("500 5.5.1 Command unrecognized")
    writer.close()

async def main():
    servers = []
    for addr, kind in KINDS.items():
        async def handler(r, w, addr=addr, kind=kind):
            try:
                await session(r, w, addr, kind)
            except (ConnectionError, asyncio.CancelledError):
                log(b"== reset")
        servers.append(await asyncio.start_server(handler, addr, 25))
    proc = await asyncio.create_subprocess_exec(*PROGRAM)
    status = await proc.wait()
    for s in servers:
        s.close()
    return status

status = asyncio.run(main())
sys.exit(status if status >= 0 else 128 - status)

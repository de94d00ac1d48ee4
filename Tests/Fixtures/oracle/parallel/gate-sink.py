#!/usr/bin/python3
# gate-sink.py — SMTP next hops that show how many sessions a queue run
# keeps open at once (ParallelQueueTests).  Written for this test suite.
#
# Usage: gate-sink.py LOGFILE GATE WAIT program [args...]
# Listens on port 25 of 127.0.0.2-127.0.0.7 (inside the test's private
# network namespace), runs the program, waits for it and appends to
# LOGFILE one line per message received:
#   "delivered <address> <recipients, sorted> <Subject>"
# and, after the program ended, "max-sessions N" (the most sessions in
# use at once over all addresses: greeted and not yet at QUIT or the
# end) and "max-per-host N" (the same with one address).  A new
# session's greeting is held back until GATE sessions are connected at
# once (or WAIT seconds passed), so that runners working in parallel are
# seen together, and then a further 0.2 s, so that a client that opens
# its next session before it sends QUIT to the last (sendmail's
# connection cache) is not counted twice.  Every recipient is accepted.
import asyncio, sys, time

LOG, GATE, WAIT = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
PROGRAM = sys.argv[4:]
ADDRS = ["127.0.0.%d" % i for i in range(2, 8)]
connected = {a: 0 for a in ADDRS}
open_sessions = {a: 0 for a in ADDRS}
most = {"all": 0, "host": 0}
lines = []
changed = None

def total():
    return sum(connected.values())

async def session(reader, writer, addr):
    connected[addr] += 1
    changed.set()
    in_use = False
    def done():
        nonlocal in_use
        if in_use:
            open_sessions[addr] -= 1
            in_use = False
    try:
        deadline = time.monotonic() + WAIT
        while total() < GATE and time.monotonic() < deadline:
            changed.clear()
            try:
                await asyncio.wait_for(changed.wait(), max(deadline - time.monotonic(), 0.01))
            except asyncio.TimeoutError:
                pass
        async def reply(text):
            writer.write((text + "\r\n").encode())
            await writer.drain()
        await asyncio.sleep(0.2)
        in_use = True
        open_sessions[addr] += 1
        most["all"] = max(most["all"], sum(open_sessions.values()))
        most["host"] = max(most["host"], open_sessions[addr])
        await reply("220 sink.test ESMTP ready")
        rcpts, subject = [], ""
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line[:4].upper()
            if cmd == b"EHLO":
                await reply("250-sink.test hello\r\n250-ENHANCEDSTATUSCODES\r\n250-PIPELINING\r\n250 8BITMIME")
            elif cmd == b"HELO":
                await reply("250 sink.test hello")
            elif cmd == b"MAIL":
                rcpts, subject = [], ""
                await reply("250 2.1.0 Sender ok")
            elif cmd == b"RCPT":
                rcpts.append(line[line.find(b"<") + 1:].split(b">")[0].decode("latin-1"))
                await reply("250 2.1.5 Recipient ok")
            elif cmd == b"DATA":
                await reply("354 Enter mail")
                while True:
                    d = await reader.readline()
                    if not d:
                        return
                    if d == b".\r\n":
                        break
                    if d.lower().startswith(b"subject:") and not subject:
                        subject = d.rstrip(b"\r\n").decode("latin-1")
                lines.append("delivered %s %s %s" % (addr, ",".join(sorted(rcpts)), subject))
                await reply("250 2.0.0 Message accepted for delivery")
            elif cmd == b"RSET" or cmd == b"NOOP":
                await reply("250 2.0.0 OK")
            elif cmd == b"QUIT":
                done()
                await reply("221 2.0.0 closing connection")
                break
            else:
                await reply("500 5.5.1 Command unrecognized")
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        done()
        connected[addr] -= 1
        changed.set()
        writer.close()

async def main():
    global changed
    changed = asyncio.Event()
    servers = []
    for addr in ADDRS:
        async def handler(r, w, addr=addr):
            await session(r, w, addr)
        servers.append(await asyncio.start_server(handler, addr, 25))
    proc = await asyncio.create_subprocess_exec(*PROGRAM)
    status = await proc.wait()
    for s in servers:
        s.close()
    with open(LOG, "a") as f:
        for l in lines:
            f.write(l + "\n")
        f.write("max-sessions %d\nmax-per-host %d\n" % (most["all"], most["host"]))
    return status

status = asyncio.run(main())
sys.exit(status if status >= 0 else 128 - status)

#!/usr/bin/python3
# identd.py -- a tiny RFC 1413 server for the daemon tests: listens on
# ADDRESS:113, answers each query "<server-port> , <client-port>" as
# told, and logs each query to LOG.  Exits after LIFETIME seconds.
#
#   identd.py ADDRESS LOG LIFETIME MODE
# MODE: user:NAME   "... : USERID : UNIX : NAME"
#       error       "... : ERROR : NO-USER"
#       silent      accepts, never answers (the daemon's Timeout.ident)
#       close       closes without answering
import socket, sys, threading, time

address, logpath, lifetime, mode = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((address, 113))
s.listen(16)
s.settimeout(0.2)
end = time.time() + lifetime
log = open(logpath, "a", buffering=1)

def serve(c):
    c.settimeout(10)
    data = b""
    try:
        while b"\n" not in data:
            d = c.recv(1000)
            if not d:
                break
            data += d
        q = data.decode("latin-1").strip()
        log.write("query %r\n" % q)
        if mode.startswith("user:"):
            c.sendall(("%s : USERID : UNIX : %s\r\n" % (q, mode[5:])).encode("latin-1"))
        elif mode == "error":
            c.sendall(("%s : ERROR : NO-USER\r\n" % q).encode("latin-1"))
        elif mode == "silent":
            time.sleep(8)
    except OSError:
        pass
    c.close()

while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()

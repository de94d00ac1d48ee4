#!/usr/bin/python3
# tls-split-client.py -- STARTTLS clients that stress the daemon's TLS
# layer (DaemonTLSTests):
#   tls-split-client.py split PORT    the whole TLS handshake and the
#       commands after it sent one byte per TCP segment; prints the
#       replies read over TLS
#   tls-split-client.py garbage PORT  bytes that are no TLS record after
#       the 220; prints whether the server closed the connection
import socket, ssl, sys, time

def reply(s, buf):
    # one SMTP reply read from a plain socket (buf: bytes already read)
    while True:
        while b"\n" not in buf:
            d = s.recv(4096)
            if not d:
                raise SystemExit("closed")
            buf += d
        line, buf = buf.split(b"\n", 1)
        if line[3:4] != b"-":
            return line, buf

def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    _, buf = reply(s, buf)
    s.sendall(b"EHLO client.example\r\n")
    _, buf = reply(s, buf)
    s.sendall(b"STARTTLS\r\n")
    line, buf = reply(s, buf)
    print(line.decode().strip())
    if mode == "garbage":
        s.sendall(b"\x16\x03\x01\x00\x05hello, this is no TLS\r\nNOOP\r\n")
        try:
            d = s.recv(4096)
            while d and not d.startswith(b"250"):
                d = s.recv(4096)
            print("answered in clear" if d else "closed")
        except (ConnectionResetError, socket.timeout) as e:
            print("closed" if isinstance(e, ConnectionResetError) else "timeout")
        return
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(inc, out)
    def pump():
        data = out.read()
        for b in data:
            s.send(bytes([b]))
            time.sleep(0.0005)
    def fill():
        d = s.recv(65536)
        if not d:
            raise SystemExit("closed during TLS")
        inc.write(d)
    while True:
        try:
            tls.do_handshake()
            pump()
            break
        except ssl.SSLWantReadError:
            pump()
            fill()
    print("handshake", tls.version())
    tls.write(b"EHLO client.example\r\n")
    pump()
    text = b""
    while b"\r\n250 " not in text:
        try:
            text += tls.read(65536)
        except ssl.SSLWantReadError:
            fill()
    for l in text.decode().splitlines():
        print(l)
    tls.write(b"QUIT\r\n")
    pump()
    text = b""
    while b"\r\n" not in text:
        try:
            text += tls.read(65536)
        except ssl.SSLWantReadError:
            fill()
    print(text.decode().strip())

main()

#!/usr/bin/python3
# control-socket.py — talks to a daemon's control socket (ControlSocketName)
# for DaemonTests: one connection per command, the reply printed as a
# Python bytes literal.  Written for this test suite.
#
# Usage: control-socket.py SOCKET COMMAND...
# STATUS and MSTAT replies are normalised where the two daemons must
# differ: pids become PID, the session count N, the free space FREE, and
# lines about sendmail's own children (it forks one per control
# connection and keeps a console child; ours has no such processes) are
# dropped.  Prints "no control socket" when none answers within 3 s.
import re, socket, sys, time

path = sys.argv[1]
for cmd in sys.argv[2:]:
    for _ in range(30):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    else:
        print("no control socket")
        sys.exit(0)
    s.sendall(cmd.encode() + b"\r\n")
    data = b""
    s.settimeout(5)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except socket.timeout:
        data += b"[timeout]"
    if cmd.lower() in ("status", "mstat"):
        lines = [l for l in data.split(b"\r\n") if b" child" not in l]
        out = []
        for l in lines:
            l = re.sub(rb"^\d+/(\d+)/\d+/(\d+)$", rb"N/\1/FREE/\2", l)
            l = re.sub(rb"^C:\d+$", b"C:N", l)
            l = re.sub(rb"^D:0/\./\d+$", b"D:0/./FREE", l)
            l = re.sub(rb"^(P:)?\d+ ", rb"\1PID ", l)
            out.append(l)
        data = b"\r\n".join(out)
    print("== " + cmd)
    print(repr(data))

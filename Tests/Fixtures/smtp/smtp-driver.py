#!/usr/bin/python3
# smtp-driver.py -- talks SMTP to `sendmail -bs` (or any command speaking
# SMTP on its stdin/stdout) one command at a time, and records the dialogue.
#
#   smtp-driver.py COMMAND [ARGS...] < script > transcript
#
# The script is read from stdin, one line per client line (sent with CRLF).
# The driver waits for the greeting before sending anything (sendmail
# answers "554 5.5.0 SMTP protocol error" to a client that talks first),
# then, after each command, for the complete reply (multi-line "250-"
# aware).  After a 354 reply the lines are message text: no reply is
# awaited until the line ".".  A script line "#EOF" closes the server's
# stdin at once (the rest of the script is ignored); at the end of the
# script, or after a 421 reply (the server closes), stdin is closed too.  Then everything the server still writes is
# recorded until it exits.
#
# A script line "#RAW text" sends `text` with Python escapes decoded
# ("\\n", "\\r", "\\x00") and no CR LF added; it is recorded as
# ">>> #RAW text".  A line "#PIPE n" sends the next n lines at once
# (pipelining), then reads n replies.  A line "#CRAM-MD5 user secret"
# sends the CRAM-MD5 answer (RFC 2195) to the last "334" challenge,
# base64-encoded; "#DIGEST-MD5 user realm secret" the DIGEST-MD5 answer
# (RFC 2831, qop=auth, digest-uri smtp/<realm>, a fixed cnonce).  Both are
# recorded as written.  A line "#WAIT" (not sent, not recorded) waits for
# a reply the server sends without a command, such as its 421 to a bare
# LF in message text, so that what follows is not sent to a server that
# is already closing.
#
# Transcript lines: ">>> " + a line sent, "<<< " + a line received (CR
# removed; a reply line missing its CR is shown with a trailing "[noCR]"),
# and "=== exit N" with the server's exit status.  The driver never hangs:
# each wait is bounded (SMTP_DRIVER_TIMEOUT seconds, default 10); a timeout
# is recorded as "=== timeout" and the server is killed.
# Promises: exit status 0 when the dialogue ran (whatever the server said),
# 2 on a usage error.
import base64, hashlib, hmac, os, re, select, subprocess, sys, time

def digest_md5(challenge, user, realm, secret):
    fields = dict((k.decode(), (q or t)) for k, q, t in
                  re.findall(rb'([A-Za-z-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,]*))', challenge))
    nonce, cnonce, nc, qop = fields["nonce"], b"0a1b2c3d4e5f", b"00000001", b"auth"
    uri = b"smtp/" + realm
    md5 = lambda d: hashlib.md5(d).digest()
    hexmd5 = lambda d: hashlib.md5(d).hexdigest().encode()
    a1 = md5(user + b":" + realm + b":" + secret) + b":" + nonce + b":" + cnonce
    a2 = b"AUTHENTICATE:" + uri
    resp = hexmd5(hexmd5(a1) + b":" + nonce + b":" + nc + b":" + cnonce + b":" + qop + b":" + hexmd5(a2))
    return (b'username="' + user + b'",realm="' + realm + b'",nonce="' + nonce + b'",cnonce="' + cnonce
            + b'",nc=' + nc + b',qop=' + qop + b',digest-uri="' + uri + b'",response=' + resp + b',charset=utf-8')

def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: smtp-driver.py COMMAND [ARGS...] < script\n")
        return 2
    timeout = float(os.environ.get("SMTP_DRIVER_TIMEOUT", "10"))
    script = sys.stdin.buffer.read().split(b"\n")
    if script and script[-1] == b"":
        script.pop()
    proc = subprocess.Popen(sys.argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = sys.stdout.buffer
    fd = proc.stdout.fileno()
    buf = b""
    eof = False

    def record(prefix, line):
        out.write(prefix + line + b"\n")
        out.flush()

    def read_line():
        nonlocal buf, eof
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            if eof:
                if buf:
                    l, buf = buf, b""
                    return l
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError()
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                eof = True
            buf += chunk
        l, buf = buf.split(b"\n", 1)
        return l

    def show(l):
        return l[:-1] if l.endswith(b"\r") else l + b"[noCR]"

    def read_reply():
        # one complete reply; False at EOF
        while True:
            l = read_line()
            if l is None:
                return None
            record(b"<<< ", show(l))
            # "250-" continues a reply; so does a 0xx line (sendmail's
            # verbose notices before the real reply)
            if not (len(l) >= 4 and (l[3:4] == b"-" or l[0:1] == b"0")):
                return l

    def close_stdin():
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass

    try:
        last = read_reply()  # the greeting
        in_data = False
        pipe = 0
        batch = 0
        batch_data = b""
        for line in script:
            # no reply (EOF), or 421: the server is closing the session
            if last is None or last.startswith(b"421"):
                break
            if line == b"#EOF":
                break
            if line.startswith(b"#PIPE "):
                pipe = int(line[6:])
                batch = pipe
                continue
            if line == b"#WAIT":
                # a reply the server sends unasked (in message text)
                last = read_reply()
                continue
            record(b">>> ", line)
            data = line + b"\r\n"
            if line.startswith(b"#RAW "):
                data = line[5:].decode("latin-1").encode("latin-1").decode("unicode_escape").encode("latin-1")
            if line.startswith(b"#CRAM-MD5 ") and last is not None:
                _, user, secret = line.split(b" ", 2)
                challenge = base64.b64decode(last[4:].strip())
                digest = hmac.new(secret, challenge, "md5").hexdigest().encode()
                data = base64.b64encode(user + b" " + digest) + b"\r\n"
            if line.startswith(b"#DIGEST-MD5 ") and last is not None:
                _, user, realm, secret = line.split(b" ", 3)
                answer = digest_md5(base64.b64decode(last[4:].strip()), user, realm, secret)
                data = base64.b64encode(answer) + b"\r\n"
            batch_done = False
            if pipe > 0:
                # a batch goes out in one write
                pipe -= 1
                batch_data += data
                if pipe > 0:
                    continue
                data = batch_data
                batch_done = True
            try:
                proc.stdin.write(data)
                proc.stdin.flush()
            except BrokenPipeError:
                record(b"=== ", b"broken pipe")
                last = None
                break
            if batch_done:
                for _ in range(batch):
                    last = read_reply()
                    if last is None:
                        break
                if last is not None and last.startswith(b"354"):
                    in_data = True
                batch = 0
                batch_data = b""
                continue
            if in_data:
                if line != b"." and not line.startswith(b"#RAW "):
                    continue
                if line.startswith(b"#RAW ") and not data.endswith(b"\n.\r\n") and not data.endswith(b"\n.\n"):
                    continue
                in_data = False
            last = read_reply()
            if last is not None and last.startswith(b"354"):
                in_data = True
        close_stdin()
        while True:
            l = read_line()
            if l is None:
                break
            record(b"<<< ", show(l))
    except TimeoutError:
        record(b"=== ", b"timeout")
        proc.kill()
    close_stdin()
    try:
        st = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        record(b"=== ", b"timeout at exit")
        proc.kill()
        st = proc.wait()
    record(b"=== exit ", str(st).encode())
    return 0

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Differential check of our m4 library against sendmail's own.

For every .mc fixture: build one .cf with sendmail's library
(/usr/share/sendmail/cf/m4/cf.m4) and one with ours (cf/m4/cf.m4), load both
in the real sendmail's address test mode and run the same script.  The final
verdict of every command must agree: the top-level ruleset result (and exit
status) for "rs addr" and check_* lines, the non-trace output of /parse and
/try.  Intermediate traces may differ.  The .cf we generate must load without
any warning.

Usage: compare.py [-v] [-k] [fixture.mc ...]
  default fixtures: Debian's sendmail.mc and submit.mc, sendmail's
  generic-linux.mc, Tests/Fixtures/m4/*.mc and our own cf/cf/*.mc.
  -v  print every mismatch in full     -k  keep the build directory
Exit status 0 when everything matches, 1 otherwise.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUR_CF_M4 = os.path.join(ROOT, 'cf', 'm4', 'cf.m4')
REF_CF_M4 = '/usr/share/sendmail/cf/m4/cf.m4'
SENDMAIL = '/usr/libexec/sendmail/sendmail'
MAKEMAP = '/usr/libexec/sendmail/makemap'
FIXDIR = os.path.join(ROOT, 'Tests', 'Fixtures', 'm4')
SYSTEM_MCS = ['/etc/mail/sendmail.mc', '/etc/mail/submit.mc',
              '/usr/share/sendmail/cf/cf/generic-linux.mc']
HOSTNAME = 'vm.example.test'

# ---------------------------------------------------------------- the script
LOCAL = ['root', 'postmaster', 'user', 'user+detail', '"quoted user"',
         'MAILER-DAEMON']
ADDRS = [
    'user', 'user+detail', 'root', '"quoted user"', '<>', '<user>',
    'user@localhost', 'user@localhost.localdomain', 'user@' + HOSTNAME,
    'user+foo@' + HOSTNAME, 'user@[127.0.0.1]', 'user@[10.9.8.7]',
    'user@[IPv6:::1]', 'user@example.com', 'User@Example.COM.',
    'user%example.com@' + HOSTNAME, 'user%example.com',
    'host!user', 'a.b!user', 'host1!host2!user', 'user@host.uucp',
    '@' + HOSTNAME + ':user@example.com', '@a.example,@b.example:user@c.example',
    'list:a,b;', 'list:;', 'user@', '@example.com', 'user@@example.com',
    'user@.example.com', 'user@example..com', 'user@[1.2.3.4]x',
    'user@ex:ample.com', 'Full Name <user@example.com>',
    'user@example.com (comment)', 'node::user', 'user@host.DECNET',
    'user@host.BITNET', 'user@host.FAX', 'news.group.USENET',
    'user@sub.example.com', 'user@other.example.net', 'user@relay.example',
    'friend@example.com', 'spammer@bad.example', 'user@bad.example',
    'user@host.REDIRECT', 'virt@virt.example', 'any@virt.example',
    'user@masq.example', 'postmaster@bad.example', 'x@[192.0.2.1]',
    '<<nested>>', 'unbalanced<user@example.com', 'a@b@c',
]


def generated_addresses(n=80, seed=1917):
    """A seeded mix of address forms built from pieces, so the same set is
    used on every run: local parts, hosts (ours, relay, remote, literals,
    pseudo domains) and syntax (route addresses, % and ! paths, quotes,
    comments, +detail, trailing dots, broken brackets)."""
    import random
    rnd = random.Random(seed)
    users = ['u', 'root', 'Postmaster', 'a.b', 'x+tag', '"q u"', 'virt',
             'info', 'friend', 'spammer', 'nobody', 'special', 'MAILER-DAEMON']
    hosts = [HOSTNAME, 'localhost', 'example.com', 'sub.example.com',
             'a.sub.example.com', 'relay.example', 'virt.example',
             'x.virt.example', 'bad.example', 'other.example.net',
             'example.net', 'old.example', 'masq.example', 'n.UUCP',
             'h.BITNET', 'h.DECNET', 'h.FAX', 'POP', 'h.REDIRECT',
             '[127.0.0.1]', '[192.0.2.7]', '[IPv6:::1]', 'dm.example',
             'ldap.example', 'hold.example', 'x.lan', 'oldname.example',
             'secret.example', 'localpart.example']
    forms = ['{u}@{h}', '{u}@{h}.', '<{u}@{h}>', '{u}%{h}@{h2}', '{h}!{u}',
             '{h}!{h2}!{u}', '@{h2}:{u}@{h}', 'Name <{u}@{h}>', '{u}@{h} (c)',
             '{u}', '{u}@', '<{u}@{h}', '{u}@{h}@{h2}', '"{u}"@{h}',
             '{u}+d@{h}', 'NOTIFY {u}@{h}']
    out = []
    for _ in range(n):
        f = rnd.choice(forms)
        out.append(f.format(u=rnd.choice(users), h=rnd.choice(hosts),
                            h2=rnd.choice(hosts)))
    return out


CLIENTS = [
    ('', ''), ('localhost', '127.0.0.1'), ('mx.example.com', '192.0.2.10'),
    ('bad.example', '10.66.66.66'), ('[10.1.2.3]', '10.1.2.3'),
    ('relay.example', '192.0.2.20'),
]


# MTA-STS (FEATURE sts): recipients (their domains are in maps/sts.txt, or
# not), server names, and what the TLS handshake left in the macros
STS_RCPTS = ['', 'u@secure.example', 'u@secure.example.', 'u@nomatch.example',
             'u@dots.example', 'u@nosni.example', 'u@testing.example',
             'u@plain.example', 'u@other.example', 'a@b@secure.example',
             'u@hooked.example']
STS_SERVERS = ['', 'mx.secure.example', 'x.backup.secure.example',
               'backup.secure.example', 'mx1.dots.example', 'mx.nosni.example',
               'mx.plain.example', 'evil.example']
# class {cert_altnames} can only grow in -bt: the second round adds these
STS_ALTNAMES = ['mx.secure.example', 'mx1.dots.example', 'backup.secure.example',
                'mx.nosni.example', 'secure.example']
# (verify, cipher_bits, client_flags) for the rounds; the last two only
# run tls_clt_features, tls_rcpt, tls_server and STS_secure
STS_ROUNDS = [('OK', '256', ''), ('FAIL', '64', ''), ('OK', '120', ''),
              ('OK', '128', 'MM')]


def sts_script():
    """Commands for the MTA-STS rulesets: tls_rcpt, tls_server and
    tls_clt_features as sendmail calls them, and the STS_* helpers directly,
    under every combination of {rcpt_addr} and {server_name}."""
    cmds = [('TLS_NameInList :a.example:b.example:', 'rs')]
    for rnd, (verify, bits, flags) in enumerate(STS_ROUNDS):
        if rnd == 1:
            for n in STS_ALTNAMES:
                cmds.append(('.C{cert_altnames}' + n, 'set'))
        cmds.append(('.D{verify}' + verify, 'set'))
        cmds.append(('.D{cipher_bits}' + bits, 'set'))
        cmds.append(('.D{client_flags}' + flags, 'set'))
        for rcpt in STS_RCPTS:
            cmds.append(('.D{rcpt_addr}' + rcpt, 'set'))
            arg = rcpt or 'u@secure.example'
            for srv in STS_SERVERS:
                cmds.append(('.D{server_name}' + srv, 'set'))
                cmds.append(('.D{server_addr}192.0.2.99' if srv == 'evil.example'
                             else '.D{server_addr}192.0.2.1', 'set'))
                cmds.append(('SmxPair,tls_clt_features %s ; %s'
                             % (srv or 'x', '192.0.2.99' if rcpt.startswith('a@')
                                else '192.0.2.1'), 'rs'))
                cmds.append(('tls_rcpt ' + arg, 'rs'))
                cmds.append(('tls_server ' + verify, 'rs'))
                if rnd >= 2:
                    cmds.append(('STS_secure ' + verify, 'rs'))
                    continue
                cmds.append(('STS_Check ' + arg, 'rs'))
                cmds.append(('STS_Check u@dots.example', 'rs'))
                cmds.append(('STS_SAN x', 'rs'))
                cmds.append(('STS_secure ' + verify, 'rs'))
                cmds.append(('Set_SNI x', 'rs'))
                cmds.append(('STS_disabled sts', 'rs'))
                cmds.append(('DANE_disabled flags=d', 'rs'))
                cmds.append(('DANE_disabled cipherlist=HIGH', 'rs'))
                cmds.append(('tls_server SOFTWARE', 'rs'))
    cmds.append(('.D{rcpt_addr}', 'set'))
    cmds.append(('.D{server_name}', 'set'))
    cmds.append(('.D{verify}', 'set'))
    return cmds


# LDAP routing (FEATURE ldap_routing): local parts found in the fixture
# maps maps/ldapmh.txt and maps/ldapmra.txt (or in no map) at the routed,
# equivalent and other domains, already canonified (the test host cannot
# resolve them), for each address type and operation mode
LDAP_USERS = ['tom', 'dick', 'harry', 'nobody', 'local', 'localmra', 'both+x',
              'tom+det', 'harry+a+b', 'nobody+det', 'remote', 'eq', '"q u"']
LDAP_DOMAINS = ['ldap.example', 'wild.ldap.example', 'equiv.example',
                'other.example']


def ldap_script():
    cmds = []
    for atype in ('e r', 'e s', 'h r', ''):
        cmds.append(('.D{addr_type}' + atype, 'set'))
        for mode in ('d', 'i'):
            cmds.append(('.D{opMode}' + mode, 'set'))
            for d in LDAP_DOMAINS:
                for u in LDAP_USERS:
                    cmds.append(('parse %s<@%s.>' % (u, d), 'rs'))
                    if mode == 'd' and atype == 'e r':
                        cmds.append(('Parse1 %s<@%s.>' % (u, d), 'rs'))
    cmds.append(('.D{addr_type}', 'set'))
    cmds.append(('.D{opMode}', 'set'))
    return cmds


def bt_script(ref_cf_text=''):
    """The -bt command list (one command per line) and a tag for each.
    Sections for MTA-STS and LDAP routing are added when sendmail's own .cf
    for the fixture has their rulesets."""
    cmds = []
    cmds.append(('=M', 'mailers'))
    gen = generated_addresses()
    for a in ADDRS + gen:
        cmds.append(('3,0 ' + a, 'rs'))
    for a in ADDRS + gen:
        cmds.append(('/parse ' + a, 'parse'))
    for a in gen[:40]:
        cmds.append(('/try esmtp ' + a, 'try'))
        cmds.append(('/try relay ' + a, 'try'))
    # sender and header rewriting (masquerading, generics, always_add_domain)
    for flags in ('ES', 'HS', 'HR'):
        cmds.append(('/tryflags ' + flags, 'set'))
        for m in ('esmtp', 'local', 'relay'):
            for a in ADDRS[:12] + gen[:12]:
                cmds.append(('/try %s %s' % (m, a), 'try'))
    cmds.append(('/tryflags ER', 'set'))
    cmds.append(('.D{client_addr}10.1.2.3', 'set'))
    for a in gen:
        arg = a if a.startswith('<') else '<' + a + '>'
        cmds.append(('check_rcpt ' + arg, 'rs'))
        cmds.append(('check_mail ' + arg, 'rs'))
    for a in ADDRS[:40]:
        cmds.append(('/try esmtp ' + a, 'try'))
    for a in ADDRS[:30]:
        cmds.append(('/try local ' + a, 'try'))
    for name, addr in CLIENTS:
        cmds.append(('.D{client_addr}' + addr, 'set'))
        cmds.append(('.D{client_name}' + name, 'set'))
        cmds.append(('check_relay ' + name + ' $| ' + addr, 'rs'))
        for a in ADDRS:
            if a.startswith('<'):
                arg = a
            else:
                arg = '<' + a + '>'
            cmds.append(('check_rcpt ' + arg, 'rs'))
            cmds.append(('check_mail ' + arg, 'rs'))
    cmds.append(('.D{client_addr}', 'set'))
    cmds.append(('.D{client_name}', 'set'))
    for name, addr in CLIENTS:
        cmds.append(('greet_pause ' + name + ' $| ' + addr, 'rs'))
    for a in ('user@example.com', 'friend@example.com', 'x@bad.example'):
        cmds.append(('check_compat <' + a + '> $| <user@vm.example.test>', 'rs'))
    for c in ('Subject: hi $| 5', 'NOOP $| 2', 'XYZZY $| 5'):
        cmds.append(('check_other ' + c, 'rs'))
    for a in ('', 'PLAIN', 'x'):
        cmds.append(('trust_auth ' + a, 'rs'))
    for v in ('OK', 'FAIL', 'NONE', 'SOFTWARE', 'PROTOCOL'):
        cmds.append(('tls_client ' + v + ' $| MAIL', 'rs'))
        cmds.append(('tls_server ' + v, 'rs'))
    for rs in ('srv_features', 'clt_features', 'try_tls', 'authinfo'):
        cmds.append((rs + ' mx.example.com $| 192.0.2.10', 'rs'))
    for a in ADDRS[:20]:
        cmds.append(('tls_rcpt ' + a, 'rs'))
        cmds.append(('/try relay ' + a, 'try'))
    # the two-argument rulesets once more, with a real $| (see SmxPair)
    for c, _ in list(cmds):
        if ' $| ' in c and not c.startswith('.'):
            rs, arg = c.split(' ', 1)
            cmds.append(('SmxPair,%s %s' % (rs, arg.replace(' $| ', ' ; ')), 'rs'))
    if re.search(r'^SSTS_Check\b', ref_cf_text, re.M):
        cmds += sts_script()
    if re.search(r'^SLDAPExpand\b', ref_cf_text, re.M):
        cmds += ldap_script()
    return cmds


# ---------------------------------------------------------------- running
def run_bt(cf, script, workdir):
    resolv = os.path.join(workdir, 'resolv.conf')
    if not os.path.exists(resolv):
        with open(resolv, 'w') as f:
            f.write('nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
    inner = ('hostname %s; mount --bind %s /etc/resolv.conf; exec "$0" "$@"'
             % (HOSTNAME, resolv))
    argv = ['timeout', '120', 'unshare', '-u', '-m', '--propagation',
            'private', 'sh', '-c', inner, SENDMAIL,
            '-ODontProbeInterfaces=true', '-bt', '-C', cf]
    p = subprocess.run(argv, input=script.encode('latin-1'),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       cwd=workdir)
    return (p.returncode, p.stdout.decode('latin-1'),
            p.stderr.decode('latin-1'))


TRACE = re.compile(r'^(\S.{0,15}?)\s+(input|returns):(.*)$')
NOISE = re.compile(r'(Name server timeout|host not found|Host unknown|'
                   r'^getmxrr|dns_lookup|Name server: )')


def verdict(kind, text):
    """Reduce one command's output to what must agree."""
    lines = text.split('\n')
    if kind == 'set':
        return ''
    if kind == 'mailers':
        out = []
        for l in lines:
            m = re.match(r'mailer \d+ \(([^)]*)\): (.*)$', l)
            if m:
                out.append(m.group(1) + ': ' + m.group(2))
        return '\n'.join(sorted(out))
    out = []
    depth = 0
    for l in lines:
        m = TRACE.match(l)
        if m:
            if m.group(2) == 'input':
                depth += 1
            else:
                depth -= 1
                if depth <= 0 and kind == 'rs':
                    out.append('returns:' + m.group(3))
                depth = max(depth, 0)
            continue
        if not l.strip() or NOISE.search(l):
            continue
        # named rulesets are numbered in order of appearance: not a verdict
        l = re.sub(r'^(== Ruleset \S+) \(\d+\)', r'\1', l)
        out.append(l.rstrip())
    return '\n'.join(out)


SENTINEL = '@@END-OF-COMMAND@@'


def make_script(cmds):
    """Each command is followed by printing a macro holding a sentinel, so
    the output can be cut per command whatever the prompts do."""
    return ('.D{SmxSentinel}' + SENTINEL + '\n' +
            ''.join(c + '\n${SmxSentinel}\n' for c, _ in cmds))


def split_output(out):
    """One chunk per command, prompts removed."""
    parts = re.split(r'(?:> )*' + re.escape(SENTINEL) + r'\n', out)
    chunks = []
    for p in parts[:-1]:
        p = re.sub(r'^(?:ADDRESS TEST MODE.*\n)?(?:Enter <ruleset>.*\n)?', '', p)
        p = re.sub(r'^(?:> )+', '', p)
        chunks.append(p)
    return '', chunks


# ---------------------------------------------------------------- building
# -bt reads "$|" in an input line as two plain characters, not as the
# operator that separates the two arguments of tls_clt_features,
# check_relay ...  This ruleset, appended to both .cf files after they are
# built, turns "a ; b" into "a $| b": the command "SmxPair,rs a ; b" runs
# ruleset rs on "a $| b".
PAIR_RULESET = """
# m4check test helper (not part of the configuration)
SSmxPair
R$* ; $*	$@ $1 $| $2
"""


def build(lib, mc, workdir, name):
    cf = os.path.join(workdir, name + '.cf')
    with open(cf, 'w') as f:
        p = subprocess.run(['m4', lib, mc], stdout=f, stderr=subprocess.PIPE,
                           cwd=workdir)
    with open(cf, 'a') as f:
        f.write(PAIR_RULESET)
    return cf, p.returncode, p.stderr.decode('latin-1')


def prepare_fixture(mc, workdir):
    """Copy a fixture .mc into the build dir, filling in @MAPDIR@."""
    text = open(mc, encoding='latin-1').read()
    text = text.replace('@MAPDIR@', os.path.join(workdir, 'maps'))
    dst = os.path.join(workdir, os.path.basename(mc))
    with open(dst, 'w', encoding='latin-1') as f:
        f.write(text)
    return dst


def make_maps(workdir):
    mapdir = os.path.join(workdir, 'maps')
    os.makedirs(mapdir, exist_ok=True)
    os.chmod(mapdir, 0o755)
    src = os.path.join(FIXDIR, 'maps')
    if not os.path.isdir(src):
        return
    for fn in sorted(os.listdir(src)):
        path = os.path.join(src, fn)
        if fn.endswith('.txt'):
            base = os.path.join(mapdir, fn[:-4])
            with open(path, 'rb') as f:
                subprocess.run([MAKEMAP, 'hash', base], stdin=f, check=True)
        else:
            shutil.copy(path, os.path.join(mapdir, fn))


def compare_one(mc, workdir, verbose):
    name = os.path.splitext(os.path.basename(mc))[0]
    if mc.startswith(FIXDIR):
        mc = prepare_fixture(mc, workdir)
    ref_cf, ref_rc, ref_err = build(REF_CF_M4, mc, workdir, name + '.ref')
    our_cf, our_rc, our_err = build(OUR_CF_M4, mc, workdir, name + '.our')
    problems = []
    if our_rc != 0 or 'ERROR' in our_err:
        problems.append('our m4 build: rc=%d %s' % (our_rc, our_err.strip()))
    with open(ref_cf, encoding='latin-1') as f:
        cmds = bt_script(f.read())
    script = make_script(cmds)
    _, ref_out, _ = run_bt(ref_cf, script, workdir)
    _, our_out, _ = run_bt(our_cf, script, workdir)
    ref_banner, ref_parts = split_output(ref_out)
    our_banner, our_parts = split_output(our_out)
    if len(ref_parts) != len(cmds) or len(our_parts) != len(cmds):
        problems.append('prompt count mismatch: %d commands, sendmail %d, ours %d'
                        % (len(cmds), len(ref_parts), len(our_parts)))
    # loading: everything sendmail says before the first prompt is a warning
    def load_warnings(cf):
        _, lout, lerr = run_bt(cf, '', workdir)
        return [re.sub(r'^.*?\.cf: line \d+: ', '', l)
                for l in (lout + '\n' + lerr).split('\n')
                if l.strip() and not l.startswith('ADDRESS TEST MODE')
                and not l.startswith('Enter <ruleset>') and l.strip() != '>']
    # warnings sendmail's own .cf gets too (e.g. U=cyrus on a host without
    # that user) are not held against us
    ref_warn = load_warnings(ref_cf)
    warn = [w for w in load_warnings(our_cf) if w not in ref_warn]
    if warn:
        problems.append('our .cf loads with warnings:\n    ' + '\n    '.join(warn))
    npass = nfail = 0
    fails = []
    for i, (cmd, kind) in enumerate(cmds):
        if kind == 'set':
            continue
        r = verdict(kind, ref_parts[i] if i < len(ref_parts) else '<missing>')
        o = verdict(kind, our_parts[i] if i < len(our_parts) else '<missing>')
        if r == o:
            npass += 1
        else:
            nfail += 1
            fails.append((cmd, r, o))
    return name, npass, nfail, fails, problems


def main():
    args = sys.argv[1:]
    verbose = '-v' in args
    keep = '-k' in args
    mcs = [a for a in args if not a.startswith('-')]
    if not mcs:
        mcs = [m for m in SYSTEM_MCS if os.path.exists(m)]
        if os.path.isdir(FIXDIR):
            mcs += [os.path.join(FIXDIR, f) for f in sorted(os.listdir(FIXDIR))
                    if f.endswith('.mc')]
        own = os.path.join(ROOT, 'cf', 'cf')
        mcs += [os.path.join(own, f) for f in sorted(os.listdir(own))
                if f.endswith('.mc')]
    mcs = [os.path.abspath(m) for m in mcs]
    base = os.path.join(ROOT, '.m4check-build')
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o755)
    workdir = tempfile.mkdtemp(dir=base)
    os.chmod(workdir, 0o755)
    make_maps(workdir)
    bad = 0
    total_p = total_f = 0
    for mc in mcs:
        name, p, f, fails, problems = compare_one(mc, workdir, verbose)
        total_p += p
        total_f += f
        status = 'PASS' if not f and not problems else 'FAIL'
        if status == 'FAIL':
            bad += 1
        print('%-28s %s  %4d agree  %4d differ' % (name, status, p, f))
        for pr in problems:
            print('    ' + pr)
        for cmd, r, o in fails[:None if verbose else 5]:
            print('    > %s' % cmd)
            print('      sendmail: %s' % r.replace('\n', '\n                '))
            print('      ours:     %s' % o.replace('\n', '\n                '))
        if not verbose and len(fails) > 5:
            print('    ... %d more (use -v)' % (len(fails) - 5))
    print('total: %d agree, %d differ, %d of %d .mc files failing'
          % (total_p, total_f, bad, len(mcs)))
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print('build directory kept: ' + workdir)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())

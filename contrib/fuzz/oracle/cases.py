# contrib/fuzz/oracle/cases.py - the -bt cases whose oracle output record.py
# stores in Tests/SMConfigTests/Recorded*.swift.  Each case: (name, cf bytes,
# list of input lines).  Every cf defines a local mailer so the oracle does not
# complain, and sets V10 unless the case is about the level.
# Promises: plain data.

LOCAL = b'Mlocal, P=/bin/true, F=lsDFMq, A=local $u\n'
def cf(body, level=b'10'):
    return b'V' + level + b'\n' + LOCAL + body

PASS = b'SX\nR$*\t$@ $1\n'
AMP = b'SZ\nR$*\t$@ $&z\n'

TOKENIZER = [
    ('operators and atoms', cf(PASS), [b'X a.b@c:d[e]f', b'X   spaced   out  atoms ', b'X a%b!c^d/e+f=g']),
    ('quoted strings', cf(PASS), [b'X "quoted string"@host', b'X "a\\"b"@c', b'X ""@x', b'X a"b c"d']),
    ('parentheses are tokens at V10', cf(PASS), [b'X a(comment)b', b'X (x)']),
    ('parentheses are comments at V8', cf(PASS, b'8'), [b'X a(comment)b', b'X a(nested (c) x)b', b'X (only)']),
    ('backslashes', cf(PASS), [b'X \\!foo\\@bar', b'X a\\@b', b'X trailing\\', b'X "q\\!x"', b'X \\\\x']),
    ('unbalanced V10', cf(PASS), [b'X "abc', b'X <abc', b'X abc>', b'X <a, b>', b'X a>b<c']),
    ('unbalanced V8', cf(PASS, b'8'), [b'X (abc', b'X abc)', b'X "abc', b'X (a "b) c']),
    ('comma lists', cf(PASS), [b'X a,b,c', b'X a, , b', b'X <a,b>,c', b'X "a,b",c']),
    ('eight bit via $&', cf(AMP), [b'.Dz caf\xe9@x', b'Z x', b'.Dz a\xffb', b'Z x', b'.Dz \x80\x81\x9f', b'Z x',
                                   b'.Dz a\x01b\x7fc', b'Z x', b'$z']),
    ('token and address limits via $&', cf(AMP), [b'.Dz ' + b'a' * 256, b'Z x', b'.Dz ' + b'a' * 257 + b' b', b'Z x',
                                                  b'.Dz ' + b'a.' * 600, b'Z x',
                                                  b'.Dz ' + b'a' * 1250, b'Z x']),
    ('address too long via $& shows the address cut at 256', cf(AMP), [b'.Dz ' + b'a ' * 640, b'Z x']),
    ('repairs via $&', cf(AMP), [b'.Dz "abc', b'Z x', b'.Dz (abc', b'Z x', b'.Dz abc)', b'Z x', b'.Dz <abc', b'Z x',
                                 b'.Dz abc>', b'Z x', b'.Dz a(comment)b', b'Z x', b'.Dz \\!x', b'Z x']),
    ('operator chars option', cf(b'O OperatorChars=.:%@!^/[]+\n' + PASS), [b'X a%b!c^d/e+f', b'X a=b&c']),
    ('operator chars empty', cf(b'O OperatorChars=\n' + PASS), [b'X a.b@c', b'X a,b;c<d>']),
]

LHS = b'''CX foo bar baz.qux
SStar
R$*\t$@ <star> $1
SPlus
R$+\t$@ <plus> $1
SMinus
R$-\t$@ <one> $1
R$- $-\t$@ <two> $1 ; $2
R$*\t$@ <other> $1
SClass
R$=X\t$@ <inX> $1
R$~X $*\t$@ <notX> $1 ; $2
R$*\t$@ <neither> $1
SMulti
R$* $=X $*\t$@ $1 <X> $2 <> $3
SBack
R$* @ $* @ $*\t$@ <1> $1 <2> $2 <3> $3
SAmp
R$&z\t$@ <matched-z>
R$*\t$@ <no> $1
SMk
R$*\t$: x $# y $1
SHash
R$* $# $*\t$@ <hash> $1 ; $2
SCase
RFOO $*\t$@ <foo> $1
R$*\t$@ <nofoo> $1
SZero
R$@\t$@ <zero>
R$*\t$@ <nonzero> $1
SNine
R$- $- $- $- $- $- $- $- $-\t$@ $9 $8 $7 $6 $5 $4 $3 $2 $1
'''
RHS = b'''SCanon
R$+ @ $+\t$@ $1 < @ $2 >
S5
R$*\t$@ <five> $1
SSub
R$*\t$: $>Canon $1
SNum
R$*\t$@ $>5 $1
SSeveral
R$*\t$: $>A a $>B b $1
SA
R$*\t$@ <A> $1
SB
R$*\t$@ <B> $1
SOnce
R$*\t$: $1 x
R$*\t$: $1 y
SRepeat
R$* a $*\t$1 b $2
SRet
R$*\t$@ $1 first
R$*\t$@ $1 second
STriple
R$+ @ $+\t$# smtp $@ $2 $: $1
R$*\t$: stop
SAfter
R$*\t$: $# local $: $1
R$*\t$: never
SPipe
R$* $| $*\t$@ <left> $1 <right> $2
SMkPipe
R$*\t$: $1 $| $1
SMap
R$*\t$: $(nomap $1 $)
SMapDef
R$*\t$: $(nomap $1 $: dflt $)
SAmpR
R$*\t$: $&z $1 $&q
SEmpty
SCallEmpty
R$*\t$: $>Empty $1
'''
LIMITS = b'''SLoopy
R$*\t$1
SRecur
R$*\t$: $>Recur $1
SBig
R$*\t$1 $1 $1 $1 $1 $1 $1 $1 $1 $1 $1
SWild
R$+\t$@ $1 $1 $1
'''

RULES = [
    ('LHS operators', cf(LHS), [b'Star a b c', b'Star', b'Plus a', b'Minus a', b'Minus a b', b'Minus a b c',
                                b'Class foo', b'Class FOO', b'Class baz.qux', b'Class baz . qux', b'Class other x y',
                                b'Class foo bar', b'Multi a baz.qux b', b'Multi x foo', b'Back a@b@c@d',
                                b'.Dz hello', b'Amp hello', b'Amp HELLO', b'Amp hello world', b'Mk,Hash a',
                                b'Case foo bar', b'Case Foo', b'Case fo', b'Nine 1 2 3 4 5 6 7 8 9', b'Nine 1 2']),
    ('RHS operators', cf(RHS), [b'Sub user@host', b'Num a', b'Several z', b'Once q', b'Repeat a a x a', b'Ret r',
                                b'Triple u@h', b'After x', b'MkPipe,Pipe a b', b'Map key', b'MapDef key',
                                b'.Dz zed', b'.Dq a b', b'AmpR x', b'CallEmpty e', b'Canon,Sub,Num a@b']),
    ('rewrite limits', cf(LIMITS), [b'Loopy a', b'Recur a', b'Big ' + b'x ' * 100, b'Wild ' + b'y ' * 120,
                                    b'Nope a', b'Loopy,Nope a', b'250 a', b'99 a']),
    ('nested calls share the 1000-token workspace',
     cf(b'SOuter\nR$*\t$: a a a a a a a a a a $>Mid $1\nSMid\nR$*\t$: b b b b b b b b b b $>Grow $1\n'
        b'SGrow\nR$*\t$@ $1 $1 $1 $1 $1 $1 $1 $1 $1 $1\n'),
     [b'Outer ' + b'x ' * 99, b'Mid ' + b'x ' * 99]),
    ('ruleset numbers', cf(b'S1\nR$*\t$@ one\nS2\nR$*\t$@ two\nSNamed=7\nR$*\t$@ seven\n'),
     [b'1 x', b'2 x', b'7 x', b'Named x', b'1,2 x', b'3 x', b'=SNamed', b'=S1', b'=SNope']),
]

MACROS = [
    ('macro definitions', cf(b'Dq"quoted value"\nDe\\ttab\\nnl\nD{long}long value\nDxx$qx\nDr$$dollar\n'
                             b'D{Name_1}ok\n'),
     [b'$q', b'$e', b'${long}', b'$x', b'$r', b'${Name_1}', b'$undefinedmacro', b'${nosuch}', b'$v']),
    ('conditionals at read time', cf(b'Da1\nSC\nR$*\t$@ $?a yes $| no $. $?b B $| notB $. $1\n'
                                     b'SD\nR$*\t$@ $?a $?b both $| aonly $. $| none $.\n'),
     [b'C x', b'D x', b'=SC']),
    ('macro recursion', cf(b'Da$b\nDb$a\nSR\nR$*\t$@ $a $1\n'), [b'R x', b'$a']),
    ('dot commands', cf(PASS), [b'.Dq one', b'$q', b'.D{lg} $$ $q', b'${lg}', b'.Cc a b c', b'$=c', b'.', b'.X']),
]

CFREAD = [
    ('cf reader errors', cf(b'Zfoo\nSX\nR$* $@ $1\nR$1\t$2\nR$*\t$:\nR$* $:\t$1\nR$(\t$1\n'
                            b'R$*\t$( a $( b $) $)\nR$*\t$(a\nR$*\t$*\nD{abc-d}x\n'
                            b'D{abcdefghijklmnopqrstuvwxyz}x\nD{}x\nS\nS300\nSA=500\nR$*\t$1\nMbad\n'
                            b'Mnop, P=/bin/true\nMx, P=[IPC], A=TCP\nMy, P=[TCP], A=TCP $h\nMz, Q=nosuchq, P=/bin/true, A=x\n'
                            b'O NoSuchOption=1\nO\nOZz\nH\nHX\nH?x?X-Y: z\nP\nPfirst=1\nV\nVabc\nV10/Nobody\n'
                            b'Kmap\nKmap nosuchclass\nEVAR=1\nL x\nG x\n'), [b'$v']),
    ('cf reader folding and comments', cf(b'SX\nR$*\t$: a\n\t b # comment\nR$*\t$@ $1 c\\#d  # more\n'
                                          b'# full comment line\n\nD{fold}one\n two\n  three\nCY a # b\n'
                                          b'CY c\\#d\n'), [b'X x', b'${fold}', b'$=Y', b'=SX']),
    ('blank line continued by white space', cf(b'SX\nR$*\t$@ ok\n\n   \n'), [b'X x']),
    ('cf reader at V2', cf(b'SX\nR$*\t$@ a#b $1 # not a comment\nCY c # d\n', b'2'), [b'X x', b'$=Y']),
    ('cf reader S lines', cf(b'SA\nR$*\t$@ a\nSB=12\nR$*\t$@ b\nSA\nR$*\t$@ a2\nS12\nR$*\t$@ twelve\n'),
     [b'A x', b'B x', b'12 x', b'=SA', b'=SB']),
    ('cf reader CRLF and tabs', cf(b'SX\r\nR$*\t\t\t$@ $1 crlf\t\tcomment text\r\nR$*\t$@ no\r\n'), [b'X x', b'=SX']),
    ('cf reader class lines', cf(b'CA one two\nCA three\nC{Long} alpha BETA\nCB $=A four\nT root daemon\n'),
     [b'$=A', b'${Long}', b'$=B', b'$=t']),
    ('cf reader too many tokens', cf(b'SX\nR' + b'a ' * 1001 + b'\t$@ x\nR$*\t$@ ok\n'), [b'X q']),
    ('cf reader token too long', cf(b'SX\nR' + b'b' * 300 + b'\t$@ y\nR$*\t$@ ok\n'), [b'X q']),
    ('cf reader 1000 tokens is fine', cf(b'SX\nR' + b'a ' * 999 + b'$*\t$@ x\nR$*\t$@ ok\n'), [b'X q']),
    ('cf reader too many wildcards', cf(b'SX\nR$- $- $- $- $- $- $- $- $- $-\t$@ ten\nR$*\t$@ ok\n'), [b'X a']),
]

XPUTS_VALUES = [b'a\x01b', b'a\x1bb', b'a\x7fb', b'a\xa0b', b'caf\xe9',
                b'a\\tb', b'a\\rb', b'a\\nb', b'x$*y', b'x${long}y', b'$=w $~w $&w']
MACROS.append(('xputs of D values with control, 8-bit and meta bytes',
               cf(b''.join(b'D{v%d}' % i + v + b'\n' for i, v in enumerate(XPUTS_VALUES)) +
                  b'SX\nR$* $+ $- $=w $~w $#x $@ $&w $|\t$@ $1 $2 $[ $] $( $) $: $> x $@ $# $|\n'),
               [b'${v%d}' % i for i in range(len(XPUTS_VALUES))] + [b'=SX']))
INTERNAL_VALUES = [b'a\x80b', b'a\x85b', b'a\x9bb', b'a\xffb']
MACROS.append(('cf lines quote internal bytes 0200-0237 and 0377',
               cf(b''.join(b'D{v%d}' % i + v + b'\n' for i, v in enumerate(INTERNAL_VALUES))),
               [b'${v%d}' % i for i in range(len(INTERNAL_VALUES))]))

GROUPS = {
    'Tokenizer': ('tokenizer cases: operators, quotes, comments, backslashes, repairs, limits', TOKENIZER),
    'Rules': ('rewrite engine cases: every LHS and RHS operator, calls, limits', RULES),
    'Macros': ('macro cases: D lines, $x display, conditionals, recursion, .D/.C', MACROS),
    'CfReader': ('cf reader cases: every line type and every error message', CFREAD),
}

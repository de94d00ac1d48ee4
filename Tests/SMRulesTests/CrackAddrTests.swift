// Tests/SMRulesTests/CrackAddrTests.swift
//
// crackAddress on the usual header forms: bare addresses, phrases (quoted
// when they need it), comments, groups, route addresses and unbalanced
// input.  Expected values recorded from sendmail 8.17.1.9 with
// `/parse <address>` in -bt ("Cracked address = ..."), V10 cf (so
// ColonOkInAddr is false and MustQuoteChars is the default).
// Promises: pure; output never longer than MAXNAME.

import Testing
import SMBase
import SMRules

@Suite("crackAddress")
struct CrackAddrTests {
    @Test(arguments: [
        ("user@example.com", "$g"),
        ("John Doe <jd@example.com>", "John Doe <$g>"),
        ("jd@example.com (John Doe)", "$g (John Doe)"),
        ("\"John Q. Public\" <jq@x>", "\"John Q. Public\" <$g>"),
        ("John Q. Public <jq@x>", "\"John Q. Public\" <$g>"),
        ("group: a@b, c@d;", "group: $g;"),
        ("<@route,@r2:user@host>", "<$g>"),
        ("(comment) user@host", "(comment) $g"),
        ("a@b (c (nested) d)", "$g (c (nested) d)"),
        ("\"unbalanced <x@y>", "$g"),
        ("(unbalanced x@y", "(unbalanced x@y)"),
        ("<x@y", "<$g>"),
        ("x@y>", "$g"),
        ("Joe <x@y> extra", "Joe <$g> extra"),
        ("<a@b> <c@d>", "\"<a@b>\" <$g>"),
        ("a\\@b@c", "$g"),
        ("Name: <x@y>", "Name: <$g>"),
        ("x@y (comment) trailing", "$g (comment)"),
        ("Joe (c) <x@y>", "Joe (c) <$g>"),
    ])
    func cracked(_ input: String, _ want: String) {
        #expect(render(crackAddress(input.b, options: CrackOptions())) == want)
    }

    @Test func longInputFallsBackOrStaysBounded() {
        for n in [200, 256, 300, 2000] {
            let phrase = String(repeating: "p", count: n) + " <x@y>"
            let out = crackAddress(phrase.b, options: CrackOptions())
            #expect(out.count <= Limits.maxName)
            let comment = "x@y (" + String(repeating: "c", count: n) + ")"
            #expect(crackAddress(comment.b, options: CrackOptions()).count <= Limits.maxName)
        }
    }
}

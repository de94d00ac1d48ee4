// QueueRunnerTests.swift — the queue runner's age limits (Timeout.queuewarn,
// Timeout.queuereturn) against the oracle.
//
// Each case lets the REAL sendmail queue a message, makes it older by
// rewriting the qf's T line (DeliverTests.backdate), and runs the queue
// with both binaries on copies of that queue (DeliverTests.compareRuns):
// stdout, stderr, exit status, every mailer call (the delay warning or
// the expiry bounce as the local mailer gets it, byte for byte with queue
// IDs and dates normalised) and the qf afterwards (M line, `w` flag) must
// be identical.  `expects` checks that the oracle did send what the case
// is about.  Fails (never skips) when a prerequisite is missing.

import Foundation
import Testing

@Suite("Queue runs: delay warnings and expiry identical to sendmail's")
struct QueueRunnerTests {
    typealias Case = DeliverTests.Case
    static let message = DeliverTests.plainMessage
    static let hour = 3600, day = 86400
    static let warned = "Subject: Warning: could not send message for past 4 hours"

    static let ageCases: [Case] = [
        // older than queuewarn: one warning, the qf gets `F w` and its M line
        Case(name: "warn-tempfail", submissions: [(["-f", "bin"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        // a failure and a delay in the same run: one DSN, the warning's subject
        Case(name: "warn-with-failure", submissions: [(["-f", "bin"], ["a@tempfail", "b@nouser", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        // NOTIFY=SUCCESS deliveries are reported in the warning, no receipt of their own
        Case(name: "warn-notify-success", submissions: [(["-f", "bin", "-N", "delay,failure,success"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        Case(name: "warn-notify-delay", submissions: [(["-f", "bin", "-N", "delay"], ["a@tempfail", "b@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        // no NOTIFY=DELAY: no warning, the M line stays the deferral's
        Case(name: "warn-notify-failure-only", submissions: [(["-f", "bin", "-N", "failure"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour),
        Case(name: "warn-notify-never", submissions: [(["-f", "bin", "-N", "never"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour),
        // not old enough
        Case(name: "warn-too-young", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 3 * hour),
        // already warned (the oracle's first run set `F w`): not again
        Case(name: "warn-only-once", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, preRun: ["-v", "-OTimeout.queuewarn=4h"],
             backdate: 5 * hour),
        // nobody to warn: <> and owner- senders
        Case(name: "warn-null-sender", submissions: [(["-f", "<>"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour),
        Case(name: "warn-owner-sender", submissions: [(["-f", "owner-list"], ["a@tempfail", "root"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour),
        // a quiet run (-qf) warns too, without printing
        Case(name: "warn-quiet-run", submissions: [(["-f", "daemon"], ["a@tempfail", "b@tempfail"])],
             runArguments: ["-qf", "-OTimeout.queuewarn=4h"], message: message, backdate: 5 * hour, expects: [warned]),
        // the interval's wording and the default unit (hours)
        Case(name: "warn-interval-words", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=90m", "-OTimeout.queuereturn=1d2h3m4s"], message: message,
             backdate: 2 * hour, expects: ["Subject: Warning: could not send message for past 1 hour, 30 minutes",
                                            "Will keep trying until message is 1 day, 2 hours, 3 minutes, 4 seconds old"]),
        Case(name: "warn-unit-hours", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4"], message: message, backdate: 5 * hour, expects: [warned]),
        // per-class values: a Priority: header picks the class
        Case(name: "warn-class-non-urgent", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn.normal=1d", "-OTimeout.queuewarn.non-urgent=4h"],
             message: Array("Priority: non-urgent\n".utf8) + message, backdate: 5 * hour, expects: [warned]),
        Case(name: "warn-class-normal", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn.normal=1d", "-OTimeout.queuewarn.non-urgent=4h"],
             message: message, backdate: 5 * hour),
        // precedences (deliver.cf's P lines): bulk (class -60) is non-urgent and never warned
        Case(name: "warn-precedence-bulk", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn=4h"],
             message: Array("Precedence: bulk\n".utf8) + message, backdate: 5 * hour),
        Case(name: "warn-precedence-urgent", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn.normal=1d", "-OTimeout.queuewarn.urgent=4h"],
             message: Array("Precedence: special-delivery\n".utf8) + message, backdate: 5 * hour, expects: [warned]),
        Case(name: "warn-precedence-list", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuewarn.normal=1d", "-OTimeout.queuewarn.non-urgent=4h"],
             message: Array("Precedence: list\n".utf8) + message, backdate: 5 * hour),

        // older than queuereturn (default 5 days): returned, 4.4.7, removed
        Case(name: "return-expired", submissions: [(["-f", "bin"], ["a@tempfail", "b@nouser", "root"])],
             runArguments: ["-v"], message: message, backdate: 6 * day,
             expects: ["Message could not be delivered for 5 days", "Status: 4.4.7"]),
        Case(name: "return-expired-quiet", submissions: [(["-f", "bin"], ["a@tempfail", "b@tempfail"])],
             runArguments: ["-qf"], message: message, backdate: 6 * day, expects: ["Status: 4.4.7"]),
        Case(name: "return-expired-option", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuereturn=2h", "-OTimeout.queuewarn=1h"], message: message,
             backdate: 3 * hour, expects: ["Message could not be delivered for 2 hours"]),
        // NOTIFY=NEVER: dropped without a report, the emptied qf written back
        Case(name: "return-expired-notify-never", submissions: [(["-f", "bin", "-N", "never"], ["a@tempfail", "c@nouser", "root"])],
             runArguments: ["-v"], message: message, backdate: 6 * day),
        // an emptied qf is removed by the next run
        Case(name: "return-expired-empty-qf", submissions: [(["-f", "bin", "-N", "never"], ["a@tempfail"])],
             runArguments: ["-v"], message: message, preRun: ["-v"], expectsMailer: false, backdate: 6 * day),
        // from <>: the expiry goes to the postmaster
        Case(name: "return-expired-null-sender", submissions: [(["-f", "<>"], ["a@tempfail"])],
             runArguments: ["-v"], message: message, backdate: 6 * day, expects: ["Postmaster notify"]),
        Case(name: "return-class-urgent", submissions: [(["-f", "bin"], ["a@tempfail"])],
             runArguments: ["-v", "-OTimeout.queuereturn.urgent=1d"], message: Array("Priority: urgent\n".utf8) + message,
             backdate: 2 * day, expects: ["Message could not be delivered for 1 day"]),
    ]

    @Test("queue run: delay warnings and expiry", arguments: QueueRunnerTests.ageCases)
    func ageLimits(_ c: Case) throws {
        try DeliverTests.compareRuns(c)
    }
}

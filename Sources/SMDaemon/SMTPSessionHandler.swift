// SMDaemon/SMTPSessionHandler.swift
//
// One accepted connection: lines in (SMTPLineHandler), replies out, and
// nothing else; after a 220 to STARTTLS, TLS under them (DaemonTLS.swift).  The session itself is SMEngine's SMTPServer over its own
// Engine (cloned from the daemon's current prototype when the connection
// opens).  A command that may block (map lookups, the resolver, the fsync
// of a commit, HELP's file, a filter) runs on the daemon's NIOThreadPool;
// one that cannot (NOOP, RSET, HELO/EHLO, DATA without check_data, most
// QUITs: SMTPServer.handlesWithoutWaiting) runs on the event loop, which
// spares it two thread wake-ups.  Commands of one session run one after
// another, in the order they came, and their replies are written in that
// order (pipelining);
// the output is flushed when no more input is waiting, as sendmail does.
// A reply the session slows down (SMTPServer.replyDelay) waits on the event
// loop's timer, the session busy meanwhile: no pool thread sleeps.
// A verbose session (VERB) delivers in the command that ends DATA, on the
// pool; the 050 lines it makes meanwhile are written at once, in order,
// before that command's reply (SMTPServer.verboseOutput).
// Lines of message text after 354 are only appended to the session's
// buffer, so they are handled on the event loop; the final "." goes to
// the pool like a command (it commits the message).
// The session opens when the daemon admits the connection
// (MaxDaemonChildren); until then its input is only buffered, nothing
// is answered.
// Shutdown (DaemonShutdownEvent): the command in progress finishes (a
// commit is never cut short), then the connection is closed; queued
// input is dropped.  A connection lost in DATA leaves nothing on disk:
// message text lives in memory until the "." commits it.
// greet_pause (SMTPServer.greetPause): the greeting waits; input before
// it ends the wait with the session's 554 greeting (preGreetingTraffic),
// then the queued lines are answered by the null server.
// A client silent for Timeout.command (Timeout.datablock in DATA) gets
// sendmail's treatment (SMTPServer.readTimeout) and is disconnected; a
// TLS handshake not done within Timeout.starttls is logged as sendmail
// logs it (SMTPServer.tlsHandshakeTimedOut) and the connection closed.
// The session's engine uses a map set from the daemon's pool
// (MapSetPool.swift), taken when the session opens; once the connection
// is gone and no command of the session runs or will run (its loss
// reported), the handler lets go of the session and of the set, which
// goes back to the pool (and the session's memory is freed: the session
// refers to the handler through its verbose output).
// Promises: the event loop never waits for disk or DNS; the SMTPServer
// is touched by one thread at a time (the pool while `busy`, else the loop).

import NIOCore
import SMBase
import SMEngine
import SMTLS

/// Sent through each session's pipeline when the daemon stops.
public struct DaemonShutdownEvent: Sendable {}

/// A non-Sendable value handed between the event loop and the pool; the
/// handler's `busy` flag guarantees one user at a time.
final class Handoff<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

final class SMTPSessionHandler: ChannelInboundHandler {
    typealias InboundIn = SMTPLine
    typealias OutboundOut = ByteBuffer

    let daemon: Daemon
    let port: DaemonPort
    var server: Handoff<SMTPServer>? = nil
    /// The session's map set, given back to the pool when this goes.
    var lease: MapSetLease? = nil
    var pending = CircularBuffer<SMTPLine>()
    /// A command is running on the pool (or the session is opening).
    var busy = true {
        didSet { if !busy { sessionMayEnd() } }
    }
    /// channelInactive has been seen.
    var inactive = false
    /// The session was told of the connection's loss (reportLoss).
    var lossReported = false

    /// Lets go of the session and its map set once the connection is gone
    /// and nothing of the session is running or still to run.
    func sessionMayEnd() {
        guard inactive, !busy, !lost || lossReported else { return }
        server = nil
        lease = nil
    }
    var closing = false
    var shutdownRequested = false
    /// The daemon admitted the connection (its session is opening or open).
    var begun = false

    init(daemon: Daemon, port: DaemonPort) {
        self.daemon = daemon
        self.port = port
    }

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let loop = context.eventLoop
        daemon.admit(context.channel, port: port) {
            loop.execute {
                let (handler, context) = loopBound.value
                handler.begin(context: context)
            }
        }
    }

    /// The session opens (once the daemon admits the connection).
    func begin(context: ChannelHandlerContext) {
        guard !closing else { return }
        begun = true
        let remote = context.channel.remoteAddress
        let local = context.channel.localAddress
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let daemon = self.daemon, port = self.port
        let loop = context.eventLoop
        let weakBound = NIOLoopBound(WeakSessionReference(handler: self, context: context), eventLoop: loop)
        daemon.pool.runIfActive(eventLoop: context.eventLoop) { () -> Handoff<(SMTPServer, [UInt8], Bool, MapSetLease)> in
            let info = ClientResolver.connectionInfo(remote: remote, local: local, port: port,
                                                     compressedIPv6: daemon.compressedIPv6,
                                                     identTimeout: daemon.identTimeout)
            let (server, lease) = daemon.makeSession(info)
            // a verbose session's (VERB) 050 lines, written as the command
            // running on the pool makes them: queued on the loop before
            // that command's reply (the handler and context held weakly:
            // the handler holds the session, which holds this closure)
            server.verboseOutput = { bytes in
                loop.execute {
                    guard let handler = weakBound.value.handler, let context = weakBound.value.context,
                          !handler.closing else { return }
                    context.writeAndFlush(handler.wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
                }
            }
            let (reply, close) = server.open()
            return Handoff((server, reply, close, lease))
        }.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .failure:
                context.close(promise: nil)
            case .success(let h):
                let (server, reply, close, lease) = h.value
                handler.server = Handoff(server)
                handler.lease = lease
                if !close && server.greetPause > 0 && !handler.lost && !handler.shutdownRequested {
                    handler.pauseGreeting(context: context, reply: reply, millis: server.greetPause)
                    return
                }
                handler.finished(context: context, reply: reply, close: close)
            }
        }
    }

    // MARK: greet_pause

    /// The greeting held back during greet_pause, and when the wait began.
    var heldGreeting: (reply: [UInt8], since: NIODeadline, timer: Scheduled<Void>)? = nil

    /// Waits `millis` before greeting; input meanwhile ends the wait
    /// (channelRead), as does the end of the connection.
    func pauseGreeting(context: ChannelHandlerContext, reply: [UInt8], millis: Int) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let timer = context.eventLoop.scheduleTask(in: .milliseconds(Int64(millis))) {
            let (handler, context) = loopBound.value
            handler.greetNow(context: context)
        }
        heldGreeting = (reply, .now(), timer)
        // the client may already have talked
        if !pending.isEmpty { preGreetingTraffic(context: context) }
    }

    /// The wait is over: the usual greeting.
    func greetNow(context: ChannelHandlerContext) {
        guard let held = heldGreeting else { return }
        heldGreeting = nil
        held.timer.cancel()
        finished(context: context, reply: held.reply, close: false)
    }

    /// Input came during the wait: the session's 554 greeting instead.
    func preGreetingTraffic(context: ChannelHandlerContext) {
        guard let held = heldGreeting, let box = server else { return }
        heldGreeting = nil
        held.timer.cancel()
        let waited = (NIODeadline.now() - held.since).nanoseconds
        // whole seconds, rounded as sendmail rounds them
        let seconds = Int(waited / 1_000_000_000) + (waited % 1_000_000_000 >= 500_000_000 ? 1 : 0)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        daemon.pool.runIfActive(eventLoop: context.eventLoop) {
            Handoff(box.value.preGreetingTraffic(afterSeconds: seconds))
        }.whenComplete { result in
            let (handler, context) = loopBound.value
            switch result {
            case .failure: handler.closeNow(context: context)
            case .success(let h): handler.finished(context: context, reply: h.value, close: false)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        disarmTimer()
        pending.append(unwrapInboundIn(data))
        if heldGreeting != nil { preGreetingTraffic(context: context); return }
        processNext(context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DaemonShutdownEvent {
            shutdownRequested = true
            pending.removeAll()
            // (a greeting held back by greet_pause is never sent)
            if let held = heldGreeting {
                heldGreeting = nil
                held.timer.cancel()
                busy = false
            }
            if !busy || !begun { closeNow(context: context) }
            return
        }
        if let e = event as? TLSEstablishedEvent {
            tlsEstablished(context: context, e.info)
            return
        }
        if let e = event as? TLSFailedEvent {
            // logged; the TLS handler closes the connection
            tlsFailed(context: context, e)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        let wasClosing = closing
        closing = true
        pending.removeAll()
        // lost without QUIT (and not closed by us): the session logs it,
        // after the command in progress if there is one
        if !wasClosing, begun, server != nil {
            lost = true
            if heldGreeting != nil { greetNow(context: context) }
            else if !busy { reportLoss(context: context) }
        }
        inactive = true
        sessionMayEnd()
        context.fireChannelInactive()
    }

    var lost = false

    func reportLoss(context: ChannelHandlerContext) {
        guard let box = server, !lossReported else { return }
        busy = true
        lossReported = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        daemon.pool.runIfActive(eventLoop: context.eventLoop) { box.value.connectionLost() }.whenComplete { _ in
            loopBound.value.busy = false
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        closeNow(context: context)
    }

    func closeNow(context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        context.flush()
        context.close(promise: nil)
    }

    static func isEndOfData(_ line: [UInt8]) -> Bool {
        line == [UInt8(ascii: ".")] || line == [UInt8(ascii: "."), 0x0D]
    }

    /// What a command leaves for the loop: its reply, whether the
    /// connection closes, the messages it accepted, STARTTLS, a slow-down.
    typealias CommandResult = (reply: [UInt8], close: Bool, ids: [[UInt8]], tls: Bool, delay: Int)

    /// Runs one command line on the session (on the pool, or on the loop
    /// for one that cannot wait: SMTPServer.handlesWithoutWaiting).
    static func run(_ s: SMTPServer, _ line: [UInt8], inputPending: Bool) -> CommandResult {
        let (reply, close) = s.handle(line, inputPending: inputPending)
        let ids = s.acceptedIDs
        s.acceptedIDs = []
        let tls = s.tls.startRequested
        s.tls.startRequested = false
        return (reply, close, ids, tls, s.replyDelay)
    }

    /// Runs queued lines until one needs the pool.  A command that cannot
    /// wait (NOOP, RSET, HELO/EHLO, DATA, QUIT as SMTPServer decides) runs
    /// here on the loop: no hop to a pool thread and back for it.
    func processNext(context: ChannelHandlerContext) {
        while !busy && !closing, let box = server, let line = pending.popFirst() {
            let inData = box.value.session.phase == .data
            if inData && !Self.isEndOfData(line.bytes) {
                // message text: appended in memory, no reply
                _ = box.value.handle(line.bytes)
                continue
            }
            busy = true
            let more = line.morePending || !pending.isEmpty
            if box.value.handlesWithoutWaiting(line.bytes) {
                let result = Self.run(box.value, line.bytes, inputPending: more)
                // (the loop goes on unless the reply waits or ends the session)
                if !completed(context: context, box: box, result, goOn: false) { return }
                continue
            }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            daemon.pool.runIfActive(eventLoop: context.eventLoop) { () -> Handoff<CommandResult> in
                Handoff(Self.run(box.value, line.bytes, inputPending: more))
            }.whenComplete { result in
                let (handler, context) = loopBound.value
                switch result {
                case .failure:
                    handler.closeNow(context: context)
                case .success(let h):
                    _ = handler.completed(context: context, box: box, h.value, goOn: true)
                }
            }
            return
        }
        if !busy && pending.isEmpty {
            context.flush()
            armTimer(context: context)
        }
    }

    /// A command's result on the loop: accepted messages to delivery,
    /// STARTTLS, a slowed-down reply (it waits on the loop's timer, holding
    /// no thread; the session stays busy meanwhile), else the reply.
    /// Returns whether the caller may take the next line at once (only
    /// when `goOn` is false; with `goOn` the next line is taken here).
    func completed(context: ChannelHandlerContext, box: Handoff<SMTPServer>, _ r: CommandResult, goOn: Bool) -> Bool {
        for id in r.ids { daemon.deliverInBackground(id, session: box.value, port: port) }
        if r.tls && !r.close && !closing && !lost && !shutdownRequested {
            startTLS(context: context, reply: r.reply)
            return false
        }
        if r.delay > 0 {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .seconds(Int64(r.delay))) {
                let (handler, context) = loopBound.value
                handler.finished(context: context, reply: r.reply, close: r.close)
            }
            return false
        }
        return finished(context: context, reply: r.reply, close: r.close, goOn: goOn)
    }

    /// The idle timer: one scheduled task per session, not one per
    /// command.  `timerDeadline` is when the client's silence ends the
    /// session (nil: not now, a command is being handled); the task,
    /// when it fires early (the deadline moved on since), schedules
    /// itself again for the deadline.
    var idleTimer: Scheduled<Void>? = nil
    var timerFiresAt: NIODeadline = .distantFuture
    var timerDeadline: NIODeadline? = nil

    /// No timeout while a command is handled (the task stays scheduled).
    func disarmTimer() { timerDeadline = nil }

    /// The session is over: the task goes too (it holds the handler).
    func cancelTimer() {
        timerDeadline = nil
        idleTimer?.cancel()
        idleTimer = nil
    }
    /// The TLS handshake after STARTTLS's 220 is going on (its limit is
    /// Timeout.starttls, not Timeout.command).
    var handshaking = false

    /// Timeout.command (Timeout.datablock in DATA) from now on.
    func armTimer(context: ChannelHandlerContext) {
        timerDeadline = nil
        guard let box = server, !closing else { return }
        let seconds = handshaking ? box.value.startTLSTimeout
            : box.value.inData ? box.value.dataTimeout : box.value.commandTimeout
        guard seconds > 0 else { return }
        let deadline = NIODeadline.now() + .seconds(Int64(seconds))
        timerDeadline = deadline
        // (a task already due by then reschedules itself when it fires)
        if idleTimer != nil && timerFiresAt <= deadline { return }
        scheduleTimer(context: context, at: deadline)
    }

    func scheduleTimer(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleTimer?.cancel()
        timerFiresAt = deadline
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.idleTimer = nil
            guard let due = handler.timerDeadline else { return }
            if NIODeadline.now() < due {
                handler.scheduleTimer(context: context, at: due)
                return
            }
            handler.timerDeadline = nil
            handler.timedOut(context: context)
        }
    }

    /// The client said nothing in time: the session's last words, then close.
    func timedOut(context: ChannelHandlerContext) {
        guard !busy, !closing, let box = server else { return }
        busy = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let inHandshake = handshaking
        daemon.pool.runIfActive(eventLoop: context.eventLoop) { () -> Handoff<[UInt8]> in
            // (a handshake that timed out ends without a reply)
            if inHandshake { box.value.tlsHandshakeTimedOut(); return Handoff([]) }
            return Handoff(box.value.readTimeout())
        }.whenComplete { result in
            let (handler, context) = loopBound.value
            handler.busy = false
            guard !handler.closing else { return }
            handler.closing = true
            let channel = context.channel
            let reply = (try? result.get().value) ?? []
            // (nothing to say: close at once; a write would wait for a
            // TLS handshake that never ends)
            if reply.isEmpty { channel.close(promise: nil); return }
            context.writeAndFlush(handler.wrapOutboundOut(channel.allocator.buffer(bytes: reply))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    /// A reply is ready: write it, then go on (or close).  With `goOn`
    /// false the next line is left to the caller, which is told whether it
    /// may take it (processNext's loop: no recursion per pipelined line).
    @discardableResult
    func finished(context: ChannelHandlerContext, reply: [UInt8], close: Bool, goOn: Bool = true) -> Bool {
        busy = false
        if lost { reportLoss(context: context); return false }
        guard !closing else { return false }
        if close || shutdownRequested {
            // the last reply goes out before the connection closes
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: reply))).whenComplete { _ in
                channel.close(promise: nil)
            }
            return false
        }
        if !reply.isEmpty {
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: reply)), promise: nil)
        }
        if pending.isEmpty { context.flush() }
        if goOn { processNext(context: context) }
        return true
    }
}

/// The session handler and its context, not kept alive by whoever holds
/// this (the session's own callbacks: a strong reference would be a cycle).
struct WeakSessionReference {
    weak var handler: SMTPSessionHandler?
    weak var context: ChannelHandlerContext?
}

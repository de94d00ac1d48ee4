// SMDaemon/DaemonTLS.swift
//
// The daemon's side of STARTTLS: the TLS context built from the loaded
// configuration (ServerCertFile, ServerKeyFile, CACertFile, CACertPath,
// CRLFile, CipherList, ServerSSLOptions, DHParameters, TLSSrvOptions) at
// start and at each SIGHUP reload, and the step from the 220 reply to
// TLS in a session (SMTPSessionHandler.startTLS).  Without a readable
// certificate and key there is no context and STARTTLS is not offered,
// as with sendmail; a context that cannot be built is logged.
// Promises: the 220 is written in clear before the TLS handler is in the
// pipeline; every byte the client sent in clear after STARTTLS (whole
// lines waiting, a partial line) is dropped, never read as a command.

import Glibc
import NIOCore
import SMBase
import SMConfig
import SMEngine
import SMRules
import SMTLS

extension Daemon {
    /// The TLS context of `engine`'s configuration, or nil.
    static func tlsContext(_ engine: Engine, log: (String) -> Void) -> TLSServerContext? {
        func option(_ name: String) -> String? {
            guard let v = engine.config.options[name] else { return nil }
            let s = Array(expandMacros(v, engine.rewriter.macros).trimmingASCIISpace).string
            return s.isEmpty ? nil : s
        }
        guard let cert = option("ServerCertFile"), let key = option("ServerKeyFile"),
              access(cert, R_OK) == 0, access(key, R_OK) == 0 else { return nil }
        var s = TLSServerSettings(certFile: cert, keyFile: key)
        s.caFile = option("CACertFile")
        s.caPath = option("CACertPath")
        s.crlFile = option("CRLFile")
        s.cipherList = option("CipherList")
        s.sslOptions = option("ServerSSLOptions")
        s.dhParameters = option("DHParameters")
        s.requestClientCert = !(option("TLSSrvOptions") ?? "").uppercased().contains("V")
        do {
            return try TLSServerContext(s)
        } catch {
            log("STARTTLS=server, error: \(error)")
            return nil
        }
    }
}

extension SMTPSessionHandler {
    /// The 220 to STARTTLS is ready: send it in clear, drop the clear
    /// input, and put TLS at the head of the pipeline.
    func startTLS(context: ChannelHandlerContext, reply: [UInt8]) {
        pending.removeAll()
        if let lines = try? context.pipeline.syncOperations.handler(type: SMTPLineHandler.self) {
            lines.discardBuffered()
        }
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: reply)), promise: nil)
        guard let tls = daemon.currentTLS else { closeNow(context: context); return }
        do {
            try context.pipeline.syncOperations.addHandler(TLSServerHandler(context: tls), position: .first)
        } catch {
            closeNow(context: context)
            return
        }
        busy = false
        handshaking = true
        processNext(context: context)
    }

    /// The handshake completed: the session learns its macros (and may
    /// run tls_client) before the next command.
    func tlsEstablished(context: ChannelHandlerContext, _ info: TLSPeerInfo) {
        guard let box = server, !closing else { return }
        handshaking = false
        disarmTimer()
        busy = true
        let data = SMTPTLSInfo(version: info.version, cipher: info.cipher, cipherBits: info.cipherBits,
                               algBits: info.algBits, verify: info.verify, certSubject: info.certSubject,
                               certIssuer: info.certIssuer, cnSubject: info.cnSubject, cnIssuer: info.cnIssuer)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        daemon.pool.runIfActive(eventLoop: context.eventLoop) { box.value.tlsEstablished(data) }.whenComplete { _ in
            let (handler, context) = loopBound.value
            handler.busy = false
            if handler.lost { handler.reportLoss(context: context); return }
            handler.processNext(context: context)
        }
    }

    /// The handshake failed: the session logs it (before the loss of
    /// the connection, which follows).
    func tlsFailed(context: ChannelHandlerContext, _ e: TLSFailedEvent) {
        guard let box = server, e.inHandshake else { return }
        handshaking = false
        disarmTimer()
        busy = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        daemon.pool.runIfActive(eventLoop: context.eventLoop) {
            box.value.tlsHandshakeFailed(result: Int(e.result), reason: e.reason, sslError: Int(e.sslError))
        }.whenComplete { _ in
            let (handler, context) = loopBound.value
            handler.busy = false
            if handler.lost { handler.reportLoss(context: context) }
        }
    }
}

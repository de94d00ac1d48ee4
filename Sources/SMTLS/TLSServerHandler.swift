// SMTLS/TLSServerHandler.swift
//
// TLS for one accepted connection as a NIO ChannelDuplexHandler over the
// system OpenSSL: an SSL object whose two ends are memory BIOs
// (SSL_set_bio with two BIO_s_mem).  Bytes read from the socket are
// written into the read BIO; whatever OpenSSL wants to send (handshake
// records, alerts, application data, close_notify) is drained from the
// write BIO and written to the socket.  The handler is inserted at the
// head of the pipeline once the 220 to STARTTLS is on its way, so that
// reply goes out in clear and everything after it is TLS.
// Inbound: the handshake runs as records arrive (a record split over
// several reads just waits in the BIO); once it completes,
// TLSEstablishedEvent (with TLSPeerInfo) goes up the pipeline, then the
// decrypted bytes as ByteBuffers.  Outbound: plaintext written before the
// handshake completes is held, then encrypted in order.  A failed
// handshake or a bad record: TLSFailedEvent (reason) up the pipeline, the
// alert OpenSSL produced is sent, and the connection closes.  The
// client's close_notify is answered with ours and the connection closes;
// closing the channel sends close_notify first.  Renegotiation is
// refused (SSL_OP_NO_RENEGOTIATION in the context).
// Promises: no plaintext is passed up before the handshake completed;
// bytes keep their order both ways; the SSL object is freed with the
// handler.

import COpenSSL
import NIOCore

/// The handshake completed.
public struct TLSEstablishedEvent: Sendable {
    public let info: TLSPeerInfo
}

/// The handshake or the TLS stream failed; the connection is closing.
public struct TLSFailedEvent: Sendable {
    /// OpenSSL's reason text ("unexpected message").
    public let reason: String
    /// The failing call's return value and SSL_get_error's code.
    public let result: Int32
    public let sslError: Int32
    /// The handshake had not completed.
    public let inHandshake: Bool
}

public final class TLSServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    let context: TLSServerContext
    let ssl: OpaquePointer
    let rbio: OpaquePointer
    let wbio: OpaquePointer
    var established = false
    var failed = false
    var shutdownSent = false
    var held: [(ByteBuffer, EventLoopPromise<Void>?)] = []
    var scratch = [UInt8](repeating: 0, count: 16384)

    public init(context: TLSServerContext) {
        self.context = context
        ssl = SSL_new(context.ctx)!
        rbio = BIO_new(BIO_s_mem())!
        wbio = BIO_new(BIO_s_mem())!
        SSL_set_bio(ssl, rbio, wbio)
        SSL_set_accept_state(ssl)
    }

    deinit { SSL_free(ssl) }

    static func errorText(_ code: Int32) -> String {
        let e = ERR_get_error()
        ERR_clear_error()
        if e != 0 {
            if let r = ERR_reason_error_string(e) { return String(cString: r) }
            return "error \(e)"
        }
        return code == SSL_ERROR_SYSCALL ? "unexpected end of stream" : "SSL error \(code)"
    }

    /// Sends what OpenSSL has queued in the write BIO.
    func drain(_ ctx: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil, flush: Bool = true) {
        var buf = ctx.channel.allocator.buffer(capacity: 0)
        while BIO_ctrl_pending(wbio) > 0 {
            let n = scratch.withUnsafeMutableBytes { BIO_read(wbio, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { break }
            buf.writeBytes(scratch[0..<Int(n)])
        }
        if buf.readableBytes > 0 || promise != nil {
            ctx.write(wrapOutboundOut(buf), promise: promise)
        }
        if flush { ctx.flush() }
    }

    func fail(_ ctx: ChannelHandlerContext, _ reason: String, result: Int32 = -1, sslError: Int32 = SSL_ERROR_SSL) {
        guard !failed else { return }
        failed = true
        held.removeAll()
        drain(ctx)   // the alert, if any
        ctx.fireUserInboundEventTriggered(TLSFailedEvent(reason: reason, result: result, sslError: sslError,
                                                         inHandshake: !established))
        ctx.close(promise: nil)
    }

    public func channelRead(context ctx: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var input = unwrapInboundIn(data)
        while input.readableBytes > 0 {
            let n = input.withUnsafeReadableBytes { BIO_write(rbio, $0.baseAddress, Int32($0.count)) }
            if n <= 0 { fail(ctx, "cannot buffer input"); return }
            input.moveReaderIndex(forwardBy: Int(n))
        }
        if !established {
            let r = SSL_do_handshake(ssl)
            if r != 1 {
                let e = SSL_get_error(ssl, r)
                if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE { drain(ctx); return }
                fail(ctx, Self.errorText(e), result: r, sslError: e)
                return
            }
            established = true
            drain(ctx)
            ctx.fireUserInboundEventTriggered(TLSEstablishedEvent(info: TLSPeerInfo.make(ssl, requested: context.requestClientCert)))
            let waiting = held
            held = []
            for (b, p) in waiting { encrypt(ctx, b, promise: p) }
            if !waiting.isEmpty { ctx.flush() }
        }
        readPlaintext(ctx)
    }

    func readPlaintext(_ ctx: ChannelHandlerContext) {
        while !failed {
            let n = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 {
                var b = ctx.channel.allocator.buffer(capacity: Int(n))
                b.writeBytes(scratch[0..<Int(n)])
                ctx.fireChannelRead(wrapInboundOut(b))
                continue
            }
            let e = SSL_get_error(ssl, n)
            if e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE {
                if BIO_ctrl_pending(wbio) > 0 { drain(ctx) }
                return
            }
            if e == SSL_ERROR_ZERO_RETURN {
                // the client's close_notify: ours, then close
                sendShutdown(ctx)
                ctx.close(promise: nil)
                return
            }
            fail(ctx, Self.errorText(e), result: n, sslError: e)
            return
        }
    }

    func encrypt(_ ctx: ChannelHandlerContext, _ data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        var d = data
        while d.readableBytes > 0 {
            let n = d.withUnsafeReadableBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
            if n <= 0 {
                let e = SSL_get_error(ssl, n)
                promise?.fail(ChannelError.ioOnClosedChannel)
                fail(ctx, Self.errorText(e))
                return
            }
            d.moveReaderIndex(forwardBy: Int(n))
        }
        drain(ctx, promise: promise, flush: false)
    }

    public func write(context ctx: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let b = unwrapOutboundIn(data)
        if failed { promise?.fail(ChannelError.ioOnClosedChannel); return }
        if !established { held.append((b, promise)); return }
        encrypt(ctx, b, promise: promise)
    }

    func sendShutdown(_ ctx: ChannelHandlerContext) {
        guard established, !shutdownSent, !failed else { return }
        shutdownSent = true
        _ = SSL_shutdown(ssl)
        drain(ctx)
    }

    public func close(context ctx: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all { sendShutdown(ctx) }
        ctx.close(mode: mode, promise: promise)
    }
}

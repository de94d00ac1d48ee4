// SMDaemon/SMTPLineDecoder.swift
//
// Splits a connection's bytes into lines for the SMTP session: each line
// without its LF (a CR before it is kept: the session decides what a bare
// LF means, in commands and in DATA), and whether more input was already
// buffered behind it (sendmail refuses a HELO/EHLO that the client did
// not wait on).  A line longer than `maxLine` bytes is cut into pieces
// of that size, so one client cannot make the daemon buffer without
// bound; what sendmail then answers is the session's business.
// SMTPLineHandler runs the decoder over its own buffer so that STARTTLS
// can drop what is buffered (plaintext sent after STARTTLS must never
// become a command once TLS is up).
// Promises: bytes only move, in order; nothing is interpreted here.

import NIOCore

public struct SMTPLine: Sendable {
    public var bytes: [UInt8]
    /// More bytes were waiting when this line was taken.
    public var morePending: Bool
}

public struct SMTPLineDecoder: ByteToMessageDecoder {
    public typealias InboundOut = SMTPLine
    public let maxLine: Int

    public init(maxLine: Int = 1 << 20) { self.maxLine = maxLine }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let line = Self.take(&buffer, maxLine: maxLine) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }

    /// The next line in `buffer`, if there is a complete one (or maxLine bytes).
    static func take(_ buffer: inout ByteBuffer, maxLine: Int) -> SMTPLine? {
        let view = buffer.readableBytesView
        let end: Int
        let skip: Int
        if let lf = view.firstIndex(of: 0x0A) {
            end = lf - view.startIndex
            skip = 1
        } else if view.count >= maxLine {
            end = maxLine
            skip = 0
        } else {
            return nil
        }
        let bytes = buffer.readBytes(length: end) ?? []
        buffer.moveReaderIndex(forwardBy: skip)
        return SMTPLine(bytes: bytes, morePending: buffer.readableBytes > 0)
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        // complete lines still count; a partial last line is dropped, as
        // sendmail drops input that never ends
        while try decode(context: context, buffer: &buffer) == .continue {}
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .needMoreData
    }
}

/// The daemon's line splitter: SMTPLineDecoder's rule over a buffer that
/// STARTTLS can empty (`discardBuffered`).
final class SMTPLineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPLine
    let maxLine: Int
    var buffer: ByteBuffer? = nil

    init(maxLine: Int = 1 << 20) { self.maxLine = maxLine }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        if buffer == nil || buffer!.readableBytes == 0 {
            buffer = input
        } else {
            buffer!.writeBuffer(&input)
        }
        while buffer != nil, let line = SMTPLineDecoder.take(&buffer!, maxLine: maxLine) {
            context.fireChannelRead(wrapInboundOut(line))
        }
        if let b = buffer, b.readableBytes == 0 { buffer = nil } else { buffer?.discardReadBytes() }
    }

    /// Input not yet split into lines is dropped (a partial line a client
    /// sent in clear after STARTTLS).
    func discardBuffered() { buffer = nil }
}

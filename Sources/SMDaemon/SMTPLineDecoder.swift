// SMDaemon/SMTPLineDecoder.swift
//
// Splits a connection's bytes into lines for the SMTP session: each line
// without its LF (a CR before it is kept: the session decides what a bare
// LF means, in commands and in DATA), and whether more input was already
// buffered behind it (sendmail refuses a HELO/EHLO that the client did
// not wait on).  A line longer than `maxLine` bytes is cut into pieces
// of that size, so one client cannot make the daemon buffer without
// bound; what sendmail then answers is the session's business.
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
            return .needMoreData
        }
        let bytes = buffer.readBytes(length: end) ?? []
        buffer.moveReaderIndex(forwardBy: skip)
        context.fireChannelRead(wrapInboundOut(SMTPLine(bytes: bytes, morePending: buffer.readableBytes > 0)))
        return .continue
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

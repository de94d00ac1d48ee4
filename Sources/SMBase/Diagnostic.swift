// SMBase/Diagnostic.swift
//
// Configuration and environment errors: a message in sendmail's wording,
// where it was found (file and line), and the sysexits code it implies.
// Promises: `description` renders exactly as sendmail prints such an
// error ("file: line N: message"), so callers can compare with the oracle.

public struct Diagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: Sendable, Equatable { case warning, error }

    public var file: String?
    public var line: Int?
    public var message: String
    public var severity: Severity
    public var exit: SysExit

    public init(file: String? = nil, line: Int? = nil, _ message: String,
                severity: Severity = .error, exit: SysExit = .config) {
        self.file = file
        self.line = line
        self.message = message
        self.severity = severity
        self.exit = exit
    }

    /// "file: line N: message" when a location is known, else the message.
    public var description: String {
        if let file, let line { return "\(file): line \(line): \(message)" }
        return message
    }
}

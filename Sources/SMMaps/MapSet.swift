// SMMaps/MapSet.swift
//
// The maps of one loaded configuration, built from its K lines.
// (Stub: the map classes are being written.)
import SMBase
import SMRules

public final class MapSet: MapProvider {
    private var maps: [[UInt8]: RewriteMap] = [:]
    public private(set) var diagnostics: [Diagnostic] = []

    public init(declarations: [MapDeclaration]) {}

    public func map(named name: [UInt8]) -> RewriteMap? { maps[name.asciiLowercased] }
}

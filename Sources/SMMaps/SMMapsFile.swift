// SMMaps/SMMapsFile.swift
//
// Public whole-file byte reads for the small tools (praliases reads the
// cf's AliasFile lines with it).  Promises: nil with errno set when the
// file cannot be read.
public enum SMMapsFile {
    public static func read(_ path: String) -> [UInt8]? { FileBytes.read(path) }
}

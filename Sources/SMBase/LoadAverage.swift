// SMBase/LoadAverage.swift
//
// The one-minute load average as sendmail 8.17 on Linux reads it
// (getla() with LA_PROCSTR): the first number of /proc/loadavg, rounded
// to the nearest whole number.  Reading the file (rather than glibc's
// getloadavg(), which asks sysinfo()) means both binaries see the same
// value wherever /proc/loadavg is replaced, as the differential tests'
// sandbox does.  Promises: never fails; 0 when nothing can be read.

import Glibc

public func systemLoadAverage() -> Int {
    let fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 64)
        let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, 63) }
        if n > 0, let value = parseLeadingDecimal(buf[0..<n]) { return Int(value + 0.5) }
    }
    var la = [Double](repeating: 0, count: 3)
    return getloadavg(&la, 3) > 0 ? Int(la[0] + 0.5) : 0
}

/// "12.34 ..." -> 12.34; nil without a leading digit.
func parseLeadingDecimal(_ bytes: ArraySlice<UInt8>) -> Double? {
    var whole = 0.0, fraction = 0.0, scale = 1.0, digits = 0, inFraction = false
    for b in bytes {
        if b >= 0x30 && b <= 0x39 {
            digits += 1
            if inFraction { scale /= 10; fraction += Double(b - 0x30) * scale } else { whole = whole * 10 + Double(b - 0x30) }
        } else if b == UInt8(ascii: ".") && !inFraction {
            inFraction = true
        } else { break }
    }
    return digits > 0 ? whole + fraction : nil
}

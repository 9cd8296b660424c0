#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decimal text to Double, correctly rounded, without building a String.
///
/// Fast path (Clinger, 1990): when the decimal significand m has at most 19 digits, m ≤ 2^53
/// and the decimal exponent e satisfies |e| ≤ 22, both m and 10^|e| are exact Doubles, so
/// one IEEE multiplication or division, m × 10^e or m / 10^-e, is the correctly rounded result.
/// Every other number (typically the 17-digit output of `repr`) goes to the C library's
/// `strtod`, which glibc rounds correctly, on a NUL-terminated copy of exactly the bytes
/// that form the number.
enum DecimalNumber {
    /// 10^0 ... 10^22: the powers of ten that are exact in binary64.
    static let exactPowers: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }

    /// Scans a number starting at `p[i]` (i < end) and returns its value and the index just past
    /// it, or nil when the bytes there do not start a number of the accepted grammar.
    ///
    /// Strict (JSON): `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    /// Lenient (CSV) also accepts a leading `+`, leading zeros, and a missing integer or
    /// fraction part (`.5`, `5.`), but never a number without any digit.
    @inline(__always)
    static func scan(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, lenient: Bool = false) -> (value: Double, next: Int)? {
        var i = start
        var negative = false
        if i < end && p[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        else if lenient && i < end && p[i] == UInt8(ascii: "+") { i += 1 }
        var m: UInt64 = 0
        var significant = 0      // digits accumulated into m (after leading zeros)
        var dropped = 0          // integer digits beyond 19 (each multiplies by 10)
        var truncated = false    // a non-zero digit did not fit into m
        var exponent = 0
        let intStart = i
        while i < end && isDigit(p[i]) {
            let d = UInt64(p[i] &- 48)
            if significant < 19 { if m != 0 || d != 0 { m = m &* 10 &+ d; significant += m == 0 ? 0 : 1 } }
            else { dropped += 1; if d != 0 { truncated = true } }
            i += 1
        }
        let intDigits = i - intStart
        if !lenient {
            if intDigits == 0 { return nil }
            if intDigits > 1 && p[intStart] == UInt8(ascii: "0") { return nil }
        }
        var fracDigits = 0
        if i < end && p[i] == UInt8(ascii: ".") {
            i += 1
            let fracStart = i
            while i < end && isDigit(p[i]) {
                let d = UInt64(p[i] &- 48)
                if significant < 19 {
                    if m != 0 || d != 0 { m = m &* 10 &+ d; significant += 1 }
                    exponent -= 1
                } else if d != 0 { truncated = true }
                i += 1
            }
            fracDigits = i - fracStart
            if fracDigits == 0 && !lenient { return nil }
        }
        if intDigits + fracDigits == 0 { return nil }
        if i < end && (p[i] | 0x20) == UInt8(ascii: "e") {
            i += 1
            var expNegative = false
            if i < end && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { expNegative = p[i] == UInt8(ascii: "-"); i += 1 }
            let expStart = i
            var e = 0
            while i < end && isDigit(p[i]) { if e < 100_000 { e = e * 10 + Int(p[i] &- 48) }; i += 1 }
            if i == expStart { return nil }
            exponent += expNegative ? -e : e
        }
        exponent += dropped
        if m == 0 && !truncated { return (negative ? -0.0 : 0.0, i) }
        if !truncated && m <= 1 << 53 && exponent >= -22 && exponent <= 22 {
            let v = Double(m)
            let r = exponent >= 0 ? v * exactPowers[exponent] : v / exactPowers[-exponent]
            return (negative ? -r : r, i)
        }
        return (strtodCopy(p + start, i - start), i)
    }

    /// `strtod` on a NUL-terminated copy of `count` bytes (already known to be a number).
    static func strtodCopy(_ p: UnsafePointer<UInt8>, _ count: Int) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buf in
            for k in 0..<count { buf[k] = CChar(bitPattern: p[k]) }
            buf[count] = 0
            return strtod(buf.baseAddress!, nil)
        }
    }

    /// The non-finite spellings a user's file may contain: `NaN`, `Infinity`, `-Infinity` (what
    /// Python's json module writes) and, case-insensitively, `nan`, `inf`, `-inf`, `+inf`.
    /// Returns the value and the index past the word, or nil.
    static func scanNonFinite(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (value: Double, next: Int)? {
        var i = start
        var sign = 1.0
        if i < end && (p[i] == UInt8(ascii: "-") || p[i] == UInt8(ascii: "+")) { sign = p[i] == UInt8(ascii: "-") ? -1 : 1; i += 1 }
        func word(_ w: String) -> Bool {
            let bytes = Array(w.utf8)
            guard end - i >= bytes.count else { return false }
            for k in 0..<bytes.count where (p[i + k] | 0x20) != bytes[k] { return false }
            return true
        }
        if word("infinity") { return (sign * .infinity, i + 8) }
        if word("inf") { return (sign * .infinity, i + 3) }
        if word("nan") { return (.nan, i + 3) }
        return nil
    }
}

/// Escaping: every text that is not our own markup passes through here before it reaches a
/// page. Generated samples may contain `<`, `&`, quotes, control characters or (after a
/// lossy decode) U+FFFD; none of it may become markup.
public enum HTML {
    /// Escapes text for an element's content or a quoted attribute value.
    ///
    /// `& < > " '` become entities; C0 control characters other than tab, newline and carriage
    /// return (which HTML forbids) and U+007F become U+FFFD, as do lone surrogates (Swift
    /// strings cannot hold them, so invalid UTF-8 already arrives as U+FFFD).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Decodes bytes as UTF-8, replacing invalid sequences with U+FFFD.
    public static func lossyUTF8<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        String(decoding: Array(bytes), as: UTF8.self)
    }
}

/// Formats numbers for people: enough significant digits to compare two values that agree
/// to rounding level, scientific notation for very large or small magnitudes.
public enum NumberFormat {
    public static func format(_ x: Double, significant: Int = 6) -> String {
        if x.isNaN { return "NaN" }
        if x == .infinity { return "∞" }
        if x == -.infinity { return "−∞" }
        if x == 0 { return "0" }
        let a = Swift.abs(x)
        // One format for small numbers: below 10⁻³ always scientific (never 0.0000123).
        if a >= 1e-3 && a < 1e7 {
            let s = formatFixed(x, significant: significant)
            return s
        }
        return formatScientific(x, significant: significant)
    }

    /// As `format`, but a value within `allowance` of zero (its stated rounding allowance) is
    /// shown as 0, so that rounding noise never reads as a negative KL or a cumulant of 10⁻¹⁸.
    public static func format(_ x: Double, significant: Int = 6, zeroWithin allowance: Double) -> String {
        Swift.abs(x) <= allowance ? "0" : format(x, significant: significant)
    }

    /// Full precision (17 significant digits) for values that must be compared digit by digit.
    public static func precise(_ x: Double) -> String {
        x.isFinite ? formatScientific(x, significant: 17) : format(x)
    }

    static func formatFixed(_ x: Double, significant: Int) -> String {
        let a = Swift.abs(x)
        let magnitude = Int((log10(a)).rounded(.down))
        let decimals = max(0, significant - 1 - magnitude)
        var s = fixed(x, decimals: min(decimals, 15))
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return s.replacingMinus()
    }

    static func formatScientific(_ x: Double, significant: Int) -> String {
        let a = Swift.abs(x)
        var e = Int((log10(a)).rounded(.down))
        // 10^e underflows below 10^-308: scale a subnormal magnitude up first.
        var m = e < -300 ? (a * 1e300) / pow10(e + 300) : a / pow10(e)
        if m >= 10 { m /= 10; e += 1 }
        var ms = fixed(m, decimals: significant - 1)
        if ms.hasPrefix("10") { ms = fixed(1, decimals: significant - 1); e += 1 }
        if ms.contains(".") {
            while ms.hasSuffix("0") { ms.removeLast() }
            if ms.hasSuffix(".") { ms.removeLast() }
        }
        return (x < 0 ? "−" : "") + ms + "×10" + superscript(e)
    }

    /// x with exactly `decimals` digits after the point, correctly rounded via Swift's
    /// shortest-representation printing of the rounded value.
    static func fixed(_ x: Double, decimals: Int) -> String {
        let scale = pow10(decimals)
        let r = (x * scale).rounded() / scale
        var s = "\(r)"
        if s.contains("e") {   // Swift prints 1e-05 style for small numbers
            return scientificToFixed(r, decimals: decimals)
        }
        if let dot = s.firstIndex(of: ".") {
            let have = s.distance(from: dot, to: s.endIndex) - 1
            if have < decimals { s += String(repeating: "0", count: decimals - have) }
            if decimals == 0 { s = String(s[..<dot]) }
        }
        return s
    }

    static func scientificToFixed(_ x: Double, decimals: Int) -> String {
        let neg = x < 0
        let scaled = (Swift.abs(x) * pow10(decimals)).rounded()
        var digits = String(UInt64(scaled))
        if digits.count <= decimals { digits = String(repeating: "0", count: decimals - digits.count + 1) + digits }
        let cut = digits.index(digits.endIndex, offsetBy: -decimals)
        let s = decimals > 0 ? digits[..<cut] + "." + digits[cut...] : Substring(digits)
        return (neg ? "-" : "") + s
    }

    static func pow10(_ e: Int) -> Double {
        var r = 1.0
        if e >= 0 { for _ in 0..<e { r *= 10 } } else { for _ in 0..<(-e) { r /= 10 } }
        return r
    }

    static func log10(_ x: Double) -> Double { _log10(x) }

    static func superscript(_ n: Int) -> String {
        let map: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵",
                                           "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
        return String(String(n).map { map[$0]! })
    }
}

extension String {
    /// Replaces a leading ASCII hyphen-minus with a true minus sign for display.
    func replacingMinus() -> String { hasPrefix("-") ? "−" + dropFirst() : self }
}

/// Bad input found while reading a user's file: always one line, naming the file, the line
/// (or range of lines) and the field, so that the user can open the file and fix it.
///
/// The tool prints `description` on standard error and exits 2, before any output is written.
public struct InputProblem: Error, CustomStringConvertible, Equatable {
    /// The file as the user named it.
    public let file: String
    /// "17", "2-1001" (a whole column) or nil (the file as a whole, e.g. empty).
    public let line: String?
    /// The column or JSON key, or nil when the problem is not about one field.
    public let field: String?
    public let reason: String

    public init(file: String, line: String?, field: String?, reason: String) {
        self.file = file; self.line = line; self.field = field; self.reason = reason
    }

    public init(file: String, line: Int, field: String?, reason: String) {
        self.init(file: file, line: String(line), field: field, reason: reason)
    }

    /// `FILE:LINE: field 'F': reason`, on one line whatever the reason contains.
    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let field { s += ": field '\(field)'" }
        s += ": " + reason
        return String(s.map { $0.isNewline ? " " : $0 })
    }
}

/// Shows up to `limit` bytes of a line in an error message, control characters replaced.
func excerpt(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int = 40) -> String {
    let cut = bytes.count > limit ? Array(bytes.prefix(limit)) : Array(bytes)
    var s = String(decoding: cut, as: UTF8.self).map { $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7F) ? "?" : $0 }
    if bytes.count > limit { s += "…" }
    return "\"" + String(s) + "\""
}

/// The checks every number read from a user's file goes through: what a value may be for the
/// role it plays. Returns the reason it is unacceptable, or nil.
public enum ValueRule: Sendable {
    /// A reward: any finite number.
    case finite
    /// A log-probability that may be -∞ (probability 0) but not NaN or +∞.
    case logProbabilityOrMinusInfinity
    /// A log-probability that must be finite; `minusInfinity` says why -∞ cannot be.
    case finiteLogProbability(minusInfinity: String)

    public func problem(with x: Double) -> String? {
        if x.isNaN { return "NaN is not a number this tool can use" }
        switch self {
        case .finite:
            return x.isFinite ? nil : "\(x > 0 ? "+" : "-")infinity is not a finite reward"
        case .logProbabilityOrMinusInfinity:
            return x == .infinity ? "+infinity is not a log-probability (a probability is at most 1)" : nil
        case .finiteLogProbability(let why):
            if x == .infinity { return "+infinity is not a log-probability (a probability is at most 1)" }
            if x == -.infinity { return "-infinity: " + why }
            return nil
        }
    }
}

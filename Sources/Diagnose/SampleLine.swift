import Foundation

/// One line of a samples file: a JSON object with the sequence-level log-probabilities an RLHF
/// trainer logs for a completion x, and its reward:
///
///     {"logp_ref": log π0(x), "logp_policy": log π(x), "reward": r(x)}
///
/// Other keys (the prompt, the text, a step number...) may be present and are skipped. A key
/// that is absent is nil here; which keys a file must have is the caller's rule.
public struct SampleLine: Equatable, Sendable {
    public var logpRef: Double?
    public var logpPolicy: Double?
    public var reward: Double?
    public init(logpRef: Double? = nil, logpPolicy: Double? = nil, reward: Double? = nil) {
        self.logpRef = logpRef; self.logpPolicy = logpPolicy; self.reward = reward
    }

    /// The JSON keys, as they must be spelled in the file.
    public static let keys = ["logp_ref", "logp_policy", "reward"]
}

/// Why a line could not be read: the field (JSON key) when the problem is in one value.
public struct LineProblem: Error, Equatable {
    public let field: String?
    public let reason: String
    public init(field: String?, _ reason: String) { self.field = field; self.reason = reason }
}

// MARK: - The fast parser

/// A hand-written parser for one JSON object per line, fast enough for 10^7 lines a minute
/// many times over: one pass over the bytes, no allocation, numbers converted by
/// `DecimalNumber` (correctly rounded). It accepts exactly RFC 8259 objects, plus the words
/// NaN, Infinity and -Infinity that Python's json module writes, so that such a value is
/// reported as what it is rather than as a syntax error.
public enum FastSampleParser {
    static let keyBytes: [[UInt8]] = SampleLine.keys.map { Array($0.utf8) }

    public static func parse(_ line: UnsafeBufferPointer<UInt8>) throws(LineProblem) -> SampleLine {
        guard let p = line.baseAddress, line.count > 0 else { throw LineProblem(field: nil, "empty line, expected a JSON object") }
        let end = line.count
        var i = 0
        var out = SampleLine()
        @inline(__always) func skipSpace() { while i < end && (p[i] == 0x20 || p[i] == 0x09 || p[i] == 0x0D) { i += 1 } }
        skipSpace()
        guard i < end && p[i] == UInt8(ascii: "{") else { throw LineProblem(field: nil, "expected a JSON object starting with '{', found \(excerpt(line))") }
        i += 1
        skipSpace()
        if i < end && p[i] == UInt8(ascii: "}") { i += 1 } else {
            while true {
                skipSpace()
                guard i < end && p[i] == UInt8(ascii: "\"") else { throw LineProblem(field: nil, "expected a quoted key at byte \(i + 1)") }
                let keyStart = i + 1
                guard let keyEnd = endOfString(p, keyStart, end) else { throw LineProblem(field: nil, "unterminated string at byte \(i + 1)") }
                i = keyEnd + 1
                skipSpace()
                guard i < end && p[i] == UInt8(ascii: ":") else { throw LineProblem(field: nil, "expected ':' after a key at byte \(i + 1)") }
                i += 1
                skipSpace()
                let which = knownKey(p, keyStart, keyEnd)
                if which >= 0 {
                    let name = SampleLine.keys[which]
                    let (value, next) = try number(p, i, end, field: name, line: line)
                    i = next
                    switch which {
                    case 0: if out.logpRef != nil { throw LineProblem(field: name, "appears twice") }; out.logpRef = value
                    case 1: if out.logpPolicy != nil { throw LineProblem(field: name, "appears twice") }; out.logpPolicy = value
                    default: if out.reward != nil { throw LineProblem(field: name, "appears twice") }; out.reward = value
                    }
                } else {
                    i = try skipValue(p, i, end)
                }
                skipSpace()
                guard i < end else { throw LineProblem(field: nil, "the object is not closed: missing '}'") }
                if p[i] == UInt8(ascii: ",") { i += 1; continue }
                if p[i] == UInt8(ascii: "}") { i += 1; break }
                throw LineProblem(field: nil, "expected ',' or '}' at byte \(i + 1), found \(excerpt(UnsafeBufferPointer(rebasing: line[i...]), limit: 12))")
            }
        }
        skipSpace()
        guard i == end else { throw LineProblem(field: nil, "unexpected text after the object at byte \(i + 1): \(excerpt(UnsafeBufferPointer(rebasing: line[i...]), limit: 12))") }
        return out
    }

    /// Index of the closing quote of a string whose body starts at `i`, or nil.
    @inline(__always)
    static func endOfString(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int? {
        var i = start
        while i < end {
            let b = p[i]
            if b == UInt8(ascii: "\"") { return i }
            if b == UInt8(ascii: "\\") { i += 2; continue }
            if b < 0x20 { return nil }   // raw control characters are not allowed in JSON strings
            i += 1
        }
        return nil
    }

    /// 0, 1, 2 for logp_ref, logp_policy, reward (compared byte for byte, or after decoding
    /// its escapes when the key has any: `"logp\u005fref"` is `logp_ref`), -1 otherwise.
    @inline(__always)
    static func knownKey(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        for j in start..<end where p[j] == UInt8(ascii: "\\") {
            guard let key = unescaped(UnsafeBufferPointer(start: p + start, count: end - start)) else { return -1 }
            return SampleLine.keys.firstIndex(of: key) ?? -1
        }
        let n = end - start
        for (k, key) in keyBytes.enumerated() where key.count == n {
            var same = true
            for j in 0..<n where p[start + j] != key[j] { same = false; break }
            if same { return k }
        }
        return -1
    }

    /// A JSON string body with its escapes decoded (surrogate pairs joined), or nil if malformed.
    static func unescaped(_ body: UnsafeBufferPointer<UInt8>) -> String? {
        var utf8: [UInt8] = []
        var pending: [UInt16] = []   // \uXXXX code units not yet decoded
        func flush() -> Bool {
            defer { pending.removeAll() }
            var ok = true
            var decoder = UTF16()
            var it = pending.makeIterator()
            loop: while true {
                switch decoder.decode(&it) {
                case .scalarValue(let u): utf8 += Array(String(Character(u)).utf8)
                case .emptyInput: break loop
                case .error: ok = false; break loop
                }
            }
            return ok
        }
        let simple: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]
        var i = 0
        while i < body.count {
            if body[i] == UInt8(ascii: "\\"), i + 5 < body.count, body[i + 1] == UInt8(ascii: "u"),
               body[(i + 2)..<(i + 6)].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
               let v = UInt16(String(decoding: body[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16) {
                pending.append(v)
                i += 6
                continue
            }
            guard flush() else { return nil }
            if body[i] == UInt8(ascii: "\\") {
                guard i + 1 < body.count, let m = simple[body[i + 1]] else { return nil }
                utf8.append(m)
                i += 2
            } else {
                utf8.append(body[i])
                i += 1
            }
        }
        guard flush() else { return nil }
        return String(validating: utf8, as: UTF8.self)
    }

    /// The number at `i`, with one-line reasons for the values that are not numbers.
    @inline(__always)
    static func number(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int, field: String, line: UnsafeBufferPointer<UInt8>) throws(LineProblem) -> (Double, Int) {
        guard i < end else { throw LineProblem(field: field, "missing value") }
        if let (v, next) = DecimalNumber.scan(p, i, end), next == end || isDelimiter(p[next]) { return (v, next) }
        if let (v, next) = DecimalNumber.scanNonFinite(p, i, end), next == end || isDelimiter(p[next]) { return (v, next) }
        let rest = UnsafeBufferPointer(rebasing: line[i...])
        if p[i] == UInt8(ascii: "\"") { throw LineProblem(field: field, "a string, not a number: \(excerpt(rest, limit: 24))") }
        if rest.starts(with: "null".utf8) { throw LineProblem(field: field, "null, not a number") }
        throw LineProblem(field: field, "not a number: \(excerpt(rest, limit: 24))")
    }

    @inline(__always) static func isDelimiter(_ b: UInt8) -> Bool {
        b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == 0x20 || b == 0x09 || b == 0x0D
    }

    /// Skips any JSON value (string, number, literal, nested object or array) starting at `i`.
    static func skipValue(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) throws(LineProblem) -> Int {
        var i = start
        var depth = 0
        repeat {
            guard i < end else { throw LineProblem(field: nil, "a value is cut off at the end of the line") }
            let b = p[i]
            if b == UInt8(ascii: "\"") {
                guard let close = endOfString(p, i + 1, end) else { throw LineProblem(field: nil, "unterminated string at byte \(i + 1)") }
                i = close + 1
            } else if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                depth += 1; i += 1
            } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                guard depth > 0 else { throw LineProblem(field: nil, "unexpected '\(Character(UnicodeScalar(b)))' at byte \(i + 1)") }
                depth -= 1; i += 1
            } else if depth > 0 {
                i += 1   // commas, colons, spaces, numbers and literals inside a nested value
            } else {
                // A bare number or literal: it must be one of the JSON forms.
                if let (_, next) = DecimalNumber.scan(p, i, end) { i = next }
                else if let (_, next) = DecimalNumber.scanNonFinite(p, i, end) { i = next }
                else if let next = literal(p, i, end) { i = next }
                else { throw LineProblem(field: nil, "not a JSON value at byte \(i + 1)") }
            }
        } while depth > 0
        return i
    }

    static func literal(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int? {
        for word in ["true", "false", "null"] {
            let w = Array(word.utf8)
            if end - i >= w.count && (0..<w.count).allSatisfy({ p[i + $0] == w[$0] }) { return i + w.count }
        }
        return nil
    }
}

// MARK: - The reference parser

/// The readable reference: Foundation's JSONDecoder into a Decodable struct. Slow (a decoder
/// and a dictionary a line); the tests check that the fast parser agrees with it bit for bit
/// and on which lines are malformed. (JSONDecoder rounds decimals correctly; Foundation's older
/// JSONSerialization on Linux does not: it is off by up to ~6 ulps on long decimals.)
public enum ReferenceSampleParser {
    struct Fields: Decodable {
        let logp_ref: Double?
        let logp_policy: Double?
        let reward: Double?
    }

    public static func parse(_ line: String) throws(LineProblem) -> SampleLine {
        do {
            let f = try JSONDecoder().decode(Fields.self, from: Data(line.utf8))
            return SampleLine(logpRef: f.logp_ref, logpPolicy: f.logp_policy, reward: f.reward)
        } catch let DecodingError.typeMismatch(_, context) {
            throw LineProblem(field: context.codingPath.last?.stringValue, "not a number")
        } catch {
            throw LineProblem(field: nil, "not a JSON object with numeric fields")
        }
    }
}

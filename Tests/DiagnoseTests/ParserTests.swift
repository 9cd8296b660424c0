@testable import Diagnose
import Foundation
import GSL
import Testing

/// The fast line parser against the readable reference (Foundation's JSONDecoder), and
/// the decimal conversion against Swift's own correctly rounded `Double(String)`.
@Suite("diagnose: parsers")
struct ParserTests {
    func fast(_ line: String) -> Result<SampleLine, LineProblem> {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { b in
            Result { () throws(LineProblem) in try FastSampleParser.parse(UnsafeBufferPointer(b)) }
        }
    }

    func reference(_ line: String) -> Result<SampleLine, LineProblem> {
        Result { () throws(LineProblem) in try ReferenceSampleParser.parse(line) }
    }

    /// A random number as a trainer's logger might print it.
    func randomNumberText(_ rng: RandomGenerator) -> (String, Double) {
        let magnitude = [1e-300, 1e-20, 1e-5, 0.5, 3, 250, 1e6, 1e20, 1e300][rng.uniformInt(below: 9)]
        let x = (2 * rng.uniform() - 1) * magnitude
        switch rng.uniformInt(below: 7) {
        case 0: return ("\(x)", x)                                   // Swift/Python repr (shortest round trip)
        case 1: let s = String(format: "%.17g", x); return (s, Double(s)!)
        case 2: let s = String(format: "%.6f", x); return (s, Double(s)!)
        case 3: let s = String(format: "%.3e", x); return (s, Double(s)!)
        case 4: let s = String(format: "%.25e", x); return (s, Double(s)!)   // more digits than a Double holds
        case 5: let k = rng.uniformInt(below: 2_000_001) - 1_000_000; return ("\(k)", Double(k))
        default: let s = String(format: "%.15g", x); return (s, Double(s)!)
        }
    }

    @Test("fast and reference parsers agree on 20000 random well-formed lines, bit for bit", arguments: [11, 12])
    func agreeOnRandomLines(seed: UInt64) throws {
        let rng = RandomGenerator(seed: seed)
        let extras = ["\"prompt\": \"say \\\"hi\\\", {not: a key}\"", "\"step\": 12", "\"tags\": [1, {\"a\": [2, 3]}, \"x\"]",
                      "\"ok\": true", "\"none\": null", "\"nested\": {\"logp_ref\": \"inner, ignored\"}", "\"e\": -1.5E+3"]
        for _ in 0..<10_000 {
            var parts: [String] = []
            var expected = SampleLine()
            for (k, key) in SampleLine.keys.enumerated() where rng.uniform() < 0.9 {
                let (text, value) = randomNumberText(rng)
                parts.append("\"\(key)\"\(rng.uniform() < 0.5 ? ":" : " : ")\(text)")
                switch k { case 0: expected.logpRef = value; case 1: expected.logpPolicy = value; default: expected.reward = value }
            }
            for e in extras where rng.uniform() < 0.2 { parts.append(e) }
            for i in stride(from: parts.count - 1, to: 0, by: -1) { parts.swapAt(i, rng.uniformInt(below: i + 1)) }
            let sep = rng.uniform() < 0.5 ? ", " : ","
            let line = (rng.uniform() < 0.3 ? "  " : "") + "{" + parts.joined(separator: sep) + "}" + (rng.uniform() < 0.3 ? " \r" : "")
            let f = fast(line), r = reference(line)
            guard case .success(let a) = f else { Issue.record("fast parser refused \(line): \(f)"); continue }
            guard case .success(let b) = r else { Issue.record("reference parser refused \(line): \(r)"); continue }
            #expect(a == b, "\(line)")
            #expect(a == expected, "\(line)")
            // Bit patterns too (== treats 0 and -0 alike).
            #expect(a.logpRef?.bitPattern == b.logpRef?.bitPattern && a.logpPolicy?.bitPattern == b.logpPolicy?.bitPattern
                    && a.reward?.bitPattern == b.reward?.bitPattern, "\(line)")
        }
    }

    /// Lines JSONDecoder accepts: a trailing comma (RFC 8259 forbids it), and null, which it
    /// reads as an absent optional (the fast parser refuses it as "null, not a number"; a
    /// required field that is absent is refused as missing, so the tool refuses both).
    static let foundationLenient: Set<String> = ["{\"logp_ref\": 1,}", "{\"logp_ref\": null}"]

    @Test("both parsers refuse malformed lines", arguments: [
        "", "   ", "{", "}", "[1, 2]", "\"logp_ref\": 1", "{\"logp_ref\": 1,}", "{\"logp_ref\" 1}", "{logp_ref: 1}",
        "{'logp_ref': 1}", "{\"logp_ref\": 1} x", "{\"logp_ref\": 1}{}", "{\"logp_ref\": 01}", "{\"logp_ref\": 1.}",
        "{\"logp_ref\": .5}", "{\"logp_ref\": +1}", "{\"logp_ref\": 0x10}", "{\"logp_ref\": 1e}", "{\"logp_ref\": -}",
        "{\"logp_ref\": \"1.5\"}", "{\"logp_ref\": null}", "{\"logp_ref\": true}", "{\"logp_ref\": [1]}", "{\"reward\": 1 2}",
        "{\"logp_ref\": 1, \"other\": [1, 2}", "{\"logp_ref\": 1, \"other\": \"unterminated}", "{\"a\": tru}", "{\"reward\": --1}",
    ])
    func malformed(line: String) {
        if case .success(let v) = fast(line) { Issue.record("fast parser accepted \(line) as \(v)") }
        if case .success(let v) = reference(line), !ParserTests.foundationLenient.contains(line) {
            Issue.record("reference parser accepted \(line) as \(v)")
        }
    }

    @Test("NaN and infinities are read as such, so that the tool can name them")
    func nonFinite() throws {
        let a = try fast("{\"logp_ref\": NaN, \"logp_policy\": -Infinity, \"reward\": Infinity}").get()
        #expect(a.logpRef!.isNaN)
        #expect(a.logpPolicy == -.infinity && a.reward == .infinity)
    }

    @Test("the reason names the field", arguments: [
        ("{\"logp_ref\": \"x\"}", "logp_ref"), ("{\"reward\": null}", "reward"), ("{\"logp_policy\": 1, \"logp_policy\": 2}", "logp_policy"),
        ("{\"reward\": abc}", "reward"),
    ])
    func fieldNamed(line: String, field: String) {
        guard case .failure(let e) = fast(line) else { Issue.record("accepted \(line)"); return }
        #expect(e.field == field)
    }

    @Test("decimal conversion is correctly rounded: 200000 random decimal strings against Double(String)")
    func decimalConversion() {
        let rng = RandomGenerator(seed: 99)
        for _ in 0..<200_000 {
            let digits = 1 + rng.uniformInt(below: 25)
            var s = rng.uniform() < 0.5 ? "-" : ""
            let point = rng.uniformInt(below: digits + 1)
            for k in 0..<digits {
                if k == point && k > 0 { s += "." }
                s += String(k == 0 ? 1 + rng.uniformInt(below: 9) : rng.uniformInt(below: 10))
            }
            if rng.uniform() < 0.5 { s += "e\(rng.uniformInt(below: 640) - 320)" }
            let expected = Double(s)!
            var bytes = Array(s.utf8)
            let got = bytes.withUnsafeMutableBufferPointer { b in DecimalNumber.scan(UnsafePointer(b.baseAddress!), 0, b.count) }
            #expect(got?.value.bitPattern == expected.bitPattern && got?.next == s.utf8.count, "\(s): \(String(describing: got?.value)) vs \(expected)")
        }
    }

    @Test("the line reader sees every line, across chunk boundaries, with CRLF, a BOM, a missing final newline and a long line")
    func lineReader() throws {
        let folder = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var lines: [String] = []
        let rng = RandomGenerator(seed: 5)
        for k in 0..<50_000 { lines.append(String(repeating: "x", count: rng.uniformInt(below: 90)) + "\(k)") }
        lines[777] = String(repeating: "y", count: 3 * LineReader.chunkSize)   // longer than a chunk
        let text = "\u{FEFF}" + lines.joined(separator: "\r\n")                  // no final newline
        let path = try write(text, "lines.txt", in: folder)
        var seen: [String] = []
        let count = try LineReader.forEachLine(path: path, name: "lines.txt") { (line, number) throws(InputProblem) in
            seen.append(String(decoding: line, as: UTF8.self))
            if number != seen.count { throw InputProblem(file: "lines.txt", line: number, field: nil, reason: "numbering") }
        }
        #expect(count == lines.count)
        #expect(seen == lines)
    }
}

import Foundation

/// Exact mode's input: a CSV table with one row per outcome x of a finite space.
///
///     log_prior,reward,log_policy,label
///     -1.2,0.5,-0.9,"a, quoted label"
///
/// `log_prior` is log π0(x) up to a constant (normalised here), `reward` is r(x), the optional
/// `log_policy` is log π(x) (it must normalise), the optional `label` names the row. Column
/// names are matched without regard to case or surrounding spaces; other columns are ignored.
/// Fields follow RFC 4180 (double quotes, "" for a quote inside); a quoted field may hold
/// line breaks, and a message names the line where its row starts.
public struct ExactTable: Sendable {
    public var logPrior: [Double] = []
    public var reward: [Double] = []
    public var logPolicy: [Double]?
    public var labels: [String]?
    /// Line number in the file of each row (for error messages).
    public var lines: [Int] = []
    public var count: Int { reward.count }

    public init(logPrior: [Double], reward: [Double], logPolicy: [Double]? = nil, labels: [String]? = nil) {
        self.logPrior = logPrior; self.reward = reward; self.logPolicy = logPolicy; self.labels = labels
        lines = (0..<reward.count).map { $0 + 2 }
    }

    init() {}

    /// Reads and validates the table; every problem is an `InputProblem` naming line and field.
    public static func read(path: String, name: String) throws(InputProblem) -> ExactTable {
        var table = ExactTable()
        var columns: (prior: Int, reward: Int, policy: Int?, label: Int?, count: Int)?
        var fields: [Range<Int>] = []
        fields.reserveCapacity(8)
        // A row whose quoted field holds line breaks (completion text, as Python's csv.writer
        // writes it) is gathered here until its quotes close; it is named by its first line.
        var pending: [UInt8] = [], pendingLine = 0
        func row(_ line: UnsafeBufferPointer<UInt8>, _ number: Int) throws(InputProblem) {
            guard let c = columns else {
                columns = try header(line, fields, file: name, line: number)
                if columns!.policy != nil { table.logPolicy = [] }
                if columns!.label != nil { table.labels = [] }
                return
            }
            guard fields.count == c.count else {
                throw InputProblem(file: name, line: number, field: nil, reason: "has \(fields.count) fields, the header has \(c.count)")
            }
            table.logPrior.append(try numberField(line, fields[c.prior], "log_prior", .logProbabilityOrMinusInfinity, name, number))
            table.reward.append(try numberField(line, fields[c.reward], "reward", .finite, name, number))
            if let p = c.policy { table.logPolicy!.append(try numberField(line, fields[p], "log_policy", .logProbabilityOrMinusInfinity, name, number)) }
            if let l = c.label { table.labels!.append(text(line, fields[l])) }
            table.lines.append(number)
        }
        try LineReader.forEachLine(path: path, name: name) { (line, number) throws(InputProblem) in
            if pending.isEmpty {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                if split(line, into: &fields) { return try row(line, number) }
                pending = Array(line); pendingLine = number
                return
            }
            pending.append(0x0A)
            pending += line
            guard pending.count <= LineReader.maximumLineLength else {
                throw InputProblem(file: name, line: pendingLine, field: nil, reason: "a quoted field opened on this line runs on for more than \(LineReader.maximumLineLength) bytes")
            }
            let closed = pending.withUnsafeBufferPointer { split($0, into: &fields) }
            guard closed else { return }
            let gathered = pending
            pending = []
            try gathered.withUnsafeBufferPointer { (b: UnsafeBufferPointer<UInt8>) throws(InputProblem) in try row(b, pendingLine) }
        }
        if !pending.isEmpty {
            throw InputProblem(file: name, line: pendingLine, field: nil, reason: "a quoted field opened on this line is not closed by the end of the file")
        }
        guard columns != nil else { throw InputProblem(file: name, line: nil, field: nil, reason: "the file is empty (expected a header line and at least one row)") }
        guard table.count > 0 else { throw InputProblem(file: name, line: nil, field: nil, reason: "no rows below the header") }
        return table
    }

    /// The line range of all rows, for problems with a whole column ("2-1001").
    public var lineRange: String { lines.count == 1 ? "\(lines[0])" : "\(lines.first!)-\(lines.last!)" }

    static func header(_ line: UnsafeBufferPointer<UInt8>, _ fields: [Range<Int>], file: String, line number: Int) throws(InputProblem) -> (Int, Int, Int?, Int?, Int) {
        let names = fields.map { text(line, $0).trimmingSpaces.lowercased() }
        func index(_ column: String, required: Bool) throws(InputProblem) -> Int? {
            let hits = names.indices.filter { names[$0] == column }
            if hits.count > 1 { throw InputProblem(file: file, line: number, field: column, reason: "the header names this column twice") }
            if hits.isEmpty && required {
                throw InputProblem(file: file, line: number, field: column, reason: "missing column (the header has: \(names.joined(separator: ", ")))")
            }
            return hits.first
        }
        return (try index("log_prior", required: true)!, try index("reward", required: true)!,
                try index("log_policy", required: false), try index("label", required: false), fields.count)
    }

    static func numberField(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ field: String, _ rule: ValueRule,
                       _ file: String, _ number: Int) throws(InputProblem) -> Double {
        var lo = range.lowerBound, hi = range.upperBound
        let p = line.baseAddress!
        if hi - lo >= 2 && p[lo] == UInt8(ascii: "\"") && p[hi - 1] == UInt8(ascii: "\"") { lo += 1; hi -= 1 }
        while lo < hi && (p[lo] == 0x20 || p[lo] == 0x09) { lo += 1 }
        while hi > lo && (p[hi - 1] == 0x20 || p[hi - 1] == 0x09) { hi -= 1 }
        guard hi > lo else { throw InputProblem(file: file, line: number, field: field, reason: "empty") }
        var value: Double?
        if let (v, next) = DecimalNumber.scan(p, lo, hi, lenient: true), next == hi { value = v }
        else if let (v, next) = DecimalNumber.scanNonFinite(p, lo, hi), next == hi { value = v }
        guard let v = value else {
            throw InputProblem(file: file, line: number, field: field, reason: "not a number: \(excerpt(UnsafeBufferPointer(rebasing: line[lo..<hi]), limit: 24))")
        }
        if let why = rule.problem(with: v) { throw InputProblem(file: file, line: number, field: field, reason: why) }
        return v
    }

    /// A field's text, unquoted ("" inside quotes becomes ").
    static func text(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let raw = String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
        let t = raw.trimmingSpaces
        if t.count >= 2 && t.hasPrefix("\"") && t.hasSuffix("\"") {
            return String(t.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
        }
        return t
    }

    /// Splits a CSV row into field ranges (quotes included), RFC 4180 style; false when a
    /// quoted field is still open at the end (the row continues on the next line).
    static func split(_ line: UnsafeBufferPointer<UInt8>, into fields: inout [Range<Int>]) -> Bool {
        fields.removeAll(keepingCapacity: true)
        var start = 0, i = 0, quoted = false
        while i < line.count {
            let b = line[i]
            if quoted {
                if b == UInt8(ascii: "\"") {
                    if i + 1 < line.count && line[i + 1] == UInt8(ascii: "\"") { i += 2; continue }
                    quoted = false
                }
            } else if b == UInt8(ascii: "\"") {
                quoted = true
            } else if b == UInt8(ascii: ",") {
                fields.append(start..<i); start = i + 1
            }
            i += 1
        }
        fields.append(start..<line.count)
        return !quoted
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}

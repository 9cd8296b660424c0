import Foundation

// Reading a user's files: streaming lines, and the one-line problems that stop the run.

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

/// Streams a text file line by line in bounded memory: the file is read in chunks of
/// `chunkSize` bytes into one buffer, and each complete line is handed to the caller as a view
/// into that buffer (no copy, no String). The buffer grows only for a line longer than a
/// chunk, up to `maximumLineLength`.
///
/// Lines end with "\n"; a trailing "\r" is dropped (files from Windows), as is a UTF-8 byte
/// order mark at the start of the file. Line numbers count from 1 and include blank lines,
/// so they match what an editor shows.
public enum LineReader {
    public static let chunkSize = 1 << 20
    public static let maximumLineLength = 1 << 26

    /// Calls `body(line, number)` for every line of the file at `path` ("-" reads standard
    /// input, once); `name` is how errors refer to the file. Returns the number of lines.
    @discardableResult
    public static func forEachLine(path: String, name: String,
                                   _ body: (UnsafeBufferPointer<UInt8>, Int) throws(InputProblem) -> Void) throws(InputProblem) -> Int {
        let fd = path == "-" ? dup(STDIN_FILENO) : open(path, O_RDONLY)
        guard fd >= 0 else { throw InputProblem(file: name, line: nil, field: nil, reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            throw InputProblem(file: name, line: nil, field: nil, reason: "is a folder, not a file")
        }
        var capacity = chunkSize
        var buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var filled = 0          // bytes in the buffer
        var scanned = 0         // bytes already searched for "\n"
        var lineNumber = 0
        var first = true

        func emit(_ start: Int, _ stop: Int) throws(InputProblem) {
            var s = start, e = stop
            if e > s && buffer[e - 1] == 0x0D { e -= 1 }
            if first {
                first = false
                if e - s >= 3 && buffer[s] == 0xEF && buffer[s + 1] == 0xBB && buffer[s + 2] == 0xBF { s += 3 }
            }
            lineNumber += 1
            try body(UnsafeBufferPointer(start: buffer + s, count: e - s), lineNumber)
        }

        while true {
            if filled == capacity {
                guard capacity < maximumLineLength else {
                    throw InputProblem(file: name, line: lineNumber + 1, field: nil, reason: "line longer than \(maximumLineLength) bytes")
                }
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
                bigger.update(from: buffer, count: filled)
                buffer.deallocate()
                buffer = bigger
                capacity *= 2
            }
            let n = read(fd, buffer + filled, capacity - filled)
            if n < 0 {
                if errno == EINTR { continue }
                throw InputProblem(file: name, line: lineNumber + 1, field: nil, reason: "read error: \(String(cString: strerror(errno)))")
            }
            if n == 0 {
                if filled > 0 { try emit(0, filled) }
                return lineNumber
            }
            filled += n
            var start = 0
            while let hit = memchr(buffer + scanned, 0x0A, filled - scanned) {
                let nl = buffer.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                try emit(start, nl)
                start = nl + 1
                scanned = start
            }
            if start > 0 {
                filled -= start
                if filled > 0 { memmove(buffer, buffer + start, filled) }
            }
            scanned = filled
        }
    }
}

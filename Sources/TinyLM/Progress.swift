import Foundation

/// Progress of a long loop on standard error: a bar with an ETA rewritten in place on a
/// terminal, plain lines (at most one every `plainEvery` updates) when piped.
public final class ProgressReporter {
    let total: Int
    let label: String
    let isTerminal: Bool
    let plainEvery: Int
    let startTime: Date
    let startDone: Int
    /// When the bar was last drawn (a terminal is redrawn at most ten times a second).
    var lastDraw = Date.distantPast

    public init(total: Int, label: String, startingAt done: Int = 0, plainEvery: Int = 100, forceTerminal: Bool? = nil) {
        self.total = total
        self.label = label
        isTerminal = forceTerminal ?? (isatty(2) != 0)
        self.plainEvery = max(plainEvery, 1)
        startTime = Date()
        startDone = done
    }

    /// Reports `done` of `total` with a short status text (e.g. the loss).
    public func update(_ done: Int, status: String) {
        let elapsed = Date().timeIntervalSince(startTime)
        let rate = Double(done - startDone) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        if isTerminal {
            guard done == total || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = Date()
            let width = 24
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            writeStandardError("\r\(label) [\(bar)] \(done)/\(total) \(status) ETA \(Self.duration(eta))\u{1B}[K")
            if done == total { writeStandardError("\n") }
        } else if done % plainEvery == 0 || done == total {
            writeStandardError("\(label) \(done)/\(total) \(status) elapsed \(Self.duration(elapsed)) eta \(Self.duration(eta))\n")
        }
    }

    /// A one-off line (not overwritten on a terminal).
    public func note(_ text: String) {
        writeStandardError((isTerminal ? "\r\u{1B}[K" : "") + text + "\n")
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" : t >= 60 ? "\(t / 60)m\(String(format: "%02d", t % 60))s" : "\(t)s"
    }
}

/// Writes `text` to standard error with plain `write` (unbuffered; a closed or full stream
/// loses the text but never traps, unlike `FileHandle.write`).
public func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + done, $0.count - done) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        done += n
    }
}

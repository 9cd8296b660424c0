import Foundation

/// Progress of a long loop on standard error, with an estimate of the time left: a bar rewritten
/// in place on a terminal (at most ten times a second), plain lines when piped (one at least
/// `interval` seconds after the last, 10 by default, and one at the end), so that every stretch
/// of work longer than `interval` says how long it will take, in a log too.
public final class ProgressReporter {
    let total: Int
    let label: String
    let isTerminal: Bool
    let interval: Double
    let startTime: Date
    let startDone: Int
    /// The clock (a test's own, to step time by hand).
    let now: () -> Date
    /// Where the lines go (standard error; a test's own).
    let write: (String) -> Void
    /// When the bar was last drawn or the last plain line written.
    var lastDraw: Date

    public init(total: Int, label: String, startingAt done: Int = 0, interval: Double = 10, forceTerminal: Bool? = nil,
                now: @escaping () -> Date = Date.init, write: @escaping (String) -> Void = writeStandardError) {
        self.total = total
        self.label = label
        isTerminal = forceTerminal ?? (isatty(2) != 0)
        self.interval = interval
        self.now = now
        self.write = write
        startTime = now()
        lastDraw = isTerminal ? .distantPast : startTime
        startDone = done
    }

    /// Reports `done` of `total` with a short status text (e.g. the loss).
    public func update(_ done: Int, status: String) {
        let time = now()
        let elapsed = time.timeIntervalSince(startTime)
        let rate = Double(done - startDone) / max(elapsed, 1e-9)
        let eta = rate > 0 ? Self.duration(Double(total - done) / rate) : "unknown"
        let text = status.isEmpty ? "" : " \(status)"
        if isTerminal {
            guard done == total || time.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = time
            let width = 24
            let filled = total > 0 ? width * min(max(done, 0), total) / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            write("\r\(label) [\(bar)] \(done)/\(total)\(text) ETA \(eta)\u{1B}[K")
            if done == total { write("\n") }
        } else if done == total || time.timeIntervalSince(lastDraw) >= interval {
            lastDraw = time
            write("\(label) \(done)/\(total)\(text) elapsed \(Self.duration(elapsed)) eta \(eta)\n")
        }
    }

    /// A one-off line (not overwritten on a terminal).
    public func note(_ text: String) {
        write((isTerminal ? "\r\u{1B}[K" : "") + text + "\n")
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

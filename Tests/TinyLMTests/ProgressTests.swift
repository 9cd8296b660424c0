import Foundation
import Testing
@testable import TinyLM

/// Piped progress (a log) says how long is left at least every ten seconds of work, and its
/// estimate is the time left at the rate so far.
@Suite("Progress lines")
struct ProgressTests {
    /// A loop of 100 steps of 1.5 s each on a clock stepped by hand, with its lines kept.
    func run(steps: Int, secondsAStep: Double) -> [String] {
        var clock = Date(timeIntervalSince1970: 0)
        var lines: [String] = []
        let p = ProgressReporter(total: steps, label: "job", forceTerminal: false, now: { clock }, write: { lines.append($0) })
        for s in 1...steps {
            clock += secondsAStep
            p.update(s, status: "loss 1")
        }
        return lines
    }

    @Test func aPlainLineAtLeastEveryTenSecondsWithTheTimeLeft() {
        let lines = run(steps: 100, secondsAStep: 1.5)
        // 150 s of work: a line after 10.5, 21, ... 147 s (every seventh step) and one at the end
        #expect(lines.count == 100 / 7 + 1, "\(lines)")
        #expect(lines.first == "job 7/100 loss 1 elapsed 11s eta 2m20s\n", "\(lines.first ?? "")")
        #expect(lines.last == "job 100/100 loss 1 elapsed 2m30s eta 0s\n", "\(lines.last ?? "")")
        #expect(lines.allSatisfy { $0.contains(" eta ") })
    }

    @Test func aShortLoopWritesOneLineAtItsEnd() {
        let lines = run(steps: 20, secondsAStep: 0.2)
        #expect(lines == ["job 20/20 loss 1 elapsed 4s eta 0s\n"])
    }
}

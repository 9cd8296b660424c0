import Foundation
import Notebook
import Testing

@Suite("Chapter 1: distribution collapse")
struct Chapter01Tests {
    let product = "distribution-collapse"
    let slug = "01-distribution-collapse"

    @Test("passes every check for several seeds and sizes", arguments: [(2, 1), (3, 7), (200, 42), (1000, 2024)])
    func passes(outcomes: Int, seed: Int) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--outcomes", "\(outcomes)", "--seed", "\(seed)"])
    }

    @Test("a run too short to collapse fails every collapse and limit check with exit 1")
    func checksCanFail() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ChapterRunner.run(product, ["--quick", "--outcomes", "300", "--steps", "10", "--output", folder.path])
        #expect(result.status == 1)
        let report = try ChapterRunner.report(in: folder, slug: slug)
        let limits = ["entropy-to-zero", "kl-to-point-mass", "collision-to-one", "distinct-to-one", "reward-to-point-mass"]
        let mustFail = ["natural.collapses", "plain.collapses", "ties.mass-on-tied-set"]
            + ["natural", "plain"].flatMap { ascent in limits.map { "\(ascent).\($0)" } }
        for id in mustFail {
            let check = report.checks.first { $0.id == id }
            #expect(check != nil, "no check \(id)")
            #expect(check?.passed == false, "\(check?.sentence ?? id) should fail after 10 steps")
        }
        #expect(report.failed == mustFail.count, "only the collapse and limit checks should fail")
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        #expect(html.contains("checks fail"))
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--outcomes", "0"], "--outcomes"), (["--outcomes", "100001"], "--outcomes"),
        (["--outcomes=-3"], "--outcomes"), (["--outcomes", "many"], "many"), (["--steps", "1"], "--steps"),
        (["--step-size", "0"], "--step-size"), (["--seed", "x"], "x"), (["--frobnicate"], "frobnicate"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("an output folder that cannot be written exits 2 with one line")
    func unwritableOutput() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let result = try ChapterRunner.run(product, ["--quick", "--output", file.appendingPathComponent("sub").path])
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("cannot write"))
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--outcomes", "--steps", "--step-size"] {
            #expect(result.stdout.contains(option))
        }
    }

    @Test("the same seed gives the same numbers")
    func reproducible() throws {
        var values: [[String: Double]] = []
        for _ in 0..<2 {
            let folder = try ChapterRunner.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let r = try ChapterRunner.run(product, ["--quick", "--outcomes", "50", "--seed", "5", "--output", folder.path])
            #expect(r.status == 0)
            values.append(try ChapterRunner.report(in: folder, slug: slug).values)
        }
        #expect(values[0] == values[1])
        #expect(!values[0].isEmpty)
    }

    @Test("the page opens with its findings, and their numbers are the JSON's, whichever way the run went")
    func findingsFirst() throws {
        let (report, section) = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--seed", "3"])
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        #expect(plainText(section).contains("after \(f("natural_steps")) steps only \(f("natural_residual")) of the mass"))
        let stopped = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--outcomes", "300", "--steps", "10"],
                                              status: 1)
        #expect(plainText(stopped.section).contains("did not reach the collapse criterion within its 10 steps"))
    }
}

import Foundation
import Notebook
import Testing

@Suite("Chapter 2: reward shaping")
struct Chapter02Tests {
    let product = "reward-shaping"
    let slug = "02-reward-shaping"

    @Test("passes every check for several seeds, sizes and temperatures",
          arguments: [(2, 1, 0.01), (3, 7, 100.0), (200, 42, 0.1), (1000, 2024, 3.0), (50, 9, 0.01)])
    func passes(outcomes: Int, seed: Int, beta: Double) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--outcomes", "\(outcomes)", "--seed", "\(seed)", "--beta", "\(beta)"])
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--outcomes", "1"], "--outcomes"), (["--outcomes", "100001"], "--outcomes"), (["--outcomes=-3"], "--outcomes"),
        (["--beta", "0"], "--beta"), (["--beta=-1"], "--beta"), (["--beta", "nan"], "--beta"), (["--beta", "inf"], "--beta"),
        (["--beta", "1e9"], "--beta"), (["--beta", "x"], "x"), (["--seed", "x"], "x"), (["--frobnicate"], "frobnicate"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--outcomes", "--beta"] { #expect(result.stdout.contains(option)) }
    }

    @Test("the same seed gives the same numbers; the frontier's KL at beta is recorded")
    func reproducible() throws {
        var values: [[String: Double]] = []
        for _ in 0..<2 {
            let folder = try ChapterRunner.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let r = try ChapterRunner.run(product, ["--quick", "--outcomes", "40", "--seed", "5", "--output", folder.path])
            #expect(r.status == 0)
            values.append(try ChapterRunner.report(in: folder, slug: slug).values)
        }
        #expect(values[0] == values[1])
        #expect((values[0]["frontier_kl_at_beta"] ?? 0) > 0)
    }

    @Test("the page opens with its findings, and their numbers are the JSON's")
    func findingsFirst() throws {
        let (report, section) = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--seed", "3"])
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        #expect(plainText(section).contains("spends \(f("frontier_kl_at_beta")) nats of KL"))
        #expect(plainText(section).contains("A KL budget of \(f("constrained_budget")) nats"))
        #expect(section.contains("href=\"#figure-"), "the frontier figure is cited by number")
    }
}

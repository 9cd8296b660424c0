import Foundation
import Notebook
import Testing

@Suite("Chapter 3: the optimal policy")
struct Chapter03Tests {
    let product = "optimal-policy"
    let slug = "03-optimal-policy"

    @Test("passes every check for several seeds, sizes, temperatures and oracles", arguments: [
        ["--outcomes", "2", "--seed", "1", "--beta", "0.01", "--length", "1", "--bit-probability", "0.001"],
        ["--outcomes", "3", "--seed", "7", "--beta", "100", "--length", "4", "--bit-probability", "0.999"],
        ["--outcomes", "60", "--seed", "42", "--beta", "0.1", "--length", "10"],
        ["--outcomes", "400", "--seed", "2024", "--beta", "1", "--length", "8"],
        ["--outcomes", "30", "--seed", "3", "--beta", "0.01", "--length", "12", "--bit-probability", "0.5"],
    ])
    func passes(arguments: [String]) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick"] + arguments)
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--outcomes", "1"], "--outcomes"), (["--outcomes", "100001"], "--outcomes"),
        (["--beta", "0"], "--beta"), (["--beta=-2"], "--beta"), (["--beta", "nan"], "--beta"), (["--beta", "-inf"], "--beta"),
        (["--length", "0"], "--length"), (["--length", "21"], "--length"), (["--bit-probability", "0"], "--bit-probability"),
        (["--bit-probability", "1"], "--bit-probability"), (["--bit-probability", "nan"], "--bit-probability"), (["--frobnicate"], "frobnicate"),
        (["--max-iterations", "0"], "--max-iterations"), (["--max-iterations", "1000001"], "--max-iterations"),
        (["--max-iterations", "two"], "--max-iterations"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--outcomes", "--beta", "--length", "--bit-probability",
                       "--max-iterations"] { #expect(result.stdout.contains(option)) }
    }

    @Test("the report carries the optimiser's distances and the softmax-logit remark")
    func report() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try ChapterRunner.run(product, ["--quick", "--outcomes", "40", "--length", "6", "--seed", "5", "--output", folder.path])
        #expect(r.status == 0)
        let report = try ChapterRunner.report(in: folder, slug: slug)
        #expect((report.values["optimiser_tv_start_1"] ?? 1) < 1e-3)
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        #expect(html.contains("softmax logits"))
        #expect(html.contains("A worked example: four replies"))
        #expect(report.derivations.count == 2, "the four replies and the normaliser are shown as derivations")
    }

    @Test("an optimiser stopped after 2 iterations fails every check of its answer, and only those, with exit 1")
    func stoppedOptimiser() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try ChapterRunner.run(product, ["--quick", "--max-iterations", "2", "--seed", "3",
                                                "--output", folder.path])
        #expect(r.status == 1, "exit \(r.status): \(r.stderr)")
        let checks = try ChapterRunner.report(in: folder, slug: slug).checks
        let optimiser = checks.filter { $0.id.hasPrefix("optimiser.") }
        #expect(optimiser.count == 3)
        let heldByOptimiser = optimiser.filter { $0.passed }.map { $0.id }
        let failedByOthers = checks.filter { !$0.id.hasPrefix("optimiser.") && !$0.passed }.map { $0.id }
        #expect(heldByOptimiser.isEmpty, "optimiser checks that held: \(heldByOptimiser)")
        #expect(failedByOthers.isEmpty, "other checks that failed: \(failedByOthers)")
    }

    @Test("the page opens with its findings, and their numbers are the JSON's, whichever way the run went")
    func findingsFirst() throws {
        let (report, section) = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--seed", "3"])
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        #expect(plainText(section).contains("from the prior's \(f("four_helpful_prior")) to \(f("four_helpful_cold"))"))
        #expect(plainText(section).contains("stops within total variation \(f("optimiser_tv_worst"))"))
        let stopped = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--max-iterations", "2"], status: 1)
        #expect(plainText(stopped.section).contains("too far to count as finding it"))
    }
}

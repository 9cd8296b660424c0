import Foundation
import Notebook
import Testing

@Suite("Chapter 4: the evidence lower bound")
struct Chapter04Tests {
    let product = "evidence-lower-bound"
    let slug = "04-evidence-lower-bound"

    @Test("passes every check for several seeds, sizes and temperatures",
          arguments: [(2, 1, 1.0), (3, 7, 0.05), (200, 42, 100.0), (1000, 2024, 1.0), (50, 9, 0.3)])
    func passes(outcomes: Int, seed: Int, beta: Double) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--outcomes", "\(outcomes)", "--seed", "\(seed)", "--beta", "\(beta)"])
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--outcomes", "1"], "--outcomes"), (["--outcomes", "100001"], "--outcomes"),
        (["--beta", "0"], "--beta"), (["--beta", "0.01"], "--beta"), (["--beta=-1"], "--beta"), (["--beta", "nan"], "--beta"),
        (["--beta", "inf"], "--beta"), (["--frobnicate"], "frobnicate"),
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

    @Test("the errata are stated in the report and listed on the index")
    func errata() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try ChapterRunner.run(product, ["--quick", "--outcomes", "30", "--output", folder.path])
        #expect(r.status == 0)
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        for text in ["Eq. 10: the paper writes", "Eq. 10 also keeps", "Eq. 16: the paper writes", "§5: the paper defines",
                     "Appendix, last paragraph"] { #expect(html.contains(text)) }
        #expect(html.contains("A worked example: four replies"))
        let report = try ChapterRunner.report(in: folder, slug: slug)
        #expect(report.derivations.count == 4, "the four replies, eq. 8, eqs. 9-10 and eqs. 11-17 are derivations")
        #expect(report.checks.count == 5)
        let index = try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(index.contains("Eq. 10: the paper writes"))
    }

    @Test("the page opens with its findings, and their numbers are the JSON's")
    func findingsFirst() throws {
        let (report, section) = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--seed", "3"])
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        #expect(plainText(section).contains("a fraction \(f("acceptance_rate")) were acceptable"))
        #expect(plainText(section).contains("falls short by \(f("random_smallest_gap")) nats"))
    }
}

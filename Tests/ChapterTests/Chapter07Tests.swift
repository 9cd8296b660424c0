import Foundation
import Notebook
import Testing

@Suite("Chapter 7: forward vs reverse KL")
struct Chapter07Tests {
    let product = "forward-and-reverse-kl"
    let slug = "07-forward-and-reverse-kl"

    @Test("passes every check for several seeds, sizes and temperatures", arguments: [
        (["--positions", "2", "--beta", "0.05"], 1), (["--positions", "6", "--beta", "10"], 7),
        (["--positions", "8", "--samples", "1000"], 42), (["--positions", "10"], 2024),
    ])
    func passes(arguments: [String], seed: Int) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--seed", "\(seed)"] + arguments)
    }

    @Test("the double-dissociation table is in the report")
    func table() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ChapterRunner.run(product, ["--quick", "--positions", "4", "--output", folder.path])
        #expect(result.status == 0)
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        for row in ["RL without KL", "KL-regularised RL", "DPG", "MLE on filtered samples"] { #expect(html.contains(row)) }
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--positions", "1"], "--positions"), (["--positions", "13"], "--positions"), (["--beta", "0.04"], "--beta"),
        (["--beta", "inf"], "--beta"), (["--samples", "10"], "--samples"), (["--samples", "x"], "x"), (["--frobnicate"], "frobnicate"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--positions", "--beta", "--samples"] {
            #expect(result.stdout.contains(option))
        }
    }

    @Test("the same seed gives the same numbers")
    func reproducible() throws {
        var values: [[String: Double]] = []
        for _ in 0..<2 {
            let folder = try ChapterRunner.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let r = try ChapterRunner.run(product, ["--quick", "--positions", "4", "--seed", "5", "--output", folder.path])
            #expect(r.status == 0)
            values.append(try ChapterRunner.report(in: folder, slug: slug).values)
        }
        #expect(values[0] == values[1])
        #expect(!values[0].isEmpty)
    }

    @Test("the page opens with its findings, and their numbers are the JSON's")
    func findingsFirst() throws {
        let (report, section) = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--seed", "3"])
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        let text = plainText(section)
        #expect(text.contains("and ended \(f("rl_kl_to_target")) nats from the posterior"))
        #expect(text.contains("maximum likelihood on \(f("mle_samples")) filtered samples to \(f("dissociation_kl_mle"))"))
        // Every check holds on this run, so every sentence is in its holding wording (a check id that
        // no longer exists would turn one into its failing wording).
        for holding in ["collapsed onto the best outcome", "every method that minimises a KL divergence",
                        "the forward fit reaches that minimum"] { #expect(text.contains(holding)) }
        #expect(section.contains("href=\"#figure-"), "the bimodal figure is cited by number")
    }
}

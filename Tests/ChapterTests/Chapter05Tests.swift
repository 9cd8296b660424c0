import Foundation
import Notebook
import Testing

@Suite("Chapter 5: KL proportionality")
struct Chapter05Tests {
    let product = "kl-proportionality"
    let slug = "05-kl-proportionality"

    @Test("passes every check for several seeds, sizes, temperatures and run lengths", arguments: [
        ["--outcomes", "2", "--seed", "1", "--beta", "0.01", "--steps", "10"],
        ["--outcomes", "3", "--seed", "7", "--beta", "100", "--steps", "2000"],
        ["--outcomes", "200", "--seed", "42", "--beta", "0.1"],
        ["--outcomes", "1000", "--seed", "2024", "--beta", "2", "--steps", "50"],
    ])
    func passes(arguments: [String]) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick"] + arguments)
    }

    @Test("eq. 7's ∝ is listed as an erratum, and the page does not call the prior the farthest from π* when it is not")
    func erratumAndFarthest() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ChapterRunner.run(product, ["--quick", "--output", folder.path])
        #expect(result.status == 0)
        let report = try ChapterRunner.report(in: folder, slug: slug)
        #expect(report.errata.count == 1)
        #expect(report.errata.first?.contains("affine") == true)
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        #expect(!html.contains("divergence from the posterior is largest"))
        #expect(html.contains("The prior is not the policy farthest from the posterior"))
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--outcomes", "1"], "--outcomes"), (["--outcomes", "100001"], "--outcomes"),
        (["--beta", "0"], "--beta"), (["--beta=-1"], "--beta"), (["--beta", "nan"], "--beta"), (["--beta", "1000"], "--beta"),
        (["--steps", "9"], "--steps"), (["--steps", "100001"], "--steps"),
        (["--outcomes", "100000", "--steps", "2001"], "--steps"), (["--frobnicate"], "frobnicate"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--outcomes", "--beta", "--steps"] { #expect(result.stdout.contains(option)) }
    }

    @Test("the same seed gives the same numbers; training gains reward")
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
        #expect((values[0]["trajectory_gain"] ?? 0) > 0)
    }

    @Test("the page opens with its findings, and their numbers are the JSON's")
    func findingsFirst() throws {
        let (report, section) = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--seed", "3"])
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        let verb = report.values["trajectory_gain"]! > 0 ? "raised" : "changed"
        #expect(plainText(section).contains("\(verb) the objective by \(f("trajectory_gain"))"))
        #expect(plainText(section).contains("\(f("final_penalty")) nats at the end of training"))
    }
}

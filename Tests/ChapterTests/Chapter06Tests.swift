import Foundation
import Notebook
import Testing

@Suite("Chapter 6: modelling vs inference")
struct Chapter06Tests {
    let product = "modelling-and-inference"
    let slug = "06-modelling-and-inference"

    @Test("passes every check for several seeds, lengths and temperatures", arguments: [
        (["--length", "1", "--samples", "1000"], 1), (["--length", "3", "--beta", "0.25"], 7),
        (["--length", "5", "--beta", "10"], 42), (["--length", "6"], 2024),
    ])
    func passes(arguments: [String], seed: Int) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--seed", "\(seed)"] + arguments)
    }

    @Test("the report uses the corrected §5 constraint (b(x) = 1 means no curse word) and leaves the erratum to chapter 4")
    func erratum() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ChapterRunner.run(product, ["--quick", "--length", "2", "--output", folder.path])
        #expect(result.status == 0)
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        #expect(html.contains("does NOT contain a curse word"))
        #expect(html.contains("erratum is listed once, under chapter 4"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("\(slug).json"))) as? [String: Any])
        #expect((json["errata"] as? [String]) == [], "the §5 erratum is chapter 4's; the index lists it once")
    }

    @Test("the filtering chart marks the likeliest cursing sentences ✗, and its caption says so")
    func cursingMarked() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ChapterRunner.run(product, ["--quick", "--seed", "1", "--output", folder.path])
        #expect(result.status == 0)
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        let chart = try #require(html.components(separatedBy: "<svg").dropFirst().first)
        let svg = try #require(chart.components(separatedBy: "</svg>").first)
        let marked = Set(svg.matches(of: try Regex("[0-9]+✗")).map { String(svg[$0.range]) })
        #expect(marked.count == 3, "three cursing sentences in the chart: \(marked.sorted())")
        #expect(html.contains("marked ✗, the 3 likeliest cursing ones"))
        #expect(html.contains("no (curses)"))
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--length", "0"], "--length"), (["--length", "9"], "--length"), (["--samples", "999"], "--samples"),
        (["--samples", "2000001"], "--samples"), (["--beta", "0.2"], "--beta"), (["--beta", "nan"], "--beta"),
        (["--beta", "11"], "--beta"), (["--seed", "x"], "x"), (["--frobnicate"], "frobnicate"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--length", "--samples", "--beta"] {
            #expect(result.stdout.contains(option))
        }
    }

    @Test("the same seed gives the same numbers")
    func reproducible() throws {
        var values: [[String: Double]] = []
        for _ in 0..<2 {
            let folder = try ChapterRunner.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let r = try ChapterRunner.run(product, ["--quick", "--length", "3", "--seed", "5", "--output", folder.path])
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
        #expect(plainText(section).contains("kept a fraction \(f("acceptance_rate_binary")) of its attempts"))
        #expect(plainText(section).contains("effective sample fraction is \(f("effective_sample_fraction"))"))
    }
}

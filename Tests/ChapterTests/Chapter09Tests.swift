import Foundation
import Testing

@Suite("Chapter 9: measuring KL")
struct Chapter09Tests {
    let product = "measuring-kl"
    let slug = "09-measuring-kl"

    @Test("passes every check for several seeds, sizes and distances", arguments: [
        (2, 1, 0.05, 2, 1), (3, 4, 0.6, 256, 7), (2, 5, 2.0, 4096, 42), (5, 3, 1.0, 64, 2024), (4, 2, 0.3, 8, 99),
    ])
    func passes(vocabulary: Int, length: Int, shift: Double, maxN: Int, seed: Int) throws {
        try expectChapterPasses(product, slug: slug, arguments: [
            "--quick", "--vocabulary", "\(vocabulary)", "--length", "\(length)", "--shift", "\(shift)", "--max-n", "\(maxN)", "--seed", "\(seed)",
        ])
    }

    @Test("the largest space passes too")
    func largest() throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--vocabulary", "5", "--length", "5", "--shift", "2", "--seed", "3"])
    }

    @Test("the report answers every practitioner question")
    func answers() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ChapterRunner.run(product, ["--quick", "--seed", "11", "--output", folder.path])
        #expect(result.status == 0)
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        for question in ["Why is my KL estimate negative?", "Which of k1, k2, k3 should I use?", "Does summing k3 per token estimate the sequence KL?",
                         "gradient of the KL I think it is?", "How far is best-of-n from the KL-regularised posterior?", "log n − (n−1)/n?",
                         "When does k3 stop having a lower variance than k1?",
                         "KL setting follow?"] {
            #expect(html.contains(question), "missing answer to \(question)")
        }
        let report = try ChapterRunner.report(in: folder, slug: slug)
        #expect(report.values["kl"] ?? 0 > 0)
        #expect((report.values["chernoff_rate"] ?? 1) < 1)
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--vocabulary", "1"], "--vocabulary"), (["--vocabulary", "6"], "--vocabulary"), (["--length", "0"], "--length"),
        (["--length", "6"], "--length"), (["--shift", "0"], "--shift"), (["--shift", "nan"], "--shift"), (["--shift", "2.5"], "--shift"),
        (["--max-n", "1"], "--max-n"), (["--max-n", "4097"], "--max-n"), (["--length", "many"], "many"), (["--seed", "-1"], "--seed"),
        (["--frobnicate"], "frobnicate"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--vocabulary", "--length", "--shift", "--max-n"] {
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
}

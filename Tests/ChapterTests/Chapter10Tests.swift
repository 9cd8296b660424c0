import Foundation
import Testing

@Suite("Chapter 10: fine-tuning the tiny LM")
struct Chapter10Tests {
    let product = "fine-tuning"
    let slug = "10-fine-tuning"

    @Test("passes every check with --quick (pretrains a small prior on first use, then takes it from the cache)")
    func passes() throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--seed", "3"])
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--word", "l0ve"], "--word"), (["--word", ""], "--word"), (["--steps", "5"], "--steps"),
        (["--batch-size", "2"], "--batch-size"), (["--beta", "0"], "--beta"), (["--beta", "nan"], "--beta"),
        (["--learning-rate", "1"], "--learning-rate"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--word", "--steps", "--batch-size", "--beta", "--learning-rate"] {
            #expect(result.stdout.contains(option))
        }
    }
}

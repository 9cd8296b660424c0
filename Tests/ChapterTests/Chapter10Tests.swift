import BookKit
import Foundation
import Notebook
import Testing

@Suite("Chapter 10: fine-tuning the tiny LM")
struct Chapter10Tests {
    let product = "fine-tuning"
    let slug = "10-fine-tuning"

    static let arguments = ["--quick", "--seed", "3"]

    /// The report of one uninterrupted `--quick --seed 3` run, made by whichever test asks first
    /// (its expectations are recorded there) and shared with the other: the quick chapter takes
    /// a minute or two.
    static let uninterrupted: Data? = page?.json

    /// The page and JSON twin of that run.
    static let page: (json: Data, html: String, folder: String)? = {
        guard let folder = try? ChapterRunner.temporaryFolder() else { return nil }
        defer { try? FileManager.default.removeItem(at: folder) }
        guard (try? expectChapterPasses("fine-tuning", slug: "10-fine-tuning", arguments: arguments, in: folder)) != nil else { return nil }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".cache").path),
                "a run that finishes leaves no fine-tuning state behind")
        guard let json = try? Data(contentsOf: folder.appendingPathComponent("10-fine-tuning.json")),
              let html = try? String(contentsOf: folder.appendingPathComponent("10-fine-tuning.html"), encoding: .utf8)
        else { return nil }
        return (json, html, folder.path)
    }()

    @Test("passes every check with --quick (pretrains a small prior on first use, then takes it from the cache)")
    func passes() throws {
        _ = try #require(Self.uninterrupted)
    }

    @Test("the page opens with its findings, and their numbers are the JSON's")
    func findingsFirst() throws {
        let (json, html, _) = try #require(Self.page)
        let report = try Report.decoder().decode(Report.self, from: json)
        let section = try expectFindingsFirst(html: html, report: report)
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        let text = plainText(section)
        #expect(text.contains("nats from π0 at the end") && text.contains("\(f("rl_kl_end")) nats"))
        #expect(text.contains("Plain RL collapses the prior"), "every check holds on this run: the holding wording")
        #expect(text.contains("from \(f("dpg_forward_kl_start")) to \(f("dpg_forward_kl_end")) nats"))
        #expect(text.contains("goes from \(f("bridge_kl_start")) to \(f("bridge_kl_end")) nats"))
        #expect(text.contains("On the enumerable bridge the same code does arrive"))
        // The arrival sentence agrees with the arrival table's fractions.
        let ratios = report.values.filter { $0.key.hasPrefix("arrival_ratio_") && !$0.key.contains("upper") }
        #expect(ratios.count == 3)
        let arrivedAll = ratios.allSatisfy { $0.value <= 0.3 && report.values[$0.key.replacingOccurrences(
            of: "arrival_ratio_", with: "arrival_ratio_upper_")]! < 0.4 }
        #expect(text.contains("Every regularised method ends within 30%") == arrivedAll)
        #expect(section.contains("href=\"#figure-") || arrivedAll, "the arrival figure is cited by number")
    }

    @Test("every section shows its code, the hash matches, the page links its JSON; figures, tables, works and neighbours linked")
    func codeBesideOutput() throws {
        let (json, html, folder) = try #require(Self.page)
        try SourcesOnPageTests.expectCodeBesideOutput(product: product, slug: slug, arguments: Self.arguments,
                                                      folder: folder, report: Report.decoder().decode(Report.self, from: json),
                                                      html: html)
    }

    @Test("stopped in the middle of a method, a run resumes from its saved state to the report of an uninterrupted run")
    func resumes() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // In the second method, halfway: the quick run evaluates every steps/3 steps, and the
        // state's own record below confirms the stop is not at an evaluation.
        let steps = 150   // the default of --steps
        let stop = steps + steps / 2 + 1
        let saved = try Interruption.stop(product, slug: slug, arguments: Self.arguments, stop: stop,
                                          stoppedLine: "stopped after \(stop) fine-tuning steps", kind: "fine-tuning",
                                          finished: 1, step: stop - steps, in: folder)
        #expect(!saved.evaluated.contains(Double(stop - steps)) && saved.evaluated.count >= 2,
                "stopped between evaluations \(saved.evaluated)")

        let (resumed, uninterrupted) = try Interruption.expectResumed(
            product, slug: slug, arguments: Self.arguments, state: saved.folder, resumeLine: "resuming fine-tuning from",
            reference: try #require(Self.uninterrupted), in: folder)
        #expect(resumed == uninterrupted && resumed?["steps"] as? String == "\(steps)")
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--word", "l0ve"], "--word"), (["--word", ""], "--word"), (["--steps", "5"], "--steps"),
        (["--batch-size", "2"], "--batch-size"), (["--beta", "0"], "--beta"), (["--beta", "nan"], "--beta"), (["--beta", "1e308"], "--beta"),
        (["--learning-rate", "1"], "--learning-rate"), (["--stop-after-steps", "0"], "--stop-after-steps"),
        (["--learning-rate-decay", "0"], "--learning-rate-decay"), (["--learning-rate-decay", "1.5"], "--learning-rate-decay"),
        (["--rl-learning-rate", "0"], "--rl-learning-rate"), (["--kl-gradient", "k2"], "--kl-gradient"),
        (["--reward-credit", "token"], "--reward-credit"), (["--dpg-continuation", "greedy"], "--dpg-continuation"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--word", "--steps", "--batch-size", "--beta", "--learning-rate",
                       "--learning-rate-decay", "--rl-learning-rate", "--kl-gradient", "--reward-credit",
                       "--dpg-continuation"] {
            #expect(result.stdout.contains(option))
        }
        #expect(!result.stdout.contains("--stop-after-steps"), "the testing aid stays hidden")
    }
}

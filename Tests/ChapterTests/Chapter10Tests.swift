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
        let stopped = try ChapterRunner.run(product, Self.arguments + ["--stop-after-steps", "\(stop)", "--output", folder.path])
        #expect(stopped.status == 3, "exit \(stopped.status): \(stopped.stderr)")
        #expect(stopped.stderr.contains("stopped after \(stop) fine-tuning steps"), "stderr: \(stopped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("\(slug).json").path), "no report yet")
        let root = folder.appendingPathComponent(".cache/fine-tuning")
        let states = try FileManager.default.contentsOfDirectory(atPath: root.path)
        try #require(states.count == 1, "one state folder: \(states)")
        let state = root.appendingPathComponent(states[0])
        let files = try FileManager.default.contentsOfDirectory(atPath: state.path).sorted()
        #expect(files == ["policy-1-\(stop - steps).safetensors", "progress.json"], "\(files)")
        let progress = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: state.appendingPathComponent("progress.json"))) as? [String: Any])
        let current = try #require(progress["current"] as? [String: Any])
        let evaluated = try #require((current["curve"] as? [String: Any])?["steps"] as? [Double])
        #expect(current["step"] as? Int == stop - steps)
        #expect(!evaluated.contains(Double(stop - steps)) && evaluated.count >= 2, "stopped between evaluations \(evaluated)")
        #expect((progress["finished"] as? [Any])?.count == 1)

        let resumed = try expectChapterPasses(product, slug: slug, arguments: Self.arguments, in: folder)
        #expect(resumed.stderr.contains("resuming fine-tuning from \(state.path)"), "stderr: \(resumed.stderr)")
        #expect(!resumed.stderr.contains("warning"), "stderr: \(resumed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".cache").path), "the state is deleted with the report written")

        let reference = try #require(Self.uninterrupted)
        let a = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("\(slug).json"))) as? NSDictionary)
        let b = try #require(try JSONSerialization.jsonObject(with: reference) as? NSDictionary)
        for key in Set(a.allKeys.compactMap { $0 as? String }).union(b.allKeys.compactMap { $0 as? String }) where key != "provenance" && key != "reproduction" {   // how each run was invoked
            #expect(a[key] as? NSObject == b[key] as? NSObject, "\(key) differs from the uninterrupted run's")
        }
        #expect((a["values"] as? NSDictionary)?.count ?? 0 > 0)
        let parameters = { (d: NSDictionary) in (d["provenance"] as? NSDictionary)?["parameters"] as? NSDictionary }
        #expect(parameters(a) == parameters(b) && parameters(a)?["steps"] as? String == "\(steps)")
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--word", "l0ve"], "--word"), (["--word", ""], "--word"), (["--steps", "5"], "--steps"),
        (["--batch-size", "2"], "--batch-size"), (["--beta", "0"], "--beta"), (["--beta", "nan"], "--beta"), (["--beta", "1e308"], "--beta"),
        (["--learning-rate", "1"], "--learning-rate"), (["--stop-after-steps", "0"], "--stop-after-steps"),
        (["--learning-rate-decay", "0"], "--learning-rate-decay"), (["--learning-rate-decay", "1.5"], "--learning-rate-decay"),
        (["--rl-learning-rate", "0"], "--rl-learning-rate"), (["--kl-gradient", "k2"], "--kl-gradient"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--word", "--steps", "--batch-size", "--beta", "--learning-rate",
                       "--learning-rate-decay", "--rl-learning-rate", "--kl-gradient"] {
            #expect(result.stdout.contains(option))
        }
        #expect(!result.stdout.contains("--stop-after-steps"), "the testing aid stays hidden")
    }
}

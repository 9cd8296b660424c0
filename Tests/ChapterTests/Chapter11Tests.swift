import Foundation
import Notebook
import Testing

@Suite("Chapter 11: what PPO, RLOO and GRPO converge to")
struct Chapter11Tests {
    let product = "trainers"
    let slug = "11-trainers"

    static let arguments = ["--quick", "--seed", "3"]

    /// The page, JSON twin (decoded and as written) and output folder of one uninterrupted
    /// `--quick --seed 3` run, shared by the tests below (the quick chapter takes minutes).
    static let page: (report: Report, json: Data, html: String, folder: String)? = {
        guard let folder = try? ChapterRunner.temporaryFolder() else { return nil }
        defer { try? FileManager.default.removeItem(at: folder) }
        guard (try? expectChapterPasses("trainers", slug: "11-trainers", arguments: arguments, in: folder)) != nil,
              let report = try? ChapterRunner.report(in: folder, slug: "11-trainers"),
              let json = try? Data(contentsOf: folder.appendingPathComponent("11-trainers.json")),
              let html = try? String(contentsOf: folder.appendingPathComponent("11-trainers.html"), encoding: .utf8)
        else { return nil }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent(".cache/trainers").path),
                "a run that finishes leaves no training state behind")
        return (report, json, html, folder.path)
    }()

    @Test("passes every check with --quick", arguments: [3, 17])
    func passes(seed: Int) throws {
        let report: Report
        if seed == 3 {
            report = try #require(Self.page).report
        } else {
            let folder = try ChapterRunner.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--seed", "\(seed)"], in: folder)
            report = try ChapterRunner.report(in: folder, slug: slug)
        }
        // The trainers with k1 in the reward stop at π*_β; GRPO with the k3 loss does not.
        for id in ["ppo", "rloo", "grpo-k1"] { #expect((report.values["exact_\(id)_kl_to_posterior"] ?? 1) < 1e-9, "\(id)") }
        #expect((report.values["exact_grpo-k3_kl_to_posterior"] ?? 0) > 1e-3)
    }

    @Test("stopped in the middle of a trainer at scale, a run resumes from its saved state to the report of an uninterrupted run")
    func resumes() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // In the second trainer (RLOO), after its first evaluation: the quick run takes 50 steps a
        // trainer and evaluates at steps 25 and 50; the state's own record below confirms it.
        let steps = 50
        let stop = steps + 31
        let saved = try Interruption.stop(product, slug: slug, arguments: Self.arguments, stop: stop,
                                          stoppedLine: "stopped after \(stop) steps", kind: "trainers",
                                          finished: 1, step: stop - steps, in: folder)
        #expect((saved.current["curve"] as? [String: Any])?["trainerID"] as? String == "rloo")
        #expect(saved.evaluated == [0, 25], "stopped between evaluations, after one: \(saved.evaluated)")

        let (resumed, uninterrupted) = try Interruption.expectResumed(
            product, slug: slug, arguments: Self.arguments, state: saved.folder,
            resumeLine: "resuming the trainers at scale from", reference: try #require(Self.page).json, in: folder)
        #expect(resumed == uninterrupted && resumed?["steps"] as? String == "\(steps)")
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--beta", "0"], "--beta"), (["--beta", "nan"], "--beta"), (["--beta", "100"], "--beta"),
        (["--seed", "x"], "--seed"), (["--scale-beta", "0"], "--scale-beta"), (["--steps", "5"], "--steps"),
        (["--stop-after-steps", "0"], "--stop-after-steps"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--beta", "--scale-beta", "--steps"] { #expect(result.stdout.contains(option)) }
        #expect(!result.stdout.contains("--stop-after-steps"), "the testing aid stays hidden")
    }

    @Test("every section shows its code, the hash matches, the page links its JSON; figures, tables, works and neighbours linked")
    func codeBesideOutput() throws {
        let page = try #require(Self.page)
        try SourcesOnPageTests.expectCodeBesideOutput(product: product, slug: slug, arguments: Self.arguments,
                                                      folder: page.folder, report: page.report, html: page.html)
    }

    @Test("the page opens with its findings, and their numbers are the JSON's")
    func findingsFirst() throws {
        let page = try #require(Self.page)
        let report = page.report
        let section = try expectFindingsFirst(html: page.html, report: report)
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        let text = plainText(section)
        #expect(text.contains("Iterated exactly on the bridge's \(f("bridge_sequences")) token sequences"))
        #expect(text.contains("it ends \(f("exact_grpo-k3_kl_to_posterior")) nats from"))
        #expect(text.contains("with expected reward \(f("exact_grpo-k3_reward")) against the posterior's"))
        // At scale: chapter 10's estimate of KL(π_T ‖ π*_β) against the prior's exact distance, shown.
        #expect(text.contains("the largest ends \(f("scale_k1_largest_kl_to_posterior")) nats from it, against the "
                                  + "prior's \(f("scale_prior_distance"))"))
        #expect(text.contains("\(f("scale_k1_nearer_count")) ended measurably nearer"))
        // Every check holds on this run, so every sentence is in its holding wording (a check id that
        // no longer exists would turn one into its failing wording).
        for holding in ["none ends more than", "stops where its own fixed-point equation predicts",
                        "every run removed at least 70%", "every trainer kept more than half"] {
            #expect(text.contains(holding))
        }
        #expect(section.contains("href=\"#figure-") && section.contains("href=\"#table-2\""),
                "the sampled runs' figure and the fixed points' table are cited by number")
    }
}

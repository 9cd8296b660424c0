import Foundation
import Notebook
import Testing

@Suite("Chapter 8: β and the square-root law")
struct Chapter08Tests {
    let product = "square-root-law"
    let slug = "08-square-root-law"

    @Test("passes every check for several seeds, sizes, noise levels and targets", arguments: [
        (["--outcomes", "10", "--noise", "0"], 1), (["--outcomes", "300", "--noise", "10", "--target-kl", "0.1"], 7),
        (["--outcomes", "2000", "--target-kl", "6"], 42),
    ])
    func passes(arguments: [String], seed: Int) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--seed", "\(seed)"] + arguments)
    }

    @Test("a controller run too short to settle fails its two checks with exit 1")
    func checksCanFail() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try ChapterRunner.run(product, ["--quick", "--outcomes", "50", "--updates", "100", "--output", folder.path])
        #expect(result.status == 1)
        let report = try ChapterRunner.report(in: folder, slug: slug)
        #expect(Set(report.checks.filter { !$0.passed }.map(\.id)) == ["controller.settles", "controller.small-space-collapses"])
    }

    /// Issue 20 item 15: at these targets the controller's rate near β* is about 0.009 a step, and
    /// the 2000 updates that --quick used to allow ended before it settled to 10⁻⁹. It now runs
    /// until its own step is at most 10⁻¹² (stopping there, or at --updates).
    @Test("the controller settles at targets where it converges slowly", arguments: ["2.5", "3"])
    func slowTargets(target: String) throws {
        try expectChapterPasses(product, slug: slug, arguments: ["--quick", "--target-kl", target])
    }

    @Test("bad input exits 2 with one line", arguments: [
        (["--outcomes", "9"], "--outcomes"), (["--outcomes", "100001"], "--outcomes"), (["--noise", "-1"], "--noise"),
        (["--noise", "11"], "--noise"), (["--target-kl", "0"], "--target-kl"), (["--target-kl", "6.5"], "--target-kl"),
        (["--target-kl", "nan"], "--target-kl"), (["--updates", "99"], "--updates"), (["--updates", "100001"], "--updates"),
        (["--frobnicate"], "frobnicate"),
    ])
    func badInput(arguments: [String], mentioning: String) throws {
        try expectUsageError(product, arguments: arguments, mentioning: mentioning)
    }

    @Test("--help documents every option and exits 0")
    func help() throws {
        let result = try ChapterRunner.run(product, ["--help"])
        #expect(result.status == 0)
        for option in ["--seed", "--quick", "--output", "--outcomes", "--noise", "--target-kl", "--updates"] {
            #expect(result.stdout.contains(option))
        }
    }

    @Test("the same seed gives the same numbers, including where the controller settles")
    func reproducible() throws {
        var values: [[String: Double]] = []
        for _ in 0..<2 {
            let folder = try ChapterRunner.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let r = try ChapterRunner.run(product, ["--quick", "--outcomes", "50", "--seed", "5", "--output", folder.path])
            #expect(r.status == 0)
            values.append(try ChapterRunner.report(in: folder, slug: slug).values)
        }
        #expect(values[0] == values[1])
        #expect(values[0]["beta_star"] != nil)
    }

    @Test("the page opens with its findings, and their numbers are the JSON's; a failed check is said so")
    func findingsFirst() throws {
        let (report, section) = try expectFindingsFirst(product, slug: slug, arguments: ["--quick", "--seed", "3"])
        let f = { (key: String) in NumberFormat.format(report.values[key]!) }
        let text = plainText(section)
        #expect(text.contains("the adaptive KL controller aiming at \(f("target_kl")) nats settles on"))
        #expect(text.contains("after \(f("updates_run")) updates"))
        // Every check holds on this run, so every sentence is in its holding wording.
        for holding in ["are the first derivatives of one function", "a Gaussian reward gains exactly"] {
            #expect(text.contains(holding))
        }
        #expect(section.contains("href=\"#figure-"), "the square-root figure is cited by number")
        let stopped = try expectFindingsFirst(product, slug: slug,
                                              arguments: ["--quick", "--outcomes", "50", "--updates", "100"], status: 1)
        #expect(plainText(stopped.section).contains("updates (its check fails)"))
    }
}

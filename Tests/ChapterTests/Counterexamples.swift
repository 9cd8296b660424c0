import Foundation
import Notebook
import Testing

/// A counterexample to one check: the check's own builder, fed inputs that make its claim
/// false (a policy that is not the posterior, a stopped optimiser, a temperature off by 1%, a
/// sign error, an off-by-one sum). The test asserts that the check then fails.
struct Counterexample: CustomTestStringConvertible, Sendable {
    /// The id of the check, as the chapter emits it.
    let id: String
    /// What is wrong with the input, in a few words.
    let what: String
    let build: @Sendable () throws -> Check

    init(_ id: String, _ what: String, _ build: @escaping @Sendable () throws -> Check) {
        self.id = id; self.what = what; self.build = build
    }

    var testDescription: String { "\(id): \(what)" }
}

/// Every chapter's counterexamples, by slug. A chapter enters this list when each check it
/// emits has one; `CounterexampleCoverage` then holds it to that.
let counterexamplesByChapter: [(slug: String, product: String, counterexamples: [Counterexample])] = [
    ("01-distribution-collapse", "distribution-collapse", Chapter01Counterexamples.all),
    ("02-reward-shaping", "reward-shaping", Chapter02Counterexamples.all),
    ("03-optimal-policy", "optimal-policy", Chapter03Counterexamples.all),
    ("04-evidence-lower-bound", "evidence-lower-bound", Chapter04Counterexamples.all),
    ("05-kl-proportionality", "kl-proportionality", Chapter05Counterexamples.all),
    ("06-modelling-and-inference", "modelling-and-inference", Chapter06Counterexamples.all),
    ("07-forward-and-reverse-kl", "forward-and-reverse-kl", Chapter07Counterexamples.all),
    ("08-square-root-law", "square-root-law", Chapter08Counterexamples.all),
    ("09-measuring-kl", "measuring-kl", Chapter09Counterexamples.all),
    ("10-fine-tuning", "fine-tuning", Chapter10Counterexamples.all),
    ("11-trainers", "trainers", Chapter11Counterexamples.all),
]

@Suite("Every check fails on its counterexample")
struct CounterexampleTests {
    static let all: [Counterexample] = counterexamplesByChapter.flatMap(\.counterexamples)

    @Test("the check fails", arguments: CounterexampleTests.all)
    func fails(_ c: Counterexample) throws {
        let check = try c.build()
        #expect(check.id == c.id, "the builder made \(check.id), not \(c.id)")
        #expect(!check.passed, "\(check.sentence)")
    }
}

@Suite("Every check a chapter emits has a counterexample")
struct CounterexampleCoverage {
    /// The ids a chapter's quick run emits.
    static func emittedIDs(product: String, slug: String, extra: [String] = []) throws -> [String] {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try ChapterRunner.run(product, ["--quick", "--seed", "3"] + extra + ["--output", folder.path])
        #expect(r.status == 0, "\(product) exited \(r.status): \(r.stderr)")
        return try ChapterRunner.report(in: folder, slug: slug).checks.map(\.id)
    }

    @Test("ids are unique and each has a counterexample; no counterexample is stale",
          arguments: counterexamplesByChapter.map { $0.slug })
    func covered(slug: String) throws {
        let entry = counterexamplesByChapter.first { $0.slug == slug }!
        let ids = try CounterexampleCoverage.emittedIDs(product: entry.product, slug: slug)
        #expect(!ids.isEmpty)
        #expect(!ids.contains(""), "a check without an id")
        #expect(Set(ids).count == ids.count, "duplicate ids: \(Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted())")
        let known = Set(entry.counterexamples.map(\.id))
        let missing = Set(ids).subtracting(known).sorted()
        let stale = known.subtracting(ids).sorted()
        #expect(missing.isEmpty, "checks with no counterexample: \(missing)")
        #expect(stale.isEmpty, "counterexamples for checks the chapter no longer emits: \(stale)")
    }
}

@Suite("Every chapter is held to its counterexamples")
struct CounterexampleChapters {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("each folder under Chapters/ is in counterexamplesByChapter, so a new chapter's checks need counterexamples too")
    func everyChapterListed() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.packageRoot.appendingPathComponent("Chapters").path)
            .filter { $0.first?.isNumber == true }.sorted()
        #expect(!folders.isEmpty)
        #expect(Set(counterexamplesByChapter.map(\.slug)) == Set(folders))
    }

    @Test("Docs/counterexamples.md states the number of checks of each chapter and the kill rate")
    func killRateDocumented() throws {
        let text = try String(contentsOf: Self.packageRoot.appendingPathComponent("Docs/counterexamples.md"), encoding: .utf8)
        for entry in counterexamplesByChapter {
            let row = "| \(entry.slug) | \(entry.counterexamples.count) | \(entry.counterexamples.count) | 100% |"
            #expect(text.contains(row), "Docs/counterexamples.md lacks the row \(row)")
        }
        let total = counterexamplesByChapter.reduce(0) { $0 + $1.counterexamples.count }
        #expect(text.contains("| all | \(total) | \(total) | 100% |"))
    }
}

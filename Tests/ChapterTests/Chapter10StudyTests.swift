import BookKit
@testable import Chapter10
import FineTune
import Foundation
import GSL
import Notebook
import Testing
import TinyLM

@Suite("Chapter 10: methods are found by their id, never by position")
struct Chapter10StudyTests {
    /// A one-layer prior on the bridge's synthetic language: seconds to train.
    static func makePrior() -> Checkpoint? {
        var settings = PretrainSettings()
        settings.nLayer = 1; settings.nHead = 2; settings.nEmbd = 16; settings.blockSize = 6
        settings.batchSize = 16; settings.steps = 30; settings.warmupSteps = 5
        settings.evalInterval = 30; settings.checkpointInterval = 30; settings.seed = 11
        let docs = SyntheticLanguage.documents(count: 300, maxLength: 5, rng: RandomGenerator(seed: 1))
        guard let trainer = try? Pretrainer(settings: settings, corpus: FortuneCorpus(train: docs, validation: Array(docs.prefix(30))))
        else { return nil }
        while !trainer.isComplete { trainer.trainStep() }
        return trainer.checkpoint()
    }

    static func study(_ methods: [Method], prior: Checkpoint, cache: URL, page: Page = Page(slug: "10-test", number: 10, title: "t", summary: "t"))
        -> Study {
        var settings = FineTuneSettings()
        settings.batchSize = 8; settings.steps = 12; settings.learningRate = 1e-3
        return Study(page: page, seeds: Seeds(7), prior: prior, target: TargetWord("ab"), settings: settings, betas: [0.5, 1],
                     quick: true, priorKey: "test", stateCache: cache, stopAfter: nil, methods: methods)
    }

    static func curves(_ study: Study) throws -> [Method: TrainingCurve] {
        let model = study.prior.model, tokenizer = study.prior.tokenizer
        let curves = try study.fineTune(state: study.stateStore, logConstraintPartition: log(0.1)) { policy, method, step in
            (PolicyMeasurement.measure(policy: policy, prior: model, tokenizer: tokenizer, preference: study.target, beta: 0.5,
                                       count: 16, rng: study.seeds.generator("eval-\(method.id)-\(step)")), [])
        }
        return Dictionary(uniqueKeysWithValues: curves.map { ($0.method, $0) })
    }

    @Test("a dummy method inserted first, with the others reordered, changes none of their curves; the report finds each by id")
    func insertedMethod() throws {
        let prior = try #require(Self.makePrior())
        let cache = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: cache) }
        let base: [Method] = [.reinforce, .klReinforce(beta: 0.5), .dpg]
        let dummy = Method.klReinforce(beta: 3)
        let extended: [Method] = [dummy, .dpg, .klReinforce(beta: 0.5), .reinforce]
        let a = try Self.curves(Self.study(base, prior: prior, cache: cache))
        let b = try Self.curves(Self.study(extended, prior: prior, cache: cache))
        #expect(Set(b.keys) == Set(extended))
        for m in base {
            let x = try #require(a[m]), y = try #require(b[m])
            #expect(x.steps == y.steps, "\(m.id)")
            #expect(x.measurements.map(\.rewards) == y.measurements.map(\.rewards), "\(m.id): rewards differ")
            #expect(x.measurements.map(\.logRatios) == y.measurements.map(\.logRatios), "\(m.id): log-ratios differ")
        }
        // The report: one section a method, each check named by its method's id.
        let page = Page(slug: "10-test", number: 10, title: "t", summary: "t")
        let study = Self.study(extended, prior: prior, cache: cache, page: page)
        let est = PriorEstimates.estimate(prior: prior.model, tokenizer: prior.tokenizer, preference: study.target, beta: 0.5,
                                          count: 256, rng: RandomGenerator(seed: 3))
        let priorMeasurement = PolicyMeasurement.measure(policy: prior.model, prior: prior.model, tokenizer: prior.tokenizer,
                                                         preference: study.target, beta: 0.5, count: 16, rng: RandomGenerator(seed: 4))
        study.report(Study.Results(curves: b, estimates: est, prior: priorMeasurement, priorForward: [], priorTexts: ["ab"]))
        let ids = page.checks.map(\.id)
        #expect(ids.contains("klrl-3.0.entropy-kept") && ids.contains("klrl-beta.entropy-kept"), "\(ids)")
        #expect(ids.contains("rl.entropy-halved") && ids.contains("dpg.constraint-rises"), "\(ids)")
        #expect(Set(ids).count == ids.count, "duplicate ids: \(ids)")
        // Each section read its own method's curve, wherever that method ran.
        let rlCheck = try #require(page.checks.first { $0.id == "rl.entropy-halved" })
        #expect(rlCheck.b == b[.reinforce]!.measurements.last!.entropy.value)
        let dummyCheck = try #require(page.checks.first { $0.id == "klrl-3.0.entropy-kept" })
        #expect(dummyCheck.a == b[dummy]!.measurements.last!.entropy.value)
        let dpgCheck = try #require(page.checks.first { $0.id == "dpg.constraint-rises" })
        #expect(dpgCheck.a == b[.dpg]!.measurements.last!.constraint.value)
    }

    @Test("method ids are stable names, and labels are for display only")
    func ids() {
        #expect(Method.reinforce.id == "rl" && Method.klReinforce(beta: 0.25).id == "klrl-0.25" && Method.dpg.id == "dpg")
        #expect(Set([Method.reinforce, .klReinforce(beta: 0.25), .klReinforce(beta: 0.5), .dpg].map(\.id)).count == 4)
    }
}

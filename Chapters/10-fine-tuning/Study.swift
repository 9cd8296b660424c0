import BookKit
import FineTune
import Foundation
import GSL
import Notebook
import TinyLM

/// The at-scale study: one prior, the methods on the same budget, measured along training.
///
/// Everything a method owns is found by its stable `Method.id`: its random streams
/// ("train-<id>-<step>", "eval-<id>-<step>"), its checkpoints, its entry in the state key and its
/// curve in `Results`. Adding a method is one case of `Method`, one branch of
/// `FineTuner.trainStep` and one section in `report`; the other methods' numbers do not move.
struct Study {
    let page: Page
    let seeds: Seeds
    let prior: Checkpoint
    let target: TargetWord
    let settings: FineTuneSettings
    let betas: [Double]
    let quick: Bool
    /// The pretraining cache's key of the prior (`PretrainSettings.key`).
    let priorKey: String
    /// The output folder's hidden cache, where an interrupted run keeps its fine-tuning state.
    let stateCache: URL
    /// Stop (exit 3) once this many fine-tuning steps in total are done: a testing aid.
    let stopAfter: Int?
    /// The methods, in the order they run (the order changes no number).
    let methods: [Method]

    init(page: Page, seeds: Seeds, prior: Checkpoint, target: TargetWord, settings: FineTuneSettings, betas: [Double],
         quick: Bool, priorKey: String, stateCache: URL, stopAfter: Int?, methods: [Method]? = nil) {
        self.page = page; self.seeds = seeds; self.prior = prior; self.target = target; self.settings = settings
        self.betas = betas; self.quick = quick; self.priorKey = priorKey; self.stateCache = stateCache
        self.stopAfter = stopAfter
        self.methods = methods ?? ([.reinforce] + betas.map { .klReinforce(beta: $0) } + [.dpg])
    }

    var priorSamples: Int { 8192 }
    var evalSamples: Int { 256 }
    /// The last evaluation, on which the arrival checks rest, takes more samples.
    var finalEvalSamples: Int { 1024 }
    var evaluations: Int { quick ? 3 : 6 }

    /// What the sections read: each method's curve by method, and the prior's own measurements.
    struct Results {
        let curves: [Method: TrainingCurve]
        let estimates: PriorEstimates
        /// The prior samples that satisfy b, of those drawn: Z_b with its Wilson interval.
        var count: BinomialCount { estimates.constraintCount }
        /// The prior measured like a policy, on its own stream ("eval-prior").
        let prior: PolicyMeasurement
        /// The forward-KL terms of the prior on the exact posterior samples.
        let priorForward: [Double]
        let priorTexts: [String]

        subscript(_ method: Method) -> TrainingCurve { curves[method]! }
    }

    /// Everything that determines what the fine-tuning measures: a saved state is resumed only
    /// under an equal key. Bump `format` when the code changes what a step or an evaluation does.
    struct StateKey: Codable {
        var format = "fine-tuning-state/3"
        /// How KL-RL estimates its penalty's gradient (absent from states saved before the option).
        var klGradient: String?
        /// Which tokens KL-RL credits with the word (absent when every token is, as before the option).
        var rewardCredit: String?
        /// How DPG trains after the word's decision (absent when sampled, as before the option).
        var dpgContinuation: String?
        /// Plain RL's learning rate (absent from states saved before it had its own).
        var reinforceLearningRate: Double?
        let seed: UInt64
        let quick: Bool
        let word: String
        let steps, batchSize: Int
        let learningRate, finalLearningRateFraction, gradClip: Double
        let betas: [Double]
        /// The methods' ids.
        let methods: [String]
        let priorSamples, evalSamples, finalEvalSamples, evaluations: Int
        /// The prior: its pretraining settings' key and a hash of its weights.
        let prior, priorWeights: String
    }

    /// Where this run's fine-tuning state is kept, under its key.
    var stateStore: FineTuneStateStore {
        let key = StateKey(klGradient: settings.klGradient == .sequenceK1 ? nil : settings.klGradient.rawValue,
                           rewardCredit: settings.rewardCredit == .sequence ? nil : settings.rewardCredit.rawValue,
                           dpgContinuation: settings.dpgContinuation == .sampled ? nil
                               : settings.dpgContinuation.rawValue,
                           reinforceLearningRate: settings.reinforceLearningRate,
                           seed: seeds.seed, quick: quick, word: target.word, steps: settings.steps,
                           batchSize: settings.batchSize, learningRate: settings.learningRate,
                           finalLearningRateFraction: settings.finalLearningRateFraction,
                           gradClip: settings.gradClip, betas: betas, methods: methods.map(\.id),
                           priorSamples: priorSamples, evalSamples: evalSamples, finalEvalSamples: finalEvalSamples,
                           evaluations: evaluations,
                           prior: priorKey, priorWeights: prior.model.parameters.digest)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return FineTuneStateStore(cache: stateCache, key: String(decoding: try! encoder.encode(key), as: UTF8.self),
                                  methods: methods, steps: settings.steps)
    }

    /// The name of a method in check ids: independent of option values ("klrl-beta" for the
    /// first temperature, "klrl-2beta" for the second).
    func checkName(_ method: Method) -> String {
        guard case .klReinforce(let b) = method else { return method.id }
        switch betas.firstIndex(of: b) {
        case 0: return "klrl-beta"
        case 1: return "klrl-2beta"
        default: return method.id
        }
    }

    func run(state: FineTuneStateStore) throws {
        let model = prior.model
        page.section("The prior: a tiny GPT pretrained on fortune cookies")
        page.prose(#"""
            The prior $\pi_0$ is a character-level transformer with the architecture of nanoGPT, pretrained in this
            run (or taken from the cache) on the quotations of Debian's fortunes package. A document is a start
            token, characters and an end token, so $\pi_0(x)$ is the product of next-token probabilities up to the
            end token and $\pi_0$ is a distribution over finite strings, the setting of the paper's §2.
            """#)
        let c = model.config
        page.parameters([("layers, heads, width", "\(c.nLayer), \(c.nHead), \(c.nEmbd)"),
                         ("context", "\(model.config.blockSize) characters"),
                         ("vocabulary", "\(prior.tokenizer.count) symbols"), ("target word", "“\(target.word)”")])
        let est = PriorEstimates.estimate(prior: model, tokenizer: prior.tokenizer, preference: target, beta: betas[0],
                                          count: priorSamples, rng: seeds.generator("prior-estimates"),
                                          progress: "prior samples for Z_b")
        let count = est.constraintCount
        let zb = count.value
        let wilson = count.wilson(z: 1.959963984540054)
        guard count.successes > 1 else {
            throw InputError("fewer than two samples of the prior contain “\(target.word)”: "
                                 + "choose a more frequent --word")
        }
        page.prose(#"""
            The preference is the word “\#(target.word)”: $b(x) = 1$ when the text contains it as a whole word. Its
            posteriors are the constrained one $\pi^*_b = \pi_0 b / Z_b$ of §5 and, at each temperature, the
            exponential one $\pi^*_\beta = \pi_0 e^{b/\beta}/Z(\beta)$ of eq. 5. Because $b$ takes two values, one
            number fixes both normalisers: $Z(\beta) = 1 + Z_b (e^{1/\beta} - 1)$, and $Z_b = \pi_0(b = 1)$ is the
            fraction of prior texts that satisfy $b$, here \#(count.successes) of \#(count.trials), a binomial count
            with the Wilson interval [\#(fmt(wilson.lowerBound)), \#(fmt(wilson.upperBound))] at 95%. No
            importance weight enters, so no rare text can hide from the estimate: its only error is the binomial
            one, and $\log \hat{Z}(\beta)$ is biased by Jensen's inequality by about $-\mathrm{se}(\log \hat{Z})^2/2$,
            below \#(fmt(pow(logEvidenceError(count, beta: betas.min()!), 2) / 2)) nats at the temperatures used here.
            """#)
        page.equation(#"""
            \hat{Z}_b = \frac{\#(count.successes)}{\#(count.trials)} \approx \#(fmt(zb)), \qquad
            \log Z(\beta) = \log\left(1 + Z_b \left(e^{1/\beta} - 1\right)\right)
            """#, number: "5")
        page.record("log_Zb", Foundation.log(zb))
        for b in betas { page.record("log_Z_beta_\(b)", BinaryPosterior(zb: zb, beta: b).logEvidence) }

        // Filtering: rejection sampling from π0 is an exact sampler of π*_b; its acceptance rate is Z_b.
        let filtering = ProgressReporter(total: priorSamples, label: "prior samples for filtering")
        let fresh = model.sample(count: priorSamples, start: prior.tokenizer.bos, end: prior.tokenizer.eos,
                                 rng: seeds.generator("filtering")) { filtering.update($0, status: "") }
        let freshTexts = fresh.map { prior.tokenizer.decode($0.tokens) }
        let accepted = fresh.indices.filter { target.constraint(freshTexts[$0]) > 0 }
        let acceptance = Double(accepted.count) / Double(priorSamples)
        filteringSection(acceptance: acceptance, zb: zb)
        let posteriorSequences = accepted.map { fresh[$0].tokens }
        let posteriorPriorLogProbs = accepted.map { fresh[$0].logProb }
        let logZb = Foundation.log(zb)
        guard posteriorSequences.count > 1 else {
            throw InputError("fewer than two filtered prior samples contain “\(target.word)”: "
                                 + "choose a more frequent --word")
        }

        // Fine-tuning.
        let curves = try fineTune(state: state, logConstraintPartition: logZb) { policy, method, step in
            let evalBeta: Double
            if case .klReinforce(let b) = method { evalBeta = b } else { evalBeta = betas[0] }
            let m = PolicyMeasurement.measure(policy: policy, prior: model, tokenizer: prior.tokenizer,
                                              preference: target, beta: evalBeta,
                                              count: step == settings.steps ? finalEvalSamples : evalSamples,
                                              rng: seeds.generator("eval-\(method.id)-\(step)"))
            return (m, forwardTerms(policy, posteriorSequences, posteriorPriorLogProbs, logZb))
        }
        let priorMeasurement = PolicyMeasurement.measure(policy: model, prior: model, tokenizer: prior.tokenizer,
                                                         preference: target, beta: betas[0], count: evalSamples,
                                                         rng: seeds.generator("eval-prior"))
        let results = Results(curves: Dictionary(uniqueKeysWithValues: curves.map { ($0.method, $0) }), estimates: est,
                              prior: priorMeasurement,
                              priorForward: forwardTerms(model, posteriorSequences, posteriorPriorLogProbs, logZb),
                              priorTexts: freshTexts)
        report(results)
    }

    /// Fine-tunes a copy of the prior with each method in turn, measuring it (`measure`) at step
    /// 0, every `settings.steps / evaluations` steps and at the end. The state is saved at each
    /// evaluation and when a method finishes, and a saved state is continued. Step s of a method
    /// draws its samples from its own stream "train-<id>-<s>", and the tuner carries nothing
    /// else from step to step but its policy, optimiser and step, which the state holds: so a
    /// resumed run takes exactly the steps of an uninterrupted one, and a method's curve does not
    /// depend on which other methods run or in what order.
    func fineTune(state: FineTuneStateStore, logConstraintPartition: Double,
                  measure: (GPT, Method, Int) -> (PolicyMeasurement, [Double])) throws -> [TrainingCurve] {
        let restored = state.load(warn: warn)
        if let restored { log("resuming fine-tuning from \(state.folder.path): \(restored.position(of: state))") }
        var curves = restored?.finished ?? []
        var saver = StateSaver(store: state, warn: warn)
        let every = max(1, settings.steps / evaluations)
        let start = Date()
        var progress: ProgressReporter?   // from the first step this run takes (after a resume)
        for (index, method) in methods.enumerated() where index >= curves.count {
            let tuner = FineTuner(method: method, prior: prior, preference: target, settings: settings,
                                  logConstraintPartition: logConstraintPartition)
            var curve = TrainingCurve(method: method)
            if let restored, let current = restored.current, index == restored.finished.count {
                do {
                    try tuner.resume(from: current.checkpoint)
                    curve = current.curve
                } catch {
                    warn("ignoring the saved policy of \(method.id) (\(error)); that method starts again")
                }
            }
            func evaluate(_ s: Int) {
                let (m, terms) = measure(tuner.policy, method, s)
                curve.append(step: s, m, forwardTerms: terms)
            }
            if tuner.step == 0 && curve.steps.isEmpty { evaluate(0) }
            while tuner.step < settings.steps {
                let s = tuner.step + 1
                if progress == nil {
                    progress = ProgressReporter(total: methods.count * settings.steps, label: "fine-tuning",
                                                startingAt: index * settings.steps + s - 1)
                }
                tuner.trainStep(rng: seeds.generator("train-\(method.id)-\(s)"))
                let evaluated = s % every == 0 || s == settings.steps
                if evaluated { evaluate(s) }
                let total = index * settings.steps + s
                progress?.update(total, status: method.id)
                let stop = stopAfter.map { total >= $0 } ?? false
                if s == settings.steps { curves.append(curve) }
                if evaluated || stop {
                    saver.save(finished: curves, current: s == settings.steps ? nil : (curve, tuner))
                }
                if stop {
                    throw StoppedEarly("fine-tuning: stopped after \(total) fine-tuning steps as --stop-after-steps "
                                       + "asked; " + saver.howToContinue)
                }
            }
            (progress?.note ?? log)("  fine-tuned \(method.id) in \(Int(Date().timeIntervalSince(start))) s")
        }
        return curves
    }

    func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    func warn(_ line: String) { log("warning: " + line.split(whereSeparator: \.isNewline).joined(separator: " ")) }

    /// The terms of the forward KL(π*_b || π_θ) on exact posterior samples (filtered prior
    /// draws): log π0(x) - log Z_b - log π_θ(x), whose mean estimates the divergence.
    func forwardTerms(_ policy: GPT, _ sequences: [[Int32]], _ logPrior: [Double], _ logZb: Double) -> [Double] {
        guard !sequences.isEmpty else { return [] }
        let lp = policy.logProbs(of: sequences)
        return (0..<sequences.count).map { logPrior[$0] - logZb - lp[$0] }
    }

    /// The binomial error of log Ẑ(β) by the delta method: (Z − 1)/Z · se(Ẑ_b)/Ẑ_b.
    func logEvidenceError(_ count: BinomialCount, beta b: Double) -> Double {
        let zb = count.value
        let p = BinaryPosterior(zb: zb, beta: b)
        return (1 - exp(-p.logEvidence)) * count.standardError / zb
    }
}

func fmt(_ x: Double) -> String { NumberFormat.format(x, significant: 4) }

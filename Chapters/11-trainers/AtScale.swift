import BookKit
import Finite
import FineTune
import Foundation
import GSL
import Notebook
import TinyLM

/// The saved state of the trainers at scale: one `AtScale.Curve` a trainer.
typealias TrainersStateStore = TrainingStateStore<AtScale.Curve>

/// The trainers at scale: chapter 10's pretrained prior and binary target, each trainer through
/// `PolicyTrainer` on the same budget, its distance to π*_β estimated as chapter 10 estimates it
/// (`Arrival.reverse`, no importance weight).
struct AtScale {
    let page: Page
    let seeds: Seeds
    let quick: Bool
    let beta: Double
    let exact: ExactResults
    let steps: Int
    let learningRate: Double
    /// The output folder's hidden cache, where an interrupted run keeps its training state.
    let stateCache: URL
    /// Stop (exit 3) once this many steps in total are done, after saving: a testing aid.
    let stopAfter: Int?
    /// Told the state's store as soon as it is known, so that the caller deletes the state once the
    /// report is written.
    let storeMade: (TrainersStateStore) -> Void
    var batchSize: Int { quick ? 32 : 64 }
    var evalSamples: Int { 256 }
    /// The last evaluation, on which the check rests, takes more samples (chapter 10's).
    var finalEvalSamples: Int { 1024 }
    var priorSamples: Int { 8192 }
    var evaluations: Int { quick ? 2 : 3 }

    /// The trainers run at scale (GRPO without its std scaling is left to the bridge: the budget).
    static let trainers = TrainerCase.all.filter { $0.id != "grpo-k3-unscaled" }
    var trainers: [TrainerCase] { Self.trainers }
    /// The steps after which a run is measured (besides step 0).
    var evaluatedSteps: [Int] {
        let every = max(1, steps / evaluations)
        return (1...steps).filter { $0 % every == 0 || $0 == steps }
    }

    /// One trainer's run: its measurements at step 0 (the prior's) and at each evaluated step.
    struct Curve: SavedCurve {
        let trainerID: String
        private(set) var steps: [Int] = [0]
        private(set) var measurements: [PolicyMeasurement]

        init(trainer: TrainerCase, prior: PolicyMeasurement) { trainerID = trainer.id; measurements = [prior] }

        /// Found by id among the trainers at scale (a saved state's curves are checked against them).
        var trainer: TrainerCase { AtScale.trainers.first { $0.id == trainerID }! }
        var runID: String { trainerID }
        var lastStep: Int? { steps.last }

        mutating func append(step: Int, _ m: PolicyMeasurement) { steps.append(step); measurements.append(m) }

        func inconsistency(run id: String, through last: Int, limit: Int) -> String? {
            guard trainerID == id else { return "it records \(trainerID) where \(id) was expected" }
            guard measurements.count == steps.count else {
                return "\(id) has \(steps.count) steps and \(measurements.count) measurements"
            }
            return TrainingCurve.stepsInconsistency(steps.map(Double.init), of: id, through: last, limit: limit)
        }
    }

    /// Everything that determines what the trainers at scale measure: a saved state is resumed
    /// only under an equal key. Bump `format` when the code changes what a step or an evaluation does.
    struct StateKey: Codable {
        var format = "trainers-at-scale-state/1"
        let seed: UInt64
        let quick: Bool
        let word: String
        let steps, batchSize: Int
        let beta, learningRate, gradClip: Double
        /// The trainers' ids, in the order they run.
        let trainers: [String]
        let priorSamples, evalSamples, finalEvalSamples, evaluations: Int
        /// The prior: its pretraining settings' key and a hash of its weights.
        let prior, priorWeights: String
    }

    /// Where this run's state is kept, under its key.
    func stateStore(settings: FineTuneSettings, word: String, priorKey: String, prior: Checkpoint) throws
        -> TrainersStateStore {
        let key = StateKey(seed: seeds.seed, quick: quick, word: word, steps: settings.steps,
                           batchSize: settings.batchSize, beta: beta, learningRate: settings.learningRate,
                           gradClip: settings.gradClip, trainers: trainers.map(\.id), priorSamples: priorSamples,
                           evalSamples: evalSamples, finalEvalSamples: finalEvalSamples, evaluations: evaluations,
                           prior: priorKey, priorWeights: prior.model.parameters.digest)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: Data
        do { json = try encoder.encode(key) } catch { throw InputError("cannot encode the state key: \(error)") }
        return TrainersStateStore(cache: stateCache, names: Self.stateNames, key: String(decoding: json, as: UTF8.self),
                                  runs: trainers.map(\.id), steps: settings.steps)
    }

    /// The state's folder in the cache, and its words in messages.
    static let stateNames = TrainersStateStore.Names(folder: "trainers", state: "trainers-at-scale", run: "trainer",
                                                     runs: "trainers")

    func run() throws {
        let settingsPrior = PretrainSettings.fineTuningPrior(quick: quick)
        let prior: Checkpoint
        do { prior = try PretrainCache.pretrainedModel(settings: settingsPrior, showProgress: true) } catch {
            throw InputError("cannot pretrain the prior: \(error)")
        }
        let target = TargetWord(quick ? "the" : "love")   // chapter 10's word
        // Chapter 10's stream and sample size: the same count of texts that satisfy b, so the same Ẑ_b.
        let est = PriorEstimates.estimate(prior: prior.model, tokenizer: prior.tokenizer, preference: target,
                                          beta: beta, count: priorSamples, rng: seeds.generator("prior-estimates"),
                                          progress: "prior samples for Z_b")
        let count = est.constraintCount
        guard count.successes > 1, count.successes < count.trials else {
            throw InputError("the prior's samples give no usable count of texts containing “\(target.word)”")
        }
        introduce(prior: prior, target: target, count: count)
        let priorM = PolicyMeasurement.measure(policy: prior.model, prior: prior.model, tokenizer: prior.tokenizer,
                                               preference: target, beta: beta, count: evalSamples,
                                               rng: seeds.generator("eval-prior"))
        var settings = FineTuneSettings()
        settings.batchSize = batchSize; settings.steps = steps; settings.learningRate = learningRate
        let store = try stateStore(settings: settings, word: target.word, priorKey: settingsPrior.key, prior: prior)
        storeMade(store)
        let curves = try train(store: store, settings: settings, prior: prior, target: target, priorM: priorM)
        report(curves, count: count, prior: priorM)
    }

    /// Trains each trainer in turn, measuring it after each of `evaluatedSteps`. The state is saved
    /// at each evaluation (and where `stopAfter` stops), and a saved state is continued: step s of
    /// a trainer samples from its own stream "scale-train-<id>-<s>" and `PolicyTrainer` carries
    /// nothing else from step to step but its policy, optimiser and step, which the state holds,
    /// so a resumed run takes exactly the steps of an uninterrupted one.
    func train(store: TrainersStateStore, settings: FineTuneSettings, prior: Checkpoint, target: TargetWord,
               priorM: PolicyMeasurement) throws -> [Curve] {
        let restored = store.load(warn: warn)
        if let restored {
            log("resuming the trainers at scale from \(store.folder.path): \(restored.position(of: store))")
        }
        var curves = restored?.finished ?? []
        var saver = StateSaver(store: store, warn: warn)
        let evaluated = Set(evaluatedSteps)
        var progress: ProgressReporter?   // from the first step this run takes (after a resume)
        for (index, t) in trainers.enumerated() where index >= curves.count {
            let start = Date()
            let trainer = PolicyTrainer(recipe: t.recipe, beta: beta, prior: prior, settings: settings,
                                        reward: { target.constraint($0) })
            var curve = Curve(trainer: t, prior: priorM)
            if let current = restored?.current, index == restored?.finished.count {
                do {
                    try trainer.resume(from: current.checkpoint)
                    curve = current.curve
                } catch {
                    warn("ignoring the saved policy of \(t.id) (\(error)); that trainer starts again")
                }
            }
            while trainer.step < steps {
                let s = trainer.step + 1, total = index * steps + s
                if progress == nil {
                    progress = ProgressReporter(total: trainers.count * steps, label: "trainers at scale",
                                                startingAt: total - 1)
                }
                trainer.trainStep(rng: seeds.generator("scale-train-\(t.id)-\(s)"))
                progress?.update(total, status: t.id)
                if evaluated.contains(s) {
                    curve.append(step: s, PolicyMeasurement.measure(
                        policy: trainer.policy, prior: prior.model, tokenizer: prior.tokenizer, preference: target,
                        beta: beta, count: s == steps ? finalEvalSamples : evalSamples,
                        rng: seeds.generator("scale-eval-\(t.id)-\(s)")))
                }
                if s == steps { curves.append(curve) }
                let stop = stopAfter.map { total >= $0 } ?? false
                if evaluated.contains(s) || stop {
                    saver.save(finished: curves, current: s == steps ? nil : (curve, trainer))
                }
                if stop {
                    throw StoppedEarly("trainers at scale: stopped after \(total) steps as --stop-after-steps asked; "
                                       + saver.howToContinue)
                }
            }
            (progress?.note ?? log)("  at scale: \(t.id) in \(Int(Date().timeIntervalSince(start))) s")
        }
        return curves
    }

    func warn(_ line: String) { log("warning: " + line.split(whereSeparator: \.isNewline).joined(separator: " ")) }

    /// b(x) of each sample of a measurement (its rewards are the capped occurrence counts).
    static func constraints(_ m: PolicyMeasurement) -> [Double] { m.rewards.map { $0 > 0 ? 1 : 0 } }

    /// Chapter 10's estimate of KL(π_θ ‖ π*_β) from one evaluation's samples, with its 95% interval.
    func distance(_ m: PolicyMeasurement, _ count: BinomialCount) -> Arrival {
        Arrival.reverse(logRatios: m.logRatios, constraints: Self.constraints(m), beta: beta, count: count)
    }

    /// How much nearer π*_β a run ends than the prior, D_0 − D_T = −Ẑ_b/β − mean(ℓ − b/β) (log Ẑ(β)
    /// enters both distances and cancels, so its Jensen bias does not enter), with the error of
    /// that difference each way at 95% (Bonferroni, as chapter 10's bounds): the sample mean's
    /// one-sided 97.5% bound plus the move of Ẑ_b/β to an end of Z_b's two-sided 97.5% Wilson interval.
    struct Gain {
        let difference: Double
        /// D_0 − D_T must exceed this for the run to be measurably nearer π*_β than the prior.
        let nearerMargin: Double
        /// D_0 − D_T must be below minus this for the run to be measurably farther.
        let fartherMargin: Double
        var verdict: String {
            difference > nearerMargin ? "nearer" : difference < -fartherMargin ? "farther" : "not measurably apart"
        }
    }

    func gain(_ m: PolicyMeasurement, _ count: BinomialCount) -> Gain {
        let a = distance(m, count)
        let wilson = count.wilson(z: Arrival.zCount)
        let mean = Arrival.zMean * a.distance.standardError
        return Gain(difference: a.priorDistance.value - a.distance.value,
                    nearerMargin: mean + (wilson.upperBound - count.value) / beta,
                    fartherMargin: mean + (count.value - wilson.lowerBound) / beta)
    }

    /// The binomial error of log Ẑ(β) by the delta method, (Z − 1)/Z · se(Ẑ_b)/Ẑ_b, as chapter 10 states it.
    func logEvidenceError(_ count: BinomialCount) -> Double {
        (1 - exp(-BinaryPosterior(zb: count.value, beta: beta).logEvidence)) * count.standardError / count.value
    }

    func introduce(prior: Checkpoint, target: TargetWord, count: BinomialCount) {
        let c = prior.model.config
        let posterior = BinaryPosterior(zb: count.value, beta: beta)
        let wilson = count.wilson(z: 1.959963984540054)
        let jensen = pow(logEvidenceError(count), 2) / 2
        page.section("At scale: chapter 10's prior and target")
        page.prose(#"""
            The same trainers now fine-tune chapter 10's prior, the character transformer pretrained on Debian's
            fortunes (\#(c.nLayer) layers, \#(c.nEmbd) wide; the same cached checkpoint), toward chapter 10's
            preference: $b(x) = 1$ when the text contains the word “\#(target.word)”, else 0, at
            $\beta = \#(fmt(beta))$. Each trainer's reward is $b$, and each runs \#(steps) batches of \#(batchSize)
            samples with AdamW at learning rate \#(fmt(learningRate)), every other setting as on the bridge (GRPO
            without its std scaling is left to the bridge, for the time budget). The target is chapter 10's
            $\pi^*_\beta = \pi_0 e^{b/\beta}/Z(\beta)$ with $Z(\beta) = 1 + Z_b (e^{1/\beta} - 1)$, and
            $\hat{Z}_b$ is the same count as chapter 10's, from the same seeded stream: \#(count.successes) of
            \#(count.trials) prior texts contain the word (Wilson 95% interval
            [\#(fmt(wilson.lowerBound)), \#(fmt(wilson.upperBound))]).
            """#)
        page.derivation([
            DerivationLine(#"\hat{Z}_b = k/n"#, count.value,
                           note: "binomial standard error \(fmt(count.standardError))"),
            DerivationLine(#"\log Z(\beta) = \log\left(1 + \hat{Z}_b (e^{1/\beta} - 1)\right)"#, posterior.logEvidence,
                           note: "binomial standard error \(fmt(logEvidenceError(count)))"),
            DerivationLine(#"\pi^*_\beta(b = 1) = \hat{Z}_b e^{1/\beta} / Z(\beta)"#, posterior.mass),
            DerivationLine(#"\mathrm{KL}(\pi^*_\beta \| \pi_0) = \pi^*_\beta(b)/\beta - \log Z(\beta)"#,
                           posterior.klFromPrior, note: "how far the target is from the prior"),
            DerivationLine(#"D_0 = \mathrm{KL}(\pi_0 \| \pi^*_\beta) = \log Z(\beta) - \hat{Z}_b/\beta"#,
                           posterior.priorDistance, note: "the prior's distance, exact given $Z_b$"),
        ], caption: "The target at $\\beta = \(fmt(beta))$, from $\\hat{Z}_b$ alone")
        page.prose(#"""
            Each run is measured at step 0 and after steps \#(evaluatedSteps.map(String.init).joined(separator: ", "))
            on \#(evalSamples) fresh samples (\#(finalEvalSamples) at the last step), as chapter 10 measures its
            runs: $P_\theta(b)$, the exact
            stepwise $\mathrm{KL}(\pi_\theta \| \pi_0)$, and chapter 10's estimate of the distance by eq. 7,
            $\mathrm{KL}(\pi_\theta \| \pi^*_\beta) = \mathbb{E}_{\pi_\theta}[\ell - b/\beta] + \log Z(\beta)$,
            the mean of $\ell - b/\beta$ over the policy's samples ($\ell = \log \pi_\theta(x) - \log \pi_0(x)$,
            exact for each sample) plus $\log \hat{Z}(\beta)$. No importance weight enters: the mean is unbiased,
            and the only bias is Jensen's on $\log \hat{Z}$, about $-\mathrm{se}^2/2$ = \#(fmt(-jensen)) nats here.
            Its 95% interval spans the policy mean's one-sided 97.5% bounds and $Z_b$'s two-sided 97.5% Wilson
            interval. Whether a run ends nearer $\pi^*_\beta$ than the prior is read from the difference of the
            two distances: $\log \hat{Z}(\beta)$ enters both and cancels, $D_0 - D_T = -\hat{Z}_b/\beta -
            \overline{(\ell - b/\beta)}$, so Jensen's bias does not enter it, and its 95% margin is the mean's
            one-sided 97.5% bound plus the move of $\hat{Z}_b/\beta$ to an end of $Z_b$'s 97.5% interval. A run
            interrupted here continues from its last evaluation: the trainers' state is saved at every evaluation in
            the output folder's `.cache/trainers`, and deleted once the report is written.
            """#)
        page.record("scale_log_Zb", Foundation.log(count.value))
        page.record("scale_prior_distance", posterior.priorDistance)
    }

    func report(_ curves: [Curve], count: BinomialCount, prior: PolicyMeasurement) {
        let target = BinaryPosterior(zb: count.value, beta: beta)
        page.record("scale_beta", beta)
        page.record("scale_steps", Double(steps))
        var rows: [[String]] = []
        for curve in curves {
            let t = curve.trainer, end = curve.measurements.last!
            page.check(Checks.entropyKept(id: "scale.\(t.id).entropy-kept", trainer: t.name, policy: end.entropy,
                                          prior: prior.entropy))
            // Within its summation's rounding allowance of 0 it reads 0, never −6.7×10⁻¹⁶ (as in the bridge's tables).
            let exactKL = klText(exact.runs[t.id]!.policy.distribution, exact.posterior)
            let first = distance(curve.measurements[0], count), last = distance(end, count), g = gain(end, count)
            rows.append([t.name, t.followsReverseKL ? "yes" : "no", exactKL,
                         "\(fmt(end.constraint.value)) ± \(fmt(1.96 * end.constraint.standardError))",
                         fmt(end.klStepwise.value),
                         fmt(first.distance.value) + " → " + fmt(last.distance.value),
                         "\(fmt(last.distance.low)) to \(fmt(last.distance.high))",
                         "\(fmt(g.difference)) (\(fmt(g.nearerMargin))): \(g.verdict)",
                         fmt(end.entropyPerToken), fmt(end.distinct4)])
            page.record("scale_\(t.id)_nearer_than_prior", g.difference)
            page.record("scale_\(t.id)_nearer_margin", g.nearerMargin)
            page.record("scale_\(t.id)_farther_margin", g.fartherMargin)
            page.record("scale_\(t.id)_constraint", end.constraint.value)
            page.record("scale_\(t.id)_kl_to_prior", end.klStepwise.value)
            page.record("scale_\(t.id)_kl_to_posterior_start", first.distance.value)
            page.record("scale_\(t.id)_kl_to_posterior_end", last.distance.value)
            page.record("scale_\(t.id)_kl_to_posterior_low", last.distance.low)
            page.record("scale_\(t.id)_kl_to_posterior_high", last.distance.high)
        }
        rows.append(["prior $\\pi_0$", "—", "—",
                     "\(fmt(prior.constraint.value)) ± \(fmt(1.96 * prior.constraint.standardError))", "0",
                     "\(fmt(target.priorDistance)) (exact given $Z_b$)", "", "0", fmt(prior.entropyPerToken),
                     fmt(prior.distinct4)])
        page.record("scale_k1_largest_kl_to_posterior", curves.filter(\.trainer.followsReverseKL)
            .map { distance($0.measurements.last!, count).distance.value }.max() ?? .nan)
        let verdicts = curves.map { (trainer: $0.trainer, gain: gain($0.measurements.last!, count)) }
        let named = { (v: String) -> String in
            let xs = verdicts.filter { $0.gain.verdict == v }.map(\.trainer.name)
            return xs.isEmpty ? "none" : xs.joined(separator: "; ")
        }
        let k1 = verdicts.filter(\.trainer.followsReverseKL)
        let nearerK1 = k1.filter { $0.gain.verdict == "nearer" }.count
        page.record("scale_k1_nearer_count", Double(nearerK1))
        page.record("scale_k1_farther_count", Double(k1.filter { $0.gain.verdict == "farther" }.count))
        let summary = nearerK1 == k1.count
            ? "Every trainer with $k_1$ in the reward ends measurably nearer $\\pi^*_\\beta$ than the prior on "
                + "this run."
            : (nearerK1 == 0 ? "None of the trainers" : "Not every trainer")
                + " with $k_1$ in the reward ends measurably nearer $\\pi^*_\\beta$ than the prior on this run, "
                + "although each one's exact fixed point on the bridge is $\\pi^*_\\beta$."
        let entropies = curves.map { $0.measurements.last!.entropyPerToken }
        page.prose(#"""
            At the end of training, by the 95% margin of $D_0 - D_T$, the run ends nearer $\pi^*_\beta$ than the
            prior for: \#(named("nearer")); farther for: \#(named("farther")); not measurably apart for:
            \#(named("not measurably apart")). \#(summary) In expectation $D_0 - D_T$ is the gain of the evidence
            lower bound, $(P_\theta(b) - Z_b)/\beta - \mathrm{KL}(\pi_\theta \| \pi_0)$: a run ends farther than the
            prior when it spends more KL to the prior than $1/\beta$ times its gain in $P_\theta(b)$ pays for, which
            the table's columns show. The trainers' entropy per token ends between \#(fmt(entropies.min()!)) and
            \#(fmt(entropies.max()!)), against the prior's \#(fmt(prior.entropyPerToken)). A finite run with a
            noisy gradient and a fixed learning rate is not at its fixed point, whatever that point is, and the
            bridge shows where each would stop. These verdicts are shown, not checked: in the
            \#(quick ? "" : "quick ")runs of seeds 3 and 17 none of the trainers with $k_1$ in the reward ends
            measurably nearer $\pi^*_\beta$ than the prior (most end measurably farther), so a check that they end
            nearer would fail there.
            """#)
        page.table(headers: ["trainer and KL setting", "approximates $\\pi^*_\\beta$ (exact, bridge)",
                             "its fixed point's $\\mathrm{KL}(\\cdot \\| \\pi^*_\\beta)$ on the bridge",
                             "$P_\\theta(b)$ ± 95%",
                             "$\\mathrm{KL}(\\pi_\\theta \\| \\pi_0)$",
                             "estimated $\\mathrm{KL}(\\pi_\\theta \\| \\pi^*_\\beta)$, start → end",
                             "95% interval at the end", "$D_0 - D_T$ (95% margin): nearer than the prior?",
                             "entropy / token", "distinct-4"],
                   rows: rows,
                   caption: "My trainer with this KL setting: does it approximate the posterior, and how far "
                       + "from it does it end? (at scale: the end of training, \(finalEvalSamples) fresh samples "
                       + "each, the prior \(evalSamples))")
        // The frontier: the posterior path in closed form at Ẑ_b (chapter 10's), and each run.
        let grid = (0...80).map { 0.02 * pow(1000, Double($0) / 80) }   // β from 0.02 to 20
        let reach = curves.flatMap { $0.measurements.map(\.klStepwise.value) }.max() ?? 1
        let limit = 1.2 * max(reach, target.klFromPrior)
        let path = grid.map { BinaryPosterior(zb: count.value, beta: $0) }.filter { $0.klFromPrior <= limit }
        var series = [Series("posterior path $\\pi^*_\\beta$ at $\\hat{Z}_b$", x: path.map(\.klFromPrior),
                             y: path.map(\.mass), style: .dashed)]
        for curve in curves {
            series.append(Series(curve.trainer.name, x: curve.measurements.map(\.klStepwise.value),
                                 y: curve.measurements.map(\.constraint.value), style: .lineAndPoints))
        }
        series.append(Series("$\\pi^*_\\beta$ at $\\beta = \(fmt(beta))$", x: [target.klFromPrior], y: [target.mass],
                             style: .points))
        page.plot(LinePlot(title: "P(b) against KL at scale: the posterior path and the trainers",
                           description: "The posterior path over beta in closed form from the estimate of Z_b, with "
                               + "each trainer's KL to the prior and P(b) along training.",
                           xLabel: "KL(π ‖ π0) (nats)", yLabel: "$P(b)$", series: series, yIncludesZero: true),
                  caption: "The frontier (dashed, in closed form at $\\hat{Z}_b$, as in chapter 10) and the trainers "
                      + "along training; a trainer that reached $\\pi^*_\\beta$ would sit at the marked point. "
                      + "Shown, not checked.")
        page.samples("Samples of the prior", Array(prior.texts.prefix(4)))
        for curve in curves {
            page.samples("Samples after \(curve.trainer.name)", Array(curve.measurements.last!.texts.prefix(4)))
        }
    }
}

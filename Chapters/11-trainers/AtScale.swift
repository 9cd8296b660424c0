import BookKit
import Finite
import FineTune
import Foundation
import GSL
import Notebook
import TinyLM

/// The trainers at scale: chapter 10's pretrained prior and target, each trainer through
/// `PolicyTrainer` on the same budget, measured as chapter 10 measures its runs.
struct AtScale {
    let page: Page
    let seeds: Seeds
    let quick: Bool
    let beta: Double
    let exact: ExactResults
    let steps: Int
    let learningRate: Double
    var batchSize: Int { quick ? 32 : 64 }
    var evalSamples: Int { 256 }
    var priorSamples: Int { 8192 }
    var evaluations: Int { quick ? 2 : 3 }

    /// The trainers run at scale (GRPO without its std scaling is left to the bridge: the budget).
    var trainers: [TrainerCase] { TrainerCase.all.filter { $0.id != "grpo-k3-unscaled" } }

    struct Curve {
        let trainer: TrainerCase
        let steps: [Int]
        let measurements: [PolicyMeasurement]
        /// Wall-clock time, for the progress line only: the JSON holds no timings, so two runs of a
        /// seed write the same values.
        let seconds: Double
    }

    func run() throws {
        let settingsPrior = PretrainSettings.fineTuningPrior(quick: quick)
        let prior: Checkpoint
        do { prior = try PretrainCache.pretrainedModel(settings: settingsPrior, showProgress: true) } catch {
            throw InputError("cannot pretrain the prior: \(error)")
        }
        let target = TargetWord(quick ? "the" : "love")
        page.section("At scale: chapter 10's prior")
        let c = prior.model.config
        page.prose(#"""
            The same trainers now fine-tune chapter 10's prior, the character transformer pretrained on Debian's
            fortunes (\#(c.nLayer) layers, \#(c.nEmbd) wide; the same cached checkpoint), toward chapter 10's reward
            $r(x)$ = occurrences of “\#(target.word)” (at most 4), at $\beta = \#(fmt(beta))$, each for \#
            \#(steps) batches of
            \#(batchSize) samples with AdamW at learning rate \#(fmt(learningRate)) and every other setting as on the
            bridge (GRPO without its std scaling is left to the bridge, for the time budget). Each is measured as
            chapter 10 measures its runs, on \#(evalSamples) fresh samples: $\mathbb{E}[r]$, the exact stepwise
            $\mathrm{KL}(\pi_\theta \| \pi_0)$, and the estimate $\log \hat{Z} - \widehat{\mathrm{ELBO}}$ of
            $\mathrm{KL}(\pi_\theta \| \pi^*_\beta)$ with $\log \hat{Z}$ from \#(priorSamples) prior \#
            samples. That estimate is
            biased (chapter 10: $\log \hat{Z}$ misses the rare texts with many occurrences), so at scale the distances
            are shown, not checked; the bridge above is where they are exact. A run interrupted here starts again:
            this chapter does not save its fine-tuning state.
            """#)
        let est = PriorEstimates.estimate(prior: prior.model, tokenizer: prior.tokenizer, preference: target,
                                          beta: beta, count: priorSamples, rng: seeds.generator("prior-estimates"))
        let priorM = PolicyMeasurement.measure(policy: prior.model, prior: prior.model, tokenizer: prior.tokenizer,
                                               preference: target, beta: beta, count: evalSamples,
                                               rng: seeds.generator("eval-prior"))
        var settings = FineTuneSettings()
        settings.batchSize = batchSize; settings.steps = steps; settings.learningRate = learningRate
        var curves: [Curve] = []
        let every = max(1, steps / evaluations)
        let progress = ProgressReporter(total: trainers.count * steps, label: "trainers at scale")
        for (index, t) in trainers.enumerated() {
            let start = Date()
            let trainer = PolicyTrainer(recipe: t.recipe, beta: beta, prior: prior, settings: settings,
                                        reward: { target.reward($0) })
            var ss: [Int] = [0], ms = [priorM]
            for s in 1...steps {
                trainer.trainStep(rng: seeds.generator("scale-train-\(t.id)-\(s)"))
                progress.update(index * steps + s, status: t.id)
                guard s % every == 0 || s == steps else { continue }
                ss.append(s)
                ms.append(PolicyMeasurement.measure(policy: trainer.policy, prior: prior.model,
                                                    tokenizer: prior.tokenizer, preference: target, beta: beta,
                                                    count: evalSamples,
                                                    rng: seeds.generator("scale-eval-\(t.id)-\(s)")))
            }
            let seconds = Date().timeIntervalSince(start)
            progress.note("  at scale: \(t.id) in \(Int(seconds)) s")
            curves.append(Curve(trainer: t, steps: ss, measurements: ms, seconds: seconds))
        }
        report(curves, est: est, prior: priorM)
    }

    func report(_ curves: [Curve], est: PriorEstimates, prior: PolicyMeasurement) {
        let logZ = est.logPartition
        page.record("scale_beta", beta)
        page.record("scale_steps", Double(steps))
        var rows: [[String]] = []
        for curve in curves {
            let t = curve.trainer, end = curve.measurements.last!
            page.check(Checks.entropyKept(id: "scale.\(t.id).entropy-kept", trainer: t.name, policy: end.entropy,
                                          prior: prior.entropy))
            let exactKL = klDivergence(exact.runs[t.id]!.policy.distribution, exact.posterior)
            let estimate = logZ.value - end.elbo.value
            rows.append([t.name, t.followsReverseKL ? "yes" : "no", fmt(exactKL), fmt(end.reward.value),
                         fmt(end.klStepwise.value),
                         fmt(logZ.value - curve.measurements[0].elbo.value) + " → " + fmt(estimate),
                         fmt(end.entropyPerToken), fmt(end.distinct4)])
            page.record("scale_\(t.id)_reward", end.reward.value)
            page.record("scale_\(t.id)_kl_to_prior", end.klStepwise.value)
            page.record("scale_\(t.id)_kl_to_posterior_estimate", estimate)
        }
        var falls: [String] = [], rises: [String] = [], flat: [String] = []
        for curve in curves {
            let first = curve.measurements[0].elbo, last = curve.measurements.last!.elbo
            let change = first.value - last.value   // the change of log Ẑ − ELBO
            let se = (pow(first.standardError, 2) + pow(last.standardError, 2)).squareRoot()
            if abs(change) <= 2 * se { flat.append(curve.trainer.name) }
            else if change < 0 { falls.append(curve.trainer.name) }
            else { rises.append(curve.trainer.name) }
        }
        let list = { (xs: [String]) in xs.isEmpty ? "none" : xs.joined(separator: "; ") }
        page.prose(#"""
            Along training the estimated $\mathrm{KL}(\pi_\theta \| \pi^*_\beta)$ falls (by more than two \#
            standard errors of
            the two ELBO means) for: \#(list(falls)); rises for: \#(list(rises)); does not move measurably for:
            \#(list(flat)). A rise means the run moves away from $\pi^*_\beta$ on this budget, whatever its fixed point:
            a finite run with a noisy gradient and a fixed learning rate is not at its fixed point, and the bridge
            shows where each would stop.
            """#)
        page.table(headers: ["trainer and KL setting", "approximates $\\pi^*_\\beta$ (exact, bridge)",
                             "its fixed point's $\\mathrm{KL}(\\cdot \\| \\pi^*_\\beta)$ on the bridge",
                             "$\\mathbb{E}[r]$",
                             "$\\mathrm{KL}(\\pi_\\theta \\| \\pi_0)$",
                             "estimated $\\mathrm{KL}(\\pi_\\theta \\| \\pi^*_\\beta)$, start → end", "entropy / token",
                             "distinct-4"],
                   rows: rows,
                   caption: "My trainer with this KL setting: does it approximate the posterior, and how far "
                       + "from it does it end? (at scale: the end of training, \(evalSamples) fresh samples each)")
        // The frontier: the posterior path estimated from the prior's samples, and each run.
        let grid = (0...40).map { 0.05 * pow(200, Double($0) / 40) }
        let path = est.posteriorPath(grid)
        let reach = curves.flatMap { $0.measurements.map(\.klStepwise.value) }.max() ?? 1
        let shown = path.filter { $0.kl <= 1.5 * reach }
        var series = [Series("posterior path $\\pi^*_\\beta$", x: shown.map(\.kl), y: shown.map(\.reward),
                             style: .dashed)]
        for curve in curves {
            series.append(Series(curve.trainer.name, x: curve.measurements.map(\.klStepwise.value),
                                 y: curve.measurements.map(\.reward.value), style: .lineAndPoints))
        }
        let mark = est.posteriorPath([beta])[0]
        series.append(Series("$\\pi^*_\\beta$ at $\\beta = \(fmt(beta))$", x: [mark.kl], y: [mark.reward],
                             style: .points))
        page.plot(LinePlot(title: "Reward against KL at scale: the posterior path and the trainers",
                           description: "The posterior path over beta, estimated from prior samples, with each "
                               + "trainer's KL to the prior and reward along training.",
                           xLabel: "KL(π ‖ π0) (nats)", yLabel: "E[r]", series: series, yIncludesZero: true),
                  caption: "The frontier (dashed, estimated from the prior's samples) and the trainers along training; "
                      + "a trainer that reached $\\pi^*_\\beta$ would sit at the marked point. Shown, not checked.")
        page.samples("Samples of the prior", Array(prior.texts.prefix(4)))
        for curve in curves {
            page.samples("Samples after \(curve.trainer.name)", Array(curve.measurements.last!.texts.prefix(4)))
        }
    }
}

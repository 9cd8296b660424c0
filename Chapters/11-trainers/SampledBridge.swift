import BookKit
import Finite
import FineTune
import Foundation
import GSL
import Notebook
import TinyLM

/// The same trainers with samples, on the bridge's transformer: each run's exact distribution at
/// the end against its own exact fixed point and against the other kind's.
struct SampledBridge {
    let page: Page
    let seeds: Seeds
    let quick: Bool
    let exact: ExactResults

    struct Outcome {
        let trainer: TrainerCase
        /// The run's exact distribution at each evaluation, read from the transformer.
        let distributions: [Distribution]
        let steps: [Int]
    }

    var settings: FineTuneSettings {
        var s = FineTuneSettings()
        s.batchSize = 16; s.steps = quick ? 120 : 300; s.learningRate = 3e-3
        return s
    }

    func run() throws -> [Outcome] {
        page.section("The same trainers with samples, on the bridge's transformer")
        page.prose(#"""
            Now the trainers run as a practitioner runs them: the transformer itself is fine-tuned
            (`PolicyTrainer`, AdamW at learning rate \#(fmt(settings.learningRate)), \#(settings.steps) batches of
            \#(settings.batchSize) samples, the recipes above with their epochs and clipping, GRPO's groups of 8 and
            RLOO's pairs taken from consecutive samples), and its exact distribution over the
            \#(exact.tabularPrior.space.count) sequences is read off at every evaluation. The transformer is not the
            table, and a finite run with a noisy gradient does not arrive; so two rules, fixed before any run, stand
            in for "ends near its fixed point": the run removes at least 70% of the prior's KL to its trainer's exact
            fixed point (chapter 10's arrival rule), and it ends nearer that point than the other kind's (for a
            trainer whose fixed point is $\pi^*_\beta$, GRPO's $k_3$ fixed point; for GRPO with $k_3$, $\pi^*_\beta$).
            """#)
        var outcomes: [Outcome] = []
        let space = exact.tabularPrior.space
        let progress = ProgressReporter(total: TrainerCase.all.count * settings.steps, label: "trainers on the bridge")
        for (index, c) in TrainerCase.all.enumerated() {
            let start = Date()
            let trainer = PolicyTrainer(recipe: c.recipe, beta: exact.problem.beta, prior: exact.prior,
                                        settings: settings, reward: BridgeModel.reward)
            var ds: [Distribution] = [], steps: [Int] = []
            let every = max(1, settings.steps / 6)
            for s in 0...settings.steps {
                if s > 0 {
                    trainer.trainStep(rng: seeds.generator("bridge-\(c.id)-\(s)"))
                    progress.update(index * settings.steps + s, status: c.id)
                }
                guard s % every == 0 || s == settings.steps else { continue }
                ds.append(BridgeModel.tabular(trainer.policy, tokenizer: exact.prior.tokenizer,
                                              blockSize: exact.blockSize, space: space).model.distribution)
                steps.append(s)
            }
            outcomes.append(Outcome(trainer: c, distributions: ds, steps: steps))
            progress.note("  sampled \(c.id) on the bridge: \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        }
        var rows: [[String]] = []
        var series: [Series] = []
        for o in outcomes {
            let c = o.trainer
            let own = exact.predictions[c.id]!, end = o.distributions.last!
            let other = c.followsReverseKL ? exact.predictions["grpo-k3"]! : exact.posterior
            let otherName = c.followsReverseKL ? "GRPO's $k_3$ fixed point" : "$\\pi^*_\\beta$"
            let start = klDivergence(o.distributions[0], own)
            page.check(Checks.arrival(id: "sampled.\(c.id).arrival", trainer: c.name, start: start,
                                      end: klDivergence(end, own)))
            page.check(Checks.nearerOwn(id: "sampled.\(c.id).nearer-own", trainer: c.name, own: klDivergence(end, own),
                                        other: klDivergence(end, other), otherName: otherName))
            rows.append([c.name, fmt(start), klText(end, own), klText(end, other),
                         klText(end, exact.posterior), fmt(end.expectation(exact.problem.reward)),
                         fmt(own.expectation(exact.problem.reward))])
            page.record("sampled_\(c.id)_kl_to_fixed_point", klDivergence(end, own))
            page.record("sampled_\(c.id)_kl_to_posterior", klDivergence(end, exact.posterior))
            series.append(Series(c.name, x: o.steps.map(Double.init), y: o.distributions.map { klDivergence($0, own) },
                                 style: .lineAndPoints))
        }
        page.record("sampled_largest_kl_to_fixed_point", outcomes.map {
            klDivergence($0.distributions.last!, exact.predictions[$0.trainer.id]!)
        }.max()!)
        page.table(headers: ["trainer", "$\\mathrm{KL}(\\pi_0 \\| \\pi_{\\text{fixed}})$",
                             "$\\mathrm{KL}(\\pi_T \\| \\pi_{\\text{fixed}})$", "KL to the other kind's point",
                             "$\\mathrm{KL}(\\pi_T \\| \\pi^*_\\beta)$", "$\\mathbb{E}_{\\pi_T}[r]$",
                             "$\\mathbb{E}[r]$ at the fixed point"],
                   rows: rows,
                   caption: "Sampled runs on the bridge's transformer at the end, against the exact fixed points")
        page.plot(LinePlot(title: "Sampled runs: distance to their own exact fixed point",
                           description: "Exact KL from each sampled run's transformer to its trainer's exact "
                               + "fixed point.",
                           xLabel: "fine-tuning step",
                           yLabel: "$\\mathrm{KL}(\\pi_\\theta \\| \\text{fixed point})$ (nats)", series: series,
                           yIncludesZero: true),
                  caption: "Each sampled run's exact KL to the fixed point its trainer's exact update has.",
                  label: "sampled-runs")
        return outcomes
    }
}

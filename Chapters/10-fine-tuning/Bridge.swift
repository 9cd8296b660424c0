import BookKit
import Finite
import FineTune
import Foundation
import GSL
import Notebook
import TinyLM

/// The bridge: the same transformer and training code on a space small enough to enumerate,
/// so that during sampled KL-regularised training every identity of chapters 1-5 is computed
/// exactly and checked to rounding level.
struct Bridge {
    let page: Page
    let seeds: Seeds
    let quick: Bool

    /// Documents of at most blockSize - 1 characters over {a, b}.
    let blockSize = 6
    let beta = 1.0

    func run() throws {
        page.section("The bridge: the same code on an enumerable space")
        let prior: Checkpoint
        do {
            prior = try BridgeModel.pretrain(blockSize: blockSize, quick: quick, stream: seeds.generator)
        } catch {
            throw InputError("bridge pretraining failed: \(error)")
        }
        let space = EnumeratedSpace(tokenizer: prior.tokenizer, blockSize: blockSize)
        let reward = space.texts.map(BridgeModel.reward)   // r(x) = number of b's
        let (pi0, priorMass) = space.distribution(of: prior.model)
        let problem = ExactProblem(prior: pi0, reward: reward, beta: beta)
        let logZ = problem.logEvidence, posterior = problem.posterior

        page.prose(#"""
            A transformer with one layer, 16 wide, is pretrained on a synthetic language over $\{a, b\}$ (a two-state
            Markov chain: letters tend to alternate) with documents of at most \#(blockSize - 1) characters. Every
            token sequence its sampler can produce, \#(space.count) of them, is listed, so $\pi_\theta$ is an exact
            distribution at any moment. It is then fine-tuned by sampled KL-regularised REINFORCE, exactly as above,
            toward the reward $r(x)$ = number of b's with $\beta = \#(fmt(beta))$. Training arrives when the exact
            $\mathrm{KL}(\pi_T \| \pi^*)$ is at most 30% of the prior's, a threshold fixed before the run.
            """#)
        let floatTolerance = Double(blockSize + 1) * 64 * Double(Float.ulpOfOne)
        page.check(Checks.mass(id: "bridge.prior-mass",
                               claim: "The transformer's probabilities of all \(space.count) sequences sum to 1",
                               masses: [priorMass], tolerance: floatTolerance,
                               because: "each log π(x) sums at most \(blockSize + 1) Float log-probabilities: "
                                   + "(T+1)·64 Float ulps"))

        var settingsFT = FineTuneSettings()
        settingsFT.batchSize = 16; settingsFT.steps = quick ? 60 : 150; settingsFT.learningRate = 3e-3
        let tuner = FineTuner(method: .klReinforce(beta: beta), prior: prior, preference: TargetWord("unused"),
                              settings: settingsFT, logConstraintPartition: 0)
        let trainRNG = seeds.generator("bridge-train")
        var evaluations: [Evaluation] = []
        let progress = ProgressReporter(total: settingsFT.steps, label: "bridge fine-tuning")
        for s in 0...settingsFT.steps {
            if s > 0 {
                _ = tunerStep(tuner, space: space, reward: reward, rng: trainRNG)
                progress.update(s, status: "")
            }
            guard s % max(1, settingsFT.steps / 10) == 0 || s == settingsFT.steps else { continue }
            let (pi, mass) = space.distribution(of: tuner.policy)
            // A seeded Monte Carlo estimate of Z by importance sampling from π_θ, against the exact sum.
            let draws = 4000
            let sampler = try DiscreteSampler(weights: pi.probabilities)
            let w = sampler.sample(seeds.generator("bridge-mc-\(s)"), count: draws)
                .map { exp(reward[$0] / beta + pi0.logProbabilities[$0] - pi.logProbabilities[$0]) }
            let m = w.reduce(0, +) / Double(draws)
            let sd = (w.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(draws - 1)).squareRoot()
            evaluations.append(Evaluation(
                step: s, mass: mass, objective: Objective.klRegularised(pi, prior: pi0, reward: reward, beta: beta),
                klToPosterior: klDivergence(pi, posterior),
                shapedMean: pi.expectation(Objective.shapedReward(pi, prior: pi0, reward: reward, beta: beta)),
                elbo: Objective.evidenceLowerBound(pi, prior: pi0, reward: reward, beta: beta),
                importance: .init(mean: m, standardDeviation: sd, draws: draws)))
        }
        let scale = abs(logZ) + reward.max()! + 40
        let rounding = Double(space.count + 2) * Double.ulpOfOne * scale * 16
        page.check(Checks.mass(id: "bridge.policy-mass",
                               claim: "During sampled training the model stays a distribution: "
                                   + "$\\sum_x \\pi_\\theta(x) = 1$",
                               masses: evaluations.map(\.mass), tolerance: floatTolerance,
                               because: "Float log-probabilities, as above"))
        // Eqs. 4, 7 and 13-15 are one sum written in several ways: shown with their values at the
        // end of training and the largest disagreement over the evaluations, not counted as checks.
        let last = evaluations.last!
        let spread = { (f: (Evaluation) -> Double) in evaluations.map { abs(f($0)) }.max()! }
        page.derivation([
            DerivationLine(#"J_{\mathrm{KLRL}}(\pi_T) = \mathbb{E}_{\pi_T}[r] - \beta\,\mathrm{KL}(\pi_T \| \pi_0)"#,
                           last.objective),
            DerivationLine(#"= \mathbb{E}_{\pi_T}[r'], \quad r' = r - \beta \log \frac{\pi_T}{\pi_0}"#, last.shapedMean,
                           note: "eq. 4; largest difference over the evaluations "
                               + fmt(spread { $0.shapedMean - $0.objective })),
            DerivationLine(#"= \beta \log Z - \beta\,\mathrm{KL}(\pi_T \| \pi^*)"#,
                           beta * logZ - beta * last.klToPosterior,
                           note: "eq. 7; largest difference "
                               + fmt(spread { beta * logZ - beta * $0.klToPosterior - $0.objective })),
            DerivationLine(#"\log Z - \mathrm{ELBO}(\pi_T) = \mathrm{KL}(\pi_T \| \pi^*)"#, logZ - last.elbo,
                           note: "the gap of Jensen's step (13)→(14); largest difference "
                               + fmt(spread { logZ - $0.elbo - $0.klToPosterior })),
        ], caption: "One sum written four ways, summed exactly over the \(space.count) sequences at the end of "
            + "training")
        page.check(Checks.evidenceBound(objectives: evaluations.map(\.objective), beta: beta, logZ: logZ,
                                        tolerance: rounding))
        page.check(Checks.importanceSampling(evaluations.map(\.importance), z: exp(logZ)))
        let klPost = evaluations.map(\.klToPosterior)
        page.check(Checks.arrival(start: klPost.first!, end: klPost.last!))
        page.record("bridge_kl_start", klPost.first!)
        page.record("bridge_kl_end", klPost.last!)
        let steps = evaluations.map { Double($0.step) }
        page.plot(LinePlot(title: "The bridge: exact quantities during sampled training",
                           description: #"$J_{KLRL}$, $J_{KLRL} + \beta \, \mathrm{KL}$ to the posterior, and "#
                               + #"$\beta \log Z$, computed exactly."#,
                           xLabel: "fine-tuning step", yLabel: "nats",
                           series: [Series(#"$J_{KLRL}(\pi_\theta)$"#, x: steps, y: evaluations.map(\.objective),
                                           style: .lineAndPoints),
                                    Series(#"$J_{KLRL} + \beta \, \mathrm{KL}(\pi_\theta \| \pi^*)$"#, x: steps,
                                           y: evaluations.map { $0.objective + beta * $0.klToPosterior },
                                           style: .lineAndPoints),
                                    Series(#"$\beta \, \mathrm{KL}(\pi_\theta \| \pi^*)$"#, x: steps,
                                           y: klPost.map { beta * $0 }, style: .dashed)],
                           references: [ReferenceLine(.horizontal, at: beta * logZ, label: "β log Z")]),
                  caption: #"""
                    On the enumerable space the sum $J_{\mathrm{KLRL}} + \beta\,\mathrm{KL}(\pi_\theta \| \pi^*)$ sits
                    exactly on $\beta \log Z$ while training moves the objective up and the KL down (eq. 7).
                    """#)
    }

    /// What the bridge computes exactly at one evaluation of sampled training.
    struct Evaluation {
        let step: Int
        /// Σ_x π_θ(x) before normalisation.
        let mass: Double
        let objective, klToPosterior, shapedMean, elbo: Double
        let importance: Checks.ImportanceEstimate
    }

    /// One KL-REINFORCE step of the tuner (samples from the model's own sampler).
    func tunerStep(_ tuner: FineTuner, space: EnumeratedSpace, reward: [Double], rng: RandomGenerator) -> StepRecord {
        tuner.trainStep(rng: rng, reward: BridgeModel.reward)
    }
}

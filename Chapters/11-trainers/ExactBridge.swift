import BookKit
import Finite
import FineTune
import Foundation
import GSL
import Notebook
import TinyLM

/// What the exact section found, for the sampled section and the summary.
struct ExactResults {
    let prior: Checkpoint
    let tabularPrior: AutoregressiveModel
    let texts: [String]
    let problem: SequenceProblem
    let posterior: Distribution
    let blockSize: Int
    /// Each trainer's iterated fixed point and its prediction, by trainer id.
    let runs: [String: ExactTrainer.Run]
    let predictions: [String: Distribution]

    /// The opening section: the run's headline numbers, as recorded for the JSON, what they say,
    /// and each trainer's exact fixed point.
    func findings(_ page: Page) {
        let t = { (key: String) in Findings.text(page, key) }
        page.section(Findings.title)
        let k1 = TrainerCase.all.filter(\.followsReverseKL).map { "exact.\($0.id).fixed-point" }
        let k3 = TrainerCase.all.filter { !$0.followsReverseKL }.map { "exact.\($0.id)." }
        let atPosterior = Findings.held(page, k1)
            ? #"stop at $\pi^*_\beta$: none ends more than \#(t("exact_k1_largest_kl_to_posterior")) nats from it"#
            : #"""
                do not all stop at $\pi^*_\beta$ on this run (a check fails; the largest distance is \#
                \#(t("exact_k1_largest_kl_to_posterior")) nats)
                """#
        let k3Point = Findings.held(page, prefixes: k3)
            ? "stops where its own fixed-point equation predicts, and that point is not the posterior"
            : "does not stop where its prediction says on this run (a check fails)"
        let sampled = Findings.held(page, prefixes: ["sampled."])
            ? "every run removed at least 70% of the prior's distance to its trainer's exact fixed point and ended "
                + "nearer that point than the other kind's"
            : "not every run ended near its trainer's exact fixed point (a check fails)"
        let entropy = Findings.held(page, AtScale.trainers.map { "scale.\($0.id).entropy-kept" })
            ? "every trainer kept more than half the prior's entropy per token"
            : "not every trainer kept half the prior's entropy per token (a check fails)"
        // Whether a trainer with k1 in the reward ends nearer π*_β than the prior at scale: shown, not checked.
        let nearer = #"""
            of the \#(AtScale.trainers.filter(\.followsReverseKL).count) trainers with $k_1$ in the reward, \#
            \#(t("scale_k1_nearer_count")) ended measurably nearer $\pi^*_\beta$ than the prior and \#
            \#(t("scale_k1_farther_count")) measurably farther (chapter 10's estimate, no \#
            importance weight: the largest ends \#(t("scale_k1_largest_kl_to_posterior")) nats from it, against \#
            the prior's \#(t("scale_prior_distance")))
            """#
        page.prose(#"""
            Iterated exactly on the bridge's \#(t("bridge_sequences")) token sequences at \#
            $\beta = \#(t("beta"))$, the trainers with $k_1$ in the reward (PPO, RLOO, and GRPO with the penalty \#
            moved into the reward) \#(atPosterior). GRPO with TRL's per-token $k_3$ loss \#(k3Point): it ends \#
            \#(t("exact_grpo-k3_kl_to_posterior")) nats from $\pi^*_\beta$ \#
            (\#(t("exact_grpo-k3-unscaled_kl_to_posterior")) without the standard-deviation scaling), with \#
            expected reward \#(t("exact_grpo-k3_reward")) against the posterior's \#(t("posterior_reward")) \#
            (@tbl:fixed-points). Run with samples on the bridge's transformer, \#(sampled) (@fig:sampled-runs); \#
            at scale on chapter 10's prior and target, \#(t("scale_steps")) steps at \#
            $\beta = \#(t("scale_beta"))$, \#(entropy); \#(nearer), and GRPO with the $k_3$ loss ended \#
            \#(t("scale_grpo-k3_kl_to_posterior_end")) nats from it: these distances are shown, not checked \#
            (@tbl:findings).
            """#)
        Findings.table(page, [
            Findings.Row("bridge: token sequences", "bridge_sequences"),
            Findings.Row(#"bridge: $\beta$"#, "beta"),
            Findings.Row(#"$k_1$ in the reward: largest $\mathrm{KL}(\pi \| \pi^*_\beta)$ at the fixed point"#,
                         "exact_k1_largest_kl_to_posterior"),
            Findings.Row(#"GRPO, $k_3$ loss: $\mathrm{KL}(\pi \| \pi^*_\beta)$ at the fixed point"#,
                         "exact_grpo-k3_kl_to_posterior"),
            Findings.Row(#"GRPO without std scaling, $k_3$ loss: $\mathrm{KL}(\pi \| \pi^*_\beta)$"#,
                         "exact_grpo-k3-unscaled_kl_to_posterior"),
            Findings.Row(#"GRPO, $k_3$ loss: $\mathbb{E}_\pi[r]$ at the fixed point"#, "exact_grpo-k3_reward"),
            Findings.Row(#"$\mathbb{E}_{\pi^*_\beta}[r]$"#, "posterior_reward"),
            Findings.Row(#"sampled runs: largest $\mathrm{KL}(\pi_T \| \pi_{\text{fixed}})$"#,
                         "sampled_largest_kl_to_fixed_point"),
            Findings.Row("at scale: steps of each trainer", "scale_steps"),
            Findings.Row(#"at scale: $\beta$"#, "scale_beta"),
            Findings.Row(#"at scale: the prior's $\mathrm{KL}(\pi_0 \| \pi^*_\beta)$, exact given $\hat{Z}_b$"#,
                         "scale_prior_distance"),
            Findings.Row(#"at scale, $k_1$ in the reward: largest estimated $\mathrm{KL}(\pi_T \| \pi^*_\beta)$"#,
                         "scale_k1_largest_kl_to_posterior"),
            Findings.Row(#"at scale, $k_1$ in the reward: trainers measurably nearer $\pi^*_\beta$ than the prior"#,
                         "scale_k1_nearer_count"),
            Findings.Row(#"at scale, $k_1$ in the reward: trainers measurably farther from it than the prior"#,
                         "scale_k1_farther_count"),
            Findings.Row(#"at scale, GRPO with the $k_3$ loss: estimated $\mathrm{KL}(\pi_T \| \pi^*_\beta)$"#,
                         "scale_grpo-k3_kl_to_posterior_end"),
        ], caption: "The run's headline numbers, as recorded in the JSON twin")
        var rows: [[String]] = []
        for c in TrainerCase.all {
            guard let run = runs[c.id] else { continue }
            let d = run.policy.distribution
            rows.append([c.name, klText(d, posterior), klText(posterior, d),
                         fmt(totalVariation(d, posterior)), fmt(d.expectation(problem.reward)),
                         klText(d, problem.prior.distribution), c.followsReverseKL ? "yes" : "no"])
        }
        let p = problem.posterior
        rows.append(["$\\pi^*_\\beta$", "0", "0", "0", fmt(p.expectation(problem.reward)),
                     klText(p, problem.prior.distribution), "—"])
        page.table(headers: ["trainer", "$\\mathrm{KL}(\\pi \\| \\pi^*_\\beta)$",
                             "$\\mathrm{KL}(\\pi^*_\\beta \\| \\pi)$", "TV", "$\\mathbb{E}_\\pi[r]$",
                             "$\\mathrm{KL}(\\pi \\| \\pi_0)$", "approximates $\\pi^*_\\beta$"],
                   rows: rows, caption: "Each trainer's exact fixed point on the bridge, β = \(fmt(problem.beta))",
                   label: "fixed-points")
    }
}

/// The exact section: every trainer's expected update, summed over the bridge's sequences,
/// iterated to its fixed point and compared with the fixed point predicted on paper.
struct ExactBridge {
    let page: Page
    let seeds: Seeds
    let quick: Bool
    let beta: Double
    let blockSize = 6

    /// The stopping rule of the iteration: the largest entry of the preconditioned expected
    /// direction at most this (fixed before any run).
    static let stoppingTolerance = 1e-10
    static let maxIterations = 20_000

    func run() throws -> ExactResults {
        let prior: Checkpoint
        do {
            // The same streams as chapter 10's bridge: the same prior.
            prior = try BridgeModel.pretrain(blockSize: blockSize, quick: quick, stream: seeds.generator)
        } catch {
            throw InputError("bridge pretraining failed: \(error)")
        }
        let (pi0, texts) = BridgeModel.tabular(prior.model, tokenizer: prior.tokenizer, blockSize: blockSize)
        let reward = texts.map(BridgeModel.reward)
        let problem = SequenceProblem(prior: pi0, reward: reward, beta: beta)
        let posterior = problem.posterior
        page.section("Exactly, on the bridge")
        page.prose(#"""
            The bridge of chapter 10 is pretrained again here from the same seeds: a one-layer transformer over
            $\{a, b\}$ with documents of at most \#(blockSize - 1) characters, whose sampler can produce
            \#(pi0.space.count) token sequences (the start token can be drawn again, with a tiny probability). Its
            next-token distribution at every one of the \#(pi0.space.prefixCount) prefixes is read off the transformer
            and held as a table, $\pi_0(a \mid h)$; the policy is a softmax a prefix, $\pi_\theta(a \mid h) \propto
            e^{\theta_{h,a}}$. The reward is $r(x)$ = number of b's and $\beta = \#(fmt(beta))$. With
            $\ell_t = \log \pi_\theta(x_t \mid h_t) - \log \pi_0(x_t \mid h_t)$, each trainer is an advantage for every
            token, a clipped surrogate averaged over the tokens of an infinitely large batch, and, for GRPO, a
            per-token $k_3$ loss. Every expectation over samples, leave-one-out partners and groups is summed
            exactly over the sequences (for GRPO's groups of 8, over the multisets of the other seven rewards with
            their multinomial probabilities), so one iteration is the update an infinite batch would make.
            """#)
        page.table(headers: ["trainer", "what it imitates"], rows: TrainerCase.all.map { [$0.name, $0.source] },
                   caption: "The trainers and the library defaults they keep")
        page.prose(#"""
            Which point should each stop at? A trainer stops where its expected update is zero. Clipping and several
            epochs change the path, not the stopping points: at $\rho = 1$ the clipped surrogate's gradient is the
            plain policy gradient, so a point where that vanishes is left where it is by every epoch. Whitening the
            advantages, or dividing them by a batch's standard deviation, multiplies the update by one positive
            number and shifts the advantages by a constant, which adds nothing to
            $\mathbb{E}[\nabla \log \pi_\theta(x_t \mid h_t)] = 0$; so neither can move a stopping point. \#
            With $k_1$ in the
            reward, per token with returns to go (PPO) or per sequence (RLOO, GRPO with the penalty in the reward),
            the update is a positive multiple of \#
            $\nabla J_{\mathrm{KLRL}} = -\beta \nabla \mathrm{KL}(\pi_\theta \| \pi^*_\beta)$
            (eq. 7; chapter 9 shows these settings follow $\nabla \mathrm{KL}(\pi_\theta \| \pi_0)$), whose only zero is
            $\pi^*_\beta$. The per-token $k_3$ loss is another matter. Differentiated at the sampled token it gives
            $\beta (1 - \pi_0/\pi_\theta)(x_t \mid h_t)\, \nabla \log \pi_\theta(x_t \mid h_t)$, whose \#
            expectation in the block of
            prefix $h$ is $\beta\, \pi_\theta(h) (\pi_\theta(\cdot \mid h) - \pi_0(\cdot \mid h))$: the gradient of
            $\mathrm{KL}(\pi_0(\cdot \mid h) \| \pi_\theta(\cdot \mid h))$, the forward direction, prefix \#
            by prefix, blind to
            what follows $h$. Setting GRPO's expected update to zero at every prefix gives its predicted fixed point
            """#)
        page.equation(#"""
            \pi(a \mid h) = \frac{\beta\, \pi_0(a \mid h)}{\lambda_h - Q(h, a)}, \qquad
            \sum_a \pi(a \mid h) = 1, \quad \lambda_h > \max_a Q(h, a)
            """#)
        page.prose(#"""
            where $Q(h, a)$ is the expected group advantage of the sequences through $(h, a)$; the posterior instead has
            $\pi^*_\beta(a \mid h) \propto \pi_0(a \mid h)\, e^{Q^*(h, a)/\beta}$. And the group advantage
            $(r - \bar r)/(\mathrm{std} + 10^{-4})$ divides the reward by a spread that depends on the policy, which
            moves the point again: the reward's scale against $\beta$ is what sets the posterior. The prediction is
            computed without iterating any trainer: a fixed-point iteration on the advantage of each of the seven
            reward values, and inside it one pass up the prefix tree, each $\lambda_h$ found by bisection
            (`TrainerFixedPoints.k3FixedPoint`). The trainers themselves are iterated from $\pi_0$ by
            `ExactTrainer.fixedPoint`, each entry of the update divided by $\pi(h)\,\pi(a \mid h)$ (the natural
            gradient of the table, which cannot move a zero), until its largest entry is at most
            \#(fmt(Self.stoppingTolerance)); the step halves whenever the update grows, because a normalised
            advantage keeps the update's size near 1 however close the policy is, and a fixed step would circle the
            fixed point instead of reaching it.
            """#)
        var runs: [String: ExactTrainer.Run] = [:]
        var predictions: [String: Distribution] = [:]
        var rows: [[String]] = []
        for c in TrainerCase.all {
            let start = Date()
            let run = ExactTrainer.fixedPoint(c.recipe, from: pi0, problem: problem, step: 0.5, maxStep: 4,
                                              tolerance: Self.stoppingTolerance, maxIterations: Self.maxIterations)
            runs[c.id] = run
            let predicted: Distribution
            let predictionName: String
            if c.followsReverseKL {
                predicted = posterior
                predictionName = "$\\pi^*_\\beta$"
            } else {
                guard case .groupNormalised(let g, _, let scale) = c.recipe.advantage else {
                    preconditionFailure("only GRPO's k3 recipes have another fixed point")
                }
                predicted = TrainerFixedPoints.k3FixedPoint(problem: problem, group: g, scale: scale)
                    .policy.distribution
                predictionName = "its predicted per-prefix fixed point"
            }
            predictions[c.id] = predicted
            let d = run.policy.distribution
            log("  exact \(c.id): \(run.iterations) iterations, \(Int(Date().timeIntervalSince(start) * 1000)) ms")
            page.check(Checks.fixedPoint(id: "exact.\(c.id).fixed-point", trainer: c.name, iterated: d,
                                         predicted: predicted, predictionName: predictionName))
            if !c.followsReverseKL {
                page.check(Checks.distance(id: "exact.\(c.id).distance", trainer: c.name,
                                           iterated: klDivergence(d, posterior),
                                           predicted: klDivergence(predicted, posterior)))
                page.check(Checks.away(id: "exact.\(c.id).away", trainer: c.name,
                                       predicted: klDivergence(predicted, posterior)))
            }
            rows.append([c.name, "\(run.iterations)", fmt(run.residual), klText(d, predicted),
                         klText(d, posterior), klText(posterior, d), fmt(totalVariation(d, posterior)),
                         fmt(d.expectation(reward)), klText(d, pi0.distribution)])
            page.record("exact_\(c.id)_kl_to_posterior", klDivergence(d, posterior))
            page.record("exact_\(c.id)_kl_from_posterior", klDivergence(posterior, d))
            page.record("exact_\(c.id)_reward", d.expectation(reward))
            page.record("exact_\(c.id)_kl_to_prior", klDivergence(d, pi0.distribution))
        }
        page.record("beta", beta)
        page.record("bridge_sequences", Double(pi0.space.count))
        page.record("posterior_reward", posterior.expectation(reward))
        page.record("exact_k1_largest_kl_to_posterior", TrainerCase.all.filter(\.followsReverseKL)
            .map { klDivergence(runs[$0.id]!.policy.distribution, posterior) }.max()!)
        rows.append(["$\\pi^*_\\beta$ (closed form)", "—", "—", "—", "0", "0", "0", fmt(posterior.expectation(reward)),
                     klText(posterior, pi0.distribution)])
        page.table(headers: ["trainer", "iterations", "residual", "KL to the prediction",
                             "$\\mathrm{KL}(\\pi \\| \\pi^*_\\beta)$", "$\\mathrm{KL}(\\pi^*_\\beta \\| \\pi)$", "TV",
                             "$\\mathbb{E}_\\pi[r]$", "$\\mathrm{KL}(\\pi \\| \\pi_0)$"],
                   rows: rows,
                   caption: "The iterated exact fixed points against their predictions and against $\\pi^*_\\beta$")
        let k3 = predictions["grpo-k3"]!, unscaled = predictions["grpo-k3-unscaled"]!
        page.prose(#"""
            PPO, RLOO and GRPO with the penalty in the reward stop at $\pi^*_\beta$ to rounding. GRPO with the per-token
            $k_3$ loss stops where its prediction says, \#(klText(k3, posterior)) nats from $\pi^*_\beta$
            (\#(klText(posterior, k3)) the other way); without the standard-deviation scaling it stops
            \#(klText(unscaled, posterior)) nats away, so part of GRPO's distance comes from the $k_3$ loss's
            direction and part from the reward's rescaling. GRPO's expected reward there is
            \#(fmt(k3.expectation(reward))), against \#(fmt(posterior.expectation(reward))) under $\pi^*_\beta$.
            """#)
        return ExactResults(prior: prior, tabularPrior: pi0, texts: texts, problem: problem, posterior: posterior,
                            blockSize: blockSize, runs: runs, predictions: predictions)
    }
}

/// KL(p ‖ q) as the page prints it: a value within the rounding allowance of its n-term sum
/// (terms up to 1 + max |log p − log q| in size) is shown as 0, so that a fixed point at the
/// posterior does not read as a negative divergence.
func klText(_ p: Distribution, _ q: Distribution) -> String {
    let spread = zip(p.logProbabilities, q.logProbabilities).map { Swift.abs($0 - $1) }.filter(\.isFinite).max() ?? 0
    let allowance = summationTolerance(p.count, scale: 1 + spread)
    return NumberFormat.format(klDivergence(p, q), significant: 4, zeroWithin: allowance)
}

@testable import Chapter07
import BookKit
import Finite
import GSL
import Notebook

/// One counterexample for each check chapter 7 emits: the chapter's own check builder, fed a
/// sign error, an estimator without its weights, a stopped optimiser or swapped fits.
enum Chapter07Counterexamples {
    static let seeds = Seeds(3)
    static var setting: Setting { Setting(beta: 0.25, seeds: seeds) }
    static var bimodal: Bimodal { Bimodal(length: 6, p: 0.85) }

    /// BFGS on the forward KL of the bimodal example, stopped after `iterations`.
    static func forwardFit(_ b: Bimodal, iterations: Int = 20_000) throws -> MinimizationResult {
        try b.fit(.forward, from: (0..<b.length).map { 0.3 * Double($0 + 1) }, maxIterations: iterations)
    }

    /// The reverse-KL optimum from a start near the all-ones mode.
    static func reverseFit(_ b: Bimodal, iterations: Int = 20_000) throws -> ReverseOptimum {
        let m = try b.fit(.reverse, from: [Double](repeating: 1, count: b.length), maxIterations: iterations)
        let q = b.family.distribution(logits: m.x)
        return ReverseOptimum(logits: m.x, q: q, kl: klDivergence(q, b.target))
    }

    static let all: [Counterexample] = [
        Counterexample("dpg.finite-difference", "the closed-form gradient with its sign flipped, π* − π_θ") {
            let s = setting
            let e = DPGExample(s, rng: seeds.generator("dpg"))
            let wrong = ForwardKL.gradient(policy: e.policy, target: s.target).map { -$0 }
            return finiteDifferenceCheck(gradient: wrong, example: e, target: s.target)
        },
        Counterexample("dpg.one-draw-unbiased", "the one-draw estimator without its importance weights (w = 1)") {
            let s = setting
            let rng = seeds.generator("dpg")
            let e = DPGExample(s, rng: rng)
            let piV = dot(e.policy.probabilities, e.direction)
            let unweighted = e.direction.map { -($0 - piV) }
            let exact = dot(ForwardKL.gradient(policy: e.policy, target: s.target), e.direction)
            return try oneDrawCheck(estimates: unweighted, policy: e.policy, exact: exact, draws: 200_000, rng: rng)
        },
        Counterexample("simplex.forward-bfgs", "BFGS stopped after 2 iterations") {
            let s = setting
            let objective = SoftmaxDivergenceObjective(target: s.target, direction: .forward)
            let m = try Minimizer.minimize(objective, from: [Double](repeating: 0, count: s.n), maxIterations: 2)
            return forwardFitCheck(fits: [Distribution.softmax(m.x)], target: s.target)
        },
        Counterexample("simplex.reverse-natural-gradient", "the ascent stopped after 20 of its 200 steps") {
            let s = setting
            let start = (0..<s.n).map { Double($0 % 7) - 3 }
            let end = klRegularisedAscent(s, from: start, stepSize: 0.5 / s.beta, steps: 20)
            return reverseFitCheck(runs: [ReverseRun(start: start, end: end)], setting: s, plannedSteps: 200)
        },
        Counterexample("bimodal.forward-marginals", "BFGS stopped after 1 iteration") {
            let b = bimodal
            return forwardMarginalsCheck(logits: try forwardFit(b, iterations: 1).x, b)
        },
        Counterexample("bimodal.forward-minimum", "the mode-seeking fit in place of the moment-matching one") {
            let b = bimodal
            return forwardMinimumCheck(fit: try reverseFit(b).q, b)
        },
        Counterexample("bimodal.forward-over-spreads", "the mode-seeking fit, which under-spreads") {
            let b = bimodal
            return overSpreadCheck(forward: try reverseFit(b).q, b)
        },
        Counterexample("bimodal.reverse-mean-field", "the reverse-KL BFGS stopped after 1 iteration") {
            let b = bimodal
            return meanFieldCheck(optima: [try reverseFit(b, iterations: 1)], b)
        },
        Counterexample("bimodal.reverse-beats-one-mode", "the moment-matching fit offered as the best reverse optimum") {
            let b = bimodal
            return reverseBeatsModeCheck(best: b.family.distribution(logits: try forwardFit(b).x), b)
        },
        Counterexample("bimodal.mode-seeking-wins-reverse", "the two fits swapped") {
            let b = bimodal
            let forward = b.family.distribution(logits: try forwardFit(b).x)
            return modeSeekingCheck(reverse: forward, forward: try reverseFit(b).q, b)
        },
        Counterexample("bimodal.moment-matching-wins-forward", "the two fits swapped") {
            let b = bimodal
            let forward = b.family.distribution(logits: try forwardFit(b).x)
            return momentMatchingCheck(forward: try reverseFit(b).q, reverse: forward, b)
        },
        Counterexample("mle.filtered-samples-chi-square", "10000 unfiltered draws from π0") {
            let s = setting
            let rng = seeds.generator("unfiltered")
            let sampler = try DiscreteSampler(weights: s.prior.probabilities)
            let draws = (0..<10_000).map { _ in sampler.sample(rng) }
            return try filteredSamplesCheck(counts: GoodnessOfFit.counts(draws, outcomes: s.n), target: s.target)
        },
        Counterexample("mle.bfgs-reaches-empirical", "BFGS on the cross-entropy stopped after 2 iterations") {
            let s = setting
            let objective = SoftmaxDivergenceObjective(target: s.target, direction: .forward)
            let m = try Minimizer.minimize(objective, from: s.prior.logProbabilities, maxIterations: 2)
            return maximumLikelihoodCheck(fit: Distribution.softmax(m.x), empirical: s.target)
        },
        Counterexample("dissociation.rl-collapses", "reward maximisation stopped after 10 steps") {
            let s = setting
            return collapseCheck(rl: rewardMaximisation(s, steps: 10), s)
        },
        Counterexample("dissociation.rl-point-mass-divergence", "reward maximisation stopped after 40 steps") {
            let s = setting
            return pointMassLimitCheck(rl: rewardMaximisation(s, steps: 40), s)
        },
    ]
}

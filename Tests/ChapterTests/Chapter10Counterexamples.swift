@testable import Chapter10
import Finite
import FineTune
import Foundation
import GSL
import Notebook

/// One counterexample to each check chapter 10 emits, built by the chapter's own check
/// functions (`Checks`) from inputs that make the claim false.
enum Chapter10Counterexamples {
    /// An estimate with a given standard error.
    static func estimate(_ value: Double, se: Double) -> Estimate {
        Estimate(value: value, standardError: se, low: value - 1.96 * se, high: value + 1.96 * se)
    }

    /// Seeded prose-like texts over a small alphabet, and the same texts made repetitive.
    static func texts(_ n: Int, seed: UInt64) -> [String] {
        let rng = RandomGenerator(seed: seed)
        let letters = Array("abcdefghij klmnopq rstuvwxyz")
        return (0..<n).map { _ in String((0..<60).map { _ in letters[rng.uniformInt(below: letters.count)] }) }
    }

    /// A small exact problem: three outcomes, β = 1.
    static let problem = ExactProblem(prior: Distribution(weights: [0.5, 0.3, 0.2]), reward: [0, 1, 2], beta: 1)

    /// A prior count: 240 of 8192 texts satisfy b (Z_b ≈ 0.029).
    static let count = BinomialCount(successes: 240, trials: 8192)

    /// Policy samples for KL-RL at β whose mean of ℓ − b/β puts the policy at `fraction` of the
    /// prior's distance to π*_β, with the given spread of ℓ around its class mean.
    static func reverseSamples(beta: Double, fraction: Double, spread: Double, n: Int) -> (ℓ: [Double], b: [Double]) {
        let target = BinaryPosterior(zb: count.value, beta: beta)
        let mean = fraction * target.priorDistance - target.logEvidence   // E[ℓ − b/β]
        let b = (0..<n).map { Double($0 % 2) }
        let l = (0..<n).map { i in mean + b[i] / beta + spread * (i % 4 < 2 ? 1 : -1) }
        return (l, b)
    }

    static let all: [Counterexample] = [
        Counterexample("rl.entropy-halved", "an entropy that stops just under the threshold, within its noise") {
            Checks.entropyCollapses(id: "rl.entropy-halved", policy: estimate(0.69, se: 0.01), prior: estimate(1.4, se: 0.01))
        },
        Counterexample("rl.diversity-falls", "a policy whose samples are the prior's: no fall") {
            let t = texts(64, seed: 1)
            return Checks.diversityFalls(id: "rl.diversity-falls", policyTexts: t, priorTexts: t, rng: RandomGenerator(seed: 2))
        },
        Counterexample("klrl-beta.entropy-kept", "a collapsed policy (plain RL's) in place of KL-RL's") {
            Checks.entropyKept(id: "klrl-beta.entropy-kept", beta: 0.25, policy: estimate(0.3, se: 0.02), prior: estimate(1.4, se: 0.01))
        },
        Counterexample("klrl-2beta.entropy-kept", "an entropy just above half the prior's, within its noise") {
            Checks.entropyKept(id: "klrl-2beta.entropy-kept", beta: 0.5, policy: estimate(0.71, se: 0.01), prior: estimate(1.4, se: 0.01))
        },
        Counterexample("dpg.forward-kl-falls", "a policy no closer: its terms scatter around the start's, 0.01 lower on average") {
            let terms = (0..<100).map { Double($0 % 7) - 3.5 }
            return Checks.forwardKLFalls(id: "dpg.forward-kl-falls", start: terms,
                                         end: terms.indices.map { terms[$0] - 0.01 + ($0 % 2 == 0 ? 0.3 : -0.3) })
        },
        Counterexample("dpg.constraint-rises", "a policy whose P(b) rose by less than its noise") {
            Checks.constraintRises(id: "dpg.constraint-rises", prior: estimate(0.03, se: 0.002), end: estimate(0.04, se: 0.012))
        },
        Counterexample("klrl-beta.evidence-bound", "an ELBO computed with b/β doubled (a temperature off by half)") {
            let (l, b) = reverseSamples(beta: 0.25, fraction: 0.1, spread: 0.3, n: 1024)
            let elbo = Estimate.mean(zip(l, b).map { 2 * $1 / 0.25 - $0 })
            return Checks.evidenceBoundAtScale(id: "klrl-beta.evidence-bound", beta: 0.25, elbos: [elbo],
                                               logZ: BinaryPosterior(zb: count.value, beta: 0.25).logEvidence,
                                               logZError: 0.04)
        },
        Counterexample("klrl-2beta.evidence-bound", "log Z taken at 2β for a run at β") {
            let (l, b) = reverseSamples(beta: 0.25, fraction: 0.1, spread: 0.3, n: 1024)
            let elbo = Estimate.mean(zip(l, b).map { $1 / 0.25 - $0 })
            return Checks.evidenceBoundAtScale(id: "klrl-2beta.evidence-bound", beta: 0.25, elbos: [elbo],
                                               logZ: BinaryPosterior(zb: count.value, beta: 0.5).logEvidence,
                                               logZError: 0.04)
        },
        Counterexample("klrl-beta.frontier", "a KL to the prior under-reported by half: P(b) above the frontier") {
            let kl = 1.2
            let p = BinaryPosterior.frontier(kl: kl, zb: count.value)
            return Checks.belowFrontier(id: "klrl-beta.frontier", method: "KL-RL", constraint: estimate(p, se: 0.01),
                                        kl: estimate(kl / 2, se: 0.02), count: count)
        },
        Counterexample("klrl-2beta.frontier", "P(b) counted with texts that merely contain the letters (too many)") {
            let kl = 0.4
            let p = BinaryPosterior.frontier(kl: kl, zb: count.value)
            return Checks.belowFrontier(id: "klrl-2beta.frontier", method: "KL-RL", constraint: estimate(p + 0.15, se: 0.015),
                                        kl: estimate(kl, se: 0.02), count: count)
        },
        Counterexample("dpg.frontier", "Z_b taken ten times too small: the frontier drawn too low") {
            let kl = 2.0
            let p = BinaryPosterior.frontier(kl: kl, zb: count.value)
            return Checks.belowFrontier(id: "dpg.frontier", method: "DPG", constraint: estimate(p, se: 0.01),
                                        kl: estimate(kl, se: 0.02),
                                        count: BinomialCount(successes: count.successes / 10, trials: count.trials))
        },
        Counterexample("bridge.prior-mass", "an enumeration that misses one sequence of probability 10⁻³") {
            Checks.mass(id: "bridge.prior-mass", claim: "mass", masses: [1 - 1e-3], tolerance: 5.3e-5, because: "")
        },
        Counterexample("bridge.policy-mass", "one evaluation off by 10⁻⁴") {
            Checks.mass(id: "bridge.policy-mass", claim: "mass", masses: [1, 1 - 1e-4, 1], tolerance: 5.3e-5, because: "")
        },
        Counterexample("bridge.evidence-bound", "a sign error in the KL penalty: J = E[r] + β KL") {
            let p = problem
            let pi = Distribution(weights: [0.2, 0.3, 0.5])
            let wrong = Objective.expectedReward(pi, reward: p.reward) + p.beta * klDivergence(pi, p.prior)
            return Checks.evidenceBound(objectives: [Objective.klRegularised(p.prior, prior: p.prior, reward: p.reward, beta: p.beta), wrong],
                                        beta: p.beta, logZ: p.logEvidence, tolerance: 1e-12)
        },
        Counterexample("bridge.importance-sampling", "weights divided by π0 instead of the proposal π_θ") {
            let p = problem
            let pi = Distribution(weights: [0.2, 0.3, 0.5])
            let draws = 4000
            let sampler = try DiscreteSampler(weights: pi.probabilities)
            let w = sampler.sample(RandomGenerator(seed: 5), count: draws).map { exp(p.reward[$0] / p.beta) }   // π0/π0, not π0/π_θ
            let m = w.reduce(0, +) / Double(draws)
            let sd = (w.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(draws - 1)).squareRoot()
            return Checks.importanceSampling([.init(mean: m, standardDeviation: sd, draws: draws)], z: exp(p.logEvidence))
        },
        Counterexample("bridge.arrival", "training that removes only 65% of the distance") {
            Checks.arrival(start: 0.66, end: 0.35 * 0.66)
        },
    ]
}

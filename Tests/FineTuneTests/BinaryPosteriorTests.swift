import Finite
@testable import FineTune
import Foundation
import GSL
import Testing

/// The closed forms of a binary preference's posterior against exact sums over a finite prior,
/// and the arrival estimates against exact distances.
@Suite("FineTune: the posterior of a binary preference")
struct BinaryPosteriorTests {
    /// A random prior over 40 outcomes and a b that holds on a seeded fifth of them.
    static func problem(seed: UInt64) -> (prior: Distribution, b: [Double]) {
        let rng = RandomGenerator(seed: seed)
        let prior = Distribution(weights: (0..<40).map { _ in -log(rng.uniform()) })
        let b = (0..<40).map { _ in rng.uniform() < 0.2 ? 1.0 : 0.0 }
        return (prior, b.contains(1) ? b : [1] + b.dropFirst())
    }

    @Test("log Z, π*_β(b), KL(π*_β ‖ π0) and KL(π0 ‖ π*_β) equal the exact sums", arguments: [0.1, 0.25, 1, 4])
    func closedForms(beta: Double) {
        for seed in UInt64(1)...5 {
            let (prior, b) = Self.problem(seed: seed)
            let exact = ExactProblem(prior: prior, reward: b, beta: beta)
            let p = BinaryPosterior(zb: prior.expectation(b), beta: beta)
            let tol = 1e-12 * (1 + 1 / beta)
            #expect(abs(p.logEvidence - exact.logEvidence) <= tol)
            #expect(abs(p.mass - exact.posterior.expectation(b)) <= tol)
            #expect(abs(p.klFromPrior - klDivergence(exact.posterior, prior)) <= tol)
            #expect(abs(p.priorDistance - klDivergence(prior, exact.posterior)) <= tol)
        }
    }

    @Test("the Wilson interval: inside [0, 1], around k/n, and covering Z_b in about 95% of seeded counts")
    func wilson() {
        let rng = RandomGenerator(seed: 11)
        let p = 0.03, n = 2000
        var covered = 0
        let trials = 2000
        for _ in 0..<trials {
            let k = (0..<n).reduce(0) { c, _ in c + (rng.uniform() < p ? 1 : 0) }
            let w = BinomialCount(successes: k, trials: n).wilson(z: 1.959963984540054)
            #expect(w.lowerBound >= 0 && w.upperBound <= 1 && w.contains(Double(k) / Double(n)))
            if w.contains(p) { covered += 1 }
        }
        // 5.3 binomial standard errors around 95%.
        let rate = Double(covered) / Double(trials)
        #expect(abs(rate - 0.95) <= 5.3 * (0.95 * 0.05 / Double(trials)).squareRoot(), "coverage \(rate)")
    }

    @Test("at the posterior the reverse estimate is 0 up to log Ẑ's error, and at the prior its mean is D_0")
    func reverseAtTheEnds() throws {
        let (prior, b) = Self.problem(seed: 3)
        let beta = 0.25
        let exact = ExactProblem(prior: prior, reward: b, beta: beta)
        let zb = prior.expectation(b)
        let count = BinomialCount(successes: Int((zb * 1e6).rounded()), trials: 1_000_000)
        let rng = RandomGenerator(seed: 4)
        for (policy, distance) in [(exact.posterior, 0.0), (prior, klDivergence(prior, exact.posterior))] {
            let sampler = try DiscreteSampler(weights: policy.probabilities)
            let xs = sampler.sample(rng, count: 4000)
            let a = Arrival.reverse(logRatios: xs.map { policy.logProbabilities[$0] - prior.logProbabilities[$0] },
                                    constraints: xs.map { b[$0] }, beta: beta, count: count)
            #expect(abs(a.distance.value - distance) <= 5.3 * a.distance.standardError + 1e-5,
                    "\(a.distance) against \(distance)")
            #expect(a.distance.low <= a.distance.value && a.distance.value <= a.distance.high)
            #expect(a.ratioUpper >= a.ratio)
        }
    }

    @Test("the forward estimate on exact posterior samples: −log Z_b at the prior, 0 at π*_b")
    func forwardAtTheEnds() throws {
        let (prior, b) = Self.problem(seed: 7)
        let zb = prior.expectation(b)
        let count = BinomialCount(successes: Int((zb * 1e6).rounded()), trials: 1_000_000)
        let target = Distribution(weights: zip(prior.probabilities, b).map { $0 * $1 })
        let xs = try DiscreteSampler(weights: target.probabilities).sample(RandomGenerator(seed: 8), count: 2000)
        let atPrior = Arrival.forward(priorMinusPolicy: xs.map { _ in 0 }, count: count)
        #expect(abs(atPrior.ratio - 1) <= 1e-12)
        let atTarget = Arrival.forward(priorMinusPolicy: xs.map { prior.logProbabilities[$0] - target.logProbabilities[$0] },
                                       count: count)
        #expect(abs(atTarget.distance.value) <= 1e-4, "\(atTarget.distance)")
        #expect(atTarget.ratioUpper < 0.01)
    }
}

extension BinaryPosteriorTests {
    @Test("the frontier: no policy of a random family beats it, and π*_β sits on it")
    func frontier() throws {
        let (prior, b) = Self.problem(seed: 9)
        let zb = prior.expectation(b)
        for beta in [0.1, 0.3, 1, 3] {
            let p = ExactProblem(prior: prior, reward: b, beta: beta).posterior
            let f = BinaryPosterior.frontier(kl: klDivergence(p, prior), zb: zb)
            #expect(abs(f - p.expectation(b)) <= 1e-9, "β = \(beta): \(f) against \(p.expectation(b))")
        }
        let rng = RandomGenerator(seed: 10)
        for _ in 0..<200 {
            let q = Distribution(weights: prior.probabilities.map { $0 * exp(2 * rng.gaussian()) })
            #expect(q.expectation(b) <= BinaryPosterior.frontier(kl: klDivergence(q, prior), zb: zb) + 1e-12)
        }
    }
}

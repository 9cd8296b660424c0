import Finite
import Foundation
import GSL
import PropertyBased
import Testing

/// Random tabular autoregressive prior and policy: V ∈ 2…4, L ∈ 1…4, prior logits N(0, s²) with
/// s log-uniform in [0.1, 3], policy logits moved by N(0, t²) with t log-uniform in [0.01, 2].
struct RandomSequenceModels: CustomStringConvertible {
    let seed: UInt64
    let prior: AutoregressiveModel
    let policy: AutoregressiveModel
    let behaviour: AutoregressiveModel

    init(seed: UInt64, maxVocabulary: Int = 4, maxLength: Int = 4) {
        self.seed = seed
        let rng = RandomGenerator(seed: seed)
        let space = SequenceSpace(vocabulary: 2 + rng.uniformInt(below: maxVocabulary - 1), maxLength: 1 + rng.uniformInt(below: maxLength))
        let s = exp(log(0.1) + rng.uniform() * (log(3) - log(0.1)))
        let t = exp(log(0.01) + rng.uniform() * (log(2) - log(0.01)))
        let theta0 = (0..<space.parameterCount).map { _ in s * rng.gaussian() }
        let theta = theta0.map { $0 + t * rng.gaussian() }
        prior = AutoregressiveModel(space: space, logits: theta0)
        policy = AutoregressiveModel(space: space, logits: theta)
        behaviour = AutoregressiveModel(space: space, logits: theta.map { $0 + t * rng.gaussian() })
    }

    var space: SequenceSpace { prior.space }
    var description: String { "RandomSequenceModels(seed: \(seed), V: \(space.vocabulary), L: \(space.maxLength))" }
}

/// 16 n ε Σ|terms|: the rounding allowance of sums of n terms whose absolute values add to `mass`.
func sumTolerance(_ n: Int, mass: Double) -> Double { 16 * Double(n + 2) * Double.ulpOfOne * max(1, mass) }

@Suite("KL estimators k1, k2, k3 (property tests)")
struct KLEstimatorPropertyTests {
    @Test("k1 is unbiased; k3 is unbiased up to the prior mass outside the policy's support")
    func unbiased() async {
        await propertyCheck(count: 150, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 2...500)
            let p = problem.policy, q = problem.prior
            let l = (0..<p.count).map { p.probabilities[$0] > 0 ? p.logProbabilities[$0] - q.logProbabilities[$0] : 0 }
            let kl = klDivergence(p, q)
            let k1 = l.map { KLEstimator.k1.value(logRatio: $0) }, k3 = l.map { KLEstimator.k3.value(logRatio: $0) }
            let mass1 = p.expectation(k1.map { abs($0) }), mass3 = p.expectation(k3.map { abs($0) }) + 2
            #expect(abs(p.expectation(k1) - kl) <= sumTolerance(p.count, mass: mass1), "\(problem)")
            let outside = 1 - q.mass(of: p.support)
            #expect(abs(p.expectation(k3) - (kl - outside)) <= sumTolerance(p.count, mass: mass3 + mass1), "\(problem)")
            #expect(k3.allSatisfy { $0 >= 0 })
        }
    }

    @Test("k2 is biased by exactly −E[R₃(−ℓ)], and by at most E[|ℓ|³ e^{max(−ℓ, 0)}]/6")
    func k2Bias() async {
        await propertyCheck(count: 150, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 2...500)
            // A policy with full support, so that E_p[k3] = KL.
            let rng = RandomGenerator(seed: seed ^ 0x5eed)
            let q = problem.prior
            let p = Distribution(logWeights: q.logProbabilities.map { $0 + rng.gaussian(sigma: 0.05 + 2 * rng.uniform()) })
            let l = (0..<p.count).map { p.logProbabilities[$0] - q.logProbabilities[$0] }
            let bias = p.expectation(l.map { KLEstimator.k2.value(logRatio: $0) }) - klDivergence(p, q)
            let remainder = l.map { taylorRemainder3(-$0) }
            let mass = p.expectation(l.map { $0 * $0 / 2 + abs($0) }) + p.expectation(remainder.map(abs))
            #expect(abs(bias + p.expectation(remainder)) <= sumTolerance(p.count, mass: mass), "\(problem)")
            let bound = p.expectation(l.map { pow(abs($0), 3) * exp(max(-$0, 0)) }) / 6
            #expect(abs(bias) <= bound + sumTolerance(p.count, mass: mass), "\(problem)")
        }
    }

    @Test("R₃(u) = e^u − 1 − u − u²/2 to 32 ε relative against an 80-bit Taylor series, |u| ≤ 3")
    func remainder() {
        #if arch(x86_64)
        for u in stride(from: -3.0, through: 3.0, by: 0.0173) where u != 0 {
            var reference: Float80 = 0, term = Float80(u) * Float80(u) * Float80(u) / 6
            for j in 4...60 { reference += term; term *= Float80(u) / Float80(j) }
            let value = taylorRemainder3(u)
            #expect(abs(Float80(value) - reference) <= 32 * Float80(Double.ulpOfOne) * abs(reference), "u = \(u)")
        }
        #endif
        #expect(taylorRemainder3(0) == 0)
    }

    @Test("on sequences: per-token sums of k3 are unbiased for the sequence KL, k1 per token is k1 per sequence")
    func perToken() async {
        await propertyCheck(count: 60, input: Gens.seed) { seed in
            let m = RandomSequenceModels(seed: seed)
            let e = SequenceEstimates(policy: m.policy, prior: m.prior)
            let p = m.policy.distribution, q = m.prior.distribution
            let kl = klDivergence(p, q), chain = chainRuleKL(m.policy, m.prior)
            let n = m.space.count * (m.space.maxLength + 2) + m.space.parameterCount
            let mass = p.expectation(e.perToken[.k3]!) + p.expectation(e.logRatio.map(abs)) + 1
            #expect(abs(kl - chain) <= sumTolerance(n, mass: mass), "\(m)")
            #expect(abs(p.expectation(e.perToken[.k3]!) - chain) <= sumTolerance(n, mass: mass), "\(m)")
            #expect(abs(p.expectation(e.perSequence[.k3]!) - chain) <= sumTolerance(n, mass: mass + p.expectation(e.perSequence[.k3]!)), "\(m)")
            for i in 0..<m.space.count {
                #expect(abs(e.perToken[.k1]![i] - e.perSequence[.k1]![i]) <= sumTolerance(m.space.maxLength, mass: abs(e.logRatio[i]) + 1))
            }
        }
    }

    @Test("P(sum of n draws < 0) by sorting equals brute force over all tuples, and respects the Chernoff bound")
    func negativeSums() async throws {
        await propertyCheck(count: 60, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 2...12)
            let q = problem.prior
            let rng = RandomGenerator(seed: seed &+ 7)
            let p2 = Distribution(logWeights: q.logProbabilities.map { $0 + rng.gaussian() })
            let l = (0..<p2.count).map { p2.logProbabilities[$0] - q.logProbabilities[$0] }
            let N = l.count
            guard let (rho, _) = try? chernoffRate(p2, q) else { Issue.record("Brent failed: \(problem)"); return }
            for n in 1...3 {
                var brute = 0.0, atMostZero = 0.0
                var tuple = [Int](repeating: 0, count: n)
                var count = 0
                let total = Int(pow(Double(N), Double(n)))
                while count < total {
                    let s = tuple.reduce(0.0) { $0 + l[$1] }
                    let w = tuple.reduce(1.0) { $0 * p2.probabilities[$1] }
                    if s < 0 { brute += w }
                    if s <= 0 { atMostZero += w }
                    count += 1
                    var i = 0
                    while i < n { tuple[i] += 1; if tuple[i] < N { break }; tuple[i] = 0; i += 1 }
                }
                let sorted = probabilityNegativeSum(values: l, probabilities: p2.probabilities, draws: n)
                #expect(abs(sorted - brute) <= sumTolerance(total, mass: 1), "\(problem) n = \(n)")
                #expect(atMostZero <= pow(rho, Double(n)) + sumTolerance(total + N, mass: 1), "\(problem) n = \(n)")
            }
        }
    }
}

import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("Distributions, divergences and diversity (property tests)")
struct DistributionPropertyTests {
    @Test("log-sum-exp normalises, and agrees with a naive sum where that cannot overflow")
    func logSumExp() async {
        await propertyCheck(count: 200, input: Gens.seed) { seed in
            let rng = RandomGenerator(seed: seed)
            let n = 1 + rng.uniformInt(below: 500)
            let a = (0..<n).map { _ in 20 * rng.gaussian() }
            let naive = log(a.reduce(0) { $0 + exp($1) })
            let lse = LogSpace.logSumExp(a)
            // Not (n + 2)ε|lse|: the sum's rounding is absolute in log space, (n + 2)ε even when
            // |lse| < 1 (`logSumExpRounding`). The naive form rounds e^{a_i} by ε each, the sum of
            // positive terms by (n − 1)u relative and the log by u|naive|: within the same allowance.
            #expect(abs(lse - naive) <= logSumExpRounding(n, lse) + logSumExpRounding(n, naive))
            // Shift invariance: adding 1e6 to every log-weight would overflow a naive sum.
            let shifted = LogSpace.logSumExp(a.map { $0 + 1e6 })
            #expect(abs(shifted - (lse + 1e6)) <= roundingTolerance(n, scale: 1e6))
            let d = Distribution(logWeights: a.map { $0 - 1e6 })
            #expect(abs(d.probabilities.reduce(0, +) - 1) <= roundingTolerance(n))
        }
    }

    @Test("log-sum-exp edge cases: empty, all -infinity, +infinity, NaN")
    func logSumExpEdges() {
        #expect(LogSpace.logSumExp([]) == -.infinity)
        #expect(LogSpace.logSumExp([-.infinity, -.infinity]) == -.infinity)
        #expect(LogSpace.logSumExp([0, .infinity]) == .infinity)
        #expect(LogSpace.logSumExp([0, .nan]).isNaN)
        #expect(LogSpace.logSumExp([-1e308, -1e308]) == -1e308 + log(2))
    }

    @Test("entropy lies in [0, log n] and equals log n only for the uniform distribution")
    func entropyBounds() async {
        await propertyCheck(count: 200, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed)
            let h = p.policy.entropy
            #expect(h >= -roundingTolerance(p.n))
            #expect(h <= log(Double(p.n)) + roundingTolerance(p.n, scale: log(Double(p.n))))
            // Gibbs: log n - H(p) = KL(p || uniform), computed two ways.
            let gap = klDivergence(p.policy, .uniform(p.n))
            #expect(abs((log(Double(p.n)) - h) - gap) <= 4 * roundingTolerance(p.n, scale: log(Double(p.n))))
        }
    }

    @Test("KL is non-negative, zero on the diagonal, and +infinity when the support is violated")
    func klBasics() async {
        await propertyCheck(count: 200, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed)
            let kl = klDivergence(p.policy, p.prior)
            #expect(kl >= -roundingTolerance(p.n, scale: 50))
            #expect(abs(klDivergence(p.prior, p.prior)) <= roundingTolerance(p.n))
            // Move all of the prior's mass off outcome 0 while the policy keeps some there.
            var lw = p.prior.logProbabilities
            lw[0] = -.infinity
            let q = Distribution(logWeights: lw)
            let withMass = Distribution(logWeights: p.policy.logProbabilities.enumerated().map { $0.offset == 0 ? 0 : $0.element })
            #expect(klDivergence(withMass, q) == .infinity)
            #expect(klDivergence(q, withMass).isFinite)   // the other direction is fine
        }
    }

    @Test("cross-entropy = entropy + KL")
    func crossEntropyDecomposition() async {
        await propertyCheck(count: 200, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed)
            let ce = crossEntropy(p.policy, p.prior)
            let sum = p.policy.entropy + klDivergence(p.policy, p.prior)
            #expect(abs(ce - sum) <= 4 * roundingTolerance(p.n, scale: ce))
        }
    }

    @Test("total variation: in [0, 1], symmetric, max over events, and Pinsker's bound TV <= sqrt(KL/2)")
    func totalVariation() async {
        await propertyCheck(count: 200, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed)
            let tv = Finite.totalVariation(p.policy, p.prior)
            #expect(tv >= 0 && tv <= 1 + roundingTolerance(p.n))
            #expect(tv == Finite.totalVariation(p.prior, p.policy))
            // TV = p(S) - q(S) for S = {x : p(x) > q(x)}: an independent computation.
            let s = Set((0..<p.n).filter { p.policy.probabilities[$0] > p.prior.probabilities[$0] })
            #expect(abs(tv - (p.policy.mass(of: s) - p.prior.mass(of: s))) <= 4 * roundingTolerance(p.n))
            let kl = klDivergence(p.policy, p.prior)
            #expect(tv <= (kl / 2).squareRoot() + roundingTolerance(p.n))
        }
    }

    @Test("collision probability lies in [1/n, 1]; expected distinct outcomes match a direct count for small k")
    func diversity() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed, sizes: 2...6)
            let c = p.policy.collisionProbability
            #expect(c >= 1 / Double(p.n) - roundingTolerance(p.n) && c <= 1 + roundingTolerance(p.n))
            // E[D_2] = 2 - Σ p² (two draws are distinct unless they collide); E[D_1] = 1.
            #expect(abs(p.policy.expectedDistinct(draws: 2) - (2 - c)) <= 8 * roundingTolerance(p.n))
            #expect(abs(p.policy.expectedDistinct(draws: 1) - 1) <= 8 * roundingTolerance(p.n))
            // Enumerate every sequence of k = 3 draws and count distinct outcomes.
            var exact = 0.0
            let pr = p.policy.probabilities
            for a in 0..<p.n { for b in 0..<p.n { for d in 0..<p.n {
                exact += pr[a] * pr[b] * pr[d] * Double(Set([a, b, d]).count)
            } } }
            #expect(abs(p.policy.expectedDistinct(draws: 3) - exact) <= 64 * roundingTolerance(p.n))
        }
    }
}

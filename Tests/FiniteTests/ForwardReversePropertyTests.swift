import Finite
import Foundation
import GSL
import PropertyBased
import Testing

/// Exact identities of chapter 7: the forward-KL (DPG) gradient, and the independent-positions
/// family's forward optimum and mean-field equations.
@Suite("Forward and reverse KL (property tests)")
struct ForwardReversePropertyTests {
    @Test("DPG's importance-weighted gradient under π_θ equals π_θ − π* and a finite difference of KL(π* ‖ π_θ)")
    func forwardGradient() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...60)
            let rng = RandomGenerator(seed: seed ^ 0xd9)
            let theta = problem.prior.logProbabilities.map { $0 + rng.gaussian() }
            let pi = Distribution.softmax(theta)
            let target = Distribution.softmax((0..<problem.n).map { _ in 2 * rng.gaussian() })
            let closed = ForwardKL.gradient(policy: pi, target: target)
            let iw = ForwardKL.importanceWeightedGradient(policy: pi, target: target)
            for x in 0..<problem.n { #expect(abs(closed[x] - iw[x]) <= roundingTolerance(problem.n, scale: 4), "\(problem)") }
            let fd = PolicyGradient.finiteDifference({ klDivergence(target, Distribution.softmax($0)) }, at: theta, step: 1e-5)
            for x in 0..<problem.n { #expect(abs(closed[x] - fd[x]) <= 1e-7, "\(problem) x = \(x)") }
            // The self-normalised two-draw estimate is unbiased when the target is the policy itself.
            if problem.n <= 25 {
                let sn = ForwardKL.selfNormalisedExpectationTwoDraws(policy: pi, target: pi)
                for x in 0..<problem.n { #expect(abs(sn[x]) <= roundingTolerance(problem.n * problem.n, scale: 8)) }
            }
        }
    }

    @Test("Independent positions: the forward optimum is moment matching with KL = Σ H(marginals) − H(π*)")
    func momentMatching() async {
        await propertyCheck(count: 60, input: Gens.seed) { seed in
            let rng = RandomGenerator(seed: seed)
            let family = IndependentPositions(length: 1 + rng.uniformInt(below: 9))
            let target = Distribution(weights: rng.dirichlet(count: family.count, concentration: 0.3 + rng.uniform()))
            let m = family.marginals(target)
            let atMarginals = family.distribution(logits: m.map { log($0) - log1p(-$0) })
            let tol = roundingTolerance(family.count, scale: 64 * Double(family.length))
            if m.allSatisfy({ $0 > 1e-12 && $0 < 1 - 1e-12 }) {
                #expect(abs(klDivergence(target, atMarginals) - family.forwardOptimumDivergence(target)) <= tol + 1e-10, "seed \(seed)")
                for g in family.forwardGradient(logits: m.map { log($0) - log1p(-$0) }, target: target) { #expect(abs(g) <= 1e-12) }
            }
            #expect(family.forwardOptimumDivergence(target) >= -tol)   // total correlation is non-negative
        }
    }

    @Test("Independent positions: ∂KL(q ‖ π*)/∂θ_i = σ_i(1 − σ_i)(θ_i − mean-field_i), and agrees with finite differences")
    func meanField() async {
        await propertyCheck(count: 60, input: Gens.seed) { seed in
            let rng = RandomGenerator(seed: seed)
            let family = IndependentPositions(length: 1 + rng.uniformInt(below: 8))
            let target = Distribution.softmax((0..<family.count).map { _ in 2 * rng.gaussian() })
            let theta = (0..<family.length).map { _ in rng.gaussian() }
            let g = family.reverseGradient(logits: theta, target: target)
            let mf = family.meanFieldLogits(logits: theta, target: target)
            let fd = PolicyGradient.finiteDifference({ klDivergence(family.distribution(logits: $0), target) }, at: theta, step: 1e-5)
            for i in 0..<family.length {
                let s = 1 / (1 + exp(-theta[i]))
                #expect(abs(g[i] - s * (1 - s) * (theta[i] - mf[i])) <= 1e-10 * (1 + abs(g[i])), "seed \(seed) i = \(i)")
                #expect(abs(g[i] - fd[i]) <= 1e-7, "seed \(seed) i = \(i)")
            }
        }
    }
}

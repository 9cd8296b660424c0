import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("The fused exact kernel against the readable one (property tests)")
struct ExactKernelsPropertyTests {
    @Test("summaryFused equals summary and the library's own functions, on any size, with sparse policies and extreme rewards")
    func fusedEqualsReadable() async {
        await propertyCheck(count: 120, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, maxOutcomes: 5000)
            let rng = RandomGenerator(seed: seed &+ 13)
            let threads = 1 + rng.uniformInt(below: 3)
            var readable = [Double](repeating: 0, count: p.n), fused = [Double](repeating: 0, count: p.n)
            let a = ExactKernels.summary(logPrior: p.prior.logProbabilities, reward: p.reward, logPolicy: p.policy.logProbabilities,
                                         policy: p.policy.probabilities, beta: p.beta, posterior: &readable)
            var b = ExactKernels.Summary()
            p.prior.logProbabilities.withUnsafeBufferPointer { lp0 in p.reward.withUnsafeBufferPointer { r in
                p.policy.logProbabilities.withUnsafeBufferPointer { lpi in p.policy.probabilities.withUnsafeBufferPointer { pi in
                    fused.withUnsafeMutableBufferPointer { out in
                        b = ExactKernels.summaryFused(logPrior: lp0, reward: r, logPolicy: lpi, policy: pi, beta: p.beta, posterior: out, threads: threads)
                    } } } } }
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            let scale = p.scale(post)
            let tol = 4 * sumTolerance(p.n, scale / p.beta) + 8 * Double.ulpOfOne * abs(a.logPartitionFunction)
            #expect(abs(a.logPartitionFunction - b.logPartitionFunction) <= tol, "\(p)")
            #expect(abs(b.logPartitionFunction - Posterior.logPartitionFunction(prior: p.prior, reward: p.reward, beta: p.beta)) <= tol, "\(p)")
            #expect(abs(a.klToPrior - b.klToPrior) <= tol && abs(b.klToPrior - klDivergence(p.policy, p.prior)) <= tol, "\(p)")
            #expect(abs(a.klToPosterior - b.klToPosterior) <= tol, "\(p)")
            #expect(abs(a.entropy - b.entropy) <= tol && abs(b.entropy - p.policy.entropy) <= tol, "\(p)")
            #expect(abs(a.objective - b.objective) <= p.beta * tol + 4 * sumTolerance(p.n, p.reward.map(abs).max()!), "\(p)")
            // An entry e^{a − log Z} is as exact as its exponent: a few ε of |log π0| + |r|/β + |log Z|,
            // plus the normaliser's n-term sum.
            let logZ = b.logPartitionFunction
            func entryTolerance(_ x: Int) -> Double {
                (8 * Double.ulpOfOne * (1 + abs(p.prior.logProbabilities[x]) + abs(p.reward[x]) / p.beta + abs(logZ)) + 4 * sumTolerance(p.n, 1)) * fused[x] + 1e-300
            }
            #expect((0..<p.n).allSatisfy { abs(readable[$0] - fused[$0]) <= entryTolerance($0) }, "\(p)")
            #expect((0..<p.n).allSatisfy { abs(post.probabilities[$0] - fused[$0]) <= entryTolerance($0) }, "\(p)")
        }
    }
}

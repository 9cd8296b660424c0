import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("KL proportionality, eqs. 5-7 (property tests)")
struct KLProportionalityPropertyTests {
    @Test("J_KLRL(π) + β KL(π ‖ π*) = β log Z for every π, with no NaN or overflow (eq. 7)")
    func proportionality() async {
        await propertyCheck(count: 150, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed)
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            let logZ = Posterior.logPartitionFunction(prior: p.prior, reward: p.reward, beta: p.beta)
            #expect(logZ.isFinite, "\(p)")
            #expect(allFinite(post.logProbabilities), "\(p)")
            let j = Objective.klRegularised(p.policy, prior: p.prior, reward: p.reward, beta: p.beta)
            let kl = klDivergence(p.policy, post)
            #expect(j.isFinite && kl.isFinite && kl >= -sumTolerance(p.n, 1), "\(p)")
            let tol = 4 * sumTolerance(p.n, p.scale(post)) + 4 * Double.ulpOfOne * p.beta * abs(logZ)
            #expect(abs(j + p.beta * kl - p.beta * logZ) <= tol, "\(p): \(j + p.beta * kl) vs \(p.beta * logZ)")
        }
    }

    @Test("J_KLRL(π) ≤ β log Z, with equality at π* (eq. 6)")
    func upperBound() async {
        await propertyCheck(count: 150, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed)
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            let logZ = Posterior.logPartitionFunction(prior: p.prior, reward: p.reward, beta: p.beta)
            let tol = 4 * sumTolerance(p.n, p.scale(post)) + 4 * Double.ulpOfOne * p.beta * abs(logZ)
            let j = Objective.klRegularised(p.policy, prior: p.prior, reward: p.reward, beta: p.beta)
            #expect(j <= p.beta * logZ + tol, "\(p)")
            let jStar = Objective.klRegularised(post, prior: p.prior, reward: p.reward, beta: p.beta)
            #expect(abs(jStar - p.beta * logZ) <= tol, "\(p): \(jStar) vs \(p.beta * logZ)")
        }
    }

    @Test("∇J_KLRL = −β ∇KL(π_θ ‖ π*) at interior policies (eq. 7)")
    func gradients() async {
        await propertyCheck(count: 100, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, maxOutcomes: 2000)
            // An interior softmax policy: the prior's logits plus noise.
            let rng = RandomGenerator(seed: seed &+ 1)
            let pi = Distribution.softmax(p.prior.logProbabilities.map { $0 + rng.gaussian() })
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            let gJ = PolicyGradient.klRegularised(pi, prior: p.prior, reward: p.reward, beta: p.beta)
            let gKL = PolicyGradient.klDivergence(pi, target: post)
            #expect(allFinite(gJ) && allFinite(gKL), "\(p)")
            var m = 0.0
            for x in 0..<p.n { m = max(m, abs(pi.logProbabilities[x]), abs(post.logProbabilities[x]), abs(p.prior.logProbabilities[x])) }
            let tol = 8 * sumTolerance(p.n, p.reward.map(abs).max()! + p.beta * (1 + m))
            #expect(zip(gJ, gKL).allSatisfy { abs($0 + p.beta * $1) <= tol }, "\(p)")
        }
    }

    @Test("KL(π0 ‖ π*) = log Z − E_π0[r]/β and KL(π* ‖ π0) = E_π*[r]/β − log Z")
    func closedFormDivergences() async {
        await propertyCheck(count: 150, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed)
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            let logZ = Posterior.logPartitionFunction(prior: p.prior, reward: p.reward, beta: p.beta)
            let tol = 4 * sumTolerance(p.n, p.scale(post) / p.beta) + 4 * Double.ulpOfOne * abs(logZ)
            #expect(abs(klDivergence(p.prior, post) - (logZ - p.prior.expectation(p.reward) / p.beta)) <= tol, "\(p)")
            #expect(abs(klDivergence(post, p.prior) - (post.expectation(p.reward) / p.beta - logZ)) <= tol, "\(p)")
        }
    }
}

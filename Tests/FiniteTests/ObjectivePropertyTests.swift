import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("Objectives, posterior and dynamics (property tests)")
struct ObjectivePropertyTests {
    @Test("J_RL never exceeds max r; J_KLRL = E[r'] with the shaped reward (eq. 4)")
    func objectives() async {
        await propertyCheck(count: 200, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed)
            let rmax = p.reward.max()!
            let j = Objective.expectedReward(p.policy, reward: p.reward)
            #expect(j <= rmax + roundingTolerance(p.n, scale: rmax))
            let shaped = Objective.shapedReward(p.policy, prior: p.prior, reward: p.reward, beta: p.beta)
            let viaShaped = p.policy.expectation(shaped)
            let direct = Objective.klRegularised(p.policy, prior: p.prior, reward: p.reward, beta: p.beta)
            let scale = p.reward.map(abs).max()! + p.beta * 50
            #expect(abs(viaShaped - direct) <= 8 * roundingTolerance(p.n, scale: scale))
        }
    }

    @Test("the posterior normalises, has no NaN, and J_KLRL(posterior) = beta log Z (eq. 5)")
    func posterior() async {
        await propertyCheck(count: 200, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed)
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            #expect(post.probabilities.allSatisfy { !$0.isNaN })
            #expect(abs(post.probabilities.reduce(0, +) - 1) <= roundingTolerance(p.n))
            let logZ = Posterior.logPartitionFunction(prior: p.prior, reward: p.reward, beta: p.beta)
            let j = Objective.klRegularised(post, prior: p.prior, reward: p.reward, beta: p.beta)
            let scale = p.reward.map(abs).max()! + p.beta * abs(logZ) + p.beta * 50
            #expect(abs(j - p.beta * logZ) <= 16 * roundingTolerance(p.n, scale: scale))
        }
    }

    @Test("extreme rewards (-1e6, ties) and temperatures give a finite, normalised posterior")
    func extremes() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let rng = RandomGenerator(seed: seed)
            let n = 2 + rng.uniformInt(below: 100)
            let prior = Distribution(weights: rng.dirichlet(count: n, concentration: 1).map { max($0, 1e-300) })
            let reward = (0..<n).map { _ in [-1e6, 0, 0, 1e6 * rng.uniform()][rng.uniformInt(below: 4)] }
            for beta in [1e-3, 1, 1e3] {
                let logZ = Posterior.logPartitionFunction(prior: prior, reward: reward, beta: beta)
                #expect(logZ.isFinite)
                let post = Posterior.distribution(prior: prior, reward: reward, beta: beta)
                #expect(abs(post.probabilities.reduce(0, +) - 1) <= roundingTolerance(n))
            }
            // β → 0 limit: the posterior at tiny β is the prior restricted to the argmax.
            let limit = Posterior.zeroTemperatureLimit(prior: prior, reward: reward)
            let A = Reward.maximisers(reward)
            #expect(abs(limit.mass(of: A) - 1) <= roundingTolerance(n))
        }
    }

    @Test("exact softmax gradients agree with central finite differences")
    func gradients() async {
        await propertyCheck(count: 60, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed, sizes: 2...30)
            let theta = p.policy.logProbabilities.map { max($0, -30) }
            let r = p.reward.map { $0 / max(1, p.reward.map(abs).max()!) }   // rewards of order 1
            let beta = min(max(p.beta, 0.01), 100)
            let pi = Distribution.softmax(theta)
            let fdRL = PolicyGradient.finiteDifference({ Objective.expectedReward(.softmax($0), reward: r) }, at: theta)
            let fdKL = PolicyGradient.finiteDifference({ Objective.klRegularised(.softmax($0), prior: p.prior, reward: r, beta: beta) }, at: theta)
            let gRL = PolicyGradient.expectedReward(pi, reward: r)
            let gKL = PolicyGradient.klRegularised(pi, prior: p.prior, reward: r, beta: beta)
            // Central differences with h = 1e-5: truncation O(h²) times third derivatives (bounded by
            // the reward and log-ratio scale), rounding O(ε/h) times the objective's scale.
            let scaleKL = 1 + beta * (50 + p.prior.logProbabilities.map(abs).max()!)
            for i in 0..<p.n {
                #expect(abs(gRL[i] - fdRL[i]) <= 1e-8)
                #expect(abs(gKL[i] - fdKL[i]) <= 1e-8 * scaleKL * 10)
            }
        }
    }

    @Test("exponentiated gradient after k steps of eta is the posterior at beta = 1/(k eta)")
    func exponentiatedGradientIsPosterior() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed, sizes: 2...300)
            let rng = RandomGenerator(seed: seed ^ 0x5eed)
            let k = 1 + rng.uniformInt(below: 200)
            let eta = 0.001 + rng.uniform()
            let r = p.reward.map { $0 / max(1, p.reward.map(abs).max()!) }
            let eg = Dynamics.exponentiatedGradient(prior: p.prior, reward: r, stepSize: eta, steps: k)
            let post = Posterior.distribution(prior: p.prior, reward: r, beta: 1 / (eta * Double(k)))
            for x in 0..<p.n {
                #expect(abs(eg.probabilities[x] - post.probabilities[x]) <= Double(k + 1) * roundingTolerance(p.n))
            }
        }
    }

    @Test("natural-gradient ascent on J_RL never decreases J_RL and ends on the argmax")
    func ascentCollapses() async {
        await propertyCheck(count: 60, input: Gens.seed) { seed in
            let p = RandomProblem(seed: seed, sizes: 2...50)
            let r = p.reward.map { $0 / max(1e-9, p.reward.map(abs).max()!) }
            var last = -Double.infinity
            var monotone = true
            let path = Dynamics.gradientAscent(logits: p.prior.logProbabilities, stepSize: 1, steps: 100_000, record: 100_000,
                                               gradient: { pi in let j = pi.expectation(r); return r.map { $0 - j } },
                                               stop: { pi in
                                                   let j = pi.expectation(r)
                                                   if j < last - roundingTolerance(p.n) { monotone = false }
                                                   last = j
                                                   return pi.mass(of: Reward.maximisers(r)) >= 1 - 1e-6
                                               })
            #expect(monotone)
            #expect(path.last!.policy.mass(of: Reward.maximisers(r)) >= 1 - 1e-6 || path.last!.step == 100_000)
        }
    }
}

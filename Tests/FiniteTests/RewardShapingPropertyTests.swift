import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("Reward shaping and the score function, eqs. 3-4 (property tests)")
struct RewardShapingPropertyTests {
    @Test("J_KLRL(π) = E_π[r'_π] for any policy, including sparse ones (eq. 4)")
    func shapedReward() async {
        await propertyCheck(count: 150, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed)
            let j = Objective.klRegularised(p.policy, prior: p.prior, reward: p.reward, beta: p.beta)
            let shaped = p.policy.expectation(Objective.shapedReward(p.policy, prior: p.prior, reward: p.reward, beta: p.beta))
            #expect(j.isFinite && shaped.isFinite, "\(p)")
            #expect(abs(j - shaped) <= 4 * sumTolerance(p.n, p.scale(p.policy)) + Double.ulpOfOne * abs(j), "\(p)")
        }
    }

    @Test("the score-function gradient with any baseline equals π ⊙ (r' − J); E_π[∇ log π] = 0")
    func baselines() async {
        await propertyCheck(count: 100, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, maxOutcomes: 3000)
            let rng = RandomGenerator(seed: seed &+ 7)
            let pi = Distribution.softmax(p.prior.logProbabilities.map { $0 + rng.gaussian() })
            let shaped = Objective.shapedReward(pi, prior: p.prior, reward: p.reward, beta: p.beta)
            let closed = PolicyGradient.klRegularised(pi, prior: p.prior, reward: p.reward, beta: p.beta)
            let m = shaped.map(abs).max()!
            #expect(ScoreFunction.meanScore(pi).allSatisfy { abs($0) <= 2 * sumTolerance(p.n, 1) }, "\(p)")
            for b in [0, pi.expectation(shaped), 1e3 * m * rng.gaussian()] {
                let g = ScoreFunction.gradient(pi, f: shaped, baseline: b)
                #expect(allFinite(g), "\(p)")
                #expect(zip(g, closed).allSatisfy { abs($0 - $1) <= 8 * sumTolerance(p.n, m + abs(b)) }, "\(p), b = \(b)")
            }
        }
    }

    @Test("the frontier: E[r] and KL fall with β, the slope-β line through each point lies above the others")
    func frontier() async {
        await propertyCheck(count: 60, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, maxOutcomes: 2000)
            let betas = (0...12).map { p.beta * pow(10, -1.5 + Double($0) / 4) }
            let points = betas.map { Frontier.point(prior: p.prior, reward: p.reward, beta: $0) }
            #expect(points.allSatisfy { $0.klDivergence.isFinite && $0.expectedReward.isFinite }, "\(p)")
            let rMax = p.reward.map(abs).max()!
            for (a, b) in zip(points, points.dropFirst()) {
                let klScale = 1 + (p.reward.max()! - p.reward.min()!) / a.beta + p.prior.logProbabilities.map(abs).max()!
                #expect(a.expectedReward >= b.expectedReward - 4 * sumTolerance(p.n, rMax), "\(p)")
                #expect(a.klDivergence >= b.klDivergence - 4 * sumTolerance(p.n, klScale), "\(p)")
            }
            for c in points {
                let klScale = 1 + (p.reward.max()! - p.reward.min()!) / betas[0] + p.prior.logProbabilities.map(abs).max()!
                let tol = 8 * sumTolerance(p.n, rMax + c.beta * klScale)
                let tangent = c.expectedReward - c.beta * c.klDivergence
                #expect(points.allSatisfy { $0.expectedReward - c.beta * $0.klDivergence <= tangent + tol }, "\(p) at β = \(c.beta)")
            }
        }
    }

    @Test("the KL budget: Brent's temperature spends exactly the budget, and no feasible mixture beats it")
    func constrained() async throws {
        await propertyCheck(count: 40, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, maxOutcomes: 500, kinds: [.gaussian, .ties, .minusMillion])
            let top = Frontier.largestKL(prior: p.prior, reward: p.reward)
            guard top > 1e-6, top.isFinite else { return }   // every outcome is a maximiser: no trade-off
            let epsilon = top / 2
            guard let beta = try? Frontier.temperature(forKL: epsilon, prior: p.prior, reward: p.reward) else {
                Issue.record("no temperature for \(p)"); return
            }
            let at = Frontier.point(prior: p.prior, reward: p.reward, beta: beta)
            #expect(abs(at.klDivergence - epsilon) <= 1e-8 * max(1, epsilon), "\(p): KL \(at.klDivergence) vs \(epsilon)")
            let rng = RandomGenerator(seed: seed &+ 3)
            let q = Distribution(weights: rng.dirichlet(count: p.n, concentration: 0.5))
            if let mix = try? Frontier.feasibleMixture(prior: p.prior, toward: q, budget: epsilon) {
                #expect(klDivergence(mix, p.prior) <= epsilon, "\(p)")
                let rMax = p.reward.map(abs).max()!
                #expect(mix.expectation(p.reward) <= at.expectedReward + beta * 1e-8 * max(1, epsilon) + 8 * sumTolerance(p.n, rMax), "\(p)")
            }
        }
    }

    @Test("the dual's golden-section minimiser brackets Brent's root of KL = ε, and its minimum is the optimum")
    func dualMinimum() async throws {
        await propertyCheck(count: 40, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, maxOutcomes: 500, kinds: [.gaussian, .ties])
            let top = Frontier.largestKL(prior: p.prior, reward: p.reward)
            guard top > 1e-6, top.isFinite else { return }
            let epsilon = top / 2
            guard let beta = try? Frontier.temperature(forKL: epsilon, prior: p.prior, reward: p.reward) else {
                Issue.record("no temperature for \(p)"); return
            }
            let search = Frontier.dualMinimum(prior: p.prior, reward: p.reward, budget: epsilon, width: 1e-4)
            #expect(abs(log(search.beta) - log(beta)) <= 1e-4, "\(p): root \(beta), dual minimiser \(search.beta)")
            let optimum = Frontier.point(prior: p.prior, reward: p.reward, beta: beta).expectedReward
            let range = p.reward.max()! - p.reward.min()!
            #expect(abs(search.value - optimum) <= range * range / (4 * beta) * 1e-8 + 1e-9 * max(1, abs(optimum)),
                    "\(p): dual minimum \(search.value) vs optimum \(optimum)")
        }
    }
}

import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("The optimal policy, its closed forms and its certificate (property tests)")
struct OptimalPolicyPropertyTests {
    @Test("Bernoulli-product closed forms equal enumeration of all 2^L strings")
    func bernoulliProduct() async throws {
        await propertyCheck(count: 80, input: ExactGens.seed) { seed in
            let rng = RandomGenerator(seed: seed)
            let L = 1 + rng.uniformInt(below: 12)
            let p = 0.001 + 0.998 * rng.uniform()
            let c = [1.0, -1.0, 1e3, -1e6, rng.gaussian()][rng.uniformInt(below: 5)]
            let beta = exp(log(1e-3) + rng.uniform() * log(1e6))
            let model = BernoulliProduct(length: L, bitProbability: p, rewardPerOne: c)
            let prior = model.enumeratedPrior(), reward = model.enumeratedReward()
            let logZ = model.logPartitionFunction(beta: beta)
            #expect(logZ.isFinite)
            let scale = Double(L) * (abs(c) / beta + abs(log(p)) + abs(log1p(-p)) + 1)
            let tol = sumTolerance(model.outcomeCount, 1) + 8 * Double.ulpOfOne * scale
            #expect(abs(logZ - Posterior.logPartitionFunction(prior: prior, reward: reward, beta: beta)) <= tol, "L \(L) p \(p) c \(c) β \(beta)")
            let post = Posterior.distribution(prior: prior, reward: reward, beta: beta)
            for x in 0..<model.outcomeCount {
                #expect(abs(post.logProbabilities[x] - model.logPosterior(ones: x.nonzeroBitCount, beta: beta)) <= 2 * tol)
            }
            guard let law = try? model.logCountLaw(beta: beta) else { Issue.record("lnchoose failed"); return }
            var counts = [Double](repeating: 0, count: L + 1)
            for x in 0..<model.outcomeCount { counts[x.nonzeroBitCount] += post.probabilities[x] }
            #expect((0...L).allSatisfy { abs(exp(law[$0]) - counts[$0]) <= 2 * tol + 1e-13 })
            let klTol = sumTolerance(model.outcomeCount, scale) + 16 * Double.ulpOfOne * scale
            #expect(abs(model.posteriorKLFromPrior(beta: beta) - klDivergence(post, prior)) <= klTol, "L \(L) p \(p) c \(c) β \(beta)")
        }
    }

    @Test("the residual certificate bounds TV(π, π*) and gives β log Z − J = β K, for any full-support π")
    func certificate() async {
        await propertyCheck(count: 120, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, maxOutcomes: 3000, kinds: [.gaussian, .ties, .constant])
            let rng = RandomGenerator(seed: seed &+ 11)
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            // A policy near the posterior (where the bound is tight) or a random one.
            let noise = [1e-6, 1e-2, 1][rng.uniformInt(below: 3)]
            let pi = Distribution.softmax(post.logProbabilities.map { $0 + noise * rng.gaussian() })
            let cert = AmplitudeOptimisation.certificate(pi, prior: p.prior, reward: p.reward, beta: p.beta)
            let logZ = Posterior.logPartitionFunction(prior: p.prior, reward: p.reward, beta: p.beta)
            let rounding = 8 * sumTolerance(p.n, p.scale(pi, post) / p.beta)
            #expect(totalVariation(pi, post) <= cert.distanceBound + rounding, "\(p)")
            let j = Objective.klRegularised(pi, prior: p.prior, reward: p.reward, beta: p.beta)
            #expect(abs(p.beta * logZ - j - p.beta * cert.divergence) <= p.beta * rounding + 4 * Double.ulpOfOne * p.beta * abs(logZ), "\(p)")
        }
    }

    @Test("BFGS in amplitudes reaches the posterior on small spaces")
    func optimiser() async throws {
        await propertyCheck(count: 25, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, maxOutcomes: 40, kinds: [.gaussian, .ties])
            guard p.beta >= 1e-2 * max(1, p.reward.map(abs).max()!) else { return }   // keep r/β within 100
            let rng = RandomGenerator(seed: seed &+ 5)
            let start = (0..<p.n).map { _ in abs(rng.gaussian()) + 1e-3 }
            guard let result = try? AmplitudeOptimisation.maximiseKLRegularised(prior: p.prior, reward: p.reward, beta: p.beta, from: start) else {
                Issue.record("BFGS threw for \(p)"); return
            }
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            let cert = AmplitudeOptimisation.certificate(result.policy, prior: p.prior, reward: p.reward, beta: p.beta)
            #expect(cert.meanResidual <= 1e-3, "\(p)")
            #expect(totalVariation(result.policy, post) <= cert.distanceBound + 1e-12, "\(p)")
        }
    }

    @Test("the shortfall β log Z − J(π) is at least 2β TV(π, π*)² (Pinsker), and the β limits hold")
    func pinskerAndLimits() async {
        await propertyCheck(count: 120, input: ExactGens.seed) { seed in
            let p = ExactCase(seed: seed, kinds: [.gaussian, .ties, .minusMillion, .huge])
            let post = Posterior.distribution(prior: p.prior, reward: p.reward, beta: p.beta)
            let logZ = Posterior.logPartitionFunction(prior: p.prior, reward: p.reward, beta: p.beta)
            let j = Objective.klRegularised(p.policy, prior: p.prior, reward: p.reward, beta: p.beta)
            let tv = totalVariation(p.policy, post)
            let tol = 4 * sumTolerance(p.n, p.scale(post)) + 4 * Double.ulpOfOne * p.beta * abs(logZ)
            #expect(p.beta * logZ - j >= 2 * p.beta * tv * tv - tol, "\(p)")
            // Hot: Hoeffding, KL(π0 ‖ π*_β) ≤ range(r)²/(8β²) at β = 1000 range(r).
            let range = p.reward.max()! - p.reward.min()!
            guard range > 0 else { return }
            let hot = 1000 * range
            let klHot = klDivergence(p.prior, Posterior.distribution(prior: p.prior, reward: p.reward, beta: hot))
            #expect(klHot <= range * range / (8 * hot * hot) + sumTolerance(p.n, 2 + p.prior.logProbabilities.map(abs).max()!), "\(p)")
            // Cold: TV(π*_β, π0(·|A)) ≤ (1 − π0(A))/π0(A) e^{−Δ/β} at β = Δ/40.
            let a = Reward.maximisers(p.reward)
            guard let runnerUp = (0..<p.n).filter({ !a.contains($0) }).map({ p.reward[$0] }).max() else { return }
            let gap = p.reward.max()! - runnerUp
            let pA = p.prior.mass(of: a)
            guard gap > 0, pA > 1e-300 else { return }
            let cold = Posterior.distribution(prior: p.prior, reward: p.reward, beta: gap / 40)
            let limit = Posterior.zeroTemperatureLimit(prior: p.prior, reward: p.reward)
            // Rounding allowance, entry by entry. cold_x = exp(w_x − L) with w_x = log π0(x) + r(x)/β
            // (an addition and a division: ε(|log π0(x)| + |r(x)/β|)), L = LSE(w) (logSumExpRounding),
            // the subtraction (u|log cold_x|) and exp (ε): a relative error e_c(x). limit_x =
            // exp(log π0(x) − log π0(A)) likewise with log π0(A) a log-sum-exp over A. Each entry's
            // error is its value times its relative error; TV halves their sum, and its own sum of
            // n terms below 1 adds sumTolerance(n, 1). Relative to the terms, not to the result:
            // with r/β in the hundreds (β = gap/40) a flat n ε is exceeded.
            let eps = Double.ulpOfOne
            let logZCold = Posterior.logPartitionFunction(prior: p.prior, reward: p.reward, beta: gap / 40)
            let lseCold = logSumExpRounding(p.n, logZCold), lseA = logSumExpRounding(a.count, log(pA))
            var rounding = sumTolerance(p.n, 1)
            for x in 0..<p.n where cold.probabilities[x] > 0 || limit.probabilities[x] > 0 {
                let lp0 = abs(p.prior.logProbabilities[x])
                if cold.probabilities[x] > 0 {
                    let e = eps * (lp0 + abs(p.reward[x]) / (gap / 40) + abs(cold.logProbabilities[x]) + 1) + lseCold
                    rounding += cold.probabilities[x] * e / 2
                }
                if limit.probabilities[x] > 0 {
                    rounding += limit.probabilities[x] * (eps * (2 * lp0 + 1) + lseA) / 2
                }
            }
            #expect(totalVariation(cold, limit) <= (1 - pA) / pA * exp(-40) + rounding, "\(p)")
        }
    }
}

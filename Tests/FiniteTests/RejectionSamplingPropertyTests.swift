import Finite
import Foundation
import GSL
import PropertyBased
import Testing

/// Exact identities of chapter 6: binary posteriors, filtering, sampling-based inference and
/// quasi-rejection, over random priors, preferences, rewards and temperatures.
@Suite("Rejection sampling and sampling-based inference (property tests)")
struct RejectionSamplingPropertyTests {
    /// A random binary preference with at least one acceptable outcome.
    func preference(_ n: Int, _ rng: RandomGenerator) -> [Bool] {
        var b = (0..<n).map { _ in rng.bernoulli(p: 0.7) }
        b[rng.uniformInt(below: n)] = true
        return b
    }

    @Test("KL(π* ‖ π0) = −log Z for the binary posterior, and π* vanishes off b = 1")
    func binaryPosterior() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...2000)
            let b = preference(problem.n, RandomGenerator(seed: seed ^ 0xb1))
            let post = RejectionSampling.binaryPosterior(prior: problem.prior, acceptable: b)
            let z = RejectionSampling.partitionFunction(prior: problem.prior, acceptable: b)
            let scale = problem.prior.logProbabilities.map { abs($0) }.max()!
            #expect(abs(klDivergence(post, problem.prior) + log(z)) <= roundingTolerance(problem.n, scale: 4 * scale), "\(problem)")
            #expect(post.mass(of: Set((0..<problem.n).filter { !b[$0] })) == 0)
        }
    }

    @Test("TV between the exponentiated-reward posterior r_c = −c(1−b) and the binary posterior has its closed form")
    func binaryLimit() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...500)
            let rng = RandomGenerator(seed: seed ^ 0xc)
            let b = preference(problem.n, rng)
            let c = 20 * rng.uniform()
            let pc = Posterior.distribution(prior: problem.prior, reward: b.map { $0 ? 0 : -c }, beta: 1)
            let post = RejectionSampling.binaryPosterior(prior: problem.prior, acceptable: b)
            let z = RejectionSampling.partitionFunction(prior: problem.prior, acceptable: b)
            let form = RejectionSampling.limitTotalVariation(partition: z, c: c)
            #expect(abs(totalVariation(pc, post) - form) <= roundingTolerance(problem.n, scale: 8) + 1e-12 * form, "\(problem) c = \(c)")
        }
    }

    @Test("The soft acceptance rate Σ π0 e^{(r − max r)/β} equals Z e^{−max r/β}")
    func acceptanceRate() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...2000)
            let rate = RejectionSampling.acceptanceRate(prior: problem.prior, acceptance: RejectionSampling.acceptanceProbabilities(reward: problem.reward, beta: problem.beta))
            let logZ = Posterior.logPartitionFunction(prior: problem.prior, reward: problem.reward, beta: problem.beta)
            let closed = exp(logZ - problem.reward.max()! / problem.beta)
            // exp of a difference of two large logs: its relative error is ε times their size.
            let relative = roundingTolerance(problem.n, scale: 16) + 4 * Double.ulpOfOne * (abs(logZ) + abs(problem.reward.max()! / problem.beta))
            #expect(abs(rate - closed) <= relative * max(rate, closed) + 1e-300, "\(problem)")
        }
    }

    @Test("Independent Metropolis-Hastings: rows sum to 1, detailed balance, π stationary, TV within (1 − 1/w*)^t")
    func metropolisHastings() async {
        await propertyCheck(count: 60, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...40)
            let target = Posterior.distribution(prior: problem.prior, reward: problem.reward, beta: max(problem.beta, 0.05 * (problem.reward.map { abs($0) }.max()! + 1e-12)))
            let p = IndependentMetropolisHastings.transitionMatrix(target: target, proposal: problem.prior)
            let n = problem.n
            let tol = roundingTolerance(2 * n, scale: 4)
            for x in 0..<n {
                #expect(abs(p[x].reduce(0, +) - 1) <= tol)
                #expect(p[x].allSatisfy { $0 >= -tol })
                for y in 0..<n { #expect(abs(target.probabilities[x] * p[x][y] - target.probabilities[y] * p[y][x]) <= tol) }
            }
            let next = IndependentMetropolisHastings.step(target.probabilities, p)
            for y in 0..<n { #expect(abs(next[y] - target.probabilities[y]) <= tol, "\(problem)") }
            var mu = [Double](repeating: 0, count: n); mu[RandomGenerator(seed: seed).uniformInt(below: n)] = 1
            for t in 1...10 {
                mu = IndependentMetropolisHastings.step(mu, p)
                let tv = zip(mu, target.probabilities).reduce(0) { $0 + abs($1.0 - $1.1) } / 2
                #expect(tv <= IndependentMetropolisHastings.convergenceBound(target: target, proposal: problem.prior, steps: t) + Double(t) * tol, "\(problem) t = \(t)")
            }
        }
    }

    @Test("Importance sampling: the Rényi-2 form of Var(Ẑ)/Z² equals the enumerated variance of the weights")
    func importanceVariance() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...2000)
            let beta = max(problem.beta, problem.reward.map { abs($0) }.max()! / 50 + 1e-12)
            let post = Posterior.distribution(prior: problem.prior, reward: problem.reward, beta: beta)
            let logZ = Posterior.logPartitionFunction(prior: problem.prior, reward: problem.reward, beta: beta)
            let w = problem.reward.map { exp($0 / beta - logZ) }   // e^{r/β}/Z, mean 1 under π0
            let enumerated = problem.prior.variance(w)
            let formula = ImportanceSampling.relativeVarianceOfPartitionEstimate(posterior: post, prior: problem.prior, samples: 1)
            #expect(abs(enumerated - formula) <= 1e-9 * max(1, formula), "\(problem)")
        }
    }

    @Test("Quasi-rejection: TV(p, p_c) ≤ 1 − c AR(c)/Z, KL(p ‖ p_c) falls with c, exact beyond max P/q")
    func quasiRejection() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...500)
            let qrs = QuasiRejection(proposal: problem.prior, logTarget: problem.policy.logProbabilities.map { $0 + 3 })
            let p = qrs.target
            let tol = roundingTolerance(problem.n, scale: 16)
            var previous = Double.infinity
            for k in 0...20 {
                let c = qrs.exactConstant * pow(10, -3 + 3.5 * Double(k) / 20)
                let pc = qrs.distribution(c: c)
                #expect(totalVariation(p, pc) <= qrs.totalVariationBound(c: c) + tol, "\(problem) c = \(c)")
                let kl = klDivergence(p, pc)
                if p.support.isSubset(of: pc.support) { #expect(kl <= previous + tol); previous = kl }
            }
            let c = 2 * qrs.exactConstant
            #expect(totalVariation(p, qrs.distribution(c: c)) <= tol)
            #expect(abs(qrs.acceptanceRate(c: c) - exp(qrs.logPartition) / c) <= tol * exp(qrs.logPartition) / c)
        }
    }
}

import Finite
import Foundation
import GSL
import PropertyBased
import Testing

/// Exact identities of chapter 8: the cumulant generating function of the posterior path, its
/// closed forms, the KL controller and the two-parameter fits.
@Suite("Cumulants, the KL controller and over-optimisation fits (property tests)")
struct CumulantsPropertyTests {
    @Test("KL(π_λ ‖ π0) = λ E_λ[r] − K(λ) and K(1/β) = log Z(β)")
    func legendre() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let problem = RandomProblem(seed: seed, sizes: 1...2000)
            let lambda = 1 / problem.beta
            let post = Cumulants.tilted(prior: problem.prior, reward: problem.reward, lambda: lambda)
            let k = Cumulants.generating(prior: problem.prior, reward: problem.reward, lambda: lambda)
            let scale = lambda * problem.reward.map { abs($0) }.max()! + problem.prior.logProbabilities.map { abs($0) }.max()! + abs(k)
            #expect(abs(klDivergence(post, problem.prior) - (lambda * post.expectation(problem.reward) - k)) <= roundingTolerance(problem.n, scale: 8 * scale), "\(problem)")
            #expect(abs(k - Posterior.logPartitionFunction(prior: problem.prior, reward: problem.reward, beta: problem.beta)) <= roundingTolerance(problem.n, scale: 4 * scale))
        }
    }

    @Test("Closed forms: uniform levels via exprel, Bernoulli via log1p/expm1, against log-sum-exp")
    func closedForms() async throws {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let rng = RandomGenerator(seed: seed)
            let m = 1 + rng.uniformInt(below: 5000)
            let lambda = (rng.uniform() - 0.3) * 60
            let levels = (0...m).map { Double($0) / Double(m) }
            let enumerated = Cumulants.generating(prior: .uniform(m + 1), reward: levels, lambda: lambda)
            let closed = try Cumulants.discreteUniform(lambda: lambda, levels: m)
            #expect(abs(enumerated - closed) <= roundingTolerance(m, scale: 8 * (1 + abs(lambda))), "m = \(m) λ = \(lambda)")
            let p = 0.001 + 0.998 * rng.uniform()
            let prior = Distribution(weights: [1 - p, p])
            let bern = Cumulants.generating(prior: prior, reward: [0, 1], lambda: lambda)
            // Rounding of each side, from the magnitudes of what is rounded (not a multiple of
            // 1 + |K|: that failed for input 450778040, p = 0.998, λ = −16.1, where log1p amplified
            // its argument's rounding by 487 before `bernoulli` switched to log((1 − p) + p e^λ)).
            // - closed: y = p expm1(λ) is off by ε p e^λ (exp within 1 ulp, e^λ − 1 exact or within
            //   u|y|) + 2u|y|; log1p divides by 1 + y = 1 − p + p e^λ ≥ p e^λ, and |y| ≤ 1 + y when
            //   y ≥ −1/2: 2ε, plus log1p's own ≤ u + 2ε|K|. For y < −1/2, see `bernoulli`: 2.5ε +
            //   ε|K|. In all 2.5ε + 2ε|K|.
            // - enumerated: log π0(x) (log of 1 − p or p, shift by the larger log-weight, whose
            //   |log| ≤ log 2, minus log s with s ∈ [1, 2]) is off by ≤ ε(6 + 2|log π0(x)|); adding
            //   λ r(x) rounds by u|t_x|. The log-sum-exp weighs these term errors by the tilted
            //   law (`termErrorsInLogSumExp`) and adds its own `logSumExpRounding(2, K)`.
            let eps = Double.ulpOfOne
            let t = (0..<2).map { prior.logProbabilities[$0] + lambda * Double($0) }
            let termErrors = (0..<2).map { eps * (6 + 2 * abs(prior.logProbabilities[$0])) + eps / 2 * abs(t[$0]) }
            let tilted = Cumulants.tilted(prior: prior, reward: [0, 1], lambda: lambda)
            let tolBern = eps * (2.5 + 2 * abs(bern)) + logSumExpRounding(2, bern)
                + termErrorsInLogSumExp(weights: tilted.probabilities, errors: termErrors)
            #expect(abs(bern - (try Cumulants.bernoulli(lambda: lambda, p: p))) <= tolBern, "p = \(p) λ = \(lambda)")
        }
    }

    @Test("The KL controller's fully clipped run equals its geometric closed form")
    func controllerClipped() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let rng = RandomGenerator(seed: seed)
            let target = 1 + 10 * rng.uniform(), horizon = 100 + 1e5 * rng.uniform(), batchSize = 1 + rng.uniformInt(below: 512)
            // A controller whose clipped step 0.2 n/H reaches 1 would send β to 0 or below; the
            // controller refuses it (rare here: H < 102.4 and n > 5H).
            guard 0.2 * Double(batchSize) < horizon else { return }
            let ctl = AdaptiveKLController(target: target, horizon: horizon, batchSize: batchSize)
            let steps = rng.uniformInt(below: 3000)
            let beta0 = 0.01 + rng.uniform()
            let run = ctl.run(initialBeta: beta0, updates: steps, kl: { _ in 0 })   // KL far below target: always clipped
            let closed = ctl.clippedDecay(initialBeta: beta0, updates: steps)
            // Both sides compute the same double x = 0.2·n/H (error·n/H and −clip·n/H round
            // alike), so only what follows differs; u = ε/2, and η = 2⁻¹⁰⁷⁵ the absolute error of a
            // product that lands among the subnormals (β decays to them when 1 − x is small and T
            // large: a relative allowance alone failed for input 571110070, β_T = 5e-324, closed 0).
            // - run: T steps of 1 − x (u) and β·(1 − x) (u + η): relative 2Tu = Tε, and the η of
            //   step s shrinks by (1 − x)^{T−s} ≤ 1 afterwards: at most T η absolute;
            // - closed: log1p (1 ulp, ε) and T·log1p (u) leave A = T log1p(−x) off by 1.5ε|A|,
            //   which exp turns into a relative 1.5ε|A|; exp itself 1 ulp (ε relative, or 2η
            //   absolute among the subnormals), β0·exp u + η, with β0 < 1.01: ≤ 2ε relative and
            //   4η absolute; second-order terms (Tε ≤ 7·10⁻¹³ times the rest) fit in one more ε.
            let a = Double(steps) * log1p(-0.2 * Double(batchSize) / horizon)
            // (T + 4)η, written as ⌈(T + 4)/2⌉ · 2⁻¹⁰⁷⁴ since η itself is not a double.
            let underflow = Double((steps + 5) / 2) * Double.leastNonzeroMagnitude
            let tol = Double.ulpOfOne * (Double(steps) + 3 + 1.5 * abs(a)) * closed + underflow
            #expect(abs(run.betas.last! - closed) <= tol, "seed \(seed)")
            let up = ctl.update(beta: beta0, kl: 100 * ctl.target)
            #expect(abs(up - beta0 * (1 + 0.2 * Double(ctl.batchSize) / ctl.horizon)) <= 4 * Double.ulpOfOne * up)
        }
    }

    @Test("Two-parameter least squares recovers noiseless Gao et al. curves and leaves orthogonal residuals")
    func fits() async {
        await propertyCheck(count: 100, input: Gens.seed) { seed in
            let rng = RandomGenerator(seed: seed)
            let a = 4 * rng.uniform() - 1, b = 2 * rng.uniform()
            let d = (1...30).map { Double($0) / 10 * (0.5 + rng.uniform()) }
            let bo = TwoParameterFit.bestOfN(d: d, gain: d.map { $0 * (a - b * $0) })
            #expect(abs(bo.alpha - a) <= 1e-9 && abs(bo.beta - b) <= 1e-9, "seed \(seed)")
            let rl = TwoParameterFit.reinforcementLearning(d: d, gain: d.map { $0 * (a - b * log($0)) })
            #expect(abs(rl.alpha - a) <= 1e-9 && abs(rl.beta - b) <= 1e-9, "seed \(seed)")
            let y = d.map { _ in rng.gaussian() }
            let fit = TwoParameterFit.bestOfN(d: d, gain: y)
            let o1 = zip(fit.residuals, d).reduce(0) { $0 + $1.0 * $1.1 }, o2 = zip(fit.residuals, d).reduce(0) { $0 - $1.0 * $1.1 * $1.1 }
            #expect(abs(o1) <= 1e-10 && abs(o2) <= 1e-10, "seed \(seed)")
        }
    }
}

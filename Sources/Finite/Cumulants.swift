import GSL

/// The cumulant generating function of the reward under the prior, and the posterior path it
/// generates (chapter 8).
///
/// With λ = 1/β, K(λ) = log E_π0[e^{λ r}] = log Z(1/λ), and the posterior π_λ ∝ π0 e^{λ r}
/// satisfies, along the whole path,
///
///     E_λ[r] = K'(λ),   KL(π_λ ‖ π0) = λ K'(λ) − K(λ),   Var_λ(r) = K''(λ),
///
/// and in general the k-th cumulant of r under π_λ is the k-th derivative of K at λ.
public enum Cumulants {
    /// K(λ) = log Σ_x π0(x) e^{λ r(x)}, by log-sum-exp (K(0) = 0).
    public static func generating(prior: Distribution, reward r: [Double], lambda: Double) -> Double {
        LogSpace.logSumExp((0..<r.count).map { prior.logProbabilities[$0] + (prior.logProbabilities[$0] == -.infinity ? 0 : lambda * r[$0]) })
    }

    /// π_λ(x) = π0(x) e^{λ r(x)} / e^{K(λ)}: the posterior at β = 1/λ (the prior at λ = 0).
    public static func tilted(prior: Distribution, reward r: [Double], lambda: Double) -> Distribution {
        Distribution(logWeights: (0..<r.count).map { prior.logProbabilities[$0] + (prior.logProbabilities[$0] == -.infinity ? 0 : lambda * r[$0]) })
    }

    /// The central moment E_π[(r − E_π r)^k], two-pass.
    public static func centralMoment(_ pi: Distribution, _ r: [Double], order k: Int) -> Double {
        let m = pi.expectation(r)
        return pi.expectation(r.map { v in
            var out = 1.0
            for _ in 0..<k { out *= v - m }
            return out
        })
    }

    /// The first four cumulants (κ1 = mean, κ2 = variance, κ3 = third central moment,
    /// κ4 = μ4 − 3 μ2²) of r under π.
    public static func firstFour(_ pi: Distribution, _ r: [Double]) -> (mean: Double, variance: Double, k3: Double, k4: Double) {
        let m2 = centralMoment(pi, r, order: 2)
        return (pi.expectation(r), m2, centralMoment(pi, r, order: 3), centralMoment(pi, r, order: 4) - 3 * m2 * m2)
    }

    // MARK: - Closed forms

    /// Reward uniform on the m + 1 levels {0, 1/m, …, 1} under a uniform prior:
    /// E[e^{λ r}] = (1/(m+1)) Σ_k e^{λ k/m} = exprel(λ(m+1)/m) / exprel(λ/m), a geometric sum
    /// written with exprel(x) = (e^x − 1)/x (`gsl_sf_exprel_e`) so that λ → 0 is exact.
    public static func discreteUniform(lambda: Double, levels m: Int) throws(GSLError) -> Double {
        let a = try SpecialFunctions.exprel(lambda * Double(m + 1) / Double(m)).value
        let b = try SpecialFunctions.exprel(lambda / Double(m)).value
        return logOf(a) - logOf(b)
    }

    /// Reward uniform on [0, 1]: K(λ) = log ∫_0^1 e^{λ r} dr = log exprel(λ).
    public static func continuousUniform(lambda: Double) throws(GSLError) -> Double {
        logOf(try SpecialFunctions.exprel(lambda).value)
    }

    /// Reward Bernoulli(p) (1 with probability p, else 0): K(λ) = log(1 − p + p e^λ)
    /// = log1p(p expm1(λ)) (`gsl_sf_log_1plusx_e`, `gsl_sf_expm1_e`), exact for small λ.
    ///
    /// log1p multiplies the rounding of its argument y = p expm1(λ) by |y|/(1 + y), which exceeds 1
    /// when y < −1/2 (λ < 0 and p > 1/2; 487 at p = 0.998, λ = −16). There K is computed as
    /// log((1 − p) + p e^λ) instead: two non-negative terms (1 − p exact for p ≥ 1/2), so the sum
    /// is within 2.5ε relative and K within 2.5ε + ε|K|.
    public static func bernoulli(lambda: Double, p: Double) throws(GSLError) -> Double {
        let y = p * (try SpecialFunctions.expm1(lambda).value)
        if y >= -0.5 { return try SpecialFunctions.log1p(y).value }
        return logOf((1 - p) + p * expOf(lambda))
    }

    /// Reward N(μ, σ²): K(λ) = μ λ + σ² λ² / 2. Every tilted law is N(μ + σ²λ, σ²), so
    /// E_λ − μ = σ²λ and KL = σ²λ²/2: E_λ[r] − E_0[r] = σ √(2 KL) exactly.
    public static func gaussian(lambda: Double, mean mu: Double, sd sigma: Double) -> Double {
        mu * lambda + sigma * sigma * lambda * lambda / 2
    }

    // MARK: - The square-root law

    /// The expansion of the gain Δ = E_λ[r] − E_0[r] against σ√(2 KL) in λ:
    ///
    ///     Δ − σ √(2 KL) = (κ3/6) λ² + (κ4/24 + κ3²/(18 σ²)) λ³ + O(λ⁴),
    ///
    /// from K' = κ1 + σ²λ + κ3λ²/2 + κ4λ³/6 and KL = σ²λ²/2 + κ3λ³/3 + κ4λ⁴/8. Returns the
    /// coefficients (of λ², of λ³). In terms of the divergence, Δ ≈ σ√(2 KL) + κ3 KL / (3σ²).
    public static func squareRootLawCorrection(variance s2: Double, k3: Double, k4: Double) -> (second: Double, third: Double) {
        (k3 / 6, k4 / 24 + k3 * k3 / (18 * s2))
    }

    // MARK: - Finite differences

    /// (f(x + h) − f(x − h)) / 2h; error h² sup|f'''| / 6 plus rounding 2 δf / (2h).
    public static func centralDifference(_ f: (Double) -> Double, at x: Double, step h: Double) -> Double {
        (f(x + h) - f(x - h)) / (2 * h)
    }

    /// (f(x + h) − 2 f(x) + f(x − h)) / h²; error h² sup|f''''| / 12 plus rounding 4 δf / h².
    public static func secondDifference(_ f: (Double) -> Double, at x: Double, step h: Double) -> Double {
        (f(x + h) - 2 * f(x) + f(x - h)) / (h * h)
    }
}

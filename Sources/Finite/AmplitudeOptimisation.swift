import GSL

/// The negative KL-regularised objective of paper eq. 3 in amplitude coordinates:
/// π_u(x) = u_x² / Σ_y u_y², f(u) = -J_KLRL(π_u).
///
/// Why amplitudes: in softmax logits the gradient of an outcome is proportional to its
/// probability, so an outcome pushed far down by one long quasi-Newton step is starved: its
/// gradient is exponentially small and the optimiser never brings it back (the plateaus of
/// softmax policy gradients). In amplitudes the Fisher metric is Euclidean (4 I on the sphere),
/// the gradient of an outcome is proportional to √π(x), and the Hessian at the optimum is
/// nearly isotropic: -∂²J/∂u² ≈ 4β/|u|² across the sphere.
///
/// Gradient: ∂J/∂u_x = (2 u_x / |u|²) (r'(x) - J), with the shaped reward r' of eq. 4.
/// The scale of u is a flat direction; the last amplitude is pinned at 1.
public final class AmplitudeObjective: DifferentiableObjective {
    public let prior: Distribution
    public let reward: [Double]
    public let beta: Double

    public init(prior: Distribution, reward: [Double], beta: Double) {
        precondition(prior.count == reward.count && prior.count >= 2, "prior and reward must have the same length, at least 2")
        precondition(beta > 0, "beta must be positive")
        self.prior = prior; self.reward = reward; self.beta = beta
    }

    public var dimension: Int { reward.count - 1 }

    /// The policy u² / |u|² with the pinned last amplitude appended.
    public static func policy(from x: some Collection<Double>) -> Distribution {
        Distribution(weights: x.map { $0 * $0 } + [1])
    }

    public func value(at x: UnsafeBufferPointer<Double>) -> Double {
        -Objective.klRegularised(Self.policy(from: x), prior: prior, reward: reward, beta: beta)
    }

    public func valueAndGradient(at x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>) -> Double {
        let pi = Self.policy(from: x)
        let shaped = Objective.shapedReward(pi, prior: prior, reward: reward, beta: beta)
        let j = pi.expectation(shaped)
        var norm2 = 1.0
        for v in x { norm2 += v * v }
        for i in 0..<dimension {
            gradient[i] = pi.probabilities[i] > 0 ? -2 * x[i] / norm2 * (shaped[i] - j) : 0
        }
        return -j
    }
}

/// Maximising J_KLRL with GSL's BFGS in amplitude coordinates, and certifying the answer from
/// the optimiser's own output.
public enum AmplitudeOptimisation {
    public struct Result: Sendable {
        public let policy: Distribution
        public let objective: Double
        /// The report of the last BFGS run that made progress.
        public let minimisation: MinimizationResult
        /// Iterations over all restarts.
        public let iterations: Int
    }

    /// BFGS (vector_bfgs2) on -J_KLRL(π_u) from amplitudes `start` (n values, rescaled so the
    /// last is 1; it must not be 0).
    public static func maximiseKLRegularised(prior: Distribution, reward: [Double], beta: Double, from start: [Double],
                                             gradientTolerance: Double = 1e-12, maxIterations: Int = 20_000, restarts: Int = 20) throws(GSLError) -> Result {
        precondition(start.last! != 0, "the last amplitude is the pinned scale and must not be 0")
        let objective = AmplitudeObjective(prior: prior, reward: reward, beta: beta)
        let x0 = start.dropLast().map { $0 / start.last! }
        var m = try Minimizer.minimize(objective, from: x0, initialStep: 0.1, lineTolerance: 0.1,
                                       gradientTolerance: gradientTolerance, maxIterations: maxIterations)
        // A stall (GSL_ENOPROG) often comes from a stale curvature estimate: restart from where it
        // stopped while restarts still make progress.
        var iterations = m.iterations
        for _ in 0..<restarts where !m.converged && iterations < maxIterations {
            let again = try Minimizer.minimize(objective, from: m.x, initialStep: 0.1, lineTolerance: 0.1,
                                               gradientTolerance: gradientTolerance, maxIterations: maxIterations - iterations)
            iterations += again.iterations
            let improved = again.value < m.value
            if improved { m = again }
            if !improved || again.iterations <= 1 { break }
        }
        let pi = AmplitudeObjective.policy(from: m.x)
        return Result(policy: pi, objective: Objective.klRegularised(pi, prior: prior, reward: reward, beta: beta), minimisation: m, iterations: iterations)
    }

    /// What the shaped reward says about a candidate π without knowing π*. With δ = log π - log π*,
    /// r'(x) - J = β (KL(π ‖ π*) - δ_x) exactly, so from r' and J alone:
    ///
    /// - ρ = Σ_x π(x) |r'(x) - J| / β, the mean residual, and
    /// - η₊ = max(0, max_x (r'(x) - J) / β), the worst under-weighting.
    ///
    /// Since Σ_x π*(x) e^{δ_x} = 1 some δ_x ≤ 0, hence KL(π ‖ π*) ≤ η₊ and δ_x ≥ -η₊ everywhere, and
    ///
    ///     β log Z - J_KLRL(π) = β KL(π ‖ π*) ≤ β η₊,
    ///     TV(π, π*) = ½ Σ π |1 - e^{-δ}| ≤ ½ e^{η₊} Σ π |δ| ≤ ½ e^{η₊} (ρ + η₊).
    public struct Certificate: Sendable {
        public let meanResidual: Double
        public let worstUnderweighting: Double
        /// The bound on β log Z - J_KLRL(π).
        public var shortfallBound: Double { beta * worstUnderweighting }
        /// The bound on TV(π, π*).
        public var totalVariationBound: Double { 0.5 * expOf(worstUnderweighting) * (meanResidual + worstUnderweighting) }
        public let beta: Double
    }

    public static func certificate(_ pi: Distribution, prior: Distribution, reward: [Double], beta: Double) -> Certificate {
        let shaped = Objective.shapedReward(pi, prior: prior, reward: reward, beta: beta)
        let j = pi.expectation(shaped)
        var rho = 0.0, eta = 0.0
        for x in 0..<pi.count {
            let d = (shaped[x] - j) / beta   // +∞ where π(x) = 0: an outcome the policy has lost
            if pi.probabilities[x] > 0 { rho += pi.probabilities[x] * Swift.abs(d) }
            eta = max(eta, d)
        }
        return Certificate(meanResidual: rho, worstUnderweighting: eta, beta: beta)
    }
}

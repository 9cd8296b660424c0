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
/// The scale of u is a flat direction of J, and the gradient shrinks as 1/|u| when u grows, so
/// a penalty (|u|² - 1)² that leaves π_u alone holds the amplitudes on the unit sphere:
/// f(u) = -J_KLRL(π_u) + (|u|² - 1)², ∂f/∂u_x = -(2 u_x/|u|²)(r'(x) - J) + 4 (|u|² - 1) u_x.
public final class AmplitudeObjective: DifferentiableObjective {
    public let prior: Distribution
    public let reward: [Double]
    public let beta: Double

    public init(prior: Distribution, reward: [Double], beta: Double) {
        precondition(prior.count == reward.count && prior.count >= 2, "prior and reward must have the same length, at least 2")
        precondition(beta > 0, "beta must be positive")
        self.prior = prior; self.reward = reward; self.beta = beta
    }

    public var dimension: Int { reward.count }

    /// The policy u² / |u|².
    public static func policy(from x: some Collection<Double>) -> Distribution {
        Distribution(weights: x.map { $0 * $0 })
    }

    static func scalePenalty(_ x: UnsafeBufferPointer<Double>) -> (norm2: Double, penalty: Double) {
        var norm2 = 0.0
        for v in x { norm2 += v * v }
        return (norm2, (norm2 - 1) * (norm2 - 1))
    }

    public func value(at x: UnsafeBufferPointer<Double>) -> Double {
        -Objective.klRegularised(Self.policy(from: x), prior: prior, reward: reward, beta: beta) + Self.scalePenalty(x).penalty
    }

    public func valueAndGradient(at x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>) -> Double {
        let pi = Self.policy(from: x)
        let shaped = Objective.shapedReward(pi, prior: prior, reward: reward, beta: beta)
        let j = pi.expectation(shaped)
        let (norm2, penalty) = Self.scalePenalty(x)
        for i in 0..<dimension {
            gradient[i] = (pi.probabilities[i] > 0 ? -2 * x[i] / norm2 * (shaped[i] - j) : 0) + 4 * (norm2 - 1) * x[i]
        }
        return -j + penalty
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

    /// BFGS (vector_bfgs2) on -J_KLRL(π_u) from amplitudes `start` (n values, not all 0; they are
    /// scaled to the unit sphere).
    public static func maximiseKLRegularised(prior: Distribution, reward: [Double], beta: Double, from start: [Double],
                                             gradientTolerance: Double = 1e-12, maxIterations: Int = 20_000, restarts: Int = 20) throws(GSLError) -> Result {
        let norm = start.reduce(0) { $0 + $1 * $1 }.squareRoot()
        precondition(norm > 0 && norm.isFinite, "the start amplitudes must not all be 0")
        let objective = AmplitudeObjective(prior: prior, reward: reward, beta: beta)
        let x0 = start.map { $0 / norm }
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

    /// What the shaped reward says about a candidate π without knowing π*. With δ = log π - log π*
    /// and u(x) = (r'(x) - J)/β, eq. 4 gives u(x) = KL(π ‖ π*) - δ_x exactly; and since π* = π e^{-δ}
    /// sums to 1,
    ///
    ///     KL(π ‖ π*) = K := log Σ_x π(x) e^{u(x)},
    ///
    /// a number computed from the policy, the reward and the prior alone. From it:
    ///
    /// - ρ = Σ_x π(x) |u(x)|, the mean residual (0 exactly at the optimum), and the root mean
    ///   square (Σ_x π(x) u(x)²)^{1/2}, which is ‖∇J_KLRL‖/(2β) on the unit sphere of amplitudes;
    /// - TV(π, π*) = Σ_{x: δ_x > 0} (π(x) - π*(x)) ≤ Σ_x π(x) max(0, K - u(x)), using
    ///   π - π* = π(1 - e^{-δ}) ≤ π δ on the over-weighted side;
    /// - β log Z - J_KLRL(π) = β K.
    public struct Certificate: Sendable {
        public let meanResidual: Double
        /// (Σ_x π(x) u(x)²)^{1/2}.
        public let rmsResidual: Double
        /// K = log E_π[e^u]: the divergence KL(π ‖ π*) as the residuals imply it.
        public let divergence: Double
        /// Σ_x π(x) max(0, K - u(x)): a bound on TV(π, π*).
        public let distanceBound: Double
    }

    public static func certificate(_ pi: Distribution, prior: Distribution, reward: [Double], beta: Double) -> Certificate {
        let shaped = Objective.shapedReward(pi, prior: prior, reward: reward, beta: beta)
        let j = pi.expectation(shaped)
        var rho = 0.0, squares = 0.0
        var logTerms: [Double] = []
        var u = [Double](repeating: 0, count: pi.count)
        for x in 0..<pi.count where pi.probabilities[x] > 0 {
            u[x] = (shaped[x] - j) / beta
            rho += pi.probabilities[x] * Swift.abs(u[x])
            squares += pi.probabilities[x] * u[x] * u[x]
            logTerms.append(pi.logProbabilities[x] + u[x])
        }
        // An outcome the policy has lost entirely (π(x) = 0 < π*(x)) is invisible to these sums;
        // softmax or amplitude policies with finite parameters never lose one exactly.
        let k = max(0, LogSpace.logSumExp(logTerms))
        var bound = 0.0
        for x in 0..<pi.count where pi.probabilities[x] > 0 { bound += pi.probabilities[x] * max(0, k - u[x]) }
        return Certificate(meanResidual: rho, rmsResidual: squares.squareRoot(), divergence: k, distanceBound: bound)
    }
}

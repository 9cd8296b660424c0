import GSL

/// The negative KL-regularised objective of paper eq. 3 as a function of softmax logits,
/// f(θ) = -J_KLRL(π_θ) = -(E_{π_θ}[r] - β KL(π_θ ‖ π0)), for GSL's BFGS minimiser.
///
/// Gradient (softmax score function, the shaped reward r' of eq. 4):
/// ∇_θ f = -π_θ ⊙ (r' - E_{π_θ}[r']), r'(x) = r(x) + β (log π0(x) - log π_θ(x)).
///
/// The logits are used as given (no re-centring), so a shift of all logits is a flat
/// direction with zero gradient; BFGS is unaffected by it.
public final class KLRegularisedLogitObjective: DifferentiableObjective {
    public let prior: Distribution
    public let reward: [Double]
    public let beta: Double
    /// Number of value and gradient evaluations so far.
    public private(set) var evaluations = 0

    public init(prior: Distribution, reward: [Double], beta: Double) {
        precondition(prior.count == reward.count, "prior and reward have different lengths")
        precondition(beta > 0, "beta must be positive")
        self.prior = prior; self.reward = reward; self.beta = beta
    }

    public var dimension: Int { reward.count }

    public func value(at x: UnsafeBufferPointer<Double>) -> Double {
        evaluations += 1
        let pi = Distribution.softmax(Array(x))
        return -Objective.klRegularised(pi, prior: prior, reward: reward, beta: beta)
    }

    public func valueAndGradient(at x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>) -> Double {
        evaluations += 1
        let pi = Distribution.softmax(Array(x))
        let shaped = Objective.shapedReward(pi, prior: prior, reward: reward, beta: beta)
        let j = pi.expectation(shaped)   // J_KLRL(π) = E_π[r'] (eq. 4)
        for i in 0..<dimension {
            let p = pi.probabilities[i]
            gradient[i] = p > 0 ? -p * (shaped[i] - j) : 0
        }
        return -j
    }
}

/// Maximising J_KLRL over softmax policies with a general-purpose optimiser, knowing nothing
/// of the closed form of its maximiser.
public enum SoftmaxOptimisation {
    /// The outcome: the policy found, J_KLRL there, and the optimiser's report.
    public struct Result: Sendable {
        public let policy: Distribution
        public let objective: Double
        public let minimisation: MinimizationResult
    }

    /// Runs GSL's BFGS (vector_bfgs2) on -J_KLRL(softmax θ) from `logits` until the gradient
    /// norm is below `gradientTolerance`.
    public static func maximiseKLRegularised(prior: Distribution, reward: [Double], beta: Double, from logits: [Double],
                                             gradientTolerance: Double = 1e-11, maxIterations: Int = 20_000) throws(GSLError) -> Result {
        let objective = KLRegularisedLogitObjective(prior: prior, reward: reward, beta: beta)
        let m = try Minimizer.minimize(objective, from: logits, initialStep: 0.1, lineTolerance: 0.1,
                                       gradientTolerance: gradientTolerance, maxIterations: maxIterations)
        let pi = Distribution.softmax(m.x)
        return Result(policy: pi, objective: Objective.klRegularised(pi, prior: prior, reward: reward, beta: beta), minimisation: m)
    }

    /// The first-order distance bound for a stationary-point search on softmax logits: near the
    /// maximiser π*, the gradient is g_x ≈ -β π(x) (δ_x - E_π δ) with δ = log π - log π*, so
    /// TV(π, π*) ≈ ½ Σ_x π(x) |δ_x - E_π δ| = ½ Σ_x |g_x| / β ≤ ½ √n ‖g‖₂ / β.
    public static func totalVariationBound(gradientNorm: Double, count n: Int, beta: Double) -> Double {
        0.5 * Double(n).squareRoot() * gradientNorm / beta
    }
}

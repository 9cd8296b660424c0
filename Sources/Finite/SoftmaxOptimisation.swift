import GSL

/// The negative KL-regularised objective of paper eq. 3 as a function of softmax logits,
/// f(θ) = -J_KLRL(π_θ) = -(E_{π_θ}[r] - β KL(π_θ ‖ π0)), for GSL's BFGS minimiser.
///
/// Gradient (softmax score function, the shaped reward r' of eq. 4):
/// ∇_θ f = -π_θ ⊙ (r' - E_{π_θ}[r']), r'(x) = r(x) + β (log π0(x) - log π_θ(x)).
///
/// Softmax logits are defined up to a common shift, a flat direction that makes the Hessian
/// singular and upsets BFGS's line search; the last logit is therefore pinned at 0 and the
/// minimiser sees the other n - 1 (`logits(from:)` rebuilds the full vector).
public final class KLRegularisedLogitObjective: DifferentiableObjective {
    public let prior: Distribution
    public let reward: [Double]
    public let beta: Double
    /// A constant subtracted from J: the minimiser tests progress relative to |f|, so a run
    /// restarted with the offset set to the current J can still see small improvements.
    public let offset: Double
    /// Number of value and gradient evaluations so far.
    public private(set) var evaluations = 0

    public init(prior: Distribution, reward: [Double], beta: Double, offset: Double = 0) {
        precondition(prior.count == reward.count, "prior and reward have different lengths")
        precondition(beta > 0, "beta must be positive")
        self.prior = prior; self.reward = reward; self.beta = beta; self.offset = offset
    }

    public var dimension: Int { reward.count - 1 }

    /// The full logit vector (x_0, ..., x_{n-2}, 0) from the minimiser's n - 1 variables.
    public static func logits(from x: some Collection<Double>) -> [Double] { Array(x) + [0] }

    public func value(at x: UnsafeBufferPointer<Double>) -> Double {
        evaluations += 1
        let pi = Distribution.softmax(Self.logits(from: x))
        return offset - Objective.klRegularised(pi, prior: prior, reward: reward, beta: beta)
    }

    public func valueAndGradient(at x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>) -> Double {
        evaluations += 1
        let pi = Distribution.softmax(Self.logits(from: x))
        let shaped = Objective.shapedReward(pi, prior: prior, reward: reward, beta: beta)
        let j = pi.expectation(shaped)   // J_KLRL(π) = E_π[r'] (eq. 4)
        for i in 0..<dimension {
            let p = pi.probabilities[i]
            gradient[i] = p > 0 ? -p * (shaped[i] - j) : 0
        }
        return offset - j
    }
}

/// Maximising J_KLRL over softmax policies with a general-purpose optimiser, knowing nothing
/// of the closed form of its maximiser.
public enum SoftmaxOptimisation {
    /// The outcome: the policy found, J_KLRL there, and the optimiser's report.
    public struct Result: Sendable {
        public let policy: Distribution
        public let objective: Double
        /// The last BFGS run's report.
        public let minimisation: MinimizationResult
        /// BFGS iterations over all restarts.
        public let iterations: Int
    }

    /// Runs GSL's BFGS (vector_bfgs2) on -J_KLRL(softmax θ) from `logits` (n values; they are
    /// shifted so the last is 0) until the gradient norm is below `gradientTolerance`.
    public static func maximiseKLRegularised(prior: Distribution, reward: [Double], beta: Double, from logits: [Double],
                                             gradientTolerance: Double = 1e-11, maxIterations: Int = 20_000, restarts: Int = 50) throws(GSLError) -> Result {
        var objective = KLRegularisedLogitObjective(prior: prior, reward: reward, beta: beta)
        // BFGS can stall (GSL_ENOPROG) with a poor curvature estimate on the flat, badly scaled
        // directions of rare outcomes; restarting from where it stopped resets the estimate, and
        // measuring f from the current value lets the line search see progress far below ε|J|.
        let pinned = logits.dropLast().map { $0 - logits.last! }
        var m = try Minimizer.minimize(objective, from: pinned, initialStep: 0.1, lineTolerance: 0.1,
                                       gradientTolerance: gradientTolerance, maxIterations: maxIterations)
        var iterations = m.iterations
        for _ in 0..<restarts where !m.converged && iterations < maxIterations {
            let x = m.x
            let here = Objective.klRegularised(Distribution.softmax(KLRegularisedLogitObjective.logits(from: x)), prior: prior, reward: reward, beta: beta)
            objective = KLRegularisedLogitObjective(prior: prior, reward: reward, beta: beta, offset: here)
            m = try Minimizer.minimize(objective, from: x, initialStep: 0.1, lineTolerance: 0.1,
                                       gradientTolerance: gradientTolerance, maxIterations: maxIterations - iterations)
            iterations += m.iterations
        }
        let pi = Distribution.softmax(KLRegularisedLogitObjective.logits(from: m.x))
        return Result(policy: pi, objective: Objective.klRegularised(pi, prior: prior, reward: reward, beta: beta),
                      minimisation: m, iterations: iterations)
    }
}

/// The adaptive KL controller of Ziegler et al. (2019), as used in RLHF codebases: after each
/// update of `batchSize` episodes it moves the KL coefficient β towards a target divergence,
///
///     e_t = clip(KL_t / target − 1, −0.2, 0.2),   β_{t+1} = β_t (1 + e_t · batchSize / horizon).
///
/// Run against the exact curve KL(π*_β ‖ π0) (the policy at its optimum for the current β), it
/// settles at the β* with KL(π*_β* ‖ π0) = target when that is reachable; near β* the log-error
/// shrinks by the factor 1 − (batchSize/horizon) |d log KL / d log β| per update.
public struct AdaptiveKLController: Sendable {
    public let target: Double
    public let horizon: Double
    public let batchSize: Int
    /// The clip of the proportional error: 0.2 in Ziegler et al.
    public let clip: Double

    public init(target: Double, horizon: Double, batchSize: Int, clip: Double = 0.2) {
        precondition(target > 0 && horizon > 0 && batchSize > 0 && clip > 0, "controller settings must be positive")
        // A clipped step down multiplies β by 1 − clip·batchSize/horizon: at or below 0 it would
        // end the run at β ≤ 0, and `clippedDecay`'s log1p would be −∞ or NaN.
        precondition(clip * Double(batchSize) < horizon, "clip · batchSize must stay below horizon, or a step down sends β to 0 or below")
        self.target = target; self.horizon = horizon; self.batchSize = batchSize; self.clip = clip
    }

    /// One update: β (1 + clip(KL/target − 1, ±clip) · batchSize/horizon).
    public func update(beta: Double, kl: Double) -> Double {
        let error = min(max(kl / target - 1, -clip), clip)
        return beta * (1 + error * Double(batchSize) / horizon)
    }

    /// β_0, β_1, …, β_T with KL_t = kl(β_t), and the KL at each: T = `updates`, or with
    /// `settledStep` the first t whose step has |β_t/β_{t−1} − 1| ≤ settledStep if that comes sooner
    /// (the controller's own sign of having settled: near β* what remains of the log-error is about
    /// step/ρ, ρ the rate per update).
    public func run(initialBeta: Double, updates: Int, settledStep: Double? = nil,
                    kl: (Double) -> Double) -> (betas: [Double], kls: [Double]) {
        var betas = [initialBeta], kls: [Double] = []
        var beta = initialBeta
        for _ in 0..<updates {
            let k = kl(beta)
            kls.append(k)
            let next = update(beta: beta, kl: k)
            betas.append(next)
            let step = Swift.abs(next / beta - 1)
            beta = next
            if let settled = settledStep, step <= settled { break }
        }
        kls.append(kl(beta))
        return (betas, kls)
    }

    /// When KL_t ≤ (1 − clip) target at every step (the target is out of reach), every update
    /// is clipped and β decays geometrically: β_T = β_0 (1 − clip · batchSize/horizon)^T
    /// (the factor lies in (0, 1) by the initialiser's precondition).
    public func clippedDecay(initialBeta: Double, updates t: Int) -> Double {
        initialBeta * expOf(Double(t) * log1pOf(-clip * Double(batchSize) / horizon))
    }
}

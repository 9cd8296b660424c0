/// Quasi-rejection sampling (Eikema et al., 2022): propose x ~ q and keep it with probability
/// min(1, P(x) / (c q(x))) for an unnormalised target P = Z p and a constant c > 0.
///
/// The kept draws follow p_c(x) = min(q(x), P(x)/c) / AR(c), with acceptance rate
/// AR(c) = Σ_x min(q(x), P(x)/c). Once c ≥ max_x P(x)/q(x) it is exact rejection sampling:
/// p_c = p and AR(c) = Z / c. Below that, a larger c buys a smaller divergence with a lower
/// acceptance rate.
public struct QuasiRejection: Sendable {
    /// The proposal q.
    public let proposal: Distribution
    /// log P(x), the unnormalised target.
    public let logTarget: [Double]
    /// log Z = log Σ_x P(x).
    public let logPartition: Double

    public init(proposal: Distribution, logTarget: [Double]) {
        precondition(proposal.count == logTarget.count, "proposal and target over different spaces")
        self.proposal = proposal
        self.logTarget = logTarget
        self.logPartition = LogSpace.logSumExp(logTarget)
    }

    /// The normalised target p = P / Z.
    public var target: Distribution { Distribution(logWeights: logTarget) }

    /// The smallest c for which quasi-rejection is exact: max_x P(x)/q(x).
    public var exactConstant: Double {
        var m = -Double.infinity
        for x in 0..<logTarget.count where logTarget[x] > -.infinity { m = max(m, logTarget[x] - proposal.logProbabilities[x]) }
        return expOf(m)
    }

    /// The acceptance probability of a proposal x: min(1, P(x)/(c q(x))).
    public func acceptance(_ x: Int, c: Double) -> Double {
        min(1, expOf(logTarget[x] - proposal.logProbabilities[x] - logOf(c)))
    }

    /// min(q(x), P(x)/c) for each x: the unnormalised law of a kept draw.
    func keptMass(c: Double) -> [Double] {
        let lc = logOf(c)
        return (0..<logTarget.count).map { min(proposal.probabilities[$0], expOf(logTarget[$0] - lc)) }
    }

    /// AR(c) = Σ_x min(q(x), P(x)/c), summed term by term.
    public func acceptanceRate(c: Double) -> Double { keptMass(c: c).reduce(0, +) }

    /// p_c(x) = min(q(x), P(x)/c) / AR(c).
    public func distribution(c: Double) -> Distribution { Distribution(weights: keptMass(c: c)) }

    /// The divergence bound computable from the acceptance rate (Eikema et al., 2022):
    ///
    ///     TV(p, p_c) ≤ 1 − c AR(c) / Z.
    ///
    /// Proof: with a = Z/c, p_c(x) = min(q(x), a p(x)) / AR ≤ (a/AR) p(x) for every x, so
    /// Σ_x min(p, p_c) ≥ Σ_x (AR/a) p_c = AR/a, and TV = 1 − Σ_x min(p, p_c). It is an equality
    /// (0 = 0) once c ≥ max P/q, where AR = Z/c.
    public func totalVariationBound(c: Double) -> Double {
        max(0, 1 - acceptanceRate(c: c) * expOf(logOf(c) - logPartition))
    }
}

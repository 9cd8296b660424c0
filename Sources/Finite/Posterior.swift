/// The Bayesian posterior of the paper: the prior π0 updated by the evidence exp(r/β).
public enum Posterior {
    /// log Z(β) = log Σ_x π0(x) exp(r(x)/β)  (the normaliser of paper eq. 5), by log-sum-exp
    /// over log π0(x) + r(x)/β, so rewards of -1e6 and β = 1e-3 are fine.
    public static func logPartitionFunction(prior: Distribution, reward r: [Double], beta: Double) -> Double {
        precondition(beta > 0, "beta must be positive")
        return LogSpace.logSumExp(logJoint(prior: prior, reward: r, beta: beta))
    }

    /// π*(x) = π0(x) exp(r(x)/β) / Z  (paper eq. 5).
    public static func distribution(prior: Distribution, reward r: [Double], beta: Double) -> Distribution {
        precondition(beta > 0, "beta must be positive")
        return Distribution(logWeights: logJoint(prior: prior, reward: r, beta: beta))
    }

    /// log π0(x) + r(x)/β: the unnormalised log posterior.
    static func logJoint(prior: Distribution, reward r: [Double], beta: Double) -> [Double] {
        precondition(prior.count == r.count, "prior and reward have different lengths")
        return (0..<r.count).map { prior.logProbabilities[$0] + r[$0] / beta }
    }

    /// The limit β → 0: the prior restricted to A = argmax_{x ∈ supp π0} r(x) (chapter 1).
    public static func zeroTemperatureLimit(prior: Distribution, reward r: [Double]) -> Distribution {
        prior.restricted(to: Reward.maximisers(r, within: prior.support))
    }
}

/// Helpers on reward vectors.
public enum Reward {
    /// A = argmax r over `within` (all outcomes by default): every x attaining the maximum.
    public static func maximisers(_ r: [Double], within: Set<Int>? = nil) -> Set<Int> {
        let domain = within ?? Set(r.indices)
        guard let m = domain.map({ r[$0] }).max() else { return [] }
        return domain.filter { r[$0] == m }
    }
}

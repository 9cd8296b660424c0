/// A probability distribution over the finite outcome space X = {0, 1, ..., n-1}, kept in
/// log space.
///
/// Invariant: `logProbabilities` is normalised, log Σ_x π(x) = 0 up to rounding (n ε), and
/// `probabilities[x]` equals `exp(logProbabilities[x])` to a few ulps (both are computed from the
/// same shifted weights, not one from the other). An outcome outside the support has log
/// probability -∞ and probability exactly 0.
public struct Distribution: Sendable, Equatable {
    /// log π(x) for each outcome x.
    public let logProbabilities: [Double]
    /// π(x) for each outcome x.
    public let probabilities: [Double]

    /// Number of outcomes |X|.
    public var count: Int { logProbabilities.count }

    /// π(x) ∝ exp(a(x)): normalises log-weights with log-sum-exp.
    ///
    /// - Precondition: at least one weight is finite and none is NaN or +∞ (callers that take
    ///   user input validate it first and report a one-line error).
    public init(logWeights a: [Double]) {
        precondition(!a.isEmpty, "a distribution needs at least one outcome")
        // Shift by the largest log-weight m first and normalise the shifted weights: then
        // π(x) = exp(a(x) - m) / s carries a relative error of about ε(|a(x) - m| + n), whatever the
        // size of m. Subtracting log Z = m + log s from a(x) directly would add an error of ε|m|,
        // which is 2·10⁻¹⁰ for log-weights near 10⁶ (rewards of 10⁶ at β = 1).
        var m = -Double.infinity
        for v in a {
            precondition(!v.isNaN && v != .infinity, "log-weights must not be NaN or +infinity")
            if v > m { m = v }
        }
        precondition(m.isFinite, "log-weights must include a finite value")
        let shifted = a.map { $0 - m }
        let unnormalised = shifted.map { expOf($0) }
        var s = 0.0
        for w in unnormalised { s += w }
        let logS = logOf(s)
        self.logProbabilities = shifted.map { $0 - logS }
        self.probabilities = unnormalised.map { $0 / s }
    }

    /// π(x) ∝ w(x) for non-negative weights.
    public init(weights w: [Double]) {
        precondition(w.allSatisfy { $0 >= 0 && $0.isFinite }, "weights must be finite and non-negative")
        self.init(logWeights: w.map { $0 > 0 ? logOf($0) : -.infinity })
    }

    /// The uniform distribution over n outcomes.
    public static func uniform(_ n: Int) -> Distribution {
        Distribution(logWeights: [Double](repeating: 0, count: n))
    }

    /// The point mass δ_x on outcome x of n.
    public static func delta(_ x: Int, count n: Int) -> Distribution {
        var a = [Double](repeating: -.infinity, count: n)
        a[x] = 0
        return Distribution(logWeights: a)
    }

    /// The softmax of logits θ: π_θ(x) = exp θ_x / Σ_y exp θ_y.
    public static func softmax(_ logits: [Double]) -> Distribution { Distribution(logWeights: logits) }

    /// π restricted to a subset S and renormalised: π(x | S) = π(x) 1[x ∈ S] / π(S).
    public func restricted(to subset: Set<Int>) -> Distribution {
        Distribution(logWeights: logProbabilities.indices.map { subset.contains($0) ? logProbabilities[$0] : -.infinity })
    }

    /// The outcomes with positive probability.
    public var support: Set<Int> { Set(probabilities.indices.filter { probabilities[$0] > 0 }) }

    /// π(S) = Σ_{x ∈ S} π(x), summed in increasing x: a `Set`'s own order changes from one process
    /// to the next (Swift seeds its hashing per process), and so would the sum's last bits.
    public func mass(of subset: Set<Int>) -> Double { subset.sorted().reduce(0) { $0 + probabilities[$1] } }

    /// E_π[f] = Σ_x π(x) f(x) (terms outside the support contribute 0).
    public func expectation(_ f: [Double]) -> Double { weightedSum(probabilities, f) }

    /// Var_π(f) = E_π[(f - E_π f)²], computed with the centred two-pass formula.
    public func variance(_ f: [Double]) -> Double {
        let m = expectation(f)
        return weightedSum(probabilities, f.map { ($0 - m) * ($0 - m) })
    }
}

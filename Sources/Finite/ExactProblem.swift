/// One exact problem of the paper: a prior π0 over a finite X, a reward r on X and a
/// temperature β > 0, with the posterior π* = π0 e^{r/β}/Z of eq. 5 and its log-evidence log Z.
///
/// The triple travels together through every chapter and every property test; a section or a
/// test that needs it takes one `ExactProblem` rather than three arguments.
public struct ExactProblem: Sendable {
    public let prior: Distribution
    public let reward: [Double]
    public let beta: Double

    public init(prior: Distribution, reward: [Double], beta: Double) {
        precondition(prior.count == reward.count, "prior and reward must have one entry an outcome")
        self.prior = prior; self.reward = reward; self.beta = beta
    }

    /// |X|.
    public var count: Int { prior.count }

    /// π*(x) = π0(x) e^{r(x)/β} / Z (eq. 5).
    public var posterior: Distribution { Posterior.distribution(prior: prior, reward: reward, beta: beta) }

    /// log Z = log Σ_x π0(x) e^{r(x)/β}.
    public var logEvidence: Double { Posterior.logPartitionFunction(prior: prior, reward: reward, beta: beta) }

    /// The same prior and reward at another temperature.
    public func at(beta: Double) -> ExactProblem { ExactProblem(prior: prior, reward: reward, beta: beta) }
}

/// (n + 2) ε scale: the rounding allowance of an n-term recursive sum of terms of size up to
/// `scale` (the worst case of recursive summation is (n − 1)u, u = ε/2; the extra terms cover
/// the rounding of the terms themselves).
public func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

/// Σ_i a_i b_i, summed left to right (the vectors must have the same length).
public func dot(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "dot of vectors of different lengths")
    var s = 0.0
    for i in 0..<a.count { s += a[i] * b[i] }
    return s
}

/// The Euclidean norm (Σ_i v_i²)^{1/2}.
public func norm(_ v: [Double]) -> Double { dot(v, v).squareRoot() }

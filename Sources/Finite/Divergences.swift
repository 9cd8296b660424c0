/// Entropy, divergences and diversity measures of finite distributions.
///
/// Conventions: 0 log 0 = 0; KL(p || q) = +∞ when p puts mass where q has none.
extension Distribution {
    /// Shannon entropy in nats, H(π) = -Σ_x π(x) log π(x).
    public var entropy: Double {
        var h = 0.0
        for i in 0..<count where probabilities[i] > 0 { h -= probabilities[i] * logProbabilities[i] }
        return h
    }

    /// Collision probability Σ_x π(x)²: the chance that two independent draws coincide.
    /// It is 1 exactly for a point mass and 1/n for the uniform distribution.
    public var collisionProbability: Double { probabilities.reduce(0) { $0 + $1 * $1 } }

    /// Expected number of distinct outcomes among k independent draws,
    /// E[D_k] = Σ_x (1 - (1 - π(x))^k), each term computed as -expm1(k log1p(-π(x))) so
    /// that tiny probabilities keep their full precision.
    public func expectedDistinct(draws k: Int) -> Double {
        var s = 0.0
        for p in probabilities where p > 0 {
            s += p == 1 ? 1 : -expm1Of(Double(k) * log1pOf(-p))
        }
        return s
    }
}

/// Kullback-Leibler divergence KL(p || q) = Σ_x p(x) (log p(x) - log q(x)) in nats.
///
/// Returns +∞ when some x has p(x) > 0 and q(x) = 0. The sum is of n terms, so its rounding
/// error is at most about n ε Σ_x p(x) |log p(x) - log q(x)|.
public func klDivergence(_ p: Distribution, _ q: Distribution) -> Double {
    precondition(p.count == q.count, "distributions over different spaces")
    var s = 0.0
    for i in 0..<p.count where p.probabilities[i] > 0 {
        let lq = q.logProbabilities[i]
        if lq == -.infinity { return .infinity }
        s += p.probabilities[i] * (p.logProbabilities[i] - lq)
    }
    return s
}

/// Total variation distance TV(p, q) = ½ Σ_x |p(x) - q(x)| = max_S |p(S) - q(S)|.
public func totalVariation(_ p: Distribution, _ q: Distribution) -> Double {
    precondition(p.count == q.count, "distributions over different spaces")
    var s = 0.0
    for i in 0..<p.count { s += abs(p.probabilities[i] - q.probabilities[i]) }
    return s / 2
}

/// Cross-entropy H(p, q) = -Σ_x p(x) log q(x) = H(p) + KL(p || q).
public func crossEntropy(_ p: Distribution, _ q: Distribution) -> Double {
    precondition(p.count == q.count, "distributions over different spaces")
    var s = 0.0
    for i in 0..<p.count where p.probabilities[i] > 0 {
        if q.logProbabilities[i] == -.infinity { return .infinity }
        s -= p.probabilities[i] * q.logProbabilities[i]
    }
    return s
}

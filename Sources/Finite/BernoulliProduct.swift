import GSL

/// A closed-form oracle for the posterior of paper eq. 5: sequences of L bits, X = {0,1}^L,
/// a prior that draws each bit independently as a one with probability p,
/// π0 = Bernoulli(p)^L, and a reward proportional to the number of ones,
/// r(x) = c · k(x) with k(x) = Σ_i x_i.
///
/// Because both the prior and exp(r/β) factorise over positions, so does everything else:
///
///     Z(β)   = (1 - p + p e^{c/β})^L,
///     π*(x)  = Bernoulli(p')^L with p' = p e^{c/β} / (1 - p + p e^{c/β}) = σ(logit p + c/β),
///     P*(k)  = C(L, k) p'^k (1 - p')^{L-k}   (the count k(x) under π* is Binomial(L, p')),
///     KL(π* ‖ π0) = L [p' log(p'/p) + (1-p') log((1-p')/(1-p))].
///
/// Everything is evaluated in log space with softplus, so c/β of ±10^6 neither overflows nor
/// loses the small side: log p' = -softplus(-(logit p + c/β)) and log(1-p') = -softplus(logit p + c/β).
public struct BernoulliProduct: Sendable {
    /// Number of positions L (the space has 2^L outcomes).
    public let length: Int
    /// Prior probability p of a one at each position, 0 < p < 1.
    public let bitProbability: Double
    /// Reward per one, c: r(x) = c k(x).
    public let rewardPerOne: Double

    public init(length: Int, bitProbability p: Double, rewardPerOne c: Double = 1) {
        precondition(length >= 1 && length <= 62, "length must be between 1 and 62")
        precondition(p > 0 && p < 1, "the bit probability must lie strictly between 0 and 1")
        precondition(c.isFinite, "the reward per one must be finite")
        self.length = length; self.bitProbability = p; self.rewardPerOne = c
    }

    /// log p and log(1 - p) of the prior bit.
    var logPriorBit: (one: Double, zero: Double) { (logOf(bitProbability), log1pOf(-bitProbability)) }

    /// The prior log-odds logit p = log p - log(1 - p).
    var priorLogit: Double { logPriorBit.one - logPriorBit.zero }

    // MARK: - Closed forms

    /// log Z(β) = L log(1 - p + p e^{c/β}) = L [log(1 - p) + softplus(logit p + c/β)]  (eq. 5).
    public func logPartitionFunction(beta: Double) -> Double {
        precondition(beta > 0, "beta must be positive")
        return Double(length) * (logPriorBit.zero + Self.softplus(priorLogit + rewardPerOne / beta))
    }

    /// The posterior bit probability p' = σ(logit p + c/β), as (log p', log(1 - p')).
    public func logPosteriorBit(beta: Double) -> (one: Double, zero: Double) {
        precondition(beta > 0, "beta must be positive")
        let a = priorLogit + rewardPerOne / beta
        return (-Self.softplus(-a), -Self.softplus(a))
    }

    /// log π*(x) for an outcome with k ones: k log p' + (L - k) log(1 - p').
    public func logPosterior(ones k: Int, beta: Double) -> Double {
        let b = logPosteriorBit(beta: beta)
        return Self.weighted(Double(k), b.one) + Self.weighted(Double(length - k), b.zero)
    }

    /// The law of the number of ones under π*: log P*(k) = log C(L, k) + k log p' + (L-k) log(1-p'),
    /// with log C(L, k) from GSL's `gsl_sf_lnchoose_e`. Returns L + 1 log-probabilities.
    public func logCountLaw(beta: Double) throws(GSLError) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(length + 1)
        for k in 0...length {
            out.append(try SpecialFunctions.lnChoose(length, k).value + logPosterior(ones: k, beta: beta))
        }
        return out
    }

    /// E_{π*}[r] = c L p'.
    public func posteriorExpectedReward(beta: Double) -> Double {
        rewardPerOne * Double(length) * expOf(logPosteriorBit(beta: beta).one)
    }

    /// KL(π* ‖ π0) = L [p' (log p' - log p) + (1 - p') (log(1 - p') - log(1 - p))], a sum of L
    /// identical Bernoulli divergences (KL is additive over independent positions).
    public func posteriorKLFromPrior(beta: Double) -> Double {
        let b = logPosteriorBit(beta: beta), a = logPriorBit
        let one = expOf(b.one), zero = expOf(b.zero)
        return Double(length) * (Self.weighted(one, b.one - a.one) + Self.weighted(zero, b.zero - a.zero))
    }

    // MARK: - Enumeration (independent of the closed forms)

    /// The number of outcomes 2^L.
    public var outcomeCount: Int { 1 << length }

    /// The reward vector over all 2^L outcomes, outcome x read as the bits of its index.
    public func enumeratedReward() -> [Double] {
        (0..<outcomeCount).map { rewardPerOne * Double($0.nonzeroBitCount) }
    }

    /// The prior over all 2^L outcomes, built position by position as a product of L bit
    /// probabilities (log π0(x) = Σ_i log Bernoulli(x_i; p)), not from the count formula.
    public func enumeratedPrior() -> Distribution {
        let a = logPriorBit
        let logp = (0..<outcomeCount).map { x -> Double in
            var s = 0.0
            for i in 0..<length { s += (x >> i) & 1 == 1 ? a.one : a.zero }
            return s
        }
        return Distribution(logWeights: logp)
    }

    // MARK: - Helpers

    /// softplus(a) = log(1 + e^a), without overflow for large a or loss for very negative a.
    @inline(__always)
    public static func softplus(_ a: Double) -> Double {
        a > 0 ? a + log1pOf(expOf(-a)) : log1pOf(expOf(a))
    }

    /// w · v with 0 · (anything) = 0, so a zero weight times log 0 contributes nothing.
    @inline(__always)
    static func weighted(_ w: Double, _ v: Double) -> Double { w == 0 ? 0 : w * v }
}

import Foundation

/// A binomial proportion k/n with its Wilson score interval: what a count of prior samples
/// that satisfy b says about Z_b = π0(b = 1).
public struct BinomialCount: Sendable, Codable, Equatable {
    public let successes, trials: Int

    public init(successes: Int, trials: Int) {
        precondition(trials > 0 && (0...trials).contains(successes), "a binomial count needs 0 <= k <= n, n > 0")
        self.successes = successes; self.trials = trials
    }

    /// k/n: the unbiased estimate of the proportion.
    public var value: Double { Double(successes) / Double(trials) }

    /// The binomial standard error √(p̂(1 − p̂)/n).
    public var standardError: Double { (value * (1 - value) / Double(trials)).squareRoot() }

    /// The Wilson score interval at `z` standard normal quantiles:
    /// (p̂ + z²/2n ± z √(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n). Unlike p̂ ± z se it stays inside
    /// (0, 1) and keeps its coverage for small k (a few dozen satisfying texts of thousands).
    public func wilson(z: Double) -> ClosedRange<Double> {
        let n = Double(trials), p = value, z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / (1 + z2 / n)
        return max(0, centre - half)...min(1, centre + half)
    }
}

/// The posterior of a binary preference b at temperature β, π*_β = π0 e^{b/β} / Z(β), in
/// closed form given Z_b = π0(b = 1):
///
///     Z(β) = Σ_x π0(x) e^{b(x)/β} = (1 − Z_b) + Z_b e^{1/β} = 1 + Z_b (e^{1/β} − 1),
///
/// so every quantity of π*_β is a function of the single number Z_b, whose estimate from prior
/// samples is a binomial proportion with a stated interval (no importance weights). π*_β mixes
/// π*_b = π0 b / Z_b (weight w) with π0 restricted to ¬b (weight 1 − w): it lies between π0
/// (β → ∞) and π*_b (β → 0).
public struct BinaryPosterior: Sendable {
    public let zb: Double
    public let beta: Double

    public init(zb: Double, beta: Double) { self.zb = zb; self.beta = beta }

    /// log Z(β) = log(1 + Z_b (e^{1/β} − 1)).
    public var logEvidence: Double { log1p(zb * expm1(1 / beta)) }

    /// w = π*_β(b = 1) = Z_b e^{1/β} / Z(β) = 1 / (1 + (1 − Z_b) e^{−1/β} / Z_b).
    public var mass: Double { zb == 0 ? 0 : 1 / (1 + (1 - zb) * exp(-1 / beta) / zb) }

    /// KL(π*_β ‖ π0) = E_{π*_β}[b]/β − log Z = w/β − log Z: the posterior path's abscissa.
    public var klFromPrior: Double { mass / beta - logEvidence }

    /// KL(π0 ‖ π*_β) = E_{π0}[−b/β] + log Z = log Z − Z_b/β: the prior's distance to its target.
    public var priorDistance: Double { logEvidence - zb / beta }

    /// The frontier: the largest P_π(b) of any policy with KL(π ‖ π0) = kl. By eq. 7,
    /// P_π(b) − β KL(π ‖ π0) ≤ β log Z(β) for every β, with equality only at π*_β, so the
    /// largest is π*_β(b) at the β whose KL(π*_β ‖ π0) is kl (found by bisection in log β, the
    /// posterior's KL falling as β grows), and 1 from kl = −log Z_b on (π*_b is there).
    public static func frontier(kl: Double, zb: Double) -> Double {
        guard zb > 0, zb < 1 else { return zb >= 1 ? 1 : 0 }
        guard kl > 0 else { return zb }
        guard kl < -log(zb) else { return 1 }
        // KL(π*_β ‖ π0) > kl at lo (β = 1/700 keeps e^{1/β} finite), < kl at hi.
        var lo = log(1.0 / 700), hi = log(1e4)
        for _ in 0..<200 {
            let mid = (lo + hi) / 2
            if BinaryPosterior(zb: zb, beta: exp(mid)).klFromPrior > kl { lo = mid } else { hi = mid }
        }
        return BinaryPosterior(zb: zb, beta: exp((lo + hi) / 2)).mass
    }
}

/// How far a policy ended from its target, as a fraction of the prior's distance, with a 95%
/// upper bound that covers both sources of error: the policy's samples and the prior's count
/// of texts that satisfy b (Bonferroni: each at 97.5%).
public struct Arrival: Sendable {
    /// The distance D_T = KL(π_T, target) at the estimate Ẑ_b, its standard error from the
    /// samples alone, and a 95% interval that also spans Z_b's interval.
    public let distance: Estimate
    /// The prior's distance D_0 at Ẑ_b, exact given Z_b, with its range over Z_b's interval.
    public let priorDistance: Estimate
    /// D_T / D_0 at the estimates.
    public let ratio: Double
    /// The largest D_T / D_0 over the sample mean's one-sided 97.5% bound and Z_b's two-sided
    /// 97.5% Wilson interval: a 95% upper bound on the true ratio.
    public let ratioUpper: Double

    /// z of one-sided 97.5% and of two-sided 97.5% (each half of the 5% of the joint bound).
    public static let zMean = 1.959963984540054
    public static let zCount = 2.241402727604947

    /// The largest of `f` over `points` + 1 evenly spaced points of `range`, endpoints included.
    static func maximum(over range: ClosedRange<Double>, points: Int = 200, _ f: (Double) -> Double) -> Double {
        (0...points).map { f(range.lowerBound + (range.upperBound - range.lowerBound) * Double($0) / Double(points)) }
            .max()!
    }

    /// KL(π_θ ‖ π*_β) for KL-regularised RL: with ℓ(x) = log π_θ(x) − log π0(x) of fresh policy
    /// samples (exact per sample, the k1 estimator of chapter 9),
    ///
    ///     KL(π_θ ‖ π*_β) = E_{π_θ}[ℓ − b/β] + log Z(β),
    ///
    /// the sample mean is unbiased; the only bias is log Z at Ẑ_b (Jensen, about
    /// −se(log Ẑ)²/2). Its variance vanishes at π*_β, where ℓ − b/β = −log Z for every text.
    public static func reverse(logRatios: [Double], constraints: [Double], beta: Double,
                               count: BinomialCount) -> Arrival {
        precondition(logRatios.count == constraints.count && logRatios.count > 1, "one b a sample, at least 2")
        let m = Estimate.mean(zip(logRatios, constraints).map { $0 - $1 / beta })
        let at = { (zb: Double) in BinaryPosterior(zb: zb, beta: beta) }
        let zb = count.value, range = count.wilson(z: zCount)
        let mHigh = m.value + zMean * m.standardError, mLow = m.value - zMean * m.standardError
        let d = m.value + at(zb).logEvidence
        // log Z rises with Z_b, so the distance's extremes are at the interval's ends.
        let distance = Estimate(value: d, standardError: m.standardError,
                                low: mLow + at(range.lowerBound).logEvidence,
                                high: mHigh + at(range.upperBound).logEvidence)
        let d0 = at(zb).priorDistance
        let d0s = [range.lowerBound, range.upperBound].map { at($0).priorDistance }
        let prior = Estimate(value: d0, standardError: .nan, low: d0s.min()!, high: d0s.max()!)
        let upper = maximum(over: range) { z in
            let p = at(z)
            return p.priorDistance > 0 ? (mHigh + p.logEvidence) / p.priorDistance : .infinity
        }
        return Arrival(distance: distance, priorDistance: prior, ratio: d / d0, ratioUpper: upper)
    }

    /// KL(π*_b ‖ π_θ) for DPG: with t(x) = log π0(x) − log π_θ(x) on exact samples of π*_b
    /// (prior samples that satisfy b, independent of the count that estimates Z_b),
    ///
    ///     KL(π*_b ‖ π_θ) = E_{π*_b}[t] − log Z_b,   KL(π*_b ‖ π0) = −log Z_b,
    ///
    /// the sample mean is unbiased; log Ẑ_b is biased by about −se(Ẑ_b)²/(2 Z_b²).
    public static func forward(priorMinusPolicy t: [Double], count: BinomialCount) -> Arrival {
        precondition(t.count > 1, "at least 2 posterior samples")
        let m = Estimate.mean(t)
        let zb = count.value, range = count.wilson(z: zCount)
        let mHigh = m.value + zMean * m.standardError, mLow = m.value - zMean * m.standardError
        let d = m.value - log(zb)
        let distance = Estimate(value: d, standardError: m.standardError, low: mLow - log(range.upperBound),
                                high: mHigh - log(range.lowerBound))
        let prior = Estimate(value: -log(zb), standardError: .nan, low: -log(range.upperBound),
                             high: -log(range.lowerBound))
        let upper = maximum(over: range) { z in z < 1 ? (mHigh - log(z)) / -log(z) : .infinity }
        return Arrival(distance: distance, priorDistance: prior, ratio: d / -log(zb), ratioUpper: upper)
    }
}

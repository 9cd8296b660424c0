/// Single-sample estimators of KL(p || q) from x ~ p, in terms of the log-ratio
/// ℓ(x) = log p(x) − log q(x) (Schulman's k1, k2, k3):
///
///     k1 = ℓ,   k2 = ℓ² / 2,   k3 = (q/p − 1) − log(q/p) = e^{−ℓ} − 1 + ℓ.
///
/// E_p[k1] = KL(p || q); E_p[k3] = KL(p || q) + (Σ_{x ∈ supp p} q(x) − 1), which is KL when
/// q lives on the support of p; k2 is biased: E_p[k2] − KL = −E_p[R₃(−ℓ)] with
/// R₃(u) = e^u − 1 − u − u²/2 (because k3 − k2 = R₃(−ℓ)).
import GSL

public enum KLEstimator: String, CaseIterable, Sendable {
    case k1, k2, k3

    /// The estimator's value at log-ratio ℓ = log p/q.
    @inline(__always)
    public func value(logRatio l: Double) -> Double {
        switch self {
        case .k1: return l
        case .k2: return l * l / 2
        case .k3: return expm1Of(-l) + l
        }
    }

    /// dk/dℓ: 1, ℓ and 1 − e^{−ℓ}. Since ∇_θ ℓ = ∇_θ log p_θ, the pathwise gradient of the
    /// estimator is (dk/dℓ) ∇_θ log p_θ(x).
    @inline(__always)
    public func derivative(logRatio l: Double) -> Double {
        switch self {
        case .k1: return 1
        case .k2: return l
        case .k3: return -expm1Of(-l)
        }
    }
}

/// The third-order Taylor remainder R₃(u) = e^u − 1 − u − u²/2, without cancellation for small u.
public func taylorRemainder3(_ u: Double) -> Double {
    if Swift.abs(u) < 1 {
        // u³/6 + u⁴/24 + …: the terms after u^25/25! add less than 1e-23 u³, and for |u| < 1 the
        // direct formula below would lose up to log10(1/|u|) digits to cancellation.
        var term = u * u * u / 6, s = 0.0
        for j in 4...26 { s += term; term *= u / Double(j) }
        return s
    }
    // For |u| ≥ 1 the three terms exceed R₃ by a factor below 20: at most ~20 ε relative error.
    return expm1Of(u) - u - u * u / 2
}

/// Exact moments of a function f of a finite random variable with distribution p.
public struct ExactMoments: Sendable {
    public let mean: Double
    public let variance: Double
    /// The fourth central moment μ₄ = E[(f − mean)⁴] (for the standard error of a sample variance).
    public let fourthCentral: Double

    public init(_ f: [Double], under p: Distribution) {
        mean = p.expectation(f)
        let m = mean
        variance = p.expectation(f.map { ($0 - m) * ($0 - m) })
        fourthCentral = p.expectation(f.map { let d = $0 - m; return d * d * d * d })
    }

    public var standardDeviation: Double { variance.squareRoot() }
}

/// Values of the estimators on every sequence of an autoregressive space, for x ~ p.
public struct SequenceEstimates: Sendable {
    /// ℓ(x) = log p(x) − log q(x) summed over tokens.
    public let logRatio: [Double]
    /// k(ℓ(x)): the estimator applied once to the whole sequence.
    public let perSequence: [KLEstimator: [Double]]
    /// Σ_t k(ℓ_t(x)) with ℓ_t = log p(x_t | x_{<t}) − log q(x_t | x_{<t}): summed per token.
    public let perToken: [KLEstimator: [Double]]

    public init(policy p: AutoregressiveModel, prior q: AutoregressiveModel) {
        var l = [Double](), seq: [KLEstimator: [Double]] = [:], tok: [KLEstimator: [Double]] = [:]
        for k in KLEstimator.allCases { seq[k] = []; tok[k] = [] }
        for i in 0..<p.space.count {
            let lp = p.tokenLogProbabilities(i), lq = q.tokenLogProbabilities(i)
            let lt = zip(lp, lq).map { $0 - $1 }
            let total = lt.reduce(0, +)
            l.append(total)
            for k in KLEstimator.allCases {
                seq[k]!.append(k.value(logRatio: total))
                tok[k]!.append(lt.reduce(0) { $0 + k.value(logRatio: $1) })
            }
        }
        logRatio = l; perSequence = seq; perToken = tok
    }
}

/// Exact P(Σ_{i=1}^n Y_i < 0) for n = 1, 2, 3 independent draws of a finite random variable
/// (values y with probabilities w), by sorting the values once and reading a cumulative sum:
/// P(Y₁ + … + Y_n < 0) = Σ over the first n−1 draws of P(Y_n < −(y₁ + … + y_{n−1})).
/// Cost O(N^{n−1} log N).
public func probabilityNegativeSum(values y: [Double], probabilities w: [Double], draws n: Int) -> Double {
    precondition((1...3).contains(n) && y.count == w.count)
    let order = y.indices.sorted { y[$0] < y[$1] }
    let sorted = order.map { y[$0] }
    var cumulative = [0.0]   // cumulative[j] = P(Y is among the j smallest)
    for i in order { cumulative.append(cumulative.last! + w[i]) }
    // P(Y < t): the number of sorted values strictly below t, by binary search.
    func below(_ t: Double) -> Double {
        var lo = 0, hi = sorted.count
        while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < t { lo = mid + 1 } else { hi = mid } }
        return cumulative[lo]
    }
    switch n {
    case 1: return below(0)
    case 2: return y.indices.reduce(0) { $0 + w[$1] * below(-y[$1]) }
    default:
        var s = 0.0
        for i in y.indices where w[i] > 0 {
            var inner = 0.0
            for j in y.indices where w[j] > 0 { inner += w[j] * below(-(y[i] + y[j])) }
            s += w[i] * inner
        }
        return s
    }
}

/// The Chernoff bound on the chance that the mean of n draws of k1 is not positive:
///
///     P(Σ_{i≤n} ℓ(x_i) ≤ 0) ≤ ρⁿ,   ρ = min_{λ ∈ [0,1]} E_p[e^{−λℓ}] = min_λ Σ_x p(x)^{1−λ} q(x)^λ,
///
/// (Markov's inequality on e^{−λ Σ ℓ}). The minimiser solves g(λ) = E_p[ℓ e^{−λℓ}] = 0 (g is
/// minus the derivative), found with GSL's Brent solver: g(0) = KL(p||q) > 0 and
/// g(1) = E_q[ℓ] = −KL(q||p) < 0. Returns (ρ, λ*).
public func chernoffRate(_ p: Distribution, _ q: Distribution) throws -> (rate: Double, lambda: Double) {
    let l = (0..<p.count).map { p.logProbabilities[$0] - q.logProbabilities[$0] }
    let m = { (lambda: Double) in p.expectation(l.map { expOf(-lambda * $0) }) }
    let dm = { (lambda: Double) in p.expectation(l.map { $0 * expOf(-lambda * $0) }) }
    if dm(0) <= 0 { return (1, 0) }       // p = q: no decay
    if dm(1) >= 0 { return (m(1), 1) }
    let lambda = try RootFinder.brent(lower: 0, upper: 1, absoluteTolerance: 1e-13, relativeTolerance: 0) { dm($0) }
    return (m(lambda), lambda)
}

import GSL

/// The family of distributions over bit strings X = {0,1}^L that draw each position
/// independently: q_θ(x) = Π_i σ(θ_i)^{x_i} (1 − σ(θ_i))^{1 − x_i}. It cannot represent a
/// target whose positions are correlated (a bimodal target), so forward and reverse KL pick
/// different members.
///
/// Outcome x is the integer whose bit i is x_i.
public struct IndependentPositions: Sendable {
    public let length: Int
    public var count: Int { 1 << length }

    public init(length: Int) {
        precondition(length >= 1 && length <= 20, "length must be between 1 and 20")
        self.length = length
    }

    @inline(__always) public func bit(_ x: Int, _ i: Int) -> Int { (x >> i) & 1 }

    /// q_θ over all 2^L outcomes, in log space: log q(x) = Σ_i [x_i log σ(θ_i) + (1−x_i) log σ(−θ_i)].
    public func distribution(logits theta: [Double]) -> Distribution {
        let one = theta.map { -softplusOf(-$0) }, zero = theta.map { -softplusOf($0) }
        return Distribution(logWeights: (0..<count).map { x in
            var s = 0.0
            for i in 0..<length { s += bit(x, i) == 1 ? one[i] : zero[i] }
            return s
        })
    }

    /// The marginals π(x_i = 1) of any distribution over {0,1}^L.
    public func marginals(_ pi: Distribution) -> [Double] {
        var m = [Double](repeating: 0, count: length)
        for x in 0..<count { for i in 0..<length where bit(x, i) == 1 { m[i] += pi.probabilities[x] } }
        return m
    }

    /// The forward-KL optimum in closed form: moment matching, σ(θ_i) = π*(x_i = 1), and
    ///
    ///     min_θ KL(π* ‖ q_θ) = Σ_i H(π*_i) − H(π*)
    ///
    /// (the total correlation of π*), with H(π*_i) the entropy of the i-th marginal.
    public func forwardOptimumDivergence(_ target: Distribution) -> Double {
        marginals(target).reduce(0) { s, m in s - LogSpace.xLogX(m) - LogSpace.xLogX(1 - m) } - target.entropy
    }

    /// ∂/∂θ_i KL(π* ‖ q_θ) = σ(θ_i) − π*(x_i = 1).
    public func forwardGradient(logits theta: [Double], target: Distribution) -> [Double] {
        let m = marginals(target)
        return (0..<length).map { logisticOf(theta[$0]) - m[$0] }
    }

    /// ∂/∂θ_i KL(q_θ ‖ π*) = Σ_x q(x) (x_i − σ(θ_i)) (log q(x) − log π*(x))  (score function;
    /// the mean of the score is zero).
    public func reverseGradient(logits theta: [Double], target: Distribution) -> [Double] {
        let q = distribution(logits: theta)
        var g = [Double](repeating: 0, count: length)
        let s = theta.map { logisticOf($0) }
        for x in 0..<count where q.probabilities[x] > 0 {
            let d = q.probabilities[x] * (q.logProbabilities[x] - target.logProbabilities[x])
            for i in 0..<length { g[i] += d * (Double(bit(x, i)) - s[i]) }
        }
        return g
    }

    /// The coordinate-ascent (mean-field) fixed point that every stationary point of the
    /// reverse KL satisfies:
    ///
    ///     θ_i = E_{q_{−i}}[log π*(x_{i←1}) − log π*(x_{i←0})],
    ///
    /// the expected log-odds of position i under the other positions' factors, by enumeration.
    public func meanFieldLogits(logits theta: [Double], target: Distribution) -> [Double] {
        let q = distribution(logits: theta)
        let s = theta.map { logisticOf($0) }
        return (0..<length).map { i in
            var e = 0.0
            for x in 0..<count where bit(x, i) == 1 {
                let qRest = q.probabilities[x] / s[i]   // q_{−i}(x_{−i})
                e += qRest * (target.logProbabilities[x] - target.logProbabilities[x ^ (1 << i)])
            }
            return e
        }
    }
}

/// KL between a member of `IndependentPositions` and a target, for GSL's BFGS on θ.
public final class IndependentPositionsObjective: DifferentiableObjective {
    public let family: IndependentPositions
    public let target: Distribution
    public let direction: SoftmaxDivergenceObjective.Direction

    public init(family: IndependentPositions, target: Distribution, direction: SoftmaxDivergenceObjective.Direction) {
        self.family = family; self.target = target; self.direction = direction
    }

    public var dimension: Int { family.length }

    public func value(at x: UnsafeBufferPointer<Double>) -> Double {
        let q = family.distribution(logits: Array(x))
        return direction == .forward ? klDivergence(target, q) : klDivergence(q, target)
    }

    public func valueAndGradient(at x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>) -> Double {
        let theta = Array(x)
        let g = direction == .forward ? family.forwardGradient(logits: theta, target: target) : family.reverseGradient(logits: theta, target: target)
        for i in 0..<g.count { gradient[i] = g[i] }
        return value(at: x)
    }
}

/// σ(a) = 1/(1 + e^{−a}).
@inline(__always) fileprivate func logisticOf(_ a: Double) -> Double { a >= 0 ? 1 / (1 + expOf(-a)) : expOf(a) / (1 + expOf(a)) }
/// log(1 + e^a) without overflow.
@inline(__always) fileprivate func softplusOf(_ a: Double) -> Double { a > 0 ? a + log1pOf(expOf(-a)) : log1pOf(expOf(a)) }

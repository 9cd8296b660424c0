import GSL

/// Forward KL (DPG / GDC, paper §6) against reverse KL (KL-regularised RL, paper eq. 7) as
/// objectives of a softmax policy π_θ fitted to a target π*.
public enum ForwardKL {
    /// ∇_θ KL(π* ‖ π_θ) = −E_{x~π*}[∇_θ log π_θ(x)] = −E_{π*}[e_x − π_θ] = π_θ − π*.
    ///
    /// An expectation under the target, not under the policy: no reward is being maximised.
    public static func gradient(policy: Distribution, target: Distribution) -> [Double] {
        (0..<policy.count).map { policy.probabilities[$0] - target.probabilities[$0] }
    }

    /// The same gradient as DPG computes it, an importance-weighted expectation under the
    /// policy, summed term by term:
    ///
    ///     ∇_θ KL(π* ‖ π_θ) = −Σ_x π_θ(x) w(x) (e_x − π_θ),   w(x) = π*(x) / π_θ(x).
    ///
    /// A single draw x ~ π_θ gives the unbiased estimate −w(x)(e_x − π_θ).
    public static func importanceWeightedGradient(policy: Distribution, target: Distribution) -> [Double] {
        let n = policy.count
        var g = [Double](repeating: 0, count: n)
        var total = 0.0   // Σ_x π_θ(x) w(x), the coefficient of +π_θ
        for x in 0..<n where policy.probabilities[x] > 0 {
            let w = expOf(target.logProbabilities[x] - policy.logProbabilities[x])
            let c = policy.probabilities[x] * w
            g[x] -= c
            total += c
        }
        for y in 0..<n { g[y] += total * policy.probabilities[y] }
        return g
    }

    /// The exact expectation of DPG's self-normalised estimate with two draws x₁, x₂ ~ π_θ,
    /// when only an unnormalised target P ∝ π* is known:
    ///
    ///     ĝ = −Σ_{i} (P(x_i)/π_θ(x_i)) (e_{x_i} − π_θ) / Σ_j P(x_j)/π_θ(x_j),
    ///
    /// enumerated over all n² ordered pairs. It differs from π_θ − π*: self-normalisation
    /// trades the unknown Z for an O(1/N) bias.
    public static func selfNormalisedExpectationTwoDraws(policy: Distribution, target: Distribution) -> [Double] {
        let n = policy.count
        let w = (0..<n).map { expOf(target.logProbabilities[$0] - policy.logProbabilities[$0]) }
        var g = [Double](repeating: 0, count: n)
        for a in 0..<n {
            for b in 0..<n {
                let pr = policy.probabilities[a] * policy.probabilities[b]
                let s = w[a] + w[b]
                guard pr > 0, s > 0 else { continue }
                // −[w_a (e_a − π) + w_b (e_b − π)] / s
                g[a] -= pr * w[a] / s
                g[b] -= pr * w[b] / s
                for y in 0..<n { g[y] += pr * policy.probabilities[y] }
            }
        }
        return g
    }
}

/// KL(target ‖ π_θ) (forward) or KL(π_θ ‖ target) (reverse) as a function of softmax logits,
/// for GSL's BFGS. Gradients: forward π_θ − π*; reverse π_θ ⊙ (log π_θ − log π* − KL).
public final class SoftmaxDivergenceObjective: DifferentiableObjective {
    public enum Direction: Sendable { case forward, reverse }
    public let target: Distribution
    public let direction: Direction

    public init(target: Distribution, direction: Direction) { self.target = target; self.direction = direction }

    public var dimension: Int { target.count }

    public func value(at x: UnsafeBufferPointer<Double>) -> Double {
        let pi = Distribution.softmax(Array(x))
        return direction == .forward ? klDivergence(target, pi) : klDivergence(pi, target)
    }

    public func valueAndGradient(at x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>) -> Double {
        let pi = Distribution.softmax(Array(x))
        let g = direction == .forward ? ForwardKL.gradient(policy: pi, target: target) : PolicyGradient.klDivergence(pi, target: target)
        for i in 0..<g.count { gradient[i] = g[i] }
        return direction == .forward ? klDivergence(target, pi) : klDivergence(pi, target)
    }
}

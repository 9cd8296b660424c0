/// Exact gradients with respect to the logits θ of a softmax policy π_θ(x) = exp θ_x / Σ_y exp θ_y.
///
/// The score function of a softmax is ∇_θ log π_θ(x) = e_x - π_θ, so for any f,
/// ∇_θ E_π[f] = E_π[f (e_x - π)] = π ⊙ (f - E_π f) (componentwise product).
public enum PolicyGradient {
    /// ∇_θ J_RL = π ⊙ (r - E_π r)  (gradient of paper eq. 1).
    public static func expectedReward(_ pi: Distribution, reward r: [Double]) -> [Double] {
        centredProduct(pi, r)
    }

    /// ∇_θ J_KLRL = π ⊙ (r' - E_π r') with the shaped reward r' of paper eq. 4: the KL penalty
    /// behaves as a reward, and the term E_π[∇ log π] it would add is zero.
    public static func klRegularised(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> [Double] {
        centredProduct(pi, Objective.shapedReward(pi, prior: prior, reward: r, beta: beta))
    }

    /// ∇_θ KL(π_θ || q) = π ⊙ (log π - log q - KL(π || q)).
    public static func klDivergence(_ pi: Distribution, target q: Distribution) -> [Double] {
        centredProduct(pi, (0..<pi.count).map { pi.logProbabilities[$0] - q.logProbabilities[$0] })
    }

    /// The off-policy (importance-weighted) score-function gradient of J_RL with outcomes drawn
    /// from a proposal q: E_{x~q}[(π(x)/q(x)) r(x) (e_x - π)], summed exactly over x.
    ///
    /// Written as that expectation, term by term, rather than through the closed form, so that
    /// comparing it with `expectedReward` checks the identity instead of restating it.
    public static func importanceWeightedExpectedReward(_ pi: Distribution, reward r: [Double], proposal q: Distribution) -> [Double] {
        let n = pi.count
        var g = [Double](repeating: 0, count: n)
        var weightSum = 0.0   // Σ_x q(x) w(x) r(x), the coefficient of -π in every term
        for x in 0..<n where q.probabilities[x] > 0 {
            let w = expOf(pi.logProbabilities[x] - q.logProbabilities[x])   // π(x)/q(x)
            let c = q.probabilities[x] * w * r[x]
            g[x] += c                 // the e_x part of (e_x - π)
            weightSum += c
        }
        for y in 0..<n { g[y] -= weightSum * pi.probabilities[y] }   // the -π part
        return g
    }

    /// Central finite differences of a scalar function of the logits, step h:
    /// ∂f/∂θ_i ≈ (f(θ + h e_i) - f(θ - h e_i)) / 2h, error O(h²) + O(ε/h).
    public static func finiteDifference(_ f: ([Double]) -> Double, at theta: [Double], step h: Double = 1e-5) -> [Double] {
        var t = theta
        return (0..<theta.count).map { i in
            t[i] = theta[i] + h
            let up = f(t)
            t[i] = theta[i] - h
            let down = f(t)
            t[i] = theta[i]
            return (up - down) / (2 * h)
        }
    }

    /// π ⊙ (f - E_π f); outside the support the product is 0.
    static func centredProduct(_ pi: Distribution, _ f: [Double]) -> [Double] {
        let m = pi.expectation(f)
        return (0..<pi.count).map { pi.probabilities[$0] > 0 ? pi.probabilities[$0] * (f[$0] - m) : 0 }
    }
}

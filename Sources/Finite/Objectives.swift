/// The objectives of the paper for a policy π over a finite space with prior π0, reward r
/// and temperature β > 0.
public enum Objective {
    /// J_RL(π) = E_π[r] = Σ_x π(x) r(x)  (paper eq. 1).
    public static func expectedReward(_ pi: Distribution, reward r: [Double]) -> Double {
        pi.expectation(r)
    }

    /// J_KLRL(π) = E_π[r] - β KL(π || π0)  (paper eq. 3).
    public static func klRegularised(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> Double {
        pi.expectation(r) - beta * klDivergence(pi, prior)
    }

    /// The shaped reward r'_π(x) = r(x) + β (log π0(x) - log π(x))  (paper eq. 4).
    /// Outside the support of π it is +∞ (log π = -∞); E_π ignores those terms.
    public static func shapedReward(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> [Double] {
        (0..<pi.count).map { r[$0] + beta * (prior.logProbabilities[$0] - pi.logProbabilities[$0]) }
    }

    /// The evidence lower bound with likelihood p(O = 1 | x) = exp(r(x)/β) (paper eqs. 14-15,
    /// generalised from β = 1):
    /// ELBO(π) = E_π[log(exp(r/β) π0 / π)] = E_π[r]/β - KL(π || π0) = J_KLRL(π) / β.
    /// It is at most log Z, with gap exactly KL(π || π*).
    public static func evidenceLowerBound(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> Double {
        var s = 0.0
        for x in 0..<pi.count where pi.probabilities[x] > 0 {
            let lp0 = prior.logProbabilities[x]
            if lp0 == -.infinity { return -.infinity }
            s += pi.probabilities[x] * (r[x] / beta + lp0 - pi.logProbabilities[x])
        }
        return s
    }
}

/// The ways a KL penalty is put into a policy-gradient loss, and the exact expected gradient
/// of each with respect to the logits θ of an autoregressive policy π_θ with prior π0.
///
/// Samples x come from a sampling policy μ: μ = π_θ (on-policy) or a fixed behaviour policy
/// (off-policy, e.g. the policy that generated a stale batch). With ℓ = log π_θ(x)/π0(x),
/// sg(·) a stop-gradient, ρ = π_θ(x)/sg(μ(x)) the sequence ratio and ρ_t the token ratio,
/// each usage is a per-sample loss L(x; θ) whose gradient is averaged over x ~ μ:
///
///     k1 in the reward (REINFORCE):   sg(k1) log π_θ(x)     →  ℓ ∇ log π_θ(x)
///     k1 per token, reward-to-go:     Σ_t sg(Σ_{s≥t} ℓ_s) log π_θ(x_t|x_{<t})
///     k3 in the reward (REINFORCE):   sg(k3) log π_θ(x)
///     k1, k2, k3 as a loss:           k(ℓ)                   →  k′(ℓ) ∇ log π_θ(x)
///     k2, k3 as a per-token loss:     Σ_t k(ℓ_t)
///     ratio times k (sequence):       ρ k(ℓ)                 →  ρ (k + k′) ∇ log π_θ(x)
///     ratio times k3 per token:       Σ_t ρ_t k3(ℓ_t)
///
/// Every gradient is a sum over steps of c_t (e_{x_t} − π(·|x_{<t})) in the block of the
/// prefix x_{<t}, so the expectation is Σ_x μ(x) Σ_t c_t(x) (e_{x_t} − π(·|x_{<t})).
public enum KLPenaltyUsage: String, CaseIterable, Sendable {
    case k1Reward = "k1 in the reward (REINFORCE)"
    case k1RewardToGo = "k1 per token, reward-to-go"
    case k3Reward = "k3 in the reward (REINFORCE)"
    case k1Loss = "k1 as a loss"
    case k2Loss = "k2 as a loss"
    case k3Loss = "k3 as a loss"
    case k2LossPerToken = "k2 per token as a loss"
    case k3LossPerToken = "k3 per token as a loss"
    case ratioK1 = "ratio × k1 as a loss"
    case ratioK2 = "ratio × k2 as a loss"
    case ratioK3 = "ratio × k3 as a loss"
    case ratioK3PerToken = "token ratio × k3 per token"

    /// A stable short name, for check ids and report keys ("k3-loss-per-token").
    public var id: String {
        switch self {
        case .k1Reward: return "k1-reward"
        case .k1RewardToGo: return "k1-reward-to-go"
        case .k3Reward: return "k3-reward"
        case .k1Loss: return "k1-loss"
        case .k2Loss: return "k2-loss"
        case .k3Loss: return "k3-loss"
        case .k2LossPerToken: return "k2-loss-per-token"
        case .k3LossPerToken: return "k3-loss-per-token"
        case .ratioK1: return "ratio-k1"
        case .ratioK2: return "ratio-k2"
        case .ratioK3: return "ratio-k3"
        case .ratioK3PerToken: return "token-ratio-k3-per-token"
        }
    }

    /// The coefficients c_t of the score terms for one sequence, from the per-token
    /// log-ratios ℓ_t and the sequence ratio ρ = π_θ(x)/μ(x) and token ratios ρ_t.
    public func coefficients(tokenLogRatios lt: [Double], ratio rho: Double, tokenRatios rhoT: [Double]) -> [Double] {
        let l = lt.reduce(0, +)
        let T = lt.count
        switch self {
        case .k1Reward: return [Double](repeating: l, count: T)
        case .k1RewardToGo:
            var c = [Double](repeating: 0, count: T), s = 0.0
            for t in stride(from: T - 1, through: 0, by: -1) { s += lt[t]; c[t] = s }
            return c
        case .k3Reward: return [Double](repeating: KLEstimator.k3.value(logRatio: l), count: T)
        case .k1Loss: return [Double](repeating: 1, count: T)
        case .k2Loss: return [Double](repeating: KLEstimator.k2.derivative(logRatio: l), count: T)
        case .k3Loss: return [Double](repeating: KLEstimator.k3.derivative(logRatio: l), count: T)
        case .k2LossPerToken: return lt.map { KLEstimator.k2.derivative(logRatio: $0) }
        case .k3LossPerToken: return lt.map { KLEstimator.k3.derivative(logRatio: $0) }
        case .ratioK1, .ratioK2, .ratioK3:
            let k: KLEstimator = self == .ratioK1 ? .k1 : self == .ratioK2 ? .k2 : .k3
            return [Double](repeating: rho * (k.value(logRatio: l) + k.derivative(logRatio: l)), count: T)
        case .ratioK3PerToken:
            return (0..<T).map { rhoT[$0] * (KLEstimator.k3.value(logRatio: lt[$0]) + KLEstimator.k3.derivative(logRatio: lt[$0])) }
        }
    }

    /// The per-sample loss L(x; θ′) itself, with the stop-gradient quantities frozen at θ:
    /// `lt` and `rho`/`rhoT` are evaluated at θ′, `frozenLT` at θ, and `logProb` are the
    /// token log-probabilities under θ′. Its gradient in θ′ at θ′ = θ is what `coefficients`
    /// encodes; differentiating it numerically checks the coefficients.
    public func loss(tokenLogRatios lt: [Double], frozenTokenLogRatios frozenLT: [Double],
                     tokenLogProbabilities logProb: [Double], ratio rho: Double, tokenRatios rhoT: [Double]) -> Double {
        let l = lt.reduce(0, +), frozen = frozenLT.reduce(0, +)
        let logPi = logProb.reduce(0, +)
        switch self {
        case .k1Reward: return frozen * logPi
        case .k1RewardToGo:
            var s = 0.0, total = 0.0
            for t in stride(from: lt.count - 1, through: 0, by: -1) { s += frozenLT[t]; total += s * logProb[t] }
            return total
        case .k3Reward: return KLEstimator.k3.value(logRatio: frozen) * logPi
        case .k1Loss: return KLEstimator.k1.value(logRatio: l)
        case .k2Loss: return KLEstimator.k2.value(logRatio: l)
        case .k3Loss: return KLEstimator.k3.value(logRatio: l)
        case .k2LossPerToken: return lt.reduce(0) { $0 + KLEstimator.k2.value(logRatio: $1) }
        case .k3LossPerToken: return lt.reduce(0) { $0 + KLEstimator.k3.value(logRatio: $1) }
        case .ratioK1: return rho * KLEstimator.k1.value(logRatio: l)
        case .ratioK2: return rho * KLEstimator.k2.value(logRatio: l)
        case .ratioK3: return rho * KLEstimator.k3.value(logRatio: l)
        case .ratioK3PerToken: return (0..<lt.count).reduce(0) { $0 + rhoT[$1] * KLEstimator.k3.value(logRatio: lt[$1]) }
        }
    }
}

public enum KLGradient {
    /// E_{x~μ}[∇_θ L(x; θ)] = Σ_x μ(x) Σ_t c_t(x) (e_{x_t} − π_θ(·|x_{<t})), summed exactly over
    /// the sequences. `behaviour` is μ; nil means on-policy (μ = π_θ, so ρ = ρ_t = 1).
    public static func expected(_ usage: KLPenaltyUsage, policy p: AutoregressiveModel, prior q: AutoregressiveModel,
                                behaviour: AutoregressiveModel? = nil) -> [Double] {
        let s = p.space
        let mu = behaviour ?? p
        let muLog = mu.sequenceLogProbabilities
        var g = [Double](repeating: 0, count: s.parameterCount)
        for i in 0..<s.count {
            let w = expOf(muLog[i])
            guard w > 0 else { continue }
            let lp = p.tokenLogProbabilities(i), lq = q.tokenLogProbabilities(i), lm = mu.tokenLogProbabilities(i)
            var lt = lp, rhoT = lp
            var logP = 0.0
            for t in 0..<lp.count { lt[t] = lp[t] - lq[t]; rhoT[t] = expOf(lp[t] - lm[t]); logP += lp[t] }
            let rho = expOf(logP - muLog[i])
            let c = usage.coefficients(tokenLogRatios: lt, ratio: rho, tokenRatios: rhoT)
            for (t, step) in s.steps[i].enumerated() { p.addScore(step: step, coefficient: w * c[t], to: &g) }
        }
        return g
    }

    /// The surrogate objective F(θ′) = Σ_x μ(x) L(x; θ′) whose gradient at θ′ = θ is
    /// `expected(...)`: μ and the stop-gradient quantities stay at θ (the `frozen` policy).
    public static func surrogate(_ usage: KLPenaltyUsage, at moved: AutoregressiveModel, frozen p: AutoregressiveModel,
                                 prior q: AutoregressiveModel, behaviour: AutoregressiveModel? = nil) -> Double {
        let s = p.space
        let mu = behaviour ?? p
        let muLog = mu.sequenceLogProbabilities
        var total = 0.0
        for i in 0..<s.count {
            let w = expOf(muLog[i])
            guard w > 0 else { continue }
            let lNew = moved.tokenLogProbabilities(i), lOld = p.tokenLogProbabilities(i)
            let lq = q.tokenLogProbabilities(i), lm = mu.tokenLogProbabilities(i)
            var lt = lNew, frozen = lOld, rhoT = lNew
            var logNew = 0.0
            for t in 0..<lNew.count {
                lt[t] = lNew[t] - lq[t]; frozen[t] = lOld[t] - lq[t]; rhoT[t] = expOf(lNew[t] - lm[t]); logNew += lNew[t]
            }
            let rho = expOf(logNew - muLog[i])
            total += w * usage.loss(tokenLogRatios: lt, frozenTokenLogRatios: frozen, tokenLogProbabilities: lNew, ratio: rho, tokenRatios: rhoT)
        }
        return total
    }

    /// The derivative of f along v at 0 by central differences with Richardson extrapolation:
    /// D(h) = (f(h) − f(−h))/2h, value (4 D(h/2) − D(h))/3 (error O(h⁴)); `spread` = |D(h/2) − D(h)|
    /// estimates the O(h²) truncation of the plain differences and bounds the extrapolated error.
    public static func directionalDerivative(step h: Double = 1e-3, _ f: (Double) -> Double) -> (value: Double, spread: Double) {
        let d1 = (f(h) - f(-h)) / (2 * h)
        let d2 = (f(h / 2) - f(-h / 2)) / h
        return ((4 * d2 - d1) / 3, Swift.abs(d2 - d1))
    }
}

/// KL penalties as RL libraries configure them, and the exact expected gradient of each.
///
/// A setting is one or more parts, each a per-token term v_t (an estimator of the log-ratio
/// ℓ_t = log π_θ(x_t|h_t) − log π0(x_t|h_t), or the exact per-prefix KL), placed either in the
/// loss, L = w Σ_t R_t v_t with an importance ratio R_t, or in the reward, where the advantage of
/// step t is the reward-to-go A_t = Σ_{s≥t} sg(v_s) and the loss is w Σ_t A_t ρ_t (PPO's token
/// ratio ρ_t = π_θ(x_t|h_t)/sg(μ(x_t|h_t)), 1 on-policy with the gradient of log π). The weight
/// w is the library's normaliser: 1 (a sum), 1/T(x) (a mean over the sequence's T tokens),
/// 1/L_max (a constant) or 1/E_μ[T] (a mean over all tokens of a large batch).
///
/// The gradient of every part is a sum of score terms c_s (e_{x_s} − π(·|h_s)) in the block of
/// the prefix h_s, plus, for the exact per-prefix KL, the pathwise gradient of KL(π(·|h) ‖ π0(·|h))
/// in the block of each prefix visited, π(a|h)(ℓ_a − KL_h).
public struct KLSetting: Sendable {
    /// The per-token term.
    public enum Term: Sendable, Equatable {
        /// k1, k2 or k3 of ℓ_t.
        case estimator(KLEstimator)
        /// verl's low_var_kl: k3 of the log-ratio clamped to [−20, 20], itself clamped to at most
        /// `maximum`; where a clamp is active the gradient is zero.
        case clampedK3(maximum: Double)
        /// verl's abs: |ℓ_t|, derivative sign(ℓ_t).
        case absolute
        /// verl's "k1+" / "k3+": the value of the estimator, the gradient of k2 (straight-through).
        case straightThrough(KLEstimator)
        /// The exact KL(π(·|h_t) ‖ π0(·|h_t)) of the next-token distributions at the prefix
        /// (Rao-Blackwellised; what verl's "full" names), differentiated through the whole softmax.
        case exactPerPrefix
    }

    public enum Placement: Sendable, Equatable { case loss, rewardToGo }

    public enum Normaliser: Sendable, Equatable {
        case sum
        case sequenceMean
        case constant(Double)
        /// 1/E_μ[T]: a mean over every token of a batch, in the limit of a large batch.
        case tokenMean
    }

    /// The importance ratio on a loss term: none, the token ratio ρ_t, or the sequence-level
    /// ratio expOf(mean_t log ρ_t) (TRL's importance_sampling_level "sequence"); never detached.
    public enum Ratio: Sendable, Equatable { case none, token, sequence }

    public struct Part: Sendable, Equatable {
        public let term: Term
        public let placement: Placement
        public let normaliser: Normaliser
        public let ratio: Ratio
        public init(_ term: Term, _ placement: Placement, _ normaliser: Normaliser, ratio: Ratio = .none) {
            self.term = term; self.placement = placement; self.normaliser = normaliser; self.ratio = ratio
        }
    }

    /// A stable id ("verl.low-var-kl").
    public let id: String
    /// The library and its configuration, as a user writes it.
    public let library: String
    public let configuration: String
    public let parts: [Part]

    public init(id: String, library: String, configuration: String, parts: [Part]) {
        self.id = id; self.library = library; self.configuration = configuration; self.parts = parts
    }

    /// The value of a term at log-ratio l and, for the pathwise gradient, dv/dℓ (0 where a clamp is
    /// active; the exact per-prefix KL has no score coefficient, its gradient is a block term).
    static func value(_ term: Term, logRatio l: Double, prefixKL: Double) -> (value: Double, slope: Double) {
        switch term {
        case .estimator(let k): return (k.value(logRatio: l), k.derivative(logRatio: l))
        case .straightThrough(let k): return (k.value(logRatio: l), KLEstimator.k2.derivative(logRatio: l))
        case .absolute: return (Swift.abs(l), l > 0 ? 1 : l < 0 ? -1 : 0)
        case .exactPerPrefix: return (prefixKL, 0)
        case .clampedK3(let maximum):
            let inner = min(max(-l, -20), 20)          // verl: kl = clamp(ref − logp, −20, 20)
            let k = expm1Of(inner) - inner               // e^{kl} − kl − 1
            if k > maximum { return (maximum, 0) }
            return (k, -l == inner ? -expm1Of(-l) : 0)   // d/dℓ (e^{−ℓ} + ℓ − 1) = 1 − e^{−ℓ}
        }
    }

    /// Whether every kinked term (|ℓ| at 0, a clamp at its bounds) is on the same side of its kink
    /// at every token for the policies `a` and `b` and the frozen one: finite differences between
    /// a and b are then differences of one smooth function.
    public func isSmooth(between a: AutoregressiveModel, and b: AutoregressiveModel, frozen p: AutoregressiveModel,
                         prior q: AutoregressiveModel) -> Bool {
        let kinked = parts.filter {
            if case .absolute = $0.term { return true }
            if case .clampedK3 = $0.term { return true }
            return false
        }
        if kinked.isEmpty { return true }
        let s = p.space
        for i in 0..<s.count {
            let lq = q.tokenLogProbabilities(i)
            let sides = [a, p, b].map { m in
                zip(m.tokenLogProbabilities(i), lq).map { l -> [Bool] in
                    let r = l.0 - l.1
                    return kinked.map { part in
                        if case .clampedK3(let maximum) = part.term {
                            let inner = min(max(-r, -20), 20)
                            return expm1Of(inner) - inner > maximum || -r != inner
                        }
                        return r > 0
                    }
                }
            }
            if sides[0] != sides[1] || sides[1] != sides[2] { return false }
        }
        return true
    }

    /// The weight w of one sequence of T steps, with E_μ[T] for the token mean.
    static func weight(_ n: Normaliser, steps T: Int, meanSteps: Double) -> Double {
        switch n {
        case .sum: return 1
        case .sequenceMean: return 1 / Double(T)
        case .constant(let c): return 1 / c
        case .tokenMean: return 1 / meanSteps
        }
    }

    /// E_μ[T], the mean number of steps (tokens, the end token included) of a sequence under μ.
    public static func meanSteps(_ mu: AutoregressiveModel) -> Double {
        let d = mu.distribution
        return d.expectation(mu.space.steps.map { Double($0.count) })
    }

    /// The exact E_{x~μ}[∇_θ L(x; θ)], summed over every sequence; `behaviour` is μ (nil: on-policy).
    public func expectedGradient(policy p: AutoregressiveModel, prior q: AutoregressiveModel,
                                 behaviour: AutoregressiveModel? = nil) -> [Double] {
        let s = p.space, k = s.choices
        let mu = behaviour ?? p
        let muLog = mu.sequenceLogProbabilities
        let meanT = KLSetting.meanSteps(mu)
        let prefixKL = (0..<s.prefixCount).map { klDivergence(p.next($0), q.next($0)) }
        var g = [Double](repeating: 0, count: s.parameterCount)
        for i in 0..<s.count {
            let m = expOf(muLog[i])
            guard m > 0 else { continue }
            let steps = s.steps[i], T = steps.count
            let lp = p.tokenLogProbabilities(i), lq = q.tokenLogProbabilities(i), lm = mu.tokenLogProbabilities(i)
            let rhoT = (0..<T).map { expOf(lp[$0] - lm[$0]) }
            let rhoBar = expOf((0..<T).reduce(0) { $0 + lp[$1] - lm[$1] } / Double(T))
            var c = [Double](repeating: 0, count: T)
            for part in parts {
                let w = KLSetting.weight(part.normaliser, steps: T, meanSteps: meanT)
                let terms = (0..<T).map {
                    KLSetting.value(part.term, logRatio: lp[$0] - lq[$0], prefixKL: prefixKL[steps[$0].prefix])
                }
                switch part.placement {
                case .rewardToGo:
                    var toGo = 0.0
                    for t in stride(from: T - 1, through: 0, by: -1) {
                        toGo += terms[t].value
                        c[t] += w * rhoT[t] * toGo
                    }
                case .loss:
                    let r: [Double] = (0..<T).map {
                        part.ratio == .token ? rhoT[$0] : part.ratio == .sequence ? rhoBar : 1
                    }
                    let total = terms.reduce(0) { $0 + $1.value }
                    for t in 0..<T {
                        c[t] += w * r[t] * terms[t].slope
                        if part.ratio == .token { c[t] += w * rhoT[t] * terms[t].value }
                        if part.ratio == .sequence { c[t] += w * rhoBar * total / Double(T) }
                        if part.term == .exactPerPrefix {
                            let h = steps[t].prefix, next = p.next(h), prior = q.next(h)
                            for a in 0..<k {
                                let l = next.logProbabilities[a] - prior.logProbabilities[a]
                                g[h * k + a] += m * w * r[t] * next.probabilities[a] * (l - prefixKL[h])
                            }
                        }
                    }
                }
            }
            for (t, step) in steps.enumerated() { p.addScore(step: step, coefficient: m * c[t], to: &g) }
        }
        return g
    }

    /// The averaged loss F(θ′) = Σ_x μ(x) L(x; θ′) whose gradient at θ′ = θ is `expectedGradient`:
    /// μ, the normaliser, the advantages of the reward part and the detached parts of a
    /// straight-through term stay at θ (the `frozen` policy).
    public func averagedLoss(at moved: AutoregressiveModel, frozen p: AutoregressiveModel, prior q: AutoregressiveModel,
                             behaviour: AutoregressiveModel? = nil) -> Double {
        let s = p.space
        let mu = behaviour ?? p
        let muLog = mu.sequenceLogProbabilities
        let meanT = KLSetting.meanSteps(mu)
        let frozenKL = (0..<s.prefixCount).map { klDivergence(p.next($0), q.next($0)) }
        let movedKL = (0..<s.prefixCount).map { klDivergence(moved.next($0), q.next($0)) }
        var total = 0.0
        for i in 0..<s.count {
            let m = expOf(muLog[i])
            guard m > 0 else { continue }
            let steps = s.steps[i], T = steps.count
            let ln = moved.tokenLogProbabilities(i), lp = p.tokenLogProbabilities(i)
            let lq = q.tokenLogProbabilities(i), lm = mu.tokenLogProbabilities(i)
            let rhoT = (0..<T).map { expOf(ln[$0] - lm[$0]) }
            let rhoBar = expOf((0..<T).reduce(0) { $0 + ln[$1] - lm[$1] } / Double(T))
            var loss = 0.0
            for part in parts {
                let w = KLSetting.weight(part.normaliser, steps: T, meanSteps: meanT)
                switch part.placement {
                case .rewardToGo:
                    var toGo = 0.0
                    for t in stride(from: T - 1, through: 0, by: -1) {
                        let h = steps[t].prefix
                        toGo += KLSetting.value(part.term, logRatio: lp[t] - lq[t], prefixKL: frozenKL[h]).value
                        loss += w * toGo * rhoT[t]
                    }
                case .loss:
                    for t in 0..<T {
                        let h = steps[t].prefix
                        var v = KLSetting.value(part.term, logRatio: ln[t] - lq[t], prefixKL: movedKL[h]).value
                        if case .straightThrough(let k) = part.term {
                            let now = ln[t] - lq[t], then = lp[t] - lq[t]
                            v = KLEstimator.k2.value(logRatio: now) - KLEstimator.k2.value(logRatio: then)
                                + k.value(logRatio: then)
                        }
                        let r = part.ratio == .token ? rhoT[t] : part.ratio == .sequence ? rhoBar : 1
                        loss += w * r * v
                    }
                }
            }
            total += m * loss
        }
        return total
    }
}

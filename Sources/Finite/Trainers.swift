/// The trainers practitioners run (PPO, RLOO, GRPO), as exact expected updates of a tabular
/// autoregressive policy π_θ (one softmax a prefix, `AutoregressiveModel`) with prior π0, a
/// sequence reward r and a KL coefficient β: every expectation over samples and groups is a sum
/// over the sequences of the space, so one iteration is the update an infinitely large batch
/// would make.
///
/// With ℓ_t = log π_θ(x_t|h_t) − log π0(x_t|h_t), a trainer is an advantage A_t for every token
/// of every sampled sequence (computed at the policy that sampled, π_old), a clipped surrogate
///
///     L(θ) = (1/E_old[T]) Σ_x π_old(x) Σ_t E[min(ρ_t A_t, clip(ρ_t, 1 − ε, 1 + ε) A_t) | x],
///     ρ_t = π_θ(x_t|h_t)/π_old(x_t|h_t),
///
/// (a token mean over a large batch, the aggregation of TRL's PPO and RLOO trainers and of its
/// GRPO losses "dapo" and "bnpo"), maximised by `epochs` gradient steps on the same batch, and,
/// for GRPO, a per-token k3 loss β Σ_t k3(ℓ_t) under the same normaliser. The advantage may be
/// random given x (a leave-one-out partner, the rest of a group); min(ρA, clip(ρ)A) is
/// min(ρ, 1+ε)A⁺ − max(ρ, 1−ε)A⁻, so only E[A⁺|x,t] and E[A⁻|x,t] enter.
/// How GRPO divides its group-centred rewards (TRL's scale_rewards).
public enum GroupScale: String, Sendable, Equatable { case group, batch, none }

public struct TrainerRecipe: Sendable, Equatable {
    public enum Advantage: Sendable, Equatable {
        /// PPO as Ziegler et al. (2019) and TRL's PPOTrainer: the per-token reward −β ℓ_t, with
        /// r(x) added at the last token, summed to go, G_t = r − β Σ_{s≥t} ℓ_s; the baseline is
        /// the mean return E_old[G_0] (a large batch's leave-one-out mean, in place of a value
        /// head); then whitened over all tokens, (A − mean)/√(var + 10⁻⁸).
        case tokenReturnsWhitened
        /// RLOO (Ahmadian et al. 2024; TRL's RLOOTrainer, rloo_k = 2): the sequence reward
        /// r' = r − β Σ_t ℓ_t minus that of one other sample, the same for every token.
        case sequenceLeaveOneOut
        /// GRPO (TRL's GRPOTrainer): within a group of G samples, v_i − mean, divided by the
        /// group's std + 10⁻⁴ (std with Bessel's correction; scale_rewards "group"), by the std of
        /// v over the whole batch + 10⁻⁴ ("batch"; a large batch's std under π_old) or by nothing
        /// ("none"); v = r (the KL in the loss) or v = r − β Σ_t ℓ_t (`klInReward`, Shah et al. 2025).
        case groupNormalised(group: Int, klInReward: Bool, scale: GroupScale)
    }

    public let advantage: Advantage
    /// A per-token k3 loss at coefficient β (TRL's GRPOTrainer with beta > 0).
    public let k3Loss: Bool
    /// Gradient steps on each batch (PPO epochs; TRL GRPO's num_iterations).
    public let epochs: Int
    /// ε of the clipped ratio.
    public let clip: Double

    public init(advantage: Advantage, k3Loss: Bool, epochs: Int, clip: Double) {
        precondition(epochs >= 1 && clip > 0, "at least one epoch and a positive clip")
        self.advantage = advantage; self.k3Loss = k3Loss; self.epochs = epochs; self.clip = clip
    }
}

/// One exact problem on a sequence space: prior π0, reward r(x) per sequence, β.
public struct SequenceProblem: Sendable {
    public let prior: AutoregressiveModel
    public let reward: [Double]
    public let beta: Double

    public init(prior: AutoregressiveModel, reward: [Double], beta: Double) {
        precondition(reward.count == prior.space.count, "one reward a sequence")
        self.prior = prior; self.reward = reward; self.beta = beta
    }

    /// π*_β = π0 e^{r/β}/Z over the sequences (eq. 5).
    public var posterior: Distribution {
        ExactProblem(prior: prior.distribution, reward: reward, beta: beta).posterior
    }

    /// r(x) − β log π(x)/π0(x) for every sequence: the reward with the sequence-level k1 in it.
    public func shapedReward(_ p: AutoregressiveModel) -> [Double] {
        let lp = p.sequenceLogProbabilities, lq = prior.sequenceLogProbabilities
        return (0..<reward.count).map { reward[$0] - beta * (lp[$0] - lq[$0]) }
    }
}

/// E[A⁺] and E[A⁻] of every token of every sequence (the advantage's positive and negative parts).
public struct TokenAdvantages: Sendable {
    public var positive: [[Double]]
    public var negative: [[Double]]
    /// The positive factor that multiplies every advantage alike (whitening's 1/std, GRPO's
    /// batch 1/(std + 10⁻⁴); 1 otherwise). At ρ = 1 a constant shift of the advantages adds
    /// nothing to the expected gradient (E[∇ log π(x_t|h_t) | h_t] = 0), so the direction
    /// divided by this factor is the direction without the normalisation.
    public var scale: Double = 1
    /// E[A | x, t].
    public func mean(_ i: Int, _ t: Int) -> Double { positive[i][t] - negative[i][t] }
}

public enum ExactTrainer {
    /// The advantages of `recipe` for every token of every sequence, at the sampling policy p.
    public static func advantages(_ recipe: TrainerRecipe, policy p: AutoregressiveModel,
                                  problem: SequenceProblem) -> TokenAdvantages {
        let s = p.space
        let dist = p.distribution.probabilities
        let steps = s.steps
        switch recipe.advantage {
        case .tokenReturnsWhitened:
            let lq = (0..<s.count).map { problem.prior.tokenLogProbabilities($0) }
            var returns: [[Double]] = []
            for i in 0..<s.count {
                let lp = p.tokenLogProbabilities(i)
                var g = [Double](repeating: 0, count: lp.count)
                var toGo = problem.reward[i]
                for t in stride(from: lp.count - 1, through: 0, by: -1) {
                    toGo -= problem.beta * (lp[t] - lq[i][t])
                    g[t] = toGo
                }
                returns.append(g)
            }
            let baseline = (0..<s.count).reduce(0) { $0 + dist[$1] * returns[$1][0] }
            let tokens = (0..<s.count).reduce(0) { $0 + dist[$1] * Double(steps[$1].count) }
            var mean = 0.0
            for i in 0..<s.count { for g in returns[i] { mean += dist[i] * (g - baseline) } }
            mean /= tokens
            var variance = 0.0
            for i in 0..<s.count { for g in returns[i] { variance += dist[i] * (g - baseline - mean) * (g - baseline - mean) } }
            variance /= tokens
            let scale = 1 / (variance + 1e-8).squareRoot()
            let a = returns.map { row in row.map { ($0 - baseline - mean) * scale } }
            return TokenAdvantages(positive: a.map { $0.map { max($0, 0) } }, negative: a.map { $0.map { max(-$0, 0) } },
                                   scale: scale)
        case .sequenceLeaveOneOut:
            let v = problem.shapedReward(p)
            let parts = pairedParts(v, dist)
            return TokenAdvantages(positive: (0..<s.count).map { [Double](repeating: parts.positive[$0], count: steps[$0].count) },
                                   negative: (0..<s.count).map { [Double](repeating: parts.negative[$0], count: steps[$0].count) })
        case .groupNormalised(let g, let klInReward, let scale):
            precondition(recipe.epochs == 1, "GRPO's exact update is written for one iteration a batch")
            let v = klInReward ? problem.shapedReward(p) : problem.reward
            var a: [Double]
            var factor = 1.0
            switch scale {
            case .group: a = groupAdvantage(values: v, probabilities: dist, group: g, scale: true)
            case .none: a = groupAdvantage(values: v, probabilities: dist, group: g, scale: false)
            case .batch:
                // E[v_x − mean of the group | x] = (G − 1)/G (v_x − E v), over the batch's std.
                let mean = (0..<s.count).reduce(0) { $0 + dist[$1] * v[$1] }
                let sd = ((0..<s.count).reduce(0) { $0 + dist[$1] * (v[$1] - mean) * (v[$1] - mean) }).squareRoot()
                factor = 1 / (sd + 1e-4)
                a = v.map { Double(g - 1) / Double(g) * ($0 - mean) * factor }
            }
            // A group's advantage is a deterministic function of the group; its parts given x
            // are those of the expected advantage only when it has one sign, which holds for
            // one epoch (ρ = 1, where only E[A] enters): GRPO's default num_iterations = 1.
            return TokenAdvantages(positive: (0..<s.count).map { [Double](repeating: max(a[$0], 0), count: steps[$0].count) },
                                   negative: (0..<s.count).map { [Double](repeating: max(-a[$0], 0), count: steps[$0].count) },
                                   scale: factor)
        }
    }

    /// For v(x) and y ~ p: E[(v(x) − v(y))⁺] and E[(v(x) − v(y))⁻] for every x, by sorting v and
    /// running sums of p and p v (exact; O(N log N)).
    public static func pairedParts(_ v: [Double], _ p: [Double]) -> (positive: [Double], negative: [Double]) {
        let n = v.count
        let order = (0..<n).sorted { v[$0] < v[$1] }
        var below = [Double](repeating: 0, count: n), belowV = [Double](repeating: 0, count: n)
        var mass = 0.0, massV = 0.0
        var k = 0
        // Ties contribute zero to both parts, so "strictly below" and "at or below" agree.
        for idx in 0..<n {
            let i = order[idx]
            while k < n && v[order[k]] < v[i] { mass += p[order[k]]; massV += p[order[k]] * v[order[k]]; k += 1 }
            below[i] = mass; belowV[i] = massV
        }
        let totalV = (0..<n).reduce(0) { $0 + p[$1] * v[$1] }, total = p.reduce(0, +)
        var pos = [Double](repeating: 0, count: n), neg = [Double](repeating: 0, count: n)
        for i in 0..<n {
            pos[i] = v[i] * below[i] - belowV[i]
            // Σ_{y: v_y ≥ v_x} p_y (v_y − v_x) = (totalV − belowV) − v_x (total − below).
            neg[i] = (totalV - belowV[i]) - v[i] * (total - below[i])
        }
        return (pos, neg)
    }

    /// GRPO's expected advantage of a sample with value v(x) in a group of G samples, the other
    /// G − 1 drawn independently from p: E[(v_x − mean)/(std + 10⁻⁴)] (or E[v_x − mean] without
    /// `scale`), summed exactly over the multisets of the others' distinct values, each with its
    /// multinomial probability. The deviations are formed as differences from v_x, so nearly
    /// equal values keep their relative precision.
    public static func groupAdvantage(values v: [Double], probabilities p: [Double], group G: Int,
                                      scale: Bool) -> [Double] {
        precondition(G >= 2, "a group has at least two samples")
        let distinct = Array(Set(v)).sorted()
        precondition(G == 2 || distinct.count <= 32,
                     "groups of more than two need few distinct values (\(distinct.count) here)")
        let index = Dictionary(uniqueKeysWithValues: distinct.enumerated().map { ($1, $0) })
        var mass = [Double](repeating: 0, count: distinct.count)
        for i in 0..<v.count { mass[index[v[i]]!] += p[i] }
        let n = distinct.count, m = G - 1
        var logFactorial = [0.0]
        for k in 1...max(m, 1) { logFactorial.append(logFactorial[k - 1] + logOf(Double(k))) }
        var a = [Double](repeating: 0, count: n)
        // Depth-first over multisets as (value, count) entries with nondecreasing values.
        var entries: [(Int, Int)] = []
        func visit(from start: Int, left: Int, logWeight: Double) {
            if left == 0 {
                let w = expOf(logWeight + logFactorial[m])
                guard w > 0 else { return }
                for j in 0..<n {
                    var sum = 0.0
                    for (k, c) in entries { sum += Double(c) * (distinct[k] - distinct[j]) }
                    let meanD = sum / Double(G)
                    var ss = meanD * meanD   // the sample itself, at deviation 0
                    for (k, c) in entries {
                        let d = distinct[k] - distinct[j] - meanD
                        ss += Double(c) * d * d
                    }
                    let advantage = scale ? -meanD / ((ss / Double(G - 1)).squareRoot() + 1e-4) : -meanD
                    a[j] += w * advantage
                }
                return
            }
            guard start < n else { return }
            for k in start..<n where mass[k] > 0 {
                for c in 1...left {
                    entries.append((k, c))
                    visit(from: k + 1, left: left - c,
                          logWeight: logWeight + Double(c) * logOf(mass[k]) - logFactorial[c])
                    entries.removeLast()
                }
            }
        }
        visit(from: 0, left: m, logWeight: 0)
        return v.map { a[index[$0]!] }
    }

    /// One iteration: `epochs` gradient steps of size `step` on the recipe's surrogate for the
    /// batch drawn from p (π_old), each entry (h, a) scaled by 1/(π_old(h) π_old(a|h)): the natural
    /// gradient of the tabular softmax, a positive rescaling of each entry, which cannot move a
    /// zero of the update (without it the rarely visited prefixes and tokens would take millions
    /// of iterations). Returns the new policy.
    public static func iterate(_ recipe: TrainerRecipe, policy p: AutoregressiveModel, problem: SequenceProblem,
                               step: Double) -> AutoregressiveModel {
        let adv = advantages(recipe, policy: p, problem: problem)
        var current = p
        for _ in 0..<recipe.epochs {
            let g = surrogateGradient(recipe, at: current, old: p, advantages: adv, problem: problem)
            current = AutoregressiveModel(space: p.space, logits: zip(current.logits, g).map { $0 + step * $1 })
        }
        return current
    }

    /// The preconditioned gradient of the surrogate (and of minus the k3 loss) at θ, for the
    /// batch of π_old with its advantages: Σ_x π_old(x) Σ_t c_t (e_{x_t} − π_θ(·|h_t)) / E_old[T],
    /// c_t = ρ_t ([ρ_t < 1+ε] E[A⁺] − [ρ_t > 1−ε] E[A⁻]) − β (1 − π0/π_θ)(x_t|h_t) with the k3
    /// loss, each entry divided by π_old(h) π_old(a|h).
    public static func surrogateGradient(_ recipe: TrainerRecipe, at current: AutoregressiveModel,
                                         old p: AutoregressiveModel, advantages adv: TokenAdvantages,
                                         problem: SequenceProblem) -> [Double] {
        let s = p.space
        let dist = p.distribution.probabilities
        let tokens = (0..<s.count).reduce(0) { $0 + dist[$1] * Double(s.steps[$1].count) }
        var g = [Double](repeating: 0, count: s.parameterCount)
        let e = recipe.clip
        for i in 0..<s.count where dist[i] > 0 {
            let lc = current.tokenLogProbabilities(i), lo = p.tokenLogProbabilities(i)
            let lq = problem.prior.tokenLogProbabilities(i)
            for (t, step) in s.steps[i].enumerated() {
                let rho = expOf(lc[t] - lo[t])
                var c = rho * ((rho < 1 + e ? adv.positive[i][t] : 0) - (rho > 1 - e ? adv.negative[i][t] : 0))
                if recipe.k3Loss { c -= problem.beta * (1 - expOf(lq[t] - lc[t])) }
                current.addScore(step: step, coefficient: dist[i] * c / tokens, to: &g)
            }
        }
        // The natural gradient of a tabular softmax: a block's gradient is π(h) π(a|h) (u_a − ū),
        // and dividing each entry by π(h) π(a|h) leaves u_a − ū (the Fisher matrix of the block is
        // π(h)(diag π(·|h) − π πᵀ)). A positive rescaling of each entry cannot move a zero.
        let ph = p.prefixProbabilities
        let k = s.choices
        for h in 0..<s.prefixCount {
            for a in 0..<k {
                let w = ph[h] * expOf(p.logProbability(a, given: h))
                g[h * k + a] /= max(w, .leastNormalMagnitude)
            }
        }
        return g
    }

    /// The on-policy direction (the first epoch's gradient, ρ = 1), preconditioned, with the
    /// advantages' common normalising factor divided out (`TokenAdvantages.scale`): zero exactly
    /// at the recipe's fixed points, and shrinking as they are approached (a normalised direction
    /// keeps its size near 1 until the deviations fall below the normalisation's 10⁻⁴ floor).
    public static func direction(_ recipe: TrainerRecipe, policy p: AutoregressiveModel,
                                 problem: SequenceProblem) -> [Double] {
        let adv = advantages(recipe, policy: p, problem: problem)
        precondition(adv.scale == 1 || !recipe.k3Loss, "a common factor of the advantages does not scale the k3 loss")
        return surrogateGradient(recipe, at: p, old: p, advantages: adv, problem: problem).map { $0 / adv.scale }
    }

    /// Where the iteration stopped.
    public struct Run: Sendable {
        public let policy: AutoregressiveModel
        public let iterations: Int
        /// max |direction| at the end.
        public let residual: Double
        public let converged: Bool
    }

    /// Iterates from p until the largest entry of the on-policy direction is at most `tolerance`
    /// (or `maxIterations`). The step adapts: halved when the direction grew since the last
    /// iteration (an overshoot), grown by 10% up to `maxStep` otherwise. Normalised advantages
    /// (whitening, a batch std) keep the update's size near 1 however near the fixed point, so a
    /// fixed step would hover around it instead of reaching it.
    public static func fixedPoint(_ recipe: TrainerRecipe, from start: AutoregressiveModel, problem: SequenceProblem,
                                  step initial: Double, maxStep: Double, tolerance: Double,
                                  maxIterations: Int, observe: ((Int, Double, Double) -> Void)? = nil) -> Run {
        var p = start
        var step = initial
        var previous = Double.infinity
        for k in 0..<maxIterations {
            let d = direction(recipe, policy: p, problem: problem)
            let residual = maxAbs(d)
            observe?(k, residual, step)
            if residual <= tolerance { return Run(policy: p, iterations: k, residual: residual, converged: true) }
            step = residual > previous ? step / 2 : min(maxStep, step * 1.1)
            previous = residual
            p = iterate(recipe, policy: p, problem: problem, step: step)
        }
        let residual = maxAbs(direction(recipe, policy: p, problem: problem))
        return Run(policy: p, iterations: maxIterations, residual: residual, converged: residual <= tolerance)
    }
}

/// max_i |v_i|, NaN when any entry is NaN (so that a broken iteration never looks converged).
func maxAbs(_ v: [Double]) -> Double {
    var m = 0.0
    for x in v {
        if x.isNaN { return .nan }
        m = max(m, Swift.abs(x))
    }
    return m
}

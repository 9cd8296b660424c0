import Finite
import Foundation
import GSL
import TinyLM

/// The per-token losses of PPO, RLOO and GRPO, as functions of one token's log-probability so
/// that their derivatives can be checked against finite differences.
///
/// With ρ = exp(log π_θ − log π_old) and advantage A, the clipped surrogate of a token is
/// min(ρA, clip(ρ, 1 − ε, 1 + ε)A); the loss is its negative, plus β k3(log π_θ − log π0) with
/// the per-token k3 penalty, k3(ℓ) = e^{−ℓ} − 1 + ℓ.
public enum TrainerLoss {
    public static func value(logProb lp: Double, old: Double, reference: Double, advantage a: Double,
                             clip e: Double, beta: Double, k3: Bool) -> Double {
        let rho = exp(lp - old)
        var loss = -min(rho * a, min(max(rho, 1 - e), 1 + e) * a)
        if k3 { let l = lp - reference; loss += beta * (exp(-l) - 1 + l) }
        return loss
    }

    /// d value / d log π_θ: −ρA where the surrogate is not clipped (A ≥ 0 and ρ < 1 + ε, or A < 0
    /// and ρ > 1 − ε), 0 where it is, plus β (1 − π0/π_θ) with the k3 penalty.
    public static func derivative(logProb lp: Double, old: Double, reference: Double, advantage a: Double,
                                  clip e: Double, beta: Double, k3: Bool) -> Double {
        let rho = exp(lp - old)
        let open = a >= 0 ? rho < 1 + e : rho > 1 - e
        var d = open ? -rho * a : 0
        if k3 { d += beta * (1 - exp(reference - lp)) }
        return d
    }

    /// The advantages of one batch, token by token, as `recipe` forms them from the rewards and
    /// the per-token log-probabilities of the sampling policy (`old`) and of the prior. Groups
    /// (RLOO's pairs, GRPO's groups) are consecutive samples. See `TrainerRecipe` for each rule.
    public static func advantages(_ recipe: TrainerRecipe, rewards r: [Double], old: [[Double]], reference: [[Double]],
                                  beta: Double) -> [[Double]] {
        let n = r.count
        let logRatio = (0..<n).map { i in zip(old[i], reference[i]).map { $0 - $1 } }
        let shaped = (0..<n).map { r[$0] - beta * logRatio[$0].reduce(0, +) }
        let broadcast = { (a: [Double]) in (0..<n).map { [Double](repeating: a[$0], count: old[$0].count) } }
        switch recipe.advantage {
        case .tokenReturnsWhitened:
            var returns: [[Double]] = []
            for i in 0..<n {
                var g = [Double](repeating: 0, count: old[i].count)
                var toGo = r[i]
                for t in stride(from: g.count - 1, through: 0, by: -1) { toGo -= beta * logRatio[i][t]; g[t] = toGo }
                returns.append(g)
            }
            let baseline = FineTuner.leaveOneOut(returns.map { $0[0] }).enumerated().map { returns[$0.offset][0] - $0.element }
            let a = (0..<n).map { i in returns[i].map { $0 - baseline[i] } }
            let all = a.flatMap { $0 }
            let mean = all.reduce(0, +) / Double(all.count)
            let variance = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(all.count - 1, 1))
            let scale = 1 / (variance + 1e-8).squareRoot()
            return a.map { $0.map { ($0 - mean) * scale } }
        case .sequenceLeaveOneOut:
            precondition(n % 2 == 0, "RLOO pairs the samples")
            return broadcast((0..<n).map { shaped[$0] - shaped[$0 ^ 1] })
        case .groupNormalised(let g, let klInReward, let scale):
            precondition(n % g == 0, "GRPO needs whole groups")
            let v = klInReward ? shaped : r
            let sd = { (xs: [Double]) -> Double in
                let m = xs.reduce(0, +) / Double(xs.count)
                return (xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)).squareRoot()
            }
            let batchSD = sd(v)
            var a = [Double](repeating: 0, count: n)
            for start in stride(from: 0, to: n, by: g) {
                let group = Array(v[start..<(start + g)])
                let mean = group.reduce(0, +) / Double(g)
                let divisor: Double
                switch scale {
                case .group: divisor = sd(group) + 1e-4
                case .batch: divisor = batchSD + 1e-4
                case .none: divisor = 1
                }
                for i in start..<(start + g) { a[i] = (v[i] - mean) / divisor }
            }
            return broadcast(a)
        }
    }
}

/// Fine-tunes a copy of the prior with one of the trainers of `TrainerRecipe` (PPO, RLOO, GRPO):
/// each step samples a batch from π_θ, forms the recipe's advantages at π_old = π_θ, and takes
/// `recipe.epochs` AdamW steps on the token mean of `TrainerLoss` over the batch, each
/// re-scoring the batch under the moving policy (ratios and, with k3, the penalty).
public final class PolicyTrainer {
    public let recipe: TrainerRecipe
    public let beta: Double
    public let prior: GPT
    public let policy: GPT
    public let tokenizer: CharTokenizer
    public let settings: FineTuneSettings
    let reward: (String) -> Double
    let optimizer: AdamW
    public private(set) var step = 0

    public init(recipe: TrainerRecipe, beta: Double, prior: Checkpoint, settings: FineTuneSettings,
                reward: @escaping (String) -> Double) {
        self.recipe = recipe; self.beta = beta
        self.prior = prior.model
        self.policy = prior.model.copy()
        self.tokenizer = prior.tokenizer
        self.settings = settings
        self.reward = reward
        self.optimizer = AdamW(layout: policy.layout, beta1: 0.9, beta2: 0.95, weightDecay: 0)
    }

    /// One batch: returns its mean reward and mean sequence log-ratio (k1).
    @discardableResult
    public func trainStep(rng: RandomGenerator) -> (meanReward: Double, meanLogRatio: Double) {
        let B = settings.batchSize
        let sequences = policy.sample(count: B, start: tokenizer.bos, end: tokenizer.eos, rng: rng).map(\.tokens)
        let r = sequences.map { reward(tokenizer.decode($0)) }
        let reference = prior.score(sequences).tokenLogProbs.map { $0.map(Double.init) }
        let T = sequences.map { $0.count - 1 }.max()!
        let tokens = Double(sequences.reduce(0) { $0 + $1.count - 1 })
        var old: [[Double]] = []
        var advantages: [[Double]] = []
        for epoch in 0..<recipe.epochs {
            policy.zeroGradients()
            let current = policy.score(sequences).tokenLogProbs.map { $0.map(Double.init) }   // keeps activations
            if epoch == 0 {
                old = current
                advantages = TrainerLoss.advantages(recipe, rewards: r, old: old, reference: reference, beta: beta)
            }
            var d = [Float](repeating: 0, count: B * T)
            for i in 0..<B {
                for t in 0..<current[i].count {
                    d[i * T + t] = Float(TrainerLoss.derivative(logProb: current[i][t], old: old[i][t],
                                                                reference: reference[i][t], advantage: advantages[i][t],
                                                                clip: recipe.clip, beta: beta, k3: recipe.k3Loss) / tokens)
                }
            }
            policy.backward(dLogProbs: d)
            clipGradientNorm(policy, maxNorm: settings.gradClip)
            optimizer.update(policy, learningRate: Float(settings.learningRate))
        }
        step += 1
        let logRatio = (0..<B).map { i in zip(old[i], reference[i]).reduce(0) { $0 + $1.0 - $1.1 } }
        return (r.reduce(0, +) / Double(B), logRatio.reduce(0, +) / Double(B))
    }

    /// The trainer's recipe and β in a checkpoint's metadata: what a checkpoint must continue.
    var identity: [String: String] { ["recipe": String(describing: recipe), "beta": "\(beta)"] }

    /// The policy with the optimiser's moments and step and the trainer's step, to continue from
    /// with `resume(from:)`. Nothing else is carried from one step to the next: a step samples
    /// from the generator it is given, takes π_old, the advantages and the prior's scores from
    /// that batch, and its learning rate is constant, so it depends only on these.
    public func checkpoint(metadata: [String: String] = [:]) -> Checkpoint {
        var metadata = metadata.merging(identity) { $1 }
        metadata["step"] = "\(step)"
        return Checkpoint(model: policy, tokenizer: tokenizer, optimizer: optimizer, metadata: metadata)
    }

    /// Continues from `checkpoint()` of a trainer with the same recipe, β, prior and settings; on
    /// a checkpoint that does not fit, throws and changes nothing.
    public func resume(from c: Checkpoint) throws(TinyLMError) {
        for (name, value) in identity.sorted(by: { $0.key < $1.key }) where c.extraMetadata[name] != value {
            throw .checkpoint("it continues a trainer with \(name) \(c.extraMetadata[name] ?? "missing"), not \(value)")
        }
        guard let s = c.extraMetadata["step"].flatMap(Int.init), (0...settings.steps).contains(s) else {
            throw .checkpoint("its step is missing or outside 0...\(settings.steps)")
        }
        try c.restore(into: policy, tokenizer: tokenizer, optimizer: optimizer)
        step = s
    }
}

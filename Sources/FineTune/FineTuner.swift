import Foundation
import GSL
import TinyLM

/// The fine-tuning methods the chapter compares, all on the same samples budget.
///
/// A method has a stable `id` ("rl", "klrl-0.25", "dpg"), which names its random streams, its
/// checkpoints' metadata and its entry in a saved state's key, and a `description`, its label on
/// the page, which may be re-worded freely. Adding a method is one case here (with its id and
/// label), one branch of `FineTuner.trainStep` and one section of the chapter's report.
public enum Method: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Plain REINFORCE on r, no KL penalty, leave-one-out baseline: maximises J_RL (eq. 1).
    case reinforce
    /// REINFORCE on the shaped reward b - β (log π_θ - log π0) of eq. 4 with the binary
    /// preference b as the reward (k1 in the reward, sequence level), leave-one-out baseline:
    /// maximises J_KLRL (eq. 3), whose optimum is π0 exp(b/β)/Z (eq. 5). At that optimum the
    /// shaped reward is β log Z for every text, so the advantages, and the gradient's variance,
    /// vanish there.
    case klReinforce(beta: Double)
    /// Distributional policy gradient on the binary constraint: minimises the forward
    /// KL(π* || π_θ) for π* = π0 b / Z_b with on-policy importance weights π*(x)/π_θ(x),
    /// leave-one-out baseline.
    case dpg

    /// The stable name: random streams, checkpoint metadata and state keys. Never re-worded.
    public var id: String {
        switch self {
        case .reinforce: return "rl"
        case .klReinforce(let beta): return "klrl-\(beta)"
        case .dpg: return "dpg"
        }
    }

    /// The label on the page, for display only.
    public var description: String {
        switch self {
        case .reinforce: return "RL (no KL)"
        case .klReinforce(let beta): return "KL-RL β=\(beta)"
        case .dpg: return "DPG"
        }
    }
}

/// Sampling and optimisation settings shared by every method.
public struct FineTuneSettings: Sendable {
    /// Samples a step.
    public var batchSize = 32
    public var steps = 200
    public var learningRate = 1e-4
    /// Plain REINFORCE's own rate, when it differs (nil: `learningRate`), on the same schedule.
    public var reinforceLearningRate: Double?
    public var gradClip = 1.0
    /// The rate decays along a half cosine from `learningRate` at step 1 to
    /// `learningRate * finalLearningRateFraction` at the last step (1: constant).
    public var finalLearningRateFraction = 1.0
    /// How KL-regularised REINFORCE estimates the gradient of its penalty β KL(π_θ ‖ π0).
    public var klGradient = PenaltyGradient.sequenceK1
    /// Which of a sample's tokens KL-regularised REINFORCE credits with the target word's reward.
    public var rewardCredit = RewardCredit.sequence
    /// How DPG trains on the text after the word's decision.
    public var dpgContinuation = DPGContinuation.sampled
    public init() {}

    /// The learning rate of step s (1...steps): lr (f + (1 − f)(1 + cos(π (s − 1)/(steps − 1)))/2).
    public func learningRate(atStep s: Int) -> Double { learningRate(atStep: s, from: learningRate) }

    /// The rate of step s of `method`: plain REINFORCE starts from `reinforceLearningRate` when set.
    public func learningRate(atStep s: Int, for method: Method) -> Double {
        method == .reinforce ? learningRate(atStep: s, from: reinforceLearningRate ?? learningRate)
            : learningRate(atStep: s)
    }

    func learningRate(atStep s: Int, from rate: Double) -> Double {
        guard finalLearningRateFraction != 1, steps > 1 else { return rate }
        let progress = Double(min(max(s, 1), steps) - 1) / Double(steps - 1)
        let f = finalLearningRateFraction
        return rate * (f + (1 - f) * 0.5 * (1 + cos(Double.pi * progress)))
    }
}

/// How KL-regularised REINFORCE estimates ∇KL(π_θ ‖ π0) from a batch of policy samples. Both
/// are unbiased (chapter 9 computes their expectations exactly); they differ in variance.
public enum PenaltyGradient: String, Sendable, Codable, CaseIterable {
    /// k1 in the reward: each sample's whole log π_θ(x)/π0(x) multiplies its score ∇log π_θ(x)
    /// (eq. 4's shaped reward, as in Ziegler et al.).
    case sequenceK1 = "sequence-k1"
    /// The exact per-prefix KL in a reward-to-go form: at each position t, the gradient of the
    /// exact next-token KL there (a sum over the vocabulary, no sampling), plus the token's score
    /// times the exact KL of the positions after it, less the same sum of the other samples
    /// (leave-one-out). The noise of the sampled log-ratios is gone, and a token's score is
    /// weighted only by the KL it can still change.
    case prefixExact = "prefix-exact"
}

/// Which tokens of a sample KL-regularised REINFORCE credits with the word's reward b. Both are
/// unbiased estimates of ∇E_π_θ[b]: b is decided by the tokens up to the one that decides it, so
/// the tokens after it cannot change it.
public enum RewardCredit: String, Sendable, Codable, CaseIterable {
    /// Every token's score is weighted by the sample's b less the other samples' mean (eq. 4).
    case sequence
    /// A token's score is weighted by b only up to the token that decides it (the character after
    /// the word's first whole-word occurrence, or the end), less the mean b of the other samples
    /// still undecided at that position; the tokens after it get no reward term at all.
    case toGo = "to-go"
}

/// How DPG trains on the text after the token that decides the word. Both are unbiased estimates
/// of ∇KL(π*_b ‖ π_θ).
public enum DPGContinuation: String, Sendable, Codable, CaseIterable {
    /// Every token's score with the sample's importance weight b π0(x)/(Z_b π_θ(x)).
    case sampled
    /// After the deciding token, π*_b's next-token distribution is π0's, so the position's
    /// expected score under it is computed exactly (a sum over the vocabulary), weighted by the
    /// prefix's importance ratio π0(x_≤t)/(Z_b π_θ(x_≤t)); before it, each token's score with the
    /// ratio of the text up to the deciding token, less the mean weight of the other samples
    /// undecided there.
    case exact
}

/// What one step saw.
public struct StepRecord: Sendable {
    public let step: Int
    public let meanReward: Double
    public let meanConstraint: Double
    /// Mean of log π_θ(x) - log π0(x) over the step's samples (the k1 estimate of KL(π_θ || π0)).
    public let meanLogRatio: Double
}

/// Fine-tunes a copy of the prior with one method. The prior stays frozen as the reference.
public final class FineTuner {
    public let method: Method
    public let prior: GPT
    public let policy: GPT
    public let tokenizer: CharTokenizer
    public let preference: TargetWord
    public let settings: FineTuneSettings
    /// log Z_b = log π0(b = 1), needed by DPG's importance weights (estimated from π0 samples).
    public let logConstraintPartition: Double
    let optimizer: AdamW
    public private(set) var step = 0

    public init(method: Method, prior: Checkpoint, preference: TargetWord, settings: FineTuneSettings, logConstraintPartition: Double) {
        self.method = method
        self.prior = prior.model
        self.policy = prior.model.copy()
        self.tokenizer = prior.tokenizer
        self.preference = preference
        self.settings = settings
        self.logConstraintPartition = logConstraintPartition
        // Fine-tuning: no weight decay toward zero, which would pull the policy away from π0.
        self.optimizer = AdamW(layout: policy.layout, beta1: 0.9, beta2: 0.95, weightDecay: 0)
    }

    /// One step: sample a batch from π_θ, score it under π_θ (keeping activations) and π0,
    /// form per-sample weights, backpropagate Σ_i w_i log π_θ(x_i), clip, AdamW.
    ///
    /// - Parameter reward: replaces the target word's reward (the bridge uses its own).
    @discardableResult
    public func trainStep(rng: RandomGenerator, reward customReward: ((String) -> Double)? = nil) -> StepRecord {
        let B = settings.batchSize
        let samples = policy.sample(count: B, start: tokenizer.bos, end: tokenizer.eos, rng: rng)
        let sequences = samples.map(\.tokens)
        let texts = sequences.map { tokenizer.decode($0) }
        let r = texts.map { customReward?($0) ?? preference.reward($0) }
        let b = texts.map { preference.constraint($0) }
        // One pass of the prior on the whole batch: its next-token distributions stay for the
        // per-prefix estimators below.
        let priorScored = prior.score(sequences)
        let logPrior = priorScored.logProbs
        policy.zeroGradients()
        let scored = policy.score(sequences)   // activations kept for the backward pass
        let logPolicy = scored.logProbs
        let logRatio = (0..<B).map { logPolicy[$0] - logPrior[$0] }
        // The optimiser descends, so raising Σ_i A_i log π(x_i) / B means weights -A_i / B.
        let weights: [Double]
        switch method {
        case .reinforce:
            weights = FineTuner.leaveOneOut(r).map { -$0 / Double(B) }
        case .klReinforce(let beta):
            // The binary preference is the reward (the bridge passes its own).
            let reward = customReward == nil ? b : r
            // The bridge's own reward has no deciding token: it is credited to the whole sequence.
            let decided = settings.rewardCredit == .toGo && customReward == nil
                ? sequences.map { FineTuner.decidingPosition(of: $0, word: preference, tokenizer: tokenizer) } : nil
            if settings.klGradient == .prefixExact {
                prefixExactBackward(sequences, reward: reward, beta: beta, decided: decided, priorScored: priorScored)
                return finish(r: r, b: b, logRatio: logRatio)
            }
            if let decided {
                let lengths = sequences.map { $0.count - 1 }
                let penalty = FineTuner.leaveOneOut(logRatio)
                let credit = FineTuner.rewardAdvantages(reward: reward, decided: decided, lengths: lengths)
                let T = lengths.max()!
                var d = [Float](repeating: 0, count: B * T)
                for i in 0..<B {
                    for t in 0..<lengths[i] {
                        d[i * T + t] = Float(-(credit[i][t] - beta * penalty[i]) / Double(B))
                    }
                }
                policy.backward(dLogProbs: d)
                return finish(r: r, b: b, logRatio: logRatio)
            }
            let shaped = (0..<B).map { reward[$0] - beta * logRatio[$0] }
            weights = FineTuner.leaveOneOut(shaped).map { -$0 / Double(B) }
        case .dpg where settings.dpgContinuation == .exact && customReward == nil:
            let decided = sequences.map { FineTuner.decidingPosition(of: $0, word: preference, tokenizer: tokenizer) }
            let p = policy.lastProbabilities
            let terms = FineTuner.dpgDecidedTerms(sequences: sequences, policy: p, prior: prior.lastProbabilities,
                                                 vocabularySize: policy.config.vocabSize, b: b, decided: decided,
                                                 logConstraintPartition: logConstraintPartition)
            policy.backward(dLogProbs: terms.dLogProbs, dLogits: terms.dLogits)
            return finish(r: r, b: b, logRatio: logRatio)
        case .dpg:
            // π*(x)/π_θ(x) = b(x) π0(x) / (Z_b π_θ(x)), with the same leave-one-out baseline as the
            // other methods: E_π_θ[∇ log π_θ] = 0, so subtracting it keeps the gradient unbiased and
            // lowers its variance (DPG with a baseline).
            let ratios = (0..<B).map { b[$0] > 0 ? exp(-logRatio[$0] - logConstraintPartition) : 0 }
            weights = FineTuner.leaveOneOut(ratios).map { -$0 / Double(B) }
        }
        policy.backward(sequenceWeights: weights)
        return finish(r: r, b: b, logRatio: logRatio)
    }

    /// Clips the accumulated gradient, takes the AdamW step and records it.
    func finish(r: [Double], b: [Double], logRatio: [Double]) -> StepRecord {
        let B = Double(r.count)
        clipGradientNorm(policy, maxNorm: settings.gradClip)
        optimizer.update(policy, learningRate: Float(settings.learningRate(atStep: step + 1, for: method)))
        step += 1
        return StepRecord(step: step, meanReward: r.reduce(0, +) / B, meanConstraint: b.reduce(0, +) / B,
                          meanLogRatio: logRatio.reduce(0, +) / B)
    }

    /// The backward pass of KL-regularised REINFORCE with `PenaltyGradient.prefixExact`, after
    /// `policy.score(sequences)`: the gradient of −(1/B) Σ_i Σ_t A_it log π_θ(x_i,t+1 | x_i,≤t)
    /// + (β/B) Σ_i Σ_t kl_it, where kl_it is the exact next-token KL at sample i's position t and
    ///
    ///     A_it = (r_i − mean_{j≠i} r_j) − β (G_it − mean_{j≠i} G_jt),   G_it = Σ_{s>t} kl_is
    ///
    /// (G_jt = 0 past the end of sample j). The baselines are the other samples' values, which do
    /// not depend on sample i, so the estimate of ∇(E[r] − β KL(π_θ ‖ π0)) stays unbiased.
    /// With `decided` (`RewardCredit.toGo`), the reward's advantage is `rewardAdvantages`' instead.
    func prefixExactBackward(_ sequences: [[Int32]], reward: [Double], beta: Double, decided: [Int]? = nil,
                             priorScored: ScoredSequences) {
        let divergence = policy.prefixDivergence(against: prior, sequences: sequences, scoredReference: priorScored)
        let T = sequences.map { $0.count - 1 }.max()!
        let dLogProbs = FineTuner.prefixExactWeights(kl: divergence.kl, reward: reward, beta: beta, T: T,
                                                     decided: decided)
        let scale = Float(beta / Double(sequences.count))
        policy.backward(dLogProbs: dLogProbs, dLogits: divergence.dLogits.map { $0 * scale })
    }

    /// The (B,T) weights of the token log-probabilities in `prefixExactBackward`:
    /// −(A_it)/B with A_it = (r_i − mean_{j≠i} r_j) − β (G_it − mean_{j≠i} G_jt), where
    /// G_it = Σ_{s>t} kl[i][s] and G_jt = 0 past the end of sample j; 0 at padding.
    /// With `decided`, the reward's advantage at (i, t) is `rewardAdvantages`' instead of A_i's.
    static func prefixExactWeights(kl: [[Double]], reward: [Double], beta: Double, T: Int,
                                   decided: [Int]? = nil) -> [Float] {
        let B = kl.count
        var toGo = [[Double]](repeating: [Double](repeating: 0, count: T), count: B)
        var toGoTotal = [Double](repeating: 0, count: T)
        for i in 0..<B {
            var rest = 0.0
            for t in stride(from: kl[i].count - 1, through: 0, by: -1) {
                toGo[i][t] = rest
                toGoTotal[t] += rest
                rest += kl[i][t]
            }
        }
        let lengths = kl.map(\.count)
        let credit = decided.map { rewardAdvantages(reward: reward, decided: $0, lengths: lengths) }
            ?? zip(leaveOneOut(reward), lengths).map { [Double](repeating: $0, count: $1) }
        let others = Double(B - 1)
        var weights = [Float](repeating: 0, count: B * T)
        for i in 0..<B {
            for t in 0..<kl[i].count {
                let klAdvantage = toGo[i][t] - (toGoTotal[t] - toGo[i][t]) / others
                weights[i * T + t] = Float(-(credit[i][t] - beta * klAdvantage) / Double(B))
            }
        }
        return weights
    }

    /// The policy with the optimiser's moments and step and the tuner's step, to continue from
    /// with `resume(from:)`. The tuner holds no other state between steps: the next step depends
    /// only on these and on the generator it is given.
    public func checkpoint(metadata: [String: String] = [:]) -> Checkpoint {
        var metadata = metadata
        metadata["method"] = method.id
        metadata["step"] = "\(step)"
        return Checkpoint(model: policy, tokenizer: tokenizer, optimizer: optimizer, metadata: metadata)
    }

    /// Continues from `checkpoint()` of a tuner with the same method, prior and settings; on a
    /// checkpoint that does not fit, throws and changes nothing.
    public func resume(from c: Checkpoint) throws(TinyLMError) {
        guard c.extraMetadata["method"] == method.id else {
            throw .checkpoint("it continues \(c.extraMetadata["method"] ?? "no method"), not \(method.id)")
        }
        guard let s = c.extraMetadata["step"].flatMap(Int.init), (0...settings.steps).contains(s) else {
            throw .checkpoint("its step is missing or outside 0...\(settings.steps)")
        }
        try c.restore(into: policy, tokenizer: tokenizer, optimizer: optimizer)
        step = s
    }

    /// The reward's advantage of each token under `RewardCredit.toGo`: position t of sample i (the
    /// score of token t + 1) is undecided while t < decided[i]; there its advantage is
    /// reward[i] less the mean reward of the other samples undecided at t (0 when there is none),
    /// and from decided[i] on it is 0. The baseline depends on the other samples only, so the
    /// estimate stays unbiased. One row per sample, lengths[i] positions.
    static func rewardAdvantages(reward: [Double], decided: [Int], lengths: [Int]) -> [[Double]] {
        let T = lengths.max() ?? 0
        var open = [Double](repeating: 0, count: T), openReward = [Double](repeating: 0, count: T)
        for i in reward.indices {
            for t in 0..<min(decided[i], lengths[i]) { open[t] += 1; openReward[t] += reward[i] }
        }
        return reward.indices.map { i in
            (0..<lengths[i]).map { t in
                guard t < decided[i] else { return 0 }
                let others = open[t] - 1
                return reward[i] - (others > 0 ? (openReward[t] - reward[i]) / others : 0)
            }
        }
    }

    /// The first position from which the word's constraint no longer depends on the tokens: k
    /// when tokens[0...k] already contain a whole-word occurrence followed by the character that
    /// ends it (so no continuation can undo it), else the sequence's last position count − 1
    /// (the end decides). Positions are those of the scores: position t scores token t + 1.
    static func decidingPosition(of tokens: [Int32], word: TargetWord, tokenizer: CharTokenizer) -> Int {
        let last = tokens.count - 1
        // Settled: whichever letter comes next, the prefix holds an occurrence. A letter can end a
        // new occurrence only if it is the word's last letter, and it cannot be both of two.
        func settled(_ k: Int) -> Bool {
            let p = tokenizer.decode(tokens[0...k])
            return word.constraint(p + "q") > 0 && word.constraint(p + "z") > 0
        }
        guard last >= 1, settled(last - 1) else { return last }
        var lo = 0, hi = last - 1   // settled from hi on (it stays so), not at lo (the start token alone)
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if settled(mid) { hi = mid } else { lo = mid }
        }
        return hi
    }

    /// DPG's gradient terms with the text after the word's decision taken exactly. The forward
    /// KL's gradient is −Σ_t E_π*[∇log π_θ(x_t+1 | x_≤t)]. At a position t where x_≤t has decided
    /// the word, π*(· | x_≤t) = π0(· | x_≤t), so that expectation is Σ_v π0(v | x_≤t) ∇log π_θ(v |
    /// x_≤t), exactly, weighted by the prefix's importance ratio π*(x_≤t)/π_θ(x_≤t) =
    /// π0(x_≤t)/(Z_b π_θ(x_≤t)): its logits' gradient (descending) is ω_it (p_θ − p0). At an
    /// undecided position, the token's score with the weight b π0(x_≤d)/(Z_b π_θ(x_≤d)) of the
    /// prefix up to the deciding token d, less the mean weight of the other samples undecided there. `policy` and `prior` are the (B,T,V)
    /// next-token distributions of both models on `sequences`; every term is divided by B.
    static func dpgDecidedTerms(sequences: [[Int32]], policy p: [Float], prior q: [Float], vocabularySize V: Int,
                                b: [Double], decided: [Int], logConstraintPartition logZb: Double)
        -> (dLogProbs: [Float], dLogits: [Float]) {
        let B = sequences.count, T = sequences.map { $0.count - 1 }.max()!
        let lengths = sequences.map { $0.count - 1 }
        // log π0(x_≤t) − log π_θ(x_≤t) for t = 0...length (the prefix before position t's token)
        var prefixLogRatio = [[Double]]()
        for (i, seq) in sequences.enumerated() {
            var row = [0.0]
            for t in 0..<lengths[i] {
                let k = (i * T + t) * V + Int(seq[t + 1])
                row.append(row[t] + log(max(Double(q[k]), .leastNormalMagnitude)) - log(max(Double(p[k]), .leastNormalMagnitude)))
            }
            prefixLogRatio.append(row)
        }
        // Before the decision a token's score depends only on x_≤d (d: the deciding token), and
        // E_π_θ[π0(x_>d | x_≤d)/π_θ(x_>d | x_≤d) | x_≤d] = 1, so the ratio of the prefix up to the
        // deciding token replaces the whole text's without bias (d is a stopping time).
        let sequenceWeight = (0..<B).map { b[$0] > 0 ? exp(prefixLogRatio[$0][decided[$0]] - logZb) : 0 }
        let credit = rewardAdvantages(reward: sequenceWeight, decided: decided, lengths: lengths)
        var dLogProbs = [Float](repeating: 0, count: B * T)
        var dLogits = [Float](repeating: 0, count: B * T * V)
        for i in 0..<B {
            for t in 0..<lengths[i] {
                if t < decided[i] {
                    dLogProbs[i * T + t] = Float(-credit[i][t] / Double(B))
                } else {
                    let omega = exp(prefixLogRatio[i][t] - logZb) / Double(B)
                    let base = (i * T + t) * V
                    for v in 0..<V { dLogits[base + v] = Float(omega * (Double(p[base + v]) - Double(q[base + v]))) }
                }
            }
        }
        return (dLogProbs, dLogits)
    }

    /// Advantages with the leave-one-out baseline: A_i = f_i - mean_{j ≠ i} f_j.
    public static func leaveOneOut(_ f: [Double]) -> [Double] {
        let n = Double(f.count)
        let total = f.reduce(0, +)
        return f.map { $0 - (total - $0) / (n - 1) }
    }
}

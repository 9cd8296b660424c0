import Foundation
import GSL

/// Exact per-step quantities along given sequences, from the full next-token distributions.
public struct StepwiseDivergence: Sendable {
    /// For each sequence: sum over its predicted positions t of
    /// KL(p_policy(. | x_<t) || p_reference(. | x_<t)), in nats (Double accumulation).
    /// Its mean over samples from the policy is KL(pi_policy || pi_reference) over sequences,
    /// with less variance than the mean of log pi_policy(x) - log pi_reference(x).
    public let kl: [Double]
    /// For each sequence: sum over t of the entropy H(p_policy(. | x_<t)), in nats.
    public let entropy: [Double]
    /// Number of predicted positions of each sequence (its length - 1).
    public let steps: [Int]
}

extension GPT {
    /// The next-token distributions (softmax of the logits) of the last forward pass:
    /// probs (B,T,V) as one flat copy.
    public var lastProbabilities: [Float] {
        guard let acts else { return [] }
        return Array(UnsafeBufferPointer(start: acts.probs.pointer, count: acts.B * acts.T * config.vocabSize))
    }

    /// Per-sequence sums of the exact next-token KL(policy || reference) and of the policy's
    /// next-token entropy, at every prefix of each sequence (see `StepwiseDivergence`).
    /// Both models need the same vocabulary and block size. Runs `batchSize` sequences a pass.
    public static func stepwiseDivergence(policy: GPT, reference: GPT, sequences: [[Int32]], batchSize: Int = 64) -> StepwiseDivergence {
        precondition(policy.config.vocabSize == reference.config.vocabSize, "stepwiseDivergence: vocabularies differ")
        let V = policy.config.vocabSize
        var kl: [Double] = [], entropy: [Double] = [], steps: [Int] = []
        var start = 0
        while start < sequences.count {
            let chunk = Array(sequences[start..<min(start + batchSize, sequences.count)])
            start += chunk.count
            _ = policy.score(chunk)
            let p = policy.lastProbabilities
            _ = reference.score(chunk)
            let q = reference.lastProbabilities
            let T = chunk.map { $0.count - 1 }.max()!
            for (b, seq) in chunk.enumerated() {
                var k = 0.0, h = 0.0
                for t in 0..<(seq.count - 1) {
                    let row = (b * T + t) * V
                    for v in 0..<V {
                        let pv = Double(p[row + v])
                        guard pv > 0 else { continue }
                        let lp = log(pv)
                        h -= pv * lp
                        k += pv * (lp - log(max(Double(q[row + v]), .leastNormalMagnitude)))
                    }
                }
                kl.append(k)
                entropy.append(h)
                steps.append(seq.count - 1)
            }
        }
        return StepwiseDivergence(kl: kl, entropy: entropy, steps: steps)
    }
}

extension Checkpoint {
    /// Seeded samples of whole documents with their texts (BOS and EOS removed).
    public func sampleDocuments(count: Int, temperature: Double = 1, seed: UInt64) -> [(text: String, sample: Sample)] {
        model.sample(count: count, start: tokenizer.bos, end: tokenizer.eos, temperature: temperature,
                     rng: RandomGenerator(seed: seed)).map { (tokenizer.decode($0.tokens), $0) }
    }

    /// log pi(x) of texts (each encoded as BOS + characters + EOS).
    /// - Throws: `TinyLMError` for a character outside the vocabulary or a text too long for the block.
    public func logProbs(ofTexts texts: [String]) throws(TinyLMError) -> [Double] {
        let encoded = try texts.map { t throws(TinyLMError) in
            let ids = try tokenizer.encode(t)
            guard ids.count - 1 <= model.config.blockSize else { throw .tooLong(length: ids.count - 2, blockSize: model.config.blockSize) }
            return ids
        }
        return model.logProbs(of: encoded)
    }
}

/// The exact next-token KL of a policy from a reference at every prefix of a scored batch, with
/// its gradient with respect to the policy's logits (see `GPT.prefixDivergence`).
public struct PrefixDivergence: Sendable {
    /// kl[i][t] = KL(p_θ(·|x_≤t) ‖ p_ref(·|x_≤t)) at the t-th predicted position of sequence i
    /// (count: its length − 1), in nats, accumulated in Double.
    public let kl: [[Double]]
    /// log p_ref(x_i): the reference's log-probability of each whole sequence.
    public let referenceLogProbs: [Double]
    /// d kl[i][t] / d logit_v = p_v (log p_v − log q_v − kl[i][t]) at each scored position, in
    /// the (B,T,V) layout of the policy's last forward pass, 0 at padding: `backward(dLogProbs:
    /// dLogits:)` takes it, scaled by the objective's coefficient.
    public let dLogits: [Float]
}

extension GPT {
    /// After `score(sequences)` on this model (its activations kept for the backward pass): runs
    /// `reference` on the same sequences and returns, at every predicted position, the exact KL
    /// of this model's next-token distribution from the reference's and that KL's gradient with
    /// respect to this model's logits. Summed over positions, its mean over samples of the policy
    /// is KL(π_θ ‖ π_ref) (the chain rule, as in `stepwiseDivergence`); the gradient of that
    /// sequence KL is E[Σ_t ∇ kl_t + Σ_t ∇ log p_θ(x_t+1|x_≤t) Σ_{s>t} kl_s], whose first term
    /// `dLogits` gives and whose second the caller weights by the KL still to come.
    ///
    /// - Parameter scoredReference: `reference.score(sequences)` when the caller has just run it
    ///   (its last pass is then reused, not run again).
    public func prefixDivergence(against reference: GPT, sequences: [[Int32]],
                                 scoredReference: ScoredSequences? = nil) -> PrefixDivergence {
        precondition(reference.config.vocabSize == config.vocabSize, "prefixDivergence: vocabularies differ")
        precondition(reference !== self, "prefixDivergence: the reference must be another model (its pass would "
                         + "replace this one's activations)")
        guard let acts, acts.B == sequences.count, acts.T == sequences.map({ $0.count - 1 }).max() else {
            preconditionFailure("prefixDivergence: score(sequences) on this model first")
        }
        let p = lastProbabilities
        if scoredReference != nil {
            precondition(reference.acts?.B == acts.B && reference.acts?.T == acts.T,
                         "prefixDivergence: the reference's last pass is not on these sequences")
        }
        let referenceLogProbs = (scoredReference ?? reference.score(sequences)).logProbs
        let q = reference.lastProbabilities
        let V = config.vocabSize, T = acts.T
        var dLogits = [Float](repeating: 0, count: p.count)
        var kl: [[Double]] = []
        var logRatio = [Double](repeating: 0, count: V)
        for (b, seq) in sequences.enumerated() {
            var row: [Double] = []
            for t in 0..<(seq.count - 1) {
                let base = (b * T + t) * V
                var k = 0.0
                for v in 0..<V {
                    let pv = Double(p[base + v])
                    logRatio[v] = pv > 0 ? log(pv) - log(max(Double(q[base + v]), .leastNormalMagnitude)) : 0
                    k += pv * logRatio[v]
                }
                for v in 0..<V { dLogits[base + v] = Float(Double(p[base + v]) * (logRatio[v] - k)) }
                row.append(k)
            }
            kl.append(row)
        }
        return PrefixDivergence(kl: kl, referenceLogProbs: referenceLogProbs, dLogits: dLogits)
    }
}

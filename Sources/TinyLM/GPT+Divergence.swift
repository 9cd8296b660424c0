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
    var lastProbabilities: [Float] {
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

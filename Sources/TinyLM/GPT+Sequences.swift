/// The log-probabilities of a batch of whole sequences under a model, from one forward pass.
public struct ScoredSequences: Sendable {
    /// log pi(x_i): the sum of the sequence's next-token log-probabilities (Double accumulation).
    public let logProbs: [Double]
    /// Per-token log-probabilities: entry t is log p(x[t+1] | x[0...t]), count = length - 1.
    public let tokenLogProbs: [[Float]]
}

extension GPT {
    /// Scores whole sequences in one forward pass and keeps the activations, so that
    /// `backward(sequenceWeights:)` can follow without recomputation.
    ///
    /// Each sequence is a token list starting with the start token (BOS ... EOS for a document);
    /// its log-probability is that of every token after the first given its prefix. Sequences
    /// may differ in length (the batch is padded); each needs 2...blockSize+1 tokens.
    ///
    /// Memory: the model keeps activations (and gradient scratch) for the largest batch it has
    /// seen, about L * B * T * (22 C + NH T) floats: with L = 4, C = 128, NH = 4, T = 128,
    /// B = 256 takes ~1.7 GB and B = 64 ~0.45 GB. For many sequences, call `score` and
    /// `backward(sequenceWeights:)` on chunks of a few dozen: gradients accumulate across calls.
    public func score(_ sequences: [[Int32]]) -> ScoredSequences {
        precondition(!sequences.isEmpty, "score needs at least one sequence")
        let B = sequences.count
        let T = sequences.map { $0.count - 1 }.max()!
        precondition(sequences.allSatisfy { $0.count >= 2 }, "score: every sequence needs a first token and one more")
        precondition(T <= config.blockSize, "score: a sequence of \(T + 1) tokens exceeds block size \(config.blockSize) + 1")
        var inputs = [Int32](repeating: 0, count: B * T)
        var targets = [Int32](repeating: -1, count: B * T)
        for (b, seq) in sequences.enumerated() {
            for t in 0..<(seq.count - 1) {
                inputs[b * T + t] = seq[t]
                targets[b * T + t] = seq[t + 1]
            }
        }
        let lp = forward(inputs: inputs, targets: targets, B: B, T: T)
        var sums: [Double] = []
        var perToken: [[Float]] = []
        for (b, seq) in sequences.enumerated() {
            let row = Array(lp[(b * T)..<(b * T + seq.count - 1)])
            perToken.append(row)
            sums.append(row.reduce(0.0) { $0 + Double($1) })
        }
        return ScoredSequences(logProbs: sums, tokenLogProbs: perToken)
    }

    /// After `score(_:)`: accumulates the gradient of sum_i w_i log pi(x_i) into `gradients`.
    ///
    /// The optimiser descends along `gradients`, so to *raise* sum_i A_i log pi(x_i) (REINFORCE
    /// with advantages A_i over n samples) pass w_i = -A_i / n. For the mean negative
    /// log-likelihood a token over sequences holding m predicted tokens in all, pass w_i = -1 / m
    /// (as `Pretrainer.trainStep` does).
    public func backward(sequenceWeights weights: [Double]) {
        guard let acts else { preconditionFailure("backward needs score(_:) first") }
        precondition(weights.count == acts.B, "backward: one weight a sequence of the last score(_:)")
        let T = acts.T
        var d = [Float](repeating: 0, count: acts.B * T)
        for b in 0..<acts.B {
            for t in 0..<T where acts.targets[b * T + t] >= 0 { d[b * T + t] = Float(weights[b]) }
        }
        backward(dLogProbs: d)
    }

    /// log pi(x_i) for any number of sequences, scored `batchSize` at a time (no gradients kept).
    public func logProbs(of sequences: [[Int32]], batchSize: Int = 64) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(sequences.count)
        var start = 0
        while start < sequences.count {
            let end = min(start + batchSize, sequences.count)
            out += score(Array(sequences[start..<end])).logProbs
            start = end
        }
        return out
    }
}

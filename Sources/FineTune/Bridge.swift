import Finite
import Foundation
import GSL
import TinyLM

/// The bridge between the exact chapters and the language model: the same transformer and
/// training code on a vocabulary and length small enough to list every sequence, so π_θ is an
/// exact `Distribution` over all of them at any moment of sampled training.
///
/// Outcomes are every token sequence the sampler can produce: the start token, then tokens
/// other than the end token, closed by the end token within the block, or cut at the block
/// length (an unfinished prefix is an outcome too, with its prefix probability). Their
/// probabilities under any model sum to 1.
public struct EnumeratedSpace: Sendable {
    public let sequences: [[Int32]]
    public let texts: [String]

    public init(tokenizer: CharTokenizer, blockSize: Int) {
        let symbols = (0..<Int32(tokenizer.count)).filter { $0 != tokenizer.eos }
        var out: [[Int32]] = []
        var frontier: [[Int32]] = [[tokenizer.bos]]
        // A sequence holds at most blockSize + 1 tokens: BOS and blockSize predictions.
        for length in 1...blockSize {
            var next: [[Int32]] = []
            for prefix in frontier {
                out.append(prefix + [tokenizer.eos])            // closes here
                for s in symbols { next.append(prefix + [s]) }
            }
            frontier = next
            if length == blockSize { out += frontier }             // cut at the block length
        }
        sequences = out
        texts = out.map { tokenizer.decode($0) }
    }

    public var count: Int { sequences.count }

    /// The model's exact distribution over the space, with the raw sum of its probabilities
    /// (1 up to Float rounding of the per-token log-probabilities).
    public func distribution(of model: GPT) -> (distribution: Distribution, rawMass: Double) {
        let lp = model.logProbs(of: sequences, batchSize: 256)
        let mass = lp.reduce(0) { $0 + exp($1) }
        return (Distribution(logWeights: lp), mass)
    }
}

/// A small structured synthetic language for the bridge: strings over {a, b} from a two-state
/// Markov chain (a tends to be followed by b, b by a) with a geometric length.
public enum SyntheticLanguage {
    public static func documents(count: Int, maxLength: Int, rng: RandomGenerator) -> [String] {
        (0..<count).map { _ in
            var s = ""
            var last: Character = rng.uniform() < 0.5 ? "a" : "b"
            while s.count < maxLength && rng.uniform() < 0.8 {
                let flip = rng.uniform() < 0.75
                last = flip ? (last == "a" ? "b" : "a") : last
                s.append(last)
            }
            return s.isEmpty ? "a" : s
        }
    }
}

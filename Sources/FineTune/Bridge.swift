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

/// The bridge's transformer and reward, shared by chapters 10 and 11: a one-layer GPT, 16 wide,
/// pretrained on `SyntheticLanguage` documents of at most blockSize − 1 characters, and the
/// reward r(x) = number of b's.
public enum BridgeModel {
    /// Pretrains the bridge prior: 2000 training and 200 validation documents drawn from
    /// `language`, weights initialised from `initSeed`, `steps` steps of 32 documents.
    public static func pretrain(blockSize: Int, steps: Int, language rng: RandomGenerator,
                                initSeed: UInt64) throws -> Checkpoint {
        let train = SyntheticLanguage.documents(count: 2000, maxLength: blockSize - 1, rng: rng)
        let validation = SyntheticLanguage.documents(count: 200, maxLength: blockSize - 1, rng: rng)
        var settings = PretrainSettings()
        settings.nLayer = 1; settings.nHead = 2; settings.nEmbd = 16; settings.blockSize = blockSize
        settings.batchSize = 32; settings.steps = steps; settings.warmupSteps = 20
        settings.evalInterval = settings.steps; settings.checkpointInterval = settings.steps
        settings.seed = initSeed
        let trainer = try Pretrainer(settings: settings, corpus: FortuneCorpus(train: train, validation: validation))
        while !trainer.isComplete { trainer.trainStep() }
        return trainer.checkpoint()
    }

    /// The bridge prior of chapters 10 and 11: `pretrain` with the streams "bridge-language" and
    /// "bridge-init" of `stream` (a chapter's `Seeds.generator`), 150 steps with `quick`, else 400.
    public static func pretrain(blockSize: Int, quick: Bool, stream: (String) -> RandomGenerator) throws -> Checkpoint {
        try pretrain(blockSize: blockSize, steps: quick ? 150 : 400, language: stream("bridge-language"),
                     initSeed: stream("bridge-init").seed)
    }

    /// r(x) = the number of b's of the text.
    public static func reward(_ text: String) -> Double { Double(text.filter { $0 == "b" }.count) }

    /// The model's next-token distributions at every prefix of the bridge space, as a tabular
    /// autoregressive model on `SequenceSpace(vocabulary: V, maxLength: blockSize)`, where the V
    /// symbols are the tokens other than the end token in their tokenizer order and the end
    /// token is V. Sequence i of the space is the start token, its symbols, and the end token
    /// when it is shorter than the block. Each softmax is renormalised in Double from the
    /// model's Float log-probabilities. Also returns the texts of the sequences.
    public static func tabular(_ model: GPT, tokenizer: CharTokenizer, blockSize: Int,
                               space: SequenceSpace? = nil) -> (model: AutoregressiveModel, texts: [String]) {
        let symbols = (0..<Int32(tokenizer.count)).filter { $0 != tokenizer.eos }
        let s = space ?? SequenceSpace(vocabulary: symbols.count, maxLength: blockSize)
        precondition(s.vocabulary == symbols.count && s.maxLength == blockSize, "the space must be the bridge's")
        let sequences: [[Int32]] = (0..<s.count).map { i in
            [tokenizer.bos] + s.sequences[i].map { symbols[$0] } + (s.sequences[i].count < blockSize ? [tokenizer.eos] : [])
        }
        var logits = [Double](repeating: 0, count: s.parameterCount)
        var start = 0
        while start < s.count {
            let end = min(start + 256, s.count)
            let scored = model.score(Array(sequences[start..<end]))
            for i in start..<end {
                for (t, step) in s.steps[i].enumerated() {
                    logits[step.prefix * s.choices + step.token] = Double(scored.tokenLogProbs[i - start][t])
                }
            }
            start = end
        }
        return (AutoregressiveModel(space: s, logits: logits), sequences.map { tokenizer.decode($0) })
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

import Foundation

/// Everything that determines a pretraining run; equal settings give equal models (on any
/// number of cores, with the same BLAS kernels), so the settings key the pretraining cache.
public struct PretrainSettings: Sendable, Equatable, Codable {
    /// L, NH, C and the block size (the longest document is blockSize - 1 characters).
    public var nLayer = 4
    public var nHead = 4
    public var nEmbd = 128
    public var blockSize = 128
    /// Documents a step (each row one whole document, padded).
    public var batchSize = 32
    public var steps = 3000
    public var maxLR = 2e-3
    public var minLR = 2e-4
    public var warmupSteps = 100
    public var weightDecay = 0.1
    public var beta1 = 0.9
    public var beta2 = 0.99
    public var gradClip = 1.0
    public var seed: UInt64 = 1
    /// Validation loss every this many steps (and at the end).
    public var evalInterval = 500
    /// A resumable checkpoint every this many steps (and at the end).
    public var checkpointInterval = 250
    /// The corpus directory (part of the key).
    public var corpusDirectory = FortuneCorpus.defaultDirectory

    public init() {}

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(maxLR: maxLR, minLR: minLR, warmupSteps: warmupSteps, decaySteps: steps)
    }

    /// Settings as sorted-key JSON (stored in checkpoints, hashed for the cache key), with
    /// `passShards`, the batch shards of every pass (`Parallel.shardsPerPass`): not a setting
    /// but part of what fixes a run's bits (it orders the gradients' sums), so a checkpoint
    /// trained with another split is neither reused nor resumed.
    public var json: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try! e.encode(Keyed(settings: self)), as: UTF8.self)
    }

    /// The settings' own keys and `passShards`, in one JSON object.
    private struct Keyed: Encodable {
        let settings: PretrainSettings
        enum Key: String, CodingKey { case passShards }

        func encode(to encoder: Encoder) throws {
            try settings.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(Parallel.shardsPerPass, forKey: .passShards)
        }
    }

    /// A stable 64-bit FNV-1a hash of `json`, in hex: the cache key.
    public var key: String { StableHash.hex(json) }

    /// A tiny run for tests and quick chapter runs: 1 layer, 32 wide, 64-position context.
    public static var quick: PretrainSettings {
        var s = PretrainSettings()
        s.nLayer = 1; s.nHead = 2; s.nEmbd = 32; s.blockSize = 64
        s.batchSize = 16; s.steps = 200; s.warmupSteps = 20; s.evalInterval = 100; s.checkpointInterval = 100
        return s
    }
}

/// Validation figures of a model on a set of documents.
public struct Evaluation: Sendable, Codable {
    /// Mean negative log-probability a predicted token (characters and EOS), in nats.
    public let lossPerToken: Double
    /// Total -log2 pi(x) over the documents divided by their number of characters (EOS's cost
    /// included in the numerator, as a character model's bits per character).
    public let bitsPerCharacter: Double
    public let documents: Int
}

extension GPT {
    /// Loss in nats a token and bits a character over whole documents (already encoded).
    public func evaluate(_ documents: [[Int32]], batchSize: Int = 64) -> Evaluation {
        let lp = logProbs(of: documents, batchSize: batchSize)
        let total = -lp.reduce(0, +)
        let tokens = documents.reduce(0) { $0 + $1.count - 1 }
        let chars = documents.reduce(0) { $0 + $1.count - 2 }
        return Evaluation(lossPerToken: total / Double(tokens), bitsPerCharacter: total / log(2) / Double(max(chars, 1)),
                          documents: documents.count)
    }
}

import Foundation
import GSL

/// Pretraining on whole documents with AdamW, clipping and nanoGPT's schedule, with periodic
/// atomic checkpoints that carry the optimiser state, so a killed run resumes where it stopped.
///
/// Step s draws its batch from a generator seeded by (seed, s) alone: `batchSize` training
/// documents uniformly with replacement. So a resumed run sees exactly the batches an
/// uninterrupted one would, and reaches the same parameters (on any number of cores).
public final class Pretrainer {
    public let settings: PretrainSettings
    public let tokenizer: CharTokenizer
    public let train: [[Int32]]
    public let validation: [[Int32]]
    public private(set) var model: GPT
    public private(set) var optimizer: AdamW
    /// Steps done.
    public private(set) var step = 0
    /// The training loss of the last step (nats a token).
    public private(set) var lastLoss = Double.nan

    /// Fresh model on the corpus of `settings` (documents of at most blockSize - 1 characters).
    public convenience init(settings: PretrainSettings) throws(TinyLMError) {
        let corpus = try FortuneCorpus.load(directory: settings.corpusDirectory, maxCharacters: settings.blockSize - 1)
        try self.init(settings: settings, corpus: corpus)
    }

    public init(settings: PretrainSettings, corpus: FortuneCorpus) throws(TinyLMError) {
        self.settings = settings
        let tok = CharTokenizer(texts: corpus.all)
        tokenizer = tok
        train = try corpus.train.map { t throws(TinyLMError) in try tok.encode(t) }
        validation = try corpus.validation.map { t throws(TinyLMError) in try tok.encode(t) }
        guard !train.isEmpty else { throw .corpus("no training documents") }
        let config = GPTConfig(vocabSize: tokenizer.count, blockSize: settings.blockSize, nLayer: settings.nLayer,
                               nHead: settings.nHead, nEmbd: settings.nEmbd)
        model = GPT(config: config, seed: settings.seed)
        optimizer = AdamW(layout: model.layout, beta1: Float(settings.beta1), beta2: Float(settings.beta2),
                          weightDecay: Float(settings.weightDecay))
    }

    /// The documents of step s.
    public func batch(at s: Int) -> [[Int32]] {
        let rng = RandomGenerator(seed: settings.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(s))
        return (0..<settings.batchSize).map { _ in train[rng.uniformInt(below: train.count)] }
    }

    /// One optimisation step on batch(at: step); returns the batch's mean loss a token.
    @discardableResult
    public func trainStep() -> Double {
        let docs = batch(at: step)
        let tokens = docs.reduce(0) { $0 + $1.count - 1 }
        // The gradient of the batch's mean loss a token, -(1/n) sum log p, computed in two
        // passes over the documents sorted by length: each pass is padded only to its own
        // longest document, so the short half costs less. Gradients accumulate across passes.
        let sorted = docs.sorted { $0.count < $1.count }
        let half = sorted.count / 2
        let parts = half == 0 ? [sorted[...]] : [sorted[..<half], sorted[half...]]
        model.zeroGradients()
        var logLikelihood = 0.0
        for part in parts {
            let scored = model.score(Array(part))
            logLikelihood += scored.logProbs.reduce(0, +)
            model.backward(sequenceWeights: [Double](repeating: -1 / Double(tokens), count: part.count))
        }
        clipGradientNorm(model, maxNorm: settings.gradClip)
        optimizer.update(model, learningRate: Float(settings.schedule.rate(at: step)))
        step += 1
        lastLoss = -logLikelihood / Double(tokens)
        return lastLoss
    }

    public var isComplete: Bool { step >= settings.steps }

    /// The checkpoint of the current state: model, vocabulary, optimiser moments, step, settings.
    public func checkpoint() -> Checkpoint {
        Checkpoint(model: model, tokenizer: tokenizer, optimizer: optimizer,
                   metadata: ["step": "\(step)", "pretrain_settings": settings.json,
                              "complete": isComplete ? "true" : "false", "train_loss": "\(lastLoss)"])
    }

    /// Continues from a checkpoint written by `checkpoint()` with the same settings and vocabulary.
    public func resume(from c: Checkpoint) throws(TinyLMError) {
        guard c.extraMetadata["pretrain_settings"] == settings.json else {
            throw .checkpoint("it was written with other pretraining settings; delete it or use the same settings")
        }
        guard let s = c.extraMetadata["step"].flatMap(Int.init) else { throw .checkpoint("it holds no step to resume from") }
        try c.restore(into: model, tokenizer: tokenizer, optimizer: optimizer)
        step = s
        lastLoss = c.extraMetadata["train_loss"].flatMap(Double.init) ?? .nan
    }

    /// Trains to `settings.steps`, resuming from `checkpointURL` if it holds a partial run,
    /// writing it every `checkpointInterval` steps and at the end; logs validation figures.
    /// `stopAfter` (for tests) stops early after that many steps of this call, as a kill would.
    public func run(checkpointURL: URL?, progress: ProgressReporter? = nil, log: (String) -> Void = { _ in },
                    stopAfter: Int? = nil) throws(TinyLMError) {
        if let url = checkpointURL, FileManager.default.fileExists(atPath: url.path) {
            try resume(from: Checkpoint.load(url))
            log("resumed from \(url.path) at step \(step)")
        }
        let started = Date()
        var tokensDone = 0
        var stepsThisCall = 0
        // The steps' wall time, and the part of it in the passes' batch shards: the rest runs
        // on one core (said at the end).
        var stepSeconds = 0.0, shardSeconds = 0.0
        defer {
            if stepsThisCall > 0 {
                log(String(format: "%d steps in %.1f s, %.1f%% of it outside the batch shards (work on one core)",
                           stepsThisCall, stepSeconds, 100 * (1 - shardSeconds / max(stepSeconds, 1e-9))))
            }
        }
        while !isComplete {
            if let stopAfter, stepsThisCall >= stopAfter { return }
            let docs = batch(at: step)
            tokensDone += docs.reduce(0) { $0 + $1.count - 1 }
            let t0 = Date(), s0 = Parallel.secondsInShards
            trainStep()
            stepSeconds += Date().timeIntervalSince(t0)
            shardSeconds += Parallel.secondsInShards - s0
            stepsThisCall += 1
            // A non-finite loss means the parameters are no longer finite either: stop before
            // anything of it is saved (the last checkpoint written stays the last good state).
            guard lastLoss.isFinite else { throw .diverged(step: step, loss: lastLoss) }
            let rate = Double(tokensDone) / max(Date().timeIntervalSince(started), 1e-9)
            progress?.update(step, status: String(format: "loss %.4f lr %.2e %.0f tok/s", lastLoss, settings.schedule.rate(at: step - 1), rate))
            if step % settings.evalInterval == 0 || isComplete {
                let e = model.evaluate(validation)
                log(String(format: "step %d: train loss %.4f, validation loss %.4f nats/token, %.4f bits/char (%d documents)",
                           step, lastLoss, e.lossPerToken, e.bitsPerCharacter, e.documents))
            }
            if let url = checkpointURL, step % settings.checkpointInterval == 0 || isComplete {
                guard UnsafeBufferPointer(start: model.parameters.pointer, count: model.parameters.count).allSatisfy(\.isFinite) else { throw .diverged(step: step, loss: lastLoss) }
                try checkpoint().save(to: url)
            }
        }
    }
}

import ArgumentParser
import Foundation
import GSL
import TinyLM

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pretrain on the fortunes corpus (cached by settings; resumes an interrupted run).",
        discussion: """
        Progress with an ETA on a terminal, plain lines when piped. Without --checkpoint the model \
        goes to the pretraining cache (--cache-dir, $TINYLM_CACHE or Output/.cache/tinylm), keyed \
        by the settings. With --checkpoint FILE it trains into FILE, resuming it if present.
        """
    )

    @Flag(help: "Tiny settings (1 layer, 32 wide, 200 steps): a smoke run in seconds.") var quick = false
    @Option(help: "Transformer blocks.") var layers: Int?
    @Option(help: "Attention heads.") var heads: Int?
    @Option(help: "Embedding width (a multiple of --heads).") var width: Int?
    @Option(help: "Context length; documents of up to block-size - 1 characters are used.") var blockSize: Int?
    @Option(help: "Documents a step.") var batchSize: Int?
    @Option(help: "Optimisation steps.") var steps: Int?
    @Option(help: "Peak learning rate (warm-up, then cosine decay to a tenth).") var lr: Double?
    @Option(help: "Seed of initialisation and batches.") var seed: UInt64?
    @Option(help: "Checkpoint (and validation) interval in steps.") var checkpointEvery: Int?
    @Option(help: "Directory of the fortune files.") var corpus: String?
    @Option(help: "Train into this safetensors file instead of the cache.") var checkpoint: String?
    @Option(help: "Cache directory.") var cacheDir: String?

    func settings() throws -> PretrainSettings {
        var s = quick ? PretrainSettings.quick : PretrainSettings()
        if let layers { s.nLayer = layers }
        if let heads { s.nHead = heads }
        if let width { s.nEmbd = width }
        if let blockSize { s.blockSize = blockSize }
        if let batchSize { s.batchSize = batchSize }
        if let steps { s.steps = steps }
        if let lr { s.maxLR = lr; s.minLR = lr / 10 }
        if let seed { s.seed = seed }
        if let checkpointEvery { s.checkpointInterval = checkpointEvery; s.evalInterval = max(checkpointEvery, s.evalInterval) }
        if let corpus { s.corpusDirectory = corpus }
        let bounds: [(String, Int, ClosedRange<Int>)] = [
            ("--layers", s.nLayer, 1...64), ("--heads", s.nHead, 1...64), ("--width", s.nEmbd, 1...4096),
            ("--block-size", s.blockSize, 2...4096), ("--batch-size", s.batchSize, 1...4096),
            ("--steps", s.steps, 1...10_000_000), ("--checkpoint-every", s.checkpointInterval, 1...10_000_000),
        ]
        for (option, value, range) in bounds where !range.contains(value) {
            throw UsageError("\(option) must be from \(range.lowerBound) to \(range.upperBound) (got \(value))")
        }
        guard s.nEmbd % s.nHead == 0 else { throw UsageError("--width (\(s.nEmbd)) must be a multiple of --heads (\(s.nHead))") }
        guard s.maxLR.isFinite, s.maxLR > 0 else { throw UsageError("--lr must be a positive finite number (got \(s.maxLR))") }
        // A step's activations (forward and backward) take about B·T·(L·(18C + NH·T) + V) floats each.
        let perToken = s.nLayer * (18 * s.nEmbd + s.nHead * s.blockSize) + 256
        let floats = s.batchSize.multipliedReportingOverflow(by: s.blockSize * perToken)
        guard !floats.overflow, floats.partialValue <= Self.maximumActivationFloats else {
            throw UsageError("--batch-size \(s.batchSize) x --block-size \(s.blockSize) needs more than \(Self.maximumActivationFloats / (1 << 28)) GiB of activations at this width and depth: make one of them smaller")
        }
        return s
    }

    /// 4 GiB of Float32 activations.
    static let maximumActivationFloats = 1 << 30

    func run() throws {
        let s = try settings()
        let log = { (line: String) in printError(line) }
        let url = checkpoint.map { URL(fileURLWithPath: $0) }
            ?? PretrainCache.url(for: s, in: cacheDir.map { URL(fileURLWithPath: $0, isDirectory: true) } ?? PretrainCache.defaultDirectory)
        try PretrainCache.checkWritable(url)
        let trainer = try Pretrainer(settings: s)
        log("tinylm pretrain: \(trainer.model.config), \(trainer.model.layout.count) parameters; "
            + "\(trainer.train.count) training and \(trainer.validation.count) validation documents; \(s.steps) steps of \(s.batchSize)")
        log("checkpoint: \(url.path)")
        log("OpenBLAS kernels: \(BLASKernels.description); \(Parallel.description)")
        try trainer.run(checkpointURL: url, progress: ProgressReporter(total: s.steps, label: "pretrain"), log: log)
        let e = trainer.model.evaluate(trainer.validation)
        print(String(format: "validation loss %.4f nats/token, %.4f bits/char; checkpoint %@", e.lossPerToken, e.bitsPerCharacter, url.path))
    }
}

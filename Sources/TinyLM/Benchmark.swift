import Foundation
import GSL

/// The three figures of `shared/bench/tinygpt_torch.py`, measured the same way: the median
/// time of repeated runs within a time budget (at least 3), after 3 warm-up runs.
public struct Benchmark: Sendable {
    public let config: GPTConfig
    /// Seconds a measurement (the PyTorch script's `--budget`, default 6).
    public var budget: Double

    public init(config: GPTConfig, budget: Double = 6) {
        self.config = config
        self.budget = budget
    }

    public struct Result: Sendable, Codable {
        public var trainTokensPerSecond: Double
        public var sampleTokensPerSecond: Double
        public var rlStepsPerSecond: Double
        /// Achieved training FLOP/s by the 6N + 12 L C T count.
        public var trainFlopsPerSecond: Double
    }

    /// Median wall time of `body` over repetitions within the budget.
    func timed(budget: Double? = nil, _ body: () -> Void) -> Double {
        for _ in 0..<2 { body() }
        var times: [Double] = []
        let start = Date(), budget = budget ?? self.budget
        while times.count < 3 || (Date().timeIntervalSince(start) < budget && times.count < 1000) {
            let t0 = Date()
            body()
            times.append(Date().timeIntervalSince(t0))
        }
        times.sort()
        return times[times.count / 2]
    }

    /// (i) AdamW (lr 3e-4, betas 0.9/0.95, weight decay 0.1) with clipping at 1.0 on batches of
    /// 32 x blockSize tokens of a fixed random stream -> tokens/s.
    public func trainTokensPerSecond() -> Double {
        let model = GPT(config: config, seed: 0)
        let opt = AdamW(layout: model.layout, beta1: 0.9, beta2: 0.95, weightDecay: 0.1)
        let batches = trainingBatches()
        var k = 0
        let t = timed {
            let (x, y) = batches[k % batches.count]
            k += 1
            model.forward(inputs: x, targets: y, B: Self.trainRows, T: config.blockSize)
            model.zeroGradients()
            model.backwardMeanLoss()
            clipGradientNorm(model, maxNorm: 1)
            opt.update(model, learningRate: 3e-4)
        }
        return Double(Self.trainRows * config.blockSize) / t
    }

    /// Rows of a training batch.
    static let trainRows = 32

    /// 16 batches of `trainRows` x blockSize inputs and next-token targets from a fixed random stream.
    func trainingBatches() -> [([Int32], [Int32])] {
        let rng = RandomGenerator(seed: 1)
        let B = Self.trainRows, T = config.blockSize, V = config.vocabSize
        let stream = (0..<200_000).map { _ in Int32(rng.uniformInt(below: V)) }
        return (0..<16).map { _ in
            var x: [Int32] = [], y: [Int32] = []
            for _ in 0..<B {
                let i = rng.uniformInt(below: stream.count - T - 1)
                x += stream[i..<(i + T)]
                y += stream[(i + 1)..<(i + 1 + T)]
            }
            return (x, y)
        }
    }

    /// The work balance of a training step of (i), from which its scaling with the cores follows.
    public struct ShardBalance: Sendable, Codable {
        /// The rows of each batch shard (`Parallel.shards`).
        public var rows: [Int]
        /// Each shard's forward and backward pass, run alone on one core (median seconds).
        public var shardSeconds: [Double]
        /// The rest of the step with the threads of this run: the shards' gradients added,
        /// clipping and AdamW (median seconds).
        public var restSeconds: Double
        public var threads: Int
        public var tokensPerStep: Int

        /// The step time to expect on `cores` cores: the shards taken in order by whichever core
        /// is free first (as `Parallel.forShards` hands them out), then the rest, taken as
        /// splitting evenly over the cores (it is element-wise work, split by elements).
        public func expectedStepSeconds(cores: Int) -> Double {
            var free = [Double](repeating: 0, count: max(cores, 1))
            for t in shardSeconds {
                let i = free.indices.min { free[$0] < free[$1] }!
                free[i] += t
            }
            return free.max()! + restSeconds * Double(threads) / Double(max(cores, 1))
        }
    }

    /// (iv) Times each batch shard of (i)'s step alone (forward and backward, one core), and the
    /// rest of the step; see `ShardBalance`.
    public func shardBalance() -> ShardBalance {
        let model = GPT(config: config, seed: 0)
        let opt = AdamW(layout: model.layout, beta1: 0.9, beta2: 0.95, weightDecay: 0.1)
        let (x, y) = trainingBatches()[0]
        let B = Self.trainRows, T = config.blockSize
        model.forward(inputs: x, targets: y, B: B, T: T)
        model.zeroGradients()
        model.backwardMeanLoss()   // allocates the gradient scratch and the shards' gradient buffers
        let acts = model.acts!, scratch = model.gradientScratch()
        let n = (0..<(B * T)).reduce(0) { $0 + (y[$1] >= 0 ? 1 : 0) }
        let dLogProbs = y.map { $0 >= 0 ? -1 / Float(n) : 0 }
        let shards = Parallel.shards(B: B)
        let into = [model.grads] + model.shardGradients.prefix(shards.count - 1).map { ModelPointers($0, model.layout) }
        let perShard: [Double] = shards.enumerated().map { i, rows in
            Parallel.withOwnThreads {
                timed(budget: budget / Double(2 * shards.count)) {
                    if i > 0 { model.shardGradients[i - 1].zero() }
                    model.forwardRows(acts, rows: rows, T: T)
                    dLogProbs.withUnsafeBufferPointer { d in
                        model.backwardRows(acts, scratch, dLogProbs: d.baseAddress!, rows: rows, T: T, into: into[i])
                    }
                }
            }
        }
        let buffers = Array(model.shardGradients.prefix(shards.count - 1))
        let rest = timed(budget: budget / 4) {
            model.addShardGradients(buffers)
            clipGradientNorm(model, maxNorm: 1)
            opt.update(model, learningRate: 3e-4)
        }
        return ShardBalance(rows: shards.map(\.count), shardSeconds: perShard, restSeconds: rest, threads: Parallel.workers,
                            tokensPerStep: B * T)
    }

    /// (ii) KV-cache sampling of 64 sequences of BOS + (blockSize - 1) tokens at temperature 1
    /// (no early stop) -> sampled tokens/s.
    public func sampleTokensPerSecond() -> Double {
        let model = GPT(config: config, seed: 0)
        let rng = RandomGenerator(seed: 2)
        let B = 64, n = config.blockSize - 1
        let t = timed { _ = model.sample(count: B, start: 0, end: nil, maxTokens: n + 1, rng: rng) }
        return Double(B * n) / t
    }

    /// (iii) A REINFORCE-with-KL step: sample 64 sequences of 32 tokens with the KV cache;
    /// log-probabilities under the policy (kept for backward) and a frozen reference; toy reward
    /// r = frequency of token 7; shaped = r - 0.1 (logp - logp_ref); advantage = shaped - mean;
    /// loss = -mean(advantage logp); backward; AdamW step -> steps/s.
    public func rlStepsPerSecond() -> Double {
        let policy = GPT(config: config, seed: 0)
        let reference = policy.copy()
        let opt = AdamW(layout: policy.layout, beta1: 0.9, beta2: 0.95, weightDecay: 0.1)
        let rng = RandomGenerator(seed: 3)
        let B = 64, L = 32, beta = 0.1, target: Int32 = 7
        let t = timed {
            let samples = policy.sample(count: B, start: 0, end: nil, maxTokens: L + 1, rng: rng)
            let seqs = samples.map(\.tokens)
            let ref = reference.logProbs(of: seqs, batchSize: B)
            let logp = policy.score(seqs).logProbs
            let shaped = (0..<B).map { i in
                Double(seqs[i].dropFirst().filter { $0 == target }.count) / Double(L) - beta * (logp[i] - ref[i])
            }
            let mean = shaped.reduce(0, +) / Double(B)
            policy.zeroGradients()
            policy.backward(sequenceWeights: shaped.map { -($0 - mean) / Double(B) })
            opt.update(policy, learningRate: 3e-4)
        }
        return 1 / t
    }

    public func run(parts: Set<String> = ["train", "sample", "rl"]) -> Result {
        let train = parts.contains("train") ? trainTokensPerSecond() : .nan
        let sample = parts.contains("sample") ? sampleTokensPerSecond() : .nan
        let rl = parts.contains("rl") ? rlStepsPerSecond() : .nan
        let flops = GPT(config: config, seed: 0).flopsPerToken
        return Result(trainTokensPerSecond: train, sampleTokensPerSecond: sample, rlStepsPerSecond: rl,
                      trainFlopsPerSecond: train * flops)
    }
}

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
    func timed(_ body: () -> Void) -> Double {
        for _ in 0..<2 { body() }
        var times: [Double] = []
        let start = Date()
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
        let rng = RandomGenerator(seed: 1)
        let B = 32, T = config.blockSize, V = config.vocabSize
        let stream = (0..<200_000).map { _ in Int32(rng.uniformInt(below: V)) }
        let batches: [([Int32], [Int32])] = (0..<16).map { _ in
            var x: [Int32] = [], y: [Int32] = []
            for _ in 0..<B {
                let i = rng.uniformInt(below: stream.count - T - 1)
                x += stream[i..<(i + T)]
                y += stream[(i + 1)..<(i + 1 + T)]
            }
            return (x, y)
        }
        var k = 0
        let t = timed {
            let (x, y) = batches[k % batches.count]
            k += 1
            model.forward(inputs: x, targets: y, B: B, T: T)
            model.zeroGradients()
            model.backwardMeanLoss()
            clipGradientNorm(model, maxNorm: 1)
            opt.update(model, learningRate: 3e-4)
        }
        return Double(B * T) / t
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

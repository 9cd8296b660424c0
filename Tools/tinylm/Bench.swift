import ArgumentParser
import Foundation
import GSL
import TinyLM

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The three figures of shared/bench/tinygpt_torch.py for one of its configurations.",
        discussion: """
        Training tokens/s (AdamW, batch 32 x 64), KV-cache sampling tokens/s (64 x 63), \
        REINFORCE-with-KL steps/s (64 x 32). Cores: TINYLM_THREADS (default: all of them); \
        OpenBLAS runs one thread inside TinyLM's own split of the work. --parts shards times each \
        batch shard of a training step alone on one core, and the rest of the step, and prints the \
        training speed they predict on 1 to 16 cores.
        """
    )

    @Option(help: "small, base or large.") var config = "base"
    @Flag(help: "Print one JSON object {\"train_tokens_per_s\", \"sample_tokens_per_s\", \"rl_steps_per_s\", \"blas_kernels\"}.") var json = false
    @Option(help: "Seconds a measurement.") var budget = 6.0
    @Option(help: "Comma-separated subset of train,sample,rl,shards.") var parts = "train,sample,rl"

    func run() throws {
        guard let c = GPTConfig.benchmark(config) else { throw UsageError("unknown --config \(config) (small, base or large)") }
        let p = Set(parts.split(separator: ",").map(String.init))
        guard !p.isEmpty, p.isSubset(of: ["train", "sample", "rl", "shards"]) else {
            throw UsageError("--parts must be a subset of train,sample,rl,shards")
        }
        guard budget > 0, budget <= 3600 else { throw UsageError("--budget must be a number of seconds in (0, 3600] (got \(budget))") }
        let bench = Benchmark(config: c, budget: budget)
        let r = bench.run(parts: p)
        let balance = p.contains("shards") ? bench.shardBalance() : nil
        let cores = [1, 2, 4, 8, 16]
        if json {
            func v(_ x: Double) -> Any { x.isNaN ? NSNull() : x }
            var o: [String: Any] = ["train_tokens_per_s": v(r.trainTokensPerSecond), "sample_tokens_per_s": v(r.sampleTokensPerSecond),
                                    "rl_steps_per_s": v(r.rlStepsPerSecond), "blas_kernels": BLAS.coreName,
                                    "blas_kernels_chosen": BLASKernels.description, "threads": Parallel.workers]
            if let b = balance {
                o["shard_rows"] = b.rows
                o["shard_seconds"] = b.shardSeconds
                o["rest_seconds"] = b.restSeconds
                o["expected_train_tokens_per_s"] = Dictionary(uniqueKeysWithValues: cores.map {
                    ("\($0)", Double(b.tokensPerStep) / b.expectedStepSeconds(cores: $0))
                })
            }
            print(jsonLine(o))
        } else {
            print("config \(config): \(c); OpenBLAS kernels \(BLASKernels.description)")
            if p.contains("train") {
                print(String(format: "(i)   train:  %.0f tokens/s, %.1f GFLOP/s (%.1f%% of 234 GFLOP/s)", r.trainTokensPerSecond,
                             r.trainFlopsPerSecond / 1e9, r.trainFlopsPerSecond / 234e9 * 100))
            }
            if p.contains("sample") { print(String(format: "(ii)  sample: %.0f tokens/s (KV cache)", r.sampleTokensPerSecond)) }
            if p.contains("rl") { print(String(format: "(iii) RL+KL:  %.2f steps/s", r.rlStepsPerSecond)) }
            if let b = balance {
                let ms = b.shardSeconds.map { String(format: "%.2f", $0 * 1000) }.joined(separator: ", ")
                print("(iv)  shards: \(b.rows.count) shards of \(b.rows.map(String.init).joined(separator: ", ")) rows, "
                      + "alone on one core \(ms) ms; the rest of a step "
                      + String(format: "%.2f ms with %d threads", b.restSeconds * 1000, b.threads))
                print("      expected training tokens/s: " + cores.map {
                    String(format: "%d cores %.0f", $0, Double(b.tokensPerStep) / b.expectedStepSeconds(cores: $0))
                }.joined(separator: ", "))
            }
        }
    }
}

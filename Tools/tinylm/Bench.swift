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
        OpenBLAS runs one thread inside TinyLM's own split of the work.
        """
    )

    @Option(help: "small, base or large.") var config = "base"
    @Flag(help: "Print one JSON object {\"train_tokens_per_s\", \"sample_tokens_per_s\", \"rl_steps_per_s\", \"blas_kernels\"}.") var json = false
    @Option(help: "Seconds a measurement.") var budget = 6.0
    @Option(help: "Comma-separated subset of train,sample,rl.") var parts = "train,sample,rl"

    func run() throws {
        guard let c = GPTConfig.benchmark(config) else { throw UsageError("unknown --config \(config) (small, base or large)") }
        let p = Set(parts.split(separator: ",").map(String.init))
        guard !p.isEmpty, p.isSubset(of: ["train", "sample", "rl"]) else { throw UsageError("--parts must be a subset of train,sample,rl") }
        guard budget > 0, budget <= 3600 else { throw UsageError("--budget must be a number of seconds in (0, 3600] (got \(budget))") }
        let r = Benchmark(config: c, budget: budget).run(parts: p)
        if json {
            func v(_ x: Double) -> Any { x.isNaN ? NSNull() : x }
            print(jsonLine(["train_tokens_per_s": v(r.trainTokensPerSecond), "sample_tokens_per_s": v(r.sampleTokensPerSecond),
                            "rl_steps_per_s": v(r.rlStepsPerSecond), "blas_kernels": BLAS.coreName, "blas_kernels_chosen": BLASKernels.description]))
        } else {
            print("config \(config): \(c); OpenBLAS kernels \(BLASKernels.description)")
            print(String(format: "(i)   train:  %.0f tokens/s, %.1f GFLOP/s (%.1f%% of 234 GFLOP/s)", r.trainTokensPerSecond,
                         r.trainFlopsPerSecond / 1e9, r.trainFlopsPerSecond / 234e9 * 100))
            print(String(format: "(ii)  sample: %.0f tokens/s (KV cache)", r.sampleTokensPerSecond))
            print(String(format: "(iii) RL+KL:  %.2f steps/s", r.rlStepsPerSecond))
        }
    }
}

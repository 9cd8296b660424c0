import ArgumentParser
import Foundation
import GSL
import TinyLM

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw documents from a checkpoint (KV cache, seeded); one JSON object a line with --json."
    )

    @Option(help: "A safetensors checkpoint.") var checkpoint: String
    @Option(help: "Number of documents.") var count = 10
    @Option(help: "Sampling temperature (> 0).") var temperature = 1.0
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Flag(help: "JSON lines {\"text\", \"logprob\", \"tokens\", \"finished\"}: logprob under the model (temperature 1), tokens including the end token.")
    var json = false

    func run() throws {
        guard count >= 1, temperature > 0, temperature.isFinite else { throw UsageError("--count must be >= 1 and --temperature > 0") }
        let c = try Checkpoint.load(URL(fileURLWithPath: checkpoint))
        let samples = c.model.sample(count: count, start: c.tokenizer.bos, end: c.tokenizer.eos,
                                     temperature: temperature, rng: RandomGenerator(seed: seed))
        for s in samples {
            let text = c.tokenizer.decode(s.tokens)
            if json {
                print(jsonLine(["text": text, "logprob": s.logProb, "tokens": s.tokens.count - 1, "finished": s.finished]))
            } else {
                print(String(format: "[log pi = %.3f%@]", s.logProb, s.finished ? "" : ", truncated at the block size"))
                print(text)
                print("%")
            }
        }
    }
}

/// One JSON object on one line, keys sorted.
func jsonLine(_ object: [String: Any]) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
}

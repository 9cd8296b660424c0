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

    /// Samples are kept until all are drawn (about 1.5 kB each at the block size 128).
    static let maximumCount = 100_000

    func run() throws {
        guard (1...Self.maximumCount).contains(count) else { throw UsageError("--count must be from 1 to \(Self.maximumCount) (got \(count))") }
        guard temperature > 0, temperature.isFinite else { throw UsageError("--temperature must be a positive finite number (got \(temperature))") }
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

/// One JSON object on one line, keys sorted. A non-finite number is written as the string
/// "NaN", "Infinity" or "-Infinity", as in the book's reports (JSON has no such numbers).
func jsonLine(_ object: [String: Any]) -> String {
    let finite = object.mapValues { value -> Any in
        guard let x = value as? Double, !x.isFinite else { return value }
        return x.isNaN ? "NaN" : x > 0 ? "Infinity" : "-Infinity"
    }
    guard let data = try? JSONSerialization.data(withJSONObject: finite, options: [.sortedKeys, .withoutEscapingSlashes]) else {
        return "{\"error\": \"unencodable\"}"
    }
    return String(decoding: data, as: UTF8.self)
}

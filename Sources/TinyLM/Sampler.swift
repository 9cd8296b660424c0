import Foundation
import GSL

/// One sampled sequence.
public struct Sample: Sendable, Equatable {
    /// The start token, the sampled tokens, and the end token if one was drawn.
    public let tokens: [Int32]
    /// log pi(tokens[1...] | tokens[0]) under the model itself (temperature 1), summed in Double:
    /// equal to re-scoring `tokens` with `GPT.score`, up to Float rounding.
    public let logProb: Double
    /// The same under the distribution actually sampled (logits / temperature).
    public let samplingLogProb: Double
    /// Per-token log-probabilities under the model (temperature 1), count = tokens.count - 1.
    public let tokenLogProbs: [Float]
    /// True when the sequence ended with the end token; false when it hit the length limit.
    public let finished: Bool
}

extension GPT {
    /// Draws `count` sequences with a KV cache: each starts with `start` and grows one token a
    /// step from softmax(logits / temperature) until `end` is drawn (when `end` is given) or the
    /// sequence holds `maxTokens` tokens (at most blockSize + 1, the default).
    ///
    /// Each draw uses one uniform from `rng` by inversion of the cumulative distribution in
    /// Double, so a seed fixes the samples. Rows that have ended are still computed (they keep
    /// feeding `end`) but take no further draws. `progress`, when given, is told how many
    /// sequences are done after each chunk of `sampleChunk` (for a `ProgressReporter`).
    public func sample(
        count: Int, start: Int32, end: Int32?, temperature: Double = 1,
        maxTokens: Int? = nil, rng: RandomGenerator, progress: ((Int) -> Void)? = nil
    ) -> [Sample] {
        precondition(count >= 1, "sample needs count >= 1")
        // at most `sampleChunk` rows at a time, so that the KV cache stays small
        var out: [Sample] = []
        out.reserveCapacity(count)
        while out.count < count {
            out += sampleRows(min(Self.sampleChunk, count - out.count), start: start, end: end,
                              temperature: temperature, maxTokens: maxTokens, rng: rng)
            progress?(out.count)
        }
        return out
    }

    /// Rows sampled together; larger counts run in consecutive chunks (each drawing from `rng`
    /// in turn). The KV cache of a chunk takes L * rows * maxT * C * 8 bytes.
    public static let sampleChunk = 256

    func sampleRows(
        _ B: Int, start: Int32, end: Int32?, temperature: Double, maxTokens: Int?, rng: RandomGenerator
    ) -> [Sample] {
        precondition(temperature > 0, "sample needs a positive temperature")
        let limit = min(maxTokens ?? config.blockSize + 1, config.blockSize + 1)
        precondition(limit >= 2, "sample needs room for at least one new token")
        let cache = kvCache(rows: B)
        cache.prepare(model: self)
        var rows = [SampledRow](repeating: SampledRow(start: start), count: B)
        var uniforms = [Double](repeating: 0, count: B)
        let draws = UnsafeMutableBufferPointer<Draw>.allocate(capacity: B)
        draws.initialize(repeating: Draw(pick: 0, logProb: 0, samplingLogProb: 0))
        defer { draws.deallocate() }
        for b in 0..<B { cache.tokens[b] = start }
        for pos in 0..<(limit - 1) {
            cache.step(model: self, pos: pos)
            // one uniform per live row, in row order, so the draws do not depend on the split
            for b in 0..<B where !rows[b].done { uniforms[b] = rng.uniform() }
            drawStep(cache, live: rows.map { !$0.done }, uniforms: uniforms, temperature: temperature, into: draws)
            for b in 0..<B where !rows[b].done {
                rows[b].append(draws[b], end: end)
                cache.tokens[b] = Int32(draws[b].pick)
            }
            if rows.allSatisfy(\.done) { break }
        }
        return rows.map(\.sample)
    }

    /// One token drawn for a row, with its log-probability under the model and as sampled.
    struct Draw {
        var pick: Int
        var logProb: Double
        var samplingLogProb: Double
    }

    /// A row being sampled: its tokens so far, their log-probabilities, and whether it ended.
    struct SampledRow {
        var tokens: [Int32]
        var logProb = 0.0, samplingLogProb = 0.0
        var tokenLogProbs: [Float] = []
        /// No further draws (the end token was drawn).
        var done = false

        init(start: Int32) { tokens = [start] }

        mutating func append(_ d: Draw, end: Int32?) {
            logProb += d.logProb
            samplingLogProb += d.samplingLogProb
            tokenLogProbs.append(Float(d.logProb))
            tokens.append(Int32(d.pick))
            if let end, Int32(d.pick) == end { done = true }
        }

        var sample: Sample {
            Sample(tokens: tokens, logProb: logProb, samplingLogProb: samplingLogProb, tokenLogProbs: tokenLogProbs,
                   finished: done)
        }
    }

    /// One step's draws for the live rows from the logits of the cache's last step, split across
    /// the cores: each row reads only its own logits and writes only its own `draws` entry.
    func drawStep(_ cache: KVCache, live: [Bool], uniforms: [Double], temperature: Double,
                  into draws: UnsafeMutableBufferPointer<Draw>) {
        let V = config.vocabSize
        let shared = UncheckedSendable((live, uniforms, draws))
        Parallel.forChunks(live.count, minimum: 8) { rows in
            let (live, uniforms, draws) = shared.value
            var probs = [Double](repeating: 0, count: V)
            for b in rows where live[b] {
                let r = Self.draw(logits: cache.logits.pointer + b * V, V: V, temperature: temperature, uniform: uniforms[b],
                                  scratch: &probs)
                draws[b] = Draw(pick: r.pick, logProb: r.logProb, samplingLogProb: r.samplingLogProb)
            }
        }
    }

    /// One draw from softmax(logits / temperature) by inversion of the cumulative distribution
    /// (in Double) at `uniform` in [0, 1); returns the token, its log-probability under the model
    /// (temperature 1) and under the sampled distribution.
    static func draw(logits: UnsafePointer<Float>, V: Int, temperature: Double, uniform: Double,
                     scratch probs: inout [Double]) -> (pick: Int, logProb: Double, samplingLogProb: Double) {
        var maxval = -Double.greatestFiniteMagnitude
        for i in 0..<V { maxval = max(maxval, Double(logits[i])) }
        // log-normalisers at temperature 1 (the model) and at the sampling temperature
        var z1 = 0.0, zt = 0.0
        for i in 0..<V {
            let d = Double(logits[i]) - maxval
            let e1 = exp(d)
            z1 += e1
            let e = temperature == 1 ? e1 : exp(d / temperature)
            probs[i] = e
            zt += e
        }
        let u = uniform * zt
        var acc = 0.0, pick = V - 1
        for i in 0..<V {
            acc += probs[i]
            if u < acc { pick = i; break }
        }
        while probs[pick] == 0 && pick > 0 { pick -= 1 }  // never land on a zero-probability tail
        let d = Double(logits[pick]) - maxval
        return (pick, d - log(z1), d / temperature - log(zt))
    }

    /// The KV cache for `rows` sequences, kept between calls (its memory is reused, not zeroed:
    /// a pass writes every key and value before reading it).
    func kvCache(rows: Int) -> KVCache {
        if let cache = sampleCache, cache.capacity >= rows {
            cache.B = rows
            return cache
        }
        let made = KVCache(config: config, B: rows)
        sampleCache = made
        return made
    }
}

import Foundation
import GSL
import Testing
@testable import TinyLM

@Suite("KV-cache sampling")
struct SamplingTests {
    let config = GPTConfig(vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8)

    @Test func cachedLogitsEqualFullRecomputation() {
        let model = microModel(seed: 21, config: config)
        let seqs: [[Int32]] = [[0, 3, 5, 2, 6, 4], [0, 1, 1, 2, 3, 6]]
        let B = 2, T = 6
        model.forward(inputs: seqs.flatMap { $0 }, targets: [Int32](repeating: -1, count: B * T), B: B, T: T)
        let full = model.lastLogits
        let cache = KVCache(config: config, B: B)
        cache.prepare(model: model)
        let V = config.vocabSize
        for t in 0..<T {
            for b in 0..<B { cache.tokens[b] = seqs[b][t] }
            cache.step(model: model, pos: t)
            for b in 0..<B {
                for v in 0..<V {
                    let a = cache.logits[b * V + v], f = full[(b * T + t) * V + v]
                    // two Float32 paths (the cache's own kernels vs sgemm orderings): 1e-5 relative to logits of order 1-10
                    #expect(abs(a - f) <= 1e-5 * (abs(f) + 1), "b=\(b) t=\(t) v=\(v): cached \(a) vs full \(f)")
                }
            }
        }
    }

    @Test(arguments: [1.0, 0.7, 1.5])
    func sampledLogProbEqualsRescoredLogProb(temperature: Double) {
        let model = microModel(seed: 22, config: config)
        let samples = model.sample(count: 24, start: 0, end: 1, temperature: temperature, rng: RandomGenerator(seed: 5))
        #expect(samples.contains { $0.finished } && samples.contains { !$0.finished }, "both ended and truncated samples")
        let rescored = model.score(samples.map(\.tokens))
        for (s, r) in zip(samples, rescored.logProbs) {
            #expect(s.tokens.first == 0 && s.tokens.count <= config.blockSize + 1)
            #expect(s.finished == (s.tokens.last == 1) && s.tokens.dropLast().allSatisfy { $0 != 1 })
            // Float32 logits, Double sums over <= 6 tokens
            #expect(abs(s.logProb - r) <= 1e-5 * (abs(r) + 1), "sampled \(s.logProb) vs rescored \(r)")
            #expect(abs(Double(s.tokenLogProbs.reduce(0, +)) - s.logProb) <= 1e-5 * (abs(r) + 1))
            if temperature == 1 { #expect(s.samplingLogProb == s.logProb) }
        }
    }

    @Test func seededSamplingIsReproducible() {
        let model = microModel(seed: 23, config: config)
        let a = model.sample(count: 8, start: 0, end: 1, rng: RandomGenerator(seed: 9))
        let b = model.sample(count: 8, start: 0, end: 1, rng: RandomGenerator(seed: 9))
        let c = model.sample(count: 8, start: 0, end: 1, rng: RandomGenerator(seed: 10))
        #expect(a == b)
        #expect(a.map(\.tokens) != c.map(\.tokens))
    }

    /// Every complete path of a tiny model (V = 4: BOS, EOS, two characters; at most 3 new
    /// tokens): its exact probability from scoring, against sampled frequencies.
    @Test func sampledFrequenciesMatchExactProbabilities() throws {
        let tiny = GPTConfig(vocabSize: 4, blockSize: 3, nLayer: 1, nHead: 2, nEmbd: 4)
        let model = microModel(seed: 24, config: tiny)
        var leaves: [[Int32]] = []
        func grow(_ prefix: [Int32]) {
            for tok in Int32(0)..<4 {
                let seq = prefix + [tok]
                if tok == 1 || seq.count == tiny.blockSize + 1 { leaves.append(seq) } else { grow(seq) }
            }
        }
        grow([0])
        let exact = model.logProbs(of: leaves).map { exp($0) }
        #expect(abs(exact.reduce(0, +) - 1) <= 1e-5, "the leaf probabilities sum to 1")
        let n = 20_000
        let samples = model.sample(count: n, start: 0, end: 1, rng: RandomGenerator(seed: 2024))
        var index: [[Int32]: Int] = [:]
        for (i, leaf) in leaves.enumerated() { index[leaf] = i }
        var counts = [Int](repeating: 0, count: leaves.count)
        for s in samples { counts[index[s.tokens]!] += 1 }
        // Pearson chi-square over categories with expected count >= 5; the rest pooled
        var stat = 0.0, pooledE = 0.0, pooledO = 0.0, k = 0
        for (p, o) in zip(exact, counts) {
            let e = p * Double(n)
            if e >= 5 { stat += (Double(o) - e) * (Double(o) - e) / e; k += 1 } else { pooledE += e; pooledO += Double(o) }
        }
        if pooledE > 0 { stat += (pooledO - pooledE) * (pooledO - pooledE) / max(pooledE, 1e-12); k += 1 }
        #expect(k >= 20, "enough categories for a meaningful test: \(k)")
        let q = try SpecialFunctions.chiSquareQ(stat, degreesOfFreedom: Double(k - 1))
        // fixed seed; the test rejects at the 0.1% level
        #expect(q >= 0.001, "chi-square \(stat) on \(k - 1) degrees of freedom, p = \(q)")
    }
}

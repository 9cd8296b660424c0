import Finite
@testable import FineTune
import Foundation
import GSL
import Testing
import TinyLM

@Suite("FineTune: preferences, statistics, the enumerable bridge")
struct FineTuneTests {
    @Test("whole-word occurrences, case-insensitive", arguments: [
        ("Love is love.", 2), ("glove lovely", 0), ("LOVE", 1), ("", 0), ("love-love", 2), ("i love you, love!", 2),
    ])
    func occurrences(text: String, expected: Int) {
        let w = TargetWord("love")
        #expect(w.occurrences(in: text) == expected)
        #expect(w.constraint(text) == (expected > 0 ? 1 : 0))
        #expect(w.reward(text, cap: 1) == Double(min(expected, 1)))
    }

    @Test("the exact per-prefix penalty's token weights: reward and KL-to-come advantages, leave-one-out")
    func prefixExactWeights() {
        let kl: [[Double]] = [[0.1, 0.2, 0.3], [0.4, 0.5], [0.05, 0, 0.7]]
        let reward = [1.0, 0, 1], beta = 0.5, T = 3
        let w = FineTuner.prefixExactWeights(kl: kl, reward: reward, beta: beta, T: T)
        // the KL still to come after position t, 0 past a sample's end
        func toGo(_ i: Int, _ t: Int) -> Double { t + 1 < kl[i].count ? kl[i][(t + 1)...].reduce(0, +) : 0 }
        for i in 0..<3 {
            let others = (0..<3).filter { $0 != i }
            for t in 0..<T {
                guard t < kl[i].count else { #expect(w[i * T + t] == 0, "padding"); continue }
                let a = reward[i] - others.map { reward[$0] }.reduce(0, +) / 2
                    - beta * (toGo(i, t) - others.map { toGo($0, t) }.reduce(0, +) / 2)
                #expect(abs(Double(w[i * T + t]) + a / 3) <= 1e-7, "sample \(i), position \(t)")
            }
        }
        // identical samples: every advantage vanishes
        let same = FineTuner.prefixExactWeights(kl: [[0.3, 0.1], [0.3, 0.1]], reward: [1, 1], beta: 2, T: 2)
        #expect(same.allSatisfy { $0 == 0 })
    }

    @Test("the Bernoulli KL against the KL of two-outcome distributions")
    func binaryKL() {
        for (p, w) in [(0.3, 0.9), (0.983, 0.52), (0.5, 0.5), (1, 0.25), (0, 0.7)] {
            let exact = klDivergence(Distribution(weights: [p, 1 - p]), Distribution(weights: [w, 1 - w]))
            #expect(abs(Statistics.binaryKL(p, w) - exact) <= 1e-14 * max(1, exact), "p \(p), w \(w)")
        }
        #expect(Statistics.binaryKL(0.5, 0.5) == 0)
        #expect(Statistics.binaryKL(0.5, 1) == .infinity)
    }

    @Test("leave-one-out advantages: each sample's baseline excludes it, and they average to the centred value")
    func leaveOneOut() {
        let f = [1.0, 2, 6]
        let a = FineTuner.leaveOneOut(f)
        let expected: [Double] = [1.0 - 4.0, 2.0 - 3.5, 6.0 - 1.5]
        #expect(a == expected)
        // Σ A_i = n/(n-1) Σ (f_i - mean f).
        #expect(abs(a.reduce(0, +)) < 1e-12)
    }

    @Test("statistics: log-mean-exp, diversity and repetition")
    func statistics() {
        #expect(abs(Statistics.logMeanExp([0, 0, 0]) - 0) < 1e-15)
        #expect(abs(Statistics.logMeanExp([1000, 1000]) - 1000) < 1e-12)
        #expect(Statistics.distinctNGrams(["abcd", "abcd"], n: 4) == 0.5)
        #expect(Statistics.repetitionRate(["abababab"], n: 2) > 0.6)
        #expect(Statistics.repetitionRate(["abcdefgh"], n: 2) == 0)
        let e = Estimate.mean([1, 2, 3, 4])
        #expect(e.value == 2.5 && e.low < 2.5 && e.high > 2.5)
    }

    @Test("the enumerated space lists every sequence once and a model's probabilities over it sum to 1")
    func enumeratedSpace() throws {
        let tokenizer = CharTokenizer(texts: ["ab", "ba"])
        let block = 4
        let space = EnumeratedSpace(tokenizer: tokenizer, blockSize: block)
        // Symbols other than the end token: V - 1; finished sequences Σ_{k<block} (V-1)^k, cut ones (V-1)^block.
        let s = tokenizer.count - 1
        var expected = 0, power = 1
        for _ in 0..<block { expected += power; power *= s }
        expected += power
        #expect(space.count == expected)
        #expect(Set(space.sequences).count == space.count)
        let model = GPT(config: GPTConfig(vocabSize: tokenizer.count, blockSize: block, nLayer: 1, nHead: 1, nEmbd: 8), seed: 3)
        let (_, mass) = space.distribution(of: model)
        #expect(abs(mass - 1) < 1e-5)
    }

    @Test("the synthetic language is seeded and within its length")
    func synthetic() {
        let a = SyntheticLanguage.documents(count: 50, maxLength: 5, rng: RandomGenerator(seed: 1))
        let b = SyntheticLanguage.documents(count: 50, maxLength: 5, rng: RandomGenerator(seed: 1))
        #expect(a == b)
        #expect(a.allSatisfy { !$0.isEmpty && $0.count <= 5 && $0.allSatisfy { "ab".contains($0) } })
    }
}

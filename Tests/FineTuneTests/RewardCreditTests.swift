@testable import FineTune
import Foundation
import Finite
import GSL
import Testing
import TinyLM

/// `RewardCredit.toGo`: the token that decides the word's constraint, and the reward-to-go
/// estimate of ∇E_π_θ[b] with its per-position leave-one-out baseline.
@Suite("FineTune: the word's reward to go")
struct RewardCreditTests {
    let tokenizer = CharTokenizer(texts: ["ab ba"])
    let word = TargetWord("ab")

    func tokens(_ text: String, end: Bool = true) -> [Int32] {
        let full = try! tokenizer.encode(text)   // start token, characters, end token
        return end ? full : Array(full.dropLast())
    }

    @Test("the deciding position: the character after the first whole-word occurrence, else the end", arguments: [
        // (text, ends with the end token, deciding position): positions score token t + 1, token 0 is the start
        ("ab ba", true, 3), ("b ab a", true, 5), ("ab", true, 3), ("bab", true, 4), ("ab b", false, 3),
        ("bb ab", false, 5), ("", true, 1), ("aab ab ", true, 7),
    ])
    func decidingPositions(text: String, end: Bool, expected: Int) {
        #expect(FineTuner.decidingPosition(of: tokens(text, end: end), word: word, tokenizer: tokenizer) == expected)
    }

    /// Against a brute force that tries every continuation of up to two characters: the deciding
    /// position k is the first at which tokens[0...k] fix the constraint (b = 1 whatever follows).
    @Test("the deciding position against every continuation, on random texts")
    func decidingPositionsBruteForce() {
        let rng = RandomGenerator(seed: 17)
        let letters: [String] = [" ", "a", "b"]
        var continuations = [""]
        for x in letters { continuations.append(x); for y in letters { continuations.append(x + y) } }
        var decidedInside = 0
        for _ in 0..<300 {
            // characters and whole words, so that many texts hold the word and many do not
            let pieces = letters + ["ab", " ab"]
            let text = (0..<rng.uniformInt(below: 8)).map { _ in pieces[rng.uniformInt(below: pieces.count)] }.joined()
            let seq = tokens(text, end: rng.uniform() < 0.7)
            let last = seq.count - 1
            let fixed = (0..<last).first { k in
                let p = tokenizer.decode(seq[0...k])
                return continuations.allSatisfy { word.constraint(p + $0) > 0 }
            }
            let got = FineTuner.decidingPosition(of: seq, word: word, tokenizer: tokenizer)
            #expect(got == (fixed ?? last), "text '\(text)'")
            if fixed != nil { decidedInside += 1 }
        }
        #expect(decidedInside > 60 && decidedInside < 240, "the random texts decide the word before their end, and not, often enough")
    }

    /// The estimator's exact expectation over every batch of two of a tiny model's sequences,
    /// E[Σ_t A_it ∇log π_θ(x_i,t+1 | x_i,≤t)], against ∇E_π_θ[b] = Σ_x π_θ(x) b(x) ∇log π_θ(x),
    /// an independent computation. Both are linear in the token weights, so each is one backward
    /// pass over the enumerated space. Crediting one position fewer (not the deciding token) misses.
    @Test("the reward to go with its leave-one-out baseline is unbiased, over every batch of two")
    func rewardToGoIsUnbiased() {
        let block = 4
        let space = EnumeratedSpace(tokenizer: tokenizer, blockSize: block)
        let x = space.sequences
        let model = GPT(config: GPTConfig(vocabSize: tokenizer.count, blockSize: block, nLayer: 1, nHead: 1, nEmbd: 8),
                        seed: 5)
        let (distribution, mass) = space.distribution(of: model)
        let p = distribution.probabilities
        #expect(abs(mass - 1) < 1e-5)
        let b = x.map { word.constraint(tokenizer.decode($0)) }
        #expect(b.contains(1) && b.contains(0))
        let decided = x.map { FineTuner.decidingPosition(of: $0, word: word, tokenizer: tokenizer) }
        let lengths = x.map { $0.count - 1 }
        let T = lengths.max()!

        func gradient(_ dLogProbs: [Float]) -> [Double] {
            model.zeroGradients()
            model.score(x)
            model.backward(dLogProbs: dLogProbs)
            return model.gradients.array.map(Double.init)
        }
        // E over batches (i, j) of sample i's term: Σ_i p_i Σ_j p_j A_{i|j}[t] at each position.
        func estimator(shift: Int) -> [Double] {
            var d = [Float](repeating: 0, count: x.count * T)
            for i in x.indices {
                var expected = [Double](repeating: 0, count: lengths[i])
                for j in x.indices {
                    let a = FineTuner.rewardAdvantages(reward: [b[i], b[j]], decided: [decided[i] - shift, decided[j]],
                                                       lengths: [lengths[i], lengths[j]])[0]
                    for t in 0..<lengths[i] { expected[t] += p[j] * a[t] }
                }
                for t in 0..<lengths[i] { d[i * T + t] = Float(p[i] * expected[t]) }
            }
            return gradient(d)
        }
        var exactWeights = [Float](repeating: 0, count: x.count * T)
        for i in x.indices { for t in 0..<lengths[i] { exactWeights[i * T + t] = Float(p[i] * b[i]) } }
        let exact = gradient(exactWeights)
        let scale = (exact.reduce(0) { $0 + $1 * $1 } / Double(exact.count)).squareRoot()
        #expect(scale > 1e-6, "the reward has a gradient")
        let error = { (g: [Double]) in zip(g, exact).map { abs($0 - $1) }.max()! / scale }
        // Float32 passes and sums over 341 × 341 batches: 1e-3 of the gradient's scale
        #expect(error(estimator(shift: 0)) <= 1e-3, "reward to go vs ∇E[b]: \(error(estimator(shift: 0)))")
        #expect(error(estimator(shift: 1)) > 0.05, "the deciding token left out")
    }

    @Test("reward-to-go advantages: zero from the deciding position on, baseline of the undecided others")
    func advantages() {
        // three samples: decided at 2 (b = 1), never (b = 0, length 4), decided at 1 (b = 1)
        let a = FineTuner.rewardAdvantages(reward: [1, 0, 1], decided: [2, 4, 1], lengths: [3, 4, 2])
        // position 0: everyone undecided; position 1: samples 0 and 1; positions 2-3: sample 1 alone
        let expected: [[Double]] = [[0.5, 1, 0], [-1, -1, 0, 0], [0.5, 0]]
        #expect(a == expected)
    }
}

/// DPG with the text after the word's decision taken exactly (`FineTuner.dpgDecidedTerms`).
@Suite("FineTune: DPG after the word's decision")
struct DPGDecidedTests {
    let tokenizer = CharTokenizer(texts: ["ab ba"])
    let word = TargetWord("ab")

    /// One sample's expected terms over every sequence of a tiny policy, Σ_x π_θ(x) terms(x),
    /// against the forward KL's gradient −Σ_x π*(x) ∇log π_θ(x) with π* = π0 b / Z_b summed
    /// exactly. Taking the deciding token as already decided, or weighting a decided position by
    /// the prefix that includes the token it predicts, misses.
    @Test("the expected terms are the forward KL's gradient, over every sequence")
    func unbiased() {
        let block = 4
        let space = EnumeratedSpace(tokenizer: tokenizer, blockSize: block)
        let x = space.sequences
        let config = GPTConfig(vocabSize: tokenizer.count, blockSize: block, nLayer: 1, nHead: 1, nEmbd: 8)
        let policy = GPT(config: config, seed: 5), prior = GPT(config: config, seed: 6)
        let V = config.vocabSize, T = x.map { $0.count - 1 }.max()!
        let pTheta = space.distribution(of: policy).distribution.probabilities
        let p0 = space.distribution(of: prior).distribution.probabilities
        let b = x.map { word.constraint(tokenizer.decode($0)) }
        let zb = zip(p0, b).map { $0 * $1 }.reduce(0, +)
        #expect(zb > 0.01 && zb < 0.99)
        policy.score(x)
        let p = policy.lastProbabilities
        prior.score(x)
        let q = prior.lastProbabilities
        let decided = x.map { FineTuner.decidingPosition(of: $0, word: word, tokenizer: tokenizer) }
        #expect(zip(decided, x).contains { $0 < $1.count - 1 }, "some sequences decide the word before their end")

        func gradient(dLogProbs: [Float], dLogits: [Float]?) -> [Double] {
            policy.zeroGradients()
            policy.score(x)
            policy.backward(dLogProbs: dLogProbs, dLogits: dLogits)
            return policy.gradients.array.map(Double.init)
        }
        func expected(shift: Int) -> [Double] {
            var dLogProbs = [Float](repeating: 0, count: x.count * T)
            var dLogits = [Float](repeating: 0, count: x.count * T * V)
            for i in x.indices {
                let n = x[i].count - 1, rows = (i * T)..<(i * T + n)
                let one = FineTuner.dpgDecidedTerms(
                    sequences: [x[i]], policy: Array(p[(rows.lowerBound * V)..<(rows.upperBound * V)]),
                    prior: Array(q[(rows.lowerBound * V)..<(rows.upperBound * V)]), vocabularySize: V, b: [b[i]],
                    decided: [decided[i] - shift], logConstraintPartition: log(zb))
                for t in 0..<n {
                    dLogProbs[i * T + t] = Float(pTheta[i]) * one.dLogProbs[t]
                    for v in 0..<V { dLogits[(i * T + t) * V + v] = Float(pTheta[i]) * one.dLogits[t * V + v] }
                }
            }
            return gradient(dLogProbs: dLogProbs, dLogits: dLogits)
        }
        var exactWeights = [Float](repeating: 0, count: x.count * T)
        for i in x.indices { for t in 0..<(x[i].count - 1) { exactWeights[i * T + t] = Float(-p0[i] * b[i] / zb) } }
        let exact = gradient(dLogProbs: exactWeights, dLogits: nil)
        let scale = (exact.reduce(0) { $0 + $1 * $1 } / Double(exact.count)).squareRoot()
        #expect(scale > 1e-6)
        let error = { (g: [Double]) in zip(g, exact).map { abs($0 - $1) }.max()! / scale }
        #expect(error(expected(shift: 0)) <= 1e-3, "exact after the decision vs ∇KL(π* ‖ π_θ): \(error(expected(shift: 0)))")
        #expect(error(expected(shift: 1)) > 0.05, "the deciding token taken as decided")
    }
}

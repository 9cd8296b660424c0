import Foundation
import GSL
import Testing
@testable import TinyLM

@Suite("Optimiser, schedule, tokenizer, learning")
struct TrainingTests {
    @Test func scheduleMatchesNanoGPT() {
        let s = LearningRateSchedule(maxLR: 1e-3, minLR: 1e-4, warmupSteps: 10, decaySteps: 110)
        #expect(abs(s.rate(at: 0) - 1e-3 / 11) < 1e-15)
        #expect(abs(s.rate(at: 9) - 1e-3 * 10 / 11) < 1e-15)
        #expect(abs(s.rate(at: 10) - 1e-3) < 1e-15)
        #expect(abs(s.rate(at: 60) - 5.5e-4) < 1e-12)  // half way: cos(pi/2) = 0
        #expect(abs(s.rate(at: 110) - 1e-4) < 1e-15)
        #expect(s.rate(at: 500) == 1e-4)
    }

    @Test func adamWFirstStepAndDecayOnMatricesOnly() {
        let config = GPTConfig(vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4)
        let model = GPT(config: config, seed: 1)
        let before = model.parameters.array
        let g = RandomGeneratorForTests(seed: 2).floats(model.layout.count)
        for i in g.indices { model.gradients[i] = g[i] }
        let opt = AdamW(layout: model.layout, weightDecay: 0.1)
        let lr: Float = 0.01
        opt.update(model, learningRate: lr)
        for spec in model.layout.specs {
            let i = spec.offset
            // first step: mhat = g, vhat = g^2, so the step is lr g / (|g| + eps)
            let decay: Float = spec.isMatrix ? 1 - lr * 0.1 : 1
            let expected = before[i] * decay - lr * g[i] / (abs(g[i]) + 1e-8)
            #expect(abs(model.parameters[i] - expected) <= 1e-6, "\(spec.name)")
        }
        let norm = clipGradientNorm(model, maxNorm: 1)
        #expect(norm > 1 && abs(model.gradientNorm() - 1) < 1e-5)
    }

    @Test func tokenizerRoundTripAndErrors() throws {
        let tok = CharTokenizer(texts: ["hello world", "ab\nc"])
        #expect(tok.vocab[0] == CharTokenizer.bosName && tok.vocab[1] == CharTokenizer.eosName)
        let ids = try tok.encode("hello")
        #expect(ids.first == tok.bos && ids.last == tok.eos && ids.count == 7)
        #expect(tok.decode(ids) == "hello")
        #expect(throws: TinyLMError.unknownCharacter("z", offset: 2)) { try tok.encode("hez") }
        #expect(throws: TinyLMError.self) { try CharTokenizer(vocab: ["<b>", "<e>", "ab"], bos: 0, eos: 1) }
        let again = try CharTokenizer(vocab: tok.vocab, bos: tok.bos, eos: tok.eos)
        #expect(again == tok)
    }

    /// A micro model learns a tiny language: documents "ab", "abab", "ababab" (equally often).
    /// The exact optimum puts pi = 1/3 on each; after training the scored pi must be close.
    @Test func microModelLearnsATinyLanguage() throws {
        let tok = CharTokenizer(texts: ["ab"])
        let docs = try ["ab", "abab", "ababab"].map { try tok.encode($0) }
        let config = GPTConfig(vocabSize: tok.count, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16)
        let model = GPT(config: config, seed: 3)
        let opt = AdamW(layout: model.layout, weightDecay: 0)
        let start = model.logProbs(of: docs).reduce(0, +)
        for _ in 0..<150 {
            model.score(docs)
            model.zeroGradients()
            model.backward(sequenceWeights: [Double](repeating: -1.0 / 3, count: 3))
            opt.update(model, learningRate: 1e-2)
        }
        let lp = model.logProbs(of: docs)
        #expect(lp.reduce(0, +) > start + 5, "log-likelihood rose from \(start) to \(lp.reduce(0, +))")
        for l in lp { #expect(abs(exp(l) - 1.0 / 3) < 0.05, "pi(doc) = \(exp(l)), optimum 1/3") }
    }
}

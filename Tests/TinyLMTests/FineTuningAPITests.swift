import Foundation
import GSL
import Testing
@testable import TinyLM

/// The API the fine-tuning chapter uses: per-sequence weighted gradients and exact stepwise KL.
@Suite("Fine-tuning API")
struct FineTuningAPITests {
    let tiny = GPTConfig(vocabSize: 4, blockSize: 3, nLayer: 1, nHead: 2, nEmbd: 4)

    /// Every complete path of the tiny model (BOS = 0, EOS = 1, at most 3 new tokens).
    var leaves: [[Int32]] {
        var out: [[Int32]] = []
        func grow(_ prefix: [Int32]) {
            for tok in Int32(0)..<4 {
                let seq = prefix + [tok]
                if tok == 1 || seq.count == tiny.blockSize + 1 { out.append(seq) } else { grow(seq) }
            }
        }
        grow([0])
        return out
    }

    @Test func weightedSequenceGradientMatchesFiniteDifferences() {
        let config = GPTConfig(vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8)
        let model = microModel(seed: 51, config: config)
        let seqs: [[Int32]] = [[0, 3, 1], [0, 2, 2, 5, 4, 1], [0, 6, 1, 1, 3]]
        let w = [0.7, -1.3, 0.4]
        model.score(seqs)
        model.zeroGradients()
        model.backward(sequenceWeights: w)
        let analytic = model.gradients.array
        var ref = ReferenceGPT(config: config, theta: model.parameters.array.map(Double.init))
        let objective = { (theta: [Double]) -> Double in
            ref.theta = theta
            return zip(seqs, w).reduce(0.0) { acc, sw in
                acc + sw.1 * ref.logProbs(inputs: Array(sw.0.dropLast()), targets: Array(sw.0.dropFirst())).reduce(0, +)
            }
        }
        let rng = RandomGeneratorForTests(seed: 52)
        var worst = 0.0
        let scale = (analytic.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(analytic.count)).squareRoot()
        for _ in 0..<60 {
            let i = rng.int(below: analytic.count)
            let fd = finiteDifference(objective, at: ref.theta, coordinate: i)
            worst = max(worst, abs(Double(analytic[i]) - fd) / (abs(fd) + scale))
        }
        // Float32 through the whole model, as in ModelGradientTests
        #expect(worst <= 1e-3, "worst relative error \(worst)")
    }

    @Test func stepwiseKLAndEntropyAverageToSequenceKLAndEntropy() {
        let policy = microModel(seed: 53, config: tiny), reference = microModel(seed: 54, config: tiny)
        let x = leaves
        let lp = policy.logProbs(of: x), lq = reference.logProbs(of: x)
        let d = GPT.stepwiseDivergence(policy: policy, reference: reference, sequences: x)
        var klSeq = 0.0, klSteps = 0.0, hSeq = 0.0, hSteps = 0.0
        for i in x.indices {
            let p = exp(lp[i])
            klSeq += p * (lp[i] - lq[i])
            klSteps += p * d.kl[i]
            hSeq -= p * lp[i]
            hSteps += p * d.entropy[i]
        }
        #expect(klSeq > 0.01, "the two models differ")
        // exact identities (chain rule of KL and of entropy), Float32 probabilities
        #expect(abs(klSeq - klSteps) <= 1e-5 * (klSeq + 1), "KL \(klSeq) vs stepwise \(klSteps)")
        #expect(abs(hSeq - hSteps) <= 1e-5 * (hSeq + 1), "H \(hSeq) vs stepwise \(hSteps)")
        #expect(d.steps == x.map { $0.count - 1 })
    }

    @Test func checkpointDocumentHelpers() throws {
        let tok = CharTokenizer(texts: ["ab"])
        let model = microModel(seed: 55, config: GPTConfig(vocabSize: tok.count, blockSize: 6, nLayer: 1, nHead: 2, nEmbd: 8))
        let c = Checkpoint(model: model, tokenizer: tok)
        let docs = c.sampleDocuments(count: 40, seed: 3)
        // the token sequence is the sample; its text re-encodes to it unless the start token was
        // drawn inside the document (possible: the model's softmax covers every token)
        let clean = docs.filter { $0.sample.finished && !$0.sample.tokens.dropFirst().contains(tok.bos) }
        #expect(clean.count >= 5 && clean.count < docs.count, "both kinds occur with this random micro model")
        let rescored = try c.logProbs(ofTexts: clean.map(\.text))
        for (d, r) in zip(clean, rescored) {
            #expect(try tok.encode(d.text) == d.sample.tokens)
            #expect(abs(d.sample.logProb - r) <= 1e-5 * (abs(r) + 1))
        }
        #expect(throws: TinyLMError.self) { try c.logProbs(ofTexts: ["abababab"]) }
        #expect(throws: TinyLMError.self) { try c.logProbs(ofTexts: ["abc"]) }
    }
}

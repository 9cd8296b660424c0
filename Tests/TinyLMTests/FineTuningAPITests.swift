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

    /// The logits gradient of the exact per-prefix KL against central differences of the same
    /// sum in the Double reference model, the sequences held fixed.
    @Test func prefixKLLogitGradientMatchesFiniteDifferences() {
        let config = GPTConfig(vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8)
        let policy = microModel(seed: 56, config: config), reference = microModel(seed: 57, config: config)
        let seqs: [[Int32]] = [[0, 3, 1], [0, 2, 2, 5, 4, 1], [0, 6, 1, 1, 3]]
        policy.score(seqs)
        let d = policy.prefixDivergence(against: reference, sequences: seqs)
        #expect(d.kl.map(\.count) == seqs.map { $0.count - 1 })
        #expect(zip(d.referenceLogProbs, reference.logProbs(of: seqs)).allSatisfy { abs($0 - $1) <= 1e-9 })
        policy.zeroGradients()
        policy.backward(dLogProbs: [Float](repeating: 0, count: 3 * 5), dLogits: d.dLogits)
        let analytic = policy.gradients.array
        let q = ReferenceGPT(config: config, theta: reference.parameters.array.map(Double.init))
        let softmax = { (row: [Double]) -> [Double] in
            let m = row.max()!, e = row.map { exp($0 - m) }, z = e.reduce(0, +)
            return e.map { $0 / z }
        }
        let qRows = seqs.map { q.logits(Array($0.dropLast())).map(softmax) }
        var ref = ReferenceGPT(config: config, theta: policy.parameters.array.map(Double.init))
        let objective = { (theta: [Double]) -> Double in
            ref.theta = theta
            var total = 0.0
            for (i, seq) in seqs.enumerated() {
                for (t, row) in ref.logits(Array(seq.dropLast())).enumerated() {
                    let p = softmax(row)
                    for v in p.indices { total += p[v] * (log(p[v]) - log(qRows[i][t][v])) }
                }
            }
            return total
        }
        // the reference model's sum agrees with the per-prefix values before any perturbation
        let sum = d.kl.joined().reduce(0, +)
        #expect(abs(objective(ref.theta) - sum) <= 1e-5 * (sum + 1), "KL sum \(sum) vs reference")
        let rng = RandomGeneratorForTests(seed: 58)
        var worst = 0.0
        let scale = (analytic.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(analytic.count)).squareRoot()
        #expect(scale > 0)
        for _ in 0..<60 {
            let i = rng.int(below: analytic.count)
            let fd = finiteDifference(objective, at: ref.theta, coordinate: i)
            worst = max(worst, abs(Double(analytic[i]) - fd) / (abs(fd) + scale))
        }
        // Float32 through the whole model, as in ModelGradientTests
        #expect(worst <= 1e-3, "worst relative error \(worst)")
    }

    /// On the tiny model's every path, the expectation of the per-prefix estimator of
    /// ∇KL(π_θ ‖ π_ref), Σ_t ∇kl_t + Σ_t ∇log p_θ(x_t+1|x_≤t) Σ_{s>t} kl_s, equals the
    /// sequence-level gradient Σ_x π_θ(x) log(π_θ(x)/π_ref(x)) ∇log π_θ(x), an independent
    /// computation; each term alone is not the gradient.
    @Test func prefixKLEstimatorIsUnbiasedOnEveryPath() {
        let policy = microModel(seed: 59, config: tiny), reference = microModel(seed: 60, config: tiny)
        let x = leaves
        let lp = policy.logProbs(of: x), lq = reference.logProbs(of: x)
        let weight = lp.map { exp($0) }
        #expect(abs(weight.reduce(0, +) - 1) <= 1e-5, "the leaves are every path")
        func gradient(direct: Bool, toGo: Bool) -> [Double] {
            policy.zeroGradients()
            policy.score(x)
            let d = policy.prefixDivergence(against: reference, sequences: x)
            let T = x.map { $0.count - 1 }.max()!, V = tiny.vocabSize
            var dLogProbs = [Float](repeating: 0, count: x.count * T)
            var dLogits = [Float](repeating: 0, count: x.count * T * V)
            for i in x.indices {
                var rest = 0.0
                for t in stride(from: d.kl[i].count - 1, through: 0, by: -1) {
                    if toGo { dLogProbs[i * T + t] = Float(weight[i] * rest) }
                    rest += d.kl[i][t]
                    if direct {
                        for v in 0..<V { dLogits[(i * T + t) * V + v] = Float(weight[i]) * d.dLogits[(i * T + t) * V + v] }
                    }
                }
            }
            policy.backward(dLogProbs: dLogProbs, dLogits: dLogits)
            return policy.gradients.array.map(Double.init)
        }
        let estimator = gradient(direct: true, toGo: true)
        policy.zeroGradients()
        policy.score(x)
        policy.backward(sequenceWeights: x.indices.map { weight[$0] * (lp[$0] - lq[$0]) })
        let exact = policy.gradients.array.map(Double.init)
        let scale = (exact.reduce(0) { $0 + $1 * $1 } / Double(exact.count)).squareRoot()
        #expect(scale > 1e-4, "the models differ enough for a gradient")
        let error = { (g: [Double]) in zip(g, exact).map { abs($0 - $1) }.max()! / scale }
        // Float32 passes over every path: 1e-3 of the gradient's scale
        #expect(error(estimator) <= 1e-3, "estimator vs sequence gradient: \(error(estimator))")
        // counterexamples: either term alone misses by far more than that
        #expect(error(gradient(direct: true, toGo: false)) > 0.05)
        #expect(error(gradient(direct: false, toGo: true)) > 0.05)
    }

    /// A reference scored by the caller is reused as it is: the same numbers as scoring it again.
    @Test func prefixKLReusesAScoredReference() {
        let policy = microModel(seed: 61, config: tiny), reference = microModel(seed: 62, config: tiny)
        let x = leaves
        policy.score(x)
        let fresh = policy.prefixDivergence(against: reference, sequences: x)
        let scored = reference.score(x)
        let reused = policy.prefixDivergence(against: reference, sequences: x, scoredReference: scored)
        #expect(fresh.kl == reused.kl && fresh.dLogits == reused.dLogits)
        #expect(fresh.referenceLogProbs == reused.referenceLogProbs && fresh.kl.joined().contains { $0 > 1e-3 })
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

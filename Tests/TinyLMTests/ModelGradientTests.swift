import Foundation
import Testing
@testable import TinyLM

/// The whole Float model against the independent Double reference: forward log-probabilities,
/// and the gradient of every parameter against central differences of the Double model.
@Suite("Whole model vs Double reference")
struct ModelGradientTests {
    let config = GPTConfig(vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8)
    let B = 2, T = 5
    let inputs: [Int32] = [0, 3, 5, 2, 2, 0, 6, 1, 4, 4]
    let targets: [Int32] = [3, 5, 2, 2, 1, 6, 1, 4, 4, -1]

    @Test func forwardMatchesReference() {
        let model = microModel(seed: 11, config: config)
        let lp = model.forward(inputs: inputs, targets: targets, B: B, T: T)
        let ref = ReferenceGPT(config: config, theta: model.parameters.array.map(Double.init))
        for b in 0..<B {
            let r = ref.logProbs(inputs: Array(inputs[(b * T)..<((b + 1) * T)]), targets: Array(targets[(b * T)..<((b + 1) * T)]))
            for t in 0..<T {
                // Float32 through ~2 layers of width 8: relative 1e-5 of log-probs of order 1
                #expect(abs(Double(lp[b * T + t]) - r[t]) <= 1e-5 * (abs(r[t]) + 1), "b=\(b) t=\(t): \(lp[b * T + t]) vs \(r[t])")
            }
        }
        #expect(lp[B * T - 1] == 0)
    }

    @Test func everyParameterGradientMatchesFiniteDifferences() {
        let model = microModel(seed: 12, config: config)
        let rng = RandomGeneratorForTests(seed: 13)
        let g = rng.floats(B * T)  // an arbitrary objective sum_bt g_bt logprob_bt
        model.forward(inputs: inputs, targets: targets, B: B, T: T)
        model.zeroGradients()
        model.backward(dLogProbs: g)
        let analytic = model.gradients.array
        var ref = ReferenceGPT(config: config, theta: model.parameters.array.map(Double.init))
        let objective = { (theta: [Double]) -> Double in
            ref.theta = theta
            var s = 0.0
            for b in 0..<B {
                let lp = ref.logProbs(inputs: Array(inputs[(b * T)..<((b + 1) * T)]), targets: Array(targets[(b * T)..<((b + 1) * T)]))
                for t in 0..<T { s += Double(g[b * T + t]) * lp[t] }
            }
            return s
        }
        let theta = ref.theta
        for spec in model.layout.specs {
            let fd = (spec.offset..<(spec.offset + spec.count)).map { finiteDifference(objective, at: theta, coordinate: $0) }
            let a = analytic[spec.offset..<(spec.offset + spec.count)]
            let rms = (fd.reduce(0) { $0 + $1 * $1 } / Double(fd.count)).squareRoot()
            let worst = zip(a, fd).map { abs(Double($0) - $1) / (abs($1) + rms) }.max()!
            // Float32 forward and backward through the whole model: 1e-3 relative to the tensor's scale
            #expect(worst <= 1e-3, "\(spec.name): worst relative error \(worst)")
            #expect(rms > 0 || spec.name == "transformer.wpe.weight", "\(spec.name) gets no gradient")
        }
    }
}

import Foundation
@testable import TinyLM

/// An independent, plain Double implementation of nanoGPT's GPT forward pass: loops only, no
/// BLAS, no saved activations. It reads parameters by their nanoGPT names, so it also checks
/// the parameter layout. Used as the reference for the Float kernels and for finite differences.
struct ReferenceGPT {
    let config: GPTConfig
    let layout: ParameterLayout
    var theta: [Double]

    init(config: GPTConfig, theta: [Double]) {
        self.config = config
        layout = ParameterLayout(config)
        self.theta = theta
    }

    func tensor(_ name: String) -> ArraySlice<Double> {
        let s = layout.spec(named: name)!
        return theta[s.offset..<(s.offset + s.count)]
    }

    /// Row-major (rows, cols) weight W applied as x W^T + b.
    static func linear(_ x: [Double], _ w: ArraySlice<Double>, _ b: ArraySlice<Double>?, inDim: Int, outDim: Int) -> [Double] {
        (0..<outDim).map { o in
            var s = b.map { $0[$0.startIndex + o] } ?? 0
            for i in 0..<inDim { s += w[w.startIndex + o * inDim + i] * x[i] }
            return s
        }
    }

    static func layerNorm(_ x: [Double], _ w: ArraySlice<Double>, _ b: ArraySlice<Double>) -> [Double] {
        let n = Double(x.count)
        let m = x.reduce(0, +) / n
        let v = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / n
        let r = 1 / (v + 1e-5).squareRoot()
        return x.indices.map { (x[$0] - m) * r * w[w.startIndex + $0] + b[b.startIndex + $0] }
    }

    static func gelu(_ x: Double) -> Double { 0.5 * x * (1 + erf(x / 2.0.squareRoot())) }

    /// Logits (T,V) of one sequence of T input tokens.
    func logits(_ tokens: [Int32]) -> [[Double]] {
        let C = config.nEmbd, NH = config.nHead, HS = C / NH, T = tokens.count
        let wte = tensor("transformer.wte.weight"), wpe = tensor("transformer.wpe.weight")
        var x: [[Double]] = (0..<T).map { t in
            (0..<C).map { wte[wte.startIndex + Int(tokens[t]) * C + $0] + wpe[wpe.startIndex + t * C + $0] }
        }
        for l in 0..<config.nLayer {
            let p = { (n: String) in self.tensor("transformer.h.\(l).\(n)") }
            let qkv = x.map { Self.linear(Self.layerNorm($0, p("ln_1.weight"), p("ln_1.bias")), p("attn.c_attn.weight"), p("attn.c_attn.bias"), inDim: C, outDim: 3 * C) }
            var y = [[Double]](repeating: [Double](repeating: 0, count: C), count: T)
            for h in 0..<NH {
                for t in 0..<T {
                    var scores = (0...t).map { s in
                        (0..<HS).reduce(0.0) { $0 + qkv[t][h * HS + $1] * qkv[s][C + h * HS + $1] } / Double(HS).squareRoot()
                    }
                    let mx = scores.max()!
                    scores = scores.map { exp($0 - mx) }
                    let z = scores.reduce(0, +)
                    for s in 0...t {
                        for i in 0..<HS { y[t][h * HS + i] += scores[s] / z * qkv[s][2 * C + h * HS + i] }
                    }
                }
            }
            for t in 0..<T {
                let a = Self.linear(y[t], p("attn.c_proj.weight"), p("attn.c_proj.bias"), inDim: C, outDim: C)
                for i in 0..<C { x[t][i] += a[i] }
                let hdn = Self.linear(Self.layerNorm(x[t], p("ln_2.weight"), p("ln_2.bias")), p("mlp.c_fc.weight"), p("mlp.c_fc.bias"), inDim: C, outDim: 4 * C).map(Self.gelu)
                let m = Self.linear(hdn, p("mlp.c_proj.weight"), p("mlp.c_proj.bias"), inDim: 4 * C, outDim: C)
                for i in 0..<C { x[t][i] += m[i] }
            }
        }
        return x.map { Self.linear(Self.layerNorm($0, tensor("transformer.ln_f.weight"), tensor("transformer.ln_f.bias")), wte, nil, inDim: C, outDim: config.vocabSize) }
    }

    /// log p(targets[t] | inputs[0...t]) for each t (0 where target < 0).
    func logProbs(inputs: [Int32], targets: [Int32]) -> [Double] {
        let lg = logits(inputs)
        return zip(lg, targets).map { row, y in
            guard y >= 0 else { return 0 }
            let mx = row.max()!
            let lse = mx + log(row.reduce(0) { $0 + exp($1 - mx) })
            return row[Int(y)] - lse
        }
    }
}

/// A micro model with parameters drawn large enough that gradients are not tiny.
func microModel(seed: UInt64, config: GPTConfig = GPTConfig(vocabSize: 7, blockSize: 6, nLayer: 2, nHead: 2, nEmbd: 8)) -> GPT {
    let model = GPT(config: config, seed: seed)
    let rng = RandomGeneratorForTests(seed: seed &+ 1)
    for spec in model.layout.specs {
        let p = model.parameters.pointer + spec.offset
        let isLNWeight = spec.name.contains(".ln_") && spec.name.hasSuffix(".weight")
        for i in 0..<spec.count { p[i] = Float((isLNWeight ? 1 : 0) + rng.gaussian(0.3)) }
    }
    return model
}

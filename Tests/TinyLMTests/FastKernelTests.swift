import Foundation
import Testing
@testable import TinyLM

/// The faster kernel variants (SIMD) against the reference kernels and Double.
@Suite("Fast kernel variants")
struct FastKernelTests {
    let rng = RandomGeneratorForTests(seed: 41)

    @Test func fastExpAndErfAccuracy() {
        var worstExp = 0.0, worstErf = 0.0
        for i in 0..<2000 {
            let base = -80 + 160 * Double(i) / 2000
            let xs = SIMD8<Float>((0..<8).map { Float(base + 0.01 * Double($0)) })
            let e = FastMath.exp(xs)
            let z = SIMD8<Float>((0..<8).map { Float(-6 + 12 * Double(i) / 2000 + 0.0007 * Double($0)) })
            let erfs = FastMath.erf(z, expMinusSquare: FastMath.exp(-z * z))
            for l in 0..<8 {
                let x = Double(xs[l])
                worstExp = max(worstExp, abs(Double(e[l]) - Foundation.exp(x)) / Foundation.exp(x))
                worstErf = max(worstErf, abs(Double(erfs[l]) - Foundation.erf(Double(z[l]))))
            }
        }
        #expect(worstExp <= 3e-7, "exp relative error \(worstExp)")
        // A&S 7.1.26 is within 1.5e-7; Float rounding of ~6 operations near 1 adds up to ~3.6e-7
        #expect(worstErf <= 5e-7, "erf absolute error \(worstErf)")
        #expect(FastMath.exp(SIMD8(repeating: -1000))[0] >= 0, "very negative input is clamped, not garbage")
    }

    /// GELU SIMD variants (N = 43: five SIMD blocks and a scalar tail) against the Double formula
    /// and its derivative. Tolerance: the erf approximation's 5e-7 times |x| / 2, plus Float rounding.
    @Test func geluSIMD() {
        let N = 43
        let x = rng.floats(N, sigma: 3), dout = rng.floats(N)
        var out = [Float](repeating: 0, count: N), dx = [Float](repeating: 0.5, count: N)
        Kernels.geluForwardSIMD(out: &out, inp: x, N: N)
        Kernels.geluBackwardSIMD(dinp: &dx, inp: x, dout: dout, N: N)
        for i in 0..<N {
            let xd = Double(x[i])
            #expect(abs(Double(out[i]) - ReferenceGPT.gelu(xd)) <= 5e-7 * (abs(xd) + 1))
            let h = 1e-6
            let fd = (ReferenceGPT.gelu(xd + h) - ReferenceGPT.gelu(xd - h)) / (2 * h)
            // dinp accumulates onto the initial 0.5
            #expect(abs(Double(dx[i]) - 0.5 - fd * Double(dout[i])) <= 1e-6 * (abs(xd) + 1) * (abs(Double(dout[i])) + 1))
        }
    }

    @Test func layerNormSIMDMatchesReference() {
        let N = 5, C = 16
        let x = rng.floats(N * C, sigma: 2), w = rng.floats(C), b = rng.floats(C), dout = rng.floats(N * C)
        var o1 = [Float](repeating: 0, count: N * C), o2 = o1
        var m1 = [Float](repeating: 0, count: N), m2 = m1, r1 = m1, r2 = m1
        Kernels.layerNormForward(out: &o1, mean: &m1, rstd: &r1, inp: x, weight: w, bias: b, N: N, C: C)
        Kernels.layerNormForwardSIMD(out: &o2, mean: &m2, rstd: &r2, inp: x, weight: w, bias: b, N: N, C: C)
        #expect(zip(o1, o2).allSatisfy { abs($0 - $1) <= 1e-5 * (abs($0) + 1) })
        var d1 = [Float](repeating: 0, count: N * C), d2 = d1, dw1 = [Float](repeating: 0, count: C), dw2 = dw1, db1 = dw1, db2 = dw1
        Kernels.layerNormBackward(dinp: &d1, dweight: &dw1, dbias: &db1, dout: dout, inp: x, weight: w, mean: m1, rstd: r1, N: N, C: C)
        Kernels.layerNormBackwardSIMD(dinp: &d2, dweight: &dw2, dbias: &db2, dout: dout, inp: x, weight: w, mean: m2, rstd: r2, N: N, C: C)
        for (a, b) in [(d1, d2), (dw1, dw2), (db1, db2)] {
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * (abs($0) + 1) })
        }
    }

    /// The KV cache's one-query attention against the formula in Double, for head sizes that take
    /// the 32-wide path (32, 40 = 32 + 8), the 8-wide path (16) and the scalar one (12), and
    /// counts that leave every remainder of the four-key blocks (1...13). Tolerance: Float
    /// rounding of sums of at most 40 products plus the fast exp's 3e-7.
    @Test func oneQueryAttentionMatchesDouble() {
        for HS in [32, 40, 16, 12] {
            for count in 1...13 {
                let q = rng.floats(HS), k = rng.floats(count * HS), v = rng.floats(count * HS)
                let scale = 1 / Float(HS).squareRoot()
                var out = [Float](repeating: .nan, count: HS), scores = [Float](repeating: .nan, count: count)
                Kernels.attendOneQuery(out: &out, scores: &scores, query: q, keys: k, values: v, count: count, HS: HS, scale: scale)
                let logits = (0..<count).map { s in (0..<HS).reduce(0.0) { $0 + Double(q[$1]) * Double(k[s * HS + $1]) } * Double(scale) }
                let m = logits.max()!
                let z = logits.reduce(0.0) { $0 + Foundation.exp($1 - m) }
                let p = logits.map { Foundation.exp($0 - m) / z }
                for s in 0..<count { #expect(abs(Double(scores[s]) - p[s]) <= 1e-6, "HS \(HS) count \(count) score \(s)") }
                for i in 0..<HS {
                    let y = (0..<count).reduce(0.0) { $0 + p[$1] * Double(v[$1 * HS + i]) }
                    #expect(abs(Double(out[i]) - y) <= 1e-5 * (abs(y) + 1), "HS \(HS) count \(count) out \(i)")
                }
            }
        }
    }

    /// Softmax and its backward pass along rows of every length 1...20 (SIMD blocks and scalar
    /// tails) against Double: d_s = a_s (g_s - sum_u a_u g_u).
    @Test func softmaxRowsMatchDouble() {
        for n in 1...20 {
            let x = rng.floats(n, sigma: 3), g = rng.floats(n)
            var row = x
            Kernels.softmaxRowSIMD(&row, count: n)
            let m = x.map(Double.init).max()!
            let z = x.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
            let p = x.map { Foundation.exp(Double($0) - m) / z }
            #expect(zip(row, p).allSatisfy { abs(Double($0) - $1) <= 1e-6 }, "softmax of \(n)")
            var d = g
            Kernels.softmaxBackwardRowSIMD(&d, probs: row, count: n)
            let dot = (0..<n).reduce(0.0) { $0 + p[$1] * Double(g[$1]) }
            for s in 0..<n { #expect(abs(Double(d[s]) - p[s] * (Double(g[s]) - dot)) <= 1e-6, "backward of \(n) at \(s)") }
        }
    }

    /// The decoding step's matrix product on transposed weights against sgemm's, for row counts
    /// that use the 4-row blocks and the single-row remainder (1...9), channel counts with and
    /// without 16-wide blocks and a scalar tail (7, 16, 40), with and without a bias. Tolerance:
    /// two Float orderings of sums of C = 13 products of order 1.
    @Test func transposedMatmulMatchesSgemm() {
        let C = 13
        for OC in [7, 16, 40] {
            for N in 1...9 {
                let x = rng.floats(N * C), w = rng.floats(OC * C), bias = rng.floats(OC)
                var wt = [Float](repeating: .nan, count: C * OC)
                Kernels.transposeWeight(&wt, w, C: C, OC: OC)
                for o in 0..<OC { for c in 0..<C { #expect(wt[c * OC + o] == w[o * C + c]) } }
                for useBias in [true, false] {
                    var a = [Float](repeating: .nan, count: N * OC), b = a
                    bias.withUnsafeBufferPointer { bp in
                        let bb = useBias ? bp.baseAddress : nil
                        Kernels.matmulForward(out: &a, inp: x, weight: w, bias: bb, N: N, C: C, OC: OC)
                        Kernels.matmulForwardTransposed(out: &b, inp: x, wt: wt, bias: bb, N: N, C: C, OC: OC)
                    }
                    #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * (abs($0) + 1) }, "N \(N) OC \(OC) bias \(useBias)")
                }
            }
        }
    }
}

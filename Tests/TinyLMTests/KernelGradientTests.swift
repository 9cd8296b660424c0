import Foundation
import Testing
@testable import TinyLM

/// Each backward kernel against central finite differences of a plain Double reference of its
/// forward kernel: with L(x) = sum dout * f(x), the kernel's dinp must equal dL/dx.
///
/// Tolerance: |analytic - fd| <= 1e-4 (|fd| + rms(fd)). The Float kernel rounds each of at most
/// ~100 accumulated terms at 6e-8; the Double central difference (h = 1e-5) is exact to ~1e-9.
@Suite("Backward kernels vs finite differences of Double references")
struct KernelGradientTests {
    let rng = RandomGeneratorForTests(seed: 7)

    func expectClose(_ analytic: [Float], _ fd: [Double], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(analytic.count == fd.count, sourceLocation: sourceLocation)
        let rms = (fd.reduce(0) { $0 + $1 * $1 } / Double(max(fd.count, 1))).squareRoot()
        let worst = zip(analytic, fd).map { abs(Double($0) - $1) / (abs($1) + rms) }.max() ?? 0
        #expect(rms > 0, "\(what): the reference gradient is identically zero", sourceLocation: sourceLocation)
        #expect(worst <= 1e-4, "\(what): worst relative error \(worst)", sourceLocation: sourceLocation)
    }

    func fdGradient(_ x: [Double], _ loss: ([Double]) -> Double) -> [Double] {
        x.indices.map { finiteDifference(loss, at: x, coordinate: $0) }
    }

    @Test func layerNorm() {
        let N = 3, C = 8
        let x = rng.floats(N * C, sigma: 2), w = rng.floats(C), b = rng.floats(C), dout = rng.floats(N * C)
        var out = [Float](repeating: 0, count: N * C), mean = [Float](repeating: 0, count: N), rstd = mean
        Kernels.layerNormForward(out: &out, mean: &mean, rstd: &rstd, inp: x, weight: w, bias: b, N: N, C: C)
        var dx = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: C), db = dw
        Kernels.layerNormBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: dout, inp: x, weight: w, mean: mean, rstd: rstd, N: N, C: C)
        let d = dout.map(Double.init)
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            (0..<N).reduce(0.0) { acc, n in
                let y = ReferenceGPT.layerNorm(Array(x[(n * C)..<((n + 1) * C)]), w[...], b[...])
                return acc + (0..<C).reduce(0.0) { $0 + y[$1] * d[n * C + $1] }
            }
        }
        let xd = x.map(Double.init), wd = w.map(Double.init), bd = b.map(Double.init)
        let ref = loss(xd, wd, bd)
        let fwd = zip(out, d).reduce(0.0) { $0 + Double($1.0) * $1.1 }
        #expect(abs(fwd - ref) <= 1e-5 * (abs(ref) + 1), "forward \(fwd) vs Double \(ref)")
        expectClose(dx, fdGradient(xd) { loss($0, wd, bd) }, "dinp")
        expectClose(dw, fdGradient(wd) { loss(xd, $0, bd) }, "dweight")
        expectClose(db, fdGradient(bd) { loss(xd, wd, $0) }, "dbias")
    }

    @Test func matmul() {
        let N = 4, C = 6, OC = 5
        let x = rng.floats(N * C), w = rng.floats(OC * C), b = rng.floats(OC), dout = rng.floats(N * OC)
        var out = [Float](repeating: 0, count: N * OC)
        Kernels.matmulForward(out: &out, inp: x, weight: w, bias: b, N: N, C: C, OC: OC)
        var dx = [Float](repeating: 0, count: N * C), dw = [Float](repeating: 0, count: OC * C), db = [Float](repeating: 0, count: OC)
        Kernels.matmulBackward(dinp: &dx, dweight: &dw, dbias: &db, dout: dout, inp: x, weight: w, N: N, C: C, OC: OC)
        let d = dout.map(Double.init)
        func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
            (0..<N).reduce(0.0) { acc, n in
                let y = ReferenceGPT.linear(Array(x[(n * C)..<((n + 1) * C)]), w[...], b[...], inDim: C, outDim: OC)
                return acc + (0..<OC).reduce(0.0) { $0 + y[$1] * d[n * OC + $1] }
            }
        }
        let xd = x.map(Double.init), wd = w.map(Double.init), bd = b.map(Double.init)
        #expect(abs(zip(out, d).reduce(0.0) { $0 + Double($1.0) * $1.1 } - loss(xd, wd, bd)) <= 1e-4)
        expectClose(dx, fdGradient(xd) { loss($0, wd, bd) }, "dinp")
        expectClose(dw, fdGradient(wd) { loss(xd, $0, bd) }, "dweight")
        expectClose(db, fdGradient(bd) { loss(xd, wd, $0) }, "dbias")
    }

    @Test func gelu() {
        let N = 40
        let x = rng.floats(N, sigma: 2), dout = rng.floats(N)
        var out = [Float](repeating: 0, count: N), dx = out
        Kernels.geluForward(out: &out, inp: x, N: N)
        Kernels.geluBackward(dinp: &dx, inp: x, dout: dout, N: N)
        let d = dout.map(Double.init)
        let loss = { (x: [Double]) in x.indices.reduce(0.0) { $0 + ReferenceGPT.gelu(x[$1]) * d[$1] } }
        let xd = x.map(Double.init)
        #expect(abs(zip(out, d).reduce(0.0) { $0 + Double($1.0) * $1.1 } - loss(xd)) <= 1e-5)
        expectClose(dx, fdGradient(xd, loss), "dinp")
    }

    @Test func residualAndEncoder() {
        let B = 2, T = 3, C = 4, V = 5
        let tokens: [Int32] = [1, 4, 1, 0, 2, 4]
        let wte = rng.floats(V * C), wpe = rng.floats(T * C), dout = rng.floats(B * T * C)
        var dwte = [Float](repeating: 0, count: V * C), dwpe = [Float](repeating: 0, count: T * C)
        Kernels.encoderBackward(dwte: &dwte, dwpe: &dwpe, dout: dout, tokens: tokens, B: B, T: T, C: C)
        let d = dout.map(Double.init)
        func loss(_ wte: [Double], _ wpe: [Double]) -> Double {
            var s = 0.0
            for b in 0..<B { for t in 0..<T { for i in 0..<C {
                s += (wte[Int(tokens[b * T + t]) * C + i] + wpe[t * C + i]) * d[(b * T + t) * C + i]
            } } }
            return s
        }
        let we = wte.map(Double.init), wp = wpe.map(Double.init)
        expectClose(dwte, fdGradient(we) { loss($0, wp) }, "dwte")
        expectClose(dwpe, fdGradient(wp) { loss(we, $0) }, "dwpe")
        var d1 = [Float](repeating: 0, count: 6), d2 = d1
        Kernels.residualBackward(dinp1: &d1, dinp2: &d2, dout: Array(dout[0..<6]), N: 6)
        #expect(d1 == Array(dout[0..<6]) && d2 == d1)
    }

    @Test func attention() {
        let B = 2, T = 5, C = 8, NH = 2, HS = C / NH
        let x = rng.floats(B * T * 3 * C), dout = rng.floats(B * T * C)
        var out = [Float](repeating: 0, count: B * T * C), att = [Float](repeating: 0, count: B * NH * T * T)
        Kernels.attentionForward(out: &out, att: &att, inp: x, B: B, T: T, C: C, NH: NH)
        var dx = [Float](repeating: 0, count: B * T * 3 * C)
        Kernels.attentionBackward(dinp: &dx, dout: dout, inp: x, att: att, B: B, T: T, C: C, NH: NH)
        let d = dout.map(Double.init)
        func loss(_ x: [Double]) -> Double {
            var s = 0.0
            for b in 0..<B { for h in 0..<NH { for t in 0..<T {
                let q = { (i: Int) in x[(b * T + t) * 3 * C + h * HS + i] }
                var w = (0...t).map { u in (0..<HS).reduce(0.0) { $0 + q($1) * x[(b * T + u) * 3 * C + C + h * HS + $1] } / Double(HS).squareRoot() }
                let mx = w.max()!
                w = w.map { exp($0 - mx) }
                let z = w.reduce(0, +)
                for i in 0..<HS {
                    let y = (0...t).reduce(0.0) { $0 + w[$1] / z * x[(b * T + $1) * 3 * C + 2 * C + h * HS + i] }
                    s += y * d[(b * T + t) * C + h * HS + i]
                }
            } } }
            return s
        }
        let xd = x.map(Double.init)
        #expect(abs(zip(out, d).reduce(0.0) { $0 + Double($1.0) * $1.1 } - loss(xd)) <= 1e-4)
        // causal: no probability on future keys, each row sums to 1
        for row in 0..<(B * NH * T) {
            let t = row % T
            let r = att[(row * T)..<((row + 1) * T)]
            #expect(abs(r.reduce(0, +) - 1) < 1e-5)
            #expect(r.dropFirst(t + 1).allSatisfy { $0 == 0 })
        }
        expectClose(dx, fdGradient(xd, loss), "dinp")
    }

    @Test func logProb() {
        let N = 4, V = 6
        let logits = rng.floats(N * V, sigma: 2), g = rng.floats(N)
        let targets: [Int32] = [3, -1, 0, 5]
        var probs = [Float](repeating: 0, count: N * V), lp = [Float](repeating: 0, count: N)
        Kernels.logProbForward(probs: &probs, logprobs: &lp, logits: logits, targets: targets, N: N, V: V)
        var dl = [Float](repeating: 0, count: N * V)
        Kernels.logProbBackward(dlogits: &dl, dlogprobs: g, probs: probs, targets: targets, N: N, V: V)
        func loss(_ l: [Double]) -> Double {
            (0..<N).reduce(0.0) { acc, n in
                guard targets[n] >= 0 else { return acc }
                let row = l[(n * V)..<((n + 1) * V)]
                let mx = row.max()!
                return acc + Double(g[n]) * (row[n * V + Int(targets[n])] - mx - log(row.reduce(0) { $0 + exp($1 - mx) }))
            }
        }
        let ld = logits.map(Double.init)
        #expect(lp[1] == 0 && dl[V..<(2 * V)].allSatisfy { $0 == 0 }, "ignored target contributes nothing")
        #expect(abs(zip(lp, g).reduce(0.0) { $0 + Double($1.0 * $1.1) } - loss(ld)) <= 1e-5)
        expectClose(dl, fdGradient(ld, loss), "dlogits")
    }
}

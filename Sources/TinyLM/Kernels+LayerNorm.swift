import Foundation

extension Kernels {
    /// LayerNorm over the last dimension, eps 1e-5 (PyTorch's default), with weight and bias:
    /// out = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps), var the biased variance.
    ///
    /// out (N,C), mean (N), rstd (N) (saved for the backward pass), inp (N,C), weight (C), bias (C),
    /// where N = B*T rows.
    static func layerNormForward(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, N: Int, C: Int
    ) {
        let eps: Float = 1e-5
        for n in 0..<N {
            let x = inp + n * C
            var m: Float = 0
            for i in 0..<C { m += x[i] }
            m /= Float(C)
            var v: Float = 0
            for i in 0..<C {
                let d = x[i] - m
                v += d * d
            }
            v /= Float(C)
            let s = 1 / (v + eps).squareRoot()
            let out_n = out + n * C
            for i in 0..<C { out_n[i] = (x[i] - m) * s * weight[i] + bias[i] }
            mean[n] = m
            rstd[n] = s
        }
    }

    /// Differentiates LayerNorm. With norm = (x - mean) rstd and dnorm = weight * dout:
    /// dweight += norm * dout, dbias += dout, and, since mean and rstd depend on every x_i,
    /// dinp += rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)).
    ///
    /// dinp (N,C), dweight (C), dbias (C), dout (N,C), inp (N,C), weight (C), mean (N), rstd (N).
    static func layerNormBackward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
    ) {
        for n in 0..<N {
            let dout_n = dout + n * C
            let inp_n = inp + n * C
            let dinp_n = dinp + n * C
            let m = mean[n]
            let s = rstd[n]
            // two reductions: mean(dnorm) and mean(dnorm * norm)
            var dnormMean: Float = 0
            var dnormNormMean: Float = 0
            for i in 0..<C {
                let norm = (inp_n[i] - m) * s
                let dnorm = weight[i] * dout_n[i]
                dnormMean += dnorm
                dnormNormMean += dnorm * norm
            }
            dnormMean /= Float(C)
            dnormNormMean /= Float(C)
            for i in 0..<C {
                let norm = (inp_n[i] - m) * s
                let dnorm = weight[i] * dout_n[i]
                dbias[i] += dout_n[i]
                dweight[i] += norm * dout_n[i]
                dinp_n[i] += (dnorm - dnormMean - norm * dnormNormMean) * s
            }
        }
    }
}

// The faster variant of the kernels above: the same formulas, eight lanes at a time
// (SIMD8<Float>), with several partial sums in the reductions so that they do not wait on one
// accumulator; a scalar loop finishes each row. The passes run this variant.
extension Kernels {
    /// `layerNormForward` with vectorised reductions (C a multiple of 8, else the reference).
    static func layerNormForwardSIMD(
        out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, N: Int, C: Int
    ) {
        guard C % 8 == 0 else {
            return layerNormForward(out: out, mean: mean, rstd: rstd, inp: inp, weight: weight, bias: bias, N: N, C: C)
        }
        for n in 0..<N {
            let x = inp + n * C
            var s = SIMD8<Float>()
            for i in stride(from: 0, to: C, by: 8) { s += FastMath.load(x + i) }
            let m = s.sum() / Float(C)
            var v = SIMD8<Float>()
            for i in stride(from: 0, to: C, by: 8) {
                let d = FastMath.load(x + i) - m
                v += d * d
            }
            let r = 1 / (v.sum() / Float(C) + 1e-5).squareRoot()
            let o = out + n * C
            for i in stride(from: 0, to: C, by: 8) {
                FastMath.store((FastMath.load(x + i) - m) * r * FastMath.load(weight + i) + FastMath.load(bias + i), o + i)
            }
            mean[n] = m
            rstd[n] = r
        }
    }

    /// `layerNormBackward` with vectorised reductions (C a multiple of 8, else the reference).
    static func layerNormBackwardSIMD(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
    ) {
        guard C % 8 == 0 else {
            return layerNormBackward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight,
                                     mean: mean, rstd: rstd, N: N, C: C)
        }
        for n in 0..<N {
            let dout_n = dout + n * C, inp_n = inp + n * C, dinp_n = dinp + n * C
            let m = mean[n], s = rstd[n]
            var a = SIMD8<Float>(), b = SIMD8<Float>()
            for i in stride(from: 0, to: C, by: 8) {
                let norm = (FastMath.load(inp_n + i) - m) * s
                let dnorm = FastMath.load(weight + i) * FastMath.load(dout_n + i)
                a += dnorm
                b += dnorm * norm
            }
            let dnormMean = a.sum() / Float(C), dnormNormMean = b.sum() / Float(C)
            for i in stride(from: 0, to: C, by: 8) {
                let d = FastMath.load(dout_n + i)
                let norm = (FastMath.load(inp_n + i) - m) * s
                let dnorm = FastMath.load(weight + i) * d
                FastMath.store(FastMath.load(dbias + i) + d, dbias + i)
                FastMath.store(FastMath.load(dweight + i) + norm * d, dweight + i)
                FastMath.store(FastMath.load(dinp_n + i) + (dnorm - dnormMean - norm * dnormNormMean) * s, dinp_n + i)
            }
        }
    }
}

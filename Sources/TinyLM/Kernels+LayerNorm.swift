extension Kernels {
    /// LayerNorm over the last dimension, eps 1e-5 (PyTorch's default), with weight and bias:
    /// out = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps), var the biased variance.
    ///
    /// out (N,C), mean (N), rstd (N) (saved for the backward pass), inp (N,C), weight (C), bias (C),
    /// where N = B*T rows.
    public static func layerNormForward(
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
    public static func layerNormBackward(
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

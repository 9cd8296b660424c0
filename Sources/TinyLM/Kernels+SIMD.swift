import Foundation

// Faster variants of the element-wise and row kernels: the same formulas as the reference
// kernels beside them, eight lanes at a time (SIMD8<Float>), with several partial sums in the
// reductions so that they do not wait on one accumulator; a scalar loop finishes each row.
extension Kernels {
    /// `geluForward` with the vectorised erf (absolute error < 2e-7, see `FastMath`).
    public static func geluForwardSIMD(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int) {
        let invSqrt2: Float = 0.70710678118654752
        var i = 0
        while i + 8 <= N {
            let x = FastMath.load(inp + i)
            let z = x * invSqrt2
            let e = FastMath.exp(-z * z)
            FastMath.store(0.5 * x * (1 + FastMath.erf(z, expMinusSquare: e)), out + i)
            i += 8
        }
        if i < N { geluForward(out: out + i, inp: inp + i, N: N - i) }
    }

    /// `geluBackward` with the vectorised erf; Phi(x) and phi(x) share one exp(-x^2 / 2).
    public static func geluBackwardSIMD(
        dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int
    ) {
        let invSqrt2: Float = 0.70710678118654752
        let invSqrt2Pi: Float = 0.39894228040143268
        var i = 0
        while i + 8 <= N {
            let x = FastMath.load(inp + i)
            let z = x * invSqrt2
            let e = FastMath.exp(-z * z)
            let cdf = 0.5 * (1 + FastMath.erf(z, expMinusSquare: e))
            let d = FastMath.load(dinp + i) + (cdf + x * invSqrt2Pi * e) * FastMath.load(dout + i)
            FastMath.store(d, dinp + i)
            i += 8
        }
        if i < N { geluBackward(dinp: dinp + i, inp: inp + i, dout: dout + i, N: N - i) }
    }

    /// `layerNormForward` with vectorised reductions (C a multiple of 8, else the reference).
    public static func layerNormForwardSIMD(
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
    public static func layerNormBackwardSIMD(
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

    /// Softmax of row[0..<n] in place with the vectorised exp; returns nothing, the row sums to 1.
    @inline(__always)
    static func softmaxRowSIMD(_ row: UnsafeMutablePointer<Float>, count n: Int) {
        var maxval = -Float.greatestFiniteMagnitude
        for s in 0..<n where row[s] > maxval { maxval = row[s] }
        var sum = SIMD8<Float>()
        var s = 0
        while s + 8 <= n {
            let e = FastMath.exp(FastMath.load(row + s) - maxval)
            FastMath.store(e, row + s)
            sum += e
            s += 8
        }
        var total = sum.sum()
        while s < n {
            let e = expf(row[s] - maxval)
            row[s] = e
            total += e
            s += 1
        }
        let inv = 1 / total
        for s in 0..<n { row[s] *= inv }
    }
}

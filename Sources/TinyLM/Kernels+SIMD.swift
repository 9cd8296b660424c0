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
        var m8 = SIMD8<Float>(repeating: -.greatestFiniteMagnitude)
        var s = 0
        while s + 8 <= n {
            let x = FastMath.load(row + s)
            m8 = m8.replacing(with: x, where: x .> m8)
            s += 8
        }
        var maxval = m8[0]
        for l in 1..<8 where m8[l] > maxval { maxval = m8[l] }
        for u in s..<n where row[u] > maxval { maxval = row[u] }
        var sum = SIMD8<Float>()
        s = 0
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

    /// The softmax's backward pass along one row, in place: d[s] = a[s] (d[s] - sum_u a[u] d[u])
    /// for s < count, where a holds the softmax's probabilities and d arrives as d loss / d a.
    @inline(__always)
    static func softmaxBackwardRowSIMD(_ d: UnsafeMutablePointer<Float>, probs a: UnsafePointer<Float>, count n: Int) {
        var acc = SIMD8<Float>()
        var s = 0
        while s + 8 <= n {
            acc = FastMath.madd(FastMath.load(a + s), FastMath.load(d + s), acc)
            s += 8
        }
        var dot = acc.sum()
        for u in s..<n { dot += a[u] * d[u] }
        s = 0
        while s + 8 <= n {
            FastMath.store(FastMath.load(a + s) * (FastMath.load(d + s) - dot), d + s)
            s += 8
        }
        for u in s..<n { d[u] = a[u] * (d[u] - dot) }
    }

    /// Attention of one new position over `count` cached ones, for one head: scores (count) =
    /// K q * scale, softmax over them, out (HS) = V^T scores. K and V are (count, HS) row-major.
    /// The per-position products are short (HS = C / NH), too short for sgemv's call to pay; the
    /// loops keep four independent accumulators so that the multiply-adds do not wait on one
    /// another. HS a multiple of 8, else the same sums in scalar form.
    public static func attendOneQuery(
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int, HS: Int, scale: Float
    ) {
        guard HS % 8 == 0 else {
            return attendOneQueryScalar(out: out, scores: scores, query: query, keys: keys, values: values,
                                        count: count, HS: HS, scale: scale)
        }
        // scores: four keys at a time
        var s = 0
        while s + 4 <= count {
            let k0 = keys + s * HS, k1 = k0 + HS, k2 = k1 + HS, k3 = k2 + HS
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            for i in stride(from: 0, to: HS, by: 8) {
                let q = FastMath.load(query + i)
                a0 = FastMath.madd(q, FastMath.load(k0 + i), a0)
                a1 = FastMath.madd(q, FastMath.load(k1 + i), a1)
                a2 = FastMath.madd(q, FastMath.load(k2 + i), a2)
                a3 = FastMath.madd(q, FastMath.load(k3 + i), a3)
            }
            scores[s] = a0.sum() * scale
            scores[s + 1] = a1.sum() * scale
            scores[s + 2] = a2.sum() * scale
            scores[s + 3] = a3.sum() * scale
            s += 4
        }
        while s < count {
            let k = keys + s * HS
            var a = SIMD8<Float>()
            for i in stride(from: 0, to: HS, by: 8) { a = FastMath.madd(FastMath.load(query + i), FastMath.load(k + i), a) }
            scores[s] = a.sum() * scale
            s += 1
        }
        softmaxRowSIMD(scores, count: count)
        // out = sum_s scores[s] V[s]: 32 columns (four vectors) at a time, then 8
        var i = 0
        while i + 32 <= HS {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            for s in 0..<count {
                let v = values + s * HS + i, w = scores[s]
                a0 = FastMath.madd(w, FastMath.load(v), a0)
                a1 = FastMath.madd(w, FastMath.load(v + 8), a1)
                a2 = FastMath.madd(w, FastMath.load(v + 16), a2)
                a3 = FastMath.madd(w, FastMath.load(v + 24), a3)
            }
            FastMath.store(a0, out + i)
            FastMath.store(a1, out + i + 8)
            FastMath.store(a2, out + i + 16)
            FastMath.store(a3, out + i + 24)
            i += 32
        }
        while i < HS {
            var a = SIMD8<Float>()
            for s in 0..<count { a = FastMath.madd(scores[s], FastMath.load(values + s * HS + i), a) }
            FastMath.store(a, out + i)
            i += 8
        }
    }

    /// `attendOneQuery` for any HS, one element at a time.
    static func attendOneQueryScalar(
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, query: UnsafePointer<Float>,
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, count: Int, HS: Int, scale: Float
    ) {
        for s in 0..<count {
            let k = keys + s * HS
            var acc: Float = 0
            for i in 0..<HS { acc += query[i] * k[i] }
            scores[s] = acc * scale
        }
        softmaxRowSIMD(scores, count: count)
        for i in 0..<HS { out[i] = 0 }
        for s in 0..<count {
            let v = values + s * HS, a = scores[s]
            for i in 0..<HS { out[i] += a * v[i] }
        }
    }
}

import Foundation

// The matrix products of one decoding step (a few dozen rows), without sgemm.
//
// sgemm repacks its weight operand on every call; for the 32-64 rows of a sampling step that
// repacking costs about as much as the arithmetic. A sampling call keeps each weight
// transposed once (`transposeWeight`), and `matmulForwardTransposed` runs on that copy:
// blocks of 4 rows x 16 output channels held in eight SIMD8 accumulators, one broadcast
// input and two weight loads feeding eight multiply-adds per step along the input.
extension Kernels {
    /// wt (C,OC) = weight^T for weight (OC,C), in 8 x 8 tiles so that reads and writes both
    /// stay within a few cache lines.
    static func transposeWeight(_ wt: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, C: Int, OC: Int) {
        let tile = 8
        for o0 in stride(from: 0, to: OC, by: tile) {
            let o1 = min(o0 + tile, OC)
            for c0 in stride(from: 0, to: C, by: tile) {
                let c1 = min(c0 + tile, C)
                for o in o0..<o1 {
                    for c in c0..<c1 { wt[c * OC + o] = weight[o * C + c] }
                }
            }
        }
    }

    /// out (N,OC) = inp (N,C) wt (C,OC) + bias (OC, or none): `matmulForward` with the weight
    /// given transposed. Each output is the same sum over c in increasing order as the plain
    /// loop, taken with multiply-adds; so it agrees with sgemm to Float rounding, not bit for bit.
    static func matmulForwardTransposed(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, wt: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
    ) {
        let wide = OC - OC % 16
        for j in stride(from: 0, to: wide, by: 16) {
            var r = 0
            while r + 4 <= N {
                block4x16(out: out + r * OC + j, inp: inp + r * C, wt: wt + j, bias: bias.map { $0 + j }, C: C, OC: OC)
                r += 4
            }
            while r < N {
                block1x16(out: out + r * OC + j, inp: inp + r * C, wt: wt + j, bias: bias.map { $0 + j }, C: C, OC: OC)
                r += 1
            }
        }
        // the last OC % 16 channels, one at a time
        for j in wide..<OC {
            for r in 0..<N {
                var acc: Float = bias?[j] ?? 0
                for c in 0..<C { acc += inp[r * C + c] * wt[c * OC + j] }
                out[r * OC + j] = acc
            }
        }
    }

    @inline(__always)
    static func block4x16(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, wt: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, C: Int, OC: Int
    ) {
        let b0 = bias.map { FastMath.load($0) } ?? SIMD8<Float>(), b1 = bias.map { FastMath.load($0 + 8) } ?? SIMD8<Float>()
        var c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1
        let x0 = inp, x1 = inp + C, x2 = inp + 2 * C, x3 = inp + 3 * C
        var w = wt
        for c in 0..<C {
            let w0 = FastMath.load(w), w1 = FastMath.load(w + 8)
            w += OC
            let a0 = SIMD8<Float>(repeating: x0[c]), a1 = SIMD8<Float>(repeating: x1[c])
            let a2 = SIMD8<Float>(repeating: x2[c]), a3 = SIMD8<Float>(repeating: x3[c])
            c00 = FastMath.madd(a0, w0, c00); c01 = FastMath.madd(a0, w1, c01)
            c10 = FastMath.madd(a1, w0, c10); c11 = FastMath.madd(a1, w1, c11)
            c20 = FastMath.madd(a2, w0, c20); c21 = FastMath.madd(a2, w1, c21)
            c30 = FastMath.madd(a3, w0, c30); c31 = FastMath.madd(a3, w1, c31)
        }
        FastMath.store(c00, out); FastMath.store(c01, out + 8)
        FastMath.store(c10, out + OC); FastMath.store(c11, out + OC + 8)
        FastMath.store(c20, out + 2 * OC); FastMath.store(c21, out + 2 * OC + 8)
        FastMath.store(c30, out + 3 * OC); FastMath.store(c31, out + 3 * OC + 8)
    }

    @inline(__always)
    static func block1x16(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, wt: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, C: Int, OC: Int
    ) {
        var c0 = bias.map { FastMath.load($0) } ?? SIMD8<Float>(), c1 = bias.map { FastMath.load($0 + 8) } ?? SIMD8<Float>()
        var w = wt
        for c in 0..<C {
            defer { w += OC }
            let a = SIMD8<Float>(repeating: inp[c])
            c0 = FastMath.madd(a, FastMath.load(w), c0)
            c1 = FastMath.madd(a, FastMath.load(w + 8), c1)
        }
        FastMath.store(c0, out)
        FastMath.store(c1, out + 8)
    }
}

// One query attending over the KV cache, for a decoding step.
extension Kernels {
    /// Attention of one new position over `count` cached ones, for one head: scores (count) =
    /// K q * scale, softmax over them, out (HS) = V^T scores. K and V are (count, HS) row-major.
    /// The per-position products are short (HS = C / NH), too short for sgemv's call to pay; the
    /// loops keep four independent accumulators so that the multiply-adds do not wait on one
    /// another. HS a multiple of 8, else the same sums in scalar form.
    static func attendOneQuery(
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

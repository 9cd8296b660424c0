import Foundation
import GSL

extension Kernels {
    /// Causal multi-head self-attention on a fused qkv tensor, two sgemms a (batch, head):
    /// preatt = Q K^T / sqrt(HS) (T,T); att = softmax over keys s <= t (entries s > t are 0);
    /// out = att V (T,HS), written into the head's columns of out.
    ///
    /// out (B,T,C), att (B,NH,T,T) (the probabilities, saved for the backward pass),
    /// inp (B,T,3C) holding q, k, v side by side, each split into NH heads of HS = C/NH.
    static func attentionForward(
        out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>,
        inp: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int
    ) {
        let HS = C / NH
        let C3 = 3 * C
        let scale = 1 / Float(HS).squareRoot()
        for b in 0..<B {
            for h in 0..<NH {
                let q = inp + b * T * C3 + h * HS
                let k = q + C
                let v = q + 2 * C
                let att_bh = att + (b * NH + h) * T * T
                BLAS.sgemm(transA: false, transB: true, m: T, n: T, k: HS,
                           alpha: scale, a: q, lda: C3, b: k, ldb: C3, beta: 0, c: att_bh, ldc: T)
                for t in 0..<T {
                    causalSoftmaxRow(att_bh + t * T, t: t, T: T)
                }
                BLAS.sgemm(transA: false, transB: false, m: T, n: HS, k: T,
                           alpha: 1, a: att_bh, lda: T, b: v, ldb: C3, beta: 0, c: out + b * T * C + h * HS, ldc: C)
            }
        }
    }

    /// Softmax of row[0...t] in place (max subtracted, `softmaxRowSIMD`), row[t+1..<T] set to 0.
    @inline(__always)
    static func causalSoftmaxRow(_ row: UnsafeMutablePointer<Float>, t: Int, T: Int) {
        softmaxRowSIMD(row, count: t + 1)
        if t + 1 < T { (row + t + 1).update(repeating: 0, count: T - t - 1) }
    }

    /// Differentiates attention. From out = att V: datt = dout V^T, dV += att^T dout.
    /// From att = softmax(preatt) along each row: dpreatt = att * (datt - sum_s att_s datt_s)
    /// (zero above the diagonal since att is). From preatt = scale Q K^T:
    /// dQ += scale dpreatt K, dK += scale dpreatt^T Q.
    ///
    /// dinp (B,T,3C), dout (B,T,C), inp (B,T,3C), att (B,NH,T,T).
    static func attentionBackward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
        inp: UnsafePointer<Float>, att: UnsafePointer<Float>, B: Int, T: Int, C: Int, NH: Int
    ) {
        let HS = C / NH
        let C3 = 3 * C
        let scale = 1 / Float(HS).squareRoot()
        let datt = UnsafeMutablePointer<Float>.allocate(capacity: T * T)
        defer { datt.deallocate() }
        for b in 0..<B {
            for h in 0..<NH {
                let q = inp + b * T * C3 + h * HS
                let k = q + C
                let v = q + 2 * C
                let dq = dinp + b * T * C3 + h * HS
                let dk = dq + C
                let dv = dq + 2 * C
                let att_bh = att + (b * NH + h) * T * T
                let dout_bh = dout + b * T * C + h * HS
                BLAS.sgemm(transA: false, transB: true, m: T, n: T, k: HS,
                           alpha: 1, a: dout_bh, lda: C, b: v, ldb: C3, beta: 0, c: datt, ldc: T)
                BLAS.sgemm(transA: true, transB: false, m: T, n: HS, k: T,
                           alpha: 1, a: att_bh, lda: T, b: dout_bh, ldb: C, beta: 1, c: dv, ldc: C3)
                // softmax backward in place: datt becomes dpreatt
                for t in 0..<T {
                    softmaxBackwardRowSIMD(datt + t * T, probs: att_bh + t * T, count: t + 1)
                    if t + 1 < T { (datt + t * T + t + 1).update(repeating: 0, count: T - t - 1) }
                }
                BLAS.sgemm(transA: false, transB: false, m: T, n: HS, k: T,
                           alpha: scale, a: datt, lda: T, b: k, ldb: C3, beta: 1, c: dq, ldc: C3)
                BLAS.sgemm(transA: true, transB: false, m: T, n: HS, k: T,
                           alpha: scale, a: datt, lda: T, b: q, ldb: C3, beta: 1, c: dk, ldc: C3)
            }
        }
    }
}

// The row softmax and its backward pass used by the attention kernels above, eight lanes at a time.
extension Kernels {
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
}

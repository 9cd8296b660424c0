import GSL

extension Kernels {
    /// A Linear layer as PyTorch stores it: out = inp weight^T + bias, through one sgemm.
    ///
    /// out (N,OC), inp (N,C), weight (OC,C), bias (OC) or nil; N = B*T rows.
    static func matmulForward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
    ) {
        if let bias {
            for n in 0..<N { (out + n * OC).update(from: bias, count: OC) }
        }
        BLAS.sgemm(transA: false, transB: true, m: N, n: OC, k: C,
                   alpha: 1, a: inp, lda: C, b: weight, ldb: C,
                   beta: bias == nil ? 0 : 1, c: out, ldc: OC)
    }

    /// Differentiates `out = inp W^T + b`:
    /// dinp += dout W (N,OC)(OC,C); dweight += dout^T inp (OC,N)(N,C); dbias += column sums of dout.
    ///
    /// dinp (N,C) or nil, dweight (OC,C), dbias (OC) or nil, dout (N,OC), inp (N,C), weight (OC,C).
    static func matmulBackward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int
    ) {
        if let dinp {
            BLAS.sgemm(transA: false, transB: false, m: N, n: C, k: OC,
                       alpha: 1, a: dout, lda: OC, b: weight, ldb: C, beta: 1, c: dinp, ldc: C)
        }
        BLAS.sgemm(transA: true, transB: false, m: OC, n: C, k: N,
                   alpha: 1, a: dout, lda: OC, b: inp, ldb: C, beta: 1, c: dweight, ldc: C)
        if let dbias {
            for n in 0..<N {
                let dout_n = dout + n * OC
                for o in 0..<OC { dbias[o] += dout_n[o] }
            }
        }
    }
}

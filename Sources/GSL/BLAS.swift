import CGSL

/// Matrix products through OpenBLAS's cblas (linked in place of gslcblas, see CGSL).
///
/// Row-major throughout. The pointer arguments are raw buffers owned by the caller; this is
/// the one place outside GSL's wrappers where other modules reach C.
public enum BLAS {
    /// C = alpha op(A) op(B) + beta C, single precision, row-major.
    ///
    /// op(A) is (M, K), op(B) is (K, N), C is (M, N); `lda`, `ldb`, `ldc` are the row strides
    /// of A, B, C as stored.
    @inline(__always)
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C = alpha op(A) op(B) + beta C, double precision, row-major.
    @inline(__always)
    public static func dgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y = alpha A x + beta y (or Aᵀ x), single precision, row-major A of shape (M, N).
    @inline(__always)
    public static func sgemv(
        trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda),
                    x, 1, beta, y, 1)
    }

    /// The number of threads OpenBLAS uses for one call (`openblas_get_num_threads`).
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses for one call (`openblas_set_num_threads`).
    /// Process-wide. TinyLM sets 1 while it runs its own two-way split of the work.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "BLAS.setThreadCount needs n >= 1")
        openblas_set_num_threads(Int32(n))
    }
}

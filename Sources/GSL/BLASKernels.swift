import CGSL

extension BLAS {
    /// The kernel set OpenBLAS chose when it loaded ("Haswell", "SkylakeX", "Zen", ...), from
    /// the CPU or from `OPENBLAS_CORETYPE`. Benchmarks print it beside their figures.
    public static var coreName: String { String(cString: openblas_get_corename()) }
}

import CGSL

/// A Swift closure carried through GSL's `void *params`.
final class ScalarFunctionBox {
    let f: (Double) -> Double
    init(_ f: @escaping (Double) -> Double) { self.f = f }
}

/// The C-callable trampoline: non-capturing, it finds the closure through `params`.
let scalarTrampoline: @convention(c) (Double, UnsafeMutableRawPointer?) -> Double = { x, params in
    Unmanaged<ScalarFunctionBox>.fromOpaque(params!).takeUnretainedValue().f(x)
}

/// Brent's method (`gsl_root_fsolver_brent`) on a bracketing interval.
public enum RootFinder {
    /// The x in [lower, upper] with f(x) = 0, to within `absoluteTolerance + relativeTolerance |x|`.
    ///
    /// - Throws: `GSLError` (`GSL_EINVAL`) if f(lower) and f(upper) do not have opposite signs,
    ///   (`GSL_EMAXITER`) if the bracket does not shrink within `maxIterations`.
    public static func brent(
        lower: Double, upper: Double,
        absoluteTolerance: Double = 0, relativeTolerance: Double = 1e-14,
        maxIterations: Int = 500,
        _ f: @escaping (Double) -> Double
    ) throws(GSLError) -> Double {
        GSLRuntime.start()
        let fl = f(lower), fu = f(upper)
        if fl == 0 { return lower }
        if fu == 0 { return upper }
        guard fl.isFinite, fu.isFinite, (fl < 0) != (fu < 0) else {
            throw GSLError(function: "gsl_root_fsolver_set", status: GSLError.invalid,
                           meaning: "endpoints do not straddle the root (f = \(fl), \(fu))")
        }
        let box = Unmanaged.passRetained(ScalarFunctionBox(f))
        defer { box.release() }
        var function = gsl_function(function: scalarTrampoline, params: box.toOpaque())
        guard let s = gsl_root_fsolver_alloc(cgsl_root_brent()) else {
            throw GSLError(function: "gsl_root_fsolver_alloc", status: GSLError.invalid)
        }
        defer { gsl_root_fsolver_free(s) }
        try check(gsl_root_fsolver_set(s, &function, lower, upper), "gsl_root_fsolver_set")
        for _ in 0..<maxIterations {
            try check(gsl_root_fsolver_iterate(s), "gsl_root_fsolver_iterate")
            let lo = gsl_root_fsolver_x_lower(s), hi = gsl_root_fsolver_x_upper(s)
            let status = gsl_root_test_interval(lo, hi, absoluteTolerance, relativeTolerance)
            if status == Int32(GSL_SUCCESS) { return gsl_root_fsolver_root(s) }
            if status != Int32(GSL_CONTINUE) { try check(status, "gsl_root_test_interval") }
        }
        throw GSLError(function: "gsl_root_fsolver_iterate", status: GSLError.maxIterations)
    }
}

/// Adaptive quadrature (`gsl_integration_qags` and `qagi`).
public enum Integration {
    public struct Result: Sendable { public let value: Double; public let error: Double }

    /// ∫_a^b f(x) dx by QAGS (adaptive Gauss-Kronrod with extrapolation).
    public static func integrate(
        from a: Double, to b: Double,
        absoluteTolerance: Double = 0, relativeTolerance: Double = 1e-12,
        limit: Int = 1000,
        _ f: @escaping (Double) -> Double
    ) throws(GSLError) -> Result {
        try run(limit: limit, f) { function, workspace, value, error in
            if a.isInfinite && b.isInfinite && a < 0 && b > 0 {
                return gsl_integration_qagi(function, absoluteTolerance, relativeTolerance, limit, workspace, value, error)
            }
            return gsl_integration_qags(function, a, b, absoluteTolerance, relativeTolerance, limit, workspace, value, error)
        }
    }

    private static func run(
        limit: Int, _ f: @escaping (Double) -> Double,
        _ body: (UnsafeMutablePointer<gsl_function>, UnsafeMutablePointer<gsl_integration_workspace>,
                 UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Int32
    ) throws(GSLError) -> Result {
        GSLRuntime.start()
        let box = Unmanaged.passRetained(ScalarFunctionBox(f))
        defer { box.release() }
        var function = gsl_function(function: scalarTrampoline, params: box.toOpaque())
        guard let w = gsl_integration_workspace_alloc(limit) else {
            throw GSLError(function: "gsl_integration_workspace_alloc", status: GSLError.invalid)
        }
        defer { gsl_integration_workspace_free(w) }
        var value = 0.0, error = 0.0
        try check(body(&function, w, &value, &error), "gsl_integration_qags")
        return Result(value: value, error: error)
    }
}

import CGSL

/// A smooth objective for `Minimizer`: its value and its gradient at a point.
public protocol DifferentiableObjective: AnyObject {
    /// Number of variables.
    var dimension: Int { get }
    /// f(x).
    func value(at x: UnsafeBufferPointer<Double>) -> Double
    /// f(x) and writes ∇f(x) into `gradient`.
    func valueAndGradient(at x: UnsafeBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>) -> Double
}

/// The outcome of a minimisation.
public struct MinimizationResult: Sendable {
    public let x: [Double]
    public let value: Double
    public let gradientNorm: Double
    public let iterations: Int
    public let converged: Bool
}

/// GSL's BFGS (`gsl_multimin_fdfminimizer_vector_bfgs2`) behind non-capturing trampolines:
/// the Swift objective travels through GSL's `void *params` as an unmanaged reference.
public enum Minimizer {
    /// Minimises `objective` from `start` until the gradient norm is below `gradientTolerance`
    /// or `maxIterations` is reached.
    ///
    /// - Throws: `GSLError` if GSL cannot allocate, or an iteration fails for a reason other
    ///   than having converged to machine precision (`GSL_ENOPROG` at a tiny gradient is success).
    public static func minimize(
        _ objective: some DifferentiableObjective,
        from start: [Double],
        initialStep: Double = 0.1,
        lineTolerance: Double = 0.1,
        gradientTolerance: Double = 1e-10,
        maxIterations: Int = 10_000
    ) throws(GSLError) -> MinimizationResult {
        GSLRuntime.start()
        let n = objective.dimension
        precondition(start.count == n, "start point has the wrong dimension")
        let box = Unmanaged.passRetained(objective as AnyObject)
        defer { box.release() }

        var fdf = gsl_multimin_function_fdf()
        fdf.n = n
        fdf.params = box.toOpaque()
        fdf.f = { x, params in
            let obj = Unmanaged<AnyObject>.fromOpaque(params!).takeUnretainedValue() as! any DifferentiableObjective
            return obj.value(at: UnsafeBufferPointer(start: x!.pointee.data, count: x!.pointee.size))
        }
        fdf.df = { x, params, g in
            let obj = Unmanaged<AnyObject>.fromOpaque(params!).takeUnretainedValue() as! any DifferentiableObjective
            _ = obj.valueAndGradient(
                at: UnsafeBufferPointer(start: x!.pointee.data, count: x!.pointee.size),
                gradient: UnsafeMutableBufferPointer(start: g!.pointee.data, count: g!.pointee.size))
        }
        fdf.fdf = { x, params, f, g in
            let obj = Unmanaged<AnyObject>.fromOpaque(params!).takeUnretainedValue() as! any DifferentiableObjective
            f!.pointee = obj.valueAndGradient(
                at: UnsafeBufferPointer(start: x!.pointee.data, count: x!.pointee.size),
                gradient: UnsafeMutableBufferPointer(start: g!.pointee.data, count: g!.pointee.size))
        }

        guard let x0 = gsl_vector_alloc(n) else { throw GSLError(function: "gsl_vector_alloc", status: GSLError.invalid) }
        defer { gsl_vector_free(x0) }
        for i in 0..<n { gsl_vector_set(x0, i, start[i]) }
        guard let s = gsl_multimin_fdfminimizer_alloc(cgsl_multimin_vector_bfgs2(), n) else {
            throw GSLError(function: "gsl_multimin_fdfminimizer_alloc", status: GSLError.invalid)
        }
        defer { gsl_multimin_fdfminimizer_free(s) }
        try check(gsl_multimin_fdfminimizer_set(s, &fdf, x0, initialStep, lineTolerance), "gsl_multimin_fdfminimizer_set")

        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            iterations += 1
            let status = gsl_multimin_fdfminimizer_iterate(s)
            if gsl_multimin_test_gradient(s.pointee.gradient, gradientTolerance) == Int32(GSL_SUCCESS) {
                converged = true
                break
            }
            if status == Int32(GSL_ENOPROG) {
                // No further progress possible in double precision: accept when the gradient is
                // already at rounding level, else report the failure.
                break
            }
            try check(status, "gsl_multimin_fdfminimizer_iterate")
        }
        let xs = s.pointee.x!
        let gs = s.pointee.gradient!
        let x = (0..<n).map { gsl_vector_get(xs, $0) }
        let gnorm = (0..<n).reduce(0.0) { $0 + gsl_vector_get(gs, $1) * gsl_vector_get(gs, $1) }.squareRoot()
        return MinimizationResult(x: x, value: s.pointee.f, gradientNorm: gnorm, iterations: iterations, converged: converged)
    }
}

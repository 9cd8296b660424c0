import CGSL

/// A value from a GSL special function together with GSL's estimate of its absolute error
/// (`gsl_sf_result`).
public struct SpecialValue: Sendable, Equatable {
    public let value: Double
    public let error: Double
}

/// The special functions the book needs, each through its `_e` form: a domain error,
/// underflow or overflow comes back as a thrown `GSLError`, never as an abort.
public enum SpecialFunctions {
    @inline(__always)
    private static func call(
        _ name: String, _ body: (UnsafeMutablePointer<gsl_sf_result>) -> Int32
    ) throws(GSLError) -> SpecialValue {
        GSLRuntime.start()
        var result = gsl_sf_result(val: 0, err: 0)
        let status = body(&result)
        try check(status, name)
        return SpecialValue(value: result.val, error: result.err)
    }

    /// log Γ(x) for x not a non-positive integer (sign of Γ dropped, as `gsl_sf_lngamma`).
    public static func lnGamma(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_lngamma_e") { gsl_sf_lngamma_e(x, $0) }
    }

    /// log C(n, m) = log n! - log m! - log (n - m)!, for m <= n.
    public static func lnChoose(_ n: Int, _ m: Int) throws(GSLError) -> SpecialValue {
        guard n >= 0, m >= 0, n <= Int(UInt32.max) else {
            throw GSLError(function: "gsl_sf_lnchoose_e", status: GSLError.domain, meaning: "n and m must be non-negative")
        }
        return try call("gsl_sf_lnchoose_e") { gsl_sf_lnchoose_e(UInt32(n), UInt32(m), $0) }
    }

    /// log(1 + x), accurate for small x; x > -1.
    public static func log1p(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_log_1plusx_e") { gsl_sf_log_1plusx_e(x, $0) }
    }

    /// exp(x) - 1, accurate for small x.
    public static func expm1(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_expm1_e") { gsl_sf_expm1_e(x, $0) }
    }

    /// exprel(x) = (exp(x) - 1) / x, with exprel(0) = 1.
    public static func exprel(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_exprel_e") { gsl_sf_exprel_e(x, $0) }
    }

    /// exp(x); underflow (x below about -708) is reported as `GSLError.underflow`.
    public static func exp(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_exp_e") { gsl_sf_exp_e(x, $0) }
    }

    /// log(x) for x > 0.
    public static func log(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_log_e") { gsl_sf_log_e(x, $0) }
    }

    /// The digamma function ψ(x) = d/dx log Γ(x).
    public static func psi(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_psi_e") { gsl_sf_psi_e(x, $0) }
    }

    /// The trigamma function ψ'(x).
    public static func psi1(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_psi_1_e") { gsl_sf_psi_1_e(x, $0) }
    }

    /// The complementary error function erfc(x).
    public static func erfc(_ x: Double) throws(GSLError) -> SpecialValue {
        try call("gsl_sf_erfc_e") { gsl_sf_erfc_e(x, $0) }
    }

    /// The upper tail Q(x; k) = P(X > x) of a chi-square variable with k degrees of freedom.
    ///
    /// GSL's cdf functions have no `_e` form: the arguments are checked here and a result that
    /// is not a probability is reported as a domain error.
    public static func chiSquareQ(_ x: Double, degreesOfFreedom k: Double) throws(GSLError) -> Double {
        GSLRuntime.start()
        guard x.isFinite, k.isFinite, k > 0 else {
            throw GSLError(function: "gsl_cdf_chisq_Q", status: GSLError.domain,
                           meaning: "needs finite x and degrees of freedom > 0")
        }
        let q = gsl_cdf_chisq_Q(x, k)
        guard q.isFinite, q >= 0, q <= 1 else {
            throw GSLError(function: "gsl_cdf_chisq_Q", status: GSLError.domain, meaning: "result is not a probability")
        }
        return q
    }

    /// The standard normal quantile: the z with P(N(0,1) <= z) = p, for 0 < p < 1.
    public static func normalQuantile(_ p: Double) throws(GSLError) -> Double {
        GSLRuntime.start()
        guard p > 0, p < 1 else {
            throw GSLError(function: "gsl_cdf_ugaussian_Pinv", status: GSLError.domain, meaning: "needs 0 < p < 1")
        }
        return gsl_cdf_ugaussian_Pinv(p)
    }
}

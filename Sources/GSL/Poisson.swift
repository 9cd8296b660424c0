import CGSL

/// The Poisson distribution's cumulative probabilities through the regularised incomplete
/// gamma function, the form GSL computes with an error estimate.
public enum Poisson {
    /// P(X ≤ k) for X ~ Poisson(μ): the upper regularised incomplete gamma function
    /// Q(k + 1, μ) = Γ(k + 1, μ) / Γ(k + 1) (`gsl_sf_gamma_inc_Q_e`).
    ///
    /// - Throws: `GSLError` (domain) for k < 0 or μ ≤ 0.
    public static func cumulative(_ k: Int, mean mu: Double) throws(GSLError) -> SpecialValue {
        guard k >= 0, mu > 0, mu.isFinite else {
            throw GSLError(function: "gsl_sf_gamma_inc_Q_e", status: GSLError.domain, meaning: "needs k >= 0 and a finite mean > 0")
        }
        GSLRuntime.start()
        var result = gsl_sf_result(val: 0, err: 0)
        try check(gsl_sf_gamma_inc_Q_e(Double(k + 1), mu, &result), "gsl_sf_gamma_inc_Q_e")
        return SpecialValue(value: result.val, error: result.err)
    }

    /// log P(X = k) = k log μ − μ − log k!, with log k! from `gsl_sf_lngamma_e`.
    public static func logProbability(_ k: Int, mean mu: Double) throws(GSLError) -> Double {
        guard k >= 0, mu > 0, mu.isFinite else {
            throw GSLError(function: "gsl_sf_lngamma_e", status: GSLError.domain, meaning: "needs k >= 0 and a finite mean > 0")
        }
        return Double(k) * (try SpecialFunctions.log(mu)).value - mu - (try SpecialFunctions.lnGamma(Double(k + 1))).value
    }
}

// Chapter 9, Schulman's Gaussian table: the bias and spread of k1, k2, k3 for q = N(0, 1) and
// p = N(μ, 1), by GSL quadrature against their closed forms, beside the published figures.
import BookKit
import Foundation
import Finite
import GSL
import Notebook

/// Samples x ~ N(m, 1) (m = 0 for q, as in the note) estimate KL(q ‖ p) with p = N(μ, 1). The
/// log-ratio is ℓ = log q(x)/p(x) = μ²/2 − μx, so KL(q ‖ p) = μ²/2 and k1 = ℓ, k2 = ℓ²/2,
/// k3 = e^{−ℓ} − 1 + ℓ, as in the rest of the chapter.
struct GaussianPair: Sendable {
    let mu: Double
    /// The mean of the sampling density: 0 is q (a test sets μ to sample from p instead).
    var samplingMean = 0.0

    var kl: Double { mu * mu / 2 }
    func logRatio(_ x: Double) -> Double { mu * mu / 2 - mu * x }
    func logDensity(_ x: Double) -> Double { -(x - samplingMean) * (x - samplingMean) / 2 - 0.5 * log(2 * Double.pi) }
}

/// log |k(ℓ) − m|, formed without overflow: k3 grows as e^{−ℓ}, which overflows for ℓ < −709,
/// so there log(e^{−ℓ} − 1 + ℓ − m) = −ℓ + log1p((ℓ − 1 − m) e^{ℓ}).
func logAbsDeviation(_ k: KLEstimator, _ l: Double, from m: Double) -> Double {
    if k == .k3 && l < -30 { return -l + log1p((l - 1 - m) * exp(l)) }
    return log(Swift.abs(k.value(logRatio: l) - m))
}

/// Exact mean and standard deviation of an estimator under the sampling density, by QAGI on
/// (−∞, ∞): ∫ k φ and ∫ (k − mean)² φ, each integrand formed as ± exp(log |·| + log φ) so
/// that no inf·0 arises far out. Beyond |x| = 10⁴ the integrand is set to 0: there
/// log φ < −4.9 × 10⁷ and log |k| < 2 × 10⁴, so the part left out is below e^{−4.8×10⁷}.
struct QuadratureMoments {
    let mean: Double
    let meanError: Double
    let sd: Double
    /// The quadrature's error bound on the variance.
    let varianceError: Double

    init(_ k: KLEstimator, _ g: GaussianPair) throws {
        let cut = 1e4
        let first = try Integration.integrate(from: -.infinity, to: .infinity, relativeTolerance: 1e-12) { x in
            guard Swift.abs(x) < cut else { return 0 }
            let l = g.logRatio(x), v = k.value(logRatio: l)
            return v == 0 ? 0 : (v > 0 ? 1 : -1) * exp(logAbsDeviation(k, l, from: 0) + g.logDensity(x))
        }
        let m = first.value
        let second = try Integration.integrate(from: -.infinity, to: .infinity, relativeTolerance: 1e-12) { x in
            guard Swift.abs(x) < cut else { return 0 }
            return exp(2 * logAbsDeviation(k, g.logRatio(x), from: m) + g.logDensity(x))
        }
        mean = m; meanError = first.error
        sd = second.value.squareRoot(); varianceError = second.error
    }
}

/// The closed forms for q = N(0, 1), p = N(μ, 1): ℓ ~ N(μ²/2, μ²), so bias(k1) = bias(k3) = 0,
/// bias(k2)/KL = μ²/4; sd(k1)/KL = 2/μ, sd(k2)/KL = √(2 + μ²), sd(k3)/KL = 2√(e^{μ²} − 1 − μ²)/μ².
func closedFormBiasOverKL(_ k: KLEstimator, mu: Double) -> Double { k == .k2 ? mu * mu / 4 : 0 }
func closedFormSDOverKL(_ k: KLEstimator, mu: Double) -> Double {
    switch k {
    case .k1: return 2 / mu
    case .k2: return (2 + mu * mu).squareRoot()
    case .k3: return 2 * (expm1(mu * mu) - mu * mu).squareRoot() / (mu * mu)
    }
}

/// The figures printed in Schulman's note "Approximating KL divergence" (2020), from 500,000
/// samples: (bias/KL, sd/KL) for k1, k2, k3 at true KL 0.005 (μ = 0.1) and 0.5 (μ = 1).
let publishedSchulman: [Double: [KLEstimator: (bias: String, sd: String)]] = [
    0.1: [.k1: ("0", "20"), .k2: ("0.002", "1.42"), .k3: ("0", "1.42")],
    1.0: [.k1: ("0", "2"), .k2: ("0.25", "1.73"), .k3: ("0", "1.7")],
]

struct SchulmanRow {
    let mu: Double
    let k: KLEstimator
    let moments: QuadratureMoments
    var kl: Double { mu * mu / 2 }
    var biasOverKL: Double { (moments.mean - kl) / kl }
    var sdOverKL: Double { moments.sd / kl }
    var label: String { "\(k.rawValue), KL \(NumberFormat.format(kl, significant: 3))" }
}

func schulmanRows(_ pairs: [GaussianPair]) throws -> [SchulmanRow] {
    try pairs.flatMap { g in
        try KLEstimator.allCases.map { SchulmanRow(mu: g.mu, k: $0, moments: try QuadratureMoments($0, g)) }
    }
}

func schulman(_ c: Context, _ est: [EstimatorRow]) throws {
    let page = c.page
    page.section("Schulman's Gaussian table, exactly")
    page.prose(#"""
        Schulman's note on approximating KL divergence tabulates the three estimators for $q = N(0, 1)$ and \#
        $p = N(\mu, 1)$, sampling from $q$ to estimate $\operatorname{KL}(q \| p) = \mu^2/2$: 0.005 at $\mu = 0.1$ \#
        and 0.5 at $\mu = 1$. Its figures are Monte Carlo averages. Here each bias and standard deviation is an \#
        integral against the Gaussian density, computed by GSL's adaptive quadrature on the whole line (each \#
        integrand formed in log space, since $k_3$ grows as $e^{\mu x}$ where the density vanishes), and checked \#
        against its closed form: with $ℓ = \log q/p \sim N(\mu^2/2, \mu^2)$, $k_2$'s bias is $\mu^2/4$ of the KL \#
        and the relative standard deviations are $2/\mu$, $\sqrt{2 + \mu^2}$ and \#
        $2\sqrt{e^{\mu^2} - 1 - \mu^2}/\mu^2$. The published figures agree with the exact ones to the digits \#
        printed except $k_2$'s bias at KL 0.005, which is exactly 0.0025 and printed 0.002.
        """#)
    let rows = try schulmanRows([GaussianPair(mu: 0.1), GaussianPair(mu: 1)])
    page.check(schulmanBiasCheck(rows))
    page.check(schulmanSDCheck(rows))
    page.table(headers: ["true KL", "estimator", "bias/KL (quadrature)", "bias/KL (closed form)", "bias/KL (published)",
                         "sd/KL (quadrature)", "sd/KL (closed form)", "sd/KL (published)"],
               rows: rows.map { r in
                   let published = publishedSchulman[r.mu]![r.k]!
                   return [NumberFormat.format(r.kl), r.k.rawValue, NumberFormat.format(r.biasOverKL, significant: 6),
                           NumberFormat.format(closedFormBiasOverKL(r.k, mu: r.mu), significant: 6), published.bias,
                           NumberFormat.format(r.sdOverKL, significant: 6),
                           NumberFormat.format(closedFormSDOverKL(r.k, mu: r.mu), significant: 6), published.sd]
               },
               caption: "Schulman's table (q = N(0, 1), p = N(μ, 1)): exact by quadrature and in closed form, beside "
                + "the published Monte Carlo figures")
    // Where k3 stops being quieter than k1: sd(k3) = sd(k1) when e^{u} − 1 − u = u, u = μ².
    let u = try RootFinder.brent(lower: 0.5, upper: 2, absoluteTolerance: 1e-14, relativeTolerance: 0) {
        expm1($0) - 2 * $0
    }
    page.check(try schulmanCrossoverCheck(mu: u.squareRoot()))
    page.prose(#"""
        $k_3$ has the lower variance of the two unbiased estimators only while \#
        $e^{\mu^2} - 1 - \mu^2 < \mu^2$, that is up to $\mu^2 = \#(NumberFormat.format(u, significant: 5))$, a \#
        true KL of \#(NumberFormat.format(u / 2, significant: 4)) nats; beyond it $k_1$ is the quieter one (its \#
        spread grows as $\mu$, $k_3$'s as $e^{\mu^2/2}$).
        """#)
    page.record("k3_k1_variance_crossover_kl", u / 2)
    let k1 = est[0].moments, k3 = est[2].moments
    c.answers.add("When does k3 stop having a lower variance than k1?",
                  "For two Gaussians of equal variance, beyond a true KL of "
                    + "\(NumberFormat.format(u / 2, significant: 3)) nats (Schulman's table, reproduced exactly). On "
                    + "this space, at a KL of "
                    + "\(NumberFormat.format(k1.mean, significant: 3)), k3 on the whole sequence has standard "
                    + "deviation "
                    + "\(NumberFormat.format(k3.standardDeviation, significant: 3)) against "
                    + "\(NumberFormat.format(k1.standardDeviation, significant: 3)) for k1: "
                    + (k3.variance < k1.variance ? "k3 is the quieter here." : "k1 is the quieter here.")
                    + " (Schulman's table; table of exact moments)")
}

/// Each quadrature bias/KL against its closed form (six comparisons, the nearest to failing
/// shown), within the quadrature's own error bound.
func schulmanBiasCheck(_ rows: [SchulmanRow]) -> Check {
    var w = WorstCase(.equal)
    for r in rows {
        let tol = 4 * r.moments.meanError / r.kl + 8 * Double.ulpOfOne * (1 + Swift.abs(r.moments.mean) / r.kl)
        w.add(r.biasOverKL, closedFormBiasOverKL(r.k, mu: r.mu), tolerance: tol, at: r.label)
    }
    return w.check(id: "schulman.bias", claim: "Quadrature bias/KL of $k_1, k_2, k_3$ equals the closed forms "
                    + "($0$, $\\mu^2/4$, $0$) at true KL 0.005 and 0.5", reference: "beyond the paper",
                   aLabel: "quadrature", bLabel: "closed form",
                   because: "4 × GSL's error bound on the mean (QAGI, relative 1e-12), divided by the KL, plus "
                    + "rounding")
}

/// Each quadrature sd/KL against its closed form, within the quadrature's error bound on the
/// variance, propagated through the square root.
func schulmanSDCheck(_ rows: [SchulmanRow]) -> Check {
    var w = WorstCase(.equal)
    for r in rows {
        let sdError = 4 * (r.moments.varianceError + 2 * Swift.abs(r.moments.mean) * r.moments.meanError)
            / (2 * r.moments.sd)
        let tol = sdError / r.kl + 64 * Double.ulpOfOne * r.sdOverKL
        w.add(r.sdOverKL, closedFormSDOverKL(r.k, mu: r.mu), tolerance: tol, at: r.label)
    }
    return w.check(id: "schulman.sd", claim: "Quadrature sd/KL of $k_1, k_2, k_3$ equals the closed forms "
                    + "($2/\\mu$, $\\sqrt{2 + \\mu^2}$, $2\\sqrt{e^{\\mu^2} - 1 - \\mu^2}/\\mu^2$) at true KL 0.005 "
                    + "and 0.5",
                   reference: "beyond the paper", aLabel: "quadrature", bLabel: "closed form",
                   because: "4 × GSL's error bounds on the variance and the mean, through the square root, plus the "
                    + "rounding of the closed forms")
}

/// At the μ Brent finds for e^{μ²} − 1 − μ² = μ², the quadrature standard deviations of k3 and
/// k1 agree.
func schulmanCrossoverCheck(mu: Double) throws -> Check {
    let g = GaussianPair(mu: mu)
    let k1 = try QuadratureMoments(.k1, g), k3 = try QuadratureMoments(.k3, g)
    let tol = 4 * (k1.varianceError / (2 * k1.sd) + k3.varianceError / (2 * k3.sd)) + 64 * Double.ulpOfOne * k1.sd
        + 2 * mu * 1e-14
    return Check(id: "schulman.crossover", claim: "At true KL \(NumberFormat.format(mu * mu / 2, significant: 4)) "
                    + "(Brent's root of $e^{u} - 1 - 2u$, $u = \\mu^2$) $k_3$ and $k_1$ have the same standard "
                    + "deviation",
                 reference: "beyond the paper", aLabel: "sd($k_3$) by quadrature", bLabel: "sd($k_1$) by quadrature",
                 a: k3.sd, b: k1.sd, tolerance: tol,
                 because: "4 × GSL's error bounds on both variances through the square root, plus Brent's 1e-14 on u "
                    + "(sd(k1) = μ moves by at most 1e-14 · μ)")
}

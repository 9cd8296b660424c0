// Chapter 8: limitations, β and the square-root law (paper, "Limitations of the Bayesian
// perspective").
//
// The paper leaves open why reward grows about linearly in √KL throughout RLHF training
// (Bai et al., 2022) and how to choose β. Along the posterior path the reward's cumulant
// generating function gives the gain σ√(2 KL) to first order (exactly so for a Gaussian reward)
// and shows where bounded rewards bend away from it; proxy rewards over-optimise along the same
// path; and the adaptive KL controller settles on the β whose posterior has the target divergence.
//
// Each check is built by a function below (its inputs are what a counterexample test replaces);
// the sections call them with the real inputs.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct SquareRootLaw: ParsableCommand {
    static let chapter = Chapter(
        slug: "08-square-root-law", number: 8, title: "β and the square-root law",
        summary: "Along the posterior path E[r], KL and Var are derivatives of one function; the gain in reward is "
            + "σ√(2 KL) to first order, proxies over-optimise, and the adaptive KL controller finds the β of its "
            + "target.")

    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 8: the cumulant identities of the posterior path, the square-root law "
            + "E[r] − E0[r] ≈ σ√(2 KL), over-optimisation and the adaptive KL controller.",
        discussion: "Goes beyond the paper's limitations section on exact finite distributions and GSL quadrature, "
            + "and writes Output/08-square-root-law.html and .json. Exit 0: every check holds; 1: a check failed; "
            + "2: bad usage or input.")

    enum Defaults: ExactSpaceDefaults {
        static let outcomes = 2000
        static let outcomesRange = 10...100_000
        static let outcomesNote = "the random and uniform reward shapes and the proxy-reward space"
    }

    @OptionGroup var common: ChapterOptions

    @OptionGroup var size: OutcomesOption<Defaults>

    @Option(help: "Standard deviation s of the proxy's noise, proxy = gold + s·N(0,1) (0 to 10).")
    var noise: Double = 2

    @Option(help: "Target KL in nats of the adaptive controller (0.1 to 6).")
    var targetKl: Double = 6

    @Option(help: ArgumentHelp(
        "Most updates of the adaptive KL controller (100 to 100000); it stops earlier once its step |β_{t+1}/β_t − 1| "
            + "is at most 10⁻¹². Too few and it has not settled: its checks fail."))
    var updates: Int = 10_000

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard noise.isFinite, noise >= 0, noise <= 10 else {
            throw ValidationError("--noise must be in [0, 10] (got \(noise))")
        }
        guard targetKl.isFinite, targetKl >= 0.1, targetKl <= 6 else {
            throw ValidationError("--target-kl must be in [0.1, 6] (got \(targetKl))")
        }
        guard (100...100_000).contains(updates) else {
            throw ValidationError("--updates must be between 100 and 100000 (got \(updates))")
        }
    }

    func run() throws {
        let n = size.outcomes
        let parameters = [("outcomes", "\(n)"), ("noise", "\(noise)"), ("target-kl", "\(targetKl)"),
                          ("updates", "\(updates)")]
        try Self.chapter.run(options: common, parameters: parameters) { page, seeds in
            let c = Context(page: page, seeds: seeds, outcomes: n, quick: common.quick)
            let shapes = try Shape.all(outcomes: n, seeds: seeds)
            // The findings are known only at the end of the run; they are shown first.
            let top = page.mark()
            try cumulantIdentities(c, shapes)
            try gaussianLaw(c)
            try squareRootLaw(c, shapes)
            try overoptimisation(c, noise: noise)
            try controller(c, target: targetKl, updates: updates)
            page.insert(at: top) { findings(page) }
        }
    }
}

// MARK: - What this chapter finds

/// The opening section: the run's headline numbers, as recorded for the JSON, and what they say.
func findings(_ page: Page) {
    let v = page.values
    let t = { (key: String) in Findings.text(page, key) }
    page.section(Findings.title)
    let cumulants = Findings.held(page, prefixes: ["cumulants."])
        ? "are the first derivatives of one function, the cumulant generating function $K$ of the reward"
        : "should be the derivatives of one function $K$, but not every check of that holds on this run"
    let gaussian = Findings.held(page, ["gaussian.square-root-law-exact"])
        ? #"a Gaussian reward gains exactly $\sigma\sqrt{2\,\mathrm{KL}}$ at every divergence checked"#
        : #"the Gaussian reward's gain is not $\sigma\sqrt{2\,\mathrm{KL}}$ to quadrature accuracy on this run"#
    let bends = ["random", "uniform levels", "Bernoulli"].enumerated().map { k, name in
        v["bend_kl_\(k)"]! < 0 ? "never (\(name))" : "\(t("bend_kl_\(k)")) (\(name))"
    }
    let fell = v["final_gold_gain"]! < v["peak_gold_gain"]! - 1e-9   // as the noise table tells a fall
        ? #"rises to a peak gain of \#(t("peak_gold_gain")) and falls back to \#(t("final_gold_gain")) far along "#
            + "the path: Goodhart's law"
        : #"keeps rising along the path, to \#(t("final_gold_gain"))"#
    let settled = Findings.held(page, ["controller.settles"])
        ? #"settles on $\beta^* = \#(t("beta_star"))$, the temperature whose posterior has that divergence, "#
            + #"after \#(t("updates_run")) updates"#
        : #"has not settled on $\beta^* = \#(t("beta_star"))$ after \#(t("updates_run")) updates (its check fails)"#
    page.prose(#"""
        Along the posterior path the mean reward, the divergence from the prior and the variance of the reward \#
        \#(cumulants), and \#(gaussian). The three bounded rewards (two on \#(t("outcomes")) outcomes, one on \#
        two) leave that line by 10% at $\mathrm{KL}$ = \#(bends.joined(separator: ", ")) nats and then \#
        flatten (@fig:square-root-law), so the path's square-root law holds only near the prior and does not \#
        explain the reward linear in $\sqrt{\mathrm{KL}}$ out to large divergences that Bai et al. (2022) \#
        report. With a proxy reward of noise $s = \#(t("noise"))$ the \#
        gold reward \#(fell) (@fig:overoptimisation); and the adaptive KL controller aiming at \#
        \#(t("target_kl")) nats \#(settled) (@tbl:findings).
        """#)
    Findings.table(page, [
        Findings.Row("outcomes of the random and uniform shapes", "outcomes"),
        Findings.Row("KL where the random reward leaves σ√(2 KL) by 10% (−1: never)", "bend_kl_0"),
        Findings.Row("the same, uniform levels", "bend_kl_1"),
        Findings.Row("the same, Bernoulli", "bend_kl_2"),
        Findings.Row("noise $s$ of the proxy", "noise"),
        Findings.Row("peak gold gain along the proxy's path", "peak_gold_gain"),
        Findings.Row("gold gain at the end of the path", "final_gold_gain"),
        Findings.Row("controller: target KL, nats", "target_kl"),
        Findings.Row(#"controller: $\beta^*$ (Brent)"#, "beta_star"),
        Findings.Row("controller: updates run", "updates_run"),
    ], caption: "The run's headline numbers, as recorded in the JSON twin")
}

/// What every section reads: the page it writes, the random streams and the sizes.
struct Context {
    let page: Page
    let seeds: Seeds
    let outcomes: Int
    let quick: Bool
}

/// A prior and a reward on a finite space, with its closed-form K where one exists.
struct Shape {
    /// The shape's part of its checks' ids ("random", "uniform", "bernoulli").
    let key: String
    let name: String
    let prior: Distribution
    let reward: [Double]
    let closedK: ((Double) throws -> Double)?
    var range: Double { reward.max()! - reward.min()! }

    static func all(outcomes n: Int, seeds: Seeds) throws -> [Shape] {
        let rng = seeds.generator("shapes")
        let random = Shape(key: "random", name: "random (Dirichlet prior, uniform rewards)",
                           prior: Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) }),
                           reward: (0..<n).map { _ in rng.uniform() }, closedK: nil)
        let m = n - 1
        let uniform = Shape(key: "uniform", name: "uniform levels {0, 1/m, …, 1}", prior: .uniform(n),
                            reward: (0...m).map { Double($0) / Double(m) },
                            closedK: { try Cumulants.discreteUniform(lambda: $0, levels: m) })
        let p = 0.05 + 0.25 * rng.uniform()
        let bernoulli = Shape(key: "bernoulli", name: "Bernoulli(\(NumberFormat.format(p, significant: 3)))",
                              prior: Distribution(weights: [1 - p, p]), reward: [0, 1],
                              closedK: { try Cumulants.bernoulli(lambda: $0, p: p) })
        return [random, uniform, bernoulli]
    }

    func k(_ lambda: Double) -> Double { Cumulants.generating(prior: prior, reward: reward, lambda: lambda) }

    /// The posterior path π_λ ∝ π0 e^{λr}.
    func tilted(_ lambda: Double) -> Distribution { Cumulants.tilted(prior: prior, reward: reward, lambda: lambda) }
}

// MARK: - The cumulant identities along the posterior path

/// The λ grid of the cumulant identities.
let cumulantLambdas = [0.0, 0.3, 1, 3, 10, 30]

/// Sums over the posterior (from `tilt`, the path as computed) against finite differences of K
/// (from the prior alone), at each λ of the grid: one worst case for each identity.
struct CumulantSweep {
    var mean = WorstCase(.equal), divergence = WorstCase(.equal), variance = WorstCase(.equal)
    let shape: Shape

    init(_ s: Shape, lambdas: [Double] = cumulantLambdas, tilt: (Double) -> Distribution) {
        shape = s
        let n = s.prior.count, rr = s.range
        for lambda in lambdas {
            let post = tilt(lambda)
            let kValue = s.k(lambda)
            let deltaK = summationTolerance(n, scale: 4 * (1 + Swift.abs(kValue) + lambda * rr))
            let h1 = 1e-3, h2 = 3e-3
            let fd1 = Cumulants.centralDifference(s.k, at: lambda, step: h1)
            let tol1 = h1 * h1 * rr * rr * rr / 6 + 2 * deltaK / h1
            let at = "λ = \(NumberFormat.format(lambda))"
            mean.add(post.expectation(s.reward), fd1, tolerance: tol1, at: at)
            let tolKL = lambda * tol1 + deltaK + summationTolerance(n, scale: 2 * (1 + lambda * rr))
            divergence.add(klDivergence(post, s.prior), lambda * fd1 - kValue, tolerance: tolKL, at: at)
            let fd2 = Cumulants.secondDifference(s.k, at: lambda, step: h2)
            let tol2 = h2 * h2 * pow(rr, 4) / 12 + 4 * deltaK / (h2 * h2)
            variance.add(post.variance(s.reward), fd2, tolerance: tol2, at: at)
        }
    }

    func meanCheck() -> Check {
        mean.check(id: "cumulants.mean-\(shape.key)",
                   claim: #"\#(shape.name): $\mathbb{E}_\lambda[r] = K'(\lambda)$ for $\lambda = 0 \dots 30$"#,
                   reference: "eq. 5, beyond the paper", aLabel: #"$\mathbb{E}_\lambda[r]$ (sum over $\pi_\lambda$)"#,
                   bLabel: #"$K'(\lambda)$ (finite difference)"#,
                   because: "central difference, h = 10⁻³: truncation h²R³/6 (|K'''| = |κ3| ≤ R³, R the reward range) "
                    + "plus rounding 2δK/h, δK = (n+2)·4ε(1+|K|+λR)")
    }

    func divergenceCheck() -> Check {
        divergence.check(id: "cumulants.divergence-\(shape.key)",
                         claim: "\(shape.name): "
                            + #"$\mathrm{KL}(\pi_\lambda \| \pi_0) = \lambda K'(\lambda) - K(\lambda)$"#,
                         reference: "eq. 5, beyond the paper", aLabel: #"$\sum \pi_\lambda \log(\pi_\lambda/\pi_0)$"#,
                         bLabel: #"$\lambda K' - K$"#,
                         because: "λ times the derivative's tolerance, plus δK and the n-term rounding of the KL sum")
    }

    func varianceCheck() -> Check {
        variance.check(id: "cumulants.variance-\(shape.key)",
                       claim: #"\#(shape.name): $\mathrm{Var}_\lambda(r) = K''(\lambda)$"#,
                       reference: "beyond the paper", aLabel: #"$\mathrm{Var}_\lambda(r)$ (sum)"#,
                       bLabel: #"$K''(\lambda)$ (second difference)"#,
                       because: "second difference, h = 3·10⁻³: truncation h²R⁴/12 (|κ4| ≤ R⁴) plus rounding 4δK/h²")
    }
}

/// K by log-sum-exp over the outcomes against a closed form through GSL.
func closedFormCheck(_ s: Shape, closed: (Double) throws -> Double) throws -> Check {
    var w = WorstCase(.equal)
    for lambda in cumulantLambdas {
        let c = try closed(lambda), kValue = s.k(lambda)
        let deltaK = summationTolerance(s.prior.count, scale: 4 * (1 + Swift.abs(kValue) + lambda * s.range))
        w.add(c, kValue, tolerance: deltaK + 8 * Double.ulpOfOne * (1 + Swift.abs(c)),
              at: "λ = \(NumberFormat.format(lambda))")
    }
    return w.check(id: "cumulants.closed-form-\(s.key)",
                   claim: "\(s.name): K(λ) by log-sum-exp over the outcomes equals the closed form with GSL",
                   reference: "beyond the paper", aLabel: "closed form", bLabel: #"$\log \sum \pi_0 e^{\lambda r}$"#,
                   because: "δK for the n-term log-sum-exp plus a few ulps for GSL's exprel / log1p / expm1")
}

/// log of QAGS's ∫₀¹ e^{λr} dr against `closed` (log exprel(λ)).
func quadratureCheck(closed: (Double) throws -> Double) throws -> Check {
    var w = WorstCase(.equal)
    for lambda in cumulantLambdas where lambda > 0 {
        let q = try Integration.integrate(from: 0, to: 1, relativeTolerance: 1e-13) { exp(lambda * $0) }
        let c = try closed(lambda)
        w.add(log(q.value), c, tolerance: 2 * q.error / q.value + 8 * Double.ulpOfOne * (1 + Swift.abs(c)),
              at: "λ = \(NumberFormat.format(lambda))")
    }
    return w.check(id: "cumulants.quadrature-continuous-uniform",
                   claim: #"Reward uniform on [0, 1]: $K(\lambda) = \log \mathrm{exprel}(\lambda)$ "#
                    + #"against QAGS quadrature of $\int_0^1 e^{\lambda r} dr$"#,
                   reference: "beyond the paper", aLabel: #"$\log \int_0^1 e^{\lambda r} dr$"#,
                   bLabel: #"$\log \mathrm{exprel}(\lambda)$"#,
                   because: "twice QAGS's own relative error estimate plus a few ulps")
}

func cumulantIdentities(_ c: Context, _ shapes: [Shape]) throws {
    let page = c.page
    page.section("The posterior path is generated by one function")
    page.prose(#"""
    Write $\lambda = 1/\beta$ and $K(\lambda) = \log \mathbb{E}_{\pi_0}[e^{\lambda r}] = \log Z(1/\lambda)$, the
    cumulant generating function of the reward under the prior. Its derivatives give the posterior's mean reward and
    variance, and the Legendre-type combination $\lambda K' - K$ is the divergence from the prior. We compare finite
    differences of $K$ with sums over the posterior, on three reward shapes, and compare $K$ itself with closed forms
    built on GSL's exprel, log1p and expm1.
    """#)
    page.equation(#"""
    \mathbb{E}_\lambda[r] = K'(\lambda), \qquad \mathrm{KL}(\pi_\lambda \| \pi_0) = \lambda K'(\lambda) - K(\lambda),
    \qquad \operatorname{Var}_\lambda(r) = K''(\lambda)
    """#)
    let families = shapes.map { CumulantSweep($0, tilt: $0.tilted) }
    page.sweep(#"$\mathbb{E}_\lambda[r] = K'(\lambda)$ on each reward shape, for $\lambda = 0 \dots 30$"#) {
        for f in families { page.check(f.meanCheck()) }
    }
    page.sweep(#"$\mathrm{KL}(\pi_\lambda \| \pi_0) = \lambda K'(\lambda) - K(\lambda)$ on each reward shape"#) {
        for f in families { page.check(f.divergenceCheck()) }
    }
    page.sweep(#"$\operatorname{Var}_\lambda(r) = K''(\lambda)$ on each reward shape"#) {
        for f in families { page.check(f.varianceCheck()) }
    }
    try page.sweep("$K(\\lambda)$ by log-sum-exp against its closed form, on each shape that has one") {
        for s in shapes { if let closed = s.closedK { page.check(try closedFormCheck(s, closed: closed)) } }
    }
    page.check(try quadratureCheck(closed: { try Cumulants.continuousUniform(lambda: $0) }))
}

// MARK: - Where the square-root law is exact

/// E_λ[r] − μ against σ√(2 KL) for a continuous reward whose density under the prior is
/// `density`, with Z, E_λ[r] and KL = λE_λ[r] − log Z all by QAGS over μ + λσ² ± 40σ.
func gaussianLawCheck(mu: Double, sigma: Double, density: @escaping (Double) -> Double) throws -> Check {
    var w = WorstCase(.equal)
    for lambda in [0.1, 0.5, 1, 2, 4] {
        // The integrands are Gaussian bumps centred near μ + λσ²; 40σ either side leaves out
        // less than e^{-800} of their mass, far below double precision.
        let lo = mu + lambda * sigma * sigma - 40 * sigma, hi = mu + lambda * sigma * sigma + 40 * sigma
        let z = try Integration.integrate(from: lo, to: hi) { density($0) * exp(lambda * $0) }
        let first = try Integration.integrate(from: lo, to: hi) { $0 * density($0) * exp(lambda * $0) }
        let mean = first.value / z.value
        // KL = ∫ p_λ log(p_λ/p_0) = ∫ p_λ (λ r − log Z) = λ E_λ[r] − log Z.
        let kl = lambda * mean - log(z.value)
        let gain = mean - mu
        let relErr = 2 * (z.error / z.value + first.error / Swift.abs(first.value)) + 1e-13
        let tolerance = gain * relErr * (2 + lambda * Swift.abs(mean) / max(kl, 1e-300))
        w.add(gain, sigma * (2 * kl).squareRoot(), tolerance: tolerance,
              at: "λ = \(NumberFormat.format(lambda))")
    }
    return w.check(id: "gaussian.square-root-law-exact",
                   claim: #"Gaussian reward: $\mathbb{E}_\lambda[r] - \mu = \sigma\sqrt{2\,\mathrm{KL}}$ "#
                    + #"for $\lambda = 0.1 \dots 4$"#,
                   reference: "Limitations", aLabel: #"$\mathbb{E}_\lambda[r] - \mu$"#,
                   bLabel: #"$\sigma\sqrt{2\,\mathrm{KL}}$"#,
                   because: "QAGS's error estimates of Z and ∫ r $e^{\\lambda r}$ dP, propagated through the "
                            + "mean and through "
                    + "KL = λE − log Z")
}

func gaussianDensity(mu: Double, sigma: Double) -> (Double) -> Double {
    { r in exp(-0.5 * (r - mu) * (r - mu) / (sigma * sigma)) / (sigma * (2 * Double.pi).squareRoot()) }
}

func gaussianLaw(_ c: Context) throws {
    let page = c.page
    page.section("Where the square-root law is exact: a Gaussian reward")
    page.prose(#"""
    If the reward is Gaussian under the prior, $K$ is a quadratic, every posterior is again Gaussian with the same
    spread, and the gain in reward is exactly $\sigma \sqrt{2\,\mathrm{KL}}$: a straight line in
    $\sqrt{\mathrm{KL}}$, whatever $\beta$. We take a continuous reward $r \sim N(\mu, \sigma^2)$ and compute
    $E_\lambda[r]$ and the divergence by GSL's adaptive quadrature over the whole line, without using the closed form.
    """#)
    page.equation(#"""
    K(\lambda) = \mu \lambda + \frac{\sigma^2 \lambda^2}{2} \quad \Rightarrow \quad
    \mathbb{E}_\lambda[r] - \mathbb{E}_0[r] = \sigma^2 \lambda = \sigma \sqrt{2 \, \mathrm{KL}(\pi_\lambda \| \pi_0)}
    """#)
    let mu = 0.3, sigma = 0.7
    page.parameters([("μ", "\(mu)"), ("σ", "\(sigma)"), ("λ", "0.1, 0.5, 1, 2, 4"),
                     ("quadrature", "QAGS over μ + λσ² ± 40σ (the rest is below e⁻⁸⁰⁰), relative tolerance 10⁻¹²")])
    page.check(try gaussianLawCheck(mu: mu, sigma: sigma, density: gaussianDensity(mu: mu, sigma: sigma)))
}

// MARK: - First order elsewhere, and where it bends

/// The first four cumulants of the reward under the prior.
typealias PriorCumulants = (mean: Double, variance: Double, k3: Double, k4: Double)

/// (Δ − σ√(2KL))/λ² by sums over the path at λ = 0.01/R against κ3/6, with σ², κ3 and κ4 the prior
/// cumulants `c`.
func secondOrderCheck(_ s: Shape, cumulants c: PriorCumulants, tilt: (Double) -> Distribution) -> Check {
    let sigma = c.variance.squareRoot()
    let rr = s.range, n = s.prior.count
    let coefficients = Cumulants.squareRootLawCorrection(variance: c.variance, k3: c.k3, k4: c.k4)
    let lambda = 0.01 / rr
    let post = tilt(lambda)
    let gain = post.expectation(s.reward) - c.mean, kl = klDivergence(post, s.prior)
    let measured = (gain - sigma * (2 * kl).squareRoot()) / (lambda * lambda)
    let nextTerm = (Swift.abs(c.k4) / 24 + c.k3 * c.k3 / (18 * c.variance)) * lambda
    let rounding = summationTolerance(n, scale: 8 * rr) * (1 + sigma * rr / max(sigma * sigma * lambda, 1e-300))
        / (lambda * lambda)
    return Check(id: "path.second-order-\(s.key)",
                 claim: #"\#(s.name): $(\Delta - \sigma\sqrt{2\,\mathrm{KL}})/\lambda^2 \to \kappa_3/6$ "#
                    + #"as $\lambda \to 0$ (at $\lambda = 0.01/R$)"#,
                 reference: "Limitations, beyond the paper",
                 aLabel: #"$(\Delta - \sigma\sqrt{2\,\mathrm{KL}})/\lambda^2$ (sums)"#,
                 bLabel: #"$\kappa_3/6$ (prior cumulant)"#,
                 a: measured, b: coefficients.second, tolerance: 2 * nextTerm + rounding,
                 because: "twice the next term (|κ4|/24 + κ3²/(18σ²))λ of the expansion, plus rounding of n-term sums "
                    + "divided by λ²")
}

/// One point of the path: the gain Δ = E_λ[r] − E_0[r] and KL(π_λ ‖ π0).
struct PathPoint { let lambda: Double; let gain: Double; let kl: Double }

/// The path at λ = 10^{−2 + 4k/80}/R, k = 0 … 80.
func pathPoints(_ s: Shape, tilt: (Double) -> Distribution) -> [PathPoint] {
    let mean0 = s.prior.expectation(s.reward)
    return (0...80).map { k in
        let l = pow(10, -2 + 4 * Double(k) / 80) / s.range
        let p = tilt(l)
        return PathPoint(lambda: l, gain: p.expectation(s.reward) - mean0, kl: klDivergence(p, s.prior))
    }
}

/// Δ against (R/2)√(2 KL) at every point of the path.
func hoeffdingCheck(_ s: Shape, points: [PathPoint]) -> Check {
    var w = WorstCase(.lessOrEqual)
    let tol = summationTolerance(s.prior.count, scale: 8 * s.range)
    for p in points {
        w.add(p.gain, s.range / 2 * (2 * max(p.kl, 0)).squareRoot(), tolerance: tol,
              at: "λ = \(NumberFormat.format(p.lambda))")
    }
    return w.check(id: "path.hoeffding-\(s.key)",
                   claim: #"\#(s.name): along the whole path $\Delta \le (R/2)\sqrt{2\,\mathrm{KL}}$ "#
                    + "(Hoeffding + Donsker-Varadhan)",
                   reference: "beyond the paper", aLabel: #"$\Delta$"#, bLabel: #"$(R/2)\sqrt{2\,\mathrm{KL}}$"#,
                   because: "n-term sums")
}

/// A λ at which the path has collapsed onto the maximisers A: every outcome outside A is below
/// the best reward by at least the gap g, so its share of π_λ is at most e^{−λg}/π0(A), and
/// λ_c = (60 + log(1/π0(A)))/g leaves e^{−60} outside A.
func collapseLambda(_ s: Shape) -> Double {
    let a = Reward.maximisers(s.reward)
    let top = s.reward.max()!
    let gap = top - s.reward.filter { $0 < top }.max()!
    return (60 - log(s.prior.mass(of: a))) / gap
}

/// KL(π_λ ‖ π0) against its limit −log π0(A), within 10⁻⁹ fixed in advance: at λ_c the excess is
/// below e^{−60}(λ_c R + log(1/π0(A))), far under it.
func collapseLimitCheck(_ s: Shape, lambda: Double, tilt: (Double) -> Distribution) -> Check {
    let limit = -log(s.prior.mass(of: Reward.maximisers(s.reward)))
    return Check(id: "path.collapse-divergence-\(s.key)",
                 claim: #"\#(s.name): far along the path the divergence reaches its collapse value $-\log \pi_0(A)$"#,
                 reference: "§2, beyond the paper", aLabel: #"$\mathrm{KL}(\pi_{\lambda_c} \| \pi_0)$"#,
                 bLabel: #"$-\log \pi_0(A)$"#, a: klDivergence(tilt(lambda), s.prior), b: limit,
                 tolerance: 1e-9 + summationTolerance(s.prior.count, scale: 4 * (1 + limit)),
                 because: #"threshold 10⁻⁹ at $\lambda_c = (60 + \log(1/\pi_0(A)))/\mathrm{gap}$, where the "#
                          + #"mass outside A is below e⁻⁶⁰; "#
                    + "plus n-term rounding")
}

func squareRootLaw(_ c: Context, _ shapes: [Shape]) throws {
    let page = c.page
    page.section("Elsewhere the law holds to first order, then bends")
    page.prose(#"""
    For any bounded reward, expand $K$ around 0: the gain is $\sigma^2 \lambda + \kappa_3 \lambda^2/2 + \dots$ and the
    divergence $\sigma^2\lambda^2/2 + \kappa_3 \lambda^3/3 + \dots$, with $\sigma^2$ and $\kappa_3$ the prior variance
    and third cumulant of the reward. So $\sigma\sqrt{2\,\mathrm{KL}}$ is right to first order and the first
    correction is $\kappa_3 \mathrm{KL}/(3\sigma^2)$: a right-skewed reward bends the curve up, a left-skewed one down.
    Far out the curve must flatten, since the gain cannot exceed $\max r - \mathbb{E}_0 r$ while the divergence tends
    to $-\log \pi_0(A)$. A bound holds everywhere: a reward of range $R$ is sub-Gaussian with variance proxy $R^2/4$
    (Hoeffding), so the gain is at most $(R/2)\sqrt{2\,\mathrm{KL}}$ (Donsker-Varadhan).
    """#)
    page.prose(#"""
    The first-order law says less than it seems. Near $\pi_0$ any smooth path of policies has a gain linear in its
    parameter and a divergence quadratic in it, so every such path starts out linear in $\sqrt{\mathrm{KL}}$; the
    posterior path only fixes the slope, $\sigma\sqrt{2}$. Bai et al. (2022) report reward about linear in
    $\sqrt{\mathrm{KL}}$ throughout RLHF training, out to large divergences, and that is where these paths are not
    straight: @tbl:bends gives the divergence at which each one leaves $\sigma\sqrt{2\,\mathrm{KL}}$ by 10%, and
    every bounded reward flattens after it. Only a reward that stays Gaussian under the prior keeps the line at every
    divergence. So the square-root law of the posterior path does not explain Bai et al.'s observation; the paper's
    question stays open.
    """#)
    page.equation(#"""
    \mathbb{E}_\lambda[r] - \mathbb{E}_0[r] = \sigma \sqrt{2\,\mathrm{KL}} + \frac{\kappa_3}{3 \sigma^2} \mathrm{KL}
    + O(\mathrm{KL}^{3/2}) \;\le\; \frac{R}{2} \sqrt{2\,\mathrm{KL}}
    """#)
    var series: [Series] = []
    var rows: [[String]] = []
    var secondOrder: [Check] = [], hoeffding: [Check] = [], collapse: [Check] = []
    for (index, s) in shapes.enumerated() {
        let cumulants = Cumulants.firstFour(s.prior, s.reward)
        let sigma = cumulants.variance.squareRoot()
        secondOrder.append(secondOrderCheck(s, cumulants: cumulants, tilt: s.tilted))
        let points = pathPoints(s, tilt: s.tilted)
        hoeffding.append(hoeffdingCheck(s, points: points))
        collapse.append(collapseLimitCheck(s, lambda: collapseLambda(s), tilt: s.tilted))
        let xs = points.map { max($0.kl, 0).squareRoot() }, ys = points.map(\.gain)
        let bend = points.first { Swift.abs($0.gain / (sigma * (2 * $0.kl).squareRoot()) - 1) > 0.1 }?.kl ?? .nan
        series.append(Series(s.name, x: xs, y: ys, style: index == 0 ? .line : index == 1 ? .lineAndPoints : .points))
        series.append(Series("σ√(2KL), \(s.name)", x: xs, y: xs.map { sigma * 2.squareRoot() * $0 }, style: .dashed))
        rows.append([s.name] + [sigma, cumulants.k3, cumulants.k3 / (3 * cumulants.variance)].map {
            NumberFormat.format($0, significant: 4)
        } + [bend.isNaN ? "—" : NumberFormat.format(bend, significant: 3)])
        page.record("bend_kl_\(index)", bend.isNaN ? -1 : bend)
    }
    let secondOrderTitle = #"$(\Delta - \sigma\sqrt{2\,\mathrm{KL}})/\lambda^2 \to \kappa_3/6$ as $\lambda \to 0$"#
    page.sweep(secondOrderTitle + ", on each reward shape") {
        secondOrder.forEach { page.check($0) }
    }
    page.sweep(#"$\Delta \le (R/2)\sqrt{2\,\mathrm{KL}}$ along the whole path (Hoeffding), on each reward shape"#) {
        hoeffding.forEach { page.check($0) }
    }
    page.sweep("Far along the path the divergence reaches its collapse value, on each reward shape") {
        collapse.forEach { page.check($0) }
    }
    page.table(headers: ["reward", "σ", "κ3", "correction κ3/(3σ²)", "KL where Δ leaves σ√(2KL) by 10%"], rows: rows,
               caption: "How each reward shape bends away from the square-root law", label: "bends")
    page.plot(LinePlot(title: "Reward against √KL along the posterior path",
                       description: "Gain in expected reward against the square root of the divergence, with the "
                        + "first-order prediction for each shape.",
                       xLabel: #"$\sqrt{\mathrm{KL}(\pi_\lambda \| \pi_0)}$"#,
                       yLabel: #"$\mathbb{E}_\lambda[r] - \mathbb{E}_0[r]$"#, series: series, yIncludesZero: true),
              caption: #"""
              Each curve leaves the origin along its dashed line $\sigma\sqrt{2\,\mathrm{KL}}$, bends according to the
              sign of $\kappa_3$, and flattens as the posterior runs out of better outcomes.
              """#, label: "square-root-law")
}

// MARK: - Over-optimisation

/// A proxy reward = gold + s·ξ on a Dirichlet prior, with the noise draws ξ kept for other s.
struct ProxySpace {
    let prior: Distribution
    let gold: [Double]
    let xi: [Double]
    let noise: Double
    var proxy: [Double] { proxy(noise: noise) }

    init(outcomes n: Int, noise s: Double, rng: RandomGenerator) {
        prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        gold = (0..<n).map { _ in rng.uniform() }
        xi = gold.map { _ in rng.gaussian() }
        noise = s
    }

    func proxy(noise level: Double) -> [Double] { (0..<gold.count).map { gold[$0] + level * xi[$0] } }
    /// The posterior path of the proxy.
    func tilted(_ lambda: Double) -> Distribution { Cumulants.tilted(prior: prior, reward: proxy, lambda: lambda) }
}

/// d/dλ E_λ[gold] by a central difference against Cov_λ(gold, proxy), both on the path `tilt`.
func slopeCheck(_ p: ProxySpace, tilt: @escaping (Double) -> Distribution) -> Check {
    let proxy = p.proxy, n = p.gold.count
    let rp = proxy.max()! - proxy.min()!
    var w = WorstCase(.equal)
    for lambda in [0.0, 1, 5, 20] {
        let h = 1e-4 / max(rp, 1)
        let fd = Cumulants.centralDifference({ tilt($0).expectation(p.gold) }, at: lambda, step: h)
        let post = tilt(lambda)
        let cov = post.expectation(zip(p.gold, proxy).map { $0 * $1 })
            - post.expectation(p.gold) * post.expectation(proxy)
        let tol = 4 * pow(rp, 3) * h * h / 6 + 2 * summationTolerance(n, scale: 4 * (1 + lambda * rp)) / h
            + summationTolerance(n, scale: 4 * (1 + rp))
        w.add(fd, cov, tolerance: tol, at: "λ = \(NumberFormat.format(lambda))")
    }
    return w.check(id: "overoptimisation.slope-is-covariance",
                   claim: "The gold reward's slope along the proxy path is "
                    + #"$\mathrm{Cov}_\lambda(g, r_{\text{proxy}})$ ($\lambda = 0, 1, 5, 20$)"#,
                   reference: "beyond the paper",
                   aLabel: #"$\frac{d}{d\lambda}\mathbb{E}_\lambda[g]$ (finite difference)"#,
                   bLabel: "covariance",
                   because: #"central difference: truncation $h^2 \cdot 4 R_p^3/6$ (a fourth-order mixed "#
                            + #"cumulant, gold in [0,1]) "#
                    + "plus rounding of n-term sums")
}

/// E_λ[gold] along the path of the gold reward itself, on λ = 10^{−2 + 5k/60}: it must never fall.
func monotoneCheck(_ p: ProxySpace, tilt: (Double) -> Distribution) -> Check {
    var w = WorstCase(.lessOrEqual)
    let tol = summationTolerance(p.gold.count, scale: 4)
    var previous = p.prior.expectation(p.gold)
    for k in 1...60 {
        let l = pow(10, -2 + 5 * Double(k) / 60)
        let g = tilt(l).expectation(p.gold)
        w.add(previous - g, 0, tolerance: tol, at: "λ = \(NumberFormat.format(l))")
        previous = g
    }
    return w.check(id: "overoptimisation.no-noise-never-falls",
                   claim: "Without noise (proxy = gold) the gold reward never falls along the path "
                    + "(its slope is a variance)",
                   reference: "beyond the paper", aLabel: "fall between grid points", bLabel: "0",
                   because: "n-term sums of terms ≤ 1")
}

/// KL(π_n ‖ π0) of best-of-n (from `divergence`) against log n − (n−1)/n, n = 2^0 … 2^12.
func bestOfNCheck(outcomes: Int, divergence: (Int) -> Double) -> Check {
    var w = WorstCase(.lessOrEqual)
    for e in 0...12 {
        let k = 1 << e
        w.add(divergence(k), BestOfN.quotedKL(n: k), tolerance: summationTolerance(outcomes, scale: 4 * 10),
              at: "n = \(k)")
    }
    return w.check(id: "overoptimisation.best-of-n-divergence",
                   claim: #"Best-of-$n$ on the proxy: $\mathrm{KL}(\pi_n \| \pi_0) \le \log n - (n-1)/n$ "#
                    + #"for $n = 1 \dots 4096$"#,
                   reference: "beyond the paper, Beirami et al. (2024)", aLabel: #"$\mathrm{KL}(\pi_n \| \pi_0)$"#,
                   bLabel: #"$\log n - (n-1)/n$"#, because: "n-term sums with log-ratios ≤ log 4096")
}

/// A fit of one of Gao et al.'s forms on the even-numbered points, with its error on the odd ones.
struct HeldOutFit {
    let fit: TwoParameterFit
    /// √(mean of (form(d) − gain)²) over the held-out points.
    let heldOutRMS: Double
    let points: Int

    init(d: [Double], gain: [Double], form: ([Double], [Double]) -> TwoParameterFit,
         value: (TwoParameterFit, Double) -> Double) {
        let even = d.indices.filter { $0 % 2 == 0 }, odd = d.indices.filter { $0 % 2 == 1 }
        let f = form(even.map { d[$0] }, even.map { gain[$0] })
        fit = f
        let errors = odd.map { value(f, d[$0]) - gain[$0] }
        heldOutRMS = (errors.map { $0 * $0 }.reduce(0, +) / Double(max(errors.count, 1))).squareRoot()
        points = d.count
    }
}

func overoptimisation(_ c: Context, noise s: Double) throws {
    let page = c.page
    page.section("Over-optimising a proxy reward")
    page.prose(#"""
    A reward model is a proxy for the preferences it was trained on. Model this as proxy = gold + noise: a gold reward
    uniform on [0, 1] and independent Gaussian noise of standard deviation $s$ on each outcome. Following the
    posterior path of the proxy, the gold reward's slope is its covariance with the proxy under the current
    posterior. Early on that covariance is positive; far along, the posterior concentrates on outcomes whose proxy is
    high because their noise is, and with enough noise the gold reward falls again: Goodhart's law. We fit the two
    forms of Gao et al. (2023) with $d = \sqrt{\mathrm{KL}}$, for the posterior path (their RL form) and for
    best-of-$n$ on the proxy (their best-of-$n$ form), on every other point, and measure each fit on the points it
    did not see. These fits are shown, not checked: nothing here predicts how well a two-parameter form should do.
    """#)
    page.equation(#"""
    \frac{d}{d\lambda} \mathbb{E}_\lambda[g] = \operatorname{Cov}_\lambda(g, r_{\text{proxy}}), \qquad
    R_{RL}(d) = d(\alpha - \beta \log d), \quad R_{\text{bo}n}(d) = d(\alpha - \beta d)
    """#)
    let space = ProxySpace(outcomes: c.outcomes, noise: s, rng: c.seeds.generator("overoptimisation"))
    let prior = space.prior, gold = space.gold, proxy = space.proxy
    let golds0 = prior.expectation(gold)
    page.check(slopeCheck(space, tilt: space.tilted))
    page.check(monotoneCheck(space, tilt: { Cumulants.tilted(prior: prior, reward: gold, lambda: $0) }))
    // The proxy path.
    var ds: [Double] = [], gains: [Double] = [], proxyGains: [Double] = []
    for k in 0...80 {
        let post = space.tilted(pow(10, -2 + 5 * Double(k) / 80))
        ds.append(klDivergence(post, prior).squareRoot()); gains.append(post.expectation(gold) - golds0)
        proxyGains.append(post.expectation(proxy) - prior.expectation(proxy))
    }
    let peak = gains.indices.max { gains[$0] < gains[$1] }!
    // Best-of-n on the proxy.
    var bonD: [Double] = [], bonGain: [Double] = []
    for e in 1...12 {
        let bon = BestOfN.distribution(prior: prior, reward: proxy, n: 1 << e)
        bonD.append(klDivergence(bon, prior).squareRoot()); bonGain.append(bon.expectation(gold) - golds0)
    }
    page.check(bestOfNCheck(outcomes: c.outcomes) {
        klDivergence(BestOfN.distribution(prior: prior, reward: proxy, n: $0), prior)
    })
    let use = ds.indices.filter { ds[$0] > 1e-3 }
    let rl = HeldOutFit(d: use.map { ds[$0] }, gain: use.map { gains[$0] }, form: TwoParameterFit.reinforcementLearning,
                        value: { $0.reinforcementLearningValue($1) })
    let bo = HeldOutFit(d: bonD, gain: bonGain, form: TwoParameterFit.bestOfN, value: { $0.bestOfNValue($1) })
    let spread = { (g: [Double]) in g.max()! - g.min()! }
    let fitRow = { (name: String, h: HeldOutFit, g: [Double]) -> [String] in
        [name, NumberFormat.format(h.fit.alpha, significant: 4), NumberFormat.format(h.fit.beta, significant: 4),
         NumberFormat.format(h.fit.rootMeanSquare, significant: 3), NumberFormat.format(h.heldOutRMS, significant: 3),
         NumberFormat.format(spread(g), significant: 3), "\(h.points)"]
    }
    let share = { (h: HeldOutFit, g: [Double]) in
        NumberFormat.format(100 * h.heldOutRMS / spread(g), significant: 2) + "%"
    }
    page.prose(#"""
    On the points it did not see, the RL form is off by \#(NumberFormat.format(rl.heldOutRMS, significant: 2)) on
    average (root mean square), \#(share(rl, use.map { gains[$0] })) of the range of the gold gain along the path; the
    best-of-$n$ form by \#(NumberFormat.format(bo.heldOutRMS, significant: 2)), \#(share(bo, bonGain)) of its range
    (its last held-out point, $n = 4096$, lies beyond the fitted ones).
    """#)
    page.table(headers: ["curve", "α", "β", "RMS residual (fitted points)", "RMS error (held-out points)",
                         "range of the gain", "points"],
               rows: [fitRow("posterior path (RL form)", rl, use.map { gains[$0] }),
                      fitRow("best-of-n, n = 2 … 4096 (best-of-n form)", bo, bonGain)],
               caption: "Gao et al.'s functional forms fitted to the gold-reward gain on every other point, d = √KL",
               label: "gao-fits")
    page.parameters([("outcomes", "\(c.outcomes)"), ("noise s", NumberFormat.format(s)),
                     ("gold at the prior", NumberFormat.format(golds0)),
                     ("peak gold gain along the proxy path",
                      "\(NumberFormat.format(gains[peak])) at √KL = \(NumberFormat.format(ds[peak]))"),
                     ("gold gain at the end of the path", NumberFormat.format(gains.last!))])
    noiseTable(page, space)
    page.record("peak_gold_gain", gains[peak]); page.record("final_gold_gain", gains.last!)
    page.record("noise", s)
    page.record("outcomes", Double(c.outcomes))
    page.record("rl_form_held_out_rms", rl.heldOutRMS); page.record("best_of_n_form_held_out_rms", bo.heldOutRMS)
    page.plot(LinePlot(title: "Gold against proxy reward along the proxy's posterior path",
                       description: "Gain in gold and proxy reward against √KL.",
                       xLabel: "d = √KL(π ‖ π0)", yLabel: "gain over the prior",
                       series: [Series("proxy reward", x: ds, y: proxyGains, style: .dashed),
                                Series("gold reward", x: ds, y: gains)],
                       yIncludesZero: true),
              caption: "Optimising the proxy raises it without limit along the path; the gold reward it stands for "
                + "gains far less.", label: "overoptimisation")
    let grid = (0...60).map { ds.max()! * Double($0) / 60 }
    let bonGrid = (0...60).map { (bonD.max() ?? 1) * Double($0) / 60 }
    page.plot(LinePlot(title: "Gold reward with the fitted forms of Gao et al.",
                       description: "Gold-reward gain along the posterior path and under best-of-n, with the two "
                        + "fitted forms.",
                       xLabel: "d = √KL(π ‖ π0)", yLabel: "gold gain over the prior",
                       series: [Series("posterior path", x: ds, y: gains),
                                Series("fit d(α − β log d)", x: grid,
                                       y: grid.map { rl.fit.reinforcementLearningValue($0) }, style: .dashed),
                                Series("best-of-n, n = 2 … 4096", x: bonD, y: bonGain, style: .points),
                                Series("fit d(α − β d)", x: bonGrid, y: bonGrid.map { bo.fit.bestOfNValue($0) },
                                       style: .dashed)],
                       yIncludesZero: true),
              caption: #"""
              The gold reward rises, peaks and, with enough noise, falls as the posterior concentrates on outcomes whose
              proxy is inflated by noise. The dashed lines are the two forms fitted on every other point; @tbl:gao-fits
              gives their errors on the points they did not see, beside the range of the curve.
              """#)
}

/// The same gold reward and noise draws at other noise levels, with the outcome each path ends on.
func noiseTable(_ page: Page, _ space: ProxySpace) {
    let golds0 = space.prior.expectation(space.gold)
    var rows: [[String]] = []
    var ends: [(level: Double, best: Int, end: String)] = []
    for level in [0, 0.25, 0.5, 1, 2, 4, 8] {
        let px = space.proxy(noise: level)
        let path = (0...80).map { k in
            let post = Cumulants.tilted(prior: space.prior, reward: px, lambda: pow(10, -2 + 5 * Double(k) / 80))
            return post.expectation(space.gold) - golds0
        }
        let top = path.indices.max { path[$0] < path[$1] }!
        let best = px.indices.max { px[$0] < px[$1] }!
        let settled = Swift.abs(path.last! - (space.gold[best] - golds0)) < 1e-4
        let end = NumberFormat.format(path.last!, significant: 4)
        if settled { ends.append((level, best, end)) }
        rows.append([NumberFormat.format(level), NumberFormat.format(path[top], significant: 4), end, "\(best)",
                     NumberFormat.format(space.gold[best] - golds0, significant: 4), settled ? "yes" : "no",
                     path.last! < path[top] - 1e-9 ? "rises, then falls" : "keeps rising"])
    }
    // Noise levels whose paths settled on the same outcome, which is why their rows agree.
    let groups = Dictionary(grouping: ends, by: \.best).values.filter { $0.count > 1 }
        .sorted { $0[0].level < $1[0].level }
    let shared: [String] = groups.map { g in
        let levels = g.map { NumberFormat.format($0.level) }.joined(separator: ", ")
        return "s = \(levels) (outcome \(g[0].best))"
    }
    page.table(headers: ["noise s", "peak gold gain", "gold gain at λ = 1000", "best proxy outcome", "its gold gain",
                         "settled on it", "shape"],
               rows: rows,
               caption: #"""
               The same gold reward and noise draws at several noise levels: the more noise, the earlier and lower the
               peak. Far along its path the posterior settles on the outcome with the best proxy, so the end value is
               that outcome's gold gain (settled: within 10⁻⁴ of it at λ = 1000). The best outcome of gold + s·ξ changes
               only at a few values of s, so paths that settle on the same outcome end on the same value, and where the
               gain keeps rising its peak is that value too.
               """# + (shared.isEmpty ? "" : " Here that happens for " + shared.joined(separator: "; ") + "."))
}

// MARK: - The adaptive KL controller

/// The controller's settle rule: it stops once a step changes β by at most 10⁻¹² relative. Near β*
/// the log-error shrinks by the factor 1 − ρ a step, so what remains is about step/ρ: below the
/// 10⁻⁹ of the check for any rate ρ ≥ 10⁻³.
let settledStep = 1e-12

func settleCheck(finalBeta: Double, betaStar: Double, updates: Int) -> Check {
    Check(id: "controller.settles",
          claim: #"The controller settles on the $\beta^*$ with $\mathrm{KL}(\pi^*_{\beta^*} \| \pi_0)$ = target "#
            + "(root by Brent), in \(updates) updates",
          reference: "beyond the paper, Ziegler et al. (2019)", aLabel: #"$\beta_T / \beta^*$"#, bLabel: "1",
          a: finalBeta / betaStar, b: 1, tolerance: 1e-9,
          because: "settle criterion 10⁻⁹ (the run stops at a step ≤ 10⁻¹², leaving ≈ step/ρ; Brent's root is good "
            + "to 10⁻¹⁴; the rounding of KL(β) moves the fixed point by ~10⁻¹³)")
}

/// KL(π*_{β_T} ‖ π0) on the small space against its collapse value log 100, within 10⁻⁶ fixed in
/// advance: the policy there has collapsed onto the best outcome, not merely any policy's bound.
func smallSpaceCollapseCheck(finalKL: Double, updates: Int) -> Check {
    Check(id: "controller.small-space-collapses",
          claim: "…and after \(updates) updates the policy has collapsed: "
            + #"$\mathrm{KL}(\pi^*_{\beta_T} \| \pi_0)$ is within $10^{-6}$ of $\log 100$"#,
          reference: "§2", aLabel: #"$\mathrm{KL}(\pi^*_{\beta_T} \| \pi_0)$"#, bLabel: #"$\log 100$"#,
          a: finalKL, b: log(100.0),
          tolerance: 1e-6 + summationTolerance(100, scale: 8),
          because: "threshold 10⁻⁶ fixed in advance (the best outcome holds all but about 10⁻⁷ of the mass), "
            + "plus 100-term rounding")
}

/// The large space: as for a language model, the best outcome is rare under the prior (it is the
/// least likely outcome), so the collapse divergence −log π0(A) is about 2 log n, well above any
/// target ≤ 6.
struct ControllerSpace {
    let prior: Distribution
    let reward: [Double]

    init(outcomes big: Int, rng: RandomGenerator) {
        let p = Distribution(logWeights: (0..<big).map { _ in log(-log(rng.uniformPositive())) })
        var r = (0..<big).map { _ in 0.9 * rng.uniform() }
        r[p.probabilities.indices.min { p.probabilities[$0] < p.probabilities[$1] }!] = 1
        prior = p
        reward = r
    }

    func kl(_ beta: Double) -> Double {
        klDivergence(Posterior.distribution(prior: prior, reward: reward, beta: beta), prior)
    }
    var collapseKL: Double { -log(prior.mass(of: Reward.maximisers(reward))) }
}

/// KL(π*_β ‖ π0) on the small space: 100 outcomes, a uniform prior, rewards 0, 1/99, …, 1; no β gives
/// more than log 100, so a target above it is out of reach.
func smallSpaceKL(_ beta: Double) -> Double {
    let small = Distribution.uniform(100)
    let reward = (0..<100).map { Double($0) / 99 }
    return klDivergence(Posterior.distribution(prior: small, reward: reward, beta: beta), small)
}

func controller(_ c: Context, target: Double, updates: Int) throws {
    let page = c.page
    page.section("The adaptive KL controller settles on the β of its target")
    page.prose(#"""
    Ziegler et al. (2019) do not fix β: after each batch they raise it when the divergence overshoots a target and
    lower it when it undershoots, by a clipped proportional step. If the policy were always at its optimum
    $\pi^*_\beta$, the divergence would be the exact, decreasing curve $\mathrm{KL}(\pi^*_\beta \| \pi_0)$, and the
    controller would settle where that curve meets the target. The Bayesian view thus reads the controller as a
    search for the posterior temperature with a given information budget. The run stops once a step changes β by at
    most $10^{-12}$ (or after --updates). When the target exceeds what any β can give (a small space, where even
    collapse has less divergence), every step is clipped and β decays geometrically towards 0: the controller drives
    the policy into collapse.
    """#)
    page.equation(#"""
    \beta_{t+1} = \beta_t \left( 1 + e_t \frac{n}{H} \right), \qquad
    e_t = \operatorname{clip}\left( \frac{\mathrm{KL}(\pi^*_{\beta_t} \| \#
    \pi_0)}{\mathrm{KL}_{\text{target}}} - 1, -0.2, 0.2 \right)
    """#)
    let horizon = 10_000.0, batch = 256, beta0 = 0.15
    let ctl = AdaptiveKLController(target: target, horizon: horizon, batchSize: batch)
    let big = c.quick ? 1000 : 10_000
    let space = ControllerSpace(outcomes: big, rng: c.seeds.generator("controller"))
    let maxKL = space.collapseKL
    page.parameters([("target KL", NumberFormat.format(target)), ("horizon H", "10000"), ("batch n", "\(batch)"),
                     ("initial β", "0.15"), ("most updates", "\(updates)"), ("settle rule", "a step of at most 10⁻¹²"),
                     ("large space", "\(big) outcomes, reward 1 on the least likely outcome, else uniform on [0, 0.9]; "
                        + "collapse KL −log π0(A) = \(NumberFormat.format(maxKL))"),
                     ("small space", "100 outcomes, uniform prior, collapse KL log 100")])
    guard maxKL > target * 1.01 else {
        throw InputError("--target-kl \(target) is beyond the collapse divergence \(NumberFormat.format(maxKL)) "
            + "of the large space for this seed")
    }
    let betaStar = try RootFinder.brent(lower: 1e-4, upper: 1e4, relativeTolerance: 1e-14) {
        log(space.kl($0) / target)
    }
    let run = ctl.run(initialBeta: beta0, updates: updates, settledStep: settledStep, kl: space.kl)
    let ran = run.betas.count - 1
    let enter = run.kls.firstIndex { Swift.abs($0 / target - 1) < 0.2 } ?? ran
    // Linearised rate at β*: ρ = (n/H)·|d log KL/d log β|.
    let hb = 1e-4, slope = Swift.abs(log(space.kl(betaStar * exp(hb)) / space.kl(betaStar * exp(-hb))) / (2 * hb))
    let rho = Double(batch) / horizon * slope
    let last = run.betas.last!
    page.check(settleCheck(finalBeta: last, betaStar: betaStar, updates: ran))
    let within = run.betas.firstIndex { Swift.abs($0 / betaStar - 1) < 0.01 } ?? -1
    page.record("beta_star", betaStar); page.record("updates_to_1_percent", Double(within))
    page.record("updates_run", Double(ran))
    page.record("target_kl", target)
    let clippedPhase = Swift.abs(log(beta0 / betaStar)) / log1p(0.2 * Double(batch) / horizon)
    page.table(headers: ["quantity", "value"],
               rows: [["β* (Brent)", NumberFormat.format(betaStar)],
                      ["β after \(ran) updates", NumberFormat.format(last)],
                      ["updates run (stopped at a step ≤ 10⁻¹²)",
                       ran < updates ? "\(ran)" : "\(ran) (the most allowed)"],
                      ["updates until |KL/target − 1| < 0.2 (end of the clipped phase)", "\(enter)"],
                      ["updates until β within 1% of β*", within >= 0 ? "\(within)" : "not reached"],
                      ["linearised rate ρ per update at β*", NumberFormat.format(rho, significant: 3)],
                      ["predicted updates for the clipped phase, |log(β0/β*)| / log(1 + 0.2n/H)",
                       NumberFormat.format(clippedPhase, significant: 3)]],
               caption: "Where the controller settles and how fast")
    let runSmall = ctl.run(initialBeta: beta0, updates: updates, kl: smallSpaceKL)
    if log(100.0) < 0.8 * target {
        let simulated = runSmall.betas.last!, closed = ctl.clippedDecay(initialBeta: beta0, updates: updates)
        page.derivation([
            DerivationLine(#"\beta_T = \beta_0 \prod_{t<T} \left(1 - 0.2\,n/H\right)"#, simulated,
                           note: "every step clipped, since KL ≤ log 100 < 0.8·target; simulated"),
            DerivationLine(#"= \beta_0 \exp\left(T \log(1 - 0.2\,n/H)\right)"#, closed,
                           note: "the product in closed form"),
        ], caption: "Small space: the clipped decay of β over \(updates) updates")
        page.check(smallSpaceCollapseCheck(finalKL: runSmall.kls.last!, updates: updates))
    }
    page.plot(LinePlot(title: "The adaptive KL controller's β over time",
                       description: "β after each update in the large space (settles) and the small space (decays).",
                       xLabel: "update t", yLabel: "β", yScale: .log10,
                       series: [Series("large space (target reachable)", x: (0...ran).map(Double.init), y: run.betas),
                                Series("small space (target out of reach)", x: (0...updates).map(Double.init),
                                       y: runSmall.betas, style: .dashed)],
                       references: [ReferenceLine(.horizontal, at: betaStar, label: "β* with KL = target")]),
              caption: #"""
              In the large space β falls at the clipped rate, then converges geometrically to $\beta^*$ until its
              steps fall below $10^{-12}$. In the small space the divergence never reaches the target and β decays at
              the clipped rate for ever.
              """#)
}

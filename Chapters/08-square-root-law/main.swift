// Chapter 8: limitations, β and the square-root law (paper, "Limitations of the Bayesian
// perspective").
//
// The paper leaves open why reward grows about linearly in √KL during RLHF (Bai et al., 2022)
// and how to choose β. Along the posterior path both follow from the reward's cumulant
// generating function: the gain is σ√(2 KL) to first order, exactly so for a Gaussian reward;
// proxy rewards over-optimise along the same path; and the adaptive KL controller settles on
// the β whose posterior has the target divergence.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct SquareRootLaw: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "square-root-law",
        abstract: "Chapter 8: the cumulant identities of the posterior path, the square-root law E[r] − E0[r] ≈ σ√(2 KL), over-optimisation and the adaptive KL controller.",
        discussion: "Goes beyond the paper's limitations section on exact finite distributions and GSL quadrature, and writes Output/08-square-root-law.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of outcomes of the finite spaces (10 to 100000).")
    var outcomes: Int = 2000

    @Option(help: "Standard deviation s of the proxy's noise, proxy = gold + s·N(0,1) (0 to 10).")
    var noise: Double = 2

    @Option(help: "Target KL in nats of the adaptive controller (0.1 to 6).")
    var targetKl: Double = 6

    @Option(help: "Updates of the adaptive KL controller (100 to 100000); --quick uses at most 2000. Too few and it has not settled: its check fails.")
    var updates: Int = 4000

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (10...100_000).contains(outcomes) else { throw ValidationError("--outcomes must be between 10 and 100000 (got \(outcomes))") }
        guard noise.isFinite, noise >= 0, noise <= 10 else { throw ValidationError("--noise must be in [0, 10] (got \(noise))") }
        guard targetKl.isFinite, targetKl >= 0.1, targetKl <= 6 else { throw ValidationError("--target-kl must be in [0.1, 6] (got \(targetKl))") }
        guard (100...100_000).contains(updates) else { throw ValidationError("--updates must be between 100 and 100000 (got \(updates))") }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "08-square-root-law", number: 8, title: "β and the square-root law",
            summary: "Along the posterior path E[r], KL and Var are derivatives of one function; the gain in reward is σ√(2 KL) to first order, proxies over-optimise, and the adaptive KL controller finds the β of its target.")
        try chapter.run(options: common, parameters: [("outcomes", "\(outcomes)"), ("noise", "\(noise)"), ("target-kl", "\(targetKl)"), ("updates", "\(updates)")]) { page, seeds in
            let shapes = try Shape.all(outcomes: outcomes, seeds: seeds)
            try cumulantIdentities(page, shapes)
            try gaussianLaw(page)
            try squareRootLaw(page, shapes)
            try overoptimisation(page, seeds, outcomes: outcomes, noise: noise)
            try controller(page, seeds, target: targetKl, updates: common.quick ? min(updates, 2000) : updates, quick: common.quick)
        }
    }
}

func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

/// A prior and a reward on a finite space, with its closed-form K where one exists.
struct Shape {
    let name: String
    let prior: Distribution
    let reward: [Double]
    let closedK: ((Double) throws -> Double)?
    var range: Double { reward.max()! - reward.min()! }

    static func all(outcomes n: Int, seeds: Seeds) throws -> [Shape] {
        let rng = seeds.generator("shapes")
        let random = Shape(name: "random (Dirichlet prior, uniform rewards)", prior: Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) }),
                           reward: (0..<n).map { _ in rng.uniform() }, closedK: nil)
        let m = n - 1
        let uniform = Shape(name: "uniform levels {0, 1/m, …, 1}", prior: .uniform(n), reward: (0...m).map { Double($0) / Double(m) },
                            closedK: { try Cumulants.discreteUniform(lambda: $0, levels: m) })
        let p = 0.05 + 0.25 * rng.uniform()
        let bernoulli = Shape(name: "Bernoulli(\(NumberFormat.format(p, significant: 3)))", prior: Distribution(weights: [1 - p, p]), reward: [0, 1],
                              closedK: { try Cumulants.bernoulli(lambda: $0, p: p) })
        return [random, uniform, bernoulli]
    }

    func k(_ lambda: Double) -> Double { Cumulants.generating(prior: prior, reward: reward, lambda: lambda) }
}

// MARK: - The cumulant identities along the posterior path

func cumulantIdentities(_ page: Page, _ shapes: [Shape]) throws {
    page.section("The posterior path is generated by one function")
    page.prose("Write $\\lambda = 1/\\beta$ and $K(\\lambda) = \\log \\mathbb{E}_{\\pi_0}[e^{\\lambda r}] = \\log Z(1/\\lambda)$, the cumulant generating function of the reward under the prior. Its derivatives give the posterior's mean reward and variance, and the Legendre-type combination $\\lambda K' - K$ is the divergence from the prior. We compare finite differences of $K$ with sums over the posterior, on three reward shapes, and compare $K$ itself with closed forms built on GSL's exprel, log1p and expm1.")
    page.equation("\\mathbb{E}_\\lambda[r] = K'(\\lambda), \\qquad \\mathrm{KL}(\\pi_\\lambda \\| \\pi_0) = \\lambda K'(\\lambda) - K(\\lambda), \\qquad \\operatorname{Var}_\\lambda(r) = K''(\\lambda)")
    let lambdas = [0.0, 0.3, 1, 3, 10, 30]
    for s in shapes {
        let n = s.prior.count, rr = s.range
        var worst = (mean: -1.0, kl: -1.0, variance: -1.0, closed: -1.0)
        var shown = (mean: (0.0, 0.0, 0.0), kl: (0.0, 0.0, 0.0), variance: (0.0, 0.0, 0.0), closed: (0.0, 0.0, 0.0))
        for lambda in lambdas {
            let post = Cumulants.tilted(prior: s.prior, reward: s.reward, lambda: lambda)
            let kValue = s.k(lambda)
            let deltaK = summationTolerance(n, scale: 4 * (1 + Swift.abs(kValue) + lambda * rr))
            let h1 = 1e-3, h2 = 3e-3
            let fd1 = Cumulants.centralDifference(s.k, at: lambda, step: h1)
            let tol1 = h1 * h1 * rr * rr * rr / 6 + 2 * deltaK / h1
            let mean = post.expectation(s.reward)
            if Swift.abs(fd1 - mean) / tol1 > worst.mean { worst.mean = Swift.abs(fd1 - mean) / tol1; shown.mean = (mean, fd1, tol1) }
            let kl = klDivergence(post, s.prior)
            let tolKL = lambda * tol1 + deltaK + summationTolerance(n, scale: 2 * (1 + lambda * rr))
            let legendre = lambda * fd1 - kValue
            if Swift.abs(kl - legendre) / tolKL > worst.kl { worst.kl = Swift.abs(kl - legendre) / tolKL; shown.kl = (kl, legendre, tolKL) }
            let fd2 = Cumulants.secondDifference(s.k, at: lambda, step: h2)
            let tol2 = h2 * h2 * pow(rr, 4) / 12 + 4 * deltaK / (h2 * h2)
            let variance = post.variance(s.reward)
            if Swift.abs(fd2 - variance) / tol2 > worst.variance { worst.variance = Swift.abs(fd2 - variance) / tol2; shown.variance = (variance, fd2, tol2) }
            if let closed = s.closedK {
                let c = try closed(lambda)
                let tolC = deltaK + 8 * Double.ulpOfOne * (1 + Swift.abs(c))
                if Swift.abs(c - kValue) / tolC > worst.closed { worst.closed = Swift.abs(c - kValue) / tolC; shown.closed = (c, kValue, tolC) }
            }
        }
        let why1 = "central difference, h = 10⁻³: truncation h²R³/6 (|K'''| = |κ3| ≤ R³, R the reward range) plus rounding 2δK/h, δK = (n+2)·4ε(1+|K|+λR)"
        page.check(Check(claim: "\(s.name): E_λ[r] = K'(λ) for λ = 0 … 30 (worst λ shown)", reference: "eq. 5, beyond the paper",
                         aLabel: "E_λ[r] (sum over π_λ)", bLabel: "K'(λ) (finite difference)", a: shown.mean.0, b: shown.mean.1, tolerance: shown.mean.2, because: why1))
        page.check(Check(claim: "\(s.name): KL(π_λ ‖ π0) = λK'(λ) − K(λ) (worst λ shown)", reference: "eq. 5, beyond the paper",
                         aLabel: "Σ π_λ log(π_λ/π0)", bLabel: "λK' − K", a: shown.kl.0, b: shown.kl.1, tolerance: shown.kl.2,
                         because: "λ times the derivative's tolerance, plus δK and the n-term rounding of the KL sum"))
        page.check(Check(claim: "\(s.name): Var_λ(r) = K''(λ) (worst λ shown)", reference: "beyond the paper",
                         aLabel: "Var_λ(r) (sum)", bLabel: "K''(λ) (second difference)", a: shown.variance.0, b: shown.variance.1, tolerance: shown.variance.2,
                         because: "second difference, h = 3·10⁻³: truncation h²R⁴/12 (|κ4| ≤ R⁴) plus rounding 4δK/h²"))
        if s.closedK != nil {
            page.check(Check(claim: "\(s.name): K(λ) by log-sum-exp over the outcomes equals the closed form with GSL (worst λ shown)", reference: "beyond the paper",
                             aLabel: "closed form", bLabel: "$\\log \\sum π_0 e^{λr}$", a: shown.closed.0, b: shown.closed.1, tolerance: shown.closed.2,
                             because: "δK for the n-term log-sum-exp plus a few ulps for GSL's exprel / log1p / expm1"))
        }
    }
    // The continuous uniform reward, by quadrature.
    var worstQ = 0.0, worstQTol = 1.0, worstQRatio = -1.0
    for lambda in lambdas where lambda > 0 {
        let q = try Integration.integrate(from: 0, to: 1, relativeTolerance: 1e-13) { exp(lambda * $0) }
        let closed = try Cumulants.continuousUniform(lambda: lambda)
        let tol = 2 * q.error / q.value + 8 * Double.ulpOfOne * (1 + Swift.abs(closed))
        let d = Swift.abs(log(q.value) - closed)
        if d / tol > worstQRatio { worstQRatio = d / tol; worstQ = d; worstQTol = tol }
    }
    page.check(Check(claim: "Reward uniform on [0, 1]: K(λ) = log exprel(λ) against QAGS quadrature of $\\int_0^1 e^{λr} \\, dr$ (worst λ shown)", reference: "beyond the paper",
                     aLabel: "|log ∫ − log exprel(λ)|", bLabel: "0", a: worstQ, b: 0, tolerance: worstQTol,
                     because: "twice QAGS's own relative error estimate plus a few ulps"))
}

// MARK: - Where the square-root law is exact

func gaussianLaw(_ page: Page) throws {
    page.section("Where the square-root law is exact: a Gaussian reward")
    page.prose("If the reward is Gaussian under the prior, $K$ is a quadratic, every posterior is again Gaussian with the same spread, and the gain in reward is exactly $\\sigma \\sqrt{2\\,\\mathrm{KL}}$: a straight line in $\\sqrt{\\mathrm{KL}}$, whatever $\\beta$. We take a continuous reward $r \\sim N(\\mu, \\sigma^2)$ and compute $E_\\lambda[r]$ and the divergence by GSL's adaptive quadrature over the whole line, without using the closed form.")
    page.equation("K(\\lambda) = \\mu \\lambda + \\frac{\\sigma^2 \\lambda^2}{2} \\quad \\Rightarrow \\quad \\mathbb{E}_\\lambda[r] - \\mathbb{E}_0[r] = \\sigma^2 \\lambda = \\sigma \\sqrt{2 \\, \\mathrm{KL}(\\pi_\\lambda \\| \\pi_0)}")
    let mu = 0.3, sigma = 0.7
    let density = { (r: Double) in exp(-0.5 * (r - mu) * (r - mu) / (sigma * sigma)) / (sigma * (2 * Double.pi).squareRoot()) }
    var worst = 0.0, worstTol = 1.0, worstRatio = -1.0
    for lambda in [0.1, 0.5, 1, 2, 4] {
        // The integrands are Gaussian bumps centred near μ + λσ²; 40σ either side leaves out
        // less than e^{-800} of their mass, far below double precision.
        let lo = mu + lambda * sigma * sigma - 40 * sigma, hi = mu + lambda * sigma * sigma + 40 * sigma
        let z = try Integration.integrate(from: lo, to: hi) { density($0) * exp(lambda * $0) }
        let first = try Integration.integrate(from: lo, to: hi) { $0 * density($0) * exp(lambda * $0) }
        let mean = first.value / z.value
        let logZ = log(z.value)
        // KL = ∫ p_λ log(p_λ/p_0) = ∫ p_λ (λ r − log Z) = λ E_λ[r] − log Z, with E_λ and Z both by quadrature.
        let kl = lambda * mean - logZ
        let gain = mean - mu
        let predicted = sigma * (2 * kl).squareRoot()
        let relErr = 2 * (z.error / z.value + first.error / Swift.abs(first.value)) + 1e-13
        let tol = gain * relErr * (2 + lambda * Swift.abs(mean) / max(kl, 1e-300))
        if Swift.abs(gain - predicted) / tol > worstRatio { worstRatio = Swift.abs(gain - predicted) / tol; worst = Swift.abs(gain - predicted); worstTol = tol }
    }
    page.parameters([("μ", "\(mu)"), ("σ", "\(sigma)"), ("λ", "0.1, 0.5, 1, 2, 4"), ("quadrature", "QAGS over μ + λσ² ± 40σ (the rest is below e⁻⁸⁰⁰), relative tolerance 10⁻¹²")])
    page.check(Check(claim: "Gaussian reward: E_λ[r] − μ = σ√(2 KL) for λ = 0.1 … 4 (worst λ shown)", reference: "Limitations, Bai et al. (2022)",
                     aLabel: "|E_λ − μ − σ√(2KL)|", bLabel: "0", a: worst, b: 0, tolerance: worstTol,
                     because: "QAGS's error estimates of Z and $\\int r e^{λr} \\, dP$, propagated through the mean and through KL = λE − log Z"))
}

// MARK: - First order elsewhere, and where it bends

func squareRootLaw(_ page: Page, _ shapes: [Shape]) throws {
    page.section("Elsewhere the law holds to first order, then bends")
    page.prose("For any bounded reward, expand $K$ around 0: the gain is $\\sigma^2 \\lambda + \\kappa_3 \\lambda^2/2 + \\dots$ and the divergence $\\sigma^2\\lambda^2/2 + \\kappa_3 \\lambda^3/3 + \\dots$, with $\\sigma^2$ and $\\kappa_3$ the prior variance and third cumulant of the reward. So $\\sigma\\sqrt{2\\,\\mathrm{KL}}$ is right to first order and the first correction is $\\kappa_3 \\mathrm{KL}/(3\\sigma^2)$: a right-skewed reward bends the curve up, a left-skewed one down. Far out the curve must flatten, since the gain cannot exceed $\\max r - \\mathbb{E}_0 r$ while the divergence tends to $-\\log \\pi_0(A)$. A bound holds everywhere: a reward of range $R$ is sub-Gaussian with variance proxy $R^2/4$ (Hoeffding), so the gain is at most $(R/2)\\sqrt{2\\,\\mathrm{KL}}$ (Donsker-Varadhan). This is the regularity Bai et al. (2022) observed and the paper left unexplained: reward is about linear in $\\sqrt{\\mathrm{KL}}$ for as long as the first-order term dominates.")
    page.equation("\\mathbb{E}_\\lambda[r] - \\mathbb{E}_0[r] = \\sigma \\sqrt{2\\,\\mathrm{KL}} + \\frac{\\kappa_3}{3 \\sigma^2} \\mathrm{KL} + O(\\mathrm{KL}^{3/2}) \\;\\le\\; \\frac{R}{2} \\sqrt{2\\,\\mathrm{KL}}")
    var series: [Series] = []
    var rows: [[String]] = []
    for (index, s) in shapes.enumerated() {
        let c = Cumulants.firstFour(s.prior, s.reward)
        let sigma = c.variance.squareRoot()
        let rr = s.range, n = s.prior.count
        let coefficients = Cumulants.squareRootLawCorrection(variance: c.variance, k3: c.k3, k4: c.k4)
        // Second-order check at a small λ.
        let lambda = 0.01 / rr
        let post = Cumulants.tilted(prior: s.prior, reward: s.reward, lambda: lambda)
        let gain = post.expectation(s.reward) - c.mean, kl = klDivergence(post, s.prior)
        let measured = (gain - sigma * (2 * kl).squareRoot()) / (lambda * lambda)
        let nextTerm = (Swift.abs(c.k4) / 24 + c.k3 * c.k3 / (18 * c.variance)) * lambda
        let rounding = summationTolerance(n, scale: 8 * rr) * (1 + sigma * rr / max(sigma * sigma * lambda, 1e-300)) / (lambda * lambda)
        page.check(Check(claim: "\(s.name): (Δ − σ√(2KL))/λ² → κ3/6 as λ → 0 (at λ = 0.01/R)", reference: "Limitations, beyond the paper",
                         aLabel: "(Δ − σ√(2KL))/λ² (sums)", bLabel: "κ3/6 (prior cumulant)", a: measured, b: coefficients.second,
                         tolerance: 2 * nextTerm + rounding,
                         because: "twice the next term (|κ4|/24 + κ3²/(18σ²))λ of the expansion, plus rounding of n-term sums divided by λ²"))
        // The whole path: the Hoeffding bound, and the saturation limits.
        var xs: [Double] = [], ys: [Double] = [], excess = -Double.infinity
        var bend = Double.nan
        for k in 0...80 {
            let l = pow(10, -2 + 4 * Double(k) / 80) / rr
            let p = Cumulants.tilted(prior: s.prior, reward: s.reward, lambda: l)
            let g = p.expectation(s.reward) - c.mean, d = klDivergence(p, s.prior)
            excess = max(excess, g - rr / 2 * (2 * max(d, 0)).squareRoot())
            xs.append(max(d, 0).squareRoot()); ys.append(g)
            if bend.isNaN && Swift.abs(g / (sigma * (2 * d).squareRoot()) - 1) > 0.1 { bend = d }
        }
        page.check(Check(claim: "\(s.name): along the whole path Δ ≤ (R/2)√(2 KL) (Hoeffding + Donsker-Varadhan)", reference: "beyond the paper",
                         aLabel: "max_λ [Δ − (R/2)√(2KL)]", bLabel: "0", a: excess, b: 0, relation: .lessOrEqual,
                         tolerance: summationTolerance(n, scale: 8 * rr), because: "n-term sums"))
        let amax = Reward.maximisers(s.reward)
        page.check(Check(claim: "\(s.name): the divergence along the path stays below its collapse value −log π0(A)", reference: "§2, beyond the paper",
                         aLabel: "KL at λ = 100/R", bLabel: "−log π0(A)", a: ys.isEmpty ? 0 : pow(xs.last!, 2), b: -log(s.prior.mass(of: amax)), relation: .lessOrEqual,
                         tolerance: summationTolerance(n, scale: 8 * (1 + 100)), because: "n-term sums with log-ratios up to 100"))
        series.append(Series(s.name, x: xs, y: ys, style: index == 0 ? .line : index == 1 ? .lineAndPoints : .points))
        series.append(Series("σ√(2KL), \(s.name)", x: xs, y: xs.map { sigma * 2.squareRoot() * $0 }, style: .dashed))
        rows.append([s.name, NumberFormat.format(sigma, significant: 4), NumberFormat.format(c.k3, significant: 4),
                     NumberFormat.format(c.k3 / (3 * c.variance), significant: 4), bend.isNaN ? "—" : NumberFormat.format(bend, significant: 3)])
        page.record("bend_kl_\(index)", bend.isNaN ? -1 : bend)
    }
    page.table(headers: ["reward", "σ", "κ3", "correction κ3/(3σ²)", "KL where Δ leaves σ√(2KL) by 10%"], rows: rows,
               caption: "How each reward shape bends away from the square-root law")
    page.plot(LinePlot(title: "Reward against √KL along the posterior path", description: "Gain in expected reward against the square root of the divergence, with the first-order prediction for each shape.",
                       xLabel: "√KL(π_λ ‖ π0)", yLabel: "E_λ[r] − E_0[r]", series: series, yIncludesZero: true),
              caption: "Each curve leaves the origin along its dashed line $\\sigma\\sqrt{2\\,\\mathrm{KL}}$, bends according to the sign of $\\kappa_3$, and flattens as the posterior runs out of better outcomes.")
}

// MARK: - Over-optimisation

func overoptimisation(_ page: Page, _ seeds: Seeds, outcomes n: Int, noise s: Double) throws {
    page.section("Over-optimising a proxy reward")
    page.prose("A reward model is a proxy for the preferences it was trained on. Model this as proxy = gold + noise: a gold reward uniform on [0, 1] and independent Gaussian noise of standard deviation $s$ on each outcome. Following the posterior path of the proxy, the gold reward's slope is its covariance with the proxy under the current posterior. Early on that covariance is positive; far along, the posterior concentrates on outcomes whose proxy is high because their noise is, and with enough noise the gold reward falls again: Goodhart's law. We fit the two forms of Gao et al. (2023) with $d = \\sqrt{\\mathrm{KL}}$, for the posterior path (their RL form) and for best-of-$n$ on the proxy (their best-of-$n$ form), and report the residuals.")
    page.equation("\\frac{d}{d\\lambda} \\mathbb{E}_\\lambda[g] = \\operatorname{Cov}_\\lambda(g, r_{\\text{proxy}}), \\qquad R_{RL}(d) = d(\\alpha - \\beta \\log d), \\quad R_{\\text{bo}n}(d) = d(\\alpha - \\beta d)")
    let rng = seeds.generator("overoptimisation")
    let prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
    let gold = (0..<n).map { _ in rng.uniform() }
    let xi = gold.map { _ in rng.gaussian() }
    let proxy = (0..<n).map { gold[$0] + s * xi[$0] }
    let rp = proxy.max()! - proxy.min()!
    let golds0 = prior.expectation(gold)
    // Slope identity at several λ.
    var worst = 0.0, worstTol = 1.0, worstRatio = -1.0
    for lambda in [0.0, 1, 5, 20] {
        let h = 1e-4 / max(rp, 1)
        let e = { (l: Double) in Cumulants.tilted(prior: prior, reward: proxy, lambda: l).expectation(gold) }
        let fd = Cumulants.centralDifference(e, at: lambda, step: h)
        let post = Cumulants.tilted(prior: prior, reward: proxy, lambda: lambda)
        let cov = post.expectation(zip(gold, proxy).map { $0 * $1 }) - post.expectation(gold) * post.expectation(proxy)
        let tol = 4 * pow(rp, 3) * h * h / 6 + 2 * summationTolerance(n, scale: 4 * (1 + lambda * rp)) / h + summationTolerance(n, scale: 4 * (1 + rp))
        if Swift.abs(fd - cov) / tol > worstRatio { worstRatio = Swift.abs(fd - cov) / tol; worst = Swift.abs(fd - cov); worstTol = tol }
    }
    page.check(Check(claim: "The gold reward's slope along the proxy path is Cov_λ(gold, proxy) (λ = 0, 1, 5, 20; worst shown)", reference: "beyond the paper",
                     aLabel: "|finite difference − covariance|", bLabel: "0", a: worst, b: 0, tolerance: worstTol,
                     because: "central difference: truncation h²·4R_p³/6 (a fourth-order mixed cumulant, gold in [0,1]) plus rounding of n-term sums"))
    // With no noise, the gold reward can only rise.
    var fall = -Double.infinity, previous = golds0
    for k in 1...60 {
        let l = pow(10, -2 + 5 * Double(k) / 60)
        let g = Cumulants.tilted(prior: prior, reward: gold, lambda: l).expectation(gold)
        fall = max(fall, previous - g)
        previous = g
    }
    page.check(Check(claim: "Without noise (proxy = gold) the gold reward never falls along the path (its slope is a variance)", reference: "beyond the paper",
                     aLabel: "largest fall between grid points", bLabel: "0", a: fall, b: 0, relation: .lessOrEqual,
                     tolerance: summationTolerance(n, scale: 4), because: "n-term sums of terms ≤ 1"))
    // The proxy path.
    var ds: [Double] = [], gains: [Double] = [], proxyGains: [Double] = []
    for k in 0...80 {
        let l = pow(10, -2 + 5 * Double(k) / 80)
        let post = Cumulants.tilted(prior: prior, reward: proxy, lambda: l)
        ds.append(klDivergence(post, prior).squareRoot()); gains.append(post.expectation(gold) - golds0)
        proxyGains.append(post.expectation(proxy) - prior.expectation(proxy))
    }
    let peak = gains.indices.max { gains[$0] < gains[$1] }!
    // Best-of-n on the proxy.
    var bonD: [Double] = [], bonGain: [Double] = [], bonExcess = -Double.infinity
    for e in 0...12 {
        let k = 1 << e
        let bon = BestOfN.distribution(prior: prior, reward: proxy, n: k)
        let kl = klDivergence(bon, prior)
        bonExcess = max(bonExcess, kl - BestOfN.quotedKL(n: k))
        if k > 1 { bonD.append(kl.squareRoot()); bonGain.append(bon.expectation(gold) - golds0) }
    }
    page.check(Check(claim: "Best-of-n on the proxy: KL(π_n ‖ π0) ≤ log n − (n−1)/n for n = 1 … 4096", reference: "beyond the paper, Beirami et al. (2024)",
                     aLabel: "max_n [KL − (log n − (n−1)/n)]", bLabel: "0", a: bonExcess, b: 0, relation: .lessOrEqual,
                     tolerance: summationTolerance(n, scale: 4 * 10), because: "n-term sums with log-ratios ≤ log 4096"))
    let use = ds.indices.filter { ds[$0] > 1e-3 }
    let rl = TwoParameterFit.reinforcementLearning(d: use.map { ds[$0] }, gain: use.map { gains[$0] })
    let bo = TwoParameterFit.bestOfN(d: bonD, gain: bonGain)
    for (name, fit, f1, f2) in [("RL form d(α − β log d)", rl, use.map { ds[$0] }, use.map { -ds[$0] * log(ds[$0]) }),
                                ("best-of-n form d(α − β d)", bo, bonD, bonD.map { -$0 * $0 })] {
        let scale = zip(f1, f2).map { Swift.abs($0) + Swift.abs($1) }.reduce(0, +) * (1 + fit.residuals.map { Swift.abs($0) }.max()!)
        let orth = max(Swift.abs(dot(fit.residuals, f1)), Swift.abs(dot(fit.residuals, f2)))
        page.check(Check(claim: "The least-squares fit of the \(name) is optimal: its residuals are orthogonal to both regressors", reference: "Gao et al. (2023)",
                         aLabel: "max_j |Σ resᵢ f_j(dᵢ)|", bLabel: "0", a: orth, b: 0, tolerance: 64 * Double.ulpOfOne * scale,
                         because: "normal equations solved by Cramer's rule on sums of ~80 terms: a few dozen ε times Σ|f|(1 + max|res|)"))
    }
    page.table(headers: ["curve", "α", "β", "RMS residual", "points"],
               rows: [["posterior path (RL form)", NumberFormat.format(rl.alpha, significant: 4), NumberFormat.format(rl.beta, significant: 4), NumberFormat.format(rl.rootMeanSquare, significant: 3), "\(use.count)"],
                      ["best-of-n, n = 2 … 4096", NumberFormat.format(bo.alpha, significant: 4), NumberFormat.format(bo.beta, significant: 4), NumberFormat.format(bo.rootMeanSquare, significant: 3), "\(bonD.count)"]],
               caption: "Gao et al.'s functional forms fitted to the gold-reward gain, d = √KL")
    page.parameters([("outcomes", "\(n)"), ("noise s", NumberFormat.format(s)), ("gold at the prior", NumberFormat.format(golds0)),
                     ("peak gold gain along the proxy path", "\(NumberFormat.format(gains[peak])) at √KL = \(NumberFormat.format(ds[peak]))"),
                     ("gold gain at the end of the path", NumberFormat.format(gains.last!))])
    // The same gold reward and noise draws at other noise levels.
    var noiseRows: [[String]] = []
    for level in [0, 0.25, 0.5, 1, 2, 4, 8] {
        let px = (0..<n).map { gold[$0] + level * xi[$0] }
        let path = (0...80).map { k in Cumulants.tilted(prior: prior, reward: px, lambda: pow(10, -2 + 5 * Double(k) / 80)).expectation(gold) - golds0 }
        let top = path.indices.max { path[$0] < path[$1] }!
        noiseRows.append([NumberFormat.format(level), NumberFormat.format(path[top], significant: 4), NumberFormat.format(path.last!, significant: 4),
                          path.last! < path[top] - 1e-9 ? "rises, then falls" : "keeps rising"])
    }
    page.table(headers: ["noise s", "peak gold gain", "gold gain at λ = 1000", "shape"], rows: noiseRows,
               caption: "The same gold reward and noise draws at several noise levels: the more noise, the earlier and lower the peak")
    page.record("peak_gold_gain", gains[peak]); page.record("final_gold_gain", gains.last!)
    let grid = (0...60).map { ds.max()! * Double($0) / 60 }
    page.plot(LinePlot(title: "Gold against proxy reward along the proxy's posterior path", description: "Gain in gold and proxy reward against √KL.",
                       xLabel: "d = √KL(π ‖ π0)", yLabel: "gain over the prior",
                       series: [Series("proxy reward", x: ds, y: proxyGains, style: .dashed), Series("gold reward", x: ds, y: gains)], yIncludesZero: true),
              caption: "Optimising the proxy raises it without limit along the path; the gold reward it stands for gains far less.")
    let bonGrid = (0...60).map { (bonD.max() ?? 1) * Double($0) / 60 }
    page.plot(LinePlot(title: "Gold reward with the fitted forms of Gao et al.", description: "Gold-reward gain along the posterior path and under best-of-n, with the two fitted forms.",
                       xLabel: "d = √KL(π ‖ π0)", yLabel: "gold gain over the prior",
                       series: [Series("posterior path", x: ds, y: gains), Series("fit d(α − β log d)", x: grid, y: grid.map { rl.reinforcementLearningValue($0) }, style: .dashed),
                                Series("best-of-n, n = 2 … 4096", x: bonD, y: bonGain, style: .points),
                                Series("fit d(α − β d)", x: bonGrid, y: bonGrid.map { bo.bestOfNValue($0) }, style: .dashed)], yIncludesZero: true),
              caption: "The gold reward rises, peaks and, with enough noise, falls as the posterior concentrates on outcomes whose proxy is inflated by noise; both of Gao et al.'s forms follow it, with the residuals of the table above.")
}

func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
// MARK: - The adaptive KL controller

func controller(_ page: Page, _ seeds: Seeds, target: Double, updates: Int, quick: Bool) throws {
    page.section("The adaptive KL controller settles on the β of its target")
    page.prose("Ziegler et al. (2019) do not fix β: after each batch they raise it when the divergence overshoots a target and lower it when it undershoots, by a clipped proportional step. If the policy were always at its optimum $\\pi^*_\\beta$, the divergence would be the exact, decreasing curve $\\mathrm{KL}(\\pi^*_\\beta \\| \\pi_0)$, and the controller would settle where that curve meets the target. The Bayesian view thus reads the controller as a search for the posterior temperature with a given information budget. When the target exceeds what any β can give (a small space, where even collapse has less divergence), every step is clipped and β decays geometrically towards 0: the controller drives the policy into collapse.")
    page.equation("\\beta_{t+1} = \\beta_t \\left( 1 + \\operatorname{clip}\\left( \\frac{\\mathrm{KL}(\\pi^*_{\\beta_t} \\| \\pi_0)}{\\mathrm{KL}_{\\text{target}}} - 1, -0.2, 0.2 \\right) \\frac{n}{H} \\right)")
    let horizon = 10_000.0, batch = 256, beta0 = 0.15
    let ctl = AdaptiveKLController(target: target, horizon: horizon, batchSize: batch)
    let rng = seeds.generator("controller")
    // As for a language model, the best outcome is rare under the prior: it is the least likely
    // outcome, so the collapse divergence −log π0(A) is about 2 log n, well above any target ≤ 6.
    let big = quick ? 1000 : 10_000
    let prior = Distribution(logWeights: (0..<big).map { _ in log(-log(rng.uniformPositive())) })
    var reward = (0..<big).map { _ in 0.9 * rng.uniform() }
    reward[prior.probabilities.indices.min { prior.probabilities[$0] < prior.probabilities[$1] }!] = 1
    let klOf = { (beta: Double) in klDivergence(Posterior.distribution(prior: prior, reward: reward, beta: beta), prior) }
    let maxKL = -log(prior.mass(of: Reward.maximisers(reward)))
    page.parameters([("target KL", NumberFormat.format(target)), ("horizon H", "10000"), ("batch n", "\(batch)"), ("initial β", "0.15"), ("updates", "\(updates)"),
                     ("large space", "\(big) outcomes, reward 1 on the least likely outcome, else uniform on [0, 0.9]; collapse KL −log π0(A) = \(NumberFormat.format(maxKL))"), ("small space", "100 outcomes, uniform prior, collapse KL log 100")])
    guard maxKL > target * 1.01 else {
        throw InputError("--target-kl \(target) is beyond the collapse divergence \(NumberFormat.format(maxKL)) of the large space for this seed")
    }
    let betaStar = try RootFinder.brent(lower: 1e-4, upper: 1e4, relativeTolerance: 1e-14) { log(klOf($0) / target) }
    let run = ctl.run(initialBeta: beta0, updates: updates, kl: klOf)
    let enter = run.kls.firstIndex { Swift.abs($0 / target - 1) < 0.2 } ?? updates
    // Linearised rate at β*: ρ = (n/H)·|d log KL/d log β|.
    let hb = 1e-4, slope = Swift.abs(log(klOf(betaStar * exp(hb)) / klOf(betaStar * exp(-hb))) / (2 * hb))
    let rho = Double(batch) / horizon * slope
    let last = run.betas.last!
    page.check(Check(claim: "The controller settles on the β* with KL(π*_β* ‖ π0) = target (root by Brent) within \(updates) updates", reference: "beyond the paper, Ziegler et al. (2019)",
                     aLabel: "β_T / β*", bLabel: "1", a: last / betaStar, b: 1, tolerance: 1e-9,
                     because: "settle criterion 10⁻⁹ (Brent's root is good to 10⁻¹⁴; the rounding of KL(β) moves the fixed point by ~10⁻¹³)"))
    let within = run.betas.firstIndex { Swift.abs($0 / betaStar - 1) < 0.01 } ?? -1
    page.record("beta_star", betaStar); page.record("updates_to_1_percent", Double(within))
    page.table(headers: ["quantity", "value"],
               rows: [["β* (Brent)", NumberFormat.format(betaStar)], ["β after \(updates) updates", NumberFormat.format(last)],
                      ["updates until |KL/target − 1| < 0.2 (end of the clipped phase)", "\(enter)"],
                      ["updates until β within 1% of β*", within >= 0 ? "\(within)" : "not reached"],
                      ["linearised rate ρ per update at β*", NumberFormat.format(rho, significant: 3)],
                      ["predicted updates for the clipped phase, |log(β0/β*)| / log(1 + 0.2n/H)", NumberFormat.format(Swift.abs(log(beta0 / betaStar)) / log1p(0.2 * Double(batch) / horizon), significant: 3)]],
               caption: "Where the controller settles and how fast")
    let small = Distribution.uniform(100)   // the small space: the target is out of reach
    let smallReward = (0..<100).map { Double($0) / 99 }
    let klSmall = { (beta: Double) in klDivergence(Posterior.distribution(prior: small, reward: smallReward, beta: beta), small) }
    let runSmall = ctl.run(initialBeta: beta0, updates: updates, kl: klSmall)
    let reachable = log(100.0) >= 0.8 * target
    if !reachable {
        page.check(Check.close("Small space (collapse KL log 100 < 0.8·target): every update is clipped, β_T = β0(1 − 0.2n/H)^T", reference: "beyond the paper",
                               aLabel: "β_T simulated", bLabel: "closed form", a: runSmall.betas.last!, b: ctl.clippedDecay(initialBeta: beta0, updates: updates),
                               relative: Double(updates) * 4 * Double.ulpOfOne, because: "T multiplications, each rounding by ≤ 2ε, against one exp/log1p"))
        page.check(Check(claim: "…and the policy approaches collapse: KL(π*_β_T ‖ π0) nears log 100", reference: "§2",
                         aLabel: "KL at β_T", bLabel: "log 100", a: runSmall.kls.last!, b: log(100.0), relation: .lessOrEqual,
                         tolerance: summationTolerance(100, scale: 8), because: "no β gives more than the collapse divergence; 100-term rounding"))
    }
    let ts = (0...updates).map(Double.init)
    page.plot(LinePlot(title: "The adaptive KL controller's β over time", description: "β after each update in the large space (settles) and the small space (decays).",
                       xLabel: "update t", yLabel: "β", yScale: .log10,
                       series: [Series("large space (target reachable)", x: ts, y: run.betas), Series("small space (target out of reach)", x: ts, y: runSmall.betas, style: .dashed)],
                       references: [ReferenceLine(.horizontal, at: betaStar, label: "β* with KL = target")]),
              caption: "In the large space β falls at the clipped rate, then converges geometrically to $\\beta^*$. In the small space the divergence never reaches the target and β decays at the clipped rate for ever.")
}

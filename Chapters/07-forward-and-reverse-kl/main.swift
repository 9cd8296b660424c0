// Chapter 7: beyond RL, forward vs reverse KL (paper §6).
//
// KL-regularised RL minimises the reverse KL(π_θ ‖ π*); DPG/GDC minimises the forward
// KL(π* ‖ π_θ), and supervised learning on filtered samples the forward KL from their empirical
// distribution. Over the whole simplex all reach π*; in a family that cannot represent π* they
// part ways: forward KL matches moments, reverse KL seeks a mode.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct ForwardAndReverseKL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward-and-reverse-kl",
        abstract: "Chapter 7: forward KL (DPG, MLE on filtered samples) and reverse KL (KL-regularised RL) both target π*, and differ when π* is out of reach.",
        discussion: "Verifies paper §6 on exact finite distributions and writes Output/07-forward-and-reverse-kl.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of positions L of the bit strings of the bimodal example (2 to 12; 2^L outcomes).")
    var positions: Int = 10

    @Option(help: "Temperature β of the posterior π* on the 30-outcome space (0.05 to 10).")
    var beta: Double = 0.25

    @Option(help: "Filtered samples for maximum likelihood (1000 to 1000000); --quick uses a fifth, at least 1000.")
    var samples: Int = 100_000

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (2...12).contains(positions) else { throw ValidationError("--positions must be between 2 and 12 (got \(positions))") }
        guard beta.isFinite, beta >= 0.05, beta <= 10 else { throw ValidationError("--beta must be in [0.05, 10] (got \(beta))") }
        guard (1000...1_000_000).contains(samples) else { throw ValidationError("--samples must be between 1000 and 1000000 (got \(samples))") }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "07-forward-and-reverse-kl", number: 7, title: "Forward vs reverse KL",
            summary: "DPG and supervised learning on filtered samples minimise the forward KL to π*, KL-regularised RL the reverse KL: the same target, different behaviour when the model family is too small.")
        let draws = common.quick ? max(1000, samples / 5) : samples
        try chapter.run(options: common, parameters: [("positions", "\(positions)"), ("beta", "\(beta)"), ("samples", "\(samples)")]) { page, seeds in
            let s = Setting(beta: beta, seeds: seeds)
            try dpgGradient(page, s, seeds)
            let fits = try wholeSimplex(page, s, seeds)
            try bimodal(page, seeds, positions: positions)
            let mle = try maximumLikelihood(page, s, seeds, draws: draws)
            dissociation(page, s, fits: fits, mle: mle)
        }
    }
}

let zLevel = 5.3
let chiSquareLevel = 1e-6
/// Gradient-norm target of every BFGS run. Tolerances derived from a run's final gradient use
/// at most `gradientCap` for it, so a run that stalls fails its check instead of widening it.
let gradientTolerance = 1e-10
/// BFGS stops early (no progress) once a decrease of f ≈ ‖g‖²/curvature falls below the rounding
/// of f, a sum of up to 4096 terms: ‖g‖ ≈ √(nε|f|) ≈ 10⁻⁶ at most here.
let gradientCap = 1e-6

func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

/// A 30-outcome space: a Dirichlet(1) prior, a reward with a unique best outcome (r = 1, others
/// uniform on [0, 0.9]) and the posterior π* at temperature β.
struct Setting {
    let n = 30
    let beta: Double
    let prior: Distribution
    let reward: [Double]
    let best: Int
    let target: Distribution

    init(beta: Double, seeds: Seeds) {
        let rng = seeds.generator("setting")
        self.beta = beta
        prior = Distribution(logWeights: (0..<30).map { _ in log(-log(rng.uniformPositive())) })
        best = rng.uniformInt(below: 30)
        var r = (0..<30).map { _ in 0.9 * rng.uniform() }
        r[best] = 1
        reward = r
        target = Posterior.distribution(prior: prior, reward: r, beta: beta)
    }
}

// MARK: - §6: the DPG gradient is an expectation under π*

func dpgGradient(_ page: Page, _ s: Setting, _ seeds: Seeds) throws {
    page.section("DPG's gradient is an expectation under the target")
    page.prose("Distributional policy gradients (DPG, the optimiser of GDC) minimise the forward divergence $\\mathrm{KL}(\\pi^* \\| \\pi_\\theta)$. Its gradient averages the score over the target, not over the policy, so it is not the gradient of the expectation of a fixed reward under $\\pi_\\theta$: written that way, the reward would have to be $-\\pi^*/\\pi_\\theta$, which moves with $\\theta$. DPG samples from $\\pi_\\theta$ and corrects with importance weights $\\pi^*/\\pi_\\theta$. For softmax logits the exact gradient is simply $\\pi_\\theta - \\pi^*$. We compare that closed form with the importance-weighted expectation summed over all outcomes, with a finite difference, and with a seeded Monte Carlo run of the one-draw estimator.")
    page.equation("\\nabla_\\theta \\mathrm{KL}(\\pi^* \\| \\pi_\\theta) = -\\mathbb{E}_{x \\sim \\pi^*} \\left[ \\nabla_\\theta \\log \\pi_\\theta(x) \\right] = -\\mathbb{E}_{x \\sim \\pi_\\theta} \\left[ \\frac{\\pi^*(x)}{\\pi_\\theta(x)} \\nabla_\\theta \\log \\pi_\\theta(x) \\right] = \\pi_\\theta - \\pi^*")
    let rng = seeds.generator("dpg")
    let theta = s.prior.logProbabilities.map { $0 + rng.gaussian() }
    let pi = Distribution.softmax(theta)
    let closed = ForwardKL.gradient(policy: pi, target: s.target)
    let iw = ForwardKL.importanceWeightedGradient(policy: pi, target: s.target)
    page.parameters([("$|X|$", "\(s.n)"), ("β", NumberFormat.format(s.beta)), ("policy", "softmax(log π0 + N(0, 1) noise)")])
    page.check(Check(claim: "The importance-weighted expectation under π_θ equals π_θ − π* in every coordinate", reference: "§6",
                     aLabel: "max_x |g_IW − (π_θ − π*)|", bLabel: "0", a: zip(iw, closed).map { Swift.abs($0 - $1) }.max()!, b: 0,
                     tolerance: summationTolerance(s.n, scale: 4), because: "an n-term sum of terms ≤ 1 and a product: (n+2)·4ε"))
    let v = (0..<s.n).map { _ in rng.gaussian() }
    let dot = { (g: [Double]) in zip(g, v).reduce(0) { $0 + $1.0 * $1.1 } }
    let h = 1e-5
    let f = { (t: Double) in klDivergence(s.target, Distribution.softmax(zip(theta, v).map { $0 + t * $1 })) }
    let vNorm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
    page.check(Check(claim: "The closed form agrees with a central finite difference of KL(π* ‖ π_θ) along a random direction", reference: "§6",
                     aLabel: "⟨π_θ − π*, v⟩", bLabel: "finite difference", a: dot(closed), b: (f(h) - f(-h)) / (2 * h),
                     tolerance: 1e-6 * max(1, vNorm * vNorm * vNorm), because: "h = 10⁻⁵: O(h²‖v‖³) truncation and O(ε/h) rounding, below 10⁻⁶ max(1, ‖v‖³)"))
    // One-draw estimates −w(x)(v_x − ⟨π, v⟩), x ~ π_θ: exact mean and variance by enumeration.
    let piV = dot(pi.probabilities)
    let w = (0..<s.n).map { exp(s.target.logProbabilities[$0] - pi.logProbabilities[$0]) }
    let sample = (0..<s.n).map { -w[$0] * (v[$0] - piV) }
    let exactVar = pi.variance(sample)
    let sampler = try DiscreteSampler(weights: pi.probabilities)
    let draws = 200_000
    var mean = 0.0
    for _ in 0..<draws { mean += sample[sampler.sample(rng)] }
    mean /= Double(draws)
    page.check(Check(claim: "The one-draw DPG estimator is unbiased: a seeded mean of 200000 draws from π_θ matches the exact gradient", reference: "§6",
                     aLabel: "mean of −w(x)⟨e_x − π_θ, v⟩", bLabel: "⟨π_θ − π*, v⟩", a: mean, b: dot(closed),
                     tolerance: zLevel * (exactVar / Double(draws)).squareRoot(), because: "5.3 exact standard errors: false failure ≈ 1.2·10⁻⁷"))
    page.check(Check.close("…and its exact mean, enumerated over outcomes, is the gradient", reference: "§6",
                           aLabel: "E_π_θ[−w(x)⟨e_x − π_θ, v⟩]", bLabel: "⟨π_θ − π*, v⟩", a: pi.expectation(sample), b: dot(closed),
                           relative: 0, absolute: summationTolerance(s.n, scale: 4 * (1 + vNorm)), because: "n-term sums: (n+2)·4ε(1+‖v‖)"))
    let sn = ForwardKL.selfNormalisedExpectationTwoDraws(policy: pi, target: s.target)
    let reverse = PolicyGradient.klDivergence(pi, target: s.target)
    let norm = { (g: [Double]) in g.map { $0 * $0 }.reduce(0, +).squareRoot() }
    let cosine = dot2(closed, reverse) / (norm(closed) * norm(reverse))
    page.table(headers: ["gradient", "norm", "note"],
               rows: [["forward KL, exact: $\\pi_\\theta - \\pi^*$", NumberFormat.format(norm(closed)), "what DPG follows"],
                      ["self-normalised, 2 draws: bias $\\lVert \\mathbb{E}\\hat{g} - \\nabla \\rVert$", NumberFormat.format(norm(zip(sn, closed).map { $0 - $1 })), "exact over all 900 pairs; Z unknown costs an O(1/N) bias"],
                      ["reverse KL: $\\pi_\\theta \\odot (\\log \\pi_\\theta/\\pi^* - \\mathrm{KL})$", NumberFormat.format(norm(reverse)), "cosine with forward: \(NumberFormat.format(cosine, significant: 4))"]],
               caption: "Forward and reverse KL gradients at the same policy point in different directions")
}

func dot2(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

// MARK: - Over the whole simplex both directions reach π*

struct Fits { let forward: Distribution; let reverse: Distribution }

func wholeSimplex(_ page: Page, _ s: Setting, _ seeds: Seeds) throws -> Fits {
    page.section("Over the whole simplex both directions reach π*")
    page.prose("With one free logit per outcome every distribution is reachable, and each divergence is zero only at $\\pi^*$. The forward KL is convex in the logits (a log-sum-exp minus a linear term), so GSL's BFGS minimiser finds $\\pi^*$ from any start; at a point whose gradient $\\pi_\\theta - \\pi^*$ has norm $\\lVert g \\rVert$ the total variation is at most $\\tfrac12 \\sqrt{n} \\lVert g \\rVert$. The reverse KL is what KL-regularised RL minimises (eq. 7); in the logits it has plateaus where an outcome $\\pi^*$ needs has almost no mass, so we follow its natural gradient instead, the ascent on $J_{KLRL}$ with the shaped reward of eq. 4. That update never looks at $\\pi^*$, only at $r$, $\\pi_0$ and $\\beta$, and with step $\\eta = 1/(2\\beta)$ it halves the distance of $\\log \\pi_\\theta$ to $\\log \\pi^*$ (up to a constant) at every step.")
    page.equation("\\theta \\leftarrow \\theta + \\eta \\left( r' - \\mathbb{E}_{\\pi_\\theta} r' \\right), \\quad r' = r + \\beta (\\log \\pi_0 - \\log \\pi_\\theta), \\qquad \\min_\\theta \\mathrm{KL}(\\pi^* \\| \\pi_\\theta) = \\min_\\theta \\mathrm{KL}(\\pi_\\theta \\| \\pi^*) = 0", number: "7")
    let rng = seeds.generator("simplex")
    var forward = s.target, reverse = s.target
    var worst = 0.0, worstTol = 0.0, worstRatio = -1.0
    for _ in 0..<3 {
        let start = (0..<s.n).map { _ in 3 * rng.gaussian() }
        let m = try Minimizer.minimize(SoftmaxDivergenceObjective(target: s.target, direction: .forward), from: start,
                                       gradientTolerance: gradientTolerance, maxIterations: 20_000)
        let pi = Distribution.softmax(m.x)
        let tv = totalVariation(pi, s.target)
        let tol = Double(s.n).squareRoot() * min(max(m.gradientNorm, gradientTolerance), gradientCap) + summationTolerance(s.n, scale: 4)
        if tv / tol > worstRatio { worstRatio = tv / tol; worst = tv; worstTol = tol }
        forward = pi
    }
    page.check(Check(claim: "BFGS on the forward KL(π* ‖ π_θ) reaches π* from 3 random starts (worst start shown)", reference: "§6",
                     aLabel: "TV(π_θ, π*)", bLabel: "0", a: worst, b: 0, tolerance: worstTol,
                     because: "the gradient is exactly π_θ − π*: TV = ½Σ|g| ≤ ½√n‖g‖ (doubled), plus n-term rounding"))
    let steps = 200
    let eta = 0.5 / s.beta
    let logTarget = s.target.logProbabilities
    let scale = logTarget.map { Swift.abs($0) }.max()! + s.reward.map { Swift.abs($0) }.max()! / s.beta
    worst = 0; worstTol = 0; worstRatio = -1
    for _ in 0..<3 {
        let start = (0..<s.n).map { _ in 3 * rng.gaussian() }
        let end = Dynamics.gradientAscent(logits: start, stepSize: eta, steps: steps, record: steps, gradient: { pi in
            let shaped = Objective.shapedReward(pi, prior: s.prior, reward: s.reward, beta: s.beta)
            let j = pi.expectation(shaped)
            return shaped.map { $0 - j }
        }).last!.policy
        let tv = totalVariation(end, s.target)
        let initialGap = zip(Distribution.softmax(start).logProbabilities, logTarget).map { Swift.abs($0 - $1) }.max()!
        let tol = 2 * initialGap * pow(0.5, Double(steps)) + 8 * Double(s.n + 3) * Double.ulpOfOne * scale
        if tv / tol > worstRatio { worstRatio = tv / tol; worst = tv; worstTol = tol }
        reverse = end
    }
    page.check(Check(claim: "Natural-gradient KL-regularised RL (reverse KL) reaches π* from 3 random starts in 200 steps (worst start shown)", reference: "eqs. 4, 7",
                     aLabel: "TV(π_θ, π*)", bLabel: "0", a: worst, b: 0, tolerance: worstTol,
                     because: "log π_θ − log π* shrinks by ½ a step: TV ≤ 2·2⁻²⁰⁰·(initial gap) plus a contracted rounding floor of 8(n+3)ε(max|log π*| + max|r|/β)"))
    return Fits(forward: forward, reverse: reverse)
}

// MARK: - A family that cannot represent π*: moment matching vs mode seeking

func bimodal(_ page: Page, _ seeds: Seeds, positions L: Int) throws {
    page.section("When π* is out of reach: moment matching against mode seeking")
    let rng = seeds.generator("bimodal")
    let p = 0.8 + 0.1 * rng.uniform()
    let family = IndependentPositions(length: L)
    let n = family.count
    // π*(x) = ½ p^k (1−p)^{L−k} + ½ (1−p)^k p^{L−k}, k = number of ones.
    let target = Distribution(logWeights: (0..<n).map { x in
        let k = Double(x.nonzeroBitCount), m = Double(L) - k
        return LogSpace.logSumExp([k * log(p) + m * log1p(-p), k * log1p(-p) + m * log(p)]) - log(2)
    })
    page.prose("Take bit strings of length \(L) and a target with two modes: with probability ½ every bit is 1 with probability \(NumberFormat.format(p, significant: 3)), otherwise every bit is 0 with that probability. Fit it with the family that draws positions independently, which cannot express that the bits agree. The forward KL is minimised by matching each position's marginal (here ½), which spreads mass over both modes and the valley between them; its minimum is the total correlation of $\\pi^*$. The reverse KL punishes mass where $\\pi^*$ has little, so its optima sit on one mode. Every stationary point of the reverse KL satisfies the mean-field equations, which we evaluate by enumeration.")
    page.equation("\\min_\\theta \\mathrm{KL}(\\pi^* \\| q_\\theta) = \\sum_i H(\\pi^*_i) - H(\\pi^*), \\qquad \\theta_i = \\mathbb{E}_{q_{-i}} \\left[ \\log \\frac{\\pi^*(x_{i \\leftarrow 1})}{\\pi^*(x_{i \\leftarrow 0})} \\right] \\text{ at reverse-KL optima}")
    let marg = family.marginals(target)
    let fwd = try Minimizer.minimize(IndependentPositionsObjective(family: family, target: target, direction: .forward),
                                     from: (0..<L).map { _ in rng.gaussian() }, gradientTolerance: gradientTolerance, maxIterations: 20_000)
    let qF = family.distribution(logits: fwd.x)
    let sigmaF = fwd.x.map { 1 / (1 + exp(-$0)) }
    page.parameters([("positions $L$", "\(L)"), ("$|X| = 2^L$", "\(n)"), ("mode bit probability p", NumberFormat.format(p)), ("BFGS gradient tolerance", "10⁻¹⁰")])
    page.check(Check(claim: "The forward-KL optimum found by BFGS matches every marginal of π*", reference: "§6",
                     aLabel: "max_i |σ(θ_i) − π*(x_i = 1)|", bLabel: "0", a: zip(sigmaF, marg).map { Swift.abs($0 - $1) }.max()!, b: 0,
                     tolerance: min(max(fwd.gradientNorm, gradientTolerance), gradientCap) + summationTolerance(n, scale: 2), because: "the forward gradient is exactly σ(θ) − marginals: |·| ≤ ‖g‖, plus 2^L-term rounding"))
    let klFwdMin = family.forwardOptimumDivergence(target)
    page.check(Check.close("The forward-KL minimum equals the total correlation Σ_i H(π*_i) − H(π*)", reference: "§6",
                           aLabel: "KL(π* ‖ q_fwd)", bLabel: "Σ H_i − H", a: klDivergence(target, qF), b: klFwdMin,
                           relative: 0, absolute: 2 * Double(L) * pow(min(max(fwd.gradientNorm, gradientTolerance), gradientCap), 2) / min(0.25, sigmaF.map { $0 * (1 - $0) }.min()!) + summationTolerance(n, scale: 4 * Double(L)),
                           because: "KL − min = Σ_i KL(Bern(m_i) ‖ Bern(σ_i)) ≈ ½Σ(σ−m)²/(σ(1−σ)) ≤ L‖g‖²/min σ(1−σ), plus 2^L-term rounding"))
    page.check(Check(claim: "Moment matching over-spreads: H(q_fwd) ≥ H(π*) (subadditivity of entropy)", reference: "§6",
                     aLabel: "H(q_fwd)", bLabel: "H(π*)", a: qF.entropy, b: target.entropy, relation: .greaterOrEqual,
                     tolerance: summationTolerance(n, scale: 4 * Double(L)), because: "2^L-term sums"))
    // Reverse KL from several starts.
    var runs: [(q: Distribution, kl: Double, ones: Double, residual: Double, tol: Double)] = []
    for _ in 0..<6 {
        let m = try Minimizer.minimize(IndependentPositionsObjective(family: family, target: target, direction: .reverse),
                                       from: (0..<L).map { _ in 2 * rng.gaussian() }, gradientTolerance: gradientTolerance, maxIterations: 20_000)
        let q = family.distribution(logits: m.x)
        let mf = family.meanFieldLogits(logits: m.x, target: target)
        let sig = m.x.map { 1 / (1 + exp(-$0)) }
        let residual = zip(m.x, mf).map { Swift.abs($0 - $1) }.max()!
        let maxLog = target.logProbabilities.map { Swift.abs($0) }.max()!
        let tol = 2 * min(max(m.gradientNorm, gradientTolerance), gradientCap) / sig.map { $0 * (1 - $0) }.min()! + summationTolerance(n, scale: 4 * maxLog)
        runs.append((q, klDivergence(q, target), sig.reduce(0, +) / Double(L), residual, tol))
    }
    let worstRun = runs.max { $0.residual / $0.tol < $1.residual / $1.tol }!
    page.check(Check(claim: "Every reverse-KL optimum (6 random starts) satisfies the mean-field equations (worst run shown)", reference: "§6",
                     aLabel: "$\\max_i |θ_i − \\mathbb{E}_{q_{−i}}[\\text{log-odds}_i]|$", bLabel: "0", a: worstRun.residual, b: 0, tolerance: worstRun.tol,
                     because: "∂KL/∂θ_i = σ_i(1−σ_i)(θ_i − mean-field_i), so the residual is ≤ ‖g‖/min σ(1−σ) (doubled), plus 2^L-term rounding"))
    let best = runs.min { $0.kl < $1.kl }!
    let component = family.distribution(logits: [Double](repeating: log(p / (1 - p)), count: L))
    page.check(Check(claim: "The best reverse-KL optimum is at least as good as sitting exactly on one mode, Bernoulli(p)^L", reference: "§6",
                     aLabel: "KL(q_rev ‖ π*)", bLabel: "KL(Bern(p)^L ‖ π*)", a: best.kl, b: klDivergence(component, target), relation: .lessOrEqual,
                     tolerance: summationTolerance(n, scale: 4 * Double(L)), because: "both are 2^L-term sums"))
    page.check(Check(claim: "Mode seeking beats moment matching on the reverse KL", reference: "§6",
                     aLabel: "KL(q_rev ‖ π*)", bLabel: "KL(q_fwd ‖ π*)", a: best.kl, b: klDivergence(qF, target), relation: .lessOrEqual,
                     tolerance: summationTolerance(n, scale: 4 * Double(L)), because: "2^L-term sums"))
    page.check(Check(claim: "…and moment matching beats mode seeking on the forward KL", reference: "§6",
                     aLabel: "KL(π* ‖ q_fwd)", bLabel: "KL(π* ‖ q_rev)", a: klDivergence(target, qF), b: klDivergence(target, best.q), relation: .lessOrEqual,
                     tolerance: summationTolerance(n, scale: 4 * Double(L)), because: "2^L-term sums"))
    let rowFor = { (name: String, q: Distribution) -> [String] in
        [name, NumberFormat.format(klDivergence(target, q), significant: 4), NumberFormat.format(klDivergence(q, target), significant: 4),
         NumberFormat.format(q.entropy, significant: 4), NumberFormat.format(q.expectedDistinct(draws: 100), significant: 4)]
    }
    page.table(headers: ["distribution", "KL(π* ‖ q)", "KL(q ‖ π*)", "entropy", "distinct in 100 draws"],
               rows: [rowFor("target π*", target), rowFor("forward optimum (moment matching)", qF), rowFor("best reverse optimum (mode seeking)", best.q)],
               caption: "Both divergences, entropy and diversity at the two optima")
    page.table(headers: ["start", "KL(q ‖ π*)", "mean bit probability", "mode"],
               rows: runs.enumerated().map { i, r in ["\(i + 1)", NumberFormat.format(r.kl, significant: 6), NumberFormat.format(r.ones, significant: 4),
                                                       r.ones > 0.6 ? "ones" : r.ones < 0.4 ? "zeros" : "mixed"] },
               caption: "Reverse-KL optima from six random starts: each settles on a mode (or a mixed stationary point)")
    let ones = { (q: Distribution) -> [Double] in
        var c = [Double](repeating: 0, count: L + 1)
        for x in 0..<n { c[x.nonzeroBitCount] += q.probabilities[x] }
        return c
    }
    page.plot(BarChart(title: "Forward vs reverse fits of a bimodal target", description: "Distribution of the number of ones under the target and the two fits.",
                       categories: (0...L).map { "\($0)" }, yLabel: "probability",
                       series: [("target π*", ones(target)), ("forward fit (moment matching)", ones(qF)), ("reverse fit (mode seeking)", ones(best.q))]),
              caption: "The forward fit puts its mass in the valley between the modes; the reverse fit covers one mode and ignores the other.")
    page.record("bimodal_forward_kl_min", klFwdMin)
    page.record("bimodal_reverse_kl_best", best.kl)
}

// MARK: - MLE on filtered samples

func maximumLikelihood(_ page: Page, _ s: Setting, _ seeds: Seeds, draws: Int) throws -> Distribution {
    page.section("Maximum likelihood on filtered samples recovers π*")
    page.prose("Supervised fine-tuning minimises the cross-entropy from the empirical distribution of its data, which is the forward KL from that distribution plus a constant, its entropy. If the data are samples of $\\pi^*$ (here: draws from $\\pi_0$ kept with probability $e^{(r - \\max r)/\\beta}$, chapter 6), the empirical distribution converges to $\\pi^*$, and so does the maximum-likelihood fit.")
    page.equation("H(\\hat{p}, \\pi_\\theta) = -\\sum_x \\hat{p}(x) \\log \\pi_\\theta(x) = \\mathrm{KL}(\\hat{p} \\| \\pi_\\theta) + H(\\hat{p})")
    let rng = seeds.generator("mle")
    var worst = 0.0
    for k in 0..<100 {
        let a = Distribution(weights: rng.dirichlet(count: s.n, concentration: [0.1, 1, 10][k % 3]))
        let b = Distribution(weights: rng.dirichlet(count: s.n, concentration: 1))
        worst = max(worst, Swift.abs(crossEntropy(a, b) - (klDivergence(a, b) + a.entropy)))
    }
    page.check(Check(claim: "Cross-entropy = KL + entropy for 100 random pairs", reference: "§6",
                     aLabel: "max |H(p,q) − KL(p‖q) − H(p)|", bLabel: "0", a: worst, b: 0,
                     tolerance: summationTolerance(s.n, scale: 3 * 40), because: "three n-term sums of terms ≤ 40 nats"))
    let acceptance = RejectionSampling.acceptanceProbabilities(reward: s.reward, beta: s.beta)
    let sampler = try DiscreteSampler(weights: s.prior.probabilities)
    var kept: [Int] = []
    var sizes: [Double] = [], kls: [Double] = [], expected: [Double] = []
    var next = 100
    while kept.count < draws {
        let d = RejectionSampling.draw(rng, propose: { sampler.sample(rng) }, acceptance: { acceptance[$0] })
        kept.append(d.x)
        if kept.count == next || kept.count == draws {
            let emp = Distribution(weights: GoodnessOfFit.counts(kept, outcomes: s.n).map(Double.init))
            sizes.append(Double(kept.count)); kls.append(klDivergence(emp, s.target)); expected.append(Double(s.n - 1) / (2 * Double(kept.count)))
            next *= 2
        }
    }
    let counts = GoodnessOfFit.counts(kept, outcomes: s.n)
    let emp = Distribution(weights: counts.map(Double.init))
    let gof = try GoodnessOfFit(observed: counts, probabilities: s.target.probabilities)
    page.check(Check(claim: "The filtered samples follow π* (chi-square)", reference: "§5-6",
                     aLabel: "p-value", bLabel: "level", a: gof.pValue, b: chiSquareLevel, relation: .greaterOrEqual,
                     tolerance: 0, because: "chi-square test (\(gof.cells) pooled cells): false failure 10⁻⁶"))
    let start = s.prior.logProbabilities
    let m = try Minimizer.minimize(SoftmaxDivergenceObjective(target: emp, direction: .forward), from: start,
                                   gradientTolerance: gradientTolerance, maxIterations: 20_000)
    let fit = Distribution.softmax(m.x)
    page.check(Check(claim: "BFGS on the cross-entropy converges to the empirical distribution (the MLE over the simplex)", reference: "§6",
                     aLabel: "TV(π_MLE, p̂)", bLabel: "0", a: totalVariation(fit, emp), b: 0,
                     tolerance: Double(s.n).squareRoot() * min(max(m.gradientNorm, gradientTolerance), gradientCap) + summationTolerance(s.n, scale: 4),
                     because: "the gradient is exactly π_θ − p̂: TV = ½Σ|g| ≤ ½√n‖g‖ (doubled), plus rounding"))
    page.plot(LinePlot(title: "MLE on filtered samples approaches π*", description: "KL from the empirical distribution of N filtered samples to the posterior, against N.",
                       xLabel: "filtered samples N", yLabel: "KL(p̂_N ‖ π*)", xScale: .log10, yScale: .log10,
                       series: [Series("KL(p̂_N ‖ π*)", x: sizes, y: kls, style: .lineAndPoints), Series("(n − 1)/(2N)", x: sizes, y: expected, style: .dashed)]),
              caption: "The divergence of the maximum-likelihood fit falls like $(n-1)/(2N)$, the mean of $\\chi^2_{n-1}/(2N)$.")
    return fit
}

// MARK: - The double dissociation

func dissociation(_ page: Page, _ s: Setting, fits: Fits, mle: Distribution) {
    page.section("The double dissociation")
    page.prose("Put the methods side by side on the same prior, reward and β. Reward maximisation without a KL term collapses onto the best outcome (chapter 1). Everything that minimises a KL divergence to $\\pi^*$ reaches it, whether or not a reward is maximised along the way: KL-regularised RL (reverse KL), DPG (forward KL) and maximum likelihood on filtered samples (forward KL from data). It is the divergence, not the reward maximisation, that does the work.")
    let path = Dynamics.gradientAscent(logits: s.prior.logProbabilities, stepSize: 1, steps: 100_000, record: 100_000,
                                       gradient: { pi in let j = Objective.expectedReward(pi, reward: s.reward); return s.reward.map { $0 - j } },
                                       stop: { $0.probabilities[s.best] >= 1 - 1e-9 })
    let rl = path.last!.policy
    page.check(Check(claim: "RL without KL collapses: π(x*) reaches 1 − 10⁻⁹", reference: "§6, eq. 2",
                     aLabel: "π_RL(x*)", bLabel: "1", a: rl.probabilities[s.best], b: 1, relation: .greaterOrEqual,
                     tolerance: 1e-9, because: "collapse criterion 10⁻⁹ within 100000 natural-gradient steps (reward gap ≥ 0.1)"))
    let rows = [("RL without KL (natural gradient on J_RL)", rl), ("KL-regularised RL (reverse KL, natural gradient)", fits.reverse),
                ("DPG (forward KL, BFGS)", fits.forward), ("MLE on filtered samples", mle), ("target π*", s.target)]
    page.table(headers: ["method", "KL(π ‖ π*)", "KL(π ‖ π0)", "entropy", "E_π[r]", "distinct in 100 draws"],
               rows: rows.map { name, pi in
                   [name, NumberFormat.format(klDivergence(pi, s.target), significant: 4), NumberFormat.format(klDivergence(pi, s.prior), significant: 4),
                    NumberFormat.format(pi.entropy, significant: 4), NumberFormat.format(pi.expectation(s.reward), significant: 4),
                    NumberFormat.format(pi.expectedDistinct(draws: 100), significant: 4)]
               },
               caption: "RL without KL degenerates; every KL-minimising method lands on π* (MLE up to sampling error)")
    let eps = 1 - rl.probabilities[s.best]
    let logT = s.target.logProbabilities
    page.check(Check(claim: "The collapsed RL policy sits at the point-mass divergence: KL(π_RL ‖ π*) → −log π*(x*)", reference: "§6, eq. 2",
                     aLabel: "KL(π_RL ‖ π*)", bLabel: "−log π*(x*)", a: klDivergence(rl, s.target), b: -logT[s.best],
                     tolerance: rl.entropy + eps * (Swift.abs(logT[s.best]) + logT.map { Swift.abs($0) }.max()!) + summationTolerance(s.n, scale: 40),
                     because: "|KL − (−log π*(x*))| ≤ H(π_RL) + ε(|log π*(x*)| + max|log π*|), ε = 1 − π_RL(x*), as in chapter 1"))
    page.record("rl_kl_to_target", klDivergence(rl, s.target))
}

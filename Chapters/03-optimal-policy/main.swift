// Chapter 3: the optimal policy is a Bayesian posterior (paper §4, eqs. 5-6).
//
// The maximiser of the KL-regularised objective is the prior reweighted by exp(r/β) and
// renormalised, and the maximum is β log Z. This program checks both against random policies,
// against a general-purpose optimiser that knows nothing of the formula, against closed forms
// on bit strings, and at the two ends of the temperature scale.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct OptimalPolicy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optimal-policy",
        abstract: "Chapter 3: the optimal KL-regularised policy is the posterior π0 exp(r/β)/Z, worth β log Z.",
        discussion: "Verifies paper §4 (eqs. 5-6) on exact finite distributions and writes Output/03-optimal-policy.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of outcomes |X| of the exact space (2 to 100000); the optimiser runs on the first 300 at most.")
    var outcomes: Int = 1000

    @Option(help: "Temperature β of eq. 5 (0.01 to 100); rewards lie in [0, 1].")
    var beta: Double = 0.1

    @Option(help: "Length L of the bit strings of the closed-form oracle (1 to 20; 2^L outcomes are enumerated).")
    var length: Int = 16

    @Option(help: "Prior probability p of a one in each bit of the oracle (0.001 to 0.999).")
    var bitProbability: Double = 0.3

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (2...100_000).contains(outcomes) else { throw ValidationError("--outcomes must be between 2 and 100000 (got \(outcomes))") }
        guard beta.isFinite, beta >= 0.01, beta <= 100 else { throw ValidationError("--beta must be a number in [0.01, 100] (got \(beta))") }
        guard (1...20).contains(length) else { throw ValidationError("--length must be between 1 and 20 (got \(length))") }
        guard bitProbability.isFinite, bitProbability >= 0.001, bitProbability <= 0.999 else {
            throw ValidationError("--bit-probability must be a number in [0.001, 0.999] (got \(bitProbability))")
        }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "03-optimal-policy", number: 3, title: "The optimal policy is the posterior",
            summary: "The KL-regularised objective is maximised by π0 exp(r/β)/Z and nothing else, with value β log Z; β interpolates between the prior and collapse.")
        try chapter.run(options: common, parameters: [("outcomes", "\(outcomes)"), ("beta", "\(beta)"), ("length", "\(length)"), ("bit-probability", "\(bitProbability)")]) { page, seeds in
            let setting = Setting(outcomes: outcomes, beta: beta, seeds: seeds)
            normalisation(page, setting)
            upperBound(page, setting, seeds)
            try optimiser(page, setting, seeds, quick: common.quick)
            try bitStrings(page, length: length, p: bitProbability, beta: beta)
            limits(page, setting)
        }
    }
}

// MARK: - The setting

/// A Dirichlet(1) prior with full support and rewards uniform on [0, 1].
struct Setting {
    let n: Int
    let beta: Double
    let prior: Distribution
    let reward: [Double]
    let posterior: Distribution
    let logZ: Double

    init(outcomes n: Int, beta: Double, seeds: Seeds) {
        let rng = seeds.generator("setting")
        let prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        self.init(prior: prior, reward: (0..<n).map { _ in rng.uniform() }, beta: beta)
    }

    init(prior: Distribution, reward: [Double], beta: Double) {
        self.n = prior.count; self.beta = beta; self.prior = prior; self.reward = reward
        posterior = Posterior.distribution(prior: prior, reward: reward, beta: beta)
        logZ = Posterior.logPartitionFunction(prior: prior, reward: reward, beta: beta)
    }

    var maxAbsReward: Double { reward.map { Swift.abs($0) }.max()! }
    var rewardRange: Double { reward.max()! - reward.min()! }

    /// The first m outcomes, prior renormalised, same rewards and β.
    func subspace(_ m: Int) -> Setting {
        guard m < n else { return self }
        return Setting(prior: Distribution(logWeights: Array(prior.logProbabilities.prefix(m))), reward: Array(reward.prefix(m)), beta: beta)
    }
}

/// Rounding allowance for a sum of n terms each at most `scale` in size: (n + 2) ε scale.
func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

/// 1 + max(|log π0(x)|, |log π(x)|) over the support of π: the size of the logarithms in the KL
/// terms (a difference of two rounded logarithms is only as exact as the larger one).
func maxLogRatio(_ pi: Distribution, _ prior: Distribution) -> Double {
    var m = 0.0
    for x in 0..<pi.count where pi.probabilities[x] > 0 { m = max(m, Swift.abs(prior.logProbabilities[x]), Swift.abs(pi.logProbabilities[x])) }
    return 1 + m
}

/// The rounding allowance of J_KLRL(π) = E_π[r] − β KL(π ‖ π0) against β log Z.
func objectiveTolerance(_ s: Setting, _ pi: Distribution) -> Double {
    2 * summationTolerance(s.n, scale: s.maxAbsReward + s.beta * maxLogRatio(pi, s.prior)) + 4 * Double.ulpOfOne * s.beta * Swift.abs(s.logZ)
}

// MARK: - Eq. 5: the posterior and its normaliser

func normalisation(_ page: Page, _ s: Setting) {
    page.section("The posterior and what it is worth")
    page.prose("Reweight the prior by $e^{r/\\beta}$: outcomes with high reward gain, and the temperature $\\beta$ sets how much. Dividing by the total weight $Z$ makes a distribution, the posterior of eq. 5. The claim of eq. 6 is that this posterior is the best policy for the KL-regularised objective, and the value it reaches is $\\beta \\log Z$. We compute $\\log Z$ twice (log-sum-exp over $\\log \\pi_0 + r/\\beta$, and a shifted average of $e^{r/\\beta}$ under the prior) and the objective at the posterior from its two sums.")
    page.equation("\\pi^*(x) = \\frac{1}{Z} \\pi_0(x) \\exp \\left( r(x) / \\beta \\right), \\quad Z = \\sum_{x} \\pi_0(x) \\exp \\left( r(x) / \\beta \\right), \\qquad J_{KLRL}(\\pi^*) = \\beta \\log Z", number: "5")
    page.parameters([("$|X|$", "\(s.n)"), ("prior $\\pi_0$", "Dirichlet(1, …, 1) draw"), ("reward", "uniform on [0, 1]"), ("$\\beta$", NumberFormat.format(s.beta))])
    let top = s.reward.max()! / s.beta
    let shifted = s.prior.expectation(s.reward.map { exp($0 / s.beta - top) })
    page.check(Check.close("log Z by log-sum-exp equals the log of the prior average of e^{r/β} (shifted by max r/β)", reference: "eq. 5",
                           aLabel: "logSumExp(log π0 + r/β)", bLabel: "max r/β + log E_π0[e^{r/β − max r/β}]", a: s.logZ, b: top + log(shifted),
                           relative: 4 * Double.ulpOfOne, absolute: 2 * summationTolerance(s.n, scale: 1),
                           because: "two n-term sums of terms ≤ 1 whose total is at least π0(argmax r): 2(n+2)ε relative to it, plus a few ε of |log Z|"))
    let total = (0..<s.n).reduce(0.0) { $0 + s.prior.probabilities[$1] * exp(s.reward[$1] / s.beta - s.logZ) }
    page.check(Check(claim: "π* normalises: Σ_x π0(x) e^{r(x)/β − log Z} = 1", reference: "eq. 5", aLabel: "Σ_x π*(x)", bLabel: "1",
                     a: total, b: 1, tolerance: summationTolerance(s.n, scale: 1) + 4 * Double.ulpOfOne * (1 + Swift.abs(s.logZ) + top),
                     because: "an n-term sum: (n+2)ε, plus the rounding of exp at arguments up to max r/β"))
    let j = Objective.klRegularised(s.posterior, prior: s.prior, reward: s.reward, beta: s.beta)
    page.check(Check(claim: "The posterior is worth β log Z: E_π*[r] − β KL(π* ‖ π0) = β log Z", reference: "eqs. 5-6",
                     aLabel: "J_KLRL(π*)", bLabel: "β log Z", a: j, b: s.beta * s.logZ, tolerance: objectiveTolerance(s, s.posterior),
                     because: "two n-term sums, terms ≤ max|r| + β(1 + max|log π*|, |log π0|): 2(n+2)ε times that, plus a few ε of β|log Z|"))
    page.record("log_partition_function", s.logZ)
    page.record("objective_at_posterior", j)
}

// MARK: - Eq. 6: nothing beats the posterior

func upperBound(_ page: Page, _ s: Setting, _ seeds: Seeds) {
    page.section("No policy does better, and only the posterior does as well")
    page.prose("Draw policies at random from Dirichlet distributions (from very sparse to nearly uniform), add the prior and mixtures that sit closer and closer to the posterior, and evaluate the objective of each. None exceeds $\\beta \\log Z$. Equality holds only at the posterior: the shortfall is at least $2 \\beta \\, \\mathrm{TV}(\\pi, \\pi^*)^2$ (chapter 5 shows it is exactly $\\beta \\operatorname{KL}(\\pi, \\pi^*)$, and Pinsker's inequality bounds that KL below), so a policy that falls short by almost nothing must be almost the posterior.")
    page.equation("J_{KLRL}(\\pi) \\le \\beta \\log Z, \\qquad \\beta \\log Z - J_{KLRL}(\\pi) \\ge 2 \\beta \\, \\mathrm{TV}(\\pi, \\pi^*)^2", number: "6")
    let rng = seeds.generator("upper-bound")
    var policies = (0..<300).map { k in Distribution(weights: rng.dirichlet(count: s.n, concentration: [0.01, 0.1, 1, 10][k % 4])) }
    policies.append(s.prior)
    for t in [0.3, 0.1, 0.01, 1e-3] {
        policies.append(Distribution(weights: (0..<s.n).map { (1 - t) * s.posterior.probabilities[$0] + t * s.prior.probabilities[$0] }))
    }
    var above = (value: -Double.infinity, tol: 0.0), pinsker = (value: Double.infinity, tol: 0.0)
    var gaps: [Double] = [], tvs: [Double] = []
    for pi in policies {
        let j = Objective.klRegularised(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let tol = objectiveTolerance(s, pi)
        let gap = s.beta * s.logZ - j
        let tv = totalVariation(pi, s.posterior)
        if j - s.beta * s.logZ - tol > above.value - above.tol { above = (j - s.beta * s.logZ, tol) }
        let slack = gap - 2 * s.beta * tv * tv
        let tolP = tol + 4 * s.beta * tv * summationTolerance(s.n, scale: 1)
        if slack + tolP < pinsker.value + pinsker.tol { pinsker = (slack, tolP) }
        gaps.append(gap); tvs.append(tv)
    }
    page.check(Check(claim: "No policy among 300 random ones, the prior and 4 near-posterior mixtures exceeds β log Z (worst case shown)", reference: "eq. 6",
                     aLabel: "J_KLRL(π) − β log Z", bLabel: "0", a: above.value, b: 0, relation: .lessOrEqual, tolerance: above.tol,
                     because: "rounding of the objective's two n-term sums: 2(n+2)ε(max|r| + β(1 + max|log π|, |log π0|))"))
    page.check(Check(claim: "The shortfall is at least 2β TV(π, π*)² for every one of them, so equality forces π = π*", reference: "eq. 6",
                     aLabel: "min_π [β log Z − J(π) − 2β TV²]", bLabel: "0", a: pinsker.value, b: 0, relation: .greaterOrEqual, tolerance: pinsker.tol,
                     because: "Pinsker's inequality is exact; slack for rounding of J and TV"))
    page.plot(LinePlot(title: "Shortfall from beta log Z against distance from the posterior", description: "Every policy falls short of beta log Z by at least 2 beta TV squared.",
                       xLabel: "TV(π, π*)", yLabel: "β log Z − J_KLRL(π)", xScale: .log10, yScale: .log10,
                       series: [Series("policies", x: tvs, y: gaps, style: .points),
                                Series("Pinsker bound 2β TV²", x: tvs.sorted(), y: tvs.sorted().map { 2 * s.beta * $0 * $0 }, style: .dashed)]),
              caption: "Random policies (points) all lie above the bound $2\\beta\\,\\mathrm{TV}^2$ (dashed). The shortfall vanishes only as the policy approaches the posterior.")
}

// MARK: - A general-purpose optimiser finds the posterior

/// The optimiser runs on the first `optimiserOutcomes` outcomes (prior renormalised).
let optimiserOutcomes = 300
/// Convergence criterion: the mean residual ρ left by the optimiser, in nats.
let residualCriterion = 1e-3

func optimiser(_ page: Page, _ full: Setting, _ seeds: Seeds, quick: Bool) throws {
    let s = full.subspace(optimiserOutcomes)
    page.section("A general-purpose optimiser finds the posterior")
    page.prose("Hand $-J_{KLRL}$ and its gradient to GSL's BFGS minimiser, starting from random policies. The optimiser knows nothing of eq. 5, yet it lands on the posterior. We parametrise the policy by amplitudes, $\\pi_u(x) = u_x^2 / \\lVert u \\rVert^2$, where the Fisher geometry is flat and the problem is well conditioned (softmax logits are not: see the remark). The answer is certified from the optimiser's own output, without eq. 5: the residuals $u(x) = (r'(x) - J)/\\beta$ of the shaped reward equal $\\operatorname{KL}(\\pi, \\pi^*) - \\delta_x$ with $\\delta = \\log \\pi - \\log \\pi^*$, and because $\\pi^* = \\pi e^{-\\delta}$ sums to one, $K = \\log \\mathbb{E}_\\pi[e^u]$ is that divergence. The residuals then bound the distance to the posterior (over-weighted outcomes carry the whole total variation) and give the shortfall from $\\beta \\log Z$.")
    page.equation("u(x) = \\frac{r'(x) - J_{KLRL}(\\pi)}{\\beta}, \\quad K = \\log \\sum_x \\pi(x) e^{u(x)} = \\operatorname{KL}(\\pi, \\pi^*), \\qquad \\mathrm{TV}(\\pi, \\pi^*) \\le \\sum_x \\pi(x) \\max(0, K - u(x)), \\quad \\beta \\log Z - J_{KLRL}(\\pi) = \\beta K", number: "6")
    let rng = seeds.generator("optimiser")
    let starts = quick ? 2 : 4
    page.parameters([("outcomes", "first \(s.n) (prior renormalised)"), ("starts", "\(starts), amplitudes |N(0, 1)|"),
                     ("optimiser", "GSL vector_bfgs2, step 0.1, line tolerance 0.1, until ‖∇‖ ≤ 10⁻¹² or no progress")])
    // Rounding of r' − J: terms up to max|r| + β(max|log π0| + max|log π|), relative ε each, over β.
    let maxLogPrior = s.prior.logProbabilities.map { Swift.abs($0) }.max()!
    var last = s.prior
    for k in 0..<starts {
        let start = (0..<s.n).map { _ in Swift.abs(rng.gaussian()) + 1e-3 }
        let result = try AmplitudeOptimisation.maximiseKLRegularised(prior: s.prior, reward: s.reward, beta: s.beta, from: start)
        let pi = result.policy
        let cert = AmplitudeOptimisation.certificate(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let maxLogPi = pi.logProbabilities.map { Swift.abs($0) }.max()!
        let residualRounding = 8 * Double.ulpOfOne * (s.maxAbsReward + s.beta * (maxLogPrior + maxLogPi)) / s.beta
        page.check(Check(claim: "Start \(k + 1): BFGS converges (\(result.iterations) iterations): the mean residual ρ = Σ π|u| is below 10⁻³ nats", reference: "eq. 6",
                         aLabel: "ρ", bLabel: "10⁻³", a: cert.meanResidual, b: residualCriterion, relation: .lessOrEqual,
                         tolerance: residualRounding, because: "convergence criterion 10⁻³ nats (the distance to the prior is of order 1); slack for the rounding of r' − J"))
        page.check(Check(claim: "Start \(k + 1): the optimiser's policy is the posterior, within the distance its residuals certify", reference: "eqs. 5-6",
                         aLabel: "TV(π_BFGS, π*)", bLabel: "Σ π max(0, K − u)", a: totalVariation(pi, s.posterior), b: cert.distanceBound, relation: .lessOrEqual,
                         tolerance: 2 * residualRounding + summationTolerance(s.n, scale: 1),
                         because: "the bound is exact given the residuals; slack for their rounding and the n-term TV sum"))
        page.check(Check(claim: "Start \(k + 1): the optimiser's value is β log Z, short by β times the divergence its residuals certify", reference: "eqs. 5-7",
                         aLabel: "β log Z − J_KLRL(π_BFGS)", bLabel: "β K", a: s.beta * s.logZ - result.objective, b: s.beta * cert.divergence,
                         tolerance: objectiveTolerance(s, pi) + 2 * s.beta * residualRounding,
                         because: "rounding of the objective's two n-term sums and of the residuals u = (r' − J)/β"))
        page.record("optimiser_tv_start_\(k + 1)", totalVariation(pi, s.posterior))
        page.record("optimiser_rho_start_\(k + 1)", cert.meanResidual)
        page.record("optimiser_certified_kl_start_\(k + 1)", cert.divergence)
        last = pi
    }
    // Softmax logits, for the remark: the same optimiser, one random start.
    let logitStart = (0..<s.n).map { _ in rng.gaussian() }
    let logitRun = try SoftmaxOptimisation.maximiseKLRegularised(prior: s.prior, reward: s.reward, beta: s.beta, from: logitStart, gradientTolerance: 1e-10)
    let logitCert = AmplitudeOptimisation.certificate(logitRun.policy, prior: s.prior, reward: s.reward, beta: s.beta)
    let starved = (0..<s.n).map { logitRun.policy.logProbabilities[$0] - s.posterior.logProbabilities[$0] }.min()!
    page.aside("The same BFGS on softmax logits, from one random start (\(logitRun.iterations) iterations, restarts included), stopped with gradient norm \(NumberFormat.format(logitRun.minimisation.gradientNorm, significant: 3)); its mean residual is ρ = \(NumberFormat.format(logitCert.meanResidual, significant: 3)), its most starved outcome has \(NumberFormat.format(-starved, significant: 3)) nats less log-probability than under π*, and TV(π, π*) = \(NumberFormat.format(totalVariation(logitRun.policy, s.posterior), significant: 3)), against \(NumberFormat.format(totalVariation(last, s.posterior), significant: 3)) for the last amplitude run. In logits an outcome's gradient is proportional to its probability, so a small gradient does not certify the optimum: an outcome that one long step has pushed far down keeps a gradient too small to register, and on some seeds and temperatures the logit run stops orders of magnitude further from π*, or on a wrong point mass. The shaped-reward residuals above see what the gradient norm misses.")
    page.record("softmax_logits_tv", totalVariation(logitRun.policy, s.posterior))
    // π0, π* and the optimiser's answer on the outcomes the posterior favours most.
    let top = (0..<s.n).sorted { s.posterior.probabilities[$0] > s.posterior.probabilities[$1] }.prefix(12)
    page.plot(BarChart(title: "Prior, posterior and the optimiser's answer", description: "Probabilities of the twelve outcomes the posterior favours most.",
                       categories: top.map { "x=\($0)" }, yLabel: "probability",
                       series: [(name: "prior π0", values: top.map { s.prior.probabilities[$0] }),
                                (name: "posterior π*", values: top.map { s.posterior.probabilities[$0] }),
                                (name: "BFGS answer", values: top.map { last.probabilities[$0] })]),
              caption: "The optimiser's bars match the posterior's; both move mass from the prior towards high-reward outcomes.")
}

// MARK: - A closed-form oracle on bit strings

func bitStrings(_ page: Page, length L: Int, p: Double, beta: Double) throws {
    page.section("Closed forms on bit strings")
    let model = BernoulliProduct(length: L, bitProbability: p)
    page.prose("Take strings of $L$ bits, a prior that sets each bit to one with probability $p$ independently, and a reward that counts the ones. Everything factorises: the posterior sets each bit independently with a new probability $p'$, the normaliser is a power, and the number of ones is binomial. We compare these closed forms (with $\\log C(L, k)$, the log of the binomial coefficient, from GSL's gsl_sf_lnchoose) with brute-force sums over all $2^L$ strings.")
    page.equation("Z = \\left( 1 - p + p e^{1/\\beta} \\right)^L, \\quad \\pi^* = \\operatorname{Bernoulli}(p')^L, \\ p' = \\frac{p e^{1/\\beta}}{1 - p + p e^{1/\\beta}}, \\quad \\pi^*(k) = \\frac{L!}{k! \\, (L - k)!} p'^k (1 - p')^{L - k}", number: "5")
    let prior = model.enumeratedPrior()
    let reward = model.enumeratedReward()
    let n = model.outcomeCount
    let logZ = model.logPartitionFunction(beta: beta)
    let bit = model.logPosteriorBit(beta: beta)
    page.parameters([("$L$", "\(L) (\(n) strings)"), ("$p$", NumberFormat.format(p)), ("$\\beta$", NumberFormat.format(beta)),
                     ("$p'$", NumberFormat.format(exp(bit.one)))])
    let scale = Double(L) * (1 / beta + Swift.abs(log(p)) + Swift.abs(log1p(-p)))
    let enumLogZ = Posterior.logPartitionFunction(prior: prior, reward: reward, beta: beta)
    page.check(Check.close("log Z in closed form equals log-sum-exp over all 2^L strings", reference: "eq. 5",
                           aLabel: "L log(1 − p + p e^{1/β})", bLabel: "log Σ_x π0(x) e^{r(x)/β}", a: logZ, b: enumLogZ,
                           relative: 0, absolute: summationTolerance(n, scale: 1) + 4 * Double.ulpOfOne * scale,
                           because: "a 2^L-term sum: (2^L+2)ε, plus rounding of L log-terms of size ≤ 1/β + |log p| + |log(1−p)|"))
    let post = Posterior.distribution(prior: prior, reward: reward, beta: beta)
    let worst = (0..<n).map { Swift.abs(post.logProbabilities[$0] - model.logPosterior(ones: $0.nonzeroBitCount, beta: beta)) }.max()!
    page.check(Check(claim: "Every string's posterior log-probability is that of independent Bernoulli(p') bits", reference: "eq. 5",
                     aLabel: "max_x |log π*_enum(x) − log π*_closed(x)|", bLabel: "0", a: worst, b: 0,
                     tolerance: 2 * (summationTolerance(n, scale: 1) + 4 * Double.ulpOfOne * scale),
                     because: "log-sum-exp over 2^L terms, (2^L+2)ε, plus rounding of sums of L logs of size ≤ the scale above, twice"))
    let law = try model.logCountLaw(beta: beta)
    var enumerated = [Double](repeating: 0, count: L + 1)
    for x in 0..<n { enumerated[x.nonzeroBitCount] += post.probabilities[x] }
    let lawDiff = (0...L).map { Swift.abs(exp(law[$0]) - enumerated[$0]) }.max()!
    var lnChooseError = 0.0
    for k in 0...L { lnChooseError = max(lnChooseError, try SpecialFunctions.lnChoose(L, k).error) }
    page.check(Check(claim: "The number of ones under π* is Binomial(L, p'), with log C(L, k) from gsl_sf_lnchoose", reference: "eq. 5",
                     aLabel: "max_k |P*_closed(k) − Σ_{x: k(x)=k} π*(x)|", bLabel: "0", a: lawDiff, b: 0,
                     tolerance: 2 * summationTolerance(n, scale: 1) + 2 * lnChooseError + 8 * Double.ulpOfOne * scale,
                     because: "2^L-term sums, GSL's own error estimate of lnchoose, and rounding of k log p' + (L−k) log(1−p')"))
    let klClosed = model.posteriorKLFromPrior(beta: beta)
    page.check(Check.close("KL(π* ‖ π0) is L times the KL of one bit", reference: "eq. 5",
                           aLabel: "L KL(Bern(p') ‖ Bern(p))", bLabel: "Σ_x π*(x) log(π*(x)/π0(x))", a: klClosed, b: klDivergence(post, prior),
                           relative: 0, absolute: summationTolerance(n, scale: scale) + 8 * Double.ulpOfOne * scale,
                           because: "a 2^L-term sum of terms ≤ the log-ratio scale: (2^L+2)ε scale"))
    let eClosed = model.posteriorExpectedReward(beta: beta)
    page.check(Check.close("The posterior's expected number of ones is L p'", reference: "eq. 5",
                           aLabel: "L p'", bLabel: "Σ_x π*(x) k(x)", a: eClosed, b: post.expectation(reward),
                           relative: 0, absolute: summationTolerance(n, scale: Double(L)) + 4 * Double.ulpOfOne * Double(L),
                           because: "a 2^L-term sum of terms ≤ L: (2^L+2)ε L"))
    page.check(Check.close("The closed forms are worth β log Z: L p' − β L KL(p' ‖ p) = β L log(1 − p + p e^{1/β})", reference: "eq. 6",
                           aLabel: "E*[r] − β KL (closed)", bLabel: "β log Z (closed)", a: eClosed - beta * klClosed, b: beta * logZ,
                           relative: 0, absolute: 16 * Double.ulpOfOne * beta * scale + 4 * Double.ulpOfOne * Double(L),
                           because: "a few roundings of terms of size β(L/β + L|log p| + L|log(1−p)|)"))
    let priorLaw = try (0...L).map { k in exp(try SpecialFunctions.lnChoose(L, k).value + Double(k) * log(p) + Double(L - k) * log1p(-p)) }
    page.plot(BarChart(title: "Number of ones under the prior and the posterior", description: "Binomial(L, p) under the prior, Binomial(L, p') under the posterior, from enumeration and closed form.",
                       categories: (0...L).map { "\($0)" }, yLabel: "probability",
                       series: [(name: "prior Binomial(L, p)", values: priorLaw), (name: "posterior, enumerated", values: enumerated),
                                (name: "posterior, closed form", values: law.map { exp($0) })]),
              caption: "The reward tilts the count of ones from Binomial$(L, p)$ to Binomial$(L, p')$; enumeration and closed form coincide.")
}

// MARK: - The two ends of the temperature scale

func limits(_ page: Page, _ s: Setting) {
    page.section("Hot and cold: the prior and collapse")
    let a = Reward.maximisers(s.reward)
    let pA = s.prior.mass(of: a)
    let runnerUp = (0..<s.n).filter { !a.contains($0) }.map { s.reward[$0] }.max()
    let gap = runnerUp.map { s.reward.max()! - $0 } ?? 1
    page.prose("At high temperature the evidence $e^{r/\\beta}$ is nearly flat and the posterior stays with the prior: by Hoeffding's lemma, $\\operatorname{KL}(\\pi_0, \\pi^*_\\beta) = \\log \\mathbb{E}_{\\pi_0}[e^{(r - \\mathbb{E}_{\\pi_0} r)/\\beta}] \\le (\\max r - \\min r)^2 / (8 \\beta^2)$. At low temperature it concentrates on the best outcomes $A$ and keeps the prior's proportions there, the collapse of chapter 1: the mass left outside $A$ is at most $\\frac{1 - \\pi_0(A)}{\\pi_0(A)} e^{-\\Delta/\\beta}$, where $\\Delta$ is the gap from the best reward to the runner-up.")
    page.equation("\\lim_{\\beta \\to \\infty} \\pi^*_\\beta = \\pi_0, \\qquad \\lim_{\\beta \\to 0} \\pi^*_\\beta = \\pi_0( \\cdot \\mid A), \\quad A = \\argmax_x r(x)")
    let range = s.rewardRange
    for hot in [10.0, 1000.0] {
        let post = Posterior.distribution(prior: s.prior, reward: s.reward, beta: hot)
        let kl = klDivergence(s.prior, post)
        page.check(Check(claim: "At β = \(NumberFormat.format(hot)) the posterior is within Hoeffding's bound of the prior", reference: "eq. 5",
                         aLabel: "KL(π0 ‖ π*_β)", bLabel: "range(r)²/(8β²)", a: kl, b: range * range / (8 * hot * hot), relation: .lessOrEqual,
                         tolerance: summationTolerance(s.n, scale: range / hot + 1) + 4 * Double.ulpOfOne,
                         because: "Hoeffding's lemma is exact; slack for an n-term sum of log-ratios ≤ range/β"))
    }
    let cold = gap / 40
    let post = Posterior.distribution(prior: s.prior, reward: s.reward, beta: cold)
    let limit = Posterior.zeroTemperatureLimit(prior: s.prior, reward: s.reward)
    page.check(Check(claim: "At β = Δ/40 = \(NumberFormat.format(cold)) the posterior is within (1−π0(A))/π0(A)·e^{−40} of π0(·|A) in total variation", reference: "eq. 5",
                     aLabel: "TV(π*_β, π0(·|A))", bLabel: "bound", a: totalVariation(post, limit), b: (1 - pA) / pA * exp(-gap / cold), relation: .lessOrEqual,
                     tolerance: summationTolerance(s.n, scale: 1), because: "the bound is exact; slack for n-term rounding"))
    let betas = (0...48).map { pow(10, -3 + 6 * Double($0) / 48) }
    let toPrior = betas.map { totalVariation(Posterior.distribution(prior: s.prior, reward: s.reward, beta: $0), s.prior) }
    let toLimit = betas.map { totalVariation(Posterior.distribution(prior: s.prior, reward: s.reward, beta: $0), limit) }
    page.plot(LinePlot(title: "The posterior between its two limits", description: "Total variation from the posterior to the prior and to the prior restricted to the argmax, across temperatures.",
                       xLabel: "β", yLabel: "total variation", xScale: .log10,
                       series: [Series("TV(π*_β, π0)", x: betas, y: toPrior), Series("TV(π*_β, π0(·|A))", x: betas, y: toLimit, style: .dashed)],
                       references: [ReferenceLine(.vertical, at: s.beta, label: "β of this run")], yIncludesZero: true),
              caption: "Hot posteriors are the prior; cold ones are the prior restricted to the best outcomes. The chosen $\\beta$ sits between.")
}

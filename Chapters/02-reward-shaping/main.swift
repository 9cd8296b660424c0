// Chapter 2: KL-regularised RL as reward shaping (paper §3, eqs. 3-4).
//
// The KL penalty can be folded into the reward, so KL-regularised RL looks like ordinary RL
// with a reward that depends on the policy. This program checks that rewriting, the policy
// gradient it implies, and the trade-off that β sets between reward and distance from the prior.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct RewardShaping: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward-shaping",
        abstract: "Chapter 2: the KL penalty is a reward, and β trades reward for distance from the prior.",
        discussion: "Verifies paper §3 (eqs. 3-4) on exact finite distributions and writes Output/02-reward-shaping.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of outcomes |X| of the exact space (2 to 100000).")
    var outcomes: Int = 1000

    @Option(help: "KL coefficient β of eq. 3 (0.01 to 100); rewards lie in [0, 1].")
    var beta: Double = 0.1

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (2...100_000).contains(outcomes) else { throw ValidationError("--outcomes must be between 2 and 100000 (got \(outcomes))") }
        guard beta.isFinite, beta >= 0.01, beta <= 100 else { throw ValidationError("--beta must be a number in [0.01, 100] (got \(beta))") }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "02-reward-shaping", number: 2, title: "KL-regularised RL as reward shaping",
            summary: "The KL penalty is a policy-dependent reward; its gradient is a REINFORCE gradient; β is the exact exchange rate between reward and KL.")
        try chapter.run(options: common, parameters: [("outcomes", "\(outcomes)"), ("beta", "\(beta)")]) { page, seeds in
            let setting = Setting(outcomes: outcomes, beta: beta, seeds: seeds)
            shaping(page, setting, seeds)
            try gradients(page, setting, seeds, quick: common.quick)
            frontier(page, setting)
            try constrained(page, setting, seeds, quick: common.quick)
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

    init(outcomes n: Int, beta: Double, seeds: Seeds) {
        self.n = n; self.beta = beta
        let rng = seeds.generator("setting")
        // Gamma(1) = Exp(1) weights in log space: no prior probability is exactly zero.
        prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        reward = (0..<n).map { _ in rng.uniform() }
    }

    var maxAbsReward: Double { reward.map { Swift.abs($0) }.max()! }
    var rewardRange: Double { reward.max()! - reward.min()! }
}

/// Rounding allowance for a sum of n terms each at most `scale` in size: (n + 2) ε scale.
func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

/// The size of the logarithms in the KL terms on the support of π: 1 + max(|log π0(x)|, |log π(x)|).
/// Each log-probability carries an absolute rounding error of a few ε times its own size (and
/// (n+2)ε from its normaliser), so a difference log π0 − log π is only as exact as the larger
/// of the two, not as its (possibly tiny) value.
func maxLogRatio(_ pi: Distribution, _ prior: Distribution) -> Double {
    var m = 0.0
    for x in 0..<pi.count where pi.probabilities[x] > 0 { m = max(m, Swift.abs(prior.logProbabilities[x]), Swift.abs(pi.logProbabilities[x])) }
    return 1 + m
}

/// Random policies: Dirichlet draws with concentrations from very sparse to near-uniform.
func dirichletPolicies(_ rng: RandomGenerator, n: Int, count: Int) -> [Distribution] {
    (0..<count).map { k in Distribution(weights: rng.dirichlet(count: n, concentration: [0.01, 0.1, 1, 10][k % 4])) }
}

// MARK: - Eq. 4: the KL penalty is a reward

func shaping(_ page: Page, _ s: Setting, _ seeds: Seeds) {
    page.section("The KL penalty is part of the reward")
    page.prose("KL-regularised RL maximises the average reward minus $\\beta$ times the divergence of the policy from the prior (eq. 3). The divergence is itself an average under the policy, of $\\log \\pi - \\log \\pi_0$, so the two averages merge: the objective is the plain expected reward of a shaped reward $r'_\\pi$ that adds a bonus $\\beta \\log \\pi_0(x)$ for outcomes the prior likes and charges $\\beta \\log \\pi(x)$ for outcomes the policy already produces often. Unlike an ordinary reward, $r'_\\pi$ changes whenever the policy does.")
    page.equation("J_{KLRL}(\\pi) = \\mathbb{E}_{x \\sim \\pi} \\left[ r(x) \\right] - \\beta \\operatorname{KL}(\\pi, \\pi_0) = \\mathbb{E}_{x \\sim \\pi} \\left[ r'_\\pi(x) \\right], \\quad r'_\\pi(x) = r(x) + \\beta \\left( \\log \\pi_0(x) - \\log \\pi(x) \\right)", number: "4")
    page.parameters([("$|X|$", "\(s.n)"), ("prior $\\pi_0$", "Dirichlet(1, …, 1) draw"), ("reward", "uniform on [0, 1]"),
                     ("$\\beta$", NumberFormat.format(s.beta)), ("policies", "200 Dirichlet draws, concentrations 0.01, 0.1, 1, 10")])
    let rng = seeds.generator("shaping")
    var worst = (ratio: -1.0, diff: 0.0, tol: 0.0)
    for pi in dirichletPolicies(rng, n: s.n, count: 200) + [s.prior, Posterior.distribution(prior: s.prior, reward: s.reward, beta: s.beta)] {
        let j = Objective.klRegularised(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let shaped = pi.expectation(Objective.shapedReward(pi, prior: s.prior, reward: s.reward, beta: s.beta))
        let tol = 2 * summationTolerance(s.n, scale: s.maxAbsReward + s.beta * maxLogRatio(pi, s.prior)) + Double.ulpOfOne * Swift.abs(j)
        let diff = Swift.abs(j - shaped)
        if diff / tol > worst.ratio { worst = (diff / tol, diff, tol) }
    }
    page.check(Check(claim: "E_π[r] − β KL(π ‖ π0) equals E_π[r'_π] for 200 random policies, the prior and the posterior (worst case shown)", reference: "eq. 4",
                     aLabel: "|J_KLRL(π) − E_π[r'_π]|", bLabel: "0", a: worst.diff, b: 0, tolerance: worst.tol,
                     because: "two n-term sums of terms at most max|r| + β(1 + max|log π0|, |log π|): 2(n+2)ε times that scale"))
}

// MARK: - The policy gradient of the shaped reward

func gradients(_ page: Page, _ s: Setting, _ seeds: Seeds, quick: Bool) throws {
    page.section("Its gradient is a REINFORCE gradient, with any baseline")
    page.prose("Differentiate $\\mathbb{E}_\\pi[r'_\\pi]$ with respect to softmax logits $\\theta$. The score function $\\nabla_\\theta \\log \\pi_\\theta(x) = e_x - \\pi_\\theta$ has mean zero under $\\pi_\\theta$, which does two things at once: the term that comes from differentiating $-\\beta \\log \\pi$ inside the shaped reward vanishes, and any constant baseline $b$ may be subtracted from $r'$ without changing the expected gradient. We compare the closed form $\\pi \\odot (r' - J)$, the score-function expectation summed outcome by outcome with three baselines, central finite differences of $J_{KLRL}$, and a seeded sampled estimate.")
    page.equation("\\nabla_\\theta J_{KLRL}(\\pi_\\theta) = \\mathbb{E}_{x \\sim \\pi_\\theta} \\left[ \\nabla_\\theta \\log \\pi_\\theta(x) \\left( r'_{\\pi_\\theta}(x) - b \\right) \\right], \\qquad \\mathbb{E}_{x \\sim \\pi_\\theta} \\left[ \\nabla_\\theta \\log \\pi_\\theta(x) \\right] = 0", number: "4")
    let rng = seeds.generator("gradients")
    // An interior policy: the prior's logits plus Gaussian noise.
    let theta = s.prior.logProbabilities.map { $0 + rng.gaussian() }
    let pi = Distribution.softmax(theta)
    let shaped = Objective.shapedReward(pi, prior: s.prior, reward: s.reward, beta: s.beta)
    let j = pi.expectation(shaped)
    let scale = shaped.map { Swift.abs($0) }.max()!
    let analytic = PolicyGradient.klRegularised(pi, prior: s.prior, reward: s.reward, beta: s.beta)

    let mean = ScoreFunction.meanScore(pi).map { Swift.abs($0) }.max()!
    page.check(Check(claim: "The score function has mean zero: E_π[e_x − π] = 0 in every coordinate", reference: "§3",
                     aLabel: "max_y |E_π[∇ log π](y)|", bLabel: "0", a: mean, b: 0,
                     tolerance: 2 * summationTolerance(s.n, scale: 1), because: "an n-term sum of probabilities: 2(n+2)ε"))
    for (name, b) in [("b = 0", 0.0), ("b = J_KLRL(π)", j), ("b = 100 max|r'|", 100 * scale)] {
        let g = ScoreFunction.gradient(pi, f: shaped, baseline: b)
        let diff = zip(g, analytic).map { Swift.abs($0 - $1) }.max()!
        page.check(Check(claim: "Score-function gradient with baseline \(name) equals the closed form π ⊙ (r' − J)", reference: "eq. 4",
                         aLabel: "max_y |g_b(y) − ∇J(y)|", bLabel: "0", a: diff, b: 0,
                         tolerance: 4 * summationTolerance(s.n, scale: scale + Swift.abs(b)),
                         because: "n-term sums of terms at most max|r'| + |b|: 4(n+2)ε times that"))
    }
    // Finite differences along a random direction v with entries in [-1, 1].
    let v = (0..<s.n).map { _ in 2 * rng.uniform() - 1 }
    let h = 1e-5
    let jAt = { (t: Double) in
        Objective.klRegularised(Distribution.softmax(zip(theta, v).map { $0 + t * $1 }), prior: s.prior, reward: s.reward, beta: s.beta)
    }
    let fd = (jAt(h) - jAt(-h)) / (2 * h)
    let exact = zip(analytic, v).reduce(0) { $0 + $1.0 * $1.1 }
    let m = scale + s.beta
    page.check(Check(claim: "The closed-form gradient matches central finite differences of J_KLRL along a random direction", reference: "eq. 4",
                     aLabel: "⟨∇J, v⟩", bLabel: "(J(θ+hv) − J(θ−hv))/2h", a: exact, b: fd,
                     tolerance: 8 * h * h * m + 4 * summationTolerance(s.n, scale: m) / h,
                     because: "h = 10⁻⁵: truncation h²|J'''|/6 with |J'''| ≤ 48(max|r'| + β) for |v| ≤ 1, plus rounding of J, 4(n+2)ε(max|r'| + β)/h"))
    let draws = quick ? 40_000 : 400_000
    for (name, b) in [("no baseline", 0.0), ("baseline J", j)] {
        let est = try ScoreFunction.sampledDirectionalDerivative(pi, f: shaped, baseline: b, direction: v, draws: draws, rng: rng)
        page.check(Check(claim: "A seeded REINFORCE estimate (\(name), \(draws) draws) agrees with the exact directional derivative", reference: "eq. 4",
                         aLabel: "mean of (r'(x) − b)⟨e_x − π, v⟩", bLabel: "⟨∇J, v⟩", a: est.mean, b: exact,
                         tolerance: 5.3 * est.standardError + summationTolerance(s.n, scale: m),
                         because: "5.3 standard errors: a false failure has probability about 10⁻⁷"))
        page.record("reinforce_standard_error_\(b == 0 ? "none" : "J")", est.standardError)
    }
}

// MARK: - β is the exchange rate: the reward-KL frontier

func frontier(_ page: Page, _ s: Setting) {
    page.section("β is the exact price of reward in nats of KL")
    page.prose("Every temperature gives one best policy, the posterior $\\pi^*_\\beta$ of chapter 3, and with it one pair (distance from the prior, expected reward). As $\\beta$ grows the penalty bites harder: both the reward and the divergence fall. The pairs trace a concave frontier, and its slope at the point chosen by $\\beta$ is $\\beta$ itself: $\\beta$ is how much reward one nat of KL must buy to be worth spending. With $\\lambda = 1/\\beta$ and $K(\\lambda) = \\log \\mathbb{E}_{\\pi_0}[e^{\\lambda r}]$, the reward is $K'(\\lambda)$ and the divergence $\\lambda K'(\\lambda) - K(\\lambda)$; both derivatives in $\\lambda$ are multiples of $K''(\\lambda) = \\operatorname{Var}_{\\pi^*_\\beta}(r)$, and their ratio is $1/\\lambda = \\beta$.")
    page.equation("\\frac{d \\, \\mathbb{E}_{\\pi^*_\\beta}[r]}{d \\operatorname{KL}(\\pi^*_\\beta, \\pi_0)} = \\frac{K''(\\lambda)}{\\lambda K''(\\lambda)} = \\beta, \\qquad \\mathbb{E}_{\\pi^*_{\\beta'}}[r] - \\beta \\operatorname{KL}(\\pi^*_{\\beta'}, \\pi_0) \\le \\mathbb{E}_{\\pi^*_\\beta}[r] - \\beta \\operatorname{KL}(\\pi^*_\\beta, \\pi_0)")
    let betas = (0...60).map { s.beta * pow(10, -2 + 4 * Double($0) / 60) }
    let points = betas.map { Frontier.point(prior: s.prior, reward: s.reward, beta: $0) }
    let klScale = s.rewardRange / betas[0] + 1
    let rTol = summationTolerance(s.n, scale: s.maxAbsReward), klTol = summationTolerance(s.n, scale: klScale)
    let rewardDrop = zip(points, points.dropFirst()).map { $0.expectedReward - $1.expectedReward }.min()!
    let klDrop = zip(points, points.dropFirst()).map { $0.klDivergence - $1.klDivergence }.min()!
    page.parameters([("temperatures", "61 values from β/100 to 100β, evenly spaced in log β"), ("$\\beta$ of the tangent", NumberFormat.format(s.beta))])
    page.check(Check(claim: "Expected reward of π*_β falls as β grows (smallest drop between neighbours)", reference: "§3",
                     aLabel: "min_i E_{β_i}[r] − E_{β_{i+1}}[r]", bLabel: "0", a: rewardDrop, b: 0, relation: .greaterOrEqual,
                     tolerance: 2 * rTol, because: "two n-term sums of rewards ≤ max|r|: 2(n+2)ε max|r|"))
    page.check(Check(claim: "KL(π*_β ‖ π0) falls as β grows (smallest drop between neighbours)", reference: "§3",
                     aLabel: "min_i KL_{β_i} − KL_{β_{i+1}}", bLabel: "0", a: klDrop, b: 0, relation: .greaterOrEqual,
                     tolerance: 2 * klTol, because: "two n-term sums of log-ratios ≤ range(r)/β_min + 1: 2(n+2)ε times that"))
    let here = Frontier.point(prior: s.prior, reward: s.reward, beta: s.beta)
    let tangentValue = here.expectedReward - s.beta * here.klDivergence
    let above = points.map { $0.expectedReward - s.beta * $0.klDivergence - tangentValue }.max()!
    page.check(Check(claim: "The line of slope β through the frontier point at β lies above all 61 frontier points (concavity with slope β)", reference: "eqs. 3, 6",
                     aLabel: "max_β' [E_β'[r] − β KL_β'] − [E_β[r] − β KL_β]", bLabel: "0", a: above, b: 0, relation: .lessOrEqual,
                     tolerance: 2 * (rTol + s.beta * klTol), because: "rounding of the reward and KL sums at both points: 2(n+2)ε (max|r| + β(range/β_min + 1))"))
    // The secants are resolvable only where the frontier moves: at a very cold β with few
    // outcomes the posterior sits on the argmax and KL changes below rounding. Use the first of
    // β, β·10^{0.1}, β·10^{0.2}, ... whose step changes KL by a million rounding units.
    let h = 1e-3
    var slopeBeta = s.beta, dKL = 0.0, slopeTol = Double.infinity
    for k in 0...40 {
        slopeBeta = s.beta * pow(10, Double(k) / 10)
        let centre = Frontier.point(prior: s.prior, reward: s.reward, beta: slopeBeta)
        dKL = Swift.abs(Frontier.point(prior: s.prior, reward: s.reward, beta: slopeBeta * (1 - h)).klDivergence - centre.klDivergence)
        let klT = summationTolerance(s.n, scale: s.rewardRange / slopeBeta + 1)
        slopeTol = 4 * (rTol + slopeBeta * klT) / dKL
        if dKL > 1e6 * (rTol / slopeBeta + klT) { break }
    }
    let slopes = Frontier.secantSlopes(prior: s.prior, reward: s.reward, beta: slopeBeta, relativeStep: h)
    let at = slopeBeta == s.beta ? "β" : "β' = \(NumberFormat.format(slopeBeta, significant: 3)) (the first resolvable temperature above β)"
    page.check(Check(claim: "Secant slope on the low-KL side is at least the temperature, at \(at), neighbour at ×(1 + 10⁻³)", reference: "§3",
                     aLabel: "ΔE/ΔKL left", bLabel: "temperature", a: slopes.left, b: slopeBeta, relation: .greaterOrEqual,
                     tolerance: slopeTol, because: "concavity makes it exact; slack: rounding of E and KL, 4(n+2)ε(max|r| + β KL scale)/|ΔKL|"))
    page.check(Check(claim: "Secant slope on the high-KL side is at most the temperature, at \(at), neighbour at ×(1 − 10⁻³)", reference: "§3",
                     aLabel: "ΔE/ΔKL right", bLabel: "temperature", a: slopes.right, b: slopeBeta, relation: .lessOrEqual,
                     tolerance: slopeTol, because: "concavity makes it exact; slack: rounding of E and KL over |ΔKL|"))
    page.check(Check.close("Both secants pinch the temperature: the central slope estimate equals it to second order in the step", reference: "§3",
                           aLabel: "½(left + right)", bLabel: "temperature", a: (slopes.left + slopes.right) / 2, b: slopeBeta, relative: 1e-4, absolute: slopeTol,
                           because: "the secants differ from the tangent by O(h) each with opposite signs; h = 10⁻³ leaves O(h²) ≪ 10⁻⁴ relative, plus rounding"))
    page.record("frontier_kl_at_beta", here.klDivergence)
    page.record("frontier_reward_at_beta", here.expectedReward)
    // The tangent drawn over the KL range of the frontier.
    let kls = points.map(\.klDivergence)
    let lo = max(0, here.klDivergence - 0.35 * (kls.max()! - kls.min()!)), hi = here.klDivergence + 0.35 * (kls.max()! - kls.min()!)
    page.plot(LinePlot(title: "The reward-KL frontier and its tangent", description: "Expected reward of the optimal policy against its KL from the prior, with the tangent of slope beta.",
                       xLabel: "KL(π*_β ‖ π0) in nats", yLabel: "E[r] under π*_β",
                       series: [Series("frontier, β from β/100 to 100β", x: kls, y: points.map(\.expectedReward), style: .lineAndPoints),
                                Series("tangent of slope β = \(NumberFormat.format(s.beta))", x: [lo, hi],
                                       y: [tangentValue + s.beta * lo, tangentValue + s.beta * hi], style: .dashed)],
                       references: [ReferenceLine(.vertical, at: here.klDivergence, label: "KL at β")]),
              caption: "Each point is the posterior at one temperature; the dashed line has slope $\\beta$ and touches the frontier at that temperature's point. Every other point lies below it.")
}

// MARK: - The KL-constrained problem

func constrained(_ page: Page, _ s: Setting, _ seeds: Seeds, quick: Bool) throws {
    page.section("A KL budget instead of a KL price")
    let top = Frontier.largestKL(prior: s.prior, reward: s.reward)
    let epsilon = top / 2
    page.prose("Practitioners sometimes fix a budget $\\varepsilon$ for the divergence instead of a price $\\beta$. The two problems have the same solutions: the best policy within the budget is the posterior whose divergence spends it exactly, and $\\beta$ is the Lagrange multiplier of the constraint. We find that temperature with GSL's Brent root finder on $\\log \\beta$, with the budget set to half the largest divergence the frontier reaches, $-\\frac{1}{2} \\log \\pi_0(A)$.")
    page.equation("\\max_\\pi \\mathbb{E}_\\pi[r] \\ \\text{s.t.} \\ \\operatorname{KL}(\\pi, \\pi_0) \\le \\varepsilon \\quad \\text{is solved by} \\quad \\pi^*_{\\hat\\beta}, \\quad \\operatorname{KL}(\\pi^*_{\\hat\\beta}, \\pi_0) = \\varepsilon, \\qquad \\min_{\\beta > 0} \\beta \\left( \\log Z(\\beta) + \\varepsilon \\right) = \\mathbb{E}_{\\pi^*_{\\hat\\beta}}[r]")
    let betaHat = try Frontier.temperature(forKL: epsilon, prior: s.prior, reward: s.reward)
    let at = Frontier.point(prior: s.prior, reward: s.reward, beta: betaHat)
    let lambda = 1 / betaHat
    page.parameters([("budget $\\varepsilon$", NumberFormat.format(epsilon)), ("root $\\hat\\beta$", NumberFormat.format(betaHat)),
                     ("$-\\log \\pi_0(A)$", NumberFormat.format(top))])
    page.record("constrained_beta", betaHat)
    // |dKL/du| = λ² Var(r) ≤ λ² range²/4 with u = log β; Brent stops with |Δu| ≤ 1e-13 |u|.
    let rootTol = 2e-13 * Swift.abs(log(betaHat)) * lambda * lambda * s.rewardRange * s.rewardRange / 4
        + 2 * summationTolerance(s.n, scale: s.rewardRange * lambda + 1)
    page.check(Check(claim: "The root finder's posterior spends exactly the budget", reference: "§3",
                     aLabel: "KL(π*_β̂ ‖ π0)", bLabel: "ε", a: at.klDivergence, b: epsilon, tolerance: rootTol,
                     because: "Brent's tolerance 10⁻¹³|log β| times |dKL/dlog β| ≤ range(r)²/(4β²), plus n-term rounding"))
    let dual = Frontier.dual(prior: s.prior, reward: s.reward, beta: betaHat, budget: epsilon)
    let roundTol = 2 * summationTolerance(s.n, scale: s.maxAbsReward + betaHat * (s.rewardRange * lambda + 1))
    page.check(Check(claim: "Strong duality: the dual value β̂(log Z(β̂) + ε) equals the constrained optimum E_{π*_β̂}[r]", reference: "eqs. 3, 5",
                     aLabel: "β̂(log Z + ε)", bLabel: "E_{π*_β̂}[r]", a: dual, b: at.expectedReward,
                     tolerance: betaHat * rootTol + roundTol, because: "β̂ times the budget residual, plus rounding of log-sum-exp and the n-term sums"))
    let rng = seeds.generator("constrained")
    var best = -Double.infinity, worstKL = 0.0
    // Random directions, and posteriors slightly colder than β̂ or with a perturbed reward: these
    // reach the budget close to the optimum, so the comparison is tight.
    let near = [0.3, 0.6, 0.9, 0.99].map { Posterior.distribution(prior: s.prior, reward: s.reward, beta: betaHat * $0) }
        + (0..<8).map { _ in Posterior.distribution(prior: s.prior, reward: s.reward.map { $0 + 0.05 * rng.gaussian() }, beta: betaHat * 0.9) }
    for q in dirichletPolicies(rng, n: s.n, count: (quick || s.n > 20_000) ? 40 : 160) + near {
        let pi = try Frontier.feasibleMixture(prior: s.prior, toward: q, budget: epsilon)
        best = max(best, pi.expectation(s.reward))
        worstKL = max(worstKL, klDivergence(pi, s.prior))
    }
    page.check(Check(claim: "No feasible policy (mixtures of π0 with random policies and with colder or perturbed posteriors, pushed to the budget) earns more reward than π*_β̂", reference: "§3",
                     aLabel: "max E_π[r] over feasible π", bLabel: "E_{π*_β̂}[r]", a: best, b: at.expectedReward, relation: .lessOrEqual,
                     tolerance: betaHat * rootTol + roundTol, because: "E_π[r] ≤ E*[r] + β̂(KL(π) − KL*) ≤ E*[r] + β̂·(budget residual); plus rounding"))
    page.check(Check(claim: "Those comparison policies are feasible", reference: "§3", aLabel: "max KL(π ‖ π0)", bLabel: "ε",
                     a: worstKL, b: epsilon, relation: .lessOrEqual, tolerance: 0, because: "each mixture is stepped inside the budget"))
}

// Chapter 2: KL-regularised RL as reward shaping (paper §3, eqs. 3-4).
//
// The KL penalty can be folded into the reward, so KL-regularised RL looks like ordinary RL
// with a reward that depends on the policy. This program shows that rewriting and the policy
// gradient it implies (as derivation lines, since both sides are the same sums), checks the
// gradient against finite differences and sampled REINFORCE, and checks the trade-off that β sets
// between reward and distance from the prior.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct RewardShaping: ParsableCommand {
    static let chapter = Chapter(
        slug: "02-reward-shaping", number: 2, title: "KL-regularised RL as reward shaping",
        summary: "The KL penalty is a policy-dependent reward; its gradient is a REINFORCE gradient; "
            + "β is the exact exchange rate between reward and KL.")

    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 2: the KL penalty is a reward, and β trades reward for distance from the prior.",
        discussion: "Verifies paper §3 (eqs. 3-4) on exact finite distributions and writes "
            + "Output/02-reward-shaping.html and .json. "
            + "Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    enum Defaults: ExactSpaceDefaults {
        static let beta = 0.1
        static let betaMeaning = "KL coefficient β of eq. 3"
        static let betaNote = "rewards lie in [0, 1]"
    }

    @OptionGroup var common: ChapterOptions
    @OptionGroup var space: ExactSpaceOptions<Defaults>

    static func main() { ChapterMain.main(Self.self) }

    func run() throws {
        let parameters = [("outcomes", "\(space.outcomes)"), ("beta", "\(space.beta)")]
        try Self.chapter.run(options: common, parameters: parameters) { page, seeds in
            let setting = Setting(outcomes: space.outcomes, beta: space.beta, seeds: seeds)
            let c = Context(page: page, seeds: seeds, setting: setting, quick: common.quick)
            // The findings are known only at the end of the run; they are shown first.
            let top = page.mark()
            shaping(c)
            try gradients(c)
            frontier(c)
            try constrained(c)
            page.insert(at: top) { findings(page) }
        }
    }
}

/// What every section reads: the page, the seeds, the exact problem and --quick.
struct Context {
    let page: Page
    let seeds: Seeds
    let setting: Setting
    let quick: Bool
}

// MARK: - What this chapter finds

/// The opening section: the run's headline numbers, as recorded for the JSON, and what they say.
func findings(_ page: Page) {
    let t = { (key: String) in Findings.text(page, key) }
    page.section(Findings.title)
    let gain = page.values["frontier_reward_at_beta"]! - page.values["prior_reward"]!
    let slope = Findings.held(page, ["frontier.secant-left", "frontier.secant-right", "frontier.secant-central",
                                     "frontier.tangent-above"])
        ? #"""
            the frontier's slope there is $\beta$ and no other temperature's posterior scores higher on \#
            $\mathbb{E}[r] - \beta \operatorname{KL}$ (@fig:frontier)
            """#
        : #"but the checks that the frontier's slope there is $\beta$ do not all hold on this run (@fig:frontier)"#
    let gradient = Findings.held(page, ["gradient.finite-difference", "gradient.reinforce-no-baseline",
                                        "gradient.reinforce-baseline-j"])
        ? "its REINFORCE gradient agrees with finite differences and with sampled estimates"
        : "yet its REINFORCE gradient does not agree with every independent estimate on this run"
    let duality = Findings.held(page, ["constrained.root-is-dual-minimiser", "constrained.strong-duality",
                                       "constrained.no-feasible-better"])
        ? "and no policy within the budget found more reward"
        : "though not every check of that solution holds on this run"
    page.prose(#"""
        The KL penalty is a reward: folded in per sample as $\beta (\log \pi_0(x) - \log \pi(x))$, which is how PPO \#
        as in Ziegler et al. and TRL's PPOTrainer apply it (the k1 estimate in the reward), and \#(gradient). \#
        At $\beta = \#(t("beta"))$ the optimal policy spends \#(t("frontier_kl_at_beta")) nats of KL to raise the \#
        expected reward from the prior's \#(t("prior_reward")) to \#(t("frontier_reward_at_beta")) \#
        (\#(gain > 0 ? "a gain" : "a change") of \#(NumberFormat.format(gain))); \#(slope). A KL budget of \#
        \#(t("constrained_budget")) nats instead of a price is spent exactly by the posterior at \#
        $\hat\beta = \#(t("constrained_beta"))$, \#(duality) (@tbl:findings).
        """#)
    Findings.table(page, [
        Findings.Row(#"KL coefficient $\beta$"#, "beta"),
        Findings.Row(#"expected reward under the prior, $\mathbb{E}_{\pi_0}[r]$"#, "prior_reward"),
        Findings.Row(#"expected reward of the optimal policy, $\mathbb{E}_{\pi^*_\beta}[r]$"#,
                     "frontier_reward_at_beta"),
        Findings.Row(#"its KL from the prior, $\operatorname{KL}(\pi^*_\beta, \pi_0)$, nats"#, "frontier_kl_at_beta"),
        Findings.Row(#"a KL budget $\varepsilon$, nats"#, "constrained_budget"),
        Findings.Row(#"the temperature that spends it, $\hat\beta$"#, "constrained_beta"),
    ], caption: "The run's headline numbers, as recorded in the JSON twin")
}

// MARK: - The setting

/// A Dirichlet(1) prior with full support and rewards uniform on [0, 1], at the temperature β.
struct Setting {
    let problem: ExactProblem

    init(outcomes n: Int, beta: Double, seeds: Seeds) {
        let rng = seeds.generator("setting")
        // Gamma(1) = Exp(1) weights in log space: no prior probability is exactly zero.
        let prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        problem = ExactProblem(prior: prior, reward: (0..<n).map { _ in rng.uniform() }, beta: beta)
    }

    init(_ problem: ExactProblem) { self.problem = problem }

    var n: Int { problem.count }
    var beta: Double { problem.beta }
    var prior: Distribution { problem.prior }
    var reward: [Double] { problem.reward }
    var maxAbsReward: Double { reward.map { Swift.abs($0) }.max()! }
    var rewardRange: Double { reward.max()! - reward.min()! }
}

/// Random policies: Dirichlet draws with concentrations from very sparse to near-uniform.
func dirichletPolicies(_ rng: RandomGenerator, n: Int, count: Int) -> [Distribution] {
    (0..<count).map { k in Distribution(weights: rng.dirichlet(count: n, concentration: [0.01, 0.1, 1, 10][k % 4])) }
}

// MARK: - Eq. 4: the KL penalty is a reward

func shaping(_ c: Context) {
    let (page, s) = (c.page, c.setting)
    let p = s.problem
    page.section("The KL penalty is part of the reward")
    page.prose(#"""
        KL-regularised RL maximises the average reward minus $\beta$ times the divergence of the policy from the
        prior (eq. 3). The divergence is itself an average under the policy, of $\log \pi - \log \pi_0$, so the two
        averages merge: the objective is the plain expected reward of a shaped reward $r_\pi'$ that adds a bonus
        $\beta \log \pi_0(x)$ for outcomes the prior likes and charges $\beta \log \pi(x)$ for outcomes the policy
        already produces often. Unlike an ordinary reward, $r_\pi'$ changes whenever the policy does.
        """#)
    page.equation(#"""
        J_{KLRL}(\pi) = \mathbb{E}_{x \sim \pi} \left[ r(x) \right] - \beta \operatorname{KL}(\pi, \pi_0)
        = \mathbb{E}_{x \sim \pi} \left[ r_\pi'(x) \right], \quad
        r_\pi'(x) = r(x) + \beta \left( \log \pi_0(x) - \log \pi(x) \right)
        """#, number: "4")
    page.parameters([("$|X|$", "\(s.n)"), (#"prior $\pi_0$"#, "Dirichlet(1, …, 1) draw"),
                     ("reward", "uniform on [0, 1]"),
                     (#"$\beta$"#, NumberFormat.format(s.beta)),
                     ("policies", "200 Dirichlet draws, concentrations 0.01, 0.1, 1, 10")])
    page.prose(#"""
        Both sides of eq. 4 are the same sum over outcomes, grouped differently, so evaluating them proves nothing a
        wrong formula could break: the lines below show their values, and the checks of this chapter start with the
        gradient.
        """#)
    let rng = c.seeds.generator("shaping")
    let posterior = p.posterior
    var worst = 0.0
    for pi in dirichletPolicies(rng, n: s.n, count: 200) + [s.prior, posterior] {
        let j = Objective.klRegularised(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let shaped = pi.expectation(Objective.shapedReward(pi, prior: s.prior, reward: s.reward, beta: s.beta))
        worst = max(worst, Swift.abs(j - shaped))
    }
    let atPosterior = Objective.klRegularised(posterior, prior: s.prior, reward: s.reward, beta: s.beta)
    page.derivation([
        DerivationLine(#"\mathbb{E}_{\pi^*}[r] - \beta \operatorname{KL}(\pi^*, \pi_0)"#, atPosterior,
                       note: #"eq. 3 at the posterior $\pi^* = \pi_0 e^{r/\beta}/Z$"#),
        DerivationLine(#"\mathbb{E}_{\pi^*}[r_{\pi^*}']"#,
                       posterior.expectation(Objective.shapedReward(posterior, prior: s.prior, reward: s.reward,
                                                                    beta: s.beta)),
                       note: "eq. 4: the KL moved inside the expectation"),
        DerivationLine(#"\beta \log Z"#, s.beta * p.logEvidence,
                       note: #"at $\pi^*$ the shaped reward is the constant $\beta \log Z$ (chapter 3)"#),
        DerivationLine(#"\max_\pi |J_{KLRL}(\pi) - \mathbb{E}_\pi[r_\pi']|"#, worst,
                       note: "over the 200 random policies, the prior and the posterior: rounding only"),
    ], caption: "Eq. 4, evaluated: one sum written two ways")
}

// MARK: - The policy gradient of the shaped reward

func gradients(_ c: Context) throws {
    let (page, s) = (c.page, c.setting)
    page.section("Its gradient is a REINFORCE gradient, with any baseline")
    page.prose(#"""
        Differentiate $\mathbb{E}_\pi[r_\pi']$ with respect to softmax logits $\theta$. The score function
        $\nabla_\theta \log \pi_\theta(x) = e_x - \pi_\theta$ has mean zero under $\pi_\theta$, which does two things at
        once: the term that comes from differentiating $-\beta \log \pi$ inside the shaped reward vanishes, and any
        constant baseline $b$ may be subtracted from $r' = r_{\pi_\theta}'$ without changing the expected \#
        gradient. Summed outcome by
        outcome, the score-function expectation with any baseline is the closed form $\pi \odot (r' - J)$ rearranged;
        the derivation shows those sums. The checks compare the closed form with central finite differences of
        $J_{KLRL}$, which never differentiate anything, and with seeded sampled estimates.
        """#)
    page.equation(#"""
        \nabla_\theta J_{KLRL}(\pi_\theta) = \mathbb{E}_{\pi_\theta} \left[ \nabla_\theta \log \pi_\theta(x)
        \left( r'(x) - b \right) \right], \qquad
        \mathbb{E}_{\pi_\theta} \left[ \nabla_\theta \log \pi_\theta(x) \right] = 0
        """#, number: "4")
    let rng = c.seeds.generator("gradients")
    // An interior policy: the prior's logits plus Gaussian noise.
    let theta = s.prior.logProbabilities.map { $0 + rng.gaussian() }
    let pi = Distribution.softmax(theta)
    let shaped = Objective.shapedReward(pi, prior: s.prior, reward: s.reward, beta: s.beta)
    let j = pi.expectation(shaped)
    let scale = shaped.map { Swift.abs($0) }.max()!
    let analytic = PolicyGradient.klRegularised(pi, prior: s.prior, reward: s.reward, beta: s.beta)

    var lines = [DerivationLine(#"\max_y |\mathbb{E}_\pi[e_x - \pi](y)|"#,
                                ScoreFunction.meanScore(pi).map { Swift.abs($0) }.max()!,
                                note: #"$\sum_x \pi(x) (e_x - \pi) = \pi - \pi$"#)]
    for (name, b) in [("0", 0.0), (#"J_{KLRL}(\pi)"#, j), (#"100 \max |r'|"#, 100 * scale)] {
        let g = ScoreFunction.gradient(pi, f: shaped, baseline: b)
        lines.append(DerivationLine(#"\max_y |g_b(y) - \pi(y)(r'(y) - J)|, \; b = \#(name)"#,
                                    zip(g, analytic).map { Swift.abs($0 - $1) }.max()!,
                                    note: #"$\sum_x \pi(x)(e_x - \pi)(r'(x) - b)$ expanded: the $b$ terms cancel"#))
    }
    page.derivation(lines, caption: "The score-function sums are the closed form, rearranged")

    // Finite differences along a random direction v with entries in [-1, 1].
    let v = (0..<s.n).map { _ in 2 * rng.uniform() - 1 }
    let h = 1e-5
    let jAt = { (t: Double) in
        Objective.klRegularised(Distribution.softmax(zip(theta, v).map { $0 + t * $1 }), prior: s.prior,
                                reward: s.reward, beta: s.beta)
    }
    let exact = dot(analytic, v)
    let m = scale + s.beta
    page.check(Checks.finiteDifference(exact: exact, centralDifference: (jAt(h) - jAt(-h)) / (2 * h), step: h, scale: m,
                                       outcomes: s.n))
    let draws = c.quick ? 40_000 : 400_000
    for (name, key, id, b) in [("no baseline", "none", "gradient.reinforce-no-baseline", 0.0),
                               ("baseline J", "J", "gradient.reinforce-baseline-j", j)] {
        let est = try ScoreFunction.sampledDirectionalDerivative(pi, f: shaped, baseline: b, direction: v,
                                                                 draws: draws, rng: rng)
        page.check(Checks.reinforceEstimate(baseline: name, id: id, estimate: est,
                                            exact: exact, draws: draws, scale: m, outcomes: s.n))
        page.record("reinforce_standard_error_\(key)", est.standardError)
    }
}

// MARK: - β is the exchange rate: the reward-KL frontier

func frontier(_ c: Context) {
    let (page, s) = (c.page, c.setting)
    page.section("β is the exact price of reward in nats of KL")
    page.prose(#"""
        Every temperature gives one best policy, the posterior $\pi^*_\beta$ of chapter 3, and with it one pair
        (distance from the prior, expected reward). As $\beta$ grows the penalty bites harder: both the reward and the
        divergence fall. The pairs trace a concave frontier, and its slope at the point chosen by $\beta$ is $\beta$
        itself: $\beta$ is how much reward one nat of KL must buy to be worth spending. With $\lambda = 1/\beta$ and
        $K(\lambda) = \log \mathbb{E}_{\pi_0}[e^{\lambda r}]$, the reward is $K'(\lambda)$ and the divergence
        $\lambda K'(\lambda) - K(\lambda)$; both derivatives in $\lambda$ are multiples of
        $K''(\lambda) = \operatorname{Var}_{\pi^*_\beta}(r)$, and their ratio is $1/\lambda = \beta$.
        """#)
    page.equation(#"""
        \frac{d \, \mathbb{E}_{\pi^*_\beta}[r]}{d \operatorname{KL}(\pi^*_\beta, \pi_0)}
        = \frac{K''(\lambda)}{\lambda K''(\lambda)} = \beta, \qquad
        \mathbb{E}_{\pi^*_{\beta'}}[r] - \beta \operatorname{KL}(\pi^*_{\beta'}, \pi_0)
        \le \mathbb{E}_{\pi^*_\beta}[r] - \beta \operatorname{KL}(\pi^*_\beta, \pi_0)
        """#)
    let betas = (0...60).map { s.beta * pow(10, -2 + 4 * Double($0) / 60) }
    let points = betas.map { Frontier.point(prior: s.prior, reward: s.reward, beta: $0) }
    let klScale = s.rewardRange / betas[0] + 1
    let rTol = summationTolerance(s.n, scale: s.maxAbsReward), klTol = summationTolerance(s.n, scale: klScale)
    page.parameters([("temperatures", "61 values from β/100 to 100β, evenly spaced in log β"),
                     (#"$\beta$ of the tangent"#, NumberFormat.format(s.beta))])
    page.check(Checks.rewardFalls(points, tolerance: 2 * rTol))
    page.check(Checks.klFalls(points, tolerance: 2 * klTol))
    let here = Frontier.point(prior: s.prior, reward: s.reward, beta: s.beta)
    page.check(Checks.tangentAbove(points, here: here, beta: s.beta, tolerance: 2 * (rTol + s.beta * klTol)))
    page.aside(#"""
        §4: the paper calls $J_{KLRL}$ the evidence lower bound and then speaks of minimising this bound to make
        $\pi_\theta$ approximate the posterior. The bound must be maximised: $J_{KLRL}(\pi) = \beta \log Z - \beta
        \operatorname{KL}(\pi, \pi^*)$, which is at most $\beta \log Z$, \#
        with equality only at $\pi = \pi^*$, so raising it is what
        brings $\pi$ to $\pi^*$. Chapter 2 checks it among the posteriors: at temperature $\beta$ no other
        temperature's posterior scores higher on $\mathbb{E}[r] - \beta \operatorname{KL}$.
        """#, kind: .erratum)
    // The secants are resolvable only where the frontier moves: at a very cold β with few
    // outcomes the posterior sits on the argmax and KL changes below rounding. Use the first of
    // β, β·10^{0.1}, β·10^{0.2}, ... whose step changes KL by a million rounding units.
    let h = 1e-3
    var slopeBeta = s.beta, slopeTol = Double.infinity
    for k in 0...40 {
        slopeBeta = s.beta * pow(10, Double(k) / 10)
        let centre = Frontier.point(prior: s.prior, reward: s.reward, beta: slopeBeta)
        let dKL = Swift.abs(Frontier.point(prior: s.prior, reward: s.reward, beta: slopeBeta * (1 - h)).klDivergence
                                - centre.klDivergence)
        let klT = summationTolerance(s.n, scale: s.rewardRange / slopeBeta + 1)
        slopeTol = 4 * (rTol + slopeBeta * klT) / dKL
        if dKL > 1e6 * (rTol / slopeBeta + klT) { break }
    }
    let slopes = Frontier.secantSlopes(prior: s.prior, reward: s.reward, beta: slopeBeta, relativeStep: h)
    let at = slopeBeta == s.beta ? "β"
        : "β' = \(NumberFormat.format(slopeBeta, significant: 3)) (the first resolvable temperature above β)"
    for check in Checks.secants(slopes, temperature: slopeBeta, at: at, tolerance: slopeTol) { page.check(check) }
    page.record("beta", s.beta)
    page.record("prior_reward", s.prior.expectation(s.reward))
    page.record("frontier_kl_at_beta", here.klDivergence)
    page.record("frontier_reward_at_beta", here.expectedReward)
    // The tangent drawn over the KL range of the frontier.
    let tangentValue = here.expectedReward - s.beta * here.klDivergence
    let kls = points.map(\.klDivergence)
    let spread = 0.35 * (kls.max()! - kls.min()!)
    let lo = max(0, here.klDivergence - spread), hi = here.klDivergence + spread
    page.plot(LinePlot(title: "The reward-KL frontier and its tangent",
                       description: "Expected reward of the optimal policy against its KL from the prior, "
                           + "with the tangent of slope beta.",
                       xLabel: "$\\mathrm{KL}(\\pi^*_\\beta \\| \\pi_0)$ in nats", yLabel: "E[r] under $\\pi^*_\\beta$",
                       series: [Series("frontier, β from β/100 to 100β", x: kls, y: points.map(\.expectedReward),
                                       style: .lineAndPoints),
                                Series("tangent of slope β = \(NumberFormat.format(s.beta))", x: [lo, hi],
                                       y: [tangentValue + s.beta * lo, tangentValue + s.beta * hi], style: .dashed)],
                       references: [ReferenceLine(.vertical, at: here.klDivergence, label: "KL at β")]),
              caption: #"""
                Each point is the posterior at one temperature; the dashed line has slope $\beta$ and touches the
                frontier at that temperature's point. Every other point lies below it.
                """#, label: "frontier")
}

// MARK: - The KL-constrained problem

/// The golden-section search on the dual stops when its bracket in log β is this wide.
let dualBracketWidth = 1e-4

func constrained(_ c: Context) throws {
    let (page, s) = (c.page, c.setting)
    page.section("A KL budget instead of a KL price")
    let top = Frontier.largestKL(prior: s.prior, reward: s.reward)
    let epsilon = top / 2
    page.prose(#"""
        Practitioners sometimes fix a budget $\varepsilon$ for the divergence instead of a price $\beta$. The two
        problems have the same solutions: the best policy within the budget is the posterior whose divergence spends
        it exactly, and $\beta$ is the Lagrange multiplier of the constraint. We find that temperature twice, by two
        routes that share only the prior and the reward: GSL's Brent root finder on $\log \beta$ for
        $\operatorname{KL}(\pi^*_\beta, \pi_0) = \varepsilon$, and a golden-section search for the minimum of the dual
        function $\beta (\log Z(\beta) + \varepsilon)$, with the budget set to half the largest divergence the
        frontier reaches, $-\frac{1}{2} \log \pi_0(A)$.
        """#)
    page.equation(#"""
        \max_\pi \mathbb{E}_\pi[r] \ \text{s.t.} \ \operatorname{KL}(\pi, \pi_0) \le \varepsilon \quad
        \text{is solved by} \quad \pi^*_{\hat\beta}, \quad
        \operatorname{KL}(\pi^*_{\hat\beta}, \pi_0) = \varepsilon, \qquad
        \min_{\beta > 0} \beta \left( \log Z(\beta) + \varepsilon \right) = \mathbb{E}_{\pi^*_{\hat\beta}}[r]
        """#)
    let betaHat = try Frontier.temperature(forKL: epsilon, prior: s.prior, reward: s.reward)
    let at = Frontier.point(prior: s.prior, reward: s.reward, beta: betaHat)
    let lambda = 1 / betaHat
    let search = Frontier.dualMinimum(prior: s.prior, reward: s.reward, budget: epsilon, width: dualBracketWidth)
    page.parameters([(#"budget $\varepsilon$"#, NumberFormat.format(epsilon)),
                     (#"root $\hat\beta$"#, NumberFormat.format(betaHat)),
                     (#"dual minimiser $\tilde\beta$"#, NumberFormat.format(search.beta)),
                     (#"$-\log \pi_0(A)$"#, NumberFormat.format(top))])
    page.record("constrained_budget", epsilon)
    page.record("constrained_beta", betaHat)
    // |dKL/du| = λ² Var(r) ≤ λ² range²/4 with u = log β; Brent stops with |Δu| ≤ 1e-13 |u|.
    let rootTol = 2e-13 * Swift.abs(log(betaHat)) * lambda * lambda * s.rewardRange * s.rewardRange / 4
        + 2 * summationTolerance(s.n, scale: s.rewardRange * lambda + 1)
    let roundTol = 2 * summationTolerance(s.n, scale: s.maxAbsReward + betaHat * (s.rewardRange * lambda + 1))
    page.check(Checks.rootIsDualMinimiser(root: betaHat, minimiser: search.beta, bracketWidth: dualBracketWidth))
    page.check(Checks.strongDuality(dualMinimum: search.value, primal: at.expectedReward, betaHat: betaHat,
                                    rewardRange: s.rewardRange, bracketWidth: dualBracketWidth,
                                    rounding: betaHat * rootTol + roundTol))
    let rng = c.seeds.generator("constrained")
    // Random directions, and posteriors slightly colder than β̂ or with a perturbed reward: these
    // reach the budget close to the optimum, so the comparison is tight.
    let colder = [0.3, 0.6, 0.9, 0.99].map { s.problem.at(beta: betaHat * $0).posterior }
    let perturbed = (0..<8).map { _ in
        ExactProblem(prior: s.prior, reward: s.reward.map { $0 + 0.05 * rng.gaussian() }, beta: betaHat * 0.9).posterior
    }
    let near = colder + perturbed
    let feasible = try (dirichletPolicies(rng, n: s.n, count: (c.quick || s.n > 20_000) ? 40 : 160) + near).map {
        try Frontier.feasibleMixture(prior: s.prior, toward: $0, budget: epsilon)
    }
    page.check(Checks.noFeasibleBetter(feasible, reward: s.reward, optimum: at.expectedReward,
                                       tolerance: betaHat * rootTol + roundTol))
    let dual = Frontier.dual(prior: s.prior, reward: s.reward, beta: betaHat, budget: epsilon)
    page.derivation([
        DerivationLine(#"\operatorname{KL}(\pi^*_{\hat\beta}, \pi_0) - \varepsilon"#, at.klDivergence - epsilon,
                       note: "the root finder's own target, met to its tolerance"),
        DerivationLine(#"\hat\beta (\log Z(\hat\beta) + \varepsilon) - \mathbb{E}_{\pi^*_{\hat\beta}}[r]"#,
                       dual - at.expectedReward,
                       note: #"$= \hat\beta (\varepsilon - \operatorname{KL}(\pi^*_{\hat\beta}, \pi_0))$, "#
                           + #"since $\beta \log Z = \mathbb{E}_{\pi^*}[r] - \beta \operatorname{KL}(\pi^*, \pi_0)$"#),
        DerivationLine(#"\max_\pi \operatorname{KL}(\pi, \pi_0) - \varepsilon"#,
                       feasible.map { klDivergence($0, s.prior) }.max()! - epsilon,
                       note: "over the comparison policies: each mixture is stepped inside the budget by construction"),
    ], caption: "What the constrained solution satisfies by construction")
}

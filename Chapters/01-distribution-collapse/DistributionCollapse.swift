// Chapter 1: distribution collapse (paper §2, eqs. 1-2).
//
// Maximising expected reward alone drives a policy to a point mass on the best outcome,
// whatever the prior was. This program shows it on an exact finite space, compares every limit
// with its value at the point mass under a threshold fixed before the run, and shows that the
// collapse is the β → 0 end of the Bayesian posterior path that chapter 3 studies.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct DistributionCollapse: ParsableCommand {
    static let chapter = Chapter(
        slug: "01-distribution-collapse", number: 1, title: "Distribution collapse",
        summary: "Reward maximisation alone turns any prior into a point mass on the best outcome; "
            + "the Bayesian posterior path reaches the same end only as β → 0.")

    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 1: maximising expected reward collapses a language model onto its best outcome.",
        discussion: "Verifies paper §2 (eqs. 1-2) on exact finite distributions and writes "
            + "Output/01-distribution-collapse.html and .json. "
            + "Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    enum Defaults: ExactSpaceDefaults {}

    @OptionGroup var common: ChapterOptions
    @OptionGroup var space: OutcomesOption<Defaults>

    @Option(help: ArgumentHelp("Most steps of each exact gradient ascent (10 to 1000000); a run stops earlier "
                               + "once its policy has collapsed. Plain gradient ascent uses the first 1000 outcomes "
                               + "at most, with step 0.5."))
    var steps: Int = 20000

    @Option(help: "Step size of the natural-gradient ascent on the logits (0 < eta <= 100).")
    var stepSize: Double = 1

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (10...1_000_000).contains(steps) else {
            throw ValidationError("--steps must be between 10 and 1000000 (got \(steps))")
        }
        guard stepSize.isFinite, stepSize > 0, stepSize <= 100 else {
            throw ValidationError("--step-size must be in (0, 100] (got \(stepSize))")
        }
    }

    func run() throws {
        let parameters = [("outcomes", "\(space.outcomes)"), ("steps", "\(steps)"), ("step-size", "\(stepSize)")]
        try Self.chapter.run(options: common, parameters: parameters) { page, seeds in
            let c = Context(page: page, seeds: seeds, setting: Setting(outcomes: space.outcomes, seeds: seeds),
                            maxSteps: steps, eta: stepSize, quick: common.quick)
            // The findings are known only at the end of the run; they are shown first.
            let top = page.mark()
            ceiling(c)
            collapse(c)
            let plain = plainAscent(c)
            ties(c)
            exploration(c, plain.setting)
            posteriorPath(c)
            try sampledReinforce(c, plainFoundBest: plain.foundBest)
            page.insert(at: top) { findings(page) }
        }
    }
}

/// What every section reads: the page, the seeds, the exact space and the run's options.
struct Context {
    let page: Page
    let seeds: Seeds
    let setting: Setting
    /// --steps: the most steps of each ascent.
    let maxSteps: Int
    /// --step-size of the natural-gradient ascent.
    let eta: Double
    let quick: Bool
}

// MARK: - What this chapter finds

/// The opening section: the run's headline numbers, as recorded for the JSON, and what they say.
func findings(_ page: Page) {
    let v = page.values
    let t = { (key: String) in Findings.text(page, key) }
    page.section(Findings.title)
    let natural = v["natural_residual"]! <= naturalCriterion
        ? #"""
            Maximising expected reward alone, natural-gradient ascent took the prior, which gave the best \#
            of its \#(t("outcomes")) outcomes $x^*$ a mass of \#(t("prior_mass_best")), to a point mass on \#
            $x^*$: after \#(t("natural_steps")) steps only \#(t("natural_residual")) of the mass is left \#
            elsewhere (@tbl:findings).
            """#
        : #"""
            Maximising expected reward alone, natural-gradient ascent moved the prior's mass on the best of \#
            its \#(t("outcomes")) outcomes $x^*$ from \#(t("prior_mass_best")) towards 1 but did not reach \#
            the collapse criterion within its \#(t("natural_steps")) steps: \#(t("natural_residual")) of \#
            the mass is still elsewhere (@tbl:findings).
            """#
    let plain = v["plain_collapsed_on_best"]! == 1
        ? "Plain gradient ascent ended on $x^*$ as well."
        : #"""
            Plain gradient ascent ended on a point mass too, but on another outcome $\hat{x}$ of reward \#
            \#(t("plain_end_reward")) rather than on $x^*$.
            """#
    let none = v["reinforce_wrong_fraction_none"]!, loo = v["reinforce_wrong_fraction_leave-one-out"]!
    let compare = none == loo ? "so the baseline made no difference here"
        : (loo < none ? "so the baseline made wrong ends rarer here, not impossible"
            : "so the baseline did not make wrong ends rarer here")
    page.prose(#"""
        \#(natural) \#(plain) Sampled REINFORCE with batches of 4 on a ten-outcome space ended on a sub-optimal \#
        outcome in a fraction \#(t("reinforce_wrong_fraction_none")) of its runs without a baseline and \#
        \#(t("reinforce_wrong_fraction_leave-one-out")) with the leave-one-out baseline that RLOO uses, \#(compare). \#
        Without a KL penalty nothing holds on to the prior's spread.
        """#)
    Findings.table(page, [
        Findings.Row("outcomes $|X|$", "outcomes"),
        Findings.Row(#"prior mass of the best outcome, $\pi_0(x^*)$"#, "prior_mass_best"),
        Findings.Row(#"natural-gradient steps taken (stop at $\pi(x^*) \ge 1 - 10^{-9}$)"#, "natural_steps"),
        Findings.Row(#"mass left off $x^*$, $1 - \pi_T(x^*)$"#, "natural_residual"),
        Findings.Row("plain gradient ascent ended on $x^*$ (1 yes, 0 no)", "plain_collapsed_on_best"),
        Findings.Row("REINFORCE runs ending on a sub-optimal outcome, no baseline", "reinforce_wrong_fraction_none"),
        Findings.Row("the same, leave-one-out baseline (RLOO)", "reinforce_wrong_fraction_leave-one-out"),
    ], caption: "The run's headline numbers, as recorded in the JSON twin")
}

// MARK: - The setting

/// A prior with full support and a reward with a unique maximiser x* and a gap Δ ≥ 0.1 to the
/// runner-up: r(x*) = 1, every other r(x) uniform in [0, 0.9].
struct Setting {
    let n: Int
    let prior: Distribution
    let reward: [Double]
    let best: Int
    let gap: Double

    init(outcomes n: Int, seeds: Seeds) {
        let rng = seeds.generator("setting")
        // Dirichlet(1) is uniform on the simplex; draw in log space via Gamma(1) = Exp(1) so that no
        // prior probability is exactly zero.
        let prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        let best = rng.uniformInt(below: n)
        var r = (0..<n).map { _ in 0.9 * rng.uniform() }
        r[best] = 1
        self.init(prior: prior, reward: r, best: best)
    }

    init(prior: Distribution, reward: [Double], best: Int) {
        self.n = prior.count; self.prior = prior; self.reward = reward; self.best = best
        gap = 1 - (reward.enumerated().filter { $0.offset != best }.map(\.element).max() ?? 0)
    }

    var maximisers: Set<Int> { [best] }

    /// The first m outcomes (x* moved in if needed), prior renormalised, same rewards.
    func subspace(_ m: Int) -> Setting {
        guard m < n else { return self }
        var keep = Array(0..<m)
        if best >= m { keep[m - 1] = best }
        let p = Distribution(logWeights: keep.map { prior.logProbabilities[$0] })
        return Setting(prior: p, reward: keep.map { reward[$0] }, best: keep.firstIndex(of: best)!)
    }
}

// MARK: - §2, eq. 1: expected reward is bounded by the best reward

/// 200 Dirichlet policies, concentrations from very sparse to near uniform.
func dirichletPolicies(_ s: Setting, _ seeds: Seeds) -> [Distribution] {
    let rng = seeds.generator("ceiling")
    let concentrations = [0.01, 0.1, 1, 10]
    return (0..<200).map { k in Distribution(weights: rng.dirichlet(count: s.n, concentration: concentrations[k % 4])) }
}

func ceiling(_ c: Context) {
    let (page, s) = (c.page, c.setting)
    page.section("Expected reward has a ceiling")
    page.prose(#"""
        Treat the language model as a policy $\pi$ over a finite set of outcomes $X$ and score each outcome with a
        reward $r$. The RL objective of the paper's §2 is the average reward under the policy. An average never
        exceeds the largest value averaged, so the objective is at most $\max_x r(x)$, and it reaches that value only
        when every outcome the policy can produce is a best outcome.
        """#)
    page.equation(#"""
        J_{RL}(\pi) = \mathbb{E}_{x \sim \pi} \left[ r(x) \right] \le \max_{x \in X} r(x), \quad
        \text{with equality iff} \quad \operatorname{supp} \pi \subseteq A = \argmax_x r(x)
        """#, number: "1")
    page.parameters([("$|X|$", "\(s.n)"), (#"prior $\pi_0$"#, "Dirichlet(1, …, 1) draw (uniform on the simplex)"),
                     ("reward", "r(x*) = 1 at one outcome x* = \(s.best); elsewhere uniform on [0, 0.9]"),
                     (#"gap $\Delta$ to the runner-up"#, NumberFormat.format(s.gap))])
    let policies = dirichletPolicies(s, c.seeds)
    page.check(Checks.ceiling(policies, reward: s.reward, ceiling: s.reward.max()!))
    page.check(Checks.shortfall(policies, reward: s.reward, maximisers: s.maximisers, gap: s.gap))
    page.check(Checks.attained(Distribution.delta(s.best, count: s.n), reward: s.reward))
}

// MARK: - §2, eq. 2: natural-gradient ascent collapses onto x*

/// Collapse criterion of the natural-gradient ascent: it stops once π(x*) ≥ 1 − 10⁻⁹.
let naturalCriterion = 1e-9

/// The natural-gradient limits: each within 10⁻⁶ of its value at the point mass.
let naturalLimits = Checks.Limits(
    ascent: "natural", threshold: 1e-6, tex: "10^{-6}",
    why: "once ε = 1 − π(x*) ≤ 10⁻⁹, each distance is below 10⁻⁷ (Fano's inequality bounds H by h(ε) + ε log(n − 1); "
        + "the others are at most 2ε, 16ε, ε and H + ε(|log π0(x*)| + max|log π0|))")

/// θ ← θ + η (r − J_RL(π_θ)) from the prior's logits, until π(x*) ≥ 1 − 10⁻⁹ or `maxSteps`.
func naturalAscent(_ s: Setting, maxSteps: Int, eta: Double) -> [Dynamics.Snapshot] {
    Dynamics.gradientAscent(
        logits: s.prior.logProbabilities, stepSize: eta, steps: maxSteps, record: 1,
        gradient: { pi in let j = Objective.expectedReward(pi, reward: s.reward); return s.reward.map { $0 - j } },
        stop: { $0.probabilities[s.best] >= 1 - naturalCriterion })
}

func collapse(_ c: Context) {
    let (page, s) = (c.page, c.setting)
    page.section("Natural-gradient ascent collapses the prior onto x*")
    page.prose(#"""
        Start from the prior's logits and climb $J_{RL}$. In the natural (Fisher) geometry of the softmax the ascent
        direction is simply the centred reward: every outcome better than average gains log-probability in
        proportion to how much better it is. The average climbs until only $x^*$ is above it, and the policy becomes
        the point mass of the paper's eq. 2.
        """#)
    page.equation(#"""
        \theta \leftarrow \theta + \eta \left( r - J_{RL}(\pi_\theta) \right), \qquad
        \pi_\theta \to \delta_{x^*} \quad \text{as the total step} \; t \to \infty
        """#, number: "2")
    let path = naturalAscent(s, maxSteps: c.maxSteps, eta: c.eta)
    let end = path.last!.policy
    let steps = path.last!.step
    let eps = 1 - end.probabilities[s.best]
    page.parameters([(#"step size $\eta$"#, NumberFormat.format(c.eta)),
                     ("steps taken", "\(steps) (stop when π(x*) ≥ 1 − 10⁻⁹)"),
                     (#"$\pi_0(x^*)$"#, NumberFormat.format(s.prior.probabilities[s.best])),
                     (#"final residual $\varepsilon = 1 - \pi(x^*)$"#, NumberFormat.format(eps))])
    page.record("outcomes", Double(s.n))
    page.record("prior_mass_best", s.prior.probabilities[s.best])
    page.record("natural_steps", Double(steps))
    page.record("natural_residual", eps)

    page.check(Checks.collapsed(
        id: "natural.collapses", claim: #"The ascent collapses: $\pi_T(x^*) \ge 1 - 10^{-9}$"#, label: #"$\pi_T(x^*)$"#,
        mass: end.probabilities[s.best], criterion: naturalCriterion,
        because: "The ascent stops as soon as π(x*) ≥ 1 − 10⁻⁹; it must get there within --steps steps."))
    page.prose(#"""
        Each limit below is compared with its value at the point mass, under a threshold of $10^{-6}$ fixed before
        the run. A run that meets the collapse criterion lies far inside it; a run stopped early (with --steps 10,
        say) fails every one of them.
        """#)
    for check in Checks.limits(end, onto: s.best, name: "x^*", prior: s.prior, reward: s.reward, naturalLimits) {
        page.check(check)
    }

    // The iterate is the posterior at β = 1/t (beyond the paper).
    let t = c.eta * Double(steps)
    page.check(Checks.iterateIsPosterior(end, Posterior.distribution(prior: s.prior, reward: s.reward, beta: 1 / t),
                                         steps: steps))
    let xs = path.map { c.eta * Double($0.step) }
    page.plot(LinePlot(title: "Collapse along natural-gradient ascent",
                       description: "Entropy falls to 0 while KL to the prior rises to −log π0(x*).",
                       xLabel: "total step t = ηk", yLabel: "nats",
                       series: [Series("entropy H(π)", x: xs, y: path.map { $0.policy.entropy }),
                                Series("KL(π ‖ π0)", x: xs, y: path.map { klDivergence($0.policy, s.prior) })],
                       references: [collapseLine(s)], yIncludesZero: true),
              caption: #"""
                Entropy and KL to the prior along the ascent. The dashed line is the limit $-\log \pi_0(x^*)$ of
                eq. 2.
                """#)
}

/// The dashed line at −log π0(x*), the KL of the point mass on x*.
func collapseLine(_ s: Setting) -> ReferenceLine {
    ReferenceLine(.horizontal, at: -s.prior.logProbabilities[s.best], label: "−log π0(x*)")
}

// MARK: - Plain gradient ascent: the pull of softmax

/// Plain gradient ascent runs on at most this many outcomes: its gradient scales with π(x) ≈ 1/n,
/// so on 10^5 outcomes a stable step barely moves in any reasonable number of steps.
let plainOutcomes = 1000
/// Step size of plain gradient ascent: J_RL is 5/2-smooth in the logits for rewards in [0, 1]
/// (Mei et al., 2020), so any step below 2/L = 0.8 increases J_RL.
let plainStep = 0.5
/// Collapse criterion of plain gradient ascent: it stops once max_x π(x) ≥ 1 − 10⁻³. Its residual
/// falls like 1/t rather than exponentially, so its criterion and thresholds are looser.
let plainCriterion = 1e-3

/// The plain-gradient limits: each within 0.05 of its value at the point mass.
let plainLimits = Checks.Limits(
    ascent: "plain", threshold: 0.05, tex: "0.05",
    why: "once ε = 1 − max π ≤ 10⁻³ on at most 1000 outcomes, each distance is below 0.05 (Fano's inequality bounds H "
        + "by h(ε) + ε log(n − 1) < 0.015; the others are at most 2ε, 16ε, ε and H + ε(|log π0(x̂)| + max|log π0|))")

/// Plain gradient ascent on the logits, from the prior, until max π ≥ 1 − 10⁻³ or `maxSteps`;
/// also returns J_RL at every step (step 0 first).
func plainPath(_ s: Setting, maxSteps: Int) -> (path: [Dynamics.Snapshot], objectives: [Double]) {
    var objectives = [Objective.expectedReward(s.prior, reward: s.reward)]
    let path = Dynamics.gradientAscent(
        logits: s.prior.logProbabilities, stepSize: plainStep, steps: maxSteps, record: max(1, maxSteps / 400),
        gradient: { PolicyGradient.expectedReward($0, reward: s.reward) },
        stop: { pi in
            objectives.append(Objective.expectedReward(pi, reward: s.reward))
            return pi.probabilities.max()! >= 1 - plainCriterion
        })
    return (path, objectives)
}

/// The outcome holding the most mass.
func mode(_ pi: Distribution) -> Int { pi.probabilities.indices.max { pi.probabilities[$0] < pi.probabilities[$1] }! }

func plainAscent(_ c: Context) -> (setting: Setting, foundBest: Bool) {
    let page = c.page
    let s = c.setting.subspace(plainOutcomes)
    page.section("Plain gradient ascent collapses too, though not always onto x*")
    page.prose(#"""
        The ordinary gradient of $J_{RL}$ with respect to the logits is $\pi(x)(r(x) - J_{RL})$: an outcome's logit
        moves in proportion to its current probability. Likely outcomes therefore move first, and the ascent locks
        onto an outcome that is both good and likely before the rare best one has grown. The policy still collapses
        to a point mass, and $J_{RL}$ still rises at every step; the escape to $x^*$ then takes a time inversely
        proportional to the tiny mass $x^*$ has left. The residual falls like $1/t$ here, not exponentially, so this
        ascent stops at $\max_x \pi(x) \ge 1 - 10^{-3}$ and its limits are held to $0.05$, both fixed before the run.
        """#)
    page.equation(#"\nabla_{\theta_x} J_{RL}(\pi_\theta) = \pi_\theta(x) \left( r(x) - J_{RL}(\pi_\theta) \right)"#)
    let (path, objectives) = plainPath(s, maxSteps: c.maxSteps)
    let end = path.last!.policy
    let top = mode(end)
    page.parameters([("outcomes", "\(s.n) (the first \(s.n) of the space, x* included)"),
                     (#"step size $\eta$"#, "\(plainStep) (below 2/L = 0.8)"),
                     ("steps", "\(path.last!.step) (stop when max π(x) ≥ 1 − 10⁻³)"),
                     ("collapsed onto", top == s.best ? "x* itself"
                        : "x̂ = \(top), r(x̂) = \(NumberFormat.format(s.reward[top]))"),
                     (#"$\pi_T(x^*)$"#, NumberFormat.format(end.probabilities[s.best]))])
    page.check(Checks.monotone(objectives, outcomes: s.n))
    page.check(Checks.collapsed(
        id: "plain.collapses",
        claim: #"Plain gradient ascent ends on a near point mass: $\max_x \pi_T(x) \ge 1 - 10^{-3}$"#,
        label: #"$\max_x \pi_T(x)$"#, mass: end.probabilities[top], criterion: plainCriterion,
        because: "The ascent stops as soon as max π ≥ 1 − 10⁻³; it must get there within --steps steps."))
    for check in Checks.limits(end, onto: top, name: top == s.best ? "x^*" : #"\hat{x}"#, prior: s.prior,
                               reward: s.reward, plainLimits) {
        page.check(check)
    }
    page.record("plain_collapsed_on_best", top == s.best ? 1 : 0)
    page.record("plain_end_reward", s.reward[top])
    let xs = path.map { Double($0.step) }
    var series = [Series("π(x*)", x: xs, y: path.map { $0.policy.probabilities[s.best] }),
                  Series("entropy H(π) / log n", x: xs, y: path.map { $0.policy.entropy / log(Double(s.n)) },
                         style: .dashed)]
    if top != s.best { series.insert(Series("π(x̂)", x: xs, y: path.map { $0.policy.probabilities[top] }), at: 0) }
    page.plot(LinePlot(title: "Plain gradient ascent",
                       description: "Mass on the outcome the ascent locks onto, on the best outcome, "
                           + "and the normalised entropy.",
                       xLabel: "gradient step", yLabel: "probability or fraction", series: series, yIncludesZero: true),
              caption: top == s.best ? "Here the best outcome wins the race and the policy collapses onto it." : #"""
                The ascent locks onto $\hat{x}$, a good and likely outcome; $\pi(x^*)$ stays tiny. Entropy (normalised
                by $\log n$) falls to 0 either way.
                """#)
    return (s, top == s.best)
}

// MARK: - Ties: the mass goes to the whole argmax

/// The reward with |A| = 3 outcomes (x* and two drawn at random) tied at the top.
func tiedReward(_ s: Setting, _ seeds: Seeds) -> (reward: [Double], tied: Set<Int>) {
    let rng = seeds.generator("ties")
    var reward = s.reward
    let tieCount = min(3, s.n)
    var tied: Set<Int> = [s.best]
    while tied.count < tieCount { tied.insert(rng.uniformInt(below: s.n)) }
    for a in tied { reward[a] = 1 }
    return (reward, tied)
}

/// The natural-gradient ascent on a reward tied on `tied`, until π(A) ≥ 1 − 10⁻⁹ or `maxSteps`.
func tiedAscent(_ s: Setting, reward: [Double], tied: Set<Int>, maxSteps: Int, eta: Double) -> Dynamics.Snapshot {
    Dynamics.gradientAscent(
        logits: s.prior.logProbabilities, stepSize: eta, steps: maxSteps, record: maxSteps,
        gradient: { pi in let j = Objective.expectedReward(pi, reward: reward); return reward.map { $0 - j } },
        stop: { $0.mass(of: tied) >= 1 - naturalCriterion }).last!
}

func ties(_ c: Context) {
    let (page, s) = (c.page, c.setting)
    page.section("With ties, the mass goes to the argmax and nowhere else")
    let (reward, tied) = tiedReward(s, c.seeds)
    page.prose(#"""
        Give $|A| = \#(tied.count)$ outcomes the top reward. The natural-gradient ascent sends all the
        mass to the set $A$ and keeps the prior's proportions inside it exactly: its end point is
        $\pi_0(\cdot \mid A)$, the prior conditioned on being optimal.
        """#)
    let last = tiedAscent(s, reward: reward, tied: tied, maxSteps: c.maxSteps, eta: c.eta)
    let end = last.policy
    page.check(Checks.collapsed(
        id: "ties.mass-on-tied-set", claim: #"All but $10^{-9}$ of the mass ends on the tied set $A$"#,
        label: #"$\pi_T(A)$"#,
        mass: end.mass(of: tied), criterion: naturalCriterion,
        because: "The ascent stops as soon as π(A) ≥ 1 − 10⁻⁹; it must get there within --steps steps."))
    page.check(Checks.proportionsKept(end, prior: s.prior, tied: tied, steps: last.step))
    let prA = s.prior.mass(of: tied), endA = end.mass(of: tied)
    let rows = tied.sorted().map { a in
        [String(a), NumberFormat.format(s.prior.probabilities[a] / prA),
         NumberFormat.format(end.probabilities[a] / endA)]
    }
    page.table(headers: [#"outcome $a \in A$"#, #"$\pi_0(a)/\pi_0(A)$"#, #"$\pi_T(a)/\pi_T(A)$"#], rows: rows,
               caption: "How the tied outcomes share the mass")
}

// MARK: - Perfect exploration does not help

/// The importance-weighted estimate of ⟨∇J_RL, v⟩ from `draws` outcomes drawn uniformly:
/// the mean and standard error of (π(x)/q(x)) r(x) (v_x − ⟨π, v⟩), with q the uniform proposal.
func uniformEstimate(_ pi: Distribution, reward: [Double], direction v: [Double], proposal q: Distribution,
                     draws: Int, rng: RandomGenerator) -> (mean: Double, standardError: Double) {
    let n = pi.count
    let piV = dot(pi.probabilities, v)
    var mean = 0.0, m2 = 0.0
    for i in 1...draws {
        let x = rng.uniformInt(below: n)
        let sample = exp(pi.logProbabilities[x] - q.logProbabilities[x]) * reward[x] * (v[x] - piV)
        let d = sample - mean
        mean += d / Double(i)
        m2 += d * (sample - mean)
    }
    return (mean, (m2 / Double(draws - 1) / Double(draws)).squareRoot())
}

func exploration(_ c: Context, _ small: Setting) {
    let (page, s) = (c.page, c.setting)
    page.section("Perfect exploration does not help")
    page.prose(#"""
        The paper notes that collapse is not an exploration failure: sample outcomes uniformly instead of from the
        policy, reweight each by $\pi(x)/q(x)$, and the expected gradient is the same vector, so the optimum is the
        same point mass. We evaluate the importance-weighted gradient as an expectation over the uniform proposal,
        term by term, and compare it with a finite-difference derivative of $J_{RL}$ and with a seeded Monte Carlo
        estimate. That it equals the on-policy gradient is the same sum written twice, so that identity is shown as
        a line of the derivation with its value, not counted as a check.
        """#)
    page.equation(#"""
        \mathbb{E}_{x \sim q} \left[ \frac{\pi_\theta(x)}{q(x)} r(x) \nabla_\theta \log \pi_\theta(x) \right]
        = \mathbb{E}_{x \sim \pi_\theta} \left[ r(x) \nabla_\theta \log \pi_\theta(x) \right]
        = \nabla_\theta J_{RL}(\theta)
        """#)
    let rng = c.seeds.generator("exploration")
    // An interior policy: the prior tilted by a random perturbation.
    let theta = s.prior.logProbabilities.map { $0 + rng.gaussian() }
    let pi = Distribution.softmax(theta)
    let uniform = Distribution.uniform(s.n)
    let gIS = PolicyGradient.importanceWeightedExpectedReward(pi, reward: s.reward, proposal: uniform)
    let gOn = PolicyGradient.expectedReward(pi, reward: s.reward)
    let v = (0..<s.n).map { _ in rng.gaussian() }
    let h = 1e-5
    let jAt = { (t: Double) in
        Objective.expectedReward(Distribution.softmax(zip(theta, v).map { $0 + t * $1 }), reward: s.reward)
    }
    page.check(Checks.finiteDifference(gradient: gIS, direction: v, centralDifference: (jAt(h) - jAt(-h)) / (2 * h)))
    let draws = c.quick ? 20_000 : 200_000
    let est = uniformEstimate(pi, reward: s.reward, direction: v, proposal: uniform, draws: draws, rng: rng)
    page.check(Checks.monteCarlo(mean: est.mean, standardError: est.standardError, exact: dot(gOn, v), draws: draws))

    // Ascent with the explored gradient reaches the same point mass as plain ascent.
    let uniformSmall = Distribution.uniform(small.n)
    let run = { (g: @escaping (Distribution) -> [Double]) in
        Dynamics.gradientAscent(logits: small.prior.logProbabilities, stepSize: plainStep, steps: c.maxSteps,
                                record: c.maxSteps, gradient: g).last!.policy
    }
    let explored = run {
        PolicyGradient.importanceWeightedExpectedReward($0, reward: small.reward, proposal: uniformSmall)
    }
    let onPolicy = run { PolicyGradient.expectedReward($0, reward: small.reward) }
    let gap = zip(gIS, gOn).map { Swift.abs($0 - $1) }.max()!
    page.derivation([
        DerivationLine(#"\max_x |g_{IS}(x) - g_{on}(x)|"#, gap,
                       note: #"$\sum_x q(x) \frac{\pi(x)}{q(x)} r(x) (e_x - \pi) = \sum_x \pi(x) r(x) (e_x - \pi)$: "#
                           + "the same terms, rounded differently"),
        DerivationLine(#"\operatorname{TV}(\pi_T^{\text{explored}}, \pi_T^{\text{on-policy}})"#,
                       totalVariation(explored, onPolicy),
                       note: "\(c.maxSteps) plain ascent steps on the first \(small.n) outcomes, "
                           + "each driven by one of the two equal gradients"),
    ], caption: "Uniform exploration changes how the gradient is written, not its value")
}

// MARK: - Beyond the paper: collapse is the β → 0 end of the posterior path

func posteriorPath(_ c: Context) {
    let (page, s) = (c.page, c.setting)
    page.section("Collapse is the cold end of the posterior path")
    page.prose(#"""
        Exponentiated-gradient ascent multiplies the policy by $e^{\eta r}$ and renormalises at each step; it is the
        natural-gradient ascent above written in probabilities. After steps adding up to $t$ it has reached
        $\pi_0 e^{t r} / Z$: exactly the posterior of chapter 3 at temperature $\beta = 1/t$. Reward maximisation thus
        walks down the posterior path from $\beta = \infty$ (the prior) to $\beta \to 0$, where the posterior is the
        prior restricted to $A$. A KL penalty with coefficient $\beta$ stops the walk at that temperature.
        """#)
    page.equation(#"""
        \pi_t(x) = \frac{\pi_0(x) e^{t \, r(x)}}{\sum_{y} \pi_0(y) e^{t \, r(y)}} = \pi^*_{\beta = 1/t}(x), \qquad
        \lim_{\beta \to 0} \pi^*_\beta = \pi_0( \cdot \mid A)
        """#, number: "5")
    let eta = 0.05
    let prior = s.prior
    var pairs: [Checks.IterateAndPosterior] = []
    for k in [1, 3, 10, 30, 100, 300, 1000, 3000] {
        let eg = Dynamics.exponentiatedGradient(prior: s.prior, reward: s.reward, stepSize: eta, steps: k)
        pairs.append((k, eg, Posterior.distribution(prior: s.prior, reward: s.reward, beta: 1 / (eta * Double(k)))))
    }
    page.check(Checks.exponentiatedGradient(pairs))
    let beta = 0.004
    let cold = Posterior.distribution(prior: s.prior, reward: s.reward, beta: beta)
    let limit = Posterior.zeroTemperatureLimit(prior: s.prior, reward: s.reward)
    page.check(Checks.coldPosterior(cold, limit: limit, priorMassOfA: s.prior.mass(of: s.maximisers), gap: s.gap,
                                    beta: beta))
    let ts = pairs.map { eta * Double($0.steps) }
    let klPosterior = pairs.map { klDivergence($0.posterior, prior) }
    let klIterate = pairs.map { klDivergence($0.iterate, prior) }
    page.plot(LinePlot(title: "Exponentiated gradient against the posterior path",
                       description: "KL from the prior of the exponentiated-gradient iterate and of the posterior "
                           + "at beta = 1/t coincide.",
                       xLabel: "total step t = 1/β", yLabel: "KL(π ‖ π0) in nats", xScale: .log10,
                       series: [Series("posterior π* at β = 1/t", x: ts, y: klPosterior),
                                Series("exponentiated gradient", x: ts, y: klIterate, style: .points)],
                       references: [collapseLine(s)], yIncludesZero: true),
              caption: #"""
                The iterates (points) lie on the posterior path (line); both approach the collapse value
                $-\log \pi_0(x^*)$ as $t = 1/\beta$ grows.
                """#)
}

// MARK: - Sampled REINFORCE can collapse onto the wrong outcome

/// The space of the REINFORCE runs: ten outcomes, r(x) = x/9, a Dirichlet(1) prior.
func reinforceSpace(_ seeds: Seeds) -> (prior: Distribution, reward: [Double]) {
    let n = 10
    let setup = seeds.generator("reinforce-prior")
    let prior = Distribution(logWeights: (0..<n).map { _ in log(-log(setup.uniformPositive())) })
    return (prior, (0..<n).map { Double($0) / Double(n - 1) })   // 0, 1/9, ..., 1: outcome 9 is best
}

/// `runs` seeded runs of sampled REINFORCE (batches of 4, step 1); how many ended on each outcome.
func reinforceRuns(prior: Distribution, reward: [Double], baseline: Reinforce.Baseline, runs: Int, maxSteps: Int,
                   seeds: Seeds) throws -> (counts: [Double], collapsed: Int) {
    var counts = [Double](repeating: 0, count: prior.count)
    var collapsed = 0
    for run in 0..<runs {
        let rng = seeds.generator("reinforce-\(baseline.rawValue)-\(run)")
        let out = try Reinforce.run(logits: prior.logProbabilities, reward: reward, batchSize: 4, stepSize: 1,
                                    baseline: baseline, maxSteps: maxSteps, rng: rng)
        if let x = out.collapsedOnto { counts[x] += 1; collapsed += 1 }
    }
    return (counts, collapsed)
}

func sampledReinforce(_ c: Context, plainFoundBest: Bool) throws {
    let page = c.page
    page.section("Sampled REINFORCE can collapse onto the wrong outcome")
    let (prior, reward) = reinforceSpace(c.seeds)
    let n = prior.count
    let runs = c.quick ? 60 : 300
    let plain = plainFoundBest
        ? "Plain exact gradients need not either, although on this page's space they did find it."
        : #"Plain exact gradients need not: above they locked onto $\hat{x}$."#
    page.prose(#"""
        With exact natural gradients the ascent always finds $x^*$. \#(plain) Sampling adds a second way to miss
        it: with a handful of samples per step, a run that happens to sample a good-but-not-best outcome often
        pushes its mass up, samples it more, and locks in. Here $|X| = \#(n)$, $r(x) = x/9$, batches of 4, step
        size 1, run \#(runs) times with different seeds until one outcome holds 99% of the mass. The leave-one-out \#
        baseline (each sample's baseline is the mean reward of the other samples in its batch) is the one RLOO \#
        uses, as in TRL's RLOOTrainer.
        """#)
    var rows: [[String]] = []
    var histograms: [(name: String, values: [Double])] = []
    for baseline in [Reinforce.Baseline.none, .leaveOneOut] {
        let (counts, collapsed) = try reinforceRuns(prior: prior, reward: reward, baseline: baseline, runs: runs,
                                                    maxSteps: 200_000, seeds: c.seeds)
        page.check(Checks.everyRunCollapses(baseline, collapsed: collapsed, runs: runs))
        let wrong = Double(collapsed) - counts[n - 1]
        let (lo, hi) = wilson(successes: wrong, trials: Double(runs))
        rows.append([baseline.rawValue, "\(runs)", "\(Int(wrong))", NumberFormat.format(wrong / Double(runs)),
                     "[\(NumberFormat.format(lo, significant: 3)), \(NumberFormat.format(hi, significant: 3))]"])
        histograms.append((name: "\(baseline.rawValue) baseline", values: counts.map { $0 / Double(runs) }))
        page.record("reinforce_wrong_fraction_\(baseline.rawValue)", wrong / Double(runs))
    }
    page.table(headers: ["baseline", "runs", "collapsed on a sub-optimal outcome", "fraction", "95% Wilson interval"],
               rows: rows, caption: "How often sampled REINFORCE locks onto the wrong outcome")
    histograms.append((name: "prior π0", values: prior.probabilities))
    page.plot(BarChart(title: "Where sampled REINFORCE runs end",
                       description: "Fraction of runs that collapse onto each outcome, next to the prior.",
                       categories: (0..<n).map { "r=\(NumberFormat.format(reward[$0], significant: 2))" },
                       yLabel: "fraction of runs", series: histograms),
              caption: #"""
                Every run ends on a point mass, but not always on the best outcome (the rightmost). The prior is shown
                for comparison: runs tend to lock onto outcomes that are both good and likely.
                """#)
}

/// The Wilson score interval at 95% for a binomial proportion.
func wilson(successes k: Double, trials n: Double) -> (Double, Double) {
    let z = 1.959963984540054
    let p = k / n
    let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
    return (max(0, centre - half), min(1, centre + half))
}

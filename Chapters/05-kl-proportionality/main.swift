// Chapter 5: the KL-regularised objective is a divergence from the posterior (paper eqs. 7 and 17).
//
// J_KLRL(π) and -β KL(π ‖ π*) differ by the constant β log Z, for every policy and along any
// training run; their gradients are the same vector. Where both sides of that identity are the
// same sums rearranged, the page shows them as derivation lines. The checks compare independent
// computations: the identity on a space whose π* and Z have closed forms, each gradient against
// finite differences of the other function, and the rise of the objective under its step size.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct KLProportionality: ParsableCommand {
    static let chapter = Chapter(
        slug: "05-kl-proportionality", number: 5, title: "KL proportionality",
        summary: "The KL-regularised objective is β log Z minus β KL(π ‖ π*): a constant minus a divergence "
            + "from the posterior, for every policy and every gradient.")
    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 5: J_KLRL(π) = β log Z − β KL(π ‖ π*), so KL-regularised RL minimises a divergence "
            + "from the posterior.",
        discussion: "Verifies paper eqs. 7 and 17 on exact finite distributions and writes "
            + "Output/05-kl-proportionality.html and .json. Exit 0: every check holds; 1: a check failed; "
            + "2: bad usage or input.")

    enum Defaults: ExactSpaceDefaults {
        static let betaMeaning = "KL coefficient β"
        static let betaNote = "rewards lie in [0, 1]"
    }

    @OptionGroup var common: ChapterOptions
    @OptionGroup var space: ExactSpaceOptions<Defaults>

    @Option(help: ArgumentHelp("Steps of the exact gradient ascent on J_KLRL from the prior (10 to 100000, and "
                               + "steps × outcomes at most 2×10⁸)."))
    var steps: Int = 2000

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (10...100_000).contains(steps) else {
            throw ValidationError("--steps must be between 10 and 100000 (got \(steps))")
        }
        guard space.outcomes * steps <= 200_000_000 else {
            throw ValidationError("--steps times --outcomes must be at most 2×10⁸ to finish in seconds "
                                  + "(got \(steps) × \(space.outcomes))")
        }
    }

    func run() throws {
        let parameters = [("outcomes", "\(space.outcomes)"), ("beta", "\(space.beta)"), ("steps", "\(steps)")]
        try Self.chapter.run(options: common, parameters: parameters) { page, seeds in
            let setting = Setting(outcomes: space.outcomes, beta: space.beta, seeds: seeds)
            let c = Context(page: page, seeds: seeds, setting: setting)
            // The findings are known only at the end of the run; they are shown first.
            let top = page.mark()
            manyPolicies(c)
            let path = trajectory(c, steps: common.quick ? min(steps, 500) : steps)
            gradients(c, path)
            twoDivergences(c, path)
            page.insert(at: top) { findings(page) }
        }
    }
}

/// What every section reads.
// MARK: - What this chapter finds

/// The opening section: the run's headline numbers, as recorded for the JSON, and what they say.
func findings(_ page: Page) {
    let v = page.values
    let t = { (key: String) in Findings.text(page, key) }
    page.section(Findings.title)
    let gain = v["trajectory_gain"]!, fall = v["trajectory_kl_fall"]!
    let rise = gain > 0 ? "raised the objective by" : "changed the objective by"
    let moved = fall > 0 ? "fell by" : "changed by"
    let identity = Findings.held(page, ["identity.closed-form"])
        ? #"""
            On a space where $\pi^*$ and $Z$ have closed forms, $J_{KLRL}(\pi) = \beta \log Z - \beta \#
            \operatorname{KL}(\pi, \pi^*)$ holds for every policy tried
            """#
        : #"""
            On the closed-form space the identity $J_{KLRL}(\pi) = \beta \log Z - \beta \#
            \operatorname{KL}(\pi, \pi^*)$ does not hold for every policy tried (the check fails)
            """#
    let same = Findings.held(page, ["gradient.objective-vs-divergence", "gradient.divergence-vs-objective"])
        ? #"and the gradient of the one is $-\beta$ times the gradient of the other"#
        : #"but the two gradients do not agree on this run (a check fails)"#
    page.prose(#"""
        \#(identity), \#(same): KL-regularised fine-tuning is descent on the divergence from the posterior. \#
        Here, \#(t("training_steps")) steps of exact gradient ascent from the prior at $\beta = \#(t("beta"))$ \#
        \#(rise) \#(t("trajectory_gain")), while $\beta \operatorname{KL}(\pi_t, \pi^*)$ \#(moved) \#
        \#(t("trajectory_kl_fall")): their sum stays at $\beta \log Z = \#(t("beta_log_Z"))$ (@fig:training). \#
        The penalty the objective charges, $\operatorname{KL}(\pi, \pi_0)$, is a different number: \#
        \#(t("final_penalty")) nats at the end of training, against \#(t("final_kl_posterior")) nats from the \#
        posterior (@tbl:findings).
        """#)
    Findings.table(page, [
        Findings.Row(#"temperature $\beta$"#, "beta"),
        Findings.Row(#"$\beta \log Z$"#, "beta_log_Z"),
        Findings.Row("steps of exact gradient ascent", "training_steps"),
        Findings.Row(#"gain of the objective, $J_T - J_0$"#, "trajectory_gain"),
        Findings.Row(#"fall of $\beta \operatorname{KL}(\pi_t, \pi^*)$, start to end"#, "trajectory_kl_fall"),
        Findings.Row(#"end of training: penalty $\operatorname{KL}(\pi_T, \pi_0)$"#, "final_penalty"),
        Findings.Row(#"end of training: $\operatorname{KL}(\pi_T, \pi^*)$"#, "final_kl_posterior"),
    ], caption: "The run's headline numbers, as recorded in the JSON twin")
}

struct Context {
    let page: Page
    let seeds: Seeds
    let setting: Setting
}

// MARK: - The setting

/// A Dirichlet(1) prior with full support and rewards uniform on [0, 1].
struct Setting {
    let problem: ExactProblem
    let posterior: Distribution
    let logZ: Double

    init(problem: ExactProblem) {
        self.init(problem: problem, posterior: problem.posterior, logZ: problem.logEvidence)
    }

    /// A setting whose posterior and log Z are given (a test gives wrong ones).
    init(problem: ExactProblem, posterior: Distribution, logZ: Double) {
        self.problem = problem; self.posterior = posterior; self.logZ = logZ
    }

    init(outcomes n: Int, beta: Double, seeds: Seeds) {
        let rng = seeds.generator("setting")
        let prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        let reward = (0..<n).map { _ in rng.uniform() }
        self.init(problem: ExactProblem(prior: prior, reward: reward, beta: beta))
    }

    var n: Int { problem.count }
    var beta: Double { problem.beta }
    var maxAbsReward: Double { problem.reward.map { Swift.abs($0) }.max()! }

    /// J_KLRL(π) = E_π[r] − β KL(π ‖ π0) (eq. 3), from the prior and the reward.
    func objective(_ pi: Distribution) -> Double {
        Objective.klRegularised(pi, prior: problem.prior, reward: problem.reward, beta: beta)
    }

    /// ∇_θ J_KLRL in the logits, the REINFORCE form π ⊙ (r' − J) of chapter 2.
    func objectiveGradient(_ pi: Distribution) -> [Double] {
        PolicyGradient.klRegularised(pi, prior: problem.prior, reward: problem.reward, beta: beta)
    }

    /// Rounding allowance of J(π) + β KL(π ‖ π*) against β log Z; see `identityAllowance`.
    func sumTolerance(_ pi: Distribution) -> Double {
        identityAllowance(pi, prior: problem.prior, posterior: posterior, maxAbsReward: maxAbsReward, beta: beta,
                          logZ: logZ)
    }
}

/// Rounding allowance of comparing J(π) with β log Z − β KL(π ‖ π*): three n-term sums (E[r],
/// KL to π0, KL to π*) with terms up to max|r| and β(1 + max|log π|, |log π0|, |log π*|) (a
/// difference of rounded logarithms is only as exact as the larger one), plus a few ε of β|log Z|.
func identityAllowance(_ pi: Distribution, prior: Distribution, posterior: Distribution, maxAbsReward: Double,
                       beta: Double, logZ: Double) -> Double {
    var m = 0.0
    for x in 0..<pi.count where pi.probabilities[x] > 0 {
        m = max(m, Swift.abs(pi.logProbabilities[x]), Swift.abs(prior.logProbabilities[x]),
                Swift.abs(posterior.logProbabilities[x]))
    }
    m += 1   // each log-probability is rounded relative to its own size, plus (n+2)ε from its normaliser
    return 2 * summationTolerance(pi.count, scale: maxAbsReward + 2 * beta * m)
        + 4 * Double.ulpOfOne * beta * Swift.abs(logZ)
}

// MARK: - Eq. 7: a constant minus a divergence, for every policy

/// 300 Dirichlet draws with concentrations 0.01 to 10, then the prior, the posterior and a point mass.
func testPolicies(count n: Int, prior: Distribution, posterior: Distribution, rng: RandomGenerator) -> [Distribution] {
    var pis = (0..<300).map { k in
        Distribution(weights: rng.dirichlet(count: n, concentration: [0.01, 0.1, 1, 10][k % 4]))
    }
    pis += [prior, posterior, Distribution.delta(rng.uniformInt(below: n), count: n)]
    return pis
}

/// A space on which π* and Z have closed forms that never go through the sum Σ π0 e^{r/β}: bit
/// strings of length L, a Bernoulli(p) prior on each bit and the reward r(x) = k(x)/L, the
/// fraction of ones. Then Z = (1 − p + p e^{1/(Lβ)})^L and π* = Bernoulli(p')^L (chapter 3).
struct Oracle {
    /// The prior, enumerated bit by bit, the enumerated reward and β: J is computed from these.
    let problem: ExactProblem
    /// π* from its closed form Bernoulli(p')^L.
    let posterior: Distribution
    /// log Z from its closed form L log(1 − p + p e^{1/(Lβ)}).
    let logZ: Double

    static let length = 10
    static let bitProbability = 0.3

    /// The product space at temperature β (the closed forms at `closedFormBeta`, which is β unless a
    /// test wants them wrong).
    static func bits(beta: Double, closedFormBeta: Double? = nil) -> Oracle {
        let space = BernoulliProduct(length: length, bitProbability: bitProbability, rewardPerOne: 1 / Double(length))
        let b = closedFormBeta ?? beta
        let logPosterior = (0..<space.outcomeCount).map { space.logPosterior(ones: $0.nonzeroBitCount, beta: b) }
        let problem = ExactProblem(prior: space.enumeratedPrior(), reward: space.enumeratedReward(), beta: beta)
        return Oracle(problem: problem, posterior: Distribution(logWeights: logPosterior),
                      logZ: space.logPartitionFunction(beta: b))
    }
}

/// Eq. 7 as a comparison of independent computations: J(π) from the prior and the reward (eq. 3)
/// against β log Z − β KL(π ‖ π*) with π* and log Z from their closed forms, for every policy.
func identityOnOracle(_ o: Oracle, policies: [Distribution]) -> Check {
    let p = o.problem
    let maxR = p.reward.map { Swift.abs($0) }.max()!
    var w = WorstCase(.equal)
    for (k, pi) in policies.enumerated() {
        let j = Objective.klRegularised(pi, prior: p.prior, reward: p.reward, beta: p.beta)
        let rhs = p.beta * o.logZ - p.beta * klDivergence(pi, o.posterior)
        let tol = identityAllowance(pi, prior: p.prior, posterior: o.posterior, maxAbsReward: maxR, beta: p.beta,
                                    logZ: o.logZ)
            + 4 * summationTolerance(Oracle.length, scale: p.beta * (Swift.abs(o.logZ) + 1))
        w.add(j, rhs, tolerance: tol, at: "policy \(k + 1)")
    }
    return w.check(
        id: "identity.closed-form",
        claim: "On $\\{0, 1\\}^{\(Oracle.length)}$, "
            + "$J_{KLRL}(\\pi) = \\beta \\log Z - \\beta \\operatorname{KL}(\\pi, \\pi^*)$ for \(policies.count) "
            + "policies, with $\\pi^*$ and $Z$ from their closed forms",
        reference: "eqs. 7, 17",
        aLabel: "$\\mathbb{E}_\\pi[r] - \\beta \\operatorname{KL}(\\pi, \\pi_0)$",
        bLabel: "$\\beta \\log Z - \\beta \\operatorname{KL}(\\pi, \\pi^*)$, closed forms",
        because: "three n-term sums: 2(n+2)ε (max|r| + 2β(1 + max|log π|)), plus (L+2)ε of the closed forms' "
            + "β(|log Z| + 1)")
}

func manyPolicies(_ c: Context) {
    let s = c.setting, page = c.page
    page.section("A constant minus a divergence")
    page.prose(#"""
    Expand the divergence of a policy from the posterior, using $\log \pi^* = \log \pi_0 + r/\beta - \log Z$. The
    reward term and the prior term that appear are exactly those of the KL-regularised objective, and what is left
    over is the constant $\log Z$. So the objective is $\beta \log Z$ minus $\beta$ times the divergence from the
    posterior: maximising it is minimising that divergence. That is an identity, true of every policy, and the
    paper writes it with "$\propto$" (eq. 7), although a constant is added as well as a factor (see the erratum
    below).
    """#)
    page.equation(#"""
    J_{KLRL}(\pi) = \beta \log Z - \beta \operatorname{KL}(\pi, \pi^*) \quad \text{for every } \pi, \qquad \text{so }
    J_{KLRL}(\pi) + \beta \operatorname{KL}(\pi, \pi^*) = \beta \log Z
    """#, number: "7")
    page.parameters([("$|X|$", "\(s.n)"), ("prior $\\pi_0$", "Dirichlet(1, …, 1) draw"),
                     ("reward", "uniform on [0, 1]"), ("$\\beta$", NumberFormat.format(s.beta)),
                     ("policies", "300 Dirichlet draws (concentrations 0.01 to 10), the prior, the posterior, "
                        + "a point mass")])
    let pis = testPolicies(count: s.n, prior: s.problem.prior, posterior: s.posterior,
                           rng: c.seeds.generator("policies"))
    let sums = pis.map { s.objective($0) + s.beta * klDivergence($0, s.posterior) }
    let random = pis[2]   // a Dirichlet(1) draw
    let terms = (0..<s.n).filter { random.probabilities[$0] > 0 }.map { x in
        let logRatio = random.logProbabilities[x] - s.posterior.logProbabilities[x]
        return random.probabilities[x] * (s.beta * s.logZ - s.beta * logRatio)
    }
    page.derivation([
        DerivationLine(#"J_{KLRL}(\pi) = \mathbb{E}_\pi[r] - \beta \operatorname{KL}(\pi, \pi_0)"#, s.objective(random),
                       note: "eq. 3, for one Dirichlet(1) policy $\\pi$"),
        DerivationLine(#"= \sum_x \pi(x) \left[ \beta \log Z - \beta \log \frac{\pi(x)}{\pi^*(x)} \right]"#,
                       terms.reduce(0, +), note: "substitute $r = \\beta (\\log \\pi^* - \\log \\pi_0 + \\log Z)$"),
        DerivationLine(#"= \beta \log Z - \beta \operatorname{KL}(\pi, \pi^*)"#,
                       s.beta * s.logZ - s.beta * klDivergence(random, s.posterior), note: "$\\sum_x \\pi(x) = 1$"),
        DerivationLine(#"\max_\pi - \min_\pi \left[ J_{KLRL}(\pi) + \beta \operatorname{KL}(\pi, \pi^*) \right]"#,
                       sums.max()! - sums.min()!, note: "over the \(pis.count) policies: rounding level"),
        DerivationLine(#"\max_\pi | J_{KLRL}(\pi) + \beta \operatorname{KL}(\pi, \pi^*) - \beta \log Z |"#,
                       sums.map { Swift.abs($0 - s.beta * s.logZ) }.max()!, note: "$\\log Z$ by log-sum-exp"),
    ], caption: "Eq. 7 on the Dirichlet space, term by term. Both sides are the same sums rearranged, so this is "
        + "shown, not checked.")
    page.prose(#"""
    Both sides above use the same posterior, normalised by the same sum as $Z$, so their agreement proves little. The
    check uses a space where $\pi^*$ and $Z$ have closed forms (chapter 3's bit strings, with the reward the
    fraction of ones): the objective from its definition, the right-hand side from the closed forms. A wrong
    temperature, sign or normaliser on either side breaks it.
    """#)
    let oracle = Oracle.bits(beta: s.beta)
    let oraclePolicies = testPolicies(count: oracle.problem.count, prior: oracle.problem.prior,
                                      posterior: oracle.posterior, rng: c.seeds.generator("oracle-policies"))
    page.check(identityOnOracle(oracle, policies: oraclePolicies))
    page.record("beta_log_Z", s.beta * s.logZ)
    page.record("spread_over_policies", sums.max()! - sums.min()!)
}

// MARK: - Along a training run

/// Exact gradient ascent on J_KLRL from the prior. J_KLRL of a softmax bandit with rewards in [0, 1]
/// is L-smooth in the logits with L ≤ 8 + β(4 + 8 log n) (Mei et al., 2020, for entropy-regularised
/// softmax policies); η = 1/L.
func stepSize(_ s: Setting) -> Double { 1 / (8 + s.beta * (4 + 8 * log(Double(s.n)))) }

func train(_ s: Setting, steps: Int, stepSize eta: Double) -> [Dynamics.Snapshot] {
    Dynamics.gradientAscent(logits: s.problem.prior.logProbabilities, stepSize: eta, steps: steps,
                            record: max(1, steps / 100), gradient: { s.objectiveGradient($0) })
}

/// The objective rises between recorded snapshots (a step size within 1/L, the right sign).
func objectiveRises(_ s: Setting, _ path: [Dynamics.Snapshot]) -> Check {
    var w = WorstCase(.greaterOrEqual)
    let js = path.map { s.objective($0.policy) }
    for k in 1..<path.count {
        let tol = s.sumTolerance(path[k].policy) + s.sumTolerance(path[k - 1].policy)
        w.add(js[k] - js[k - 1], 0, tolerance: tol, at: "step \(path[k].step)")
    }
    return w.check(id: "training.rises",
                   claim: "The objective rises at every recorded step (so the divergence from $\\pi^*$ falls)",
                   reference: "§4", aLabel: "$J_{t+1} - J_t$", bLabel: "0",
                   because: "η = 1/L for the smoothness constant L of J in the logits, so each step increases J; "
                    + "slack for rounding of the two objectives")
}

func trajectory(_ c: Context, steps: Int) -> [Dynamics.Snapshot] {
    let s = c.setting, page = c.page
    page.section("Along a training run the sum stays put")
    let eta = stepSize(s)
    page.prose(#"""
    Train a softmax policy from the prior by exact gradient ascent on $J_{KLRL}$, the idealised version of
    KL-regularised fine-tuning. The objective rises step by step and the divergence from the posterior falls by
    exactly as much, in units of $\beta$: their sum is frozen at $\beta \log Z$ throughout, by the identity above.
    Training is nothing but descent on $\operatorname{KL}(\pi_\theta, \pi^*)$. What can be checked is that the
    step size makes every step an ascent.
    """#)
    page.equation(#"""
    \theta_{t+1} = \theta_t + \eta \nabla_\theta J_{KLRL}(\pi_{\theta_t}), \qquad
    J_{KLRL}(\pi_{\theta_t}) + \beta \operatorname{KL}(\pi_{\theta_t}, \pi^*) = \beta \log Z \ \text{for all } t
    """#, number: "7")
    let path = train(s, steps: steps, stepSize: eta)
    let record = max(1, steps / 100)
    page.parameters([("start", "the prior π0"),
                     ("step size $\\eta$", NumberFormat.format(eta) + " = 1/(8 + β(4 + 8 log n))"),
                     ("steps", "\(steps), recorded every \(record)")])
    let js = path.map { s.objective($0.policy) }
    let kls = path.map { klDivergence($0.policy, s.posterior) }
    let sums = zip(js, kls).map { $0 + s.beta * $1 }
    page.check(objectiveRises(s, path))
    page.derivation([
        DerivationLine(#"J_T - J_0"#, js.last! - js.first!, note: "the training gain, after \(path.last!.step) steps"),
        DerivationLine(#"\beta (\operatorname{KL}_0 - \operatorname{KL}_T)"#, s.beta * (kls.first! - kls.last!),
                       note: "the fall of the divergence from $\\pi^*$, times $\\beta$: eq. 7 at $t = 0$ and $t = T$"),
        DerivationLine(#"\max_t | J_t + \beta \operatorname{KL}_t - \beta \log Z |"#,
                       sums.map { Swift.abs($0 - s.beta * s.logZ) }.max()!, note: "at the \(path.count) snapshots"),
    ], caption: "The identity along the run: the same sums as above, at each snapshot (shown, not checked)")
    page.record("trajectory_gain", js.last! - js.first!)
    page.record("trajectory_kl_fall", s.beta * (kls.first! - kls.last!))
    page.record("training_steps", Double(path.last!.step))
    page.record("final_penalty", klDivergence(path.last!.policy, s.problem.prior))
    page.record("final_kl_posterior", kls.last!)
    page.record("beta", s.beta)
    let t = path.map { Double($0.step) }
    page.plot(LinePlot(title: "Objective, divergence and their sum along training",
                       description: "J rises, beta KL to the posterior falls, and their sum stays at beta log Z.",
                       xLabel: "step t", yLabel: "value",
                       series: [Series("$J_{KLRL}(\\pi_t)$", x: t, y: js),
                                Series("$\\beta \\, \\mathrm{KL}(\\pi_t \\| \\pi^*)$", x: t,
                                       y: kls.map { s.beta * $0 }),
                                Series("sum", x: t, y: sums, style: .dashed)],
                       references: [ReferenceLine(.horizontal, at: s.beta * s.logZ, label: "β log Z")],
                       yIncludesZero: true),
              caption: "As training raises the objective, the divergence from the posterior falls by the same amount; "
                + "the dashed sum lies on $\\beta \\log Z$ at every step.", label: "training")
    return path
}

// MARK: - The gradients are the same vector

/// A point θ at which to compare gradients and a direction v with |v_i| ≤ 1.
struct Probe {
    let theta: [Double]
    let direction: [Double]
}

/// Central difference (f(θ + hv) − f(θ − hv)) / 2h of a function of the policy along a probe.
func centralDifference(_ probe: Probe, h: Double, _ f: (Distribution) -> Double) -> Double {
    func at(_ t: Double) -> Double { f(Distribution.softmax(zip(probe.theta, probe.direction).map { $0 + t * $1 })) }
    return (at(h) - at(-h)) / (2 * h)
}

let differenceStep = 1e-5

/// Allowance of a closed-form directional derivative against a central difference with h = 10⁻⁵,
/// in units of J: truncation β h² |KL'''|/6 with |KL'''| ≤ 48(max|log π/π*| + 1) for |v| ≤ 1, and
/// rounding of the function values (J and β KL alike: n-term sums of terms up to max|r| + 2β M,
/// M = 1 + max|log π|, |log π0|, |log π*|) over h, and of the closed form.
func differenceAllowance(_ s: Setting, _ pi: Distribution) -> Double {
    let h = differenceStep
    var ratio = 0.0, m = 0.0
    for x in 0..<s.n {
        ratio = max(ratio, Swift.abs(pi.logProbabilities[x] - s.posterior.logProbabilities[x]))
        m = max(m, Swift.abs(pi.logProbabilities[x]), Swift.abs(s.problem.prior.logProbabilities[x]),
                Swift.abs(s.posterior.logProbabilities[x]))
    }
    let rounding = summationTolerance(s.n, scale: s.maxAbsReward + 2 * s.beta * (m + 1))
    return s.beta * 8 * h * h * (ratio + 1) + 4 * rounding / h + 4 * rounding
}

/// ⟨∇J_KLRL, v⟩ from the REINFORCE closed form (reward and prior) against −β times central
/// differences of KL(π_θ ‖ π*) (the posterior alone), at every probe.
func objectiveGradientAgainstDivergence(_ s: Setting, probes: [Probe]) -> Check {
    var w = WorstCase(.equal)
    for (k, probe) in probes.enumerated() {
        let pi = Distribution.softmax(probe.theta)
        let closed = dot(s.objectiveGradient(pi), probe.direction)
        let fd = -s.beta * centralDifference(probe, h: differenceStep) { klDivergence($0, s.posterior) }
        w.add(closed, fd, tolerance: differenceAllowance(s, pi), at: "probe \(k + 1)")
    }
    return w.check(id: "gradient.objective-vs-divergence",
                   claim: "$\\langle \\nabla J_{KLRL}, v \\rangle$ in closed form equals $-\\beta$ times the "
                    + "central difference of $\\operatorname{KL}(\\pi_\\theta, \\pi^*)$ along $v$, at "
                    + "\(probes.count) policies",
                   reference: "eq. 7", aLabel: "$\\langle \\pi \\odot (r' - J), v \\rangle$",
                   bLabel: "$-\\beta (\\operatorname{KL}(\\theta + h v) - \\operatorname{KL}(\\theta - h v)) / 2h$",
                   because: "h = 10⁻⁵: truncation βh²|KL'''|/6 with |KL'''| ≤ 48(max|log π/π*| + 1), rounding "
                    + "of the n-term sums over h")
}

/// −β⟨∇KL(π_θ ‖ π*), v⟩ from its closed form (the posterior alone) against central differences of
/// J_KLRL (reward and prior), at every probe.
func divergenceGradientAgainstObjective(_ s: Setting, probes: [Probe]) -> Check {
    var w = WorstCase(.equal)
    for (k, probe) in probes.enumerated() {
        let pi = Distribution.softmax(probe.theta)
        let closed = -s.beta * dot(PolicyGradient.klDivergence(pi, target: s.posterior), probe.direction)
        let fd = centralDifference(probe, h: differenceStep) { s.objective($0) }
        w.add(closed, fd, tolerance: differenceAllowance(s, pi), at: "probe \(k + 1)")
    }
    return w.check(id: "gradient.divergence-vs-objective",
                   claim: "$-\\beta \\langle \\nabla \\operatorname{KL}(\\pi_\\theta, \\pi^*), v \\rangle$ "
                    + "in closed form equals the central difference of $J_{KLRL}$ along $v$, at "
                    + "\(probes.count) policies",
                   reference: "eq. 7",
                   aLabel: "$-\\beta \\langle \\pi \\odot (\\log(\\pi / \\pi^*) - \\operatorname{KL}), v \\rangle$",
                   bLabel: "$(J(\\theta + h v) - J(\\theta - h v)) / 2h$",
                   because: "h = 10⁻⁵: truncation h²|J'''|/6 = βh²|KL'''|/6 with |KL'''| ≤ 48(max|log π/π*| + 1), "
                    + "rounding of the n-term sums over h")
}

/// Probes at five points of the training run and at five random policies, each with its own direction.
func gradientProbes(_ s: Setting, _ path: [Dynamics.Snapshot], rng: RandomGenerator) -> [Probe] {
    var thetas = stride(from: 0, to: path.count, by: max(1, path.count / 5)).map { path[$0].policy.logProbabilities }
    thetas += (0..<5).map { _ in s.problem.prior.logProbabilities.map { $0 + 2 * rng.gaussian() } }
    return thetas.map { theta in Probe(theta: theta, direction: (0..<s.n).map { _ in 2 * rng.uniform() - 1 }) }
}

func gradients(_ c: Context, _ path: [Dynamics.Snapshot]) {
    let s = c.setting, page = c.page
    page.section("The same gradient")
    page.prose(#"""
    If two functions differ by a constant, their gradients agree. So the gradient of the KL-regularised objective in
    the logits (the REINFORCE form of chapter 2, built from the reward and the prior) must equal $-\beta$ times the
    gradient of the divergence from the posterior (built from $\pi^*$ alone). The two closed forms are the same
    vector rearranged, so we show their difference; the checks set each closed form against central differences
    of the other function, along a random direction at points of the training run and at random policies.
    """#)
    page.equation(#"""
    \nabla_\theta J_{KLRL}(\pi_\theta) = \pi_\theta \odot (r' - J) = -\beta \, \pi_\theta \odot
    \left( \log \frac{\pi_\theta}{\pi^*} - \operatorname{KL}(\pi_\theta, \pi^*) \right)
    = -\beta \nabla_\theta \operatorname{KL}(\pi_\theta, \pi^*)
    """#, number: "7")
    let probes = gradientProbes(s, path, rng: c.seeds.generator("gradients"))
    var closedForms = 0.0
    for probe in probes {
        let pi = Distribution.softmax(probe.theta)
        let gJ = s.objectiveGradient(pi), gKL = PolicyGradient.klDivergence(pi, target: s.posterior)
        closedForms = max(closedForms, zip(gJ, gKL).map { Swift.abs($0 + s.beta * $1) }.max()!)
    }
    page.parameters([("policies", "\(probes.count): \(probes.count - 5) along the run, 5 random"),
                     ("direction $v$", "uniform on [−1, 1]ⁿ, a new one at each policy"),
                     ("difference step $h$", "10⁻⁵")])
    page.derivation([
        DerivationLine(#"\max_{\pi, x} | \nabla J_{KLRL}(x) + \beta \nabla \operatorname{KL}(\pi_\theta, \pi^*)(x) |"#,
                       closedForms, note: "the two closed forms, coordinate by coordinate: the same sums rearranged"),
    ], caption: "The two closed forms of the gradient (shown, not checked)")
    page.check(objectiveGradientAgainstDivergence(s, probes: probes))
    page.check(divergenceGradientAgainstObjective(s, probes: probes))
}

// MARK: - Two different divergences

func twoDivergences(_ c: Context, _ path: [Dynamics.Snapshot]) {
    let s = c.setting, page = c.page
    let prior = s.problem.prior, reward = s.problem.reward
    page.section("The penalty and the divergence that is minimised are different numbers")
    let rng = c.seeds.generator("table")
    var named: [(String, Distribution)] = [("prior π0", prior), ("posterior π*", s.posterior)]
    for k in [1, 3] where path.count > k {
        let snapshot = path[path.count * k / 4]
        named.append(("training, step \(snapshot.step)", snapshot.policy))
    }
    named.append(("training, end", path.last!.policy))
    named.append(("random (Dirichlet 1)", Distribution(weights: rng.dirichlet(count: s.n, concentration: 1))))
    let fromPosterior = named.map { klDivergence($0.1, s.posterior) }
    let farthest = fromPosterior.indices.max { fromPosterior[$0] < fromPosterior[$1] }!
    let farthestSentence = farthest == 0
        ? "In @tbl:penalty-and-divergence the prior is the policy farthest from the posterior."
        : "The prior is not the policy farthest from the posterior: in @tbl:penalty-and-divergence the row "
            + "“\(named[farthest].0)” is \(NumberFormat.format(fromPosterior[farthest], significant: 3)) nats "
            + "from it, the prior "
            + "\(NumberFormat.format(fromPosterior[0], significant: 3))."
    page.prose(#"""
    The objective penalises $\operatorname{KL}(\pi, \pi_0)$, the distance from the prior; what training actually
    minimises is $\operatorname{KL}(\pi, \pi^*)$, the distance from the posterior. They are not the same: at the prior
    the penalty is zero and the divergence from the posterior is $\log Z - \mathbb{E}_{\pi_0}[r]/\beta$; at the
    posterior the divergence is zero and the penalty is whatever the reward justified.
    """# + " " + farthestSentence)
    page.equation(#"""
    \operatorname{KL}(\pi_0, \pi^*) = \log Z - \frac{\mathbb{E}_{\pi_0}[r]}{\beta}, \qquad
    \operatorname{KL}(\pi^*, \pi_0) = \frac{\mathbb{E}_{\pi^*}[r]}{\beta} - \log Z
    """#)
    page.derivation([
        DerivationLine(#"\operatorname{KL}(\pi_0, \pi^*) = \sum_x \pi_0(x) \log \frac{\pi_0(x)}{\pi^*(x)}"#,
                       klDivergence(prior, s.posterior), note: "the direct sum"),
        DerivationLine(#"= \log Z - \mathbb{E}_{\pi_0}[r] / \beta"#, s.logZ - prior.expectation(reward) / s.beta,
                       note: "$\\log(\\pi_0 / \\pi^*) = \\log Z - r/\\beta$ term by term"),
        DerivationLine(#"\operatorname{KL}(\pi^*, \pi_0) = \sum_x \pi^*(x) \log \frac{\pi^*(x)}{\pi_0(x)}"#,
                       klDivergence(s.posterior, prior), note: "the direct sum: the penalty at the posterior"),
        DerivationLine(#"= \mathbb{E}_{\pi^*}[r] / \beta - \log Z"#, s.posterior.expectation(reward) / s.beta - s.logZ,
                       note: "the same terms, rearranged"),
    ], caption: "The two divergences at the two ends (shown, not checked: each pair is one sum written twice)")
    var rows: [[String]] = []
    let atPosterior = s.objective(s.posterior)
    for ((name, pi), kl) in zip(named, fromPosterior) {
        let j = s.objective(pi)
        rows.append([name, NumberFormat.format(klDivergence(pi, prior)), NumberFormat.format(kl),
                     NumberFormat.format(j), NumberFormat.format(s.beta * s.logZ - s.beta * kl)])
    }
    page.table(headers: ["policy", "penalty $\\operatorname{KL}(\\pi, \\pi_0)$", "$\\operatorname{KL}(\\pi, \\pi^*)$",
                         "$J_{KLRL}(\\pi)$", "$\\beta \\log Z - \\beta \\operatorname{KL}(\\pi, \\pi^*)$"],
               rows: rows,
               caption: "The penalty and the divergence from the posterior are different numbers; the objective "
                + "always equals $\\beta \\log Z$ minus $\\beta$ times the second.", label: "penalty-and-divergence")
    page.aside(#"""
    Eq. 7: the paper writes $J_{KLRL}(\theta) \propto -\operatorname{KL}(\pi_\theta, \pi^*)$. The relation is affine,
    not a proportion: $J_{KLRL} = \beta \log Z - \beta \operatorname{KL}(\pi_\theta, \pi^*)$, with a constant
    $\beta \log Z$ that is not zero. At the posterior the divergence is 0 while the objective is $\beta \log Z$ =
    """# + " \(NumberFormat.format(atPosterior, significant: 4)) " + #"""
    (@tbl:penalty-and-divergence), so no factor $c$ gives $J_{KLRL} = -c \operatorname{KL}(\pi_\theta, \pi^*)$. \#
    What eq. 7 means,
    and what the appendix's remark after eq. 17 says once the constant is added, is that maximising the one is
    minimising the other.
    """#, kind: .erratum)
}

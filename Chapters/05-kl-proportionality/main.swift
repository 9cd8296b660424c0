// Chapter 5: the KL-regularised objective is a divergence from the posterior (paper eqs. 7 and 17).
//
// J_KLRL(π) and -β KL(π ‖ π*) differ by the constant β log Z, for every policy and along any
// training run; their gradients are the same vector. This program checks the identity over
// many policies and along an exact gradient-ascent trajectory, and sets the divergence from the
// posterior beside the KL penalty from the prior, which is a different number.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct KLProportionality: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kl-proportionality",
        abstract: "Chapter 5: J_KLRL(π) = β log Z − β KL(π ‖ π*), so KL-regularised RL minimises a divergence from the posterior.",
        discussion: "Verifies paper eqs. 7 and 17 on exact finite distributions and writes Output/05-kl-proportionality.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of outcomes |X| of the exact space (2 to 100000).")
    var outcomes: Int = 1000

    @Option(help: "KL coefficient β (0.01 to 100); rewards lie in [0, 1].")
    var beta: Double = 0.1

    @Option(help: "Steps of the exact gradient ascent on J_KLRL from the prior (10 to 100000, and steps × outcomes at most 2×10⁸).")
    var steps: Int = 2000

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (2...100_000).contains(outcomes) else { throw ValidationError("--outcomes must be between 2 and 100000 (got \(outcomes))") }
        guard beta.isFinite, beta >= 0.01, beta <= 100 else { throw ValidationError("--beta must be a number in [0.01, 100] (got \(beta))") }
        guard (10...100_000).contains(steps) else { throw ValidationError("--steps must be between 10 and 100000 (got \(steps))") }
        guard outcomes * steps <= 200_000_000 else {
            throw ValidationError("--steps times --outcomes must be at most 2×10⁸ to finish in seconds (got \(steps) × \(outcomes))")
        }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "05-kl-proportionality", number: 5, title: "KL proportionality",
            summary: "The KL-regularised objective is β log Z minus β KL(π ‖ π*): a constant minus a divergence from the posterior, for every policy and every gradient.")
        try chapter.run(options: common, parameters: [("outcomes", "\(outcomes)"), ("beta", "\(beta)"), ("steps", "\(steps)")]) { page, seeds in
            let setting = Setting(outcomes: outcomes, beta: beta, seeds: seeds)
            manyPolicies(page, setting, seeds)
            let path = trajectory(page, setting, steps: common.quick ? min(steps, 500) : steps)
            gradients(page, setting, path, seeds)
            twoDivergences(page, setting, path, seeds)
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
        self.n = n; self.beta = beta
        let rng = seeds.generator("setting")
        prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        reward = (0..<n).map { _ in rng.uniform() }
        posterior = Posterior.distribution(prior: prior, reward: reward, beta: beta)
        logZ = Posterior.logPartitionFunction(prior: prior, reward: reward, beta: beta)
    }

    var maxAbsReward: Double { reward.map { Swift.abs($0) }.max()! }
    var rewardRange: Double { reward.max()! - reward.min()! }

    /// J_KLRL(π) + β KL(π ‖ π*): by eq. 7 the constant β log Z.
    func proportionalitySum(_ pi: Distribution) -> Double {
        Objective.klRegularised(pi, prior: prior, reward: reward, beta: beta) + beta * klDivergence(pi, posterior)
    }

    /// Rounding allowance of `proportionalitySum`: three n-term sums (E[r], KL to π0, KL to π*)
    /// with terms up to max|r| and β(1 + max|log π|, |log π0|, |log π*|) (a difference of rounded
    /// logarithms is only as exact as the larger one), plus a few ε of β|log Z|.
    func sumTolerance(_ pi: Distribution) -> Double {
        var m = 0.0
        for x in 0..<n where pi.probabilities[x] > 0 {
            m = max(m, Swift.abs(pi.logProbabilities[x]), Swift.abs(prior.logProbabilities[x]), Swift.abs(posterior.logProbabilities[x]))
        }
        m += 1   // each log-probability is rounded relative to its own size, plus (n+2)ε from its normaliser
        return 2 * summationTolerance(n, scale: maxAbsReward + 2 * beta * m) + 4 * Double.ulpOfOne * beta * Swift.abs(logZ)
    }
}

/// Rounding allowance for a sum of n terms each at most `scale` in size: (n + 2) ε scale.
func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

// MARK: - Eq. 7: a constant minus a divergence, for every policy

func manyPolicies(_ page: Page, _ s: Setting, _ seeds: Seeds) {
    page.section("A constant minus a divergence")
    page.prose("Expand the divergence of a policy from the posterior, using $\\log \\pi^* = \\log \\pi_0 + r/\\beta - \\log Z$. The reward term and the prior term that appear are exactly those of the KL-regularised objective, and what is left over is the constant $\\log Z$. So the objective is $\\beta \\log Z$ minus $\\beta$ times the divergence from the posterior: maximising it is minimising that divergence, which is the sense of the paper's \"$\\propto$\" in eq. 7 (up to the factor $\\beta$ and the constant). We test it by adding the two sides for many unrelated policies: the sum must not move.")
    page.equation("J_{KLRL}(\\pi) = \\beta \\log Z - \\beta \\operatorname{KL}(\\pi, \\pi^*) \\quad \\text{for every } \\pi, \\qquad \\text{so } J_{KLRL}(\\pi) + \\beta \\operatorname{KL}(\\pi, \\pi^*) = \\beta \\log Z", number: "7")
    page.parameters([("$|X|$", "\(s.n)"), ("prior $\\pi_0$", "Dirichlet(1, …, 1) draw"), ("reward", "uniform on [0, 1]"), ("$\\beta$", NumberFormat.format(s.beta)),
                     ("policies", "300 Dirichlet draws (concentrations 0.01 to 10), the prior, the posterior, a point mass")])
    let rng = seeds.generator("policies")
    var pis = (0..<300).map { k in Distribution(weights: rng.dirichlet(count: s.n, concentration: [0.01, 0.1, 1, 10][k % 4])) }
    pis += [s.prior, s.posterior, Distribution.delta(rng.uniformInt(below: s.n), count: s.n)]
    var lo = Double.infinity, hi = -Double.infinity, loTol = 0.0, hiTol = 0.0
    var worst = (ratio: -Double.infinity, diff: 0.0, tol: 0.0)
    for pi in pis {
        let sum = s.proportionalitySum(pi), tol = s.sumTolerance(pi)
        if sum < lo { lo = sum; loTol = tol }
        if sum > hi { hi = sum; hiTol = tol }
        let d = Swift.abs(sum - s.beta * s.logZ)
        if d / tol > worst.ratio { worst = (d / tol, d, tol) }
    }
    page.check(Check(claim: "J_KLRL(π) + β KL(π ‖ π*) does not depend on π: its spread over 303 policies is at rounding level", reference: "eq. 7",
                     aLabel: "max − min of J + β KL(π ‖ π*)", bLabel: "0", a: hi - lo, b: 0, tolerance: loTol + hiTol,
                     because: "three n-term sums per policy with terms up to max|r| + 2β(1 + max|log π|): the two extremes' allowances added"))
    page.check(Check(claim: "The constant is β log Z, computed by log-sum-exp (worst policy shown)", reference: "eqs. 7, 17",
                     aLabel: "|J + β KL(π ‖ π*) − β log Z|", bLabel: "0", a: worst.diff, b: 0, tolerance: worst.tol,
                     because: "three n-term sums: 2(n+2)ε (max|r| + 2β(1 + max|log π|)), plus a few ε of β|log Z|"))
    page.record("beta_log_Z", s.beta * s.logZ)
    page.record("spread_over_policies", hi - lo)
}

// MARK: - Along a training run

func trajectory(_ page: Page, _ s: Setting, steps: Int) -> [Dynamics.Snapshot] {
    page.section("Along a training run the sum stays put")
    // J_KLRL of a softmax bandit with rewards in [0, 1] is L-smooth in the logits with
    // L ≤ 8 + β(4 + 8 log n) (Mei et al., 2020, for entropy-regularised softmax policies); η = 1/L.
    let eta = 1 / (8 + s.beta * (4 + 8 * log(Double(s.n))))
    page.prose("Train a softmax policy from the prior by exact gradient ascent on $J_{KLRL}$, the idealised version of KL-regularised fine-tuning. The objective rises step by step and the divergence from the posterior falls by exactly as much, in units of $\\beta$: their sum is frozen at $\\beta \\log Z$ throughout. Training is nothing but descent on $\\operatorname{KL}(\\pi_\\theta, \\pi^*)$.")
    page.equation("\\theta_{t+1} = \\theta_t + \\eta \\nabla_\\theta J_{KLRL}(\\pi_{\\theta_t}), \\qquad J_{KLRL}(\\pi_{\\theta_t}) + \\beta \\operatorname{KL}(\\pi_{\\theta_t}, \\pi^*) = \\beta \\log Z \\ \\text{for all } t", number: "7")
    let record = max(1, steps / 100)
    let path = Dynamics.gradientAscent(logits: s.prior.logProbabilities, stepSize: eta, steps: steps, record: record,
                                       gradient: { PolicyGradient.klRegularised($0, prior: s.prior, reward: s.reward, beta: s.beta) })
    page.parameters([("start", "the prior π0"), ("step size η", NumberFormat.format(eta) + " = 1/(8 + β(4 + 8 log n))"), ("steps", "\(steps), recorded every \(record)")])
    let js = path.map { Objective.klRegularised($0.policy, prior: s.prior, reward: s.reward, beta: s.beta) }
    let kls = path.map { klDivergence($0.policy, s.posterior) }
    let sums = zip(js, kls).map { $0 + s.beta * $1 }
    let tol = path.map { s.sumTolerance($0.policy) }.max()!
    page.check(Check(claim: "Along \(steps) steps of gradient ascent, J_KLRL + β KL(π_t ‖ π*) stays at β log Z", reference: "eq. 7",
                     aLabel: "max_t |J_t + β KL_t − β log Z|", bLabel: "0", a: sums.map { Swift.abs($0 - s.beta * s.logZ) }.max()!, b: 0,
                     tolerance: tol, because: "per snapshot, three n-term sums: 2(n+2)ε (max|r| + 2β(1 + max|log π|)) + a few ε of β|log Z| (largest over the run)"))
    let rise = zip(js, js.dropFirst()).map { $1 - $0 }.min()!
    page.check(Check(claim: "The objective rises at every recorded step (so the divergence from π* falls)", reference: "§4",
                     aLabel: "min_t J_{t+1} − J_t", bLabel: "0", a: rise, b: 0, relation: .greaterOrEqual, tolerance: 2 * tol,
                     because: "η = 1/L for the smoothness constant L of J in the logits, so each step increases J; slack for rounding"))
    page.check(Check(claim: "The training gain in J equals β times the fall of KL(π_t ‖ π*)", reference: "eq. 7",
                     aLabel: "J_T − J_0", bLabel: "β (KL_0 − KL_T)", a: js.last! - js.first!, b: s.beta * (kls.first! - kls.last!),
                     tolerance: 2 * tol, because: "two sums, each at rounding level: twice the snapshot allowance"))
    page.record("trajectory_gain", js.last! - js.first!)
    let t = path.map { Double($0.step) }
    page.plot(LinePlot(title: "Objective, divergence and their sum along training", description: "J rises, beta KL to the posterior falls, and their sum stays at beta log Z.",
                       xLabel: "step t", yLabel: "value",
                       series: [Series("J_KLRL(π_t)", x: t, y: js), Series("β KL(π_t ‖ π*)", x: t, y: kls.map { s.beta * $0 }),
                                Series("sum", x: t, y: sums, style: .dashed)],
                       references: [ReferenceLine(.horizontal, at: s.beta * s.logZ, label: "β log Z")], yIncludesZero: true),
              caption: "As training raises the objective, the divergence from the posterior falls by the same amount; the dashed sum lies on $\\beta \\log Z$ at every step.")
    return path
}

// MARK: - The gradients are the same vector

func gradients(_ page: Page, _ s: Setting, _ path: [Dynamics.Snapshot], _ seeds: Seeds) {
    page.section("The same gradient")
    page.prose("If two functions differ by a constant, their gradients agree. So the gradient of the KL-regularised objective in the logits (the REINFORCE form of chapter 2, built from the reward and the prior) must equal $-\\beta$ times the gradient of the divergence from the posterior (built from $\\pi^*$ alone). We compare the two closed forms at points along the training run and at random policies, and the second against finite differences of the divergence itself.")
    page.equation("\\nabla_\\theta J_{KLRL}(\\pi_\\theta) = \\pi_\\theta \\odot (r' - J) = -\\beta \\, \\pi_\\theta \\odot \\left( \\log \\frac{\\pi_\\theta}{\\pi^*} - \\operatorname{KL}(\\pi_\\theta, \\pi^*) \\right) = -\\beta \\nabla_\\theta \\operatorname{KL}(\\pi_\\theta, \\pi^*)", number: "7")
    let rng = seeds.generator("gradients")
    var points = stride(from: 0, to: path.count, by: max(1, path.count / 5)).map { path[$0].policy }
    points += (0..<5).map { _ in Distribution.softmax(s.prior.logProbabilities.map { $0 + 2 * rng.gaussian() }) }
    var worst = (ratio: -Double.infinity, diff: 0.0, tol: 0.0)
    for pi in points {
        let gJ = PolicyGradient.klRegularised(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let gKL = PolicyGradient.klDivergence(pi, target: s.posterior)
        let d = zip(gJ, gKL).map { Swift.abs($0 + s.beta * $1) }.max()!
        let tol = 2 * s.sumTolerance(pi)
        if d / tol > worst.ratio { worst = (d / tol, d, tol) }
    }
    page.check(Check(claim: "∇J_KLRL = −β ∇KL(π_θ ‖ π*) in every coordinate, at \(points.count) policies on and off the training path (worst shown)", reference: "eq. 7",
                     aLabel: "max_x |∇J(x) + β ∇KL(x)|", bLabel: "0", a: worst.diff, b: 0, tolerance: worst.tol,
                     because: "each side centres an n-vector by its π-mean: rounding of those n-term sums, as for the objective, twice"))
    // Finite differences of KL(π_θ ‖ π*) along a random direction at a random policy.
    let theta = s.prior.logProbabilities.map { $0 + rng.gaussian() }
    let pi = Distribution.softmax(theta)
    let v = (0..<s.n).map { _ in 2 * rng.uniform() - 1 }
    let h = 1e-5
    let klAt = { (t: Double) in klDivergence(Distribution.softmax(zip(theta, v).map { $0 + t * $1 }), s.posterior) }
    let fd = (klAt(h) - klAt(-h)) / (2 * h)
    let gJ = PolicyGradient.klRegularised(pi, prior: s.prior, reward: s.reward, beta: s.beta)
    let predicted = -zip(gJ, v).reduce(0) { $0 + $1.0 * $1.1 } / s.beta
    var m = 0.0
    for x in 0..<s.n { m = max(m, Swift.abs(pi.logProbabilities[x] - s.posterior.logProbabilities[x])) }
    page.check(Check(claim: "−⟨∇J_KLRL, v⟩/β matches central finite differences of KL(π_θ ‖ π*) along a random direction", reference: "eq. 7",
                     aLabel: "−⟨∇J, v⟩/β", bLabel: "(KL(θ+hv) − KL(θ−hv))/2h", a: predicted, b: fd,
                     tolerance: 8 * h * h * (m + 1) + 4 * summationTolerance(s.n, scale: m + 1) / h + 4 * summationTolerance(s.n, scale: s.maxAbsReward + s.beta * m) / s.beta,
                     because: "h = 10⁻⁵: truncation h²|KL'''|/6 with |KL'''| ≤ 48(max|log π/π*| + 1) for |v| ≤ 1, rounding of KL over h, and of ∇J over β"))
}

// MARK: - Two different divergences

func twoDivergences(_ page: Page, _ s: Setting, _ path: [Dynamics.Snapshot], _ seeds: Seeds) {
    page.section("The penalty and the divergence that is minimised are different numbers")
    page.prose("The objective penalises $\\operatorname{KL}(\\pi, \\pi_0)$, the distance from the prior; what training actually minimises is $\\operatorname{KL}(\\pi, \\pi^*)$, the distance from the posterior. They are not the same: at the prior the penalty is zero and the divergence from the posterior is largest, at the posterior the divergence is zero and the penalty is whatever the reward justified. At these two ends both have closed forms in $\\log Z$ and an expected reward, which we compare with the direct sums.")
    page.equation("\\operatorname{KL}(\\pi_0, \\pi^*) = \\log Z - \\frac{\\mathbb{E}_{\\pi_0}[r]}{\\beta}, \\qquad \\operatorname{KL}(\\pi^*, \\pi_0) = \\frac{\\mathbb{E}_{\\pi^*}[r]}{\\beta} - \\log Z")
    let scale = s.maxAbsReward / s.beta + Swift.abs(s.logZ) + 1
    let kl0 = klDivergence(s.prior, s.posterior)
    page.check(Check.close("At the prior the divergence from the posterior is log Z − E_π0[r]/β", reference: "eq. 7",
                           aLabel: "Σ π0 log(π0/π*)", bLabel: "log Z − E_π0[r]/β", a: kl0, b: s.logZ - s.prior.expectation(s.reward) / s.beta,
                           relative: 0, absolute: 2 * summationTolerance(s.n, scale: scale),
                           because: "two n-term sums of terms up to max|r|/β + |log Z|: 2(n+2)ε times that"))
    let klStar = klDivergence(s.posterior, s.prior)
    page.check(Check.close("At the posterior the penalty is E_π*[r]/β − log Z", reference: "eqs. 3, 5",
                           aLabel: "Σ π* log(π*/π0)", bLabel: "E_π*[r]/β − log Z", a: klStar, b: s.posterior.expectation(s.reward) / s.beta - s.logZ,
                           relative: 0, absolute: 2 * summationTolerance(s.n, scale: scale),
                           because: "two n-term sums of terms up to max|r|/β + |log Z|: 2(n+2)ε times that"))
    let rng = seeds.generator("table")
    var rows: [[String]] = []
    var named: [(String, Distribution)] = [("prior π0", s.prior), ("posterior π*", s.posterior)]
    for k in [1, 3] where path.count > k { named.append(("training, step \(path[path.count * k / 4].step)", path[path.count * k / 4].policy)) }
    named.append(("training, end", path.last!.policy))
    named.append(("random (Dirichlet 1)", Distribution(weights: rng.dirichlet(count: s.n, concentration: 1))))
    for (name, pi) in named {
        let j = Objective.klRegularised(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        rows.append([name, NumberFormat.format(klDivergence(pi, s.prior)), NumberFormat.format(klDivergence(pi, s.posterior)),
                     NumberFormat.format(j), NumberFormat.format(s.beta * s.logZ - s.beta * klDivergence(pi, s.posterior))])
    }
    page.table(headers: ["policy", "penalty $\\operatorname{KL}(\\pi, \\pi_0)$", "$\\operatorname{KL}(\\pi, \\pi^*)$", "$J_{KLRL}(\\pi)$", "$\\beta \\log Z - \\beta \\operatorname{KL}(\\pi, \\pi^*)$"],
               rows: rows, caption: "The penalty and the divergence from the posterior are different numbers; the objective always equals β log Z minus β times the second.")
}

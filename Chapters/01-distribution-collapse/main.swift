// Chapter 1: distribution collapse (paper §2, eqs. 1-2).
//
// Maximising expected reward alone drives a policy to a point mass on the best outcome,
// whatever the prior was. This program shows it on an exact finite space, checks every limit
// against a bound computed independently, and shows that the collapse is the β → 0 end of the
// Bayesian posterior path that chapter 3 studies.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct DistributionCollapse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distribution-collapse",
        abstract: "Chapter 1: maximising expected reward collapses a language model onto its best outcome.",
        discussion: "Verifies paper §2 (eqs. 1-2) on exact finite distributions and writes Output/01-distribution-collapse.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of outcomes |X| of the exact space (2 to 100000).")
    var outcomes: Int = 1000

    @Option(help: "Most steps of each exact gradient ascent (10 to 1000000); a run stops earlier once its policy has collapsed. Plain gradient ascent uses the first 1000 outcomes at most, with step 0.5.")
    var steps: Int = 20000

    @Option(help: "Step size of the natural-gradient ascent on the logits (0 < eta <= 100).")
    var stepSize: Double = 1

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (2...100_000).contains(outcomes) else { throw ValidationError("--outcomes must be between 2 and 100000 (got \(outcomes))") }
        guard (10...1_000_000).contains(steps) else { throw ValidationError("--steps must be between 10 and 1000000 (got \(steps))") }
        guard stepSize.isFinite, stepSize > 0, stepSize <= 100 else { throw ValidationError("--step-size must be in (0, 100] (got \(stepSize))") }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "01-distribution-collapse", number: 1, title: "Distribution collapse",
            summary: "Reward maximisation alone turns any prior into a point mass on the best outcome; the Bayesian posterior path reaches the same end only as β → 0.")
        try chapter.run(options: common, parameters: [("outcomes", "\(outcomes)"), ("steps", "\(steps)"), ("step-size", "\(stepSize)")]) { page, seeds in
            let setting = Setting(outcomes: outcomes, seeds: seeds)
            try ceiling(page, setting, seeds)
            collapse(page, setting, maxSteps: steps, eta: stepSize)
            let small = plainAscent(page, setting, maxSteps: steps)
            ties(page, setting, seeds, maxSteps: steps, eta: stepSize)
            exploration(page, setting, small, seeds, maxSteps: steps, quick: common.quick)
            posteriorPath(page, setting)
            try sampledReinforce(page, seeds, quick: common.quick)
        }
    }
}

// MARK: - The setting

/// A prior with full support and a reward with a unique maximiser x* and a gap Δ = 0.1 to the
/// runner-up: r(x*) = 1, every other r(x) uniform in [0, 0.9].
struct Setting {
    let n: Int
    let prior: Distribution
    let reward: [Double]
    let best: Int
    let gap: Double

    init(outcomes n: Int, seeds: Seeds) {
        self.n = n
        let rng = seeds.generator("setting")
        // Dirichlet(1) is uniform on the simplex; draw in log space via Gamma(1) = Exp(1) so that no
        // prior probability is exactly zero.
        prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        best = rng.uniformInt(below: n)
        var r = (0..<n).map { _ in 0.9 * rng.uniform() }
        r[best] = 1
        reward = r
        let chosen = best
        gap = 1 - (r.enumerated().filter { $0.offset != chosen }.map(\.element).max() ?? 0)
    }

    var maximisers: Set<Int> { [best] }
    var rewardRange: Double { reward.max()! - reward.min()! }
}

/// Relative rounding allowance for a sum of n terms of size up to `scale`: n ε scale (the
/// worst case of recursive summation).
func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

// MARK: - §2, eq. 1: expected reward is bounded by the best reward

func ceiling(_ page: Page, _ s: Setting, _ seeds: Seeds) throws {
    page.section("Expected reward has a ceiling")
    page.prose("Treat the language model as a policy $\\pi$ over a finite set of outcomes $X$ and score each outcome with a reward $r$. The RL objective of the paper's §2 is the average reward under the policy. An average never exceeds the largest value averaged, so the objective is at most $\\max_x r(x)$, and it reaches that value only when every outcome the policy can produce is a best outcome.")
    page.equation("J_{RL}(\\pi) = \\mathbb{E}_{x \\sim \\pi} \\left[ r(x) \\right] \\le \\max_{x \\in X} r(x), \\quad \\text{with equality iff} \\quad \\operatorname{supp} \\pi \\subseteq A = \\argmax_x r(x)", number: "1")
    page.parameters([("$|X|$", "\(s.n)"), ("prior $\\pi_0$", "Dirichlet(1, …, 1) draw (uniform on the simplex)"),
                     ("reward", "r(x*) = 1 at one outcome x* = \(s.best); elsewhere uniform on [0, 0.9]"),
                     ("gap $\\Delta$ to the runner-up", NumberFormat.format(s.gap))])
    let rng = seeds.generator("ceiling")
    let rmax = s.reward.max()!
    var worst = -Double.infinity, tightest = Double.infinity
    for k in 0..<200 {
        let alpha = [0.01, 0.1, 1, 10][k % 4]
        let pi = Distribution(weights: rng.dirichlet(count: s.n, concentration: alpha))
        let j = Objective.expectedReward(pi, reward: s.reward)
        worst = max(worst, j - rmax)
        // Strictness: the shortfall is at least Δ times the mass outside A.
        let outside = 1 - pi.mass(of: s.maximisers)
        tightest = min(tightest, (rmax - j) - s.gap * outside)
    }
    page.check(Check(claim: "No policy beats the best reward: max over 200 Dirichlet policies of J_RL(π) − max r", reference: "eq. 1",
                     aLabel: "max_π J_RL(π) − max r", bLabel: "0", a: worst, b: 0, relation: .lessOrEqual,
                     tolerance: summationTolerance(s.n, scale: 1), because: "rounding of an n-term sum of terms ≤ 1: (n+2)ε"))
    page.check(Check(claim: "Mass outside A costs reward: max r − J_RL(π) ≥ Δ·π(X∖A) for all 200 policies", reference: "eq. 1",
                     aLabel: "min_π [max r − J_RL(π) − Δ π(X∖A)]", bLabel: "0", a: tightest, b: 0, relation: .greaterOrEqual,
                     tolerance: summationTolerance(s.n, scale: 1), because: "rounding of an n-term sum: (n+2)ε"))
    // Equality when the support is inside A: a policy on A alone.
    let onA = Distribution.delta(s.best, count: s.n)
    page.check(Check(claim: "A policy supported on A attains the ceiling", reference: "eq. 2",
                     aLabel: "J_RL(δ_x*)", bLabel: "max r", a: Objective.expectedReward(onA, reward: s.reward), b: rmax,
                     tolerance: 0, because: "a single term times 1: exact in floating point"))
}

// MARK: - §2, eq. 2: natural-gradient ascent collapses onto x*

/// Collapse criterion for the natural-gradient ascent: π(x*) ≥ 1 − δ.
let naturalResidual = 1e-9

func collapse(_ page: Page, _ s: Setting, maxSteps: Int, eta: Double) {
    page.section("Natural-gradient ascent collapses the prior onto x*")
    page.prose("Start from the prior's logits and climb $J_{RL}$. In the natural (Fisher) geometry of the softmax the ascent direction is simply the centred reward: every outcome better than average gains log-probability in proportion to how much better it is. The average climbs until only $x^*$ is above it, and the policy becomes the point mass of the paper's eq. 2.")
    page.equation("\\theta \\leftarrow \\theta + \\eta \\left( r - J_{RL}(\\pi_\\theta) \\right), \\qquad \\pi_\\theta \\to \\delta_{x^*} \\quad \\text{as the total step} \\; t \\to \\infty", number: "2")
    let path = Dynamics.gradientAscent(
        logits: s.prior.logProbabilities, stepSize: eta, steps: maxSteps, record: 1,
        gradient: { pi in let j = Objective.expectedReward(pi, reward: s.reward); return s.reward.map { $0 - j } },
        stop: { $0.probabilities[s.best] >= 1 - naturalResidual })
    let end = path.last!.policy
    let steps = path.last!.step
    let eps = 1 - end.probabilities[s.best]
    page.parameters([("step size $\\eta$", NumberFormat.format(eta)), ("steps taken", "\(steps) (stop when π(x*) ≥ 1 − 10⁻⁹)"),
                     ("$\\pi_0(x^*)$", NumberFormat.format(s.prior.probabilities[s.best])),
                     ("final residual $\\varepsilon = 1 - \\pi(x^*)$", NumberFormat.format(eps))])
    page.record("natural_steps", Double(steps))
    page.record("natural_residual", eps)

    page.check(Check(claim: "The ascent collapses: π(x*) reaches 1 − 10⁻⁹", reference: "eq. 2",
                     aLabel: "π_T(x*)", bLabel: "1", a: end.probabilities[s.best], b: 1, relation: .greaterOrEqual,
                     tolerance: naturalResidual, because: "collapse criterion δ = 10⁻⁹ within --steps"))
    page.prose("Each limit below is compared with a bound that depends only on the residual mass $\\varepsilon$ left outside $x^*$, derived on paper and computed separately from the quantity it bounds.")
    limitChecks(page, s, end, onto: s.best, eps: eps)

    // The iterate is the posterior at β = 1/t (beyond the paper).
    let t = eta * Double(steps)
    let post = Posterior.distribution(prior: s.prior, reward: s.reward, beta: 1 / t)
    let diff = zip(end.probabilities, post.probabilities).map { Swift.abs($0 - $1) }.max()!
    page.check(Check(claim: "After total step t the natural-gradient iterate is the posterior π0 e^{t r}/Z at β = 1/t", reference: "eq. 5, beyond the paper",
                     aLabel: "max_x |π_T(x) − π*_{1/t}(x)|", bLabel: "0", a: diff, b: 0,
                     tolerance: Double(steps) * Double(s.n + 3) * Double.ulpOfOne, because: "T softmax evaluations, each an n-term sum: T(n+3)ε"))
    let xs = path.map { eta * Double($0.step) }
    page.plot(LinePlot(title: "Collapse along natural-gradient ascent", description: "Entropy falls to 0 while KL to the prior rises to −log π0(x*).",
                       xLabel: "total step t = ηk", yLabel: "nats",
                       series: [Series("entropy H(π)", x: xs, y: path.map { $0.policy.entropy }),
                                Series("KL(π ‖ π0)", x: xs, y: path.map { klDivergence($0.policy, s.prior) })],
                       references: [ReferenceLine(.horizontal, at: -s.prior.logProbabilities[s.best], label: "−log π0(x*)")], yIncludesZero: true),
              caption: "Entropy and KL to the prior along the ascent. The dashed line is the limit $-\\log \\pi_0(x^*)$ of eq. 2.")
}

/// The absolute rounding error of ε = 1 − π(x), computed by a subtraction from 1: a few ulps of 1.
let epsRounding = 4 * Double.ulpOfOne

/// The limits of eq. 2 for a policy within ε of the point mass on `x`, each against a bound.
func limitChecks(_ page: Page, _ s: Setting, _ end: Distribution, onto x: Int, eps: Double) {
    let name = x == s.best ? "x*" : "x̂"
    let logN1 = s.n > 1 ? log(Double(s.n - 1)) : 0
    let fano = binaryEntropy(eps) + eps * logN1
    page.check(Check(claim: "Entropy goes to 0: H(π_T) within Fano's bound h(ε) + ε log(n−1)", reference: "§2",
                     aLabel: "H(π_T)", bLabel: "h(ε)+ε log(n−1)", a: end.entropy, b: fano, relation: .lessOrEqual,
                     tolerance: summationTolerance(s.n, scale: fano) + epsRounding * (Swift.abs(log(max(eps, 1e-300))) + logN1 + 2),
                     because: "Fano's inequality is exact; slack for n-term rounding and for the rounding of ε = 1 − π(x) (slope |log ε| + log n)"))
    let logPrior = s.prior.logProbabilities
    let maxAbsLog = logPrior.map { Swift.abs($0) }.max()!
    page.check(Check(claim: "KL(π_T ‖ π0) tends to −log π0(\(name)), the KL of the point mass", reference: "§2",
                     aLabel: "KL(π_T ‖ π0)", bLabel: "−log π0(\(name))", a: klDivergence(end, s.prior), b: -logPrior[x],
                     tolerance: end.entropy + eps * (Swift.abs(logPrior[x]) + maxAbsLog) + summationTolerance(s.n, scale: maxAbsLog),
                     because: "|KL − (−log π0(x))| ≤ H(π_T) + ε(|log π0(x)| + max|log π0|), expanding KL around the point mass"))
    page.check(Check(claim: "Collision probability Σπ² tends to 1", reference: "§2",
                     aLabel: "Σ π_T(x)²", bLabel: "1", a: end.collisionProbability, b: 1,
                     tolerance: 2 * eps + summationTolerance(s.n, scale: 1) + 2 * epsRounding, because: "Σπ² ≥ π(\(name))² ≥ 1 − 2ε; slack for rounding"))
    let k = 16
    page.check(Check(claim: "Expected distinct outcomes in 16 draws tends to 1", reference: "§2",
                     aLabel: "E[D₁₆] under π_T", bLabel: "1", a: end.expectedDistinct(draws: k), b: 1,
                     tolerance: Double(k) * (eps + epsRounding) + summationTolerance(s.n, scale: 1), because: "E[D_k] ≤ 1 + kε (union bound over the other outcomes); slack for rounding"))
    page.check(Check(claim: "Expected reward tends to r(\(name))", reference: "eq. 1",
                     aLabel: "J_RL(π_T)", bLabel: "r(\(name))", a: Objective.expectedReward(end, reward: s.reward), b: s.reward[x],
                     tolerance: eps * s.rewardRange + summationTolerance(s.n, scale: 1), because: "|r(x) − J| ≤ ε (max r − min r)"))
}

/// h(ε) = −ε log ε − (1−ε) log(1−ε).
func binaryEntropy(_ e: Double) -> Double {
    guard e > 0 && e < 1 else { return 0 }
    return -e * log(e) - (1 - e) * log1p(-e)
}

// MARK: - Plain gradient ascent: the pull of softmax

/// Plain gradient ascent runs on at most this many outcomes: its gradient scales with π(x) ≈ 1/n,
/// so on 10^5 outcomes a stable step barely moves in any reasonable number of steps.
let plainOutcomes = 1000
/// Step size of plain gradient ascent: J_RL is 5/2-smooth in the logits for rewards in [0, 1]
/// (Mei et al., 2020), so any step below 2/L = 0.8 increases J_RL.
let plainStep = 0.5
let plainResidual = 0.01

func plainAscent(_ page: Page, _ full: Setting, maxSteps: Int) -> Setting {
    let s = full.subspace(plainOutcomes)
    page.section("Plain gradient ascent collapses too, though not always onto x*")
    page.prose("The ordinary gradient of $J_{RL}$ with respect to the logits is $\\pi(x)(r(x) - J_{RL})$: an outcome's logit moves in proportion to its current probability. Likely outcomes therefore move first, and the ascent locks onto an outcome that is both good and likely before the rare best one has grown. The policy still collapses to a point mass, and $J_{RL}$ still rises at every step; the escape to $x^*$ then takes a time inversely proportional to the tiny mass $x^*$ has left.")
    page.equation("\\nabla_{\\theta_x} J_{RL}(\\pi_\\theta) = \\pi_\\theta(x) \\left( r(x) - J_{RL}(\\pi_\\theta) \\right)")
    var previous = Objective.expectedReward(s.prior, reward: s.reward)
    var smallestRise = Double.infinity
    let path = Dynamics.gradientAscent(
        logits: s.prior.logProbabilities, stepSize: plainStep, steps: maxSteps, record: max(1, maxSteps / 400),
        gradient: { PolicyGradient.expectedReward($0, reward: s.reward) },
        stop: { pi in
            let j = Objective.expectedReward(pi, reward: s.reward)
            smallestRise = min(smallestRise, j - previous)
            previous = j
            return pi.probabilities.max()! >= 1 - plainResidual * 1e-2
        })
    let end = path.last!.policy
    let top = end.probabilities.indices.max { end.probabilities[$0] < end.probabilities[$1] }!
    let eps = 1 - end.probabilities[top]
    page.parameters([("outcomes", "\(s.n) (the first \(s.n) of the space, x* included)"), ("step size $\\eta$", "\(plainStep) (below 2/L = 0.8)"),
                     ("steps", "\(path.last!.step)"), ("collapsed onto", top == s.best ? "x* itself" : "x̂ = \(top), r(x̂) = \(NumberFormat.format(s.reward[top]))"),
                     ("$\\pi_T(x^*)$", NumberFormat.format(end.probabilities[s.best]))])
    page.check(Check(claim: "Every step increases J_RL (step below 2/L)", reference: "§2",
                     aLabel: "min_t [J(π_{t+1}) − J(π_t)]", bLabel: "0", a: smallestRise, b: 0, relation: .greaterOrEqual,
                     tolerance: 2 * summationTolerance(s.n, scale: 1), because: "ascent lemma for an L-smooth objective; slack for two n-term sums"))
    page.check(Check(claim: "Plain gradient ascent ends on a near point mass", reference: "eq. 2",
                     aLabel: "max_x π_T(x)", bLabel: "1", a: end.probabilities[top], b: 1, relation: .greaterOrEqual,
                     tolerance: plainResidual, because: "collapse criterion δ = 0.01 within --steps"))
    limitChecks(page, s, end, onto: top, eps: eps)
    page.record("plain_collapsed_on_best", top == s.best ? 1 : 0)
    let xs = path.map { Double($0.step) }
    var series = [Series("π(x*)", x: xs, y: path.map { $0.policy.probabilities[s.best] }),
                  Series("entropy H(π) / log n", x: xs, y: path.map { $0.policy.entropy / log(Double(s.n)) }, style: .dashed)]
    if top != s.best { series.insert(Series("π(x̂)", x: xs, y: path.map { $0.policy.probabilities[top] }), at: 0) }
    page.plot(LinePlot(title: "Plain gradient ascent", description: "Mass on the outcome the ascent locks onto, on the best outcome, and the normalised entropy.",
                       xLabel: "gradient step", yLabel: "probability or fraction", series: series, yIncludesZero: true),
              caption: top == s.best ? "Here the best outcome wins the race and the policy collapses onto it." :
                "The ascent locks onto $\\hat{x}$, a good and likely outcome; $\\pi(x^*)$ stays tiny. Entropy (normalised by $\\log n$) falls to 0 either way.")
    return s
}

extension Setting {
    /// The first m outcomes (x* moved in if needed), prior renormalised, same rewards.
    func subspace(_ m: Int) -> Setting {
        guard m < n else { return self }
        var keep = Array(0..<m)
        if best >= m { keep[m - 1] = best }
        let p = Distribution(logWeights: keep.map { prior.logProbabilities[$0] })
        return Setting(prior: p, reward: keep.map { reward[$0] }, best: keep.firstIndex(of: best)!)
    }

    init(prior: Distribution, reward: [Double], best: Int) {
        self.n = prior.count; self.prior = prior; self.reward = reward; self.best = best
        gap = 1 - (reward.enumerated().filter { $0.offset != best }.map(\.element).max() ?? 0)
    }
}

// MARK: - Ties: the mass goes to the whole argmax

func ties(_ page: Page, _ s: Setting, _ seeds: Seeds, maxSteps: Int, eta: Double) {
    page.section("With ties, the mass goes to the argmax and nowhere else")
    let rng = seeds.generator("ties")
    var reward = s.reward
    let tieCount = min(3, s.n)
    var tied: Set<Int> = [s.best]
    while tied.count < tieCount { tied.insert(rng.uniformInt(below: s.n)) }
    for a in tied { reward[a] = 1 }
    page.prose("Give $\\lvert A \\rvert = \(tieCount)$ outcomes the top reward. The natural-gradient ascent sends all the mass to the set $A$ and keeps the prior's proportions inside it exactly: its end point is $\\pi_0(\\cdot \\mid A)$, the prior conditioned on being optimal.")
    let path = Dynamics.gradientAscent(
        logits: s.prior.logProbabilities, stepSize: eta, steps: maxSteps, record: maxSteps,
        gradient: { pi in let j = Objective.expectedReward(pi, reward: reward); return reward.map { $0 - j } },
        stop: { $0.mass(of: tied) >= 1 - naturalResidual })
    let end = path.last!.policy
    page.check(Check(claim: "All but 10⁻⁹ of the mass ends on the tied set A", reference: "§2",
                     aLabel: "π_T(A)", bLabel: "1", a: end.mass(of: tied), b: 1, relation: .greaterOrEqual,
                     tolerance: naturalResidual, because: "collapse criterion δ = 10⁻⁹"))
    let prA = s.prior.mass(of: tied), endA = end.mass(of: tied)
    var worst = 0.0
    for a in tied { worst = max(worst, Swift.abs(end.probabilities[a] / endA - s.prior.probabilities[a] / prA)) }
    let steps = path.last!.step
    page.check(Check(claim: "Inside A the prior's proportions are kept: the end point is π0(· | A)", reference: "§2, beyond the paper",
                     aLabel: "max_a |π_T(a)/π_T(A) − π0(a)/π0(A)|", bLabel: "0", a: worst, b: 0,
                     tolerance: Double(steps + 1) * Double(s.n + 3) * Double.ulpOfOne, because: "T softmax evaluations, each an n-term sum: (T+1)(n+3)ε"))
    let rows = tied.sorted().map { a in
        [String(a), NumberFormat.format(s.prior.probabilities[a] / prA), NumberFormat.format(end.probabilities[a] / endA)]
    }
    page.table(headers: ["outcome $a \\in A$", "$\\pi_0(a)/\\pi_0(A)$", "$\\pi_T(a)/\\pi_T(A)$"], rows: rows, caption: "How the tied outcomes share the mass")
}

// MARK: - Perfect exploration does not help

func exploration(_ page: Page, _ s: Setting, _ small: Setting, _ seeds: Seeds, maxSteps: Int, quick: Bool) {
    page.section("Perfect exploration does not help")
    page.prose("The paper notes that collapse is not an exploration failure: sample outcomes uniformly instead of from the policy, reweight each by $\\pi(x)/q(x)$, and the expected gradient is the same vector, so the optimum is the same point mass. We evaluate the importance-weighted gradient as an expectation over the uniform proposal, term by term, and compare it with a finite-difference derivative of $J_{RL}$, with the on-policy gradient, and with a seeded Monte Carlo estimate.")
    page.equation("\\mathbb{E}_{x \\sim q} \\left[ \\frac{\\pi_\\theta(x)}{q(x)} r(x) \\nabla_\\theta \\log \\pi_\\theta(x) \\right] = \\mathbb{E}_{x \\sim \\pi_\\theta} \\left[ r(x) \\nabla_\\theta \\log \\pi_\\theta(x) \\right] = \\nabla_\\theta J_{RL}(\\theta)")
    let rng = seeds.generator("exploration")
    // An interior policy: the prior tilted by a random perturbation.
    let theta = s.prior.logProbabilities.map { $0 + rng.gaussian() }
    let pi = Distribution.softmax(theta)
    let uniform = Distribution.uniform(s.n)
    let gIS = PolicyGradient.importanceWeightedExpectedReward(pi, reward: s.reward, proposal: uniform)
    let gOn = PolicyGradient.expectedReward(pi, reward: s.reward)
    let v = (0..<s.n).map { _ in rng.gaussian() }
    let dot = { (g: [Double]) in zip(g, v).reduce(0) { $0 + $1.0 * $1.1 } }
    let h = 1e-5
    let jAt = { (t: Double) in Objective.expectedReward(Distribution.softmax(zip(theta, v).map { $0 + t * $1 }), reward: s.reward) }
    let fd = (jAt(h) - jAt(-h)) / (2 * h)
    let vNorm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
    page.check(Check(claim: "The uniform-proposal importance-weighted gradient equals the finite-difference derivative of J_RL along a random direction v", reference: "§2",
                     aLabel: "⟨g_IS, v⟩", bLabel: "(J(θ+hv) − J(θ−hv))/2h", a: dot(gIS), b: fd,
                     tolerance: 1e-6 * max(1, vNorm), because: "central differences, h = 10⁻⁵: O(h²‖v‖³) truncation plus O(ε/h) rounding, below 10⁻⁶‖v‖"))
    let maxDiff = zip(gIS, gOn).map { Swift.abs($0 - $1) }.max()!
    page.check(Check(claim: "Importance-weighted and on-policy gradients agree in every coordinate", reference: "§2",
                     aLabel: "max_x |g_IS(x) − g_on(x)|", bLabel: "0", a: maxDiff, b: 0,
                     tolerance: 4 * summationTolerance(s.n, scale: 1), because: "two n-term sums of terms ≤ max r = 1: 4(n+2)ε"))
    let draws = quick ? 20_000 : 200_000
    var mean = 0.0, m2 = 0.0
    let piV = dot(pi.probabilities)
    for i in 1...draws {
        let x = rng.uniformInt(below: s.n)
        let sample = exp(pi.logProbabilities[x] - uniform.logProbabilities[x]) * s.reward[x] * (v[x] - piV)
        let d = sample - mean
        mean += d / Double(i)
        m2 += d * (sample - mean)
    }
    let se = (m2 / Double(draws - 1) / Double(draws)).squareRoot()
    page.check(Check(claim: "A seeded Monte Carlo estimate with uniform sampling agrees with the exact gradient", reference: "§2",
                     aLabel: "MC mean of ⟨ĝ_IS, v⟩", bLabel: "⟨∇J, v⟩", a: mean, b: dot(gOn), tolerance: 5.3 * se,
                     because: "5.3 standard errors of \(draws) draws: a false failure has probability about 10⁻⁷"))
    // Ascent with the explored gradient reaches the same point mass as plain ascent.
    let steps = maxSteps
    let uniformSmall = Distribution.uniform(small.n)
    let run = { (g: @escaping (Distribution) -> [Double]) in
        Dynamics.gradientAscent(logits: small.prior.logProbabilities, stepSize: plainStep, steps: steps, record: steps, gradient: g).last!.policy
    }
    let explored = run { PolicyGradient.importanceWeightedExpectedReward($0, reward: small.reward, proposal: uniformSmall) }
    let onPolicy = run { PolicyGradient.expectedReward($0, reward: small.reward) }
    page.check(Check(claim: "Ascent on the uniformly explored gradient ends at the same policy as on-policy ascent", reference: "§2",
                     aLabel: "TV(π_T explored, π_T on-policy)", bLabel: "0", a: totalVariation(explored, onPolicy), b: 0,
                     tolerance: Double(steps) * plainStep * 4 * summationTolerance(small.n, scale: 1) * Double(small.n),
                     because: "per-step gradient differences ≤ 4(m+2)ε per coordinate, carried over T steps of size η across m coordinates"))
}

// MARK: - Beyond the paper: collapse is the β → 0 end of the posterior path

func posteriorPath(_ page: Page, _ s: Setting) {
    page.section("Collapse is the cold end of the posterior path")
    page.prose("Exponentiated-gradient ascent multiplies the policy by $e^{\\eta r}$ and renormalises at each step; it is the natural-gradient ascent above written in probabilities. After steps adding up to $t$ it has reached $\\pi_0 e^{t r} / Z$: exactly the posterior of chapter 3 at temperature $\\beta = 1/t$. Reward maximisation thus walks down the posterior path from $\\beta = \\infty$ (the prior) to $\\beta \\to 0$, where the posterior is the prior restricted to $A$. A KL penalty with coefficient $\\beta$ stops the walk at that temperature.")
    page.equation("\\pi_t(x) = \\frac{\\pi_0(x) e^{t \\, r(x)}}{\\sum_{y} \\pi_0(y) e^{t \\, r(y)}} = \\pi^*_{\\beta = 1/t}(x), \\qquad \\lim_{\\beta \\to 0} \\pi^*_\\beta = \\pi_0( \\cdot \\mid A)", number: "5")
    let eta = 0.05
    var ts: [Double] = [], klEG: [Double] = [], klPost: [Double] = []
    var worstRatio = 0.0, worst = 0.0, worstTol = 1.0
    for k in [1, 3, 10, 30, 100, 300, 1000, 3000] {
        let eg = Dynamics.exponentiatedGradient(prior: s.prior, reward: s.reward, stepSize: eta, steps: k)
        let t = eta * Double(k)
        let post = Posterior.distribution(prior: s.prior, reward: s.reward, beta: 1 / t)
        let diff = zip(eg.probabilities, post.probabilities).map { Swift.abs($0 - $1) }.max()!
        let tol = Double(k + 1) * Double(s.n + 3) * Double.ulpOfOne
        if diff / tol >= worstRatio { worstRatio = diff / tol; worst = diff; worstTol = tol }
        ts.append(t); klEG.append(klDivergence(eg, s.prior)); klPost.append(klDivergence(post, s.prior))
    }
    page.check(Check(claim: "k multiplicative steps of size η equal the posterior at β = 1/(kη), for k = 1 … 3000 (worst k shown)", reference: "eq. 5",
                     aLabel: "max_x |π_k(x) − π*_{1/kη}(x)|", bLabel: "0", a: worst, b: 0,
                     tolerance: worstTol, because: "k multiplicative steps and one softmax, each with an n-term sum: (k+1)(n+3)ε"))
    let beta = 0.004
    let cold = Posterior.distribution(prior: s.prior, reward: s.reward, beta: beta)
    let limit = Posterior.zeroTemperatureLimit(prior: s.prior, reward: s.reward)
    let pA = s.prior.mass(of: s.maximisers)
    let bound = (1 - pA) / pA * exp(-s.gap / beta)
    page.check(Check(claim: "At β = 0.004 the posterior is within (1−π0(A))/π0(A)·e^{−Δ/β} of π0(·|A) in total variation", reference: "eq. 5",
                     aLabel: "TV(π*_β, π0(·|A))", bLabel: "bound", a: totalVariation(cold, limit), b: bound, relation: .lessOrEqual,
                     tolerance: summationTolerance(s.n, scale: 1), because: "the bound is exact; slack for n-term rounding"))
    page.plot(LinePlot(title: "Exponentiated gradient against the posterior path", description: "KL from the prior of the exponentiated-gradient iterate and of the posterior at beta = 1/t coincide.",
                       xLabel: "total step t = 1/β", yLabel: "KL(π ‖ π0) in nats", xScale: .log10,
                       series: [Series("posterior π* at β = 1/t", x: ts, y: klPost), Series("exponentiated gradient", x: ts, y: klEG, style: .points)],
                       references: [ReferenceLine(.horizontal, at: -s.prior.logProbabilities[s.best], label: "−log π0(x*)")], yIncludesZero: true),
              caption: "The iterates (points) lie on the posterior path (line); both approach the collapse value $-\\log \\pi_0(x^*)$ as $t = 1/\\beta$ grows.")
}

// MARK: - Sampled REINFORCE can collapse onto the wrong outcome

func sampledReinforce(_ page: Page, _ seeds: Seeds, quick: Bool) throws {
    page.section("Sampled REINFORCE can collapse onto the wrong outcome")
    let n = 10
    let runs = quick ? 60 : 300
    let reward = (0..<n).map { Double($0) / Double(n - 1) }   // 0, 1/9, ..., 1: outcome 9 is best
    let setup = seeds.generator("reinforce-prior")
    let prior = Distribution(logWeights: (0..<n).map { _ in log(-log(setup.uniformPositive())) })
    page.prose("With exact gradients the ascent always finds $x^*$. With a handful of samples per step it need not: a run that happens to sample a good-but-not-best outcome often pushes its mass up, samples it more, and locks in. Here $\\lvert X \\rvert = \(n)$, $r(x) = x/9$, batches of 4, step size 1, run \(runs) times with different seeds until one outcome holds 99% of the mass.")
    let maxSteps = 200_000
    var rows: [[String]] = []
    var histograms: [(name: String, values: [Double])] = []
    for baseline in [Reinforce.Baseline.none, .leaveOneOut] {
        var counts = [Double](repeating: 0, count: n)
        var collapsed = 0
        for run in 0..<runs {
            let rng = seeds.generator("reinforce-\(baseline.rawValue)-\(run)")
            let out = try Reinforce.run(logits: prior.logProbabilities, reward: reward, batchSize: 4, stepSize: 1,
                                        baseline: baseline, maxSteps: maxSteps, rng: rng)
            if let x = out.collapsedOnto { counts[x] += 1; collapsed += 1 }
        }
        page.check(Check(claim: "Every sampled REINFORCE run (\(baseline.rawValue) baseline) collapses onto a single outcome", reference: "§2",
                         aLabel: "runs with one outcome ≥ 0.99", bLabel: "runs", a: Double(collapsed), b: Double(runs),
                         tolerance: 0, because: "counts: exact"))
        let wrong = Double(collapsed) - counts[n - 1]
        let (lo, hi) = wilson(successes: wrong, trials: Double(runs))
        rows.append([baseline.rawValue, "\(runs)", "\(Int(wrong))", NumberFormat.format(wrong / Double(runs)), "[\(NumberFormat.format(lo, significant: 3)), \(NumberFormat.format(hi, significant: 3))]"])
        histograms.append((name: "\(baseline.rawValue) baseline", values: counts.map { $0 / Double(runs) }))
        page.record("reinforce_wrong_fraction_\(baseline.rawValue)", wrong / Double(runs))
    }
    page.table(headers: ["baseline", "runs", "collapsed on a sub-optimal outcome", "fraction", "95% Wilson interval"], rows: rows,
               caption: "How often sampled REINFORCE locks onto the wrong outcome")
    histograms.append((name: "prior π0", values: prior.probabilities))
    page.plot(BarChart(title: "Where sampled REINFORCE runs end", description: "Fraction of runs that collapse onto each outcome, next to the prior.",
                       categories: (0..<n).map { "r=\(NumberFormat.format(reward[$0], significant: 2))" }, yLabel: "fraction of runs",
                       series: histograms),
              caption: "Every run ends on a point mass, but not always on the best outcome (the rightmost). The prior is shown for comparison: runs tend to lock onto outcomes that are both good and likely.")
}

/// The Wilson score interval at 95% for a binomial proportion.
func wilson(successes k: Double, trials n: Double) -> (Double, Double) {
    let z = 1.959963984540054
    let p = k / n
    let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
    return (max(0, centre - half), min(1, centre + half))
}

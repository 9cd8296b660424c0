// Chapter 9, gradients: what each common way of using the KL penalty follows in expectation.
import BookKit
import Foundation
import Finite
import GSL
import Notebook

/// A computed expected gradient is taken to follow a target when its relative distance
/// ‖E g − ∇KL‖ / ‖∇KL‖ is below this: exact sums agree to ~1e-14, while a biased usage differs
/// at the order of the distance between π_θ and π0 (≥ 1e-3 over the range of --shift).
let followsThreshold = 1e-9

func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
func distance(_ a: [Double], _ b: [Double]) -> Double { norm(zip(a, b).map { $0 - $1 }) }
func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

/// A random unit direction in logit space.
func randomDirection(_ count: Int, _ rng: RandomGenerator) -> [Double] {
    let v = (0..<count).map { _ in rng.gaussian() }
    let n = norm(v)
    return v.map { $0 / n }
}

func gradients(_ page: Page, _ s: Setting, _ seeds: Seeds, _ answers: Answers) throws {
    page.section("Which KL does each penalty follow?")
    page.prose("The penalty enters training in several ways: as $-\\beta k_1$ added to the reward and pushed through REINFORCE (the shaped reward of eq. 4), as a differentiable loss $\\beta k$ on the sampled sequence, per sequence or per token, and with or without the importance ratio $\\rho = \\pi_\\theta/\\mu$ that PPO-style code carries when the samples come from a stale policy $\\mu$. Averaged over the samples, each way has an exact expected gradient with respect to the logits, a finite sum here. We compare it with the gradients of both directions of KL: $\\nabla \\operatorname{KL}(\\pi_\\theta \\| \\pi_0)$, the one the objective of eq. 3 needs, computed by a recursion over the prefix tree, and $\\nabla \\operatorname{KL}(\\pi_0 \\| \\pi_\\theta)$.")
    page.equation("\\mathbb{E}_{x \\sim \\mu} \\left[ \\nabla_\\theta L(x; \\theta) \\right] = \\sum_x \\mu(x) \\sum_t c_t(x) \\left( e_{x_t} - \\pi_\\theta(\\cdot \\mid x_{<t}) \\right), \\qquad \\nabla_\\theta \\operatorname{KL}(\\pi_\\theta \\| \\pi_0) = \\mathbb{E}_{\\pi_\\theta} \\left[ ℓ \\, \\nabla_\\theta \\log \\pi_\\theta \\right]", number: "4")
    page.aside("Why per-token losses miss: the sequence KL is Σ_h π(h) KL_h, and its gradient has two parts, the change of each per-prefix divergence KL_h and the change of the probability π(h) of reaching prefix h. A per-token k2 loss, or the token ratio times k3, differentiates only the first part; the second, Σ_h KL_h ∇π(h), needs the score of the whole prefix, which REINFORCE with k1 in the reward carries. A per-token k3 loss differentiates the first part of the other direction, Σ_h π(h) ∇KL(π0(·|h) ‖ π(·|h)), weighted by the policy's prefixes rather than the prior's. On sequences of length one these coincide with the sequence-level usages.")
    let rng = seeds.generator("directions")
    let directions = (0..<3).map { _ in randomDirection(s.space.parameterCount, rng) }
    let terms = s.n * (s.space.maxLength + 2) + s.space.parameterCount
    let scaleOf = { (g: [Double]) in 1 + g.map { Swift.abs($0) }.max()! }

    // The two target gradients, each checked against finite differences of the enumerated KL.
    let forward = gradientOfKL(policy: s.policy, prior: s.prior)
    let reverse = gradientOfReverseKL(policy: s.policy, prior: s.prior)
    let moved = { (v: [Double], t: Double) in AutoregressiveModel(space: s.space, logits: zip(s.policy.logits, v).map { $0 + t * $1 }) }
    for (name, g, f) in [("KL(π_θ ‖ π0)", forward, { (m: AutoregressiveModel) in klDivergence(m.distribution, s.q) }),
                         ("KL(π0 ‖ π_θ)", reverse, { (m: AutoregressiveModel) in klDivergence(s.q, m.distribution) })] {
        var worst = (diff: -1.0, tol: 0.0, a: 0.0, b: 0.0)
        for v in directions {
            let fd = GradientCheck.derivative(along: v) { f(moved(v, $0)) }
            let a = dot(g, v)
            let tol = fd.tolerance(terms: terms, scale: 1 + Swift.abs(f(s.policy)) + s.maxLogProbability)
            if Swift.abs(a - fd.value) - tol > worst.diff - worst.tol { worst = (Swift.abs(a - fd.value), tol, a, fd.value) }
        }
        page.check(Check(claim: "∇ \(name) (exact recursion) matches finite differences of the enumerated KL along 3 random directions (worst shown)", reference: "eq. 3",
                         aLabel: "⟨∇, v⟩", bLabel: "Richardson difference", a: worst.a, b: worst.b, tolerance: worst.tol, because: GradientCheck.reason))
    }

    // Every usage, on-policy and off-policy.
    struct Row { let usage: KLPenaltyUsage; let offPolicy: Bool; let g: [Double] }
    var rows: [Row] = []
    for usage in KLPenaltyUsage.allCases {
        var worst = (diff: -1.0, tol: 0.0, a: 0.0, b: 0.0)
        for off in [false, true] {
            let mu: AutoregressiveModel? = off ? s.behaviour : nil
            let g = KLGradient.expected(usage, policy: s.policy, prior: s.prior, behaviour: mu)
            rows.append(Row(usage: usage, offPolicy: off, g: g))
            let f0 = KLGradient.surrogate(usage, at: s.policy, frozen: s.policy, prior: s.prior, behaviour: mu)
            for v in directions.prefix(2) {
                let fd = GradientCheck.derivative(along: v) { KLGradient.surrogate(usage, at: moved(v, $0), frozen: s.policy, prior: s.prior, behaviour: mu) }
                let a = dot(g, v)
                let tol = fd.tolerance(terms: terms, scale: 1 + Swift.abs(f0) + scaleOf(g) + s.maxLogProbability)
                if Swift.abs(a - fd.value) - tol > worst.diff - worst.tol { worst = (Swift.abs(a - fd.value), tol, a, fd.value) }
            }
        }
        page.check(Check(claim: "Expected gradient of “\(usage.rawValue)” equals the derivative of its averaged loss (on- and off-policy, 2 random directions, worst shown)",
                         reference: "eq. 4", aLabel: "⟨E ∇L, v⟩", bLabel: "Richardson difference", a: worst.a, b: worst.b, tolerance: worst.tol,
                         because: GradientCheck.reason))
    }

    // The theorems: which usages follow which KL, on any space.
    let theorems: [(KLPenaltyUsage, Bool, [Double], String)] = [
        (.k1Reward, false, forward, "KL(π_θ ‖ π0)"), (.k1RewardToGo, false, forward, "KL(π_θ ‖ π0)"),
        (.k2Loss, false, forward, "KL(π_θ ‖ π0)"), (.ratioK1, false, forward, "KL(π_θ ‖ π0)"), (.ratioK3, false, forward, "KL(π_θ ‖ π0)"),
        (.ratioK1, true, forward, "KL(π_θ ‖ π0)"), (.ratioK3, true, forward, "KL(π_θ ‖ π0)"), (.k3Loss, false, reverse, "KL(π0 ‖ π_θ)"),
    ]
    for (usage, off, target, name) in theorems {
        let g = rows.first { $0.usage == usage && $0.offPolicy == off }!.g
        let diff = zip(g, target).map { Swift.abs($0 - $1) }.max()!
        page.check(Check(claim: "“\(usage.rawValue)” \(off ? "off-policy" : "on-policy") follows ∇\(name) exactly", reference: "beyond the paper",
                         aLabel: "max |E∇L − ∇KL|", bLabel: "0", a: diff, b: 0,
                         tolerance: roundingTolerance(terms: terms, scale: scaleOf(g) + scaleOf(target) + s.maxLogProbability),
                         because: "two exact sums over N sequences and P prefixes, terms up to max|g| + max|log π|"))
    }
    // The per-token usages, in closed form per prefix (the aside above).
    let ph = s.policy.prefixProbabilities
    let c = s.space.choices
    var firstPart = [Double](repeating: 0, count: s.space.parameterCount), otherWay = firstPart
    for h in 0..<s.space.prefixCount {
        let p = s.policy.next(h), q = s.prior.next(h)
        let klh = klDivergence(p, q)
        for a in 0..<c {
            firstPart[h * c + a] = ph[h] * p.probabilities[a] * (p.logProbabilities[a] - q.logProbabilities[a] - klh)
            otherWay[h * c + a] = ph[h] * (p.probabilities[a] - q.probabilities[a])
        }
    }
    for (usage, target, name) in [(KLPenaltyUsage.k2LossPerToken, firstPart, "Σ_h π(h) ∇KL(π(·|h) ‖ π0(·|h))"),
                                  (.ratioK3PerToken, firstPart, "Σ_h π(h) ∇KL(π(·|h) ‖ π0(·|h))"),
                                  (.k3LossPerToken, otherWay, "Σ_h π(h) ∇KL(π0(·|h) ‖ π(·|h))")] {
        let g = rows.first { $0.usage == usage && !$0.offPolicy }!.g
        page.check(Check(claim: "“\(usage.rawValue)” on-policy follows \(name), with the prefix probabilities held fixed", reference: "beyond the paper",
                         aLabel: "max |E∇L − per-prefix form|", bLabel: "0", a: zip(g, target).map { Swift.abs($0 - $1) }.max()!, b: 0,
                         tolerance: roundingTolerance(terms: terms, scale: scaleOf(g) + scaleOf(target) + s.maxLogProbability),
                         because: "a sum over N sequences against a sum over P prefixes, terms up to max|g| + max|log π|"))
    }
    let zero = rows.first { $0.usage == .k1Loss && !$0.offPolicy }!.g
    page.check(Check(claim: "k1 as a loss on-policy has expected gradient zero: E_π[∇ log π] = 0", reference: "eq. 4",
                     aLabel: "max |E ∇k1|", bLabel: "0", a: zero.map { Swift.abs($0) }.max()!, b: 0,
                     tolerance: roundingTolerance(terms: terms, scale: 2), because: "an N-term sum of score vectors of norm ≤ 2"))

    // The table.
    let nf = norm(forward), nr = norm(reverse)
    var table: [[String]] = []
    var verdicts: [String: String] = [:]
    for r in rows {
        let ef = distance(r.g, forward) / nf, er = distance(r.g, reverse) / nr
        let verdict = ef <= followsThreshold ? "unbiased for KL(π_θ ‖ π0)" : er <= followsThreshold ? "unbiased for KL(π0 ‖ π_θ)" : "biased for both"
        verdicts[r.usage.rawValue + (r.offPolicy ? " off" : " on")] = verdict
        table.append([r.usage.rawValue, r.offPolicy ? "off-policy (μ)" : "on-policy", NumberFormat.format(ef, significant: 3),
                      NumberFormat.format(er, significant: 3), NumberFormat.format(dot(r.g, forward) / (norm(r.g) * nf + 1e-300), significant: 3), verdict])
    }
    page.table(headers: ["usage", "samples from", "‖E∇L − ∇KL(π‖π0)‖/‖∇KL(π‖π0)‖", "‖E∇L − ∇KL(π0‖π)‖/‖∇KL(π0‖π)‖", "cosine with ∇KL(π‖π0)", "verdict"],
               rows: table, caption: "Exact expected gradients of each usage against the gradients of both KL directions (relative distance below \(NumberFormat.format(followsThreshold)) counts as unbiased)", foldAbove: 30)
    page.plot(BarChart(title: "How far each usage is from the KL gradients", description: "Relative distance of each usage's expected gradient from the gradient of each KL direction, on-policy.",
                       categories: rows.filter { !$0.offPolicy }.map { shortName($0.usage) }, yLabel: "relative distance (capped at 2)",
                       series: [(name: "from ∇KL(π‖π0)", values: rows.filter { !$0.offPolicy }.map { min(2, distance($0.g, forward) / nf) }),
                                (name: "from ∇KL(π0‖π)", values: rows.filter { !$0.offPolicy }.map { min(2, distance($0.g, reverse) / nr) })]),
              caption: "A bar at zero means the usage follows that KL exactly. On-policy samples; the off-policy rows are in the table. Labels: “reward” is REINFORCE with the estimate as a reward, “to-go” the per-token reward-to-go, “tok” a per-token sum, ρ the sequence ratio and ρₜ the token ratio.")
    page.record("k3_loss_relative_distance_forward", distance(rows.first { $0.usage == .k3Loss && !$0.offPolicy }!.g, forward) / nf)
    let tokenVerdict = verdicts[KLPenaltyUsage.k3LossPerToken.rawValue + " on"]!
    answers.add("Is “k3 as a loss” the gradient of the KL I think it is?",
                "No: on-policy its expected gradient is ∇KL(π0 ‖ π_θ), the other direction (relative distance \(NumberFormat.format(distance(rows.first { $0.usage == .k3Loss && !$0.offPolicy }!.g, reverse) / nr, significant: 2)) from it and \(NumberFormat.format(distance(rows.first { $0.usage == .k3Loss && !$0.offPolicy }!.g, forward) / nf, significant: 2)) from ∇KL(π_θ ‖ π0)); summed per token it is \(tokenVerdict); k1 in the reward, k2 as a sequence loss, and the ratio times k1 or k3 follow ∇KL(π_θ ‖ π0) (gradient table).")
}

/// A short label for a bar chart.
func shortName(_ u: KLPenaltyUsage) -> String {
    switch u {
    case .k1Reward: return "k1 reward"
    case .k1RewardToGo: return "k1 to-go"
    case .k3Reward: return "k3 reward"
    case .k1Loss: return "k1 loss"
    case .k2Loss: return "k2 loss"
    case .k3Loss: return "k3 loss"
    case .k2LossPerToken: return "k2 tok"
    case .k3LossPerToken: return "k3 tok"
    case .ratioK1: return "ρ k1"
    case .ratioK2: return "ρ k2"
    case .ratioK3: return "ρ k3"
    case .ratioK3PerToken: return "ρₜ k3 tok"
    }
}

/// Finite differences along a direction, with a stated error allowance.
enum GradientCheck {
    static let step = 1e-3
    static let reason = "Richardson-extrapolated central differences (h = 10⁻³): 4× the gap between the h and h/2 differences, plus 8·terms·ε·scale/h for rounding"

    struct Result {
        let value: Double
        let spread: Double
        /// 4 × spread (the extrapolated error is far below the O(h²) gap) plus the rounding of
        /// the enumerated sums, amplified by 1/h.
        func tolerance(terms: Int, scale: Double) -> Double { 4 * spread + roundingTolerance(terms: terms, scale: scale) / GradientCheck.step }
    }

    static func derivative(along v: [Double], _ f: (Double) -> Double) -> Result {
        let d = KLGradient.directionalDerivative(step: step, f)
        return Result(value: d.value, spread: d.spread)
    }
}

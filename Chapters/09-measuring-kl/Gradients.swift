// Chapter 9, gradients: what each common way of using the KL penalty follows in expectation.
//
// Reverse KL means KL(π_θ ‖ π0) (the objective of eq. 3), forward KL means KL(π0 ‖ π_θ).
import BookKit
import Foundation
import Finite
import GSL
import Notebook

/// A computed expected gradient is taken to follow a target when its relative distance
/// ‖E g − ∇KL‖ / ‖∇KL‖ is below this: exact sums agree to ~1e-14, while a biased usage differs
/// at the order of the distance between π_θ and π0 (≥ 1e-3 over the range of --shift).
let followsThreshold = 1e-9

func distance(_ a: [Double], _ b: [Double]) -> Double { norm(zip(a, b).map { $0 - $1 }) }

/// A random unit direction in logit space.
func randomDirection(_ count: Int, _ rng: RandomGenerator) -> [Double] {
    let v = (0..<count).map { _ in rng.gaussian() }
    let n = norm(v)
    return v.map { $0 / n }
}

/// The gradients a usage may follow: of the reverse KL(π_θ ‖ π0) and the forward KL(π0 ‖ π_θ),
/// and their per-prefix parts with the prefix probabilities π_θ(h) held fixed:
/// Σ_h π(h) ∇KL(π(·|h) ‖ π0(·|h)) and Σ_h π(h) ∇KL(π0(·|h) ‖ π(·|h)).
struct TargetGradients {
    let reverse: [Double]
    let forward: [Double]
    let reversePerPrefix: [Double]
    let forwardPerPrefix: [Double]

    init(_ s: Setting) {
        reverse = gradientOfReverseKL(policy: s.policy, prior: s.prior)
        forward = gradientOfForwardKL(policy: s.policy, prior: s.prior)
        let ph = s.policy.prefixProbabilities
        let c = s.space.choices
        var first = [Double](repeating: 0, count: s.space.parameterCount), other = first
        for h in 0..<s.space.prefixCount {
            let p = s.policy.next(h), q = s.prior.next(h)
            let klh = klDivergence(p, q)
            for a in 0..<c {
                first[h * c + a] = ph[h] * p.probabilities[a] * (p.logProbabilities[a] - q.logProbabilities[a] - klh)
                other[h * c + a] = ph[h] * (p.probabilities[a] - q.probabilities[a])
            }
        }
        reversePerPrefix = first
        forwardPerPrefix = other
    }
}

/// The exact expected gradient of every usage, on-policy and off-policy.
struct UsageGradient {
    let usage: KLPenaltyUsage
    let offPolicy: Bool
    let g: [Double]
}

func usageGradients(_ s: Setting) -> [UsageGradient] {
    KLPenaltyUsage.allCases.flatMap { usage in
        [false, true].map { off in
            UsageGradient(usage: usage, offPolicy: off,
                          g: KLGradient.expected(usage, policy: s.policy, prior: s.prior,
                                                 behaviour: off ? s.behaviour : nil))
        }
    }
}

/// π_θ moved by t along v in logit space.
func moved(_ s: Setting, _ v: [Double], _ t: Double) -> AutoregressiveModel {
    AutoregressiveModel(space: s.space, logits: zip(s.policy.logits, v).map { $0 + t * $1 })
}

func gradients(_ c: Context) throws {
    let page = c.page, s = c.setting
    page.section("Which KL does each penalty follow?")
    page.prose(#"""
        The penalty enters training in several ways: as $-\beta k_1$ added to the reward and pushed through \#
        REINFORCE (the shaped reward of eq. 4), as a differentiable loss $\beta k$ on the sampled sequence, per \#
        sequence or per token, and with or without the importance ratio $\rho = \pi_\theta/\mu$ that PPO-style code \#
        carries when the samples come from a stale policy $\mu$. Averaged over the samples, each way has an exact \#
        expected gradient with respect to the logits, a finite sum here. We compare it with the gradients of both \#
        directions of KL: the reverse $\nabla \operatorname{KL}(\pi_\theta \| \pi_0)$, the one the objective of \#
        eq. 3 needs, computed by a recursion over the prefix tree, and the forward \#
        $\nabla \operatorname{KL}(\pi_0 \| \pi_\theta)$. Which usage follows which direction is in \#
        @tbl:usage-directions, \#
        at the top of the page beside the answers.
        """#)
    page.equation(#"""
        \mathbb{E}_{x \sim \mu} \left[ \nabla_\theta L(x; \theta) \right] = \sum_x \mu(x) \sum_t c_t(x) \left( \#
        e_{x_t} - \pi_\theta(\cdot \mid x_{<t}) \right), \qquad \nabla_\theta \operatorname{KL}(\pi_\theta \| \#
        \pi_0) = \mathbb{E}_{\pi_\theta} \left[ ℓ \, \nabla_\theta \log \pi_\theta \right]
        """#, number: "4")
    page.aside(#"""
        Why per-token losses miss: the sequence KL is $\sum_h \pi(h) \operatorname{KL}_h$, and its gradient has two \#
        parts, the change of each per-prefix divergence $\operatorname{KL}_h$ and the change of the probability \#
        $\pi(h)$ of reaching prefix $h$. A per-token $k_2$ loss, or the token ratio times $k_3$, differentiates only \#
        the first part; the second, $\sum_h \operatorname{KL}_h \nabla \pi(h)$, needs the score of the whole \#
        prefix, which REINFORCE with $k_1$ in the reward carries. A per-token $k_3$ loss differentiates the first \#
        part of the forward direction, $\sum_h \pi(h) \nabla \operatorname{KL}(\pi_0(\cdot|h) \| \pi(\cdot|h))$, \#
        weighted by the policy's prefixes rather than the prior's. On sequences of length one these coincide with \#
        the sequence-level usages.
        """#)
    let rng = c.seeds.generator("directions")
    let directions = (0..<3).map { _ in randomDirection(s.space.parameterCount, rng) }
    let t = TargetGradients(s)

    // The two target gradients, each checked against finite differences of the enumerated KL.
    page.check(targetGradientCheck(id: "gradients.reverse-kl",
                                   name: #"reverse $\nabla \operatorname{KL}(\pi_\theta \| \pi_0)$"#
                                    + " (recursion over the prefix tree)",
                                   gradient: t.reverse, divergence: { klDivergence($0.distribution, s.q) },
                                   s, directions: directions))
    page.check(targetGradientCheck(id: "gradients.forward-kl",
                                   name: #"forward $\nabla \operatorname{KL}(\pi_0 \| \pi_\theta)$ (closed form)"#,
                                   gradient: t.forward, divergence: { klDivergence(s.q, $0.distribution) },
                                   s, directions: directions))

    // Every usage, on-policy and off-policy, against finite differences of its averaged loss.
    let rows = usageGradients(s)
    page.check(surrogateCheck(rows, s, directions: Array(directions.prefix(2))))

    // The theorems: which usages follow which KL, on any space.
    let theorems: [(KLPenaltyUsage, Bool, Bool)] = [   // usage, off-policy, follows the reverse KL
        (.k1Reward, false, true), (.k1RewardToGo, false, true), (.k2Loss, false, true), (.ratioK1, false, true),
        (.ratioK3, false, true), (.ratioK1, true, true), (.ratioK3, true, true), (.k3Loss, false, false),
    ]
    page.sweep("Each usage's exact expected gradient is the KL gradient its theorem names, scaled by its norm") {
        for (usage, off, reverse) in theorems {
            let g = rows.first { $0.usage == usage && $0.offPolicy == off }!.g
            page.check(followsCheck(id: "follows.\(usage.id).\(off ? "off" : "on")-policy", usage: usage,
                                    offPolicy: off, gradient: g, target: reverse ? t.reverse : t.forward,
                                    targetName: reverse
                                        ? #"the reverse $\nabla \operatorname{KL}(\pi_\theta \| \pi_0)$"#
                                        : #"the forward $\nabla \operatorname{KL}(\pi_0 \| \pi_\theta)$"#, s))
        }
    }
    // The per-token usages, in closed form per prefix (the aside above).
    let reversePart = #"$\sum_h \pi(h) \nabla \operatorname{KL}(\pi(\cdot|h) \| \pi_0(\cdot|h))$"#
    let forwardPart = #"$\sum_h \pi(h) \nabla \operatorname{KL}(\pi_0(\cdot|h) \| \pi(\cdot|h))$"#
    page.sweep("Each per-token usage follows its per-prefix closed form") {
        for (usage, target, name) in [(KLPenaltyUsage.k2LossPerToken, t.reversePerPrefix, reversePart),
                                      (.ratioK3PerToken, t.reversePerPrefix, reversePart),
                                      (.k3LossPerToken, t.forwardPerPrefix, forwardPart)] {
            let g = rows.first { $0.usage == usage && !$0.offPolicy }!.g
            page.check(followsCheck(id: "per-prefix.\(usage.id)", usage: usage, offPolicy: false, gradient: g,
                                    target: target,
                                    targetName: name + ", with the prefix probabilities held fixed", s))
        }
    }
    page.check(k1LossZeroCheck(rows.first { $0.usage == .k1Loss && !$0.offPolicy }!.g, s))

    // The usage × KL-direction table goes to the top of the page, beside the answers.
    let nr = norm(t.reverse), nf = norm(t.forward)
    var table: [[String]] = []
    var verdicts: [String: String] = [:]
    for r in rows {
        let er = distance(r.g, t.reverse) / nr, ef = distance(r.g, t.forward) / nf
        let verdict = er <= followsThreshold ? "unbiased for the reverse KL($\\pi_\\theta$ ‖ π0)"
            : ef <= followsThreshold ? "unbiased for the forward KL(π0 ‖ $\\pi_\\theta$)" : "biased for both"
        verdicts[r.usage.rawValue + (r.offPolicy ? " off" : " on")] = verdict
        table.append([r.usage.rawValue, r.offPolicy ? "off-policy (μ)" : "on-policy",
                      NumberFormat.format(er, significant: 3),
                      NumberFormat.format(ef, significant: 3),
                      NumberFormat.format(dot(r.g, t.reverse) / (norm(r.g) * nr + 1e-300), significant: 3), verdict])
    }
    c.answers.directions = (
        headers: ["usage", "samples from", "distance from reverse ∇KL(π‖π0)", "distance from forward ∇KL(π0‖π)",
                  "cosine with reverse ∇KL(π‖π0)", "verdict"],
        rows: table,
        caption: "Which KL each usage follows: exact expected gradients against the gradients of both KL directions, "
            + "as relative distances ‖E∇L − ∇KL‖/‖∇KL‖ (below \(NumberFormat.format(followsThreshold)) counts as "
            + "unbiased); the checks are in the section on gradients")
    let onPolicy = rows.filter { !$0.offPolicy }
    page.plot(BarChart(title: "How far each usage is from the KL gradients",
                       description: "Relative distance of each usage's expected gradient from the gradient of each KL "
                        + "direction, on-policy.",
                       categories: onPolicy.map { shortName($0.usage) }, xLabel: "how the KL penalty is used",
                       yLabel: "relative distance (capped at 2)",
                       series: [(name: "from reverse ∇KL(π‖π0)",
                                 values: onPolicy.map { min(2, distance($0.g, t.reverse) / nr) }),
                                (name: "from forward ∇KL(π0‖π)",
                                 values: onPolicy.map { min(2, distance($0.g, t.forward) / nf) })]),
              caption: "A bar at zero means the usage follows that KL exactly. On-policy samples; the off-policy rows "
                + "are in @tbl:usage-directions, at the top. Labels: “reward” is REINFORCE with the estimate "
                  + "as a reward, “to-go” "
                + "the per-token reward-to-go, “tok” a per-token sum, ρ the sequence ratio and ρₜ the token ratio.")
    let k3 = rows.first { $0.usage == .k3Loss && !$0.offPolicy }!.g
    page.record("k3_loss_relative_distance_reverse", distance(k3, t.reverse) / nr)
    let tokenVerdict = verdicts[KLPenaltyUsage.k3LossPerToken.rawValue + " on"]!
    c.answers.add("Is “k3 as a loss” the gradient of the KL I think it is?",
                  "No: on-policy its expected gradient is the forward ∇KL(π0 ‖ $\\pi_\\theta$), the other "
                  + "direction (relative "
                    + "distance \(NumberFormat.format(distance(k3, t.forward) / nf, significant: 2)) from it and "
                    + "\(NumberFormat.format(distance(k3, t.reverse) / nr, significant: 2)) from the reverse "
                    + "∇KL($\\pi_\\theta$ ‖ π0)); summed per token it is \(tokenVerdict); k1 in the reward, k2 "
                      + "as a sequence "
                    + "loss, and the ratio times k1 or k3 follow the reverse ∇KL($\\pi_\\theta$ ‖ π0) (table "
                      + "of KL directions).")
}

/// A target gradient against Richardson differences of the enumerated divergence along random
/// directions (the worst direction reported).
func targetGradientCheck(id: String, name: String, gradient: [Double], divergence: (AutoregressiveModel) -> Double,
                         _ s: Setting, directions: [[Double]]) -> Check {
    let terms = s.n * (s.space.maxLength + 2) + s.space.parameterCount
    var w = WorstCase(.equal)
    for (k, v) in directions.enumerated() {
        let fd = GradientCheck.derivative(along: v) { divergence(moved(s, v, $0)) }
        w.add(dot(gradient, v), fd.value,
              tolerance: fd.tolerance(terms: terms, scale: 1 + Swift.abs(divergence(s.policy)) + s.maxLogProbability),
              at: "direction \(k + 1)")
    }
    return w.check(id: id, claim: "The \(name) matches finite differences of the enumerated KL along "
                    + "\(directions.count) random directions", reference: "eq. 3",
                   aLabel: "$\\langle \\nabla, v \\rangle$", bLabel: "Richardson difference",
                   because: GradientCheck.reason)
}

/// Every usage's exact expected gradient against Richardson differences of its averaged loss,
/// on- and off-policy, along each direction: one sweep, the worst comparison reported.
func surrogateCheck(_ rows: [UsageGradient], _ s: Setting, directions: [[Double]]) -> Check {
    let items = rows.map { r -> DerivativeItem in
        let mu: AutoregressiveModel? = r.offPolicy ? s.behaviour : nil
        return DerivativeItem(label: "“\(r.usage.rawValue)”, \(r.offPolicy ? "off" : "on")-policy", gradient: r.g) {
            KLGradient.surrogate(r.usage, at: $0, frozen: s.policy, prior: s.prior, behaviour: mu)
        }
    }
    return derivativeSweep(items, s, directions: directions).check(
        id: "gradients.expected-equals-derivative",
        claim: "Every usage's exact expected gradient equals the derivative of its averaged loss (each usage on- and "
            + "off-policy, \(directions.count) random directions)", reference: "eq. 4",
        aLabel: "$\\langle \\mathbb{E} \\nabla L, v \\rangle$", bLabel: "Richardson difference",
        because: GradientCheck.reason)
}

/// An exact expected gradient and the averaged loss it should be the derivative of, as a function
/// of the moved policy.
struct DerivativeItem {
    let label: String
    let gradient: [Double]
    /// Whether the loss is smooth over the differences' step along a direction (false where a kink
    /// of |ℓ| or of a clamp falls inside it, and the differences would measure the kink).
    var smoothAlong: ([Double]) -> Bool = { _ in true }
    let loss: (AutoregressiveModel) -> Double
}

/// Each item's ⟨gradient, v⟩ against Richardson differences of its loss along each direction v,
/// within the differences' own error allowance: the worst comparison is kept.
func derivativeSweep(_ items: [DerivativeItem], _ s: Setting, directions: [[Double]]) -> WorstCase {
    let terms = s.n * (s.space.maxLength + 2) + s.space.parameterCount
    var w = WorstCase(.equal)
    for item in items {
        let scale = 1 + Swift.abs(item.loss(s.policy)) + item.gradient.map { Swift.abs($0) }.max()!
            + 1 + s.maxLogProbability
        for v in directions where item.smoothAlong(v) {
            let fd = GradientCheck.derivative(along: v) { item.loss(moved(s, v, $0)) }
            w.add(dot(item.gradient, v), fd.value, tolerance: fd.tolerance(terms: terms, scale: scale), at: item.label)
        }
    }
    return w
}

/// A usage's expected gradient against a target gradient computed another way (a recursion
/// over prefixes, a closed form per prefix), coordinate by coordinate.
func followsCheck(id: String, usage: KLPenaltyUsage, offPolicy: Bool, gradient g: [Double], target: [Double],
                  targetName: String, _ s: Setting) -> Check {
    let terms = s.n * (s.space.maxLength + 2) + s.space.parameterCount
    let scaleOf = { (g: [Double]) in 1 + g.map { Swift.abs($0) }.max()! }
    return Check(id: id, claim: "“\(usage.rawValue)” \(offPolicy ? "off-policy" : "on-policy") follows \(targetName)",
                 reference: "beyond the paper", aLabel: "$\\max |\\mathbb{E} \\nabla L - \\nabla \\operatorname{KL}|$",
                 bLabel: "0", a: zip(g, target).map { Swift.abs($0 - $1) }.max()!, b: 0,
                 tolerance: roundingTolerance(terms: terms, scale: scaleOf(g) + scaleOf(target) + s.maxLogProbability),
                 because: "two exact sums over N sequences and P prefixes, terms up to max|g| + max|log π|")
}

/// k1 as a loss on-policy: the expected score E_π[∇ log π] is zero.
func k1LossZeroCheck(_ g: [Double], _ s: Setting) -> Check {
    let terms = s.n * (s.space.maxLength + 2) + s.space.parameterCount
    return Check(id: "gradients.k1-loss-zero",
                 claim: "$k_1$ as a loss on-policy has expected gradient zero: "
                    + "$\\mathbb{E}_\\pi[\\nabla \\log \\pi] = 0$",
                 reference: "eq. 4", aLabel: "$\\max |\\mathbb{E} \\nabla k_1|$", bLabel: "0",
                 a: g.map { Swift.abs($0) }.max()!, b: 0, tolerance: roundingTolerance(terms: terms, scale: 2),
                 because: "an N-term sum of score vectors of norm ≤ 2")
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
    static let reason = "Richardson-extrapolated central differences (h = 10⁻³): 4× the gap between the h and h/2 "
        + "differences, plus 8·terms·ε·scale/h for rounding"

    struct Result {
        let value: Double
        let spread: Double
        /// 4 × spread (the extrapolated error is far below the O(h²) gap) plus the rounding of
        /// the enumerated sums, amplified by 1/h.
        func tolerance(terms: Int, scale: Double) -> Double {
            4 * spread + roundingTolerance(terms: terms, scale: scale) / GradientCheck.step
        }
    }

    static func derivative(along v: [Double], _ f: (Double) -> Double) -> Result {
        let d = KLGradient.directionalDerivative(step: step, f)
        return Result(value: d.value, spread: d.spread)
    }
}

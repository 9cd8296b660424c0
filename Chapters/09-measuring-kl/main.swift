// Chapter 9: measuring KL (what practitioners ask).
//
// The KL penalty of the paper (§3, eq. 3) is only ever estimated from samples. On a space of
// short sequences small enough to list, this program computes exactly what the usual
// estimators k1, k2, k3 average to, how much they scatter, how often a batch estimate comes
// out negative, what gradient each common way of putting the penalty into a loss actually
// follows, and how best-of-n sampling compares with the KL-regularised posterior of eq. 5.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

// Several files make up this executable, so main.swift runs top-level code (the last line)
// instead of carrying @main, which Swift allows only in a module without top-level code.
struct MeasuringKL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measuring-kl",
        abstract: "Chapter 9: the KL estimators k1, k2, k3, the gradients of the usual KL penalties, and best-of-n, computed exactly on short sequences.",
        discussion: "Enumerates every sequence of an autoregressive model and writes Output/09-measuring-kl.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of ordinary tokens V; the end token comes on top (2 to 5).")
    var vocabulary: Int = 3

    @Option(help: "Longest sequence L in tokens (1 to 5); there are 1 + V + … + V^L sequences.")
    var length: Int = 4

    @Option(help: "Standard deviation of the random change from the prior's logits to the policy's (0.05 to 2): how far apart π_θ and π0 are.")
    var shift: Double = 0.6

    @Option(help: "Largest n of best-of-n (2 to 4096); n runs over the powers of 2 up to it.")
    var maxN: Int = 256

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (2...5).contains(vocabulary) else { throw ValidationError("--vocabulary must be between 2 and 5 (got \(vocabulary))") }
        guard (1...5).contains(length) else { throw ValidationError("--length must be between 1 and 5 (got \(length))") }
        guard shift.isFinite, shift >= 0.05, shift <= 2 else { throw ValidationError("--shift must be in [0.05, 2] (got \(shift))") }
        guard (2...4096).contains(maxN) else { throw ValidationError("--max-n must be between 2 and 4096 (got \(maxN))") }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "09-measuring-kl", number: 9, title: "Measuring KL",
            summary: "k1 and k3 are unbiased, k2 is not; a batch mean of k1 goes negative; only some ways of putting the penalty into a loss follow ∇KL(π‖π0); best-of-n stays below log n − (n−1)/n and below the posterior's reward at the same KL.")
        try chapter.run(options: common, parameters: [("vocabulary", "\(vocabulary)"), ("length", "\(length)"), ("shift", "\(shift)"), ("max-n", "\(maxN)")]) { page, seeds in
            let s = Setting(vocabulary: vocabulary, length: length, shift: shift, seeds: seeds)
            let answers = Answers()
            enumeration(page, s)
            let est = try estimators(page, s, answers)
            monteCarlo(page, s, est, seeds, quick: common.quick)
            try negativity(page, s, est, seeds, quick: common.quick, answers)
            try gradients(page, s, seeds, answers)
            try bestOfN(page, s, seeds, maxN: maxN, quick: common.quick, answers)
            answers.summarise(page)
        }
    }
}

// MARK: - The setting

/// A prior π0 and a policy π_θ, both tabular autoregressive models on all sequences of at
/// most L tokens, and a behaviour policy μ (a stale copy of π_θ) for off-policy samples.
struct Setting {
    let space: SequenceSpace
    let prior: AutoregressiveModel
    let policy: AutoregressiveModel
    let behaviour: AutoregressiveModel
    let shift: Double
    /// The enumerated sequence distributions.
    let p: Distribution
    let q: Distribution

    init(vocabulary: Int, length: Int, shift: Double, seeds: Seeds) {
        space = SequenceSpace(vocabulary: vocabulary, maxLength: length)
        self.shift = shift
        let g0 = seeds.generator("prior"), g1 = seeds.generator("policy"), g2 = seeds.generator("behaviour")
        let theta0 = (0..<space.parameterCount).map { _ in g0.gaussian() }
        let theta = theta0.map { $0 + g1.gaussian(sigma: shift) }
        prior = AutoregressiveModel(space: space, logits: theta0)
        policy = AutoregressiveModel(space: space, logits: theta)
        behaviour = AutoregressiveModel(space: space, logits: theta.map { $0 + g2.gaussian(sigma: 0.5 * shift) })
        p = policy.distribution
        q = prior.distribution
    }

    var n: Int { space.count }
    /// The largest |log π(a|h)| of either model: the scale of a token log-ratio.
    var maxLogProbability: Double {
        (policy.conditionalLogProbabilities + prior.conditionalLogProbabilities).map { Swift.abs($0) }.max()!
    }
}

/// Rounding allowance for a sum of `terms` floating-point terms of size up to `scale`, each
/// itself computed with a few roundings: 8 · terms · ε · scale (recursive summation worst case).
func roundingTolerance(terms: Int, scale: Double) -> Double { 8 * Double(terms) * Double.ulpOfOne * scale }

/// The practitioners' questions and the one-sentence answers the run arrives at.
final class Answers {
    var items: [(question: String, answer: String)] = []
    func add(_ q: String, _ a: String) { items.append((q, a)) }

    func summarise(_ page: Page) {
        page.section("Answers")
        page.prose("Each answer below restates, in one sentence, what a table above shows for this run.")
        page.table(headers: ["question", "answer from this run"], rows: items.map { [$0.question, $0.answer] },
                   caption: "What practitioners ask, answered exactly on this space", foldAbove: 20)
    }
}

// MARK: - The space, enumerated

func enumeration(_ page: Page, _ s: Setting) {
    page.section("Every sequence, listed")
    page.prose("A language model assigns a sequence the product of its next-token probabilities, the last factor being the probability of stopping. With a vocabulary of \(s.space.vocabulary) tokens and at most \(s.space.maxLength) tokens a sequence, there are \(s.n) sequences: few enough to sum over every one of them, so every expectation below is a finite sum rather than an estimate. The prior $\\pi_0$ has random logits at every prefix; the policy $\\pi_\\theta$ moves each logit by a Gaussian amount of standard deviation \(NumberFormat.format(s.shift)).")
    page.equation("\\pi(x) = \\prod_{t=1}^{T(x)} \\pi(x_t \\mid x_{<t}), \\qquad \\operatorname{KL}(\\pi_\\theta \\| \\pi_0) = \\sum_{h} \\pi_\\theta(h) \\operatorname{KL}\\left( \\pi_\\theta(\\cdot \\mid h) \\| \\pi_0(\\cdot \\mid h) \\right)")
    let kl = klDivergence(s.p, s.q)
    page.parameters([("vocabulary $V$ (plus the end token)", "\(s.space.vocabulary)"), ("longest sequence $L$", "\(s.space.maxLength)"),
                     ("sequences $N$", "\(s.n)"), ("prefixes (softmaxes)", "\(s.space.prefixCount)"),
                     ("logits", "\(s.space.parameterCount)"), ("$\\operatorname{KL}(\\pi_\\theta \\| \\pi_0)$", NumberFormat.format(kl)),
                     ("$\\operatorname{KL}(\\pi_0 \\| \\pi_\\theta)$", NumberFormat.format(klDivergence(s.q, s.p)))])
    page.record("kl", kl)
    let m = s.maxLogProbability
    let L = s.space.maxLength, V = s.space.vocabulary
    let total = s.policy.sequenceLogProbabilities.reduce(0) { $0 + exp($1) }
    page.check(Check(claim: "The products of next-token probabilities of π_θ add up to 1 over the listed sequences", reference: "§3",
                     aLabel: "Σ_x Π_t π(x_t|x_<t)", bLabel: "1", a: total, b: 1,
                     tolerance: roundingTolerance(terms: s.n + (L + 1) * (V + 3), scale: 1 + m),
                     because: "N-term sum plus the rounding of L+1 log-softmaxes of V+1 terms each (relative (L+1)(V+3)ε·max|log π|)"))
    let chain = chainRuleKL(s.policy, s.prior)
    let lMax = s.p.logProbabilities.indices.map { Swift.abs(s.p.logProbabilities[$0] - s.q.logProbabilities[$0]) }.max()!
    page.check(Check(claim: "KL(π_θ ‖ π0) over the listed sequences equals the chain rule over prefixes", reference: "eq. 3",
                     aLabel: "Σ_x π(x) log π(x)/π0(x)", bLabel: "Σ_h π(h) KL_h", a: kl, b: chain,
                     tolerance: roundingTolerance(terms: s.n + s.space.parameterCount + (L + 1) * (V + 3), scale: 1 + lMax + m),
                     because: "an N-term sum against a P(V+1)-term sum, terms up to max|log π/π0|"))
}

// MARK: - The three estimators, exactly

struct EstimatorRow {
    let name: String
    /// The name in the JSON report.
    let key: String
    let values: [Double]
    let moments: ExactMoments
}

func estimators(_ page: Page, _ s: Setting, _ answers: Answers) throws -> [EstimatorRow] {
    page.section("k1, k2 and k3: what they average to")
    page.prose("The penalty $\\beta \\operatorname{KL}(\\pi_\\theta \\| \\pi_0)$ of eq. 3 is estimated from sequences drawn from the policy. Write $ℓ = \\log \\pi_\\theta(x)/\\pi_0(x)$. The plain estimator $k_1 = ℓ$ averages to the KL but is negative whenever the sample happens to be likelier under the prior. $k_2 = ℓ^2/2$ is never negative but averages to something else. $k_3$ adds to $k_1$ the term $\\pi_0/\\pi_\\theta - 1$, whose average is zero, and the sum is never negative. Each can also be applied token by token and summed over the sequence, as RLHF code usually does. For $k_1$ that changes nothing, since the log-ratio of a sequence is the sum of its token log-ratios; for $k_3$ the per-token terms average, by the chain rule, to the per-prefix KLs whose weighted sum is again the sequence KL.")
    page.equation("k_1 = ℓ, \\quad k_2 = \\frac{ℓ^2}{2}, \\quad k_3 = e^{-ℓ} - 1 + ℓ, \\qquad \\mathbb{E}_{\\pi_\\theta}[k_2] - \\operatorname{KL} = -\\mathbb{E}_{\\pi_\\theta} \\left[ e^{-ℓ} - 1 + ℓ - \\frac{ℓ^2}{2} \\right]", number: "3")
    let e = SequenceEstimates(policy: s.policy, prior: s.prior)
    let rows: [EstimatorRow] = [
        ("k1 (per sequence = per token)", "k1", e.perSequence[.k1]!), ("k2 per sequence", "k2", e.perSequence[.k2]!),
        ("k3 per sequence", "k3", e.perSequence[.k3]!), ("k2 summed per token", "k2_per_token", e.perToken[.k2]!),
        ("k3 summed per token", "k3_per_token", e.perToken[.k3]!),
    ].map { EstimatorRow(name: $0.0, key: $0.1, values: $0.2, moments: ExactMoments($0.2, under: s.p)) }
    let kl = chainRuleKL(s.policy, s.prior)
    let V = s.space.vocabulary, L = s.space.maxLength
    let terms = s.n * (L + 2) + s.space.parameterCount + (L + 1) * (V + 3)
    for (row, claim) in [(rows[0], "E[k1] is the KL: k1 is unbiased"), (rows[2], "E[k3] is the KL: k3 is unbiased (π0 has full support)"),
                         (rows[4], "E[Σ_t k3 per token] is the sequence KL: summing k3 per token stays unbiased")] {
        let scale = 1 + row.values.map { Swift.abs($0) }.max()! + s.maxLogProbability
        page.check(Check(claim: claim, reference: "eq. 3", aLabel: "E_π[\(row.name)]", bLabel: "chain-rule KL", a: row.moments.mean, b: kl,
                         tolerance: roundingTolerance(terms: terms, scale: scale), because: "an N-sequence sum against a prefix sum, terms up to max|k| + max|log π|"))
    }
    // k2's bias: −E[R3(−ℓ)] per sequence, −E[Σ_t R3(−ℓ_t)] per token.
    var tokenRemainder = [Double]()
    for i in 0..<s.n {
        let lp = s.policy.tokenLogProbabilities(i), lq = s.prior.tokenLogProbabilities(i)
        tokenRemainder.append(zip(lp, lq).reduce(0) { $0 + taylorRemainder3($1.1 - $1.0) })
    }
    let seqRemainder = e.logRatio.map { taylorRemainder3(-$0) }
    for (row, remainder, what) in [(rows[1], seqRemainder, "per sequence"), (rows[3], tokenRemainder, "summed per token")] {
        let predicted = -s.p.expectation(remainder)
        let scale = 1 + row.values.map { Swift.abs($0) }.max()! + remainder.map { Swift.abs($0) }.max()!
        page.check(Check(claim: "k2 \(what) is biased by exactly −E[e^{−ℓ} − 1 + ℓ − ℓ²/2]", reference: "eq. 3, beyond the paper",
                         aLabel: "E[k2] − KL", bLabel: "−E[R₃(−ℓ)]", a: row.moments.mean - kl, b: predicted,
                         tolerance: roundingTolerance(terms: terms, scale: scale), because: "two N-term sums and the chain-rule KL, terms up to max|k2| + max|R₃|"))
    }
    page.table(headers: ["estimator", "mean", "bias", "standard deviation", "P(estimate < 0)", "smallest value"],
               rows: rows.map { r in
                   [r.name, NumberFormat.format(r.moments.mean), NumberFormat.format(r.moments.mean - kl, significant: 3),
                    NumberFormat.format(r.moments.standardDeviation, significant: 4),
                    NumberFormat.format(s.p.expectation(r.values.map { $0 < 0 ? 1 : 0 }), significant: 4),
                    NumberFormat.format(r.values.min()!, significant: 4)]
               },
               caption: "Exact moments of each single-sample estimator under π_θ; the true KL(π_θ ‖ π0) is \(NumberFormat.format(kl))")
    for r in rows {
        page.record("mean_\(r.key)", r.moments.mean)
        page.record("sd_\(r.key)", r.moments.standardDeviation)
    }
    estimatorHistogram(page, rows, s)
    let pNeg = s.p.expectation(rows[0].values.map { $0 < 0 ? 1 : 0 })
    answers.add("Why is my KL estimate negative?",
                "Because k1 = log π_θ/π0 is negative on every sequence the prior finds likelier: here a single sample has k1 < 0 with probability \(NumberFormat.format(pNeg, significant: 3)) although the KL is \(NumberFormat.format(kl, significant: 3)) (table of exact moments; k2 and k3 are never negative).")
    let tokK3 = rows[4].moments, seqK3 = rows[2].moments
    answers.add("Does summing k3 per token estimate the sequence KL?",
                "Yes, without bias (its mean is \(NumberFormat.format(tokK3.mean)) against a KL of \(NumberFormat.format(kl))), with standard deviation \(NumberFormat.format(tokK3.standardDeviation, significant: 3)) against \(NumberFormat.format(seqK3.standardDeviation, significant: 3)) for k3 on the whole sequence (table of exact moments).")
    return rows
}

/// Histogram of each estimator's exact distribution over a common range.
func estimatorHistogram(_ page: Page, _ rows: [EstimatorRow], _ s: Setting) {
    // The range runs from the smallest value to the largest 99.5% quantile; the last bin also
    // holds the tail beyond it.
    let lo = rows.flatMap(\.values).min()!
    let hi = rows.map { r -> Double in
        let order = r.values.indices.sorted { r.values[$0] < r.values[$1] }
        var c = 0.0
        for i in order { c += s.p.probabilities[i]; if c >= 0.995 { return r.values[i] } }
        return r.values[order.last!]
    }.max()!
    let bins = 16
    let width = (hi - lo) / Double(bins)
    guard width > 0 else { return }
    let series = rows.map { r -> (name: String, values: [Double]) in
        var h = [Double](repeating: 0, count: bins)
        for (i, v) in r.values.enumerated() { h[min(bins - 1, Int((v - lo) / width))] += s.p.probabilities[i] }
        return (name: r.name, values: h)
    }
    page.plot(BarChart(title: "Exact distributions of the estimators", description: "Probability under the policy of each estimator value range.",
                       categories: (0..<bins).map { NumberFormat.format(lo + (Double($0) + 0.5) * width, significant: 2) + ($0 == bins - 1 ? "+" : "") },
                       yLabel: "probability", series: series),
              caption: "Where each single-sample estimator lands (bin centres on the horizontal axis, in nats; the last bin holds everything beyond the largest 99.5% quantile). Only k1 has mass below zero; k2 and k3 pile up near zero with a long right tail.")
}

MeasuringKL.main()

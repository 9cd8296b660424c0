// Chapter 9: measuring KL (what practitioners ask).
//
// The KL penalty of the paper (§3, eq. 3) is only ever estimated from samples. On a space of
// short sequences small enough to list, this program computes exactly what the usual
// estimators k1, k2, k3 average to, how much they scatter, how often a batch estimate comes
// out negative, what gradient each common way of putting the penalty into a loss actually
// follows, and how best-of-n sampling compares with the KL-regularised posterior of eq. 5.
//
// Naming, as in chapter 7 and in TRL, verl and OpenRLHF: KL(π_θ ‖ π0), the divergence from
// the policy (an expectation over the policy's own samples), is the reverse KL; KL(π0 ‖ π_θ)
// is the forward KL.
//
// Each check is built by a function below its section, from inputs a test can replace
// (Tests/ChapterTests/Chapter09Counterexamples.swift feeds each one a wrong computation).
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

// Several files make up this executable, so main.swift runs top-level code (the last line)
// instead of carrying @main, which Swift allows only in a module without top-level code.
struct MeasuringKL: ParsableCommand {
    static let chapter = Chapter(
        slug: "09-measuring-kl", number: 9, title: "Measuring KL",
        summary: "k1 and k3 are unbiased, k2 is not; a batch mean of k1 goes negative; only some ways of putting "
            + "the penalty into a loss follow the reverse ∇KL(π‖π0); best-of-n stays below log n − (n−1)/n and below "
            + "the posterior's reward at the same KL.")

    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 9: the KL estimators k1, k2, k3, the gradients of the usual KL penalties, and best-of-n, "
            + "computed exactly on short sequences.",
        discussion: "Enumerates every sequence of an autoregressive model and writes Output/09-measuring-kl.html "
            + "and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of ordinary tokens V; the end token comes on top (2 to 5).")
    var vocabulary: Int = 3

    @Option(help: "Longest sequence L in tokens (1 to 5); there are 1 + V + … + V^L sequences.")
    var length: Int = 4

    @Option(help: ArgumentHelp("Standard deviation of the random change from the prior's logits to the policy's "
                               + "(0.05 to 2): how far apart π_θ and π0 are."))
    var shift: Double = 0.6

    @Option(help: "Largest n of best-of-n (2 to 4096); n runs over the powers of 2 up to it.")
    var maxN: Int = 256

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (2...5).contains(vocabulary) else {
            throw ValidationError("--vocabulary must be between 2 and 5 (got \(vocabulary))")
        }
        guard (1...5).contains(length) else {
            throw ValidationError("--length must be between 1 and 5 (got \(length))")
        }
        guard shift.isFinite, shift >= 0.05, shift <= 2 else {
            throw ValidationError("--shift must be in [0.05, 2] (got \(shift))")
        }
        guard (2...4096).contains(maxN) else {
            throw ValidationError("--max-n must be between 2 and 4096 (got \(maxN))")
        }
    }

    func run() throws {
        let parameters = [("vocabulary", "\(vocabulary)"), ("length", "\(length)"), ("shift", "\(shift)"),
                          ("max-n", "\(maxN)")]
        try Self.chapter.run(options: common, parameters: parameters) { page, seeds in
            let setting = Setting(vocabulary: vocabulary, length: length, shift: shift, seeds: seeds)
            let c = Context(page: page, setting: setting, seeds: seeds, quick: common.quick, maxN: maxN,
                            answers: Answers())
            // The answers are known only at the end of the run; they are shown first.
            let top = page.mark()
            enumeration(c)
            let est = try estimators(c)
            try schulman(c, est)
            monteCarlo(c, est)
            try negativity(c, est)
            try gradients(c)
            try settings(c)
            try bestOfN(c)
            page.insert(at: top) { c.answers.summarise(page) }
        }
    }
}

// MARK: - The setting

/// A prior π0 and a policy π_θ, both tabular autoregressive models on all sequences of at
/// most L tokens, and a behaviour policy μ (a stale copy of π_θ) for off-policy samples.
struct Setting: Sendable {
    let space: SequenceSpace
    let prior: AutoregressiveModel
    let policy: AutoregressiveModel
    let behaviour: AutoregressiveModel
    let shift: Double
    /// The enumerated sequence distributions.
    let p: Distribution
    let q: Distribution

    init(vocabulary: Int, length: Int, shift: Double, seeds: Seeds) {
        let space = SequenceSpace(vocabulary: vocabulary, maxLength: length)
        let g0 = seeds.generator("prior"), g1 = seeds.generator("policy"), g2 = seeds.generator("behaviour")
        let theta0 = (0..<space.parameterCount).map { _ in g0.gaussian() }
        let theta = theta0.map { $0 + g1.gaussian(sigma: shift) }
        let stale = theta.map { $0 + g2.gaussian(sigma: 0.5 * shift) }
        self.init(prior: AutoregressiveModel(space: space, logits: theta0),
                  policy: AutoregressiveModel(space: space, logits: theta),
                  behaviour: AutoregressiveModel(space: space, logits: stale),
                  shift: shift)
    }

    /// The setting of given models (a test swaps one for a wrong one).
    init(prior: AutoregressiveModel, policy: AutoregressiveModel, behaviour: AutoregressiveModel, shift: Double) {
        space = policy.space
        self.prior = prior; self.policy = policy; self.behaviour = behaviour; self.shift = shift
        p = policy.distribution
        q = prior.distribution
    }

    var n: Int { space.count }
    /// The largest |log π(a|h)| of either model: the scale of a token log-ratio.
    var maxLogProbability: Double {
        (policy.conditionalLogProbabilities + prior.conditionalLogProbabilities).map { Swift.abs($0) }.max()!
    }
    /// The number of terms of a sum over the sequences and their steps, the prefixes, and the
    /// log-softmaxes: the count behind the rounding allowances of the exact sums.
    var sumTerms: Int {
        let L = space.maxLength, V = space.vocabulary
        return n * (L + 2) + space.parameterCount + (L + 1) * (V + 3)
    }
}

/// What one section needs: the page, the setting, the random streams and the run's options.
struct Context {
    let page: Page
    let setting: Setting
    let seeds: Seeds
    let quick: Bool
    let maxN: Int
    let answers: Answers
}

/// Rounding allowance for a sum of `terms` floating-point terms of size up to `scale`, each
/// itself computed with a few roundings: Finite's recursive-summation allowance for 8 roundings
/// a term, 8 · terms · ε · scale.
func roundingTolerance(terms: Int, scale: Double) -> Double { summationTolerance(8 * terms - 2, scale: scale) }

/// The practitioners' questions and the one-sentence answers the run arrives at, with the
/// table of which KL each usage follows (filled by the gradient section).
final class Answers {
    var items: [(question: String, answer: String)] = []
    var directions: (headers: [String], rows: [[String]], caption: String)?
    /// The library settings, one row each: what the expected gradient follows on- and off-policy.
    var settings: (headers: [String], rows: [[String]], caption: String)?
    func add(_ q: String, _ a: String) { items.append((q, a)) }

    func summarise(_ page: Page) {
        page.section("Answers")
        page.prose(#"""
            Each answer below restates, in one sentence, what a table further down shows for this run: every number \#
            in it is an exact sum over all sequences or a seeded sample checked against one. Here the divergence \#
            from the policy, $\operatorname{KL}(\pi_\theta \| \pi_0)$, is the reverse KL and \#
            $\operatorname{KL}(\pi_0 \| \pi_\theta)$ the forward KL, as in chapter 7 and in TRL, verl and OpenRLHF.
            """#)
        page.table(headers: ["question", "answer from this run"], rows: items.map { [$0.question, $0.answer] },
                   caption: "What practitioners ask, answered exactly on this space", foldAbove: 20)
        if let d = settings { page.table(headers: d.headers, rows: d.rows, caption: d.caption, foldAbove: 40) }
        if let d = directions {
            page.table(headers: d.headers, rows: d.rows, caption: d.caption, foldAbove: 40, label: "usage-directions")
        }
    }
}

// MARK: - The space, enumerated

func enumeration(_ c: Context) {
    let page = c.page, s = c.setting
    page.section("Every sequence, listed")
    page.prose(#"""
        A language model assigns a sequence the product of its next-token probabilities, the last factor being the \#
        probability of stopping. With a vocabulary of \#(s.space.vocabulary) tokens and at most \#
        \#(s.space.maxLength) tokens a sequence, there are \#(s.n) sequences: few enough to sum over every one of \#
        them, so every expectation below is a finite sum rather than an estimate. The prior $\pi_0$ has random \#
        logits at every prefix; the policy $\pi_\theta$ moves each logit by a Gaussian amount of standard deviation \#
        \#(NumberFormat.format(s.shift)).
        """#)
    page.equation(#"""
        \pi(x) = \prod_{t=1}^{T(x)} \pi(x_t \mid x_{<t}), \qquad \operatorname{KL}(\pi_\theta \| \pi_0) = \sum_{h} \#
        \pi_\theta(h) \operatorname{KL}\left( \pi_\theta(\cdot \mid h) \| \pi_0(\cdot \mid h) \right)
        """#)
    let kl = klDivergence(s.p, s.q)
    page.parameters([("vocabulary $V$ (plus the end token)", "\(s.space.vocabulary)"),
                     ("longest sequence $L$", "\(s.space.maxLength)"), ("sequences $N$", "\(s.n)"),
                     ("prefixes (softmaxes)", "\(s.space.prefixCount)"), ("logits", "\(s.space.parameterCount)"),
                     (#"reverse $\operatorname{KL}(\pi_\theta \| \pi_0)$"#, NumberFormat.format(kl)),
                     (#"forward $\operatorname{KL}(\pi_0 \| \pi_\theta)$"#,
                      NumberFormat.format(klDivergence(s.q, s.p)))])
    page.record("kl", kl)
    page.check(normalisationCheck(s.policy.sequenceLogProbabilities, s))
    page.check(chainRuleCheck(enumerated: kl, chainRule: chainRuleKL(s.policy, s.prior), s))
}

/// The products of next-token probabilities, one a listed sequence, add up to 1: a sequence
/// missing from the list (or listed twice) breaks it.
func normalisationCheck(_ sequenceLogProbabilities: [Double], _ s: Setting) -> Check {
    let total = sequenceLogProbabilities.reduce(0) { $0 + exp($1) }
    let L = s.space.maxLength, V = s.space.vocabulary
    return Check(id: "space.normalised",
                 claim: "The products of next-token probabilities of $\\pi_\\theta$ add up to 1 over the listed "
                    + "sequences",
                 reference: "§3",
                 aLabel: #"$\sum_x \prod_t \pi(x_t \mid x_{<t})$"#, bLabel: "1", a: total, b: 1,
                 tolerance: roundingTolerance(terms: s.n + (L + 1) * (V + 3), scale: 1 + s.maxLogProbability),
                 because: "N-term sum plus the rounding of L+1 log-softmaxes of V+1 terms each "
                    + "(relative (L+1)(V+3)ε·max|log π|)")
}

/// The reverse KL summed over the listed sequences against the chain rule over the prefixes
/// (a sum that never lists a sequence).
func chainRuleCheck(enumerated kl: Double, chainRule: Double, _ s: Setting) -> Check {
    let lMax = s.p.logProbabilities.indices.map {
        Swift.abs(s.p.logProbabilities[$0] - s.q.logProbabilities[$0])
    }.max()!
    let L = s.space.maxLength, V = s.space.vocabulary
    return Check(id: "space.kl-chain-rule", claim: "The reverse $\\operatorname{KL}(\\pi_\\theta \\| \\pi_0)$ over the "
                    + "listed sequences equals the chain rule over prefixes", reference: "eq. 3",
                 aLabel: #"$\sum_x \pi(x) \log \pi(x)/\pi_0(x)$"#, bLabel: #"$\sum_h \pi(h) \operatorname{KL}_h$"#,
                 a: kl, b: chainRule,
                 tolerance: roundingTolerance(terms: s.n + s.space.parameterCount + (L + 1) * (V + 3), scale: 1 + lMax
                    + s.maxLogProbability),
                 because: "an N-term sum against a P(V+1)-term sum, terms up to max|log π/π0|")
}

// MARK: - The three estimators, exactly

struct EstimatorRow {
    let name: String
    /// The name in the JSON report.
    let key: String
    let values: [Double]
    let moments: ExactMoments

    init(name: String, key: String, values: [Double], under p: Distribution) {
        self.name = name; self.key = key; self.values = values
        moments = ExactMoments(values, under: p)
    }

    /// The key as it appears in check ids ("k3-per-token").
    var idPart: String { key.replacingOccurrences(of: "_", with: "-") }
}

/// The six estimators of the reverse KL, as the chapter tabulates them.
func estimatorRows(_ s: Setting) -> [EstimatorRow] {
    let e = SequenceEstimates(policy: s.policy, prior: s.prior)
    return [
        EstimatorRow(name: "k1 (per sequence = per token)", key: "k1", values: e.perSequence[.k1]!, under: s.p),
        EstimatorRow(name: "k2 per sequence", key: "k2", values: e.perSequence[.k2]!, under: s.p),
        EstimatorRow(name: "k3 per sequence", key: "k3", values: e.perSequence[.k3]!, under: s.p),
        EstimatorRow(name: "k2 summed per token", key: "k2_per_token", values: e.perToken[.k2]!, under: s.p),
        EstimatorRow(name: "k3 summed per token", key: "k3_per_token", values: e.perToken[.k3]!, under: s.p),
        EstimatorRow(name: "exact per-prefix KL summed along the sequence", key: "full",
                     values: perPrefixKLAlongSequences(s), under: s.p),
    ]
}

/// Σ_t KL(π_θ(·|h_t) ‖ π0(·|h_t)) over the prefixes h_t each sequence passes through (the end
/// step's prefix included): the exact per-prefix KL estimator, Rao-Blackwellised over each next
/// token, as verl's "full" names it.
func perPrefixKLAlongSequences(_ s: Setting, droppingLastStep: Bool = false) -> [Double] {
    let klh = (0..<s.space.prefixCount).map { klDivergence(s.policy.next($0), s.prior.next($0)) }
    return s.space.steps.map { steps in
        steps.dropLast(droppingLastStep ? 1 : 0).reduce(0) { $0 + klh[$1.prefix] }
    }
}

/// −R₃(−ℓ) per sequence and −Σ_t R₃(−ℓ_t) per token: the bias of k2 on each sequence.
func k2Remainders(_ s: Setting) -> (perSequence: [Double], perToken: [Double]) {
    var perToken = [Double](), perSequence = [Double]()
    for i in 0..<s.n {
        let lp = s.policy.tokenLogProbabilities(i), lq = s.prior.tokenLogProbabilities(i)
        perToken.append(zip(lp, lq).reduce(0) { $0 + taylorRemainder3($1.1 - $1.0) })
        perSequence.append(taylorRemainder3(zip(lq, lp).reduce(0) { $0 + $1.0 - $1.1 }))
    }
    return (perSequence, perToken)
}

func estimators(_ c: Context) throws -> [EstimatorRow] {
    let page = c.page, s = c.setting
    page.section("k1, k2 and k3: what they average to")
    page.prose(#"""
        The penalty $\beta \operatorname{KL}(\pi_\theta \| \pi_0)$ of eq. 3 is estimated from sequences drawn from \#
        the policy. Write $ℓ = \log \pi_\theta(x)/\pi_0(x)$. The plain estimator $k_1 = ℓ$ averages to the KL but is \#
        negative whenever the sample happens to be likelier under the prior. $k_2 = ℓ^2/2$ is never negative but \#
        averages to something else. $k_3$ adds to $k_1$ the term $\pi_0/\pi_\theta - 1$, whose average is zero, and \#
        the sum is never negative. Each can also be applied token by token and summed over the sequence, as RLHF \#
        code usually does. For $k_1$ that changes nothing, since the log-ratio of a sequence is the sum of its token \#
        log-ratios; for $k_3$ the per-token terms average, by the chain rule, to the per-prefix KLs whose weighted \#
        sum is again the sequence KL. Where the next-token distributions are at hand, as they are for the model \#
        being trained, each token's estimate can be replaced by its conditional mean, the exact \#
        $\operatorname{KL}(\pi_\theta(\cdot \mid h_t) \| \pi_0(\cdot \mid h_t))$ at the prefix: summed \#
        along the sequence it is unbiased too, with no sampling noise from the last token of each step.
        """#)
    page.equation(#"""
        k_1 = ℓ, \quad k_2 = \frac{ℓ^2}{2}, \quad k_3 = e^{-ℓ} - 1 + ℓ, \qquad \mathbb{E}_{\pi_\theta}[k_2] - \#
        \operatorname{KL} = -\mathbb{E}_{\pi_\theta} \left[ e^{-ℓ} - 1 + ℓ - \frac{ℓ^2}{2} \right]
        """#, number: "3")
    let rows = estimatorRows(s)
    let kl = chainRuleKL(s.policy, s.prior)
    let unbiased = [(rows[0], "$\\mathbb{E}[k_1]$ is the KL: $k_1$ is unbiased"),
                    (rows[2], "$\\mathbb{E}[k_3]$ is the KL: $k_3$ is unbiased ($\\pi_0$ has full support)"),
                    (rows[4], "$\\mathbb{E}[\\sum_t k_3]$ per token is the sequence KL: summing $k_3$ per token "
                        + "stays unbiased"),
                    (rows[5], "The exact per-prefix KL summed along the sequence is unbiased for the sequence KL")]
    page.sweep("The unbiased estimators: each one's exact mean is the KL") {
        for (row, claim) in unbiased { page.check(unbiasedCheck(row, claim: claim, kl: kl, s)) }
    }
    let remainders = k2Remainders(s)
    page.check(k2BiasCheck(rows[1], remainder: remainders.perSequence, what: "per sequence", kl: kl, s))
    page.check(k2BiasCheck(rows[3], remainder: remainders.perToken, what: "summed per token", kl: kl, s))
    page.table(headers: ["estimator", "mean", "bias", "standard deviation", "P(estimate < 0)", "smallest value"],
               rows: rows.map { r in
                   [r.name, NumberFormat.format(r.moments.mean),
                    NumberFormat.format(r.moments.mean - kl, significant: 3),
                    NumberFormat.format(r.moments.standardDeviation, significant: 4),
                    NumberFormat.format(s.p.expectation(r.values.map { $0 < 0 ? 1 : 0 }), significant: 4),
                    NumberFormat.format(r.values.min()!, significant: 4)]
               },
               caption: "Exact moments of each single-sample estimator under $\\pi_\\theta$; the true reverse "
                        + "KL($\\pi_\\theta$ ‖ π0) is "
                + NumberFormat.format(kl))
    for r in rows {
        page.record("mean_\(r.key)", r.moments.mean)
        page.record("sd_\(r.key)", r.moments.standardDeviation)
    }
    estimatorHistogram(page, rows, s)
    offPolicyEstimators(c, kl: kl)
    let pNeg = s.p.expectation(rows[0].values.map { $0 < 0 ? 1 : 0 })
    c.answers.add("Why is my KL estimate negative?",
                  "Because k1 = log $\\pi_\\theta$/π0 is negative on every sequence the prior finds likelier: "
                  + "here a single "
                    + "sample has k1 < 0 with probability \(NumberFormat.format(pNeg, significant: 3)) although the KL "
                    + "is "
                    + "\(NumberFormat.format(kl, significant: 3)) (table of exact moments; k2 and k3 are never "
                    + "negative).")
    let tokK3 = rows[4].moments, seqK3 = rows[2].moments
    c.answers.add("Does summing k3 per token estimate the sequence KL?",
                  "Yes, without bias (its mean is \(NumberFormat.format(tokK3.mean)) against a KL of "
                    + "\(NumberFormat.format(kl))), with standard deviation "
                    + "\(NumberFormat.format(tokK3.standardDeviation, significant: 3)) against "
                    + "\(NumberFormat.format(seqK3.standardDeviation, significant: 3)) for k3 on the whole sequence "
                    + "(table of exact moments).")
    return rows
}

/// Estimates of the reverse KL from a stale policy's samples x ~ μ: the sequence ratio
/// ρ = π_θ(x)/μ(x) (a product of T token ratios) times k1 or k3, TRL's token ratio times k3 summed
/// per token, and k1 with no ratio at all; exact moments under μ.
func offPolicyRows(_ s: Setting, withRatio: Bool = true) -> [EstimatorRow] {
    let e = SequenceEstimates(policy: s.policy, prior: s.prior)
    let mu = s.behaviour.distribution
    let logRho = (0..<s.n).map { s.p.logProbabilities[$0] - mu.logProbabilities[$0] }
    let rho = logRho.map { withRatio ? exp($0) : 1 }
    let tokenRatioK3 = (0..<s.n).map { i -> Double in
        let lp = s.policy.tokenLogProbabilities(i), lq = s.prior.tokenLogProbabilities(i)
        let lm = s.behaviour.tokenLogProbabilities(i)
        return (0..<lp.count).reduce(0) { $0 + exp(lp[$1] - lm[$1]) * KLEstimator.k3.value(logRatio: lp[$1] - lq[$1]) }
    }
    return [
        EstimatorRow(name: "ρ k1 (sequence ratio)", key: "ratio_k1", values: (0..<s.n).map { rho[$0] * e.logRatio[$0] },
                     under: mu),
        EstimatorRow(name: "ρ k3 (sequence ratio)", key: "ratio_k3",
                     values: (0..<s.n).map { rho[$0] * e.perSequence[.k3]![$0] }, under: mu),
        EstimatorRow(name: "$\\sum_t \\rho_t$ k3 per token (token ratios)", key: "token_ratio_k3", values: tokenRatioK3,
                     under: mu),
        EstimatorRow(name: "k1 without a ratio", key: "k1_no_ratio", values: e.logRatio, under: mu),
    ]
}

func offPolicyEstimators(_ c: Context, kl: Double) {
    let page = c.page, s = c.setting
    let rows = offPolicyRows(s)
    let mu = s.behaviour.distribution
    let rho = (0..<s.n).map { exp(s.p.logProbabilities[$0] - mu.logProbabilities[$0]) }
    page.prose(#"""
        From a stale policy's samples $x \sim \mu$, as in PPO's later epochs, the sequence ratio \#
        $\rho = \pi_\theta(x)/\mu(x)$, a product of one ratio a token, makes $k_1$ and $k_3$ unbiased again; the \#
        price is the spread of $\rho$, whose second moment $\mathbb{E}_\mu[\rho^2]$ is here \#
        \#(NumberFormat.format(mu.expectation(rho.map { $0 * $0 }), significant: 4)). Token ratios (TRL's \#
        per-token bias correction) weight each prefix by $\mu$ rather than $\pi_\theta$ and stay biased.
        """#)
    page.check(offPolicyUnbiasedCheck(rows[0], kl: kl, s))
    page.check(offPolicyUnbiasedCheck(rows[1], kl: kl, s))
    page.table(headers: ["estimator (samples from μ)", "mean", "bias", "standard deviation"],
               rows: rows.map { r in
                   [r.name, NumberFormat.format(r.moments.mean),
                    NumberFormat.format(r.moments.mean - kl, significant: 3),
                    NumberFormat.format(r.moments.standardDeviation, significant: 4)]
               },
               caption: "Exact moments of the off-policy estimates under the stale policy μ; the reverse KL is "
                + NumberFormat.format(kl))
}

/// An off-policy estimate's exact mean under μ against the chain-rule KL.
func offPolicyUnbiasedCheck(_ row: EstimatorRow, kl: Double, _ s: Setting) -> Check {
    let scale = 1 + row.values.map { Swift.abs($0) }.max()! + s.maxLogProbability
    return Check(id: "estimators.\(row.idPart)-off-policy-unbiased",
                 claim: "From a stale policy's samples, \(row.name) is unbiased for the reverse KL",
                 reference: "eq. 3", aLabel: "$\\mathbb{E}_\\mu$[\(row.name)]", bLabel: "chain-rule KL",
                 a: row.moments.mean, b: kl, tolerance: roundingTolerance(terms: s.sumTerms, scale: scale),
                 because: "an N-sequence sum under μ against a prefix sum, terms up to max|ρ k| + max|log π|")
}

/// An estimator's exact mean (a sum over the listed sequences) against the chain-rule KL (a
/// sum over prefixes): a wrong formula for the estimator, or a sign error, breaks it.
func unbiasedCheck(_ row: EstimatorRow, claim: String, kl: Double, _ s: Setting) -> Check {
    let scale = 1 + row.values.map { Swift.abs($0) }.max()! + s.maxLogProbability
    return Check(id: "estimators.\(row.idPart)-unbiased", claim: claim, reference: "eq. 3",
                 aLabel: "$\\mathbb{E}_\\pi$[\(row.name)]", bLabel: "chain-rule KL", a: row.moments.mean, b: kl,
                 tolerance: roundingTolerance(terms: s.sumTerms, scale: scale),
                 because: "an N-sequence sum against a prefix sum, terms up to max|k| + max|log π|")
}

/// k2's bias E[k2] − KL against −E[R₃(−ℓ)], the Taylor remainder summed by its own series.
func k2BiasCheck(_ row: EstimatorRow, remainder: [Double], what: String, kl: Double, _ s: Setting) -> Check {
    let predicted = -s.p.expectation(remainder)
    let scale = 1 + row.values.map { Swift.abs($0) }.max()! + remainder.map { Swift.abs($0) }.max()!
    return Check(id: "estimators.\(row.idPart)-bias", claim: "$k_2$ \(what) is biased by exactly "
                    + "$-\\mathbb{E}[e^{-ℓ} - 1 + ℓ - ℓ^2/2]$", reference: "eq. 3, beyond the paper",
                 aLabel: "$\\mathbb{E}[k_2] - \\operatorname{KL}$", bLabel: "$-\\mathbb{E}[R_3(-ℓ)]$",
                 a: row.moments.mean - kl, b: predicted, tolerance: roundingTolerance(terms: s.sumTerms, scale: scale),
                 because: "two N-term sums and the chain-rule KL, terms up to max|k2| + max|R₃|")
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
    let categories = (0..<bins).map {
        NumberFormat.format(lo + (Double($0) + 0.5) * width, significant: 2) + ($0 == bins - 1 ? "+" : "")
    }
    page.plot(BarChart(title: "Exact distributions of the estimators",
                       description: "Probability under the policy of each estimator value range.",
                       categories: categories, xLabel: "estimator value (nats, bin centre)", yLabel: "probability",
                       series: series),
              caption: "Where each single-sample estimator lands (bin centres on the horizontal axis, in nats; the "
                + "last bin holds everything beyond the largest 99.5% quantile). Only k1 has mass below zero; k2 and "
                + "k3 pile up near zero with a long right tail.")
}

MeasuringKL.main()

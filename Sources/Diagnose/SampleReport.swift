import Foundation
import Notebook

/// What sample mode writes: the JSON results and the notebook page.
public enum SampleReport {
    public static func json(_ d: SampleDiagnosis, checks: [Check], file: String, referenceFile: String?, seed: UInt64) -> String {
        var j = JSONText()
        j.beginObject()
        j.string("mode", "samples")
        j.string("file", file)
        if let referenceFile { j.string("reference_file", referenceFile) }
        j.number("beta", d.beta)
        j.integer("samples", d.samples)
        if let m = d.referenceSamples { j.integer("reference_samples", m) }
        j.integer("bootstrap_replicates", d.bootstrapReplicates)
        j.string("seed", "\(seed)")
        j.number("confidence_level", 0.95)
        for (key, v) in d.estimates {
            j.beginObject(key)
            j.number("estimate", v.estimate); j.number("low", v.low); j.number("high", v.high); j.number("standard_error", v.standardError)
            j.endObject()
        }
        if let k = d.paretoShape { j.number("pareto_k", k) }
        if let k = d.referenceParetoShape { j.number("pareto_k_reference", k) }
        ExactReport.checksJSON(&j, checks)
        j.strings("warnings", d.warnings)
        j.endObject()
        return j.finished
    }

    static let descriptions: [String: String] = [
        "expected_reward": "E_π[r]", "kl_policy_prior_k1": "KL(π ‖ π0), k1", "kl_policy_prior_k3": "KL(π ‖ π0), k3",
        "objective": "J_KLRL(π)", "elbo": "ELBO(π) (≤ log Z)", "log_partition": "log Z", "kl_policy_posterior": "KL(π ‖ π*) = log Z − ELBO",
        "effective_sample_size": "effective sample size (policy weights)", "log_partition_policy": "log Z from policy samples",
        "log_partition_reference": "log Z from reference samples", "effective_sample_size_reference": "effective sample size (reference weights)",
    ]

    public static func page(_ d: SampleDiagnosis, checks: [Check], file: String, referenceFile: String?, seed: UInt64) -> Page {
        let page = Page(slug: "diagnose-samples", number: 0, title: "Your policy against its posterior, from samples",
                        summary: "Sampled diagnosis of \(file): how far the policy is from the posterior π* = π0 exp(r/β) / Z, with bootstrap intervals.")
        page.section("Your samples")
        page.prose("Each line is a completion $x$ drawn from your policy $\\pi$, with $\\log \\pi(x)$, $\\log \\pi_0(x)$ under the reference model and the reward $r(x)$. Averages over these samples estimate the quantities below; the intervals are 95% percentile intervals of a bootstrap that resamples random groups of samples, so the file is read once in constant memory.")
        var params: [(String, String)] = [("samples from π", "\(d.samples) (\(file))"), ("$\\beta$", NumberFormat.format(d.beta)),
                                          ("bootstrap", "\(d.bootstrapReplicates) replicates, seed \(seed)")]
        if let m = d.referenceSamples, let referenceFile { params.append(("samples from π0", "\(m) (\(referenceFile))")) }
        page.parameters(params)
        page.section("Estimates")
        page.equation("\\mathrm{ELBO}(\\pi) = \\mathbb{E}_{x \\sim \\pi} \\left[ \\frac{r(x)}{\\beta} + \\log \\frac{\\pi_0(x)}{\\pi(x)} \\right] = \\log Z - \\mathrm{KL}(\\pi \\| \\pi^*) \\le \\log Z", number: "14")
        page.prose("The ELBO is an average over your samples. $\\log Z$ needs importance weights $w = \\pi_0 e^{r/\\beta} / \\pi$ (or samples from the reference), and its estimate is only as good as their effective sample size: when your policy is far from the posterior, a few samples carry all the weight. When the samples come from many prompts $c$, the averages are averages over prompts too, but $\\log Z$ is then estimated as $\\log \\mathbb{E}_c Z(c)$, which is at least $\\mathbb{E}_c \\log Z(c)$: the KL to the posterior is then an upper bound on its average over prompts.")
        let rows = d.estimates.map { e -> [String] in
            [descriptions[e.key] ?? e.key, e.key, NumberFormat.format(e.value.estimate, significant: 6),
             "[\(NumberFormat.format(e.value.low, significant: 4)), \(NumberFormat.format(e.value.high, significant: 4))]"]
        }
        page.table(headers: ["quantity", "JSON key", "estimate", "95% interval"], rows: rows, caption: "Estimates from \(d.samples) samples")
        if let k = d.paretoShape { page.record("pareto_k", k) }
        for w in d.warnings { page.aside("Warning: " + w) }
        if !checks.isEmpty {
            page.section("Consistency of your numbers")
            page.prose("Two estimates of one quantity must agree up to sampling noise. A failure says the fields are not what they claim to be (for example, log-probabilities under a different sampling temperature) or that the weights are too heavy-tailed for the interval to hold.")
            for c in checks { page.check(c) }
        }
        tailPlot(page, d)
        return page
    }

    /// The largest importance weights against their rank, both on log scales: a straight line
    /// of slope -1/k is a Pareto tail of shape k.
    static func tailPlot(_ page: Page, _ d: SampleDiagnosis) {
        let lw = d.largestLogWeights
        guard lw.count >= 2, let top = lw.first else { return }
        let xs = lw.indices.map { Double($0 + 1) }
        let ys = lw.map { exp($0 - top) }
        page.plot(LinePlot(title: "The largest importance weights", description: "Importance weights relative to the largest, against their rank.",
                           xLabel: "rank", yLabel: "w / max w", xScale: .log10, yScale: .log10,
                           series: [Series("w = π0 exp(r/β) / π", x: xs, y: ys, style: .points)]),
                  caption: "A flat start means no single sample dominates; a steep drop after the first few ranks means a handful of samples carry $\\log Z$.")
    }
}

/// When the sample-mode estimates cannot be trusted, in words a practitioner can act on.
///
/// The thresholds are the usual ones of importance sampling practice: Kish's effective sample
/// size below 100 or below 1% of the samples, and a Pareto tail shape k̂ ≥ 0.7 (Vehtari et al.:
/// beyond it the estimate of Z needs impractically many samples to converge) or ≥ 0.5 (an
/// infinite variance), the last two only where the weights show a tail (`tailEvidence`).
public enum SampleWarnings {
    public static let minimumEffectiveSampleSize = 100.0
    public static let minimumEffectiveFraction = 0.01
    public static let heavyTail = 0.7
    public static let infiniteVariance = 0.5

    public static func warnings(for d: SampleDiagnosis) -> [String] {
        var out: [String] = []
        let n = Double(d.samples)
        if d.samples < 100 {
            out.append("only \(d.samples) samples: the bootstrap intervals are rough.")
        }
        if let ess = d.estimate("effective_sample_size")?.estimate,
           ess < minimumEffectiveSampleSize || ess < minimumEffectiveFraction * n {
            out.append("the importance weights pi0 exp(r/beta) / pi have an effective sample size of \(format(ess)) out of \(d.samples): the estimates of log_partition (from policy samples) and kl_policy_posterior rest on a handful of samples. The policy is far from its posterior; add samples from the reference with --reference, or use a larger beta.")
        }
        if let k = d.paretoShape, k >= infiniteVariance, let evidence = tailEvidence(d), evidence.supportsHeavyTail {
            let measured = "Pareto k-hat = \(format(k)) from the \(evidence.tail) largest weights (\(evidence.distinct) distinct values), effective sample size \(format(100 * evidence.essFraction))% of the samples"
            if k >= heavyTail {
                out.append("the importance weights are heavy-tailed (\(measured)): log Z estimated from policy samples, and kl_policy_posterior with it, cannot be trusted at any practical sample size\(d.referenceSamples == nil ? "; supply reference samples with --reference" : "").")
            } else {
                out.append("the importance weights may have an infinite variance (\(measured)): log Z from policy samples converges slowly and its interval may be too narrow.")
            }
        }
        if let k = d.referenceParetoShape, k >= heavyTail {
            out.append("the reference weights exp(r/beta) are heavy-tailed (Pareto k-hat = \(format(k)) >= 0.7): log Z from reference samples is dominated by a few high rewards and cannot be trusted.")
        }
        if let ess = d.estimate("effective_sample_size_reference")?.estimate, let m = d.referenceSamples,
           ess < minimumEffectiveSampleSize || ess < minimumEffectiveFraction * Double(m) {
            out.append("the reference weights exp(r/beta) have an effective sample size of \(format(ess)) out of \(m): log Z from reference samples rests on a handful of samples.")
        }
        if let k1 = d.estimate("kl_policy_prior_k1"), k1.high < 0 {
            out.append("the k1 estimate of KL(pi || pi0) is negative with its whole interval: logp_policy and logp_ref are probably swapped, or the samples were not drawn from the policy whose log-probabilities are given.")
        }
        // The same threshold as the consistency check (3.29 standard errors), not the 95%
        // interval, which honest files would cross one time in twenty.
        if let diff = d.differences.first(where: { $0.key == "k1_minus_k3" })?.value, diff.standardError.isFinite,
           Swift.abs(diff.estimate) > DiagnoseChecks.standardErrors * diff.standardError {
            out.append("the k1 and k3 estimates of KL(pi || pi0) differ by more than 3.29 bootstrap standard errors: both are unbiased only when the samples come from the policy exactly as scored, so check that logp_policy is the log-probability under the sampling distribution (temperature, top-p and top-k change it). k3 is also right-skewed when pi0/pi has a heavy tail, so with few samples it tends to come out low.")
        }
        if let kl = d.estimate("kl_policy_posterior"), kl.high < 0 {
            out.append("the estimate of KL(pi || pi*) = log Z - ELBO is negative with its whole interval, which the truth cannot be: log Z is underestimated (too few or too light-tailed samples) or the fields are inconsistent.")
        }
        if d.positiveLogProbabilities > 0 {
            out.append("\(d.positiveLogProbabilities) samples have a log-probability above 0, which a probability of a discrete sequence cannot have: check that the fields are sums of token log-probabilities, not losses or densities.")
        }
        for (key, v) in d.estimates where !v.estimate.isFinite || !v.low.isFinite || !v.high.isFinite {
            out.append("\(key) or its interval is not a finite number (written as null): a log-ratio logp_ref - logp_policy is too large for exp.")
        }
        return out
    }

    /// What the weights themselves say about their tail, beside k̂.
    ///
    /// The Pareto fit measures the shape of a continuous tail. On a discrete completion space
    /// the largest weights are a few completions drawn again and again: the fit then sees ties,
    /// not a tail, and its k̂ swings widely between replications of one distribution (issue 20
    /// measured -2.67 to 1.94 on a GPT-2 space whose weights are bounded and whose exact
    /// effective sample size is 60-85% of N). So a tail warning needs, besides k̂, that most of
    /// the fitted tail be distinct values (a tail, not repeats) and that the effective sample
    /// size be below 30% of the samples (heavy tails make it small; estimates with 30% or more
    /// behave).
    public struct TailEvidence: Sendable {
        public let tail: Int
        public let distinct: Int
        public let essFraction: Double
        public var supportsHeavyTail: Bool { distinct * 2 >= tail && essFraction < maximumTailESSFraction }
    }

    public static let maximumTailESSFraction = 0.3

    public static func tailEvidence(_ d: SampleDiagnosis) -> TailEvidence? {
        let m = min(ParetoTail.tailSize(samples: d.samples), d.largestLogWeights.count - 1)
        guard m >= 1, let ess = d.estimate("effective_sample_size")?.estimate, d.samples > 0 else { return nil }
        return TailEvidence(tail: m, distinct: Set(d.largestLogWeights.prefix(m)).count, essFraction: ess / Double(d.samples))
    }

    static func format(_ x: Double) -> String {
        x.isFinite ? String(format3(x)) : "\(x)"
    }

    static func format3(_ x: Double) -> String {
        let a = Swift.abs(x)
        if a >= 100 { return String(Int(x.rounded())) }
        var s = String((x * 1000).rounded() / 1000)
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }
}

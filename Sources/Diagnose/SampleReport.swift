import Notebook
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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

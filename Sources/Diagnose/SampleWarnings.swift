/// When the sample-mode estimates cannot be trusted, in words a practitioner can act on.
///
/// The thresholds are the usual ones of importance sampling practice: Kish's effective sample
/// size below 100 or below 1% of the samples, and a Pareto tail shape k̂ ≥ 0.7 (Vehtari et al.:
/// beyond it the estimate of Z needs impractically many samples to converge).
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
        if let k = d.paretoShape {
            if k >= heavyTail {
                out.append("the importance weights are heavy-tailed (Pareto k-hat = \(format(k)) >= 0.7): log Z estimated from policy samples, and kl_policy_posterior with it, cannot be trusted at any practical sample size\(d.referenceSamples == nil ? "; supply reference samples with --reference" : "").")
            } else if k >= infiniteVariance {
                out.append("the importance weights have an infinite variance (Pareto k-hat = \(format(k)) in [0.5, 0.7)): log Z from policy samples converges slowly and its interval may be too narrow.")
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
        if let diff = d.differences.first(where: { $0.key == "k1_minus_k3" })?.value, diff.low > 0 || diff.high < 0 {
            out.append("the k1 and k3 estimates of KL(pi || pi0) disagree beyond their bootstrap interval: both are unbiased only when the samples come from the policy exactly as scored, so check that logp_policy is the log-probability under the sampling distribution (temperature, top-p and top-k change it).")
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

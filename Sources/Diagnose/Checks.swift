import Foundation
import Notebook

/// The identities of the paper checked on the user's own numbers. Each compares two
/// computations that share no intermediate result except the inputs (and, where stated, the
/// same log Z), so a wrong log Z, posterior or policy term makes it fail.
public enum DiagnoseChecks {
    static let eps = Double.ulpOfOne

    public static func exact(_ d: ExactDiagnosis, table t: ExactTable) -> [Check] {
        var checks: [Check] = []
        let beta = d.beta
        // Σ π*(x) = 1.
        var mass = CompensatedSum(), scale = CompensatedSum()
        for x in 0..<d.rows where d.posterior[x] > 0 {
            mass.add(d.posterior[x])
            scale.add(d.posterior[x] * (Swift.abs(d.logPrior[x]) + Swift.abs(t.reward[x] / beta) + 1))
        }
        checks.append(Check(claim: "The posterior π* = π0 exp(r/β) / Z, with Z from a log-sum-exp, sums to 1", reference: "eq. 5",
                            aLabel: "Σ_x π*(x)", bLabel: "1", a: mass.value, b: 1,
                            tolerance: 8 * eps * (scale.value + Swift.abs(d.logPartition) + 1),
                            because: "each π*(x) = exp(log π0 + r/β − log Z) carries a relative rounding of a few ε(|log π0| + |r/β| + |log Z|); compensated sum"))
        // Jensen: E_π0[r]/β ≤ log Z ≤ max_{supp π0} r/β.
        var priorMean = CompensatedSum(), priorScale = 0.0
        var maxReward = -Double.infinity
        for x in 0..<d.rows where d.logPrior[x] > -.infinity {
            let p = exp(d.logPrior[x])
            priorMean.add(p * t.reward[x])
            priorScale += p * Swift.abs(t.reward[x])
            maxReward = max(maxReward, t.reward[x])
        }
        checks.append(Check(claim: "log Z is at least the prior's mean reward over β (Jensen: log E exp(r/β) ≥ E r/β)", reference: "eq. 14",
                            aLabel: "E_π0[r] / β", bLabel: "log Z", a: priorMean.value / beta, b: d.logPartition, relation: .lessOrEqual,
                            tolerance: 8 * eps * (priorScale / beta + Swift.abs(d.logPartition) + 1),
                            because: "rounding of the prior mean and of the log-sum-exp: a few ε times the magnitudes"))
        checks.append(Check(claim: "log Z is at most the largest reward over β (Z is an average of exp(r/β))", reference: "eq. 5",
                            aLabel: "log Z", bLabel: "max r / β", a: d.logPartition, b: maxReward / beta, relation: .lessOrEqual,
                            tolerance: 8 * eps * (Swift.abs(maxReward / beta) + 1),
                            because: "rounding of the log-sum-exp: a few ε times max r/β"))
        guard let m = d.policy else { return checks }
        var s = CompensatedSum()
        for x in 0..<d.rows where m.logPolicy[x] > -.infinity {
            s.add(exp(m.logPolicy[x]) * (Swift.abs(m.logPolicy[x]) + Swift.abs(d.logPrior[x]) + Swift.abs(t.reward[x] / beta)))
        }
        let magnitude = s.value + Swift.abs(d.logPartition) + 1
        checks.append(Check(claim: "The gap of the evidence lower bound is the KL divergence to the posterior: Σ π log(π/π*) = log Z − ELBO(π)", reference: "eq. 7",
                            aLabel: "KL(π ‖ π*) summed directly", bLabel: "log Z − ELBO(π)", a: m.klPolicyPosterior, b: d.logPartition - m.elbo,
                            tolerance: 16 * eps * magnitude,
                            because: "each row's terms carry a few roundings of ε(|log π| + |log π0| + |r/β| + |log Z|); sums compensated"))
        checks.append(Check(claim: "No policy beats the posterior: J_KLRL(π) ≤ J_KLRL(π*) = β log Z", reference: "eq. 6",
                            aLabel: "J_KLRL(π)", bLabel: "β log Z", a: m.objective, b: beta * d.logPartition, relation: .lessOrEqual,
                            tolerance: 16 * eps * beta * magnitude,
                            because: "rounding of the objective's sums: a few ε times β Σ π(|log π| + |log π0| + |r/β|)"))
        return checks
    }

    /// Sample mode: two estimates of the same quantity must agree within 3.29 bootstrap
    /// standard errors of their difference (two-sided 0.1%: a false alarm once in 1000 honest
    /// files). With policy samples alone log Z ≥ ELBO holds by Jensen on the sample itself, so
    /// that comparison is made only against reference samples.
    public static let standardErrors = 3.29

    public static func samples(_ d: SampleDiagnosis) -> [Check] {
        var checks: [Check] = []
        let why = "3.29 bootstrap standard errors of the difference: a 0.1% false alarm rate if the samples are what they claim"
        if let k1 = d.estimate("kl_policy_prior_k1"), let k3 = d.estimate("kl_policy_prior_k3"),
           let diff = d.differences.first(where: { $0.key == "k1_minus_k3" })?.value {
            checks.append(Check(claim: "Two unbiased estimators of KL(π ‖ π0) agree: k1 = mean(log π − log π0) and k3 = mean(π0/π − 1 − log(π0/π))", reference: "eq. 3",
                                aLabel: "k1", bLabel: "k3", a: k1.estimate, b: k3.estimate,
                                tolerance: standardErrors * (diff.standardError.isFinite ? diff.standardError : 0), because: why))
        }
        if d.referenceSamples != nil, let diff = d.differences.first(where: { $0.key == "log_partition_reference_minus_policy" })?.value,
           let ref = d.estimate("log_partition_reference"), let pol = d.estimate("log_partition_policy") {
            checks.append(Check(claim: "log Z from reference samples (mean of exp(r/β)) agrees with log Z from policy samples (mean of π0 exp(r/β) / π)", reference: "eq. 5",
                                aLabel: "log Z (reference)", bLabel: "log Z (policy)", a: ref.estimate, b: pol.estimate,
                                tolerance: standardErrors * (diff.standardError.isFinite ? diff.standardError : 0), because: why))
            if let elbo = d.estimate("elbo"), let kl = d.estimate("kl_policy_posterior") {
                checks.append(Check(claim: "The ELBO of the policy is below log Z from reference samples", reference: "eq. 14",
                                    aLabel: "ELBO(π)", bLabel: "log Z (reference)", a: elbo.estimate, b: ref.estimate, relation: .lessOrEqual,
                                    tolerance: standardErrors * (kl.standardError.isFinite ? kl.standardError : 0),
                                    because: "3.29 bootstrap standard errors of log Z − ELBO: a 0.1% false alarm rate"))
            }
        }
        return checks
    }
}

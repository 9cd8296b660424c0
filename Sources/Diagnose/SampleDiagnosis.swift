#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GSL

/// An estimate with its bootstrap percentile interval and standard error.
public struct Interval: Sendable, Equatable {
    public let estimate: Double
    public let low: Double
    public let high: Double
    public let standardError: Double
}

/// Sample mode: what a file of completions x_i ~ π (and optionally one of y_j ~ π0) says
/// about the policy and its posterior π* = π0 e^{r/β} / Z, with ℓ = log π0 - log π and
/// w = e^{r/β + ℓ}:
///
///     E_π[r]            ≈ mean r_i
///     KL(π ‖ π0)        ≈ mean(-ℓ_i)                  (k1, unbiased)
///                       ≈ mean(e^{ℓ_i} - 1 - ℓ_i)     (k3, unbiased, never negative)
///     J_KLRL(π)         ≈ mean r_i - β k1             (paper eq. 3)
///     ELBO(π)           ≈ mean log w_i = J_KLRL / β   (paper eqs. 14-15; ≤ log Z)
///     log Z             ≈ log mean w_i                (importance sampling from π), or
///                       ≈ log mean e^{r(y_j)/β}       (plain Monte Carlo from π0)
///     KL(π ‖ π*)        = log Z - ELBO(π)             (the gap of the bound)
///     ESS               = (Σ w_i)² / Σ w_i²           (Kish's effective sample size)
public struct SampleDiagnosis: Sendable {
    public let beta: Double
    public let samples: Int
    public let referenceSamples: Int?
    /// Estimates in report order, keyed by their JSON names.
    public let estimates: [(key: String, value: Interval)]
    /// k1 - k3 and log Z (reference) - log Z (policy): differences whose truth is 0.
    public let differences: [(key: String, value: Interval)]
    public let paretoShape: Double?
    public let referenceParetoShape: Double?
    /// The largest log-weights log w_i (descending), for the tail plot.
    public let largestLogWeights: [Double]
    public let positiveLogProbabilities: Int
    public let bootstrapReplicates: Int
    public let warnings: [String]

    public func estimate(_ key: String) -> Interval? { estimates.first { $0.key == key }?.value }

    /// Point estimates from group totals, in report order.
    public static func pointEstimates(policy p: PolicyGroup, reference q: ReferenceGroup?, beta: Double) -> [(String, Double)] {
        let n = p.count
        let expectedReward = p.reward.value / n
        let k1 = p.k1.value / n
        let elbo = p.elbo.value / n
        let logZPolicy = p.logWeight.value - log(n)
        let ess = exp(2 * p.logWeight.value - p.logWeightSquared.value)
        var out: [(String, Double)] = [
            ("expected_reward", expectedReward), ("kl_policy_prior_k1", k1), ("kl_policy_prior_k3", p.k3.value / n),
            ("objective", expectedReward - beta * k1), ("elbo", elbo),
        ]
        var logZ = logZPolicy
        if let q {
            logZ = q.logWeight.value - log(q.count)
        }
        out += [("log_partition", logZ), ("kl_policy_posterior", logZ - elbo), ("effective_sample_size", ess),
                ("log_partition_policy", logZPolicy)]
        if let q {
            out += [("log_partition_reference", logZ),
                    ("effective_sample_size_reference", exp(2 * q.logWeight.value - q.logWeightSquared.value))]
        }
        return out
    }

    /// Reads the samples, estimates, bootstraps and warns. `assignment` places samples in
    /// groups, `resampling` draws the bootstrap replicates (both seeded by the caller).
    public static func run(policyFile: String, name: String, referenceFile: (path: String, name: String)?,
                           beta: Double, groupCount: Int = 1024, replicates: Int = 1000,
                           assignment: RandomGenerator, resampling: RandomGenerator) throws(InputProblem) -> SampleDiagnosis {
        var policy = GroupedSamples<PolicyGroup>(groupCount: groupCount) { PolicyGroup() }
        var tail = LargestValues(capacity: 10_000)
        var positive = 0
        let refRule = ValueRule.finiteLogProbability(minusInfinity: "the reference gives this sample probability 0, so KL(pi || pi0) is infinite")
        let polRule = ValueRule.finiteLogProbability(minusInfinity: "a sample cannot have probability 0 under the policy that drew it")
        try LineReader.forEachLine(path: policyFile, name: name) { (line, number) throws(InputProblem) in
            if isBlank(line) { return }
            let s = try parse(line, number: number, file: name)
            let logpRef = try check(s.logpRef, 0, refRule, required: true, number: number, file: name)
            let logpPolicy = try check(s.logpPolicy, 1, polRule, required: true, number: number, file: name)
            let reward = try check(s.reward, 2, .finite, required: true, number: number, file: name)
            let l = logpRef - logpPolicy
            if logpRef > 0 || logpPolicy > 0 { positive += 1 }
            let lw = reward / beta + l
            guard lw.isFinite else {
                throw InputProblem(file: name, line: number, field: "reward", reason: "reward/beta + logp_ref - logp_policy overflows (beta too small for this reward?)")
            }
            tail.add(lw)
            let k = policy.nextIndex(assignment)
            policy.groups[k].add(logRatio: l, reward: reward, beta: beta)
        }
        guard policy.samples >= 2 else {
            throw InputProblem(file: name, line: nil, field: nil, reason: policy.samples == 0 ? "no samples (the file is empty)" : "only one sample; at least 2 are needed")
        }
        var reference: GroupedSamples<ReferenceGroup>?
        var referenceTail = LargestValues(capacity: 10_000)
        if let referenceFile {
            (reference, referenceTail) = try readReference(path: referenceFile.path, name: referenceFile.name, beta: beta,
                                                           groupCount: groupCount, assignment: assignment)
        }

        // Point estimates from the totals.
        let addP: (inout PolicyGroup, PolicyGroup, Double) -> Void = { $0.add($1, times: $2) }
        let addR: (inout ReferenceGroup, ReferenceGroup, Double) -> Void = { $0.add($1, times: $2) }
        let point = pointEstimates(policy: policy.total(addP), reference: reference?.total(addR), beta: beta)

        // Bootstrap: resample groups with replacement, recompute every estimate.
        var draws = [[Double]](repeating: [], count: point.count)
        for _ in 0..<replicates {
            let mp = multiplicities(policy.groups.count, resampling)
            let mr = reference.map { multiplicities($0.groups.count, resampling) }
            let rep = pointEstimates(policy: policy.total(addP, multiplicities: mp),
                                     reference: reference.map { $0.total(addR, multiplicities: mr) }, beta: beta)
            for k in rep.indices { draws[k].append(rep[k].1) }
        }
        var estimates: [(key: String, value: Interval)] = []
        for k in point.indices { estimates.append((point[k].0, interval(point[k].1, draws[k]))) }
        func column(_ key: String) -> [Double] { draws[point.firstIndex { $0.0 == key }!] }
        func value(_ key: String) -> Double { point.first { $0.0 == key }!.1 }
        var differences: [(key: String, value: Interval)] = [
            ("k1_minus_k3", interval(value("kl_policy_prior_k1") - value("kl_policy_prior_k3"),
                                     zip(column("kl_policy_prior_k1"), column("kl_policy_prior_k3")).map { $0 - $1 }))]
        if reference != nil {
            differences.append(("log_partition_reference_minus_policy",
                                interval(value("log_partition_reference") - value("log_partition_policy"),
                                         zip(column("log_partition_reference"), column("log_partition_policy")).map { $0 - $1 })))
        }
        let largest = tail.descending
        let shape = ParetoTail.shape(largestLogWeights: largest, samples: policy.samples)
        let refShape = reference.flatMap { ParetoTail.shape(largestLogWeights: referenceTail.descending, samples: $0.samples) }
        let diagnosis = SampleDiagnosis(
            beta: beta, samples: policy.samples, referenceSamples: reference?.samples, estimates: estimates, differences: differences,
            paretoShape: shape, referenceParetoShape: refShape, largestLogWeights: Array(largest.prefix(2000)),
            positiveLogProbabilities: positive, bootstrapReplicates: replicates, warnings: [])
        return diagnosis.withWarnings(SampleWarnings.warnings(for: diagnosis))
    }

    /// Reads samples y_j ~ π0: only the reward is required.
    static func readReference(path: String, name: String, beta: Double, groupCount: Int,
                              assignment: RandomGenerator) throws(InputProblem) -> (GroupedSamples<ReferenceGroup>, LargestValues) {
        var ref = GroupedSamples<ReferenceGroup>(groupCount: groupCount) { ReferenceGroup() }
        var tail = LargestValues(capacity: 10_000)
        let lp = ValueRule.finiteLogProbability(minusInfinity: "a sample cannot have probability 0 under the reference that drew it")
        try LineReader.forEachLine(path: path, name: name) { (line, number) throws(InputProblem) in
            if isBlank(line) { return }
            let s = try parse(line, number: number, file: name)
            _ = try check(s.logpRef, 0, lp, required: false, number: number, file: name)
            _ = try check(s.logpPolicy, 1, .logProbabilityOrMinusInfinity, required: false, number: number, file: name)
            let reward = try check(s.reward, 2, .finite, required: true, number: number, file: name)
            let lw = reward / beta
            guard lw.isFinite else { throw InputProblem(file: name, line: number, field: "reward", reason: "reward/beta overflows") }
            tail.add(lw)
            let k = ref.nextIndex(assignment)
            ref.groups[k].add(reward: reward, beta: beta)
        }
        guard ref.samples >= 2 else {
            throw InputProblem(file: name, line: nil, field: nil, reason: ref.samples == 0 ? "no samples (the file is empty)" : "only one sample; at least 2 are needed")
        }
        return (ref, tail)
    }

    func withWarnings(_ w: [String]) -> SampleDiagnosis {
        SampleDiagnosis(beta: beta, samples: samples, referenceSamples: referenceSamples, estimates: estimates, differences: differences,
                        paretoShape: paretoShape, referenceParetoShape: referenceParetoShape, largestLogWeights: largestLogWeights,
                        positiveLogProbabilities: positiveLogProbabilities, bootstrapReplicates: bootstrapReplicates, warnings: w)
    }

    /// How often each of `n` groups is drawn in n draws with replacement.
    static func multiplicities(_ n: Int, _ rng: RandomGenerator) -> [Double] {
        var m = [Double](repeating: 0, count: n)
        for _ in 0..<n { m[rng.uniformInt(below: n)] += 1 }
        return m
    }

    /// The 95% percentile interval and the standard deviation of the bootstrap draws; non-finite
    /// draws make the interval non-finite (reported as null, with a warning).
    static func interval(_ estimate: Double, _ draws: [Double]) -> Interval {
        guard draws.allSatisfy(\.isFinite), draws.count >= 2 else {
            return Interval(estimate: estimate, low: .nan, high: .nan, standardError: .nan)
        }
        let sorted = draws.sorted()
        func quantile(_ q: Double) -> Double {
            let h = q * Double(sorted.count - 1)
            let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
            return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
        }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let sd = (draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count - 1)).squareRoot()
        return Interval(estimate: estimate, low: quantile(0.025), high: quantile(0.975), standardError: sd)
    }

    @inline(__always) static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 }
    }

    /// Parses a line; a syntax problem becomes an `InputProblem` naming the line.
    @inline(__always)
    static func parse(_ line: UnsafeBufferPointer<UInt8>, number: Int, file: String) throws(InputProblem) -> SampleLine {
        do throws(LineProblem) { return try FastSampleParser.parse(line) } catch {
            throw InputProblem(file: file, line: number, field: error.field, reason: error.reason)
        }
    }

    /// Applies `rule` to one field (key index in `SampleLine.keys`); nil is refused when `required`.
    @inline(__always)
    static func check(_ value: Double?, _ key: Int, _ rule: ValueRule, required: Bool, number: Int, file: String) throws(InputProblem) -> Double {
        guard let v = value else {
            if required { throw InputProblem(file: file, line: number, field: SampleLine.keys[key], reason: "missing") }
            return 0
        }
        if let why = rule.problem(with: v) { throw InputProblem(file: file, line: number, field: SampleLine.keys[key], reason: why) }
        return v
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exact mode: the posterior of a finite table and the distances of a policy to it.
///
/// With π0 the normalised prior, r the reward and β > 0 (paper eqs. 3, 5, 7, 14-15):
///
///     log Z        = log Σ_x π0(x) e^{r(x)/β}
///     π*(x)        = π0(x) e^{r(x)/β} / Z
///     J_KLRL(π)    = E_π[r] - β KL(π ‖ π0)
///     ELBO(π)      = E_π[r/β + log π0 - log π] = J_KLRL(π) / β
///     KL(π ‖ π*)   = Σ_x π(x) (log π(x) - log π*(x)) = log Z - ELBO(π)
///
/// Every sum is compensated (Neumaier), every log-sum-exp is shifted by its maximum.
public struct ExactDiagnosis: Sendable {
    public let beta: Double
    public let rows: Int
    /// log Σ_x exp(log_prior(x)): how far the given prior was from normalised (0 if it was).
    public let priorLogNormaliser: Double
    public let logPartition: Double
    /// π*(x), in input order.
    public let posterior: [Double]
    /// log π0(x) normalised, in input order.
    public let logPrior: [Double]
    public let klPosteriorPrior: Double
    public let expectedRewardPosterior: Double
    public let policy: PolicyMeasures?

    public struct PolicyMeasures: Sendable {
        /// log Σ_x π(x) as given (within the tolerance of 0, then removed).
        public let logNormaliser: Double
        /// log π(x) normalised.
        public let logPolicy: [Double]
        public let objective: Double
        public let expectedReward: Double
        public let klPolicyPrior: Double
        public let klPolicyPosterior: Double
        public let elbo: Double
    }

    /// The default tolerance on log Σ π(x) for a policy column: 1e-6, i.e. the probabilities
    /// may sum to 1 ± 1e-6 (log-probabilities printed with 7 significant digits lose ~5e-7).
    public static let defaultPolicyTolerance = 1e-6

    /// Computes everything; `file` names the table in errors about whole columns.
    public static func compute(_ t: ExactTable, beta: Double, file: String,
                               policyTolerance: Double = defaultPolicyTolerance) throws(InputProblem) -> ExactDiagnosis {
        let n = t.count
        let priorNorm = logSumExp(t.logPrior)
        guard priorNorm > -.infinity else {
            throw InputProblem(file: file, line: t.lineRange, field: "log_prior", reason: "every row has prior probability 0 (log_prior = -infinity)")
        }
        guard priorNorm.isFinite else {
            throw InputProblem(file: file, line: t.lineRange, field: "log_prior", reason: "the prior's total mass overflows")
        }
        let logPrior = t.logPrior.map { $0 - priorNorm }
        var joint = [Double](repeating: 0, count: n)          // log π0(x) + r(x)/β
        for x in 0..<n {
            joint[x] = logPrior[x] + t.reward[x] / beta
            if joint[x] == .infinity {
                throw InputProblem(file: file, line: t.lines[x], field: "reward", reason: "reward/beta overflows (beta too small for this reward?)")
            }
        }
        let logZ = logSumExp(joint)
        guard logZ.isFinite else {
            throw InputProblem(file: file, line: t.lineRange, field: "reward", reason: "log Z is not finite: the rewards divided by beta overflow")
        }
        var posterior = [Double](repeating: 0, count: n)
        var kl = CompensatedSum(), er = CompensatedSum()
        for x in 0..<n {
            let lp = joint[x] - logZ
            posterior[x] = exp(lp)
            if posterior[x] > 0 {
                kl.add(posterior[x] * (lp - logPrior[x]))
                er.add(posterior[x] * t.reward[x])
            }
        }
        var measures: PolicyMeasures?
        if let raw = t.logPolicy {
            let norm = logSumExp(raw)
            guard Swift.abs(norm) <= policyTolerance else {
                let mass = exp(norm)
                throw InputProblem(file: file, line: t.lineRange, field: "log_policy",
                                   reason: "does not normalise: the probabilities sum to \(mass) (log-sum-exp \(norm)), allowed 1 ± \(policyTolerance)")
            }
            let logPolicy = raw.map { $0 - norm }
            var er = CompensatedSum(), klPrior = CompensatedSum(), klPost = CompensatedSum(), elbo = CompensatedSum()
            for x in 0..<n where logPolicy[x] > -.infinity {
                let p = exp(logPolicy[x])
                guard logPrior[x] > -.infinity else {
                    throw InputProblem(file: file, line: t.lines[x], field: "log_prior",
                                       reason: "is -infinity where log_policy is finite: the policy puts mass where the prior has none, so KL(pi || pi0) is infinite")
                }
                guard p > 0 else { continue }
                er.add(p * t.reward[x])
                klPrior.add(p * (logPolicy[x] - logPrior[x]))
                klPost.add(p * (logPolicy[x] - (joint[x] - logZ)))
                elbo.add(p * (t.reward[x] / beta + logPrior[x] - logPolicy[x]))
            }
            measures = PolicyMeasures(logNormaliser: norm, logPolicy: logPolicy, objective: er.value - beta * klPrior.value,
                                      expectedReward: er.value, klPolicyPrior: klPrior.value, klPolicyPosterior: klPost.value,
                                      elbo: elbo.value)
        }
        return ExactDiagnosis(beta: beta, rows: n, priorLogNormaliser: priorNorm, logPartition: logZ, posterior: posterior,
                              logPrior: logPrior, klPosteriorPrior: kl.value, expectedRewardPosterior: er.value, policy: measures)
    }

    /// log Σ exp(a_i) = m + log Σ exp(a_i - m), m = max a_i, the sum compensated.
    public static func logSumExp(_ a: [Double]) -> Double {
        var m = -Double.infinity
        for v in a where v > m { m = v }
        guard m.isFinite else { return m }
        var s = CompensatedSum()
        for v in a { s.add(exp(v - m)) }
        return m + log(s.value)
    }

    /// The posterior at another temperature β' (for the posterior-path plot): KL(π ‖ π*_β'),
    /// KL(π*_β' ‖ π0) and E_{π*_β'}[r], in three passes without allocating; `logPolicy` may be nil.
    public static func pathPoint(logPrior: [Double], reward: [Double], logPolicy: [Double]?, beta b: Double)
        -> (klPolicyPosterior: Double?, klPosteriorPrior: Double, expectedReward: Double) {
        let n = logPrior.count
        var m = -Double.infinity
        for x in 0..<n { m = max(m, logPrior[x] + reward[x] / b) }
        var z = CompensatedSum()
        for x in 0..<n { z.add(exp(logPrior[x] + reward[x] / b - m)) }
        let logZ = m + log(z.value)
        var kl = CompensatedSum(), er = CompensatedSum(), klPol = CompensatedSum()
        for x in 0..<n {
            let lp = logPrior[x] + reward[x] / b - logZ
            let p = exp(lp)
            if p > 0 { kl.add(p * (lp - logPrior[x])); er.add(p * reward[x]) }
            if let lpi = logPolicy?[x], lpi > -.infinity { klPol.add(exp(lpi) * (lpi - lp)) }
        }
        return (logPolicy == nil ? nil : klPol.value, kl.value, er.value)
    }

    /// The indices of the `k` largest values, largest first (a bounded min-heap: O(n) when k ≪ n).
    public static func topIndices(_ values: [Double], _ k: Int) -> [Int] {
        var heap: [(Double, Int)] = []
        heap.reserveCapacity(k)
        func siftDown(_ i0: Int) {
            var i = i0
            while true {
                let l = 2 * i + 1, r = l + 1
                var s = i
                if l < heap.count && heap[l].0 < heap[s].0 { s = l }
                if r < heap.count && heap[r].0 < heap[s].0 { s = r }
                if s == i { return }
                heap.swapAt(s, i); i = s
            }
        }
        for (i, v) in values.enumerated() {
            if heap.count < k {
                heap.append((v, i))
                var c = heap.count - 1
                while c > 0 && heap[(c - 1) / 2].0 > heap[c].0 { heap.swapAt(c, (c - 1) / 2); c = (c - 1) / 2 }
            } else if k > 0 && v > heap[0].0 {
                heap[0] = (v, i); siftDown(0)
            }
        }
        return heap.sorted { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }.map(\.1)
    }
}

import GSL

/// Sampled REINFORCE on softmax logits over a small finite space: what a practitioner runs
/// when the expectation cannot be summed.
public enum Reinforce {
    /// How the baseline b in (r(x) - b) ∇ log π(x) is chosen.
    public enum Baseline: String, Sendable {
        /// No baseline: b = 0.
        case none
        /// Leave-one-out: b for sample i is the mean reward of the other samples in its batch.
        case leaveOneOut = "leave-one-out"
    }

    /// The end of a run.
    public struct Outcome: Sendable {
        /// The policy at the end.
        public let policy: Distribution
        /// Steps taken.
        public let steps: Int
        /// The outcome holding at least `collapseMass` of the probability, if any.
        public let collapsedOnto: Int?
    }

    /// Runs θ ← θ + η (1/B) Σ_i (r(x_i) - b_i) (e_{x_i} - π_θ) with x_i ~ π_θ, from `logits`,
    /// until one outcome holds `collapseMass` of the probability or `maxSteps` is reached.
    public static func run(
        logits: [Double], reward r: [Double], batchSize: Int, stepSize eta: Double,
        baseline: Baseline, maxSteps: Int, collapseMass: Double = 0.99,
        rng: RandomGenerator
    ) throws -> Outcome {
        precondition(batchSize >= 2 || baseline == .none, "leave-one-out needs two samples a batch")
        var theta = logits
        var pi = Distribution.softmax(theta)
        for step in 1...maxSteps {
            let sampler = try DiscreteSampler(weights: pi.probabilities)
            let xs = sampler.sample(rng, count: batchSize)
            let rs = xs.map { r[$0] }
            let total = rs.reduce(0, +)
            var g = [Double](repeating: 0, count: theta.count)
            var coefficientSum = 0.0
            for (i, x) in xs.enumerated() {
                let b = baseline == .none ? 0 : (total - rs[i]) / Double(batchSize - 1)
                let c = (rs[i] - b) / Double(batchSize)
                g[x] += c
                coefficientSum += c
            }
            for y in 0..<theta.count { theta[y] += eta * (g[y] - coefficientSum * pi.probabilities[y]) }
            let m = theta.max()!
            for y in 0..<theta.count { theta[y] -= m }
            pi = Distribution.softmax(theta)
            if let top = pi.probabilities.indices.max(by: { pi.probabilities[$0] < pi.probabilities[$1] }),
               pi.probabilities[top] >= collapseMass {
                return Outcome(policy: pi, steps: step, collapsedOnto: top)
            }
        }
        return Outcome(policy: pi, steps: maxSteps, collapsedOnto: nil)
    }
}

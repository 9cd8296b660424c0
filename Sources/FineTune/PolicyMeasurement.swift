import Foundation
import GSL
import TinyLM

/// What the chapter measures of a policy, from a fresh seeded sample of it, each mean with its
/// standard error: reward, constraint rate, KL to the prior (exact stepwise sums and k1),
/// entropy, diversity, fluency under the prior, and the Bayesian quantities.
public struct PolicyMeasurement: Sendable, Codable {
    public let samples: Int
    public let reward: Estimate
    public let constraint: Estimate
    /// Σ_t KL(π_θ(·|x<t) || π0(·|x<t)) along each sample: exact per step, Monte Carlo over samples.
    public let klStepwise: Estimate
    /// log π_θ(x) - log π0(x): the k1 estimate of KL(π_θ || π0).
    public let klK1: Estimate
    /// Entropy of the next-token distributions, per predicted token.
    public let entropyPerToken: Double
    public let distinct4: Double
    public let repetition: Double
    /// exp of minus the mean log π0 a token of the policy's samples.
    public let priorPerplexity: Double
    /// J_KLRL = E[r] - β KL, from r - β (log π_θ - log π0) per sample.
    public let objective: Estimate
    /// ELBO = E[r/β - log π_θ/π0] = J_KLRL / β: a lower bound on log Z(β).
    public let elbo: Estimate
    /// log Z(β) by importance sampling from π_θ: log mean exp(r/β - log π_θ/π0).
    public let logPartitionIS: Double
    public let texts: [String]
    public let beta: Double
    /// Per sample: r(x) and log π_θ(x) - log π0(x), for estimates at other temperatures.
    public let rewards: [Double]
    public let logRatios: [Double]
    /// Per sample: the sum of the next-token entropies along it, and its number of predicted
    /// tokens, so that the entropy per token has a standard error (`entropy`).
    public let entropies: [Double]
    public let tokenCounts: [Int]

    /// The entropy per predicted token, Σ H_i / Σ T_i over the samples, with its standard
    /// error by the delta method (a ratio of two means).
    public var entropy: Estimate { Statistics.ratio(entropies, tokenCounts.map(Double.init)) }

    /// Samples `count` documents from `policy` and measures them.
    public static func measure(policy: GPT, prior: GPT, tokenizer: CharTokenizer, preference: TargetWord,
                               beta: Double, count: Int, rng: RandomGenerator) -> PolicyMeasurement {
        var samples: [Sample] = []
        var start = 0
        while start < count {   // in chunks, to bound memory
            let n = min(64, count - start)
            samples += policy.sample(count: n, start: tokenizer.bos, end: tokenizer.eos, rng: rng)
            start += n
        }
        let sequences = samples.map(\.tokens)
        let texts = sequences.map { tokenizer.decode($0) }
        let r = texts.map { preference.reward($0) }
        let b = texts.map { preference.constraint($0) }
        let logPrior = prior.logProbs(of: sequences)
        let logRatio = (0..<count).map { samples[$0].logProb - logPrior[$0] }
        let stepwise = GPT.stepwiseDivergence(policy: policy, reference: prior, sequences: sequences)
        let tokens = Double(stepwise.steps.reduce(0, +))
        return PolicyMeasurement(
            samples: count,
            reward: .mean(r), constraint: .mean(b),
            klStepwise: .mean(stepwise.kl), klK1: .mean(logRatio),
            entropyPerToken: stepwise.entropy.reduce(0, +) / tokens,
            distinct4: Statistics.distinctNGrams(texts, n: 4),
            repetition: Statistics.repetitionRate(texts),
            priorPerplexity: exp(-logPrior.reduce(0, +) / tokens),
            objective: .mean((0..<count).map { r[$0] - beta * logRatio[$0] }),
            elbo: .mean((0..<count).map { r[$0] / beta - logRatio[$0] }),
            logPartitionIS: Statistics.logMeanExp((0..<count).map { r[$0] / beta - logRatio[$0] }),
            texts: texts, beta: beta, rewards: r, logRatios: logRatio,
            entropies: stepwise.entropy, tokenCounts: stepwise.steps)
    }
}

/// The partition functions of the two posteriors, estimated from a large sample of the prior.
public struct PriorEstimates: Sendable {
    /// log Z_b = log π0(b = 1), with a bootstrap interval.
    public let logConstraintPartition: Estimate
    /// log Z(β) = log E_π0[exp(r/β)], with a bootstrap interval.
    public let logPartition: Estimate
    /// E_π0[r] and the reward's standard deviation under π0.
    public let reward: Estimate
    public let rewardStandardDeviation: Double
    public let samples: Int
    /// r(x) of each prior sample, for estimates at other temperatures (`posteriorPath`).
    public let rewards: [Double]

    /// Z_b = π0(b = 1) as a binomial mean with its standard error.
    public var constraintRate: Estimate { .mean(rewards.map { $0 > 0 ? 1 : 0 }) }

    /// The number of samples that satisfy b, of `samples`: Z_b with its Wilson interval.
    public var constraintCount: BinomialCount {
        BinomialCount(successes: rewards.filter { $0 > 0 }.count, trials: rewards.count)
    }

    /// One point of the posterior path β ↦ (KL(π*_β ‖ π0), E_{π*_β}[r]), by self-normalised
    /// importance sampling over the prior's samples (weights e^{r/β}), with the effective sample
    /// size of those weights: biased where it is small.
    public struct PathPoint: Sendable {
        public let beta, kl, reward, effectiveSampleSize: Double
    }

    public func posteriorPath(_ betas: [Double]) -> [PathPoint] {
        betas.map { beta in
            let a = rewards.map { $0 / beta }
            let m = a.max() ?? 0
            let w = a.map { exp($0 - m) }
            let total = w.reduce(0, +)
            let mean = zip(w, rewards).reduce(0) { $0 + $1.0 * $1.1 } / total
            let ess = total * total / w.reduce(0) { $0 + $1 * $1 }
            return PathPoint(beta: beta, kl: mean / beta - Statistics.logMeanExp(a), reward: mean, effectiveSampleSize: ess)
        }
    }

    /// Draws `count` prior samples (64 at a time) and estimates the partitions from them. With a
    /// `progress` label, says on standard error how far the draw is and how long it has left.
    public static func estimate(prior: GPT, tokenizer: CharTokenizer, preference: TargetWord, beta: Double,
                                count: Int, rng: RandomGenerator, progress: String? = nil) -> PriorEstimates {
        var texts: [String] = []
        var start = 0
        let reporter = progress.map { ProgressReporter(total: count, label: $0) }
        while start < count {
            let n = min(64, count - start)
            texts += prior.sample(count: n, start: tokenizer.bos, end: tokenizer.eos, rng: rng).map { tokenizer.decode($0.tokens) }
            start += n
            reporter?.update(start, status: "")
        }
        let r = texts.map { preference.reward($0) }
        let b = texts.map { preference.constraint($0) }
        let logB = Statistics.bootstrap(b, rng: rng) { xs in log(xs.reduce(0, +) / Double(xs.count)) }
        let logZ = Statistics.bootstrap(r, rng: rng) { xs in Statistics.logMeanExp(xs.map { $0 / beta }) }
        let mean = Estimate.mean(r)
        return PriorEstimates(logConstraintPartition: logB, logPartition: logZ, reward: mean,
                              rewardStandardDeviation: mean.standardError * Double(count).squareRoot(), samples: count,
                              rewards: r)
    }
}

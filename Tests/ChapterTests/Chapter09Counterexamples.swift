import BookKit
@testable import Chapter09
import Finite
import Foundation
import GSL
import Notebook

/// One counterexample for every check chapter 9 emits: the chapter's own check builders, fed a
/// wrong computation (a sign error, a missing term, samples from the wrong policy, a solver
/// stopped short). Run on a small space (V = 2, L = 3: 15 sequences) so that each is quick.
enum Chapter09Counterexamples {
    static let seeds = Seeds(3)
    static let s = Setting(vocabulary: 2, length: 3, shift: 0.6, seeds: seeds)
    static var rows: [EstimatorRow] { estimatorRows(s) }
    static var kl: Double { chainRuleKL(s.policy, s.prior) }

    /// Per-token values of an estimator k applied to each token log-ratio, with `drop` steps
    /// left out at the end of each sequence.
    static func perToken(_ k: (Double) -> Double, drop: Int = 0) -> [Double] {
        (0..<s.n).map { i in
            let lt = zip(s.policy.tokenLogProbabilities(i), s.prior.tokenLogProbabilities(i)).map { $0 - $1 }
            return lt.dropLast(drop).reduce(0) { $0 + k($1) }
        }
    }

    static var logRatio: [Double] { SequenceEstimates(policy: s.policy, prior: s.prior).logRatio }

    static func row(_ key: String, _ values: [Double]) -> EstimatorRow {
        EstimatorRow(name: key, key: key, values: values, under: s.p)
    }

    static func counts(under p: Distribution) throws -> BatchCounts {
        try BatchCounts(k1: rows[0].values, under: p, streams: 5_000, maxBatch: 3, seeds.generator("batches"))
    }

    static func gradient(_ u: KLPenaltyUsage, offPolicy: Bool = false) -> [Double] {
        KLGradient.expected(u, policy: s.policy, prior: s.prior, behaviour: offPolicy ? s.behaviour : nil)
    }

    /// A `follows` check fed the gradient of a usage that does not follow the target.
    static func follows(_ usage: KLPenaltyUsage, offPolicy: Bool, reverse: Bool, feeding g: [Double],
                        _ what: String) -> Counterexample {
        Counterexample("follows.\(usage.id).\(offPolicy ? "off" : "on")-policy", what) {
            let t = TargetGradients(s)
            return followsCheck(id: "follows.\(usage.id).\(offPolicy ? "off" : "on")-policy", usage: usage,
                                offPolicy: offPolicy, gradient: g, target: reverse ? t.reverse : t.forward,
                                targetName: "target", s)
        }
    }

    static func perPrefix(_ usage: KLPenaltyUsage, reverse: Bool, feeding g: [Double],
                          _ what: String) -> Counterexample {
        Counterexample("per-prefix.\(usage.id)", what) {
            let t = TargetGradients(s)
            return followsCheck(id: "per-prefix.\(usage.id)", usage: usage, offPolicy: false, gradient: g,
                                target: reverse ? t.reversePerPrefix : t.forwardPerPrefix, targetName: "target", s)
        }
    }

    static var directions: [[Double]] {
        let rng = seeds.generator("directions")
        return (0..<3).map { _ in randomDirection(s.space.parameterCount, rng) }
    }

    static var rewards: [ScoredReward] { bestOfNRewards(s, seeds) }
    /// Schulman's two pairs, integrated under p = N(μ, 1) instead of q = N(0, 1).
    static let underP = [GaussianPair(mu: 0.1, samplingMean: 0.1), GaussianPair(mu: 1, samplingMean: 1)]
    /// 20,000 sequences drawn from the prior instead of the policy.
    static var fromPrior: SampleMoments {
        sampleMoments(rows, from: s.prior, draws: 20_000, seeds.generator("monte-carlo"))
    }
    static let ns = [1, 2, 4, 8, 16]

    /// Best-of-n and the posterior at Brent's temperature times `betaFactor`, and the posterior
    /// of `rewardSign` × r (a sign error when −1).
    static func matched(betaFactor: Double = 1, rewardSign: Double = 1) throws -> [MatchedPosterior] {
        let r = rewards[0].values
        return try ns.filter { $0 >= 2 }.compactMap { n in
            let d = BestOfN.distribution(prior: s.q, reward: r, n: n)
            guard let beta = try BestOfN.matchingTemperature(prior: s.q, reward: r, kl: klDivergence(d, s.q)) else {
                return nil
            }
            let b = beta * betaFactor
            return MatchedPosterior(n: n, bestOfN: d, beta: b,
                                    posterior: Posterior.distribution(prior: s.q, reward: r.map { rewardSign * $0 },
                                                                      beta: b))
        }
    }

    static let all: [Counterexample] = [
        Counterexample("space.normalised", "one sequence missing from the list") {
            normalisationCheck(Array(s.policy.sequenceLogProbabilities.dropLast()), s)
        },
        Counterexample("space.kl-chain-rule", "the chain rule weighted by the prior's prefix probabilities") {
            let qh = s.prior.prefixProbabilities
            let chain = (0..<s.space.prefixCount).reduce(0.0) {
                $0 + qh[$1] * klDivergence(s.policy.next($1), s.prior.next($1))
            }
            return chainRuleCheck(enumerated: klDivergence(s.p, s.q), chainRule: chain, s)
        },
        Counterexample("estimators.k1-unbiased", "k1 with the log-ratio's sign flipped") {
            unbiasedCheck(row("k1", logRatio.map { -$0 }), claim: "k1", kl: kl, s)
        },
        Counterexample("estimators.k3-unbiased", "k3 of the other direction, e^ℓ − 1 − ℓ") {
            unbiasedCheck(row("k3", logRatio.map { expm1($0) - $0 }), claim: "k3", kl: kl, s)
        },
        Counterexample("estimators.k3-per-token-unbiased", "per-token k3 with each sequence's last step left out") {
            unbiasedCheck(row("k3_per_token", perToken({ expm1(-$0) + $0 }, drop: 1)), claim: "k3", kl: kl, s)
        },
        Counterexample("estimators.k2-bias", "k2 without its ½") {
            k2BiasCheck(row("k2", logRatio.map { $0 * $0 }), remainder: k2Remainders(s).perSequence, what: "",
                        kl: kl, s)
        },
        Counterexample("estimators.k2-per-token-bias", "per-token k2 without its ½") {
            k2BiasCheck(row("k2_per_token", perToken { $0 * $0 }), remainder: k2Remainders(s).perToken, what: "",
                        kl: kl, s)
        },
        Counterexample("schulman.bias", "integrated under p = N(μ, 1) instead of q = N(0, 1)") {
            schulmanBiasCheck(try schulmanRows(underP))
        },
        Counterexample("schulman.sd", "integrated under p = N(μ, 1) instead of q = N(0, 1)") {
            schulmanSDCheck(try schulmanRows(underP))
        },
        Counterexample("schulman.crossover", "the crossover put at true KL 0.5 (μ = 1)") {
            try schulmanCrossoverCheck(mu: 1)
        },
        Counterexample("estimators.full-unbiased", "the per-prefix KL of each sequence's end step left out") {
            unbiasedCheck(row("full", perPrefixKLAlongSequences(s, droppingLastStep: true)), claim: "full", kl: kl, s)
        },
        Counterexample("estimators.ratio-k1-off-policy-unbiased", "stale samples without the sequence ratio") {
            offPolicyUnbiasedCheck(offPolicyRows(s, withRatio: false)[0], kl: kl, s)
        },
        Counterexample("estimators.ratio-k3-off-policy-unbiased", "stale samples without the sequence ratio") {
            offPolicyUnbiasedCheck(offPolicyRows(s, withRatio: false)[1], kl: kl, s)
        },
        Counterexample("settings.expected-equals-derivative",
                       "TRL's sequence-level bias correction without the gradient of its ratio") {
            let rows = settingGradients(librarySettings(maxLength: s.space.maxLength), s)
            let plain = rows.filter { $0.setting.id == "trl.dapo" }
            let broken = rows.map { r in
                r.setting.id == "trl.bias-correction-sequence"
                    ? SettingGradient(setting: r.setting, offPolicy: r.offPolicy,
                                      g: plain.first { $0.offPolicy == r.offPolicy }!.g)
                    : r
            }
            return settingsDerivativeCheck(broken, s, directions: Array(directions.prefix(2)))
        },
        Counterexample("settings.follow", "the token mean's normaliser taken as 1/L_max instead of 1/E[T]") {
            let L = s.space.maxLength
            let rows = settingGradients(librarySettings(maxLength: L), s)
            return settingsTheoremCheck(rows, theorems: settingTheorems(TargetGradients(s), meanSteps: Double(L),
                                                                        maxLength: L), s)
        },
        Counterexample("monte-carlo.means", "sequences drawn from the prior instead of the policy") {
            monteCarloMeansCheck(rows, fromPrior)
        },
        Counterexample("monte-carlo.variances", "sequences drawn from the prior instead of the policy") {
            monteCarloVariancesCheck(rows, fromPrior)
        },
    ] + (1...3).map { n in
        Counterexample("negativity.exact-n\(n)", "the exact probability summed under the prior's probabilities") {
            let pe = probabilityNegativeSum(values: rows[0].values, probabilities: s.q.probabilities, draws: n)
            return exactNegativeCheck(n: n, exact: pe, try counts(under: s.p))
        }
    } + [
        Counterexample("negativity.chernoff-rate", "Brent stopped short: λ 5% away from the minimiser") {
            let (_, lambda) = try chernoffRate(s.p, s.q)
            return chernoffRateCheck(rho: chernoffFunction(s.p, s.q, lambda: lambda * 1.05), s.p, s.q)
        },
        Counterexample("bias.clipped-mean", "the clipped mean sampled under the prior") {
            let c = try counts(under: s.q)
            return clippedMeanCheck(sampled: c.clipped[0] / Double(c.streams), k1: rows[0].values, under: s.p,
                                    streams: c.streams)
        },
        Counterexample("gradients.reverse-kl", "the per-prefix part only: the score of the prefix left out") {
            targetGradientCheck(id: "gradients.reverse-kl", name: "reverse",
                                gradient: TargetGradients(s).reversePerPrefix,
                                divergence: { klDivergence($0.distribution, s.q) }, s, directions: directions)
        },
        Counterexample("gradients.forward-kl", "prefixes weighted by the policy instead of the prior") {
            targetGradientCheck(id: "gradients.forward-kl", name: "forward",
                                gradient: TargetGradients(s).forwardPerPrefix,
                                divergence: { klDivergence(s.q, $0.distribution) }, s, directions: directions)
        },
        Counterexample("gradients.expected-equals-derivative", "a sign error in k3's loss coefficient") {
            let rows = usageGradients(s).map { r in
                r.usage == .k3Loss && !r.offPolicy
                    ? UsageGradient(usage: r.usage, offPolicy: false, g: r.g.map { -$0 }) : r
            }
            return surrogateCheck(rows, s, directions: Array(directions.prefix(2)))
        },
        follows(.k1Reward, offPolicy: false, reverse: true, feeding: gradient(.k1Reward, offPolicy: true),
                "samples from the stale policy μ without a ratio"),
        follows(.k1RewardToGo, offPolicy: false, reverse: true, feeding: gradient(.k1RewardToGo, offPolicy: true),
                "samples from the stale policy μ without a ratio"),
        follows(.k2Loss, offPolicy: false, reverse: true, feeding: gradient(.k2LossPerToken),
                "k2 summed per token instead of on the sequence"),
        follows(.ratioK1, offPolicy: false, reverse: true, feeding: gradient(.k1Loss),
                "the ratio held fixed (no gradient through it): k1 as a loss"),
        follows(.ratioK3, offPolicy: false, reverse: true, feeding: gradient(.k3Loss),
                "the ratio held fixed (no gradient through it): k3 as a loss"),
        follows(.ratioK1, offPolicy: true, reverse: true, feeding: gradient(.k1Reward, offPolicy: true),
                "the ratio left out: k1 in the reward on stale samples"),
        follows(.ratioK3, offPolicy: true, reverse: true, feeding: gradient(.k3Loss, offPolicy: true),
                "the ratio held fixed on stale samples"),
        follows(.k3Loss, offPolicy: false, reverse: false, feeding: gradient(.k3Loss, offPolicy: true),
                "samples from the stale policy μ"),
        perPrefix(.k2LossPerToken, reverse: true, feeding: gradient(.k2Loss), "k2 on the whole sequence"),
        perPrefix(.ratioK3PerToken, reverse: true, feeding: gradient(.k3LossPerToken), "the token ratios held fixed"),
        perPrefix(.k3LossPerToken, reverse: false, feeding: gradient(.k3LossPerToken, offPolicy: true),
                  "samples from the stale policy μ"),
        Counterexample("gradients.k1-loss-zero", "samples from the stale policy μ: E_μ[∇ log π] ≠ 0") {
            k1LossZeroCheck(gradient(.k1Loss, offPolicy: true), s)
        },
        Counterexample("best-of-n.level-formula", "the formula with n − 1 draws") {
            levelFormulaCheck(prior: s.q, rewards: rewards) { BestOfN.distribution(prior: $0, reward: $1, n: $2 - 1) }
        },
        Counterexample("best-of-n.quoted-kl-bound", "the KL of best-of-2n against the bound for n") {
            quotedBoundCheck(prior: s.q, rewards: rewards, ns: ns,
                             dists: rewards.map { r in
                                 ns.map { BestOfN.distribution(prior: s.q, reward: r.values, n: 2 * $0) }
                             })
        },
        Counterexample("best-of-n.sampled-reward", "the exact distribution of best-of-4 against sampled best-of-8") {
            let r = rewards[0].values
            let m = try sampleBestOfN(prior: s.q, reward: r, n: 8, trials: 20_000, seeds.generator("best-of-n"))
            return sampledRewardCheck(m, exact: BestOfN.distribution(prior: s.q, reward: r, n: 4), reward: r)
        },
        Counterexample("best-of-n.sampled-win-rate", "the exact distribution of best-of-4 against sampled best-of-8") {
            let r = rewards[0].values
            let m = try sampleBestOfN(prior: s.q, reward: r, n: 8, trials: 20_000, seeds.generator("best-of-n"))
            return sampledWinRateCheck(m, exact: BestOfN.distribution(prior: s.q, reward: r, n: 4), prior: s.q,
                                       reward: r)
        },
        Counterexample("posterior.beats-best-of-n", "the posterior with the reward's sign flipped") {
            posteriorOptimalityCheck(try matched(rewardSign: -1), prior: s.q, reward: rewards[0].values)
        },
        Counterexample("posterior.matched-kl", "β 1% off Brent's root (a solver stopped short)") {
            matchedKLCheck(try matched(betaFactor: 1.01), prior: s.q, reward: rewards[0].values)
        },
    ]
}

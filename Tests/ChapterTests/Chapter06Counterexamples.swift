@testable import Chapter06
import BookKit
import Finite
import Foundation
import Notebook

/// One counterexample per check of chapter 6: each feeds the check's builder a wrong sampler, a
/// wrong temperature or a wrong constant.
enum Chapter06Counterexamples {
    static func model() -> BigramModel { try! BigramModel(length: 3, rng: Seeds(3).generator("bigram")) }
    static let draws = 20_000
    static let beta = 0.5

    /// A filter that lets one cursing sentence in five through.
    static func leakyFilter() -> (kept: [Int], attempts: [Int], z: Double, posterior: Distribution) {
        let lm = model()
        let run = filterSentences(lm, Seeds(3).generator("filtering"), draws: draws,
                                  acceptance: { lm.acceptable[$0] ? 1 : 0.2 })
        return (run.kept, run.attempts, RejectionSampling.partitionFunction(prior: lm.prior, acceptable: lm.acceptable),
                RejectionSampling.binaryPosterior(prior: lm.prior, acceptable: lm.acceptable))
    }

    /// Filtering for the real reward with acceptance probabilities at 2β instead of β.
    static func realAtTwiceBeta() -> (kept: [Int], proposals: Int, rate: Double, posterior: Distribution) {
        let lm = model()
        let a = RejectionSampling.acceptanceProbabilities(reward: lm.reward, beta: 2 * beta)
        let run = filterSentences(lm, Seeds(3).generator("real-filtering"), draws: draws, acceptance: { a[$0] })
        let right = RejectionSampling.acceptanceProbabilities(reward: lm.reward, beta: beta)
        let exact = RejectionSampling.acceptanceRate(prior: lm.prior, acceptance: right)
        return (run.kept, run.attempts.reduce(0, +), exact,
                Posterior.distribution(prior: lm.prior, reward: lm.reward, beta: beta))
    }

    /// The chain built for the posterior at 1.01β, and the posterior at β.
    static func chainForWrongTarget() -> (target: Distribution, chain: [[Double]]) {
        let lm = model()
        let right = Posterior.distribution(prior: lm.prior, reward: lm.reward, beta: beta)
        let wrong = Posterior.distribution(prior: lm.prior, reward: lm.reward, beta: 1.01 * beta)
        return (right, IndependentMetropolisHastings.transitionMatrix(target: wrong, proposal: lm.prior))
    }

    /// Importance weights e^{r/(2β)} for a posterior at β.
    static func importanceAtTwiceBeta() -> (ImportanceSums, ExactProblem) {
        let lm = model()
        return (ImportanceSums(lm, Seeds(3).generator("importance"), draws: draws, beta: 2 * beta),
                ExactProblem(prior: lm.prior, reward: lm.reward, beta: beta))
    }

    static func grid(_ qrs: QuasiRejection) -> [Double] { constantGrid(qrs) }

    static let all: [Counterexample] = [
        Counterexample("binary.partition", "the forward recursion gives the curse word weight 0.01, not 0") {
            let lm = model()
            let z = RejectionSampling.partitionFunction(prior: lm.prior, acceptable: lm.acceptable)
            let leaky = lm.forwardPartition(tokenWeight: { $0 == BigramModel.curse ? 0.01 : 1 })
            return partitionAgreement(enumerated: z, forward: leaky, outcomes: lm.n)
        },
        Counterexample("filtering.mean-attempts", "a filter that lets one cursing sentence in five through") {
            let f = leakyFilter()
            return proposalsPerKept(id: "filtering.mean-attempts", claim: "", reference: "",
                                    proposals: f.attempts.reduce(0, +), kept: f.kept.count, acceptance: f.z, bLabel: "")
        },
        Counterexample("filtering.geometric", "a filter that lets one cursing sentence in five through") {
            let f = leakyFilter()
            return try attemptsAreGeometric(f.attempts, success: f.z)
        },
        Counterexample("filtering.posterior", "a filter that lets one cursing sentence in five through") {
            let f = leakyFilter()
            return try chiSquare(id: "filtering.posterior", claim: "", reference: "", draws: f.kept,
                                 probabilities: f.posterior.probabilities)
        },
        Counterexample("real.acceptance-rate", "the forward recursion at a temperature 1% too high") {
            let lm = model()
            let a = RejectionSampling.acceptanceProbabilities(reward: lm.reward, beta: beta)
            return acceptanceAgreement(exact: RejectionSampling.acceptanceRate(prior: lm.prior, acceptance: a),
                                       closed: forwardAcceptanceRate(lm, beta: 1.01 * beta), outcomes: lm.n)
        },
        Counterexample("real.mean-attempts", "acceptance probabilities at 2β") {
            let r = realAtTwiceBeta()
            return proposalsPerKept(id: "real.mean-attempts", claim: "", reference: "", proposals: r.proposals,
                                    kept: r.kept.count, acceptance: r.rate, bLabel: "")
        },
        Counterexample("real.posterior", "acceptance probabilities at 2β") {
            let r = realAtTwiceBeta()
            return try chiSquare(id: "real.posterior", claim: "", reference: "", draws: r.kept,
                                 probabilities: r.posterior.probabilities)
        },
        Counterexample("limit.distance", "the penalised posteriors at temperature 1.01 instead of 1") {
            let lm = model()
            let z = RejectionSampling.partitionFunction(prior: lm.prior, acceptable: lm.acceptable)
            let cs = (0...20).map(Double.init)
            return limitAgreement(penalties: cs, enumerated: cs.map { enumeratedLimitDistance(lm, c: $0, beta: 1.01) },
                                  closed: cs.map { RejectionSampling.limitTotalVariation(partition: z, c: $0) },
                                  outcomes: lm.n)
        },
        Counterexample("mh.stationary", "the chain built for the posterior at 1.01β") {
            let m = chainForWrongTarget()
            return stationarity(target: m.target, chain: m.chain)
        },
        Counterexample("mh.detailed-balance", "the chain built for the posterior at 1.01β") {
            let m = chainForWrongTarget()
            return detailedBalance(target: m.target, chain: m.chain)
        },
        Counterexample("mh.convergence", "a lazy chain that stays put half the time: (I + P)/2") {
            let lm = model()
            let post = Posterior.distribution(prior: lm.prior, reward: lm.reward, beta: beta)
            let p = IndependentMetropolisHastings.transitionMatrix(target: post, proposal: lm.prior)
            let lazy = p.indices.map { x in p[x].indices.map { y in (p[x][y] + (x == y ? 1 : 0)) / 2 } }
            let run = distanceFromStart(target: post, proposal: lm.prior, chain: lazy,
                                        start: slowestStart(target: post, proposal: lm.prior), steps: 40)
            return convergenceBoundHolds(tv: run.tv, bound: run.bound, outcomes: lm.n)
        },
        Counterexample("importance.partition", "weights e^{r/(2β)} for the posterior at β") {
            let (sums, problem) = importanceAtTwiceBeta()
            return partitionEstimateAgrees(sums, problem)
        },
        Counterexample("importance.self-normalised", "weights e^{r/(2β)} for the posterior at β") {
            let (sums, problem) = importanceAtTwiceBeta()
            return selfNormalisedAgrees(sums, problem)
        },
        Counterexample("qrs.acceptance-rate", "the closed form evaluated at 1.01c") {
            let poisson = try PoissonQuasiRejection()
            let g = grid(poisson.sampler)
            return acceptanceClosedForm(grid: g, summed: g.map { poisson.sampler.acceptanceRate(c: $0) },
                                        closed: try g.map { try poisson.closedAcceptanceRate(1.01 * $0) })
        },
        Counterexample("qrs.bound", "Z understated by 10% in the bound") {
            let qrs = try PoissonQuasiRejection().sampler
            return divergenceBound(qrs, grid: grid(qrs), logZ: qrs.logPartition + log(0.9))
        },
        Counterexample("qrs.monotone", "the grid walked downwards, so c falls") {
            let qrs = try PoissonQuasiRejection().sampler
            let g = Array(grid(qrs).reversed())
            return divergenceFalls(grid: g, divergences: g.map { klDivergence(qrs.target, qrs.distribution(c: $0)) },
                                   outcomes: qrs.proposal.count)
        },
        Counterexample("qrs.mean-proposals", "the run made at c = 2, compared with AR(1)") {
            let qrs = try PoissonQuasiRejection().sampler
            let run = quasiRejectionRun(qrs, Seeds(3).generator("quasi-rejection"), c: 2, draws: draws)
            return proposalsPerKept(id: "qrs.mean-proposals", claim: "", reference: "", proposals: run.proposals,
                                    kept: run.kept.count, acceptance: qrs.acceptanceRate(c: 1), bLabel: "")
        },
        Counterexample("qrs.kept-law", "the draws of a run at c = 2, tested against p_1") {
            let qrs = try PoissonQuasiRejection().sampler
            let run = quasiRejectionRun(qrs, Seeds(3).generator("quasi-rejection"), c: 2, draws: draws)
            return try chiSquare(id: "qrs.kept-law", claim: "", reference: "", draws: run.kept,
                                 probabilities: qrs.distribution(c: 1).probabilities)
        },
    ]
}

@testable import Chapter03
import BookKit
import Finite
import Foundation
import Notebook

/// One counterexample for each check chapter 3 emits: a posterior at the wrong temperature, a
/// wrong log Z, a stopped optimiser, a policy that has lost an outcome, closed forms at a
/// temperature off by 1%, a KL in the wrong direction, a temperature read upside down.
enum Chapter03Counterexamples {
    /// A small problem of the chapter's kind (Dirichlet prior, rewards in [0, 1]).
    static func setting(outcomes: Int = 40, beta: Double = 0.1) -> Setting {
        Setting(outcomes: outcomes, beta: beta, seeds: Seeds(11))
    }

    static func check(_ checks: [Check], _ id: String) -> Check { checks.first { $0.id == id }! }

    /// The optimiser stopped after two iterations.
    static func stoppedOptimiser(_ s: Setting) throws -> Distribution {
        let start = (0..<s.n).map { 0.5 + Double($0 % 7) }
        return try AmplitudeOptimisation.maximiseKLRegularised(prior: s.prior, reward: s.reward, beta: s.beta,
                                                              from: start, maxIterations: 2).policy
    }

    static let bits = BernoulliProduct(length: 8, bitProbability: 0.3)

    static let all: [Counterexample] = [
        Counterexample("posterior.value", "the posterior built at 1.01 β") {
            let s = setting()
            return valueAtPosterior(s, s.problem.at(beta: 1.01 * s.beta).posterior)
        },
        Counterexample("bound.none-exceeds", "log Z computed at 1.01 β") {
            let s = setting()
            return noPolicyExceeds(s, [s.prior, s.posterior], logZ: s.problem.at(beta: 1.01 * s.beta).logEvidence)
        },
        Counterexample("bound.shortfall-pinsker", "TV measured from a posterior at 1.01 β") {
            let s = setting()
            let wrong = s.problem.at(beta: 1.01 * s.beta).posterior
            return shortfallAtLeastPinsker(s, [s.prior, s.posterior], posterior: wrong)
        },
        Counterexample("optimiser.tv", "BFGS stopped after 2 iterations") {
            let s = setting()
            return check(optimiserChecks(s, answers: [try stoppedOptimiser(s)], posterior: s.posterior), "optimiser.tv")
        },
        Counterexample("optimiser.kl-answer-posterior", "BFGS stopped after 2 iterations") {
            let s = setting()
            let checks = optimiserChecks(s, answers: [try stoppedOptimiser(s)], posterior: s.posterior)
            return check(checks, "optimiser.kl-answer-posterior")
        },
        Counterexample("optimiser.kl-posterior-answer", "the posterior, one outcome of mass 10⁻⁴ starved to e⁻⁶⁹⁰") {
            let s = setting()
            var logWeights = s.posterior.logProbabilities
            let distance = { (x: Int) in Swift.abs(s.posterior.probabilities[x] - 1e-4) }
            let x = (0..<s.n).min { distance($0) < distance($1) }!
            logWeights[x] = -690
            let starved = Distribution(logWeights: logWeights)
            return check(optimiserChecks(s, answers: [starved], posterior: s.posterior),
                         "optimiser.kl-posterior-answer")
        },
        Counterexample("bits.log-z", "closed forms at 1.01 β") { try bitCheck("bits.log-z") },
        Counterexample("bits.posterior-strings", "closed forms at 1.01 β") { try bitCheck("bits.posterior-strings") },
        Counterexample("bits.count-law", "closed forms at 1.01 β") { try bitCheck("bits.count-law") },
        Counterexample("bits.kl", "closed forms at 1.01 β") { try bitCheck("bits.kl") },
        Counterexample("bits.expected-ones", "closed forms at 1.01 β") { try bitCheck("bits.expected-ones") },
        Counterexample("bits.value", "KL(π0 ‖ π*) in place of KL(π* ‖ π0)") {
            let e = BitStringEnumeration(bits, beta: 0.5)
            var closed = try BitStringClosedForms(bits, beta: 0.5)
            closed.klFromPrior = klDivergence(e.prior, e.posterior)
            return check(bitStringChecks(closed, e), "bits.value")
        },
        Counterexample("limits.hot-10", "the posterior at β = 1/10 (temperature read upside down)") {
            let s = setting()
            return hotLimit(s, beta: 10, posterior: s.problem.at(beta: 1.0 / 10).posterior)
        },
        Counterexample("limits.hot-1000", "the posterior at β = 1/1000 (temperature read upside down)") {
            let s = setting()
            return hotLimit(s, beta: 1000, posterior: s.problem.at(beta: 1.0 / 1000).posterior)
        },
        Counterexample("limits.cold", "the posterior at Δ/4 checked against the bound at Δ/40") {
            let s = setting()
            let gap = rewardGap(s)
            return coldLimit(s, beta: gap / 40, posterior: s.problem.at(beta: gap / 4).posterior)
        },
    ]

    static func bitCheck(_ id: String) throws -> Check {
        check(bitStringChecks(try BitStringClosedForms(bits, beta: 0.505), BitStringEnumeration(bits, beta: 0.5)), id)
    }
}

@testable import Chapter04
import BookKit
import Finite
import Foundation
import GSL
import Notebook

/// One counterexample for each check chapter 4 emits: the appendix's p(O = 1) = 1, the prior
/// taken for the posterior, a KL from a posterior at the wrong temperature, a log-evidence at
/// 0.99 β.
enum Chapter04Counterexamples {
    static func setting(outcomes: Int = 40, beta: Double = 1) -> Setting {
        Setting(outcomes: outcomes, beta: beta, seeds: Seeds(11))
    }

    static let all: [Counterexample] = [
        Counterexample("evidence.acceptance-rate", "the appendix's p(O = 1) = 1 against the draws") {
            let s = setting()
            let accepted = try EvidenceDerivation.observe(prior: s.prior, acceptance: s.likelihood, draws: 10_000,
                                                          RandomGenerator(seed: 5))
            return evidenceIsAcceptanceRate(accepted: accepted.count, draws: 10_000, evidence: 1)
        },
        Counterexample("bayes.accepted-draws", "the prior taken for the posterior") {
            let s = setting()
            let scaled = RejectionSampling.acceptanceProbabilities(reward: s.reward, beta: s.beta)
            let accepted = try EvidenceDerivation.observe(prior: s.prior, acceptance: scaled, draws: 10_000,
                                                          RandomGenerator(seed: 5))
            return acceptedDrawsFollowPosterior(accepted: accepted, statistic: scaled, posterior: s.prior)
        },
        Counterexample("derivation.jensen-gap", "KL measured from a posterior at 1.01 β") {
            let s = setting()
            let wrong = s.problem.at(beta: 1.01 * s.beta).posterior
            return jensenGapIsDivergence(s, [DerivationValues(s, s.prior, posterior: wrong)])
        },
        Counterexample("bound.elbo-below-evidence", "log p(O = 1) computed at 0.99 β") {
            let s = setting()
            let wrong = s.problem.at(beta: 0.99 * s.beta).logEvidence
            return elboBelowEvidence(s, [s.prior, s.posterior], logEvidence: wrong)
        },
        Counterexample("bound.tight-at-posterior", "the posterior built at 1.01 β") {
            let s = setting()
            return tightAtPosterior(s, s.problem.at(beta: 1.01 * s.beta).posterior, logEvidence: s.logEvidence)
        },
    ]
}

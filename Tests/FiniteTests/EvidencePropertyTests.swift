import Finite
import Foundation
import GSL
import PropertyBased
import Testing

@Suite("The appendix derivation, eqs. 8-17 (property tests)")
struct EvidencePropertyTests {
    /// Non-positive rewards, as the appendix requires: r ≤ 0, shifted from an ExactProblem.
    static func negativeRewards(_ p: ExactProblem) -> [Double] {
        let top = p.reward.max()!
        return p.reward.map { $0 - top }
    }

    @Test("each line equals the next, the Jensen gap is KL(π ‖ π*), and ELBO ≤ log p(O=1)")
    func derivation() async {
        await propertyCheck(count: 150, input: ExactGens.seed) { seed in
            let p = ExactProblem(seed: seed)
            let r = Self.negativeRewards(p)
            let post = Posterior.distribution(prior: p.prior, reward: r, beta: p.beta)
            let l12 = EvidenceDerivation.logEvidence(prior: p.prior, reward: r, beta: p.beta)
            #expect(l12.isFinite && l12 <= sumTolerance(p.n, 1), "\(p)")
            let l11 = EvidenceDerivation.logEvidenceFromJoint(prior: p.prior, reward: r, beta: p.beta)
            #expect(abs(l11 - l12) <= 4 * sumTolerance(p.n, 1) + 8 * Double.ulpOfOne * abs(l12), "\(p)")
            let scale = p.scale(post) / p.beta
            let tol = 4 * sumTolerance(p.n, scale) + 8 * Double.ulpOfOne * abs(l12)
            let l14 = EvidenceDerivation.jensenBound(p.policy, prior: p.prior, reward: r, beta: p.beta)
            let kl = klDivergence(p.policy, post)
            #expect(l14 <= l12 + tol, "\(p)")
            #expect(abs(l12 - l14 - kl) <= 2 * tol, "\(p)")
            let l16 = EvidenceDerivation.klRegularisedForm(p.policy, prior: p.prior, reward: r, beta: p.beta)
            let l17 = EvidenceDerivation.divergenceForm(p.policy, prior: p.prior, reward: r, beta: p.beta)
            #expect(abs(l16 - l14) <= tol && abs(l17 - l14) <= tol, "\(p)")
            let elbo = Objective.evidenceLowerBound(p.policy, prior: p.prior, reward: r, beta: p.beta)
            #expect(elbo <= l12 + tol, "\(p)")
            // Eq. 13 covers the prior only when π has full support.
            if p.policy.probabilities.allSatisfy({ $0 > 0 }) {
                let l13 = EvidenceDerivation.logEvidenceImportanceWeighted(p.policy, prior: p.prior, reward: r, beta: p.beta)
                #expect(abs(l13 - l12) <= tol, "\(p)")
            }
        }
    }

    @Test("Bayes' rule in linear space is the posterior; the joint sums to 1; eq. 15 from the likelihood table")
    func bayesAndLikelihood() async {
        await propertyCheck(count: 150, input: ExactGens.seed) { seed in
            let p = ExactProblem(seed: seed, kinds: [.gaussian, .ties, .constant])
            // Keep the likelihood table e^{r/β} above underflow: r/β ≥ −700.
            let r = Self.negativeRewards(p).map { max($0, -700 * p.beta) }
            let post = Posterior.distribution(prior: p.prior, reward: r, beta: p.beta)
            let bayes = EvidenceDerivation.bayesPosterior(prior: p.prior, reward: r, beta: p.beta)
            #expect(zip(bayes, post.probabilities).allSatisfy { abs($0 - $1) <= 4 * sumTolerance(p.n, 1) + 1e-13 * $1 }, "\(p)")
            let joint = EvidenceDerivation.joint(prior: p.prior, reward: r, beta: p.beta)
            #expect(abs(joint.optimal.reduce(0, +) + joint.notOptimal.reduce(0, +) - 1) <= 4 * sumTolerance(2 * p.n, 1), "\(p)")
            let table = EvidenceDerivation.likelihood(reward: r, beta: p.beta)
            #expect(table.allSatisfy { $0 > 0 && $0 <= 1 }, "\(p)")
            let l14 = EvidenceDerivation.jensenBound(p.policy, prior: p.prior, reward: r, beta: p.beta)
            let l15 = EvidenceDerivation.boundFromLikelihood(p.policy, prior: p.prior, likelihood: table)
            let tol = 4 * sumTolerance(p.n, p.scale(post) / p.beta) + 8 * Double.ulpOfOne * 700
            #expect(abs(l15 - l14) <= tol, "\(p)")
        }
    }
}

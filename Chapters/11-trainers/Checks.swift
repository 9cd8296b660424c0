import BookKit
import FineTune
import Foundation
import Finite
import Notebook

/// The chapter's checks, each built from the numbers it compares so that a test can hand it a
/// counterexample (Tests/ChapterTests/Chapter11Counterexamples.swift).
enum Checks {
    /// How close the iterated fixed point must be to the predicted one, in nats of
    /// KL(iterated ‖ predicted), fixed before any run: the stopping rule (natural-gradient
    /// direction at most 10⁻¹⁰) leaves the logits within about 10⁻¹⁰/β of the fixed point, a KL
    /// of order 10⁻²⁰, and the rounding of a KL summed over a thousand sequences is of order 10⁻¹³.
    static let fixedPointTolerance = 1e-9
    /// KL(·‖π*) is first order in the logits' distance from the fixed point, with slope up to
    /// |log π/π*| (at most a few tens of nats on the bridge): 10⁻¹⁰ × 100.
    static let distanceTolerance = 1e-8
    /// "Measurably away from π*_β": a distance a sampled run can resolve, fixed in advance.
    static let awayMargin = 1e-3
    /// Chapter 10's arrival rule for sampled runs.
    static let arrivalFraction = 0.3

    static func fixedPoint(id: String, trainer: String, iterated: Distribution, predicted: Distribution,
                           predictionName: String) -> Check {
        Check(id: id, claim: "\(trainer): the iterated exact update stops at \(predictionName)",
              reference: "eqs. 5, 7", aLabel: "$\\mathrm{KL}(\\pi_{\\text{iterated}} \\| \\pi_{\\text{predicted}})$",
              bLabel: "0", a: klDivergence(iterated, predicted), b: 0, relation: .lessOrEqual,
              tolerance: fixedPointTolerance,
              because: "the stopping rule (10⁻¹⁰ on the natural-gradient direction) and the rounding of the sum "
                  + "over the sequences, far below it; a tolerance fixed before the run")
    }

    static func distance(id: String, trainer: String, iterated: Double, predicted: Double) -> Check {
        Check(id: id, claim: "\(trainer) ends as far from $\\pi^*_\\beta$ as its predicted fixed point",
              reference: "eq. 5", aLabel: "$\\mathrm{KL}(\\pi_{\\text{iterated}} \\| \\pi^*_\\beta)$",
              bLabel: "$\\mathrm{KL}(\\pi_{\\text{predicted}} \\| \\pi^*_\\beta)$", a: iterated, b: predicted,
              relation: .equal, tolerance: distanceTolerance,
              because: "first order in the logits' distance from the fixed point (10⁻¹⁰) times |log π/π*|")
    }

    static func away(id: String, trainer: String, predicted: Double) -> Check {
        Check.exceeds(id: id, claim: "\(trainer)'s fixed point is not $\\pi^*_\\beta$",
                      aLabel: "$\\mathrm{KL}(\\pi_{\\text{predicted}} \\| \\pi^*_\\beta)$", bLabel: "0",
                      a: predicted, b: 0, margin: awayMargin,
                      because: "a distance of 10⁻³ nats, fixed in advance, that a sampled run can resolve")
    }

    static func arrival(id: String, trainer: String, start: Double, end: Double) -> Check {
        Check(id: id, claim: "Sampled \(trainer) removes at least 70% of the prior's distance to its exact fixed point",
              reference: "eq. 7", aLabel: "$\\mathrm{KL}(\\pi_T \\| \\pi_{\\text{fixed}})$",
              bLabel: "$0.3\\,\\mathrm{KL}(\\pi_0 \\| \\pi_{\\text{fixed}})$", a: end, b: arrivalFraction * start,
              relation: .lessOrEqual, tolerance: 0,
              because: "exact sums over the space against chapter 10's threshold, fixed in advance (a stopped run "
                  + "stays at 100%)")
    }

    static func nearerOwn(id: String, trainer: String, own: Double, other: Double, otherName: String) -> Check {
        Check.exceeds(id: id, claim: "Sampled \(trainer) ends nearer its own exact fixed point than \(otherName)",
                      aLabel: "$\\mathrm{KL}(\\pi_T \\| \\pi_{\\text{other}})$",
                      bLabel: "$\\mathrm{KL}(\\pi_T \\| \\pi_{\\text{fixed}})$", a: other, b: own, margin: 0,
                      because: "exact sums over the space; the rule, fixed in advance, is that the end point "
                          + "is nearer the fixed point its trainer predicts")
    }
}

extension Checks {
    /// No collapse at scale: the trainer keeps more than half the prior's entropy per token, by
    /// more than 5.3 standard errors of the difference (chapter 10's rule).
    static func entropyKept(id: String, trainer: String, policy: Estimate, prior: Estimate) -> Check {
        let se = (pow(policy.standardError, 2) + pow(prior.standardError / 2, 2)).squareRoot()
        return Check.exceeds(id: id, claim: "At scale, \(trainer) keeps more than half the prior's entropy per token",
                             reference: "§3", aLabel: "$H$ per token at the end",
                             bLabel: "$\\frac{1}{2} H$ per token, prior",
                             a: policy.value, b: prior.value / 2, margin: 5.3 * se,
                             because: "5.3 standard errors of the difference (delta method over samples): it misses a "
                                 + "collapse that stops within \(fmt(5.3 * se)) nats per token above the threshold")
    }
}

@testable import Chapter11
import Finite
import FineTune
import Foundation
import Notebook

/// One counterexample to each check chapter 11 emits, built by the chapter's own check
/// functions (`Checks`) from inputs that make the claim false.
enum Chapter11Counterexamples {
    static let prior = Distribution(weights: [0.5, 0.3, 0.2])
    static let posterior = ExactProblem(prior: prior, reward: [0, 1, 2], beta: 1).posterior

    static func stopped(_ id: String) -> Counterexample {
        Counterexample("exact.\(id).fixed-point", "an iteration stopped at the prior instead of its fixed point") {
            Checks.fixedPoint(id: "exact.\(id).fixed-point", trainer: id, iterated: prior, predicted: posterior,
                              predictionName: "π*")
        }
    }

    static func offByOnePercent(_ id: String) -> Counterexample {
        Counterexample("exact.\(id).distance", "a fixed point 1% farther from π*_β than predicted") {
            Checks.distance(id: "exact.\(id).distance", trainer: id, iterated: 0.4084 * 1.01, predicted: 0.4084)
        }
    }

    static func atPosterior(_ id: String) -> Counterexample {
        Counterexample("exact.\(id).away", "a predicted fixed point that is π*_β itself") {
            Checks.away(id: "exact.\(id).away", trainer: id, predicted: klDivergence(posterior, posterior))
        }
    }

    static func notArrived(_ id: String) -> Counterexample {
        Counterexample("sampled.\(id).arrival", "a run that removed only half of the prior's distance") {
            Checks.arrival(id: "sampled.\(id).arrival", trainer: id, start: 1.0, end: 0.5)
        }
    }

    static func nearerOther(_ id: String) -> Counterexample {
        Counterexample("sampled.\(id).nearer-own", "a run that ends at the other kind's fixed point") {
            Checks.nearerOwn(id: "sampled.\(id).nearer-own", trainer: id, own: klDivergence(prior, posterior),
                             other: klDivergence(prior, prior), otherName: "the other")
        }
    }

    static func collapsed(_ id: String) -> Counterexample {
        Counterexample("scale.\(id).entropy-kept", "a collapsed policy's entropy, a fifth of the prior's") {
            Checks.entropyKept(id: "scale.\(id).entropy-kept", trainer: id,
                               policy: Estimate(value: 0.3, standardError: 0.02, low: 0.26, high: 0.34),
                               prior: Estimate(value: 1.5, standardError: 0.01, low: 1.48, high: 1.52))
        }
    }

    static let trainers = ["ppo", "rloo", "grpo-k3", "grpo-k3-unscaled", "grpo-k1"]
    static let offPosterior = ["grpo-k3", "grpo-k3-unscaled"]

    static let all: [Counterexample] = trainers.map(stopped) + offPosterior.map(offByOnePercent)
        + offPosterior.map(atPosterior) + trainers.map(notArrived) + trainers.map(nearerOther)
        + ["ppo", "rloo", "grpo-k3", "grpo-k1"].map(collapsed)
}

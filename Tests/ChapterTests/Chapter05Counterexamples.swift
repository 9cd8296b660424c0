@testable import Chapter05
import BookKit
import Finite
import Notebook

/// One counterexample per check of chapter 5: each feeds the check's builder an input that makes
/// its claim false.
enum Chapter05Counterexamples {
    /// A small Dirichlet space like the chapter's, at β = 0.1.
    static func setting() -> Setting { Setting(outcomes: 200, beta: 0.1, seeds: Seeds(3)) }

    /// The same prior and reward with a posterior (and log Z) at a temperature 1% too high.
    static func offByOnePercent() -> Setting {
        let s = setting()
        let wrong = s.problem.at(beta: s.beta * 1.01)
        return Setting(problem: s.problem, posterior: wrong.posterior, logZ: wrong.logEvidence)
    }

    static func probes(_ s: Setting) -> [Probe] {
        let path = train(setting(), steps: 50, stepSize: stepSize(setting()))
        return gradientProbes(s, path, rng: Seeds(3).generator("gradients"))
    }

    static let all: [Counterexample] = [
        Counterexample("identity.closed-form", "the closed forms of π* and Z at a temperature 1% too high") {
            let wrong = Oracle.bits(beta: 0.1, closedFormBeta: 0.101)
            let policies = testPolicies(count: wrong.problem.count, prior: wrong.problem.prior,
                                        posterior: wrong.posterior, rng: Seeds(3).generator("oracle-policies"))
            return identityOnOracle(wrong, policies: policies)
        },
        Counterexample("training.rises", "a sign error: the run descends the objective") {
            let s = setting()
            return objectiveRises(s, train(s, steps: 50, stepSize: -stepSize(s)))
        },
        Counterexample("gradient.objective-vs-divergence", "the posterior at a temperature 1% off the objective's") {
            let s = offByOnePercent()
            return objectiveGradientAgainstDivergence(s, probes: probes(s))
        },
        Counterexample("gradient.divergence-vs-objective", "the posterior at a temperature 1% off the objective's") {
            let s = offByOnePercent()
            return divergenceGradientAgainstObjective(s, probes: probes(s))
        },
    ]
}

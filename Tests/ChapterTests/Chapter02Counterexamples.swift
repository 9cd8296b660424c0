import BookKit
import Foundation
@testable import Chapter02
import Finite
import Notebook

/// One counterexample for each check chapter 2 emits: the chapter's own builder, fed a sign
/// error, a temperature off by 1%, frontier points in the wrong order, a forgotten shaping term,
/// a wrong root or a wrong optimum.
enum Chapter02Counterexamples {
    static let seeds = Seeds(3)
    static let s = Setting(outcomes: 200, beta: 0.1, seeds: seeds)
    static var p: ExactProblem { s.problem }
    /// An interior policy, as the chapter's gradient section draws it.
    static var interior: Distribution {
        let rng = seeds.generator("counterexample")
        return Distribution.softmax(s.prior.logProbabilities.map { $0 + rng.gaussian() })
    }
    static let betas = (0...60).map { 0.1 * pow(10, -2 + 4 * Double($0) / 60) }
    static var points: [Frontier.Point] { betas.map { Frontier.point(prior: p.prior, reward: p.reward, beta: $0) } }
    static var epsilon: Double { Frontier.largestKL(prior: p.prior, reward: p.reward) / 2 }

    /// ⟨∇J_KLRL, v⟩ by central differences.
    static func centralDifference(_ pi: Distribution, _ v: [Double], h: Double = 1e-5) -> Double {
        let theta = pi.logProbabilities
        let jAt = { (t: Double) in
            Objective.klRegularised(Distribution.softmax(zip(theta, v).map { $0 + t * $1 }), prior: p.prior,
                                    reward: p.reward, beta: p.beta)
        }
        return (jAt(h) - jAt(-h)) / (2 * h)
    }

    static func scale(_ pi: Distribution) -> Double {
        Objective.shapedReward(pi, prior: p.prior, reward: p.reward, beta: p.beta).map { Swift.abs($0) }.max()! + p.beta
    }

    static let all: [Counterexample] = [
        Counterexample("gradient.finite-difference", "a sign error in the KL term (β → −β)") {
            let pi = interior
            let v = (0..<s.n).map { Double($0 % 5) / 2 - 1 }
            let wrong = PolicyGradient.klRegularised(pi, prior: p.prior, reward: p.reward, beta: -p.beta)
            return Checks.finiteDifference(exact: dot(wrong, v), centralDifference: centralDifference(pi, v),
                                           step: 1e-5, scale: scale(pi), outcomes: s.n)
        },
        Counterexample("gradient.reinforce-no-baseline", "the shaping forgotten: sampled with r instead of r'") {
            let pi = interior
            let v = (0..<s.n).map { Double($0 % 5) / 2 - 1 }
            let est = try ScoreFunction.sampledDirectionalDerivative(pi, f: p.reward, baseline: 0, direction: v,
                                                                     draws: 40_000, rng: seeds.generator("sample"))
            let exact = dot(PolicyGradient.klRegularised(pi, prior: p.prior, reward: p.reward, beta: p.beta), v)
            return Checks.reinforceEstimate(baseline: "no baseline", id: "gradient.reinforce-no-baseline",
                                            estimate: est, exact: exact, draws: 40_000, scale: scale(pi), outcomes: s.n)
        },
        Counterexample("gradient.reinforce-baseline-j", "the shaping forgotten: sampled with r instead of r'") {
            let pi = interior
            let v = (0..<s.n).map { Double($0 % 5) / 2 - 1 }
            let est = try ScoreFunction.sampledDirectionalDerivative(pi, f: p.reward,
                                                                     baseline: pi.expectation(p.reward), direction: v,
                                                                     draws: 40_000, rng: seeds.generator("sample"))
            let exact = dot(PolicyGradient.klRegularised(pi, prior: p.prior, reward: p.reward, beta: p.beta), v)
            return Checks.reinforceEstimate(baseline: "baseline J", id: "gradient.reinforce-baseline-j", estimate: est,
                                            exact: exact, draws: 40_000, scale: scale(pi), outcomes: s.n)
        },
        Counterexample("frontier.reward-falls", "temperatures in decreasing order") {
            Checks.rewardFalls(points.reversed(), tolerance: 2 * summationTolerance(s.n, scale: 1))
        },
        Counterexample("frontier.kl-falls", "temperatures in decreasing order") {
            Checks.klFalls(points.reversed(), tolerance: 2 * summationTolerance(s.n, scale: 100))
        },
        Counterexample("frontier.tangent-above", "the tangent point taken at 1.01 β") {
            Checks.tangentAbove(points, here: Frontier.point(prior: p.prior, reward: p.reward, beta: 1.01 * p.beta),
                                beta: p.beta, tolerance: 2 * summationTolerance(s.n, scale: 100))
        },
        Counterexample("frontier.secant-left", "the temperature off by 1% (1.01 β)") {
            let slopes = Frontier.secantSlopes(prior: p.prior, reward: p.reward, beta: p.beta, relativeStep: 1e-3)
            return Checks.secants(slopes, temperature: 1.01 * p.beta, at: "β", tolerance: 1e-9)[0]
        },
        Counterexample("frontier.secant-right", "the temperature off by 1% (0.99 β)") {
            let slopes = Frontier.secantSlopes(prior: p.prior, reward: p.reward, beta: p.beta, relativeStep: 1e-3)
            return Checks.secants(slopes, temperature: 0.99 * p.beta, at: "β", tolerance: 1e-9)[1]
        },
        Counterexample("frontier.secant-central", "the temperature off by 1% (1.01 β)") {
            let slopes = Frontier.secantSlopes(prior: p.prior, reward: p.reward, beta: p.beta, relativeStep: 1e-3)
            return Checks.secants(slopes, temperature: 1.01 * p.beta, at: "β", tolerance: 1e-9)[2]
        },
        Counterexample("constrained.root-is-dual-minimiser", "a root 1% too warm") {
            let root = try Frontier.temperature(forKL: epsilon, prior: p.prior, reward: p.reward)
            let search = Frontier.dualMinimum(prior: p.prior, reward: p.reward, budget: epsilon,
                                              width: dualBracketWidth)
            return Checks.rootIsDualMinimiser(root: 1.01 * root, minimiser: search.beta, bracketWidth: dualBracketWidth)
        },
        Counterexample("constrained.strong-duality", "the primal value read at a root 1% too warm") {
            let root = try Frontier.temperature(forKL: epsilon, prior: p.prior, reward: p.reward)
            let search = Frontier.dualMinimum(prior: p.prior, reward: p.reward, budget: epsilon,
                                              width: dualBracketWidth)
            let primal = Frontier.point(prior: p.prior, reward: p.reward, beta: 1.01 * root).expectedReward
            return Checks.strongDuality(dualMinimum: search.value, primal: primal, betaHat: root, rewardRange: 1,
                                        bracketWidth: dualBracketWidth, rounding: 1e-12)
        },
        Counterexample("constrained.no-feasible-better", "the optimum read at a temperature 10% too warm") {
            let root = try Frontier.temperature(forKL: epsilon, prior: p.prior, reward: p.reward)
            let colder = Posterior.distribution(prior: p.prior, reward: p.reward, beta: 0.99 * root)
            let feasible = try Frontier.feasibleMixture(prior: p.prior, toward: colder, budget: epsilon)
            let wrongOptimum = Frontier.point(prior: p.prior, reward: p.reward, beta: 1.1 * root).expectedReward
            return Checks.noFeasibleBetter([feasible], reward: p.reward, optimum: wrongOptimum, tolerance: 1e-12)
        },
    ]
}

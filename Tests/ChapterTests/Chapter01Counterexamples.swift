import BookKit
@testable import Chapter01
import Finite
import Notebook

/// One counterexample for each check chapter 1 emits: the chapter's own builder, fed a stopped
/// ascent, a point mass on the wrong outcome, a sign error, an off-by-one step count or an
/// overstated gap.
enum Chapter01Counterexamples {
    static let seeds = Seeds(3)
    static let space = Setting(outcomes: 300, seeds: seeds)
    /// The space of the plain ascent: the first 1000 outcomes (here all 300).
    static let plainSpace = space.subspace(plainOutcomes)

    /// The natural-gradient ascent stopped after 10 steps, as `--steps 10` does.
    static var stoppedNatural: Distribution { naturalAscent(space, maxSteps: 10, eta: 1).last!.policy }
    /// The plain ascent stopped after 10 steps.
    static var stoppedPlain: Distribution { plainPath(plainSpace, maxSteps: 10).path.last!.policy }
    /// A point mass on the runner-up, claimed to be the limit on x*.
    static var runnerUp: Int {
        space.reward.indices.filter { $0 != space.best }.max { space.reward[$0] < space.reward[$1] }!
    }

    static func limit(_ id: String, _ policy: Distribution, onto x: Int, in s: Setting, _ l: Checks.Limits) -> Check {
        Checks.limits(policy, onto: x, name: "x", prior: s.prior, reward: s.reward, l).first { $0.id == id }!
    }

    static let all: [Counterexample] = [
        Counterexample("ceiling.no-policy-beats-max", "the ceiling taken over every outcome but x*") {
            let second = space.reward.enumerated().filter { $0.offset != space.best }.map(\.element).max()!
            return Checks.ceiling([Distribution.delta(space.best, count: space.n)], reward: space.reward,
                                  ceiling: second)
        },
        Counterexample("ceiling.shortfall-outside-argmax", "the gap Δ overstated twofold") {
            Checks.shortfall([Distribution.delta(runnerUp, count: space.n)], reward: space.reward,
                             maximisers: space.maximisers, gap: 2 * space.gap)
        },
        Counterexample("ceiling.attained-on-argmax", "a policy that leaks 10⁻³ of its mass outside A") {
            let rest = 0.001 / Double(space.n - 1)
            let leaky = Distribution(weights: (0..<space.n).map { $0 == space.best ? 0.999 : rest })
            return Checks.attained(leaky, reward: space.reward)
        },
        Counterexample("natural.collapses", "the ascent stopped after 10 steps") {
            Checks.collapsed(id: "natural.collapses", claim: "", label: "",
                             mass: stoppedNatural.probabilities[space.best], criterion: naturalCriterion, because: "")
        },
        Counterexample("natural.entropy-to-zero", "the ascent stopped after 10 steps") {
            limit("natural.entropy-to-zero", stoppedNatural, onto: space.best, in: space, naturalLimits)
        },
        Counterexample("natural.kl-to-point-mass", "a collapsed policy, but on the runner-up instead of x*") {
            limit("natural.kl-to-point-mass", Distribution.delta(runnerUp, count: space.n), onto: space.best, in: space,
                  naturalLimits)
        },
        Counterexample("natural.collision-to-one", "the ascent stopped after 10 steps") {
            limit("natural.collision-to-one", stoppedNatural, onto: space.best, in: space, naturalLimits)
        },
        Counterexample("natural.distinct-to-one", "the ascent stopped after 10 steps") {
            limit("natural.distinct-to-one", stoppedNatural, onto: space.best, in: space, naturalLimits)
        },
        Counterexample("natural.reward-to-point-mass", "a collapsed policy, but on the runner-up instead of x*") {
            limit("natural.reward-to-point-mass", Distribution.delta(runnerUp, count: space.n), onto: space.best,
                  in: space, naturalLimits)
        },
        Counterexample("natural.iterate-is-posterior", "the posterior one step further on (off by one)") {
            let end = naturalAscent(space, maxSteps: 5, eta: 1).last!.policy
            return Checks.iterateIsPosterior(end, Posterior.distribution(prior: space.prior, reward: space.reward,
                                                                         beta: 1 / 6.0), steps: 5)
        },
        Counterexample("plain.every-step-rises", "a sign error: the path descends") {
            let s = plainSpace
            var objectives = [Objective.expectedReward(s.prior, reward: s.reward)]
            _ = Dynamics.gradientAscent(
                logits: s.prior.logProbabilities, stepSize: plainStep, steps: 20,
                gradient: { PolicyGradient.expectedReward($0, reward: s.reward).map { -$0 } },
                stop: { objectives.append(Objective.expectedReward($0, reward: s.reward)); return false })
            return Checks.monotone(objectives, outcomes: s.n)
        },
        Counterexample("plain.collapses", "the ascent stopped after 10 steps") {
            Checks.collapsed(id: "plain.collapses", claim: "", label: "", mass: stoppedPlain.probabilities.max()!,
                             criterion: plainCriterion, because: "")
        },
        Counterexample("plain.entropy-to-zero", "the ascent stopped after 10 steps") {
            limit("plain.entropy-to-zero", stoppedPlain, onto: mode(stoppedPlain), in: plainSpace, plainLimits)
        },
        Counterexample("plain.kl-to-point-mass", "the ascent stopped after 10 steps") {
            limit("plain.kl-to-point-mass", stoppedPlain, onto: mode(stoppedPlain), in: plainSpace, plainLimits)
        },
        Counterexample("plain.collision-to-one", "the ascent stopped after 10 steps") {
            limit("plain.collision-to-one", stoppedPlain, onto: mode(stoppedPlain), in: plainSpace, plainLimits)
        },
        Counterexample("plain.distinct-to-one", "the ascent stopped after 10 steps") {
            limit("plain.distinct-to-one", stoppedPlain, onto: mode(stoppedPlain), in: plainSpace, plainLimits)
        },
        Counterexample("plain.reward-to-point-mass", "a collapsed policy, but on x* instead of the outcome claimed") {
            limit("plain.reward-to-point-mass", Distribution.delta(plainSpace.best, count: plainSpace.n),
                  onto: (plainSpace.best + 1) % plainSpace.n, in: plainSpace, plainLimits)
        },
        Counterexample("ties.mass-on-tied-set", "the ascent stopped after 10 steps") {
            let (reward, tied) = tiedReward(space, seeds)
            let end = tiedAscent(space, reward: reward, tied: tied, maxSteps: 10, eta: 1).policy
            return Checks.collapsed(id: "ties.mass-on-tied-set", claim: "", label: "", mass: end.mass(of: tied),
                                    criterion: naturalCriterion, because: "")
        },
        Counterexample("ties.prior-proportions", "plain gradient ascent, which favours the likelier tied outcomes") {
            let (reward, tied) = tiedReward(space, seeds)
            let last = Dynamics.gradientAscent(
                logits: space.prior.logProbabilities, stepSize: plainStep, steps: 2000, record: 2000,
                gradient: { PolicyGradient.expectedReward($0, reward: reward) }).last!
            return Checks.proportionsKept(last.policy, prior: space.prior, tied: tied, steps: last.step)
        },
        Counterexample("exploration.finite-difference", "the importance weight π/q forgotten") {
            let theta = space.prior.logProbabilities
            let pi = Distribution.softmax(theta)
            let q = Distribution.uniform(space.n)
            // E_{x~q}[r(x)(e_x − π)] without the weight π(x)/q(x).
            let eq = Objective.expectedReward(q, reward: space.reward)
            let unweighted = (0..<space.n).map { q.probabilities[$0] * space.reward[$0] - eq * pi.probabilities[$0] }
            let v = (0..<space.n).map { Double($0 % 7) - 3 }
            let h = 1e-5
            let jAt = { (t: Double) in
                Objective.expectedReward(Distribution.softmax(zip(theta, v).map { $0 + t * $1 }), reward: space.reward)
            }
            return Checks.finiteDifference(gradient: unweighted, direction: v,
                                           centralDifference: (jAt(h) - jAt(-h)) / (2 * h))
        },
        Counterexample("exploration.monte-carlo", "the importance weight π/q forgotten (weighted by q/q = 1)") {
            let s = Setting(outcomes: 10, seeds: seeds)
            let pi = Distribution.softmax(s.prior.logProbabilities.map { 3 * $0 })
            let v = (0..<s.n).map { Double($0) }
            let est = uniformEstimate(pi, reward: s.reward, direction: v, proposal: pi, draws: 20_000,
                                      rng: seeds.generator("counterexample"))
            return Checks.monteCarlo(mean: est.mean, standardError: est.standardError,
                                     exact: dot(PolicyGradient.expectedReward(pi, reward: s.reward), v), draws: 20_000)
        },
        Counterexample("path.exponentiated-gradient", "k steps compared with the posterior after k + 1") {
            let eta = 0.05
            let pairs: [Checks.IterateAndPosterior] = [10, 100].map { k in
                let iterate = Dynamics.exponentiatedGradient(prior: space.prior, reward: space.reward, stepSize: eta,
                                                             steps: k)
                let next = Posterior.distribution(prior: space.prior, reward: space.reward,
                                                  beta: 1 / (eta * Double(k + 1)))
                return (k, iterate, next)
            }
            return Checks.exponentiatedGradient(pairs)
        },
        Counterexample("path.cold-posterior-bound", "the gap Δ overstated twofold") {
            let cold = Posterior.distribution(prior: space.prior, reward: space.reward, beta: 0.004)
            let limit = Posterior.zeroTemperatureLimit(prior: space.prior, reward: space.reward)
            return Checks.coldPosterior(cold, limit: limit, priorMassOfA: space.prior.mass(of: space.maximisers),
                                        gap: 2 * space.gap, beta: 0.004)
        },
        Counterexample("reinforce.every-run-collapses-none", "runs stopped after 5 steps") {
            let (prior, reward) = reinforceSpace(seeds)
            let r = try reinforceRuns(prior: prior, reward: reward, baseline: .none, runs: 10, maxSteps: 5,
                                      seeds: seeds)
            return Checks.everyRunCollapses(.none, collapsed: r.collapsed, runs: 10)
        },
        Counterexample("reinforce.every-run-collapses-leave-one-out", "runs stopped after 5 steps") {
            let (prior, reward) = reinforceSpace(seeds)
            let r = try reinforceRuns(prior: prior, reward: reward, baseline: .leaveOneOut, runs: 10, maxSteps: 5,
                                      seeds: seeds)
            return Checks.everyRunCollapses(.leaveOneOut, collapsed: r.collapsed, runs: 10)
        },
    ]
}

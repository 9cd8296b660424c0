// The checks of chapter 1, one builder a claim. A section calls each builder with what it
// computed; Tests/ChapterTests/Chapter01Counterexamples.swift calls it with a counterexample (a
// stopped ascent, a point mass on the wrong outcome, a sign error, an off-by-one step count) and
// asserts that the check fails.
import BookKit
import Foundation
import Finite
import Notebook

enum Checks {
    // MARK: Eq. 1: the ceiling

    /// J_RL(π) ≤ `ceiling` for every policy (eq. 1 with ceiling = max r).
    static func ceiling(_ policies: [Distribution], reward: [Double], ceiling: Double) -> Check {
        var w = WorstCase(.lessOrEqual)
        for (k, pi) in policies.enumerated() {
            w.add(Objective.expectedReward(pi, reward: reward), ceiling,
                  tolerance: summationTolerance(reward.count, scale: 1), at: "policy \(k)")
        }
        return w.check(id: "ceiling.no-policy-beats-max",
                       claim: #"No policy beats the best reward: $J_{RL}(\pi) \le \max_x r(x)$ for 200 "#
                           + "Dirichlet policies",
                       reference: "eq. 1", aLabel: #"$J_{RL}(\pi)$"#, bLabel: #"$\max_x r(x)$"#,
                       because: "rounding of an n-term sum of terms at most 1: (n + 2)ε")
    }

    /// max r − J_RL(π) ≥ Δ π(X∖A): the shortfall is at least the gap times the mass outside A.
    static func shortfall(_ policies: [Distribution], reward: [Double], maximisers: Set<Int>, gap: Double) -> Check {
        let rmax = reward.max()!
        var w = WorstCase(.greaterOrEqual)
        for (k, pi) in policies.enumerated() {
            w.add(rmax - Objective.expectedReward(pi, reward: reward), gap * (1 - pi.mass(of: maximisers)),
                  tolerance: summationTolerance(reward.count, scale: 1), at: "policy \(k)")
        }
        return w.check(id: "ceiling.shortfall-outside-argmax",
                       claim: #"Mass outside $A$ costs reward: "#
                           + #"$\max r - J_{RL}(\pi) \ge \Delta \, \pi(X \setminus A)$ for all 200 policies"#,
                       reference: "eq. 1", aLabel: #"$\max r - J_{RL}(\pi)$"#,
                       bLabel: #"$\Delta \, \pi(X \setminus A)$"#,
                       because: "rounding of an n-term sum: (n + 2)ε")
    }

    /// J_RL(π) = max r for a policy supported on A.
    static func attained(_ onA: Distribution, reward: [Double]) -> Check {
        Check(id: "ceiling.attained-on-argmax", claim: "A policy supported on $A$ attains the ceiling",
              reference: "eq. 2",
              aLabel: #"$J_{RL}(\delta_{x^*})$"#, bLabel: #"$\max_x r(x)$"#,
              a: Objective.expectedReward(onA, reward: reward), b: reward.max()!,
              tolerance: 0, because: "a single term times 1: exact in floating point")
    }

    // MARK: Eq. 2: collapse and its limits

    /// π_T(S) ≥ 1 − δ: the ascent reached its collapse criterion on the outcome or set S.
    static func collapsed(id: String, claim: String, label: String, mass: Double, criterion: Double,
                          because reason: String) -> Check {
        Check(id: id, claim: claim, reference: "eq. 2", aLabel: label, bLabel: "1", a: mass, b: 1,
              relation: .greaterOrEqual, tolerance: criterion, because: reason)
    }

    /// The thresholds of one ascent's limit checks: fixed before it runs.
    struct Limits {
        /// "natural" or "plain": the prefix of the ids.
        let ascent: String
        /// Every limit must be within this of its value at the point mass.
        let threshold: Double
        /// The threshold as the page writes it ("10^{-6}").
        let tex: String
        /// Why a run that met its collapse criterion lies well inside the threshold.
        let why: String
    }

    /// The five limits of eq. 2 for a policy that should be the point mass on `x`: entropy 0,
    /// KL(π ‖ π0) = −log π0(x), collision probability 1, one distinct outcome in 16 draws, and
    /// expected reward r(x); each compared with that value under the fixed threshold.
    static func limits(_ end: Distribution, onto x: Int, name: String, prior: Distribution, reward: [Double],
                       _ l: Limits) -> [Check] {
        let t = l.threshold
        let within = "a threshold fixed before the run: " + l.why
        return [
            Check(id: "\(l.ascent).entropy-to-zero", claim: #"Entropy goes to 0: $H(\pi_T) \le \#(l.tex)$"#,
                  reference: "§2",
                  aLabel: #"$H(\pi_T)$"#, bLabel: "0", a: end.entropy, b: 0, relation: .lessOrEqual, tolerance: t,
                  because: within),
            Check(id: "\(l.ascent).kl-to-point-mass",
                  claim: #"$\operatorname{KL}(\pi_T \,\|\, \pi_0)$ reaches $-\log \pi_0(\#(name))$, "#
                      + "the KL of the point mass, within $\(l.tex)$",
                  reference: "§2", aLabel: #"$\operatorname{KL}(\pi_T \,\|\, \pi_0)$"#,
                  bLabel: #"$-\log \pi_0(\#(name))$"#,
                  a: klDivergence(end, prior), b: -prior.logProbabilities[x], tolerance: t, because: within),
            Check(id: "\(l.ascent).collision-to-one",
                  claim: #"Collision probability reaches 1: $\sum_x \pi_T(x)^2 \ge 1 - \#(l.tex)$"#, reference: "§2",
                  aLabel: #"$\sum_x \pi_T(x)^2$"#, bLabel: "1", a: end.collisionProbability, b: 1,
                  relation: .greaterOrEqual, tolerance: t, because: within),
            Check(id: "\(l.ascent).distinct-to-one",
                  claim: #"Expected distinct outcomes in 16 draws reaches 1: $\mathbb{E}[D_{16}] \le 1 + \#(l.tex)$"#,
                  reference: "§2", aLabel: #"$\mathbb{E}[D_{16}]$ under $\pi_T$"#, bLabel: "1",
                  a: end.expectedDistinct(draws: 16), b: 1, relation: .lessOrEqual, tolerance: t, because: within),
            Check(id: "\(l.ascent).reward-to-point-mass",
                  claim: "Expected reward reaches $r(\(name))$ within $\(l.tex)$", reference: "eq. 1",
                  aLabel: #"$J_{RL}(\pi_T)$"#, bLabel: "$r(\(name))$",
                  a: Objective.expectedReward(end, reward: reward), b: reward[x], tolerance: t, because: within),
        ]
    }

    /// The natural-gradient iterate after `steps` steps equals the posterior at β = 1/t.
    static func iterateIsPosterior(_ iterate: Distribution, _ posterior: Distribution, steps: Int) -> Check {
        var w = WorstCase(.equal)
        let tol = Double(steps) * Double(iterate.count + 3) * Double.ulpOfOne
        for x in 0..<iterate.count {
            w.add(iterate.probabilities[x], posterior.probabilities[x], tolerance: tol, at: "x = \(x)")
        }
        return w.check(id: "natural.iterate-is-posterior",
                       claim: "After total step $t$ the natural-gradient iterate is the posterior "
                           + #"$\pi_0 e^{t r} / Z$ at $\beta = 1/t$"#,
                       reference: "eq. 5, beyond the paper", aLabel: #"$\pi_T(x)$"#, bLabel: #"$\pi^*_{1/t}(x)$"#,
                       because: "T softmax evaluations, each an n-term sum: T(n + 3)ε")
    }

    /// J_RL(π_{t+1}) ≥ J_RL(π_t) along a path: `objectives` holds J at steps 0, 1, 2, ...
    static func monotone(_ objectives: [Double], outcomes n: Int) -> Check {
        var w = WorstCase(.greaterOrEqual)
        for t in objectives.indices.dropLast() {
            w.add(objectives[t + 1], objectives[t], tolerance: 2 * summationTolerance(n, scale: 1), at: "step \(t + 1)")
        }
        return w.check(id: "plain.every-step-rises",
                       claim: "Every step increases $J_{RL}$ (step size below $2/L$)", reference: "§2",
                       aLabel: #"$J_{RL}(\pi_{t+1})$"#, bLabel: #"$J_{RL}(\pi_t)$"#,
                       because: "ascent lemma for an L-smooth objective; slack for two n-term sums")
    }

    // MARK: Ties

    /// π_T(a)/π_T(A) = π0(a)/π0(A) for every a in A.
    static func proportionsKept(_ end: Distribution, prior: Distribution, tied: Set<Int>, steps: Int) -> Check {
        let prA = prior.mass(of: tied), endA = end.mass(of: tied)
        let tol = Double(steps + 1) * Double(end.count + 3) * Double.ulpOfOne
        var w = WorstCase(.equal)
        for a in tied.sorted() {
            w.add(end.probabilities[a] / endA, prior.probabilities[a] / prA, tolerance: tol, at: "a = \(a)")
        }
        return w.check(id: "ties.prior-proportions",
                       claim: #"Inside $A$ the prior's proportions are kept: the end point is $\pi_0(\cdot \mid A)$"#,
                       reference: "§2, beyond the paper", aLabel: #"$\pi_T(a)/\pi_T(A)$"#,
                       bLabel: #"$\pi_0(a)/\pi_0(A)$"#,
                       because: "T softmax evaluations, each an n-term sum: (T + 1)(n + 3)ε")
    }

    // MARK: Exploration

    /// ⟨g, v⟩ against the central difference (J(θ + hv) − J(θ − hv))/2h.
    static func finiteDifference(gradient g: [Double], direction v: [Double], centralDifference fd: Double) -> Check {
        Check(id: "exploration.finite-difference",
              claim: "The uniform-proposal importance-weighted gradient equals the finite-difference derivative "
                  + "of $J_{RL}$ along a random direction $v$",
              reference: "§2", aLabel: #"$\langle g_{IS}, v \rangle$"#,
              bLabel: #"$(J(\theta + hv) - J(\theta - hv))/2h$"#,
              a: dot(g, v), b: fd, tolerance: 1e-6 * max(1, norm(v)),
              because: "central differences, h = 10⁻⁵: O(h²‖v‖³) truncation plus O(ε/h) rounding, below 10⁻⁶‖v‖")
    }

    /// A Monte Carlo mean against the exact value it estimates.
    static func monteCarlo(mean: Double, standardError se: Double, exact: Double, draws: Int) -> Check {
        Check(id: "exploration.monte-carlo",
              claim: "A seeded Monte Carlo estimate with uniform sampling agrees with the exact gradient",
              reference: "§2",
              aLabel: #"MC mean of $\langle \hat g_{IS}, v \rangle$"#, bLabel: #"$\langle \nabla J, v \rangle$"#,
              a: mean, b: exact, tolerance: 5.3 * se,
              because: "5.3 standard errors of \(draws) draws: a false failure has probability about 10⁻⁷")
    }

    // MARK: The posterior path

    /// k exponentiated-gradient steps and the posterior at β = 1/(kη).
    typealias IterateAndPosterior = (steps: Int, iterate: Distribution, posterior: Distribution)

    /// Exponentiated-gradient iterates against the posterior at β = 1/(kη), worst over k.
    static func exponentiatedGradient(_ pairs: [IterateAndPosterior]) -> Check {
        var w = WorstCase(.equal)
        for p in pairs {
            let tol = Double(p.steps + 1) * Double(p.iterate.count + 3) * Double.ulpOfOne
            for x in 0..<p.iterate.count {
                w.add(p.iterate.probabilities[x], p.posterior.probabilities[x], tolerance: tol,
                      at: "k = \(p.steps), x = \(x)")
            }
        }
        return w.check(id: "path.exponentiated-gradient",
                       claim: #"$k$ multiplicative steps of size $\eta$ equal the posterior at $\beta = 1/(k\eta)$, "#
                           + #"for $k = 1, \dots, 3000$"#,
                       reference: "eq. 5", aLabel: #"$\pi_k(x)$"#, bLabel: #"$\pi^*_{1/k\eta}(x)$"#,
                       because: "k multiplicative steps and one softmax, each with an n-term sum: (k + 1)(n + 3)ε")
    }

    /// TV(π*_β, π0(·|A)) ≤ (1 − π0(A))/π0(A) e^{−Δ/β}.
    static func coldPosterior(_ cold: Distribution, limit: Distribution, priorMassOfA pA: Double, gap: Double,
                              beta: Double) -> Check {
        Check(id: "path.cold-posterior-bound",
              claim: #"At $\beta = \#(NumberFormat.format(beta))$ the posterior is within "#
                  + #"$\frac{1 - \pi_0(A)}{\pi_0(A)} e^{-\Delta/\beta}$ of $\pi_0(\cdot \mid A)$ in total variation"#,
              reference: "eq. 5", aLabel: #"$\operatorname{TV}(\pi^*_\beta, \pi_0(\cdot \mid A))$"#, bLabel: "bound",
              a: totalVariation(cold, limit), b: (1 - pA) / pA * exp(-gap / beta), relation: .lessOrEqual,
              tolerance: summationTolerance(cold.count, scale: 1),
              because: "the bound is exact; slack for n-term rounding")
    }

    // MARK: Sampled REINFORCE

    /// Every one of `runs` runs collapsed.
    static func everyRunCollapses(_ baseline: Reinforce.Baseline, collapsed: Int, runs: Int) -> Check {
        Check(id: "reinforce.every-run-collapses-\(baseline.rawValue)",
              claim: "Every sampled REINFORCE run (\(baseline.rawValue) baseline) collapses onto a single outcome",
              reference: "§2", aLabel: #"runs with one outcome $\ge 0.99$"#, bLabel: "runs", a: Double(collapsed),
              b: Double(runs), tolerance: 0, because: "counts: exact")
    }
}

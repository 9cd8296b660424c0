// The checks of chapter 2, one builder a claim. A section calls each builder with what it
// computed; Tests/ChapterTests/Chapter02Counterexamples.swift calls it with a counterexample (a
// sign error, a temperature off by 1%, frontier points in the wrong order, a forgotten shaping
// term) and asserts that the check fails.
import BookKit
import Foundation
import Finite
import Notebook

enum Checks {
    /// A temperature in three significant digits, for the label of the worst comparison.
    static func short(_ beta: Double) -> String { NumberFormat.format(beta, significant: 3) }

    // MARK: The policy gradient

    /// ⟨∇J, v⟩ from the closed form against central differences of J_KLRL, with m = max|r'| + β.
    static func finiteDifference(exact: Double, centralDifference fd: Double, step h: Double, scale m: Double,
                                 outcomes n: Int) -> Check {
        Check(id: "gradient.finite-difference",
              claim: #"The closed-form gradient matches central finite differences of $J_{KLRL}$ "#
                  + "along a random direction",
              reference: "eq. 4", aLabel: #"$\langle \nabla J, v \rangle$"#,
              bLabel: #"$(J(\theta + hv) - J(\theta - hv))/2h$"#, a: exact, b: fd,
              tolerance: 8 * h * h * m + 4 * summationTolerance(n, scale: m) / h,
              because: "h = 10⁻⁵: truncation h²|J'''|/6 with |J'''| ≤ 48(max|r'| + β) for |v| ≤ 1, plus rounding of J, "
                  + "4(n + 2)ε(max|r'| + β)/h")
    }

    /// A sampled REINFORCE estimate of ⟨∇J, v⟩ against the exact value.
    static func reinforceEstimate(baseline name: String, id: String, estimate: (mean: Double, standardError: Double),
                                  exact: Double, draws: Int, scale m: Double, outcomes n: Int) -> Check {
        Check(id: id,
              claim: "A seeded REINFORCE estimate (\(name), \(draws) draws) agrees with the exact directional "
                  + "derivative",
              reference: "eq. 4", aLabel: #"mean of $(r'(x) - b) \langle e_x - \pi, v \rangle$"#,
              bLabel: #"$\langle \nabla J, v \rangle$"#, a: estimate.mean, b: exact,
              tolerance: 5.3 * estimate.standardError + summationTolerance(n, scale: m),
              because: "5.3 standard errors: a false failure has probability about 10⁻⁷")
    }

    // MARK: The frontier

    /// E_{β_i}[r] ≥ E_{β_{i+1}}[r] along temperatures in increasing order.
    static func rewardFalls(_ points: [Frontier.Point], tolerance: Double) -> Check {
        var w = WorstCase(.greaterOrEqual)
        for (p, q) in zip(points, points.dropFirst()) {
            w.add(p.expectedReward, q.expectedReward, tolerance: tolerance, at: "β = \(short(p.beta))")
        }
        return w.check(id: "frontier.reward-falls", claim: #"Expected reward of $\pi^*_\beta$ falls as $\beta$ grows"#,
                       reference: "§3", aLabel: #"$\mathbb{E}_{\beta_i}[r]$"#,
                       bLabel: #"$\mathbb{E}_{\beta_{i+1}}[r]$"#,
                       because: "two n-term sums of rewards at most max|r|: 2(n + 2)ε max|r|")
    }

    /// KL(π*_{β_i} ‖ π0) ≥ KL(π*_{β_{i+1}} ‖ π0) along temperatures in increasing order.
    static func klFalls(_ points: [Frontier.Point], tolerance: Double) -> Check {
        var w = WorstCase(.greaterOrEqual)
        for (p, q) in zip(points, points.dropFirst()) {
            w.add(p.klDivergence, q.klDivergence, tolerance: tolerance, at: "β = \(short(p.beta))")
        }
        return w.check(id: "frontier.kl-falls",
                       claim: #"$\operatorname{KL}(\pi^*_\beta \,\|\, \pi_0)$ falls as $\beta$ grows"#, reference: "§3",
                       aLabel: #"$\operatorname{KL}_{\beta_i}$"#, bLabel: #"$\operatorname{KL}_{\beta_{i+1}}$"#,
                       because: "two n-term sums of log-ratios at most range(r)/$\\beta_{\\min}$ + 1: "
                                + "2(n + 2)ε times that")
    }

    /// E_β'[r] − β KL_β' ≤ E_β[r] − β KL_β for every frontier point β', `here` being the point at β.
    static func tangentAbove(_ points: [Frontier.Point], here: Frontier.Point, beta: Double,
                             tolerance: Double) -> Check {
        let tangent = here.expectedReward - beta * here.klDivergence
        var w = WorstCase(.lessOrEqual)
        for p in points {
            w.add(p.expectedReward - beta * p.klDivergence, tangent, tolerance: tolerance,
                  at: "β' = \(short(p.beta))")
        }
        return w.check(id: "frontier.tangent-above",
                       claim: #"The line of slope $\beta$ through the frontier point at $\beta$ lies above all "#
                           + #"61 frontier points (concavity with slope $\beta$)"#,
                       reference: "eqs. 3, 6", aLabel: #"$\mathbb{E}_{\beta'}[r] - \beta \operatorname{KL}_{\beta'}$"#,
                       bLabel: #"$\mathbb{E}_\beta[r] - \beta \operatorname{KL}_\beta$"#,
                       because: "rounding of the reward and KL sums at both points: "
                           + "2(n + 2)ε (max|r| + β(range/$\\beta_{\\min}$ + 1))")
    }

    /// The secant slopes on either side of the frontier point at `temperature`, and their mean.
    static func secants(_ slopes: (left: Double, right: Double), temperature: Double, at where_: String,
                        tolerance: Double) -> [Check] {
        [
            Check(id: "frontier.secant-left",
                  claim: "Secant slope on the low-KL side is at least the temperature, at \(where_), "
                      + "neighbour at ×(1 + 10⁻³)",
                  reference: "§3", aLabel: #"$\Delta E / \Delta \operatorname{KL}$ left"#, bLabel: "temperature",
                  a: slopes.left, b: temperature, relation: .greaterOrEqual, tolerance: tolerance,
                  because: "concavity makes it exact; slack: rounding of E and KL, "
                      + "4(n + 2)ε(max|r| + β KL scale)/|ΔKL|"),
            Check(id: "frontier.secant-right",
                  claim: "Secant slope on the high-KL side is at most the temperature, at \(where_), "
                      + "neighbour at ×(1 − 10⁻³)",
                  reference: "§3", aLabel: #"$\Delta E / \Delta \operatorname{KL}$ right"#, bLabel: "temperature",
                  a: slopes.right, b: temperature, relation: .lessOrEqual, tolerance: tolerance,
                  because: "concavity makes it exact; slack: rounding of E and KL over |ΔKL|"),
            Check.close(id: "frontier.secant-central",
                        "Both secants pinch the temperature: the central slope estimate equals it to second order "
                            + "in the step",
                        reference: "§3", aLabel: #"$\frac{1}{2}(\text{left} + \text{right})$"#, bLabel: "temperature",
                        a: (slopes.left + slopes.right) / 2, b: temperature, relative: 1e-4, absolute: tolerance,
                        because: "the secants differ from the tangent by O(h) each with opposite signs; "
                            + "h = 10⁻³ leaves O(h²) ≪ 10⁻⁴ relative, plus rounding"),
        ]
    }

    // MARK: The constrained problem

    /// The root finder's temperature against the dual minimiser's: |log β̂ − log β̃| within the
    /// minimiser's final bracket width.
    static func rootIsDualMinimiser(root betaHat: Double, minimiser betaTilde: Double,
                                    bracketWidth w: Double) -> Check {
        Check(id: "constrained.root-is-dual-minimiser",
              claim: #"The temperature whose posterior spends the budget "#
                  + #"(Brent's root of $\operatorname{KL} = \varepsilon$) minimises the dual "#
                  + #"$\beta(\log Z(\beta) + \varepsilon)$ (golden-section search)"#,
              reference: "§3", aLabel: #"$\log \hat\beta$ (root)"#, bLabel: #"$\log \tilde\beta$ (dual minimiser)"#,
              a: log(betaHat), b: log(betaTilde), tolerance: w,
              because: "the search stops when its bracket in log β is at most \(NumberFormat.format(w)) wide, "
                  + "and the minimiser lies inside it; the root is exact to 10⁻¹³")
    }

    /// Strong duality: the dual minimum found by the search against E_{π*_β̂}[r] at the root.
    static func strongDuality(dualMinimum: Double, primal: Double, betaHat: Double, rewardRange: Double,
                              bracketWidth w: Double, rounding: Double) -> Check {
        Check(id: "constrained.strong-duality",
              claim: #"Strong duality: the dual minimum $\min_\beta \beta(\log Z(\beta) + \varepsilon)$ equals the "#
                  + #"constrained optimum $\mathbb{E}_{\pi^*_{\hat\beta}}[r]$"#,
              reference: "eqs. 3, 5", aLabel: #"$\min_\beta \beta(\log Z + \varepsilon)$"#,
              bLabel: #"$\mathbb{E}_{\pi^*_{\hat\beta}}[r]$"#, a: dualMinimum, b: primal,
              tolerance: rewardRange * rewardRange / (4 * betaHat) * w * w + rounding,
              because: "the dual is flat at its minimum: within half a bracket w of it, g exceeds its minimum "
                  + "by at most ½ (d²g/d(log β)²) (w/2)² ≤ range(r)² w²/(32 β̂), stated with a factor 8 to spare; "
                  + "plus rounding")
    }

    /// No feasible policy earns more than the constrained optimum.
    static func noFeasibleBetter(_ policies: [Distribution], reward: [Double], optimum: Double,
                                 tolerance: Double) -> Check {
        var w = WorstCase(.lessOrEqual)
        for (k, pi) in policies.enumerated() {
            w.add(pi.expectation(reward), optimum, tolerance: tolerance, at: "policy \(k)")
        }
        return w.check(id: "constrained.no-feasible-better",
                       claim: #"No feasible policy (mixtures of $\pi_0$ with random policies and with colder or "#
                           + #"perturbed posteriors, pushed to the budget) earns more reward than $\pi^*_{\hat\beta}$"#,
                       reference: "§3", aLabel: #"$\mathbb{E}_\pi[r]$, feasible $\pi$"#,
                       bLabel: #"$\mathbb{E}_{\pi^*_{\hat\beta}}[r]$"#,
                       because: "$\\mathbb{E}_\\pi[r]$ ≤ E*[r] + β̂(KL(π) − KL*) ≤ E*[r] + β̂·(budget "
                                + "residual); plus rounding")
    }
}

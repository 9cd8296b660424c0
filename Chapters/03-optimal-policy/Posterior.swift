// Eqs. 5-6: the posterior, what it is worth, and that no policy does better.
import BookKit
import Foundation
import Finite
import Notebook

// MARK: - Eq. 5: the posterior and its normaliser

func normalisation(_ c: Context) {
    let page = c.page, s = c.setting
    page.section("The posterior and what it is worth")
    page.prose(#"""
        Reweight the prior by $e^{r/\beta}$: outcomes with high reward gain, and the temperature $\beta$ sets how
        much. Dividing by the total weight $Z$ makes a distribution, the posterior of eq. 5. The claim of eq. 6 is
        that this posterior is the best policy for the KL-regularised objective, and the value it reaches is
        $\beta \log Z$. The lines below evaluate the normaliser two ways and the total of the posterior: they are
        the same sums rearranged, shown with their values rather than counted as checks. The check is the value: the
        objective's two sums at the posterior, $\mathbb{E}_{\pi^*}[r]$ and $\operatorname{KL}(\pi^*, \pi_0)$,
        against $\beta \log Z$; a posterior built at the wrong temperature would miss it.
        """#)
    page.equation(#"\pi^*(x) = \frac{1}{Z} \pi_0(x) \exp \left( r(x) / \beta \right), \quad "#
                  + #"Z = \sum_{x} \pi_0(x) \exp \left( r(x) / \beta \right), \qquad "#
                  + #"J_{KLRL}(\pi^*) = \beta \log Z"#, number: "5")
    page.parameters([("$|X|$", "\(s.n)"), (#"prior $\pi_0$"#, "Dirichlet(1, …, 1) draw"),
                     ("reward", "uniform on [0, 1]"), (#"$\beta$"#, NumberFormat.format(s.beta))])
    let top = s.reward.max()! / s.beta
    let shifted = s.prior.expectation(s.reward.map { exp($0 / s.beta - top) })
    let total = (0..<s.n).reduce(0.0) { $0 + s.prior.probabilities[$1] * exp(s.reward[$1] / s.beta - s.logZ) }
    page.derivation([
        DerivationLine(#"\log Z = \log \sum_x e^{\log \pi_0(x) + r(x)/\beta}"#, s.logZ, note: "log-sum-exp"),
        DerivationLine(#"= \max_x \frac{r(x)}{\beta} + "#
                           + #"\log \mathbb{E}_{\pi_0} \left[ e^{r/\beta - \max r/\beta} \right]"#,
                       top + log(shifted), note: "the same sum, shifted by its largest exponent"),
        DerivationLine(#"\sum_x \pi^*(x) = \sum_x \pi_0(x) e^{r(x)/\beta - \log Z}"#, total,
                       note: "1 by the definition of Z"),
    ], caption: "The normaliser of eq. 5 and the total it gives the posterior (rearrangements, not checks).")
    page.check(valueAtPosterior(s, s.posterior))
    page.record("log_partition_function", s.logZ)
    page.record("objective_at_posterior", s.objective(s.posterior))
    page.record("outcomes", Double(s.n))
    page.record("beta", s.beta)
    page.record("beta_log_z", s.beta * s.logZ)
}

/// Eq. 6 at the posterior: J_KLRL(π) = β log Z, for the π given (the chapter gives π*).
func valueAtPosterior(_ s: Setting, _ pi: Distribution) -> Check {
    Check(id: "posterior.value",
          claim: #"The posterior is worth $\beta \log Z$: "#
              + #"$\mathbb{E}_{\pi^*}[r] - \beta \operatorname{KL}(\pi^*, \pi_0) = \beta \log Z$"#,
          reference: "eqs. 5-6", aLabel: #"$J_{KLRL}(\pi^*)$"#, bLabel: #"$\beta \log Z$"#,
          a: s.objective(pi), b: s.beta * s.logZ, tolerance: objectiveTolerance(s, pi),
          because: "two n-term sums, terms ≤ max|r| + β(1 + max|log π*|, |log π0|): 2(n+2)ε times that, "
              + "plus a few ε of β|log Z|")
}

// MARK: - Eq. 6: nothing beats the posterior

func upperBound(_ c: Context) {
    let page = c.page, s = c.setting
    page.section("No policy does better, and only the posterior does as well")
    page.prose(#"""
        Draw policies at random from Dirichlet distributions (from very sparse to nearly uniform), add the prior and
        mixtures that sit closer and closer to the posterior, and evaluate the objective of each. None exceeds
        $\beta \log Z$. Equality holds only at the posterior: the shortfall is at least
        $2 \beta \, \mathrm{TV}(\pi, \pi^*)^2$ (chapter 5 shows it is exactly $\beta \operatorname{KL}(\pi, \pi^*)$,
        and Pinsker's inequality bounds that KL below), so a policy that falls short by almost nothing must be almost
        the posterior.
        """#)
    page.equation(#"J_{KLRL}(\pi) \le \beta \log Z, \qquad "#
                  + #"\beta \log Z - J_{KLRL}(\pi) \ge 2 \beta \, \mathrm{TV}(\pi, \pi^*)^2"#, number: "6")
    let rng = c.seeds.generator("upper-bound")
    var policies = (0..<300).map { k in
        Distribution(weights: rng.dirichlet(count: s.n, concentration: [0.01, 0.1, 1, 10][k % 4]))
    }
    policies.append(s.prior)
    for t in [0.3, 0.1, 0.01, 1e-3] {
        policies.append(Distribution(weights: (0..<s.n).map {
            (1 - t) * s.posterior.probabilities[$0] + t * s.prior.probabilities[$0]
        }))
    }
    page.check(noPolicyExceeds(s, policies, logZ: s.logZ))
    page.check(shortfallAtLeastPinsker(s, policies, posterior: s.posterior))
    let gaps = policies.map { s.beta * s.logZ - s.objective($0) }
    page.record("random_smallest_shortfall", gaps.prefix(300).min()!)
    let tvs = policies.map { totalVariation($0, s.posterior) }, sorted = tvs.sorted()
    page.plot(LinePlot(title: "Shortfall from beta log Z against distance from the posterior",
                       description: "Every policy falls short of beta log Z by at least 2 beta TV squared.",
                       xLabel: #"$\mathrm{TV}(\pi, \pi^*)$"#, yLabel: #"$\beta \log Z - J_{KLRL}(\pi)$"#,
                       xScale: .log10, yScale: .log10,
                       series: [Series("policies", x: tvs, y: gaps, style: .points),
                                Series("Pinsker bound 2β TV²", x: sorted, y: sorted.map { 2 * s.beta * $0 * $0 },
                                       style: .dashed)]),
              caption: #"""
                  Random policies (points) all lie above the bound $2\beta\,\mathrm{TV}^2$ (dashed). The shortfall
                  vanishes only as the policy approaches the posterior.
                  """#)
}

/// Eq. 6: J_KLRL(π) ≤ β log Z for every policy given, with log Z as given (the chapter's
/// log-sum-exp; a test passes a wrong one).
func noPolicyExceeds(_ s: Setting, _ policies: [Distribution], logZ: Double) -> Check {
    var w = WorstCase(.lessOrEqual)
    for (k, pi) in policies.enumerated() {
        w.add(s.objective(pi), s.beta * logZ, tolerance: objectiveTolerance(s, pi), at: "policy \(k + 1)")
    }
    return w.check(id: "bound.none-exceeds",
                   claim: #"No policy among \#(policies.count) (random ones, the prior, near-posterior mixtures) "#
                       + #"exceeds $\beta \log Z$"#,
                   reference: "eq. 6", aLabel: #"$J_{KLRL}(\pi)$"#, bLabel: #"$\beta \log Z$"#,
                   because: "rounding of the objective's two n-term sums: "
                       + "2(n+2)ε(max|r| + β(1 + max|log π|, |log π0|))")
}

/// Eq. 6 with Pinsker's inequality: β log Z − J_KLRL(π) ≥ 2β TV(π, π*)² for every policy, with
/// π* as given.
func shortfallAtLeastPinsker(_ s: Setting, _ policies: [Distribution], posterior: Distribution) -> Check {
    var w = WorstCase(.greaterOrEqual)
    for (k, pi) in policies.enumerated() {
        let tv = totalVariation(pi, posterior)
        w.add(s.beta * s.logZ - s.objective(pi), 2 * s.beta * tv * tv,
              tolerance: objectiveTolerance(s, pi) + 4 * s.beta * tv * summationTolerance(s.n, scale: 1),
              at: "policy \(k + 1)")
    }
    return w.check(id: "bound.shortfall-pinsker",
                   claim: #"The shortfall is at least $2\beta \, \mathrm{TV}(\pi, \pi^*)^2$ for every one of them, "#
                       + #"so equality forces $\pi = \pi^*$"#,
                   reference: "eq. 6", aLabel: #"$\beta \log Z - J_{KLRL}(\pi)$"#,
                   bLabel: #"$2\beta \, \mathrm{TV}(\pi, \pi^*)^2$"#,
                   because: "Pinsker's inequality is exact; slack for rounding of J and TV")
}

// Eqs. 11-17: the appendix's derivation, line by line, and the bound over many policies.
import BookKit
import Foundation
import Finite
import Notebook

// MARK: - Eqs. 11-17: the derivation, line by line

/// Every line of the derivation for one policy π, each computed the way it is written.
struct DerivationValues {
    let l11: Double, l12: Double, l13: Double, l14: Double, l15: Double, l16: Double, l17: Double
    /// KL(π ‖ π*), from the normalised posterior of eq. 5.
    let kl: Double
    /// The size of the log-weights, |r|/β + |log π0| + |log π|, for the rounding allowances.
    let scale: Double

    /// - Parameter posterior: π* for the KL (the setting's; a test passes a wrong one).
    init(_ s: Setting, _ pi: Distribution, posterior: Distribution? = nil) {
        l11 = EvidenceDerivation.logEvidenceFromJoint(prior: s.prior, reward: s.reward, beta: s.beta)
        l12 = s.logEvidence
        l13 = EvidenceDerivation.logEvidenceImportanceWeighted(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        l14 = EvidenceDerivation.jensenBound(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        l15 = EvidenceDerivation.boundFromLikelihood(pi, prior: s.prior, likelihood: s.likelihood)
        l16 = EvidenceDerivation.klRegularisedForm(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        l17 = EvidenceDerivation.divergenceForm(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        kl = klDivergence(pi, posterior ?? s.posterior)
        scale = logWeightScale(s, pi)
    }
}

func derivation(_ c: Context) {
    let page = c.page, s = c.setting
    page.section("The derivation, one line at a time")
    page.prose(#"""
        The appendix reaches the evidence lower bound in five steps: sum the joint over $x$ (eq. 11), factor it into
        likelihood and prior (12), multiply and divide by a variational policy $\pi$ (13), move the logarithm inside
        the average with Jensen's inequality (14), and substitute the likelihood (15). Two rewritings follow: the
        KL-regularised objective (16) and a negative divergence from the unnormalised posterior (17). Each line is
        computed separately, the way it is written (tables where it has products, logarithms where it has
        logarithms), and shown with its value for one random policy. The equalities are rearrangements of one sum,
        so they agree to rounding and are shown, not counted as checks. The one inequality is checked: its gap, line
        (13) minus line (14), against $\operatorname{KL}(\pi, \pi^*)$ computed from the normalised posterior of eq.
        5, for 100 random full-support policies and two near the posterior.
        """#)
    page.equation(#"\log p(O = 1) = \log \sum_x p(O = 1, x) = \log \sum_x p(O = 1 \mid x) \pi_0(x) "#
                  + #"= \log \sum_x \pi(x) \frac{p(O = 1 \mid x) \pi_0(x)}{\pi(x)}"#, number: "11-13")
    page.equation(#"\ge \sum_x \pi(x) \log \frac{p(O = 1 \mid x) \pi_0(x)}{\pi(x)} "#
                  + #"= \mathbb{E}_{x \sim \pi} \left[ \log \frac{\exp(r(x)/\beta) \pi_0(x)}{\pi(x)} \right]"#,
                  number: "14-15")
    page.equation(#"= \frac{1}{\beta} \mathbb{E}_{x \sim \pi} [r(x)] - \operatorname{KL}(\pi, \pi_0) "#
                  + #"= -\mathbb{E}_{x \sim \pi} \left[ \log \frac{\pi(x)}{\pi_0(x) \exp(r(x)/\beta)} \right] "#
                  + #"= \log Z - \operatorname{KL}(\pi, \pi^*)"#, number: "16-17")
    let rng = c.seeds.generator("derivation")
    var pis = policies(rng, n: s.n, count: 100)
    // Two policies close to the posterior, where Jensen's gap is nearly closed.
    pis += nearPosterior(s, pis[0], [1e-2, 1e-4])
    let values = pis.map { DerivationValues(s, $0) }
    let v = values[0]
    page.derivation([
        DerivationLine(#"\log \sum_x p(O = 1, x)"#, v.l11, note: "(11): the joint table, summed"),
        DerivationLine(#"= \log \sum_x p(O = 1 \mid x) \pi_0(x)"#, v.l12, note: "(12): log-sum-exp of r/β + log π0"),
        DerivationLine(#"= \log \sum_x \pi_1(x) \frac{p(O = 1 \mid x) \pi_0(x)}{\pi_1(x)}"#, v.l13,
                       note: "(13): importance weights under π1"),
        DerivationLine(#"\ge \sum_x \pi_1(x) \log \frac{p(O = 1 \mid x) \pi_0(x)}{\pi_1(x)}"#, v.l14,
                       note: "(14): Jensen; the gap is checked below"),
        DerivationLine(#"= \mathbb{E}_{\pi_1} \left[ \log \frac{\exp(r(x)/\beta) \pi_0(x)}{\pi_1(x)} \right]"#, v.l15,
                       note: "(15): the likelihood table substituted"),
        DerivationLine(#"= \frac{1}{\beta} \mathbb{E}_{\pi_1}[r] - \operatorname{KL}(\pi_1, \pi_0)"#, v.l16,
                       note: "(16): $J_{KLRL}$/β"),
        DerivationLine(#"= -\mathbb{E}_{\pi_1} \left[ \log \frac{\pi_1(x)}{\pi_0(x) \exp(r(x)/\beta)} \right]"#, v.l17,
                       note: "(17): divergence from the unnormalised posterior"),
        DerivationLine(#"= \log Z - \operatorname{KL}(\pi_1, \pi^*)"#, v.l12 - v.kl,
                       note: "KL from the normalised posterior"),
    ], caption: "The appendix's derivation evaluated for the first random policy π1: every equality holds to "
        + "rounding.")
    page.check(jensenGapIsDivergence(s, values))
    let f = { (x: Double) in NumberFormat.format(x) }
    page.table(headers: ["policy", "(13) log-evidence", "(14) Jensen", "(15) likelihood", #"(16) $J_{KLRL}/\beta$"#,
                         "(17) divergence form", #"$\operatorname{KL}(\pi, \pi^*)$"#,
                         #"$\log Z - \operatorname{KL}(\pi, \pi^*)$"#],
               rows: values.prefix(4).enumerated().map { k, v in
                   ["π\(k + 1)", f(v.l13), f(v.l14), f(v.l15), f(v.l16), f(v.l17), f(v.kl), f(v.l12 - v.kl)]
               },
               caption: #"""
                   Each line of the derivation for four of the policies. (13) equals
                   $\log p(O = 1) = \#(f(s.logEvidence))$ (lines (11) and (12) above); (14) through (17) fall short
                   of it by $\operatorname{KL}(\pi, \pi^*)$, the last column but one.
                   """#)
    page.aside(#"""
        Eq. 16: the paper writes the bound as $\mathbb{E}_\pi[r(x)] - \operatorname{KL}(\pi_\theta, a)$; the second
        argument is the prior $\pi_0$, as eqs. 15 and 17 and the objective of eq. 3 require. Line (16) of this
        page's derivation uses $\pi_0$.
        """#, kind: .erratum)
    page.aside(#"""
        §5: the paper defines $b(x) = 1$ if $x$ contains a curse word and 0 otherwise, and then says
        $\pi^* \propto \pi_0 b$ gives cursing sequences probability zero. For that, $b(x)$ must be 1 when $x$ does
        not contain a curse word. (Chapter 6 works with the corrected $b$.)
        """#, kind: .erratum)
}

/// Eqs. 13-14: the Jensen gap (13) − (14) is KL(π ‖ π*), for every policy; the KL is computed
/// from the normalised posterior, independently of the importance weights.
func jensenGapIsDivergence(_ s: Setting, _ values: [DerivationValues]) -> Check {
    var w = WorstCase(.equal)
    for (k, v) in values.enumerated() {
        // Lines 13 and 14 and the KL: three n-term sums of terms up to the log-weight scale.
        let tolerance = 2 * (2 * summationTolerance(s.n, scale: v.scale)
                             + 4 * Double.ulpOfOne * Swift.abs(s.logEvidence))
        w.add(v.l13 - v.l14, v.kl, tolerance: tolerance, at: "π\(k + 1)")
    }
    return w.check(id: "derivation.jensen-gap",
                   claim: #"Jensen's gap, line (13) minus line (14), is $\operatorname{KL}(\pi, \pi^*)$ "#
                       + "for all \(values.count) policies",
                   reference: "eqs. 13-14", aLabel: "(13) − (14)",
                   bLabel: #"$\operatorname{KL}(\pi, \pi^*)$ from eq. 5"#,
                   because: "three n-term sums of terms up to |r|/β + |log π0| + |log π|: 2(n+2)ε times that, "
                       + "twice, plus a few ε of |log Z|")
}

// MARK: - The bound over many policies

func bound(_ c: Context) {
    let page = c.page, s = c.setting
    page.section("The evidence lower bound, tight only at the posterior")
    page.prose(#"""
        Every policy gives a lower bound on the log-evidence, and the shortfall is its divergence from the
        posterior. Maximising the KL-regularised objective is therefore variational inference: it pushes the bound
        up by pulling $\pi$ towards $p(\cdot \mid O = 1)$, and the bound touches $\log p(O = 1)$ at the posterior
        and nowhere else. We evaluate the bound with the library's single-sum ELBO for random policies and for
        mixtures ever closer to the posterior, against $\log p(O = 1)$ by log-sum-exp.
        """#)
    page.equation(#"\operatorname{ELBO}(\pi) = \frac{J_{KLRL}(\pi)}{\beta} = \log p(O = 1) - "#
                  + #"\operatorname{KL}(\pi, p(\cdot \mid O = 1)) \le \log p(O = 1)"#, number: "14")
    let rng = c.seeds.generator("bound")
    var pis = policies(rng, n: s.n, count: c.quick ? 100 : 300)
    page.record("random_smallest_gap", pis.map { s.logEvidence - s.elbo($0) }.min()!)
    page.record("elbo_at_posterior", s.elbo(s.posterior))
    pis += nearPosterior(s, pis[0], [0.5, 0.1, 0.01, 1e-3])
    page.check(elboBelowEvidence(s, pis, logEvidence: s.logEvidence))
    page.check(tightAtPosterior(s, s.posterior, logEvidence: s.logEvidence))
    let kls = pis.map { klDivergence($0, s.posterior) }, elbos = pis.map { s.elbo($0) }
    let maxKL = kls.max()!
    page.plot(LinePlot(title: "The ELBO of many policies against the log-evidence",
                       description: "Each policy's ELBO lies on the line log p(O=1) minus its KL from the posterior.",
                       xLabel: "KL(π ‖ p(·|O=1)) in nats", yLabel: "ELBO(π) in nats",
                       series: [Series("policies", x: kls, y: elbos, style: .points),
                                Series("log p(O=1) − KL", x: [0, maxKL], y: [s.logEvidence, s.logEvidence - maxKL],
                                       style: .dashed)],
                       references: [ReferenceLine(.horizontal, at: s.logEvidence, label: "log p(O = 1)")]),
              caption: #"""
                  No policy's bound exceeds the log-evidence (horizontal line); each falls short by exactly its
                  divergence from the posterior (dashed line), and only the posterior, at KL = 0, attains it.
                  """#, label: "elbo")
}

/// The rounding allowance of a single-sum ELBO against log Z.
func elboTolerance(_ s: Setting, _ pi: Distribution, logEvidence: Double) -> Double {
    summationTolerance(s.n, scale: logWeightScale(s, pi)) + 4 * Double.ulpOfOne * Swift.abs(logEvidence)
}

/// Eq. 14: ELBO(π) ≤ log p(O = 1) for every policy given, against the log-evidence given.
func elboBelowEvidence(_ s: Setting, _ policies: [Distribution], logEvidence: Double) -> Check {
    var w = WorstCase(.lessOrEqual)
    for (k, pi) in policies.enumerated() {
        w.add(s.elbo(pi), logEvidence, tolerance: elboTolerance(s, pi, logEvidence: logEvidence), at: "policy \(k + 1)")
    }
    return w.check(id: "bound.elbo-below-evidence",
                   claim: #"$\operatorname{ELBO}(\pi) \le \log p(O = 1)$ for \#(policies.count) policies, "#
                       + "including mixtures within $10^{-3}$ of the posterior",
                   reference: "eq. 14", aLabel: #"$\operatorname{ELBO}(\pi)$"#, bLabel: #"$\log p(O = 1)$"#,
                   because: "an n-term sum of terms up to |r|/β + |log π0| + |log π|: (n+2)ε times that")
}

/// Eqs. 14, 17: at the posterior given, ELBO(π*) = log p(O = 1).
func tightAtPosterior(_ s: Setting, _ posterior: Distribution, logEvidence: Double) -> Check {
    Check(id: "bound.tight-at-posterior",
          claim: #"At the posterior the bound is tight: $\operatorname{ELBO}(\pi^*) = \log p(O = 1)$"#,
          reference: "eqs. 14, 17", aLabel: #"$\operatorname{ELBO}(\pi^*)$"#, bLabel: #"$\log p(O = 1)$"#,
          a: s.elbo(posterior), b: logEvidence, tolerance: elboTolerance(s, posterior, logEvidence: logEvidence),
          because: "an n-term sum of terms up to |r|/β + |log π0| + |log π*|: (n+2)ε times that")
}

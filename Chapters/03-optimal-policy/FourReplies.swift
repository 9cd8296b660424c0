// A worked example a reader can picture: four replies to one request, before the large spaces.
// The opening findings of the page are here too.
import BookKit
import Foundation
import Finite
import Notebook

func fourReplies(_ c: Context) {
    let page = c.page
    let names = WorkedExample.outcomes, prior = WorkedExample.prior, u = WorkedExample.acceptability
    page.section("A worked example: four replies")
    let posteriors = WorkedExample.betas.map { WorkedExample.problem(beta: $0).posterior }
    let f = { (x: Double) in NumberFormat.format(x, significant: 4) }
    let hot = posteriors.last!, cold = posteriors.first!
    let hotWeights = u.map { pow($0, 1 / WorkedExample.betas.last!) }
    page.prose(#"""
        A language model answers one request in one of four ways: helpfully, by hedging, by refusing, or rudely. The
        base model is the prior $\pi_0$; it mostly hedges. The reward is the log of the chance $u(x)$ that a reader
        accepts the reply, $r(x) = \log u(x)$. Eq. 5 reweights each reply by $e^{r(x)/\beta} = u(x)^{1/\beta}$ and
        renormalises. At $\beta = 4$ the weights $u^{1/4}$ lie between \#(f(hotWeights.min()!)) and
        \#(f(hotWeights.max()!)) and the posterior stays close to the prior (the rude reply falls from
        \#(f(prior.probabilities[3])) to \#(f(hot.probabilities[3]))); at $\beta = 1$ each reply is weighted by its
        acceptance; at $\beta = 1/4$ the weights $u^4$ put \#(f(cold.probabilities[0])) of the mass on the helpful
        reply. The rude reply keeps some mass at every $\beta > 0$ (\#(f(cold.probabilities[3])) at $\beta = 1/4$):
        the posterior rules out nothing that the prior allows.
        """#)
    page.table(headers: ["reply $x$", #"$\pi_0(x)$"#, "$u(x)$", #"$r(x) = \log u(x)$"#]
                   + WorkedExample.betas.map { #"$\pi^*(x)$, $\beta = \#(NumberFormat.format($0))$"# },
               rows: names.indices.map { x in
                   [names[x], f(prior.probabilities[x]), f(u[x]), f(log(u[x]))]
                       + posteriors.map { f($0.probabilities[x]) }
               },
               caption: "The prior, the reward and the posterior of eq. 5 at three temperatures.")
    page.plot(BarChart(title: "Four replies: the prior and the posterior at three temperatures",
                       description: "Probabilities of the four replies under the prior and under the posterior at "
                           + "beta = 4, 1 and 1/4.",
                       categories: names, xLabel: "reply", yLabel: "probability",
                       series: [(name: "prior π0", values: prior.probabilities)]
                           + zip(WorkedExample.betas, posteriors).reversed().map { beta, post in
                               (name: "π* at β = \(NumberFormat.format(beta))", values: post.probabilities)
                           }),
              caption: #"""
                  The hotter the posterior, the closer to the prior; the colder, the more of it on the helpful
                  reply.
                  """#, label: "four-replies")
    page.record("four_helpful_prior", prior.probabilities[0])
    page.record("four_helpful_cold", cold.probabilities[0])
    page.record("four_rude_cold", cold.probabilities[3])
    let s = Setting(WorkedExample.problem(beta: 1))
    let weights = (0..<4).map { prior.probabilities[$0] * exp(s.reward[$0]) }
    let z = weights.reduce(0, +)
    let expected = s.posterior.expectation(s.reward), kl = klDivergence(s.posterior, prior)
    let show = { (x: Double) in NumberFormat.format(x) }
    let products = (0..<4).map { #"\#(show(prior.probabilities[$0])) \cdot \#(show(u[$0]))"# }.joined(separator: " + ")
    page.derivation([
        DerivationLine(#"Z = \sum_x \pi_0(x) e^{r(x)}"#, z, note: "β = 1"),
        DerivationLine("= " + products, z, note: "the four terms"),
        DerivationLine(#"\pi^*(\text{helpful}) = \#(show(prior.probabilities[0])) \cdot \#(show(u[0])) / Z"#,
                       s.posterior.probabilities[0], note: "eq. 5"),
        DerivationLine(#"\mathbb{E}_{\pi^*}[r]"#, expected, note: "the expected reward of the posterior"),
        DerivationLine(#"\operatorname{KL}(\pi^*, \pi_0)"#, kl, note: "what it costs in divergence from the prior"),
        DerivationLine(#"J_{KLRL}(\pi^*) = \mathbb{E}_{\pi^*}[r] - \beta \operatorname{KL}(\pi^*, \pi_0)"#,
                       expected - kl, note: "eq. 3 at the posterior"),
        DerivationLine(#"= \beta \log Z"#, log(z), note: "eq. 6: the value of the posterior"),
    ], caption: "The posterior of the four replies at β = 1 and what it is worth (worked, not checked: the sections "
        + "below check these identities on large random spaces).")
}

// MARK: - What this chapter finds

/// The opening section: the run's headline numbers, as recorded for the JSON, and what they say.
func findings(_ page: Page) {
    let v = page.values
    let t = { (key: String) in Findings.text(page, key) }
    page.section(Findings.title)
    let cold = NumberFormat.format(WorkedExample.betas.first!)
    let value = Findings.held(page, ["posterior.value"])
        ? #"""
            is worth $\mathbb{E}_{\pi^*}[r] - \beta \operatorname{KL}(\pi^*, \pi_0) = \#
            \#(t("objective_at_posterior"))$, which is $\beta \log Z = \#(t("beta_log_z"))$ to rounding
            """#
        : #"""
            is worth \#(t("objective_at_posterior")), which does not match $\beta \log Z = \#
            \#(t("beta_log_z"))$ on this run
            """#
    let shortfall = v["random_smallest_shortfall"]!
    let bound = shortfall > 0
        ? #"the closest of 300 random policies falls short of it by \#(t("random_smallest_shortfall"))"#
        : #"one of 300 random policies reaches it within \#(t("random_smallest_shortfall"))"#
    let optimiser = Findings.held(page, ["optimiser.tv"])
        ? #"""
            GSL's BFGS minimiser, which knows nothing of eq. 5, stops within total variation \#
            \#(t("optimiser_tv_worst")) of the posterior on the first \#(t("optimiser_outcomes")) outcomes
            """#
        : #"""
            GSL's BFGS minimiser stops at total variation \#(t("optimiser_tv_worst")) from the posterior on \#
            the first \#(t("optimiser_outcomes")) outcomes, too far to count as finding it (its check \#
            fails)
            """#
    page.prose(#"""
        On four replies to one request, the posterior of eq. 5 at $\beta = \#(cold)$ moves the helpful reply from \#
        the prior's \#(t("four_helpful_prior")) to \#(t("four_helpful_cold")) and keeps \#(t("four_rude_cold")) on \#
        the rude one: it rules out nothing the prior allows (@fig:four-replies). On \#(t("outcomes")) random \#
        outcomes at $\beta = \#(t("beta"))$ the posterior \#(value); \#(bound), and \#(optimiser) \#
        (@tbl:findings).
        """#)
    Findings.table(page, [
        Findings.Row(#"four replies: $\pi_0(\text{helpful})$"#, "four_helpful_prior"),
        Findings.Row(#"four replies: $\pi^*(\text{helpful})$ at $\beta = \#(cold)$"#, "four_helpful_cold"),
        Findings.Row(#"four replies: $\pi^*(\text{rude})$ at $\beta = \#(cold)$"#, "four_rude_cold"),
        Findings.Row("random space: outcomes $|X|$", "outcomes"),
        Findings.Row(#"temperature $\beta$"#, "beta"),
        Findings.Row(#"$J_{KLRL}(\pi^*)$"#, "objective_at_posterior"),
        Findings.Row(#"$\beta \log Z$"#, "beta_log_z"),
        Findings.Row(#"smallest shortfall $\beta \log Z - J_{KLRL}(\pi)$ of 300 random policies"#,
                     "random_smallest_shortfall"),
        Findings.Row(#"BFGS answer: largest $\mathrm{TV}(\pi, \pi^*)$ over its starts"#, "optimiser_tv_worst"),
    ], caption: "The run's headline numbers, as recorded in the JSON twin")
}

// A worked example a reader can picture: four replies to one request, before the large spaces.
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
                  """#)
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

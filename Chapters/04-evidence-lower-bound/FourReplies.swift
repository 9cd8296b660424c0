// A worked example a reader can picture: four replies to one request, at the appendix's β = 1.
import BookKit
import Foundation
import Finite
import Notebook

func fourReplies(_ c: Context) {
    let page = c.page
    let names = WorkedExample.outcomes, u = WorkedExample.acceptability
    let s = Setting(WorkedExample.problem(beta: 1))
    let prior = s.prior, pi = Distribution.uniform(4)
    page.section("A worked example: four replies")
    page.prose(#"""
        A language model answers one request helpfully, by hedging, by refusing, or rudely, with the base model's
        probabilities as the prior $\pi_0$. Let $O = 1$ mean that a reader accepts the reply, with chance $u(x)$;
        with the reward $r(x) = \log u(x)$ and the appendix's $\beta = 1$ this is eq. 8,
        $p(O = 1 \mid x) = e^{r(x)}$. The joint table multiplies the two; the evidence $p(O = 1)$ is the chance that
        the base model's reply is accepted, and Bayes' rule (eq. 9) divides the joint by it. The derivation of eqs.
        11-17 is then evaluated for a policy that picks each reply with probability 1/4: it falls short of
        $\log p(O = 1)$ by exactly its divergence from the posterior. This example is fixed, whatever --beta the
        rest of the page uses.
        """#)
    let joint = (0..<4).map { prior.probabilities[$0] * u[$0] }
    let evidence = joint.reduce(0, +)
    let f = { (x: Double) in NumberFormat.format(x, significant: 4) }
    page.table(headers: ["reply $x$", #"$\pi_0(x)$"#, #"$p(O = 1 \mid x)$"#, #"$p(O = 1, x)$"#, #"$p(x \mid O = 1)$"#,
                         #"$\pi(x)$"#],
               rows: names.indices.map { x in
                   [names[x], f(prior.probabilities[x]), f(u[x]), f(joint[x]), f(joint[x] / evidence),
                    f(pi.probabilities[x])]
               },
               caption: #"""
                   The model of eqs. 8-9 for the four replies: the evidence is the sum of the joint column,
                   \#(f(evidence)), and the posterior is the joint divided by it. The last column is the variational
                   policy of the lines below.
                   """#)
    let v = DerivationValues(s, pi)
    page.derivation([
        DerivationLine(#"p(O = 1) = \sum_x p(O = 1, x) = "#
                           + joint.map { NumberFormat.format($0) }.joined(separator: " + "),
                       evidence, note: "(11): the evidence"),
        DerivationLine(#"\log p(O = 1) = \log \sum_x p(O = 1 \mid x) \pi_0(x)"#, v.l12, note: "(12)"),
        DerivationLine(#"= \log \sum_x \pi(x) \frac{p(O = 1 \mid x) \pi_0(x)}{\pi(x)}"#, v.l13,
                       note: "(13), π uniform"),
        DerivationLine(#"\ge \sum_x \pi(x) \log \frac{p(O = 1 \mid x) \pi_0(x)}{\pi(x)}"#, v.l14, note: "(14): Jensen"),
        DerivationLine(#"= \mathbb{E}_\pi[r] - \operatorname{KL}(\pi, \pi_0)"#, v.l16,
                       note: "(16): $J_{KLRL}$ at $\\beta = 1$"),
        DerivationLine(#"\operatorname{KL}(\pi, p(\cdot \mid O = 1))"#, v.kl, note: "the gap between (13) and (14)"),
        DerivationLine(#"\log p(O = 1) - \operatorname{KL}(\pi, p(\cdot \mid O = 1))"#, v.l12 - v.kl, note: "(17)"),
    ], caption: "The appendix's derivation on the four replies, for the uniform policy (worked, not checked: the "
        + "sections below check it on a large random space).")
}

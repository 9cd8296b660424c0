import Notebook
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What exact mode writes: the JSON results and the notebook page.
public enum ExactReport {
    public static func json(_ d: ExactDiagnosis, checks: [Check], file: String) -> String {
        var j = JSONText()
        j.beginObject()
        j.string("mode", "table")
        j.string("file", file)
        j.integer("rows", d.rows)
        j.number("beta", d.beta)
        j.number("prior_log_normaliser", d.priorLogNormaliser)
        j.number("log_partition", d.logPartition)
        j.number("kl_posterior_prior", d.klPosteriorPrior)
        j.number("expected_reward_posterior", d.expectedRewardPosterior)
        if let m = d.policy {
            j.number("policy_log_normaliser", m.logNormaliser)
            j.number("objective", m.objective)
            j.number("expected_reward", m.expectedReward)
            j.number("kl_policy_prior", m.klPolicyPrior)
            j.number("kl_policy_posterior", m.klPolicyPosterior)
            j.number("elbo", m.elbo)
        }
        checksJSON(&j, checks)
        j.numbers("posterior", d.posterior)
        j.endObject()
        return j.finished
    }

    static func checksJSON(_ j: inout JSONText, _ checks: [Check]) {
        j.integer("checks_passed", checks.filter(\.passed).count)
        j.integer("checks_failed", checks.filter { !$0.passed }.count)
        j.strings("checks_failing", checks.filter { !$0.passed }.map(\.claim))
    }

    /// The notebook page. Plots and the row table are limited to a few hundred points/rows.
    public static func page(_ d: ExactDiagnosis, table t: ExactTable, checks: [Check], file: String) -> Page {
        let page = Page(slug: "diagnose-table", number: 0, title: "Your policy against its posterior",
                        summary: "Exact diagnosis of \(file): the posterior π* = π0 exp(r/β) / Z of your prior and reward, and how far your policy is from it.")
        page.section("Your table")
        page.prose("Each row of the table is one outcome $x$ with its prior log-probability, its reward and, if given, the log-probability your policy gives it. The prior was normalised: the given probabilities summed to \(fmt(exp(d.priorLogNormaliser))) (log-sum-exp \(fmt(d.priorLogNormaliser))).")
        var params: [(String, String)] = [("file", file), ("rows $|X|$", "\(d.rows)"), ("$\\beta$", NumberFormat.format(d.beta)),
                                          ("log Σ exp(log_prior) as given", NumberFormat.format(d.priorLogNormaliser))]
        if let m = d.policy { params.append(("log Σ exp(log_policy) as given", NumberFormat.format(m.logNormaliser))) }
        page.parameters(params)

        page.section("The posterior")
        page.prose("A KL penalty of strength $\\beta$ makes the best policy the prior reweighted by $e^{r/\\beta}$ and renormalised: a Bayesian posterior whose evidence is the exponentiated reward.")
        page.equation("\\pi^*(x) = \\frac{1}{Z} \\pi_0(x) e^{r(x)/\\beta}, \\qquad \\log Z = \\log \\sum_{x} \\pi_0(x) e^{r(x)/\\beta}", number: "5")
        var rows: [[String]] = [["log Z", NumberFormat.format(d.logPartition, significant: 10)],
                                ["KL(π* ‖ π0)", NumberFormat.format(d.klPosteriorPrior, significant: 10)],
                                ["E_π*[r]", NumberFormat.format(d.expectedRewardPosterior, significant: 10)],
                                ["J_KLRL(π*) = β log Z", NumberFormat.format(d.beta * d.logPartition, significant: 10)]]
        if let m = d.policy {
            page.section("Your policy against the posterior")
            page.prose("The KL-penalised objective of your policy equals $\\beta$ times its evidence lower bound, and the bound falls short of $\\log Z$ by exactly the KL divergence from your policy to the posterior. So $\\mathrm{KL}(\\pi \\| \\pi^*)$ is the distance the penalised training is really minimising; the KL to the prior that trainers log is a different quantity.")
            page.equation("J_{KLRL}(\\pi) = \\mathbb{E}_{\\pi}[r] - \\beta \\, \\mathrm{KL}(\\pi \\| \\pi_0) = \\beta \\left( \\log Z - \\mathrm{KL}(\\pi \\| \\pi^*) \\right)", number: "7")
            rows += [["J_KLRL(π)", NumberFormat.format(m.objective, significant: 10)],
                     ["E_π[r]", NumberFormat.format(m.expectedReward, significant: 10)],
                     ["KL(π ‖ π0)", NumberFormat.format(m.klPolicyPrior, significant: 10)],
                     ["KL(π ‖ π*)", NumberFormat.format(m.klPolicyPosterior, significant: 10)],
                     ["ELBO(π)", NumberFormat.format(m.elbo, significant: 10)]]
        }
        page.table(headers: ["quantity", "value"], rows: rows, caption: "Results (also in the JSON output)")
        page.prose("The identities below are checked on your numbers; a failure means the numbers are too extreme for double precision (or the tool has a bug) and the results above should not be trusted.")
        for c in checks { page.check(c) }
        distributionPlot(page, d, t)
        if let m = d.policy { pathPlot(page, d, t, m) }
        rowTable(page, d, t)
        return page
    }

    static func fmt(_ x: Double) -> String { NumberFormat.format(x, significant: 6) }

    /// Probabilities of the rows sorted by posterior mass (at most 400 points).
    static func distributionPlot(_ page: Page, _ d: ExactDiagnosis, _ t: ExactTable) {
        let order = ExactDiagnosis.topIndices(d.posterior, 400)
        let xs = order.indices.map { Double($0 + 1) }
        var series = [Series("posterior π*", x: xs, y: order.map { d.posterior[$0] }, style: .lineAndPoints),
                      Series("prior π0", x: xs, y: order.map { exp(d.logPrior[$0]) }, style: .points)]
        if let m = d.policy { series.append(Series("your policy π", x: xs, y: order.map { exp(m.logPolicy[$0]) }, style: .points)) }
        page.plot(LinePlot(title: "Prior, posterior and policy", description: "Probabilities of the outcomes ordered by posterior mass.",
                           xLabel: "outcome rank by posterior mass", yLabel: "probability", yScale: .log10, series: series),
                  caption: "Outcomes ordered by posterior probability (the \(order.count) most probable shown); zero probabilities are not drawn on the log scale.")
    }

    /// KL(π ‖ π*_β') and KL(π*_β' ‖ π0) along the posterior path β' ∈ [β/100, 100β].
    static func pathPlot(_ page: Page, _ d: ExactDiagnosis, _ t: ExactTable, _ m: ExactDiagnosis.PolicyMeasures) {
        let grid = (0...16).map { d.beta * pow(10, -2 + Double($0) / 4) }
        var toPolicy: [Double] = [], toPrior: [Double] = []
        for b in grid {
            let p = ExactDiagnosis.pathPoint(logPrior: d.logPrior, reward: t.reward, logPolicy: m.logPolicy, beta: b)
            toPolicy.append(p.klPolicyPosterior!); toPrior.append(p.klPosteriorPrior)
        }
        let best = toPolicy.indices.min { toPolicy[$0] < toPolicy[$1] }!
        page.section("Where your policy sits on the posterior path")
        page.prose("Each temperature $\\beta'$ has its own posterior. The temperature whose posterior is closest to your policy is an effective $\\beta$: here $\\beta' \\approx \(fmt(grid[best]))$ (grid of 17 values, a quarter-decade apart), against the $\\beta = \(fmt(d.beta))$ you gave.")
        page.record("effective_beta", grid[best])
        page.plot(LinePlot(title: "Distance from your policy to the posterior path", description: "KL from the policy to the posterior at each temperature, and KL from that posterior to the prior.",
                           xLabel: "β′", yLabel: "nats", xScale: .log10,
                           series: [Series("KL(π ‖ π*_β′)", x: grid, y: toPolicy), Series("KL(π*_β′ ‖ π0)", x: grid, y: toPrior, style: .dashed)],
                           references: [ReferenceLine(.vertical, at: d.beta, label: "your β")], yIncludesZero: true),
                  caption: "The minimum of the solid curve marks the posterior your policy resembles most.")
    }

    static func rowTable(_ page: Page, _ d: ExactDiagnosis, _ t: ExactTable) {
        let shown = d.rows <= 50 ? Array(0..<d.rows) : ExactDiagnosis.topIndices(d.posterior, 20)
        var headers = ["line", "label", "reward", "prior π0", "posterior π*"]
        if d.policy != nil { headers.append("policy π") }
        let rows = shown.map { x -> [String] in
            var r = ["\(t.lines[x])", t.labels?[x] ?? "", NumberFormat.format(t.reward[x]), NumberFormat.format(exp(d.logPrior[x])), NumberFormat.format(d.posterior[x])]
            if let m = d.policy { r.append(NumberFormat.format(exp(m.logPolicy[x]))) }
            return r
        }
        page.table(headers: headers, rows: rows, caption: d.rows <= 50 ? "Every row" : "The 20 rows with the most posterior mass")
    }
}

import BookKit
import FineTune
import Foundation
import GSL
import Notebook

/// The report: one overview, one section a method (found by the method, never by position),
/// then the sections that compare them all.
extension Study {
    func report(_ r: Results) {
        overview(r)
        for method in methods {
            switch method {
            case .reinforce: reinforceSection(r)
            case .klReinforce(let b): klSection(r, beta: b)
            case .dpg: dpgSection(r)
            }
        }
        squareRootSection(r)
        frontierSection(r)
        tableSection(r)
    }

    func filteringSection(acceptance: Double, zb: Double) {
        let n = Double(priorSamples)
        page.section("Filtering: rejection sampling is the exact sampler of $\\pi^*_b$")
        page.prose(#"""
            Draw from the prior and keep what satisfies the constraint: the kept texts are exact samples of
            $\pi^*_b$, and the fraction kept estimates $Z_b$. It is the same estimator as $\hat{Z}_b$ above, on an
            independent sample of \#(priorSamples) prior texts, so the two are shown side by side rather than
            checked against each other.
            """#)
        page.derivation([
            DerivationLine(#"\hat{Z}_b = \frac{1}{n} \sum_i b(x_i), \quad x_i \sim \pi_0"#, zb,
                           note: "standard error \(fmt((zb * (1 - zb) / n).squareRoot()))"),
            DerivationLine(#"\text{acceptance rate of filtering}"#, acceptance,
                           note: "an independent sample; standard error "
                               + fmt((acceptance * (1 - acceptance) / n).squareRoot())),
        ], caption: "Two estimates of $Z_b$ from independent samples of the prior")
    }

    func overview(_ r: Results) {
        page.section("Training: what each method does to the prior")
        page.prose(#"""
            Every method starts from the prior and sees the same number of samples (\#(settings.steps) steps of
            \#(settings.batchSize)). Plain REINFORCE maximises $\mathbb{E}[r]$ alone; KL-regularised REINFORCE
            maximises the shaped reward of eq. 4; DPG minimises the forward divergence
            $\mathrm{KL}(\pi^*_b \| \pi_\theta)$ with importance weights $\pi^*_b(x)/\pi_\theta(x)$. Each point
            below is measured on \#(evalSamples) fresh samples.
            """#)
        func series(_ value: (PolicyMeasurement) -> Double) -> [Series] {
            methods.map { m in Series("\(m)", x: r[m].steps, y: r[m].measurements.map(value), style: .lineAndPoints) }
        }
        page.plot(LinePlot(title: "Reward along training", description: "Mean reward of fresh samples for each method.",
                           xLabel: "fine-tuning step", yLabel: "E[r] (occurrences of the word)",
                           series: series(\.reward.value),
                           references: [ReferenceLine(.horizontal, at: r.estimates.reward.value, label: "prior")],
                           yIncludesZero: true),
                  caption: "Expected reward along training. Plain RL climbs fastest; the KL penalty holds the others "
                      + "back.")
        page.plot(LinePlot(title: "Entropy along training",
                           description: "Next-token entropy per token of fresh samples.",
                           xLabel: "fine-tuning step", yLabel: "entropy (nats per token)",
                           series: series(\.entropyPerToken),
                           yIncludesZero: true),
                  caption: "Entropy per token. Collapse shows as a fall toward 0.")
        page.plot(LinePlot(title: "KL to the prior along training",
                           description: #"Exact stepwise $\mathrm{KL}(\pi_\theta \| \pi_0)$ summed along fresh samples."#,
                           xLabel: "fine-tuning step", yLabel: #"$\mathrm{KL}(\pi_\theta \| \pi_0)$ (nats)"#,
                           series: series(\.klStepwise.value),
                           yIncludesZero: true),
                  caption: "KL from the prior, summed exactly over next-token distributions along each sample and "
                      + "averaged over samples.", label: "kl-along-training")
    }

    func reinforceSection(_ r: Results) {
        let rl = r[.reinforce]
        let end = rl.measurements.last!, mid = rl.measurements[rl.measurements.count / 2]
        page.section("Plain RL collapses")
        page.prose(#"""
            Collapse is judged against the prior's own measurements, on \#(evalSamples) fresh samples of each, with
            standard errors: the entropy per token must fall below half the prior's, and the diversity of the
            samples below the prior's, each by more than 5.3 standard errors. Plain RL's KL from the prior, shown
            in @fig:kl-along-training, ends at \#(fmt(end.klStepwise.value)) nats (standard error
            \#(fmt(end.klStepwise.standardError))), against \#(fmt(-r.estimates.logConstraintPartition.value)) nats
            for the constrained posterior $\pi^*_b$, which already satisfies the constraint everywhere.
            """#)
        page.check(Checks.entropyCollapses(id: "rl.entropy-halved", policy: end.entropy, prior: r.prior.entropy))
        page.check(Checks.diversityFalls(id: "rl.diversity-falls", policyTexts: end.texts, priorTexts: r.prior.texts,
                                         rng: seeds.generator("rl-diversity-bootstrap")))
        page.record("rl_kl_mid", mid.klStepwise.value)
        page.record("rl_kl_end", end.klStepwise.value)
    }

    func klSection(_ r: Results, beta b: Double) {
        let method = Method.klReinforce(beta: b)
        let curve = r[method]
        let name = checkName(method)
        let logZ = logPartition(beta: b, r.estimates)
        page.section("KL-regularised RL at β = \(fmt(b))")
        page.prose(#"""
            For KL-regularised RL the objective divided by $\beta$ is an evidence lower bound: it can never exceed
            $\log Z(\beta)$, and the gap is $\mathrm{KL}(\pi_\theta \| \pi^*_\beta)$ (eqs. 7 and 14). At scale both
            sides are estimates: the bound from the policy's samples, $\log Z$ from the prior's.
            """#)
        page.equation(#"""
            \frac{J_{\mathrm{KLRL}}(\theta)}{\beta} = \log Z(\beta) - \mathrm{KL}(\pi_\theta \| \pi^*_\beta)
            \le \log Z(\beta)
            """#, number: "7")
        let first = curve.measurements.first!.elbo, last = curve.measurements.last!.elbo
        let startKL = logZ.value - first.value, endKL = logZ.value - last.value
        let change = endKL - startKL
        let changeSE = (pow(first.standardError, 2) + pow(last.standardError, 2)).squareRoot()
        let direction: String
        if abs(change) <= 2 * changeSE {
            direction = "does not move measurably (the change, \(fmt(change)) nats, is within two of its standard "
                + "errors)"
        } else if change < 0 {
            direction = "falls by \(fmt(-change)) nats (\(fmt(-change / changeSE)) standard errors)"
        } else {
            direction = "rises by \(fmt(change)) nats (\(fmt(change / changeSE)) standard errors): training moves away "
                + "from $\\pi^*_\\beta$"
        }
        let worstGap = curve.measurements.map { $0.elbo.value - logZ.value }.max()!
        let ess = r.estimates.posteriorPath([b])[0].effectiveSampleSize
        let noise = z * (pow(last.standardError, 2) + pow(logZ.standardError, 2)).squareRoot()
        page.prose(#"""
            The estimated distance $\mathrm{KL}(\pi_\theta \| \pi^*_\beta) = \log \hat{Z} - \widehat{\mathrm{ELBO}}$ is
            \#(fmt(startKL)) nats at the prior and \#(fmt(endKL)) after training: it \#(direction). The standard
            errors of the two ELBO means are \#(fmt(first.standardError)) and \#(fmt(last.standardError)); the error of
            $\log \hat{Z}$ (bootstrap standard error \#(fmt(logZ.standardError))) is common to both, and $\log \hat{Z}$,
            an average of $e^{r/\beta}$ over prior samples, is biased low by the rare texts it never sees: its weights
            have an effective sample size of \#(Int(ess.rounded())) of \#(priorSamples). The
            ELBO stays below $\log \hat{Z}$ at every evaluation (the closest is \#(fmt(-worstGap)) nats below, against
            \#(fmt(noise)) nats for 5.3 standard errors of the two estimates), but this is shown rather than checked:
            the bias of $\log \hat{Z}$ is not in its bootstrap error, so no tolerance computed from these samples
            is known to cover it. The bridge below checks the bound and the move exactly.
            """#)
        page.check(Checks.entropyKept(id: "\(name).entropy-kept", beta: b, policy: curve.measurements.last!.entropy,
                                      prior: r.prior.entropy))
        page.record("kl_to_posterior_start_beta_\(b)", startKL)
        page.record("kl_to_posterior_end_beta_\(b)", endKL)
        let flat = { (y: Double) in Array(repeating: b * y, count: curve.steps.count) }
        page.plot(LinePlot(title: "The evidence bound at β = \(fmt(b))",
                           description: #"$J_{KLRL}$ along training against $\beta \log Z$ estimated from the prior."#,
                           xLabel: "fine-tuning step", yLabel: "nats",
                           series: [Series(#"$J_{KLRL}(\pi_\theta)$"#, x: curve.steps, y: curve.measurements.map(\.objective.value),
                                           style: .lineAndPoints),
                                    Series("β log Ẑ, 95% interval, low", x: curve.steps, y: flat(logZ.low),
                                           style: .dashed),
                                    Series("β log Ẑ, 95% interval, high", x: curve.steps, y: flat(logZ.high),
                                           style: .dashed)],
                           references: [ReferenceLine(.horizontal, at: b * logZ.value, label: "β log Ẑ")]),
                  caption: #"""
                    The objective against $\beta \log \hat{Z}$ (dashed: its bootstrap interval); the distance between
                    them is $\beta\,\mathrm{KL}(\pi_\theta \| \pi^*_\beta)$.
                    """#)
    }

    func dpgSection(_ r: Results) {
        let dpg = r[.dpg]
        page.section("DPG moves toward the constrained posterior")
        page.prose(#"""
            DPG fits the forward divergence, whose value we can estimate on exact posterior samples: the prior texts
            that filtering kept. At the prior it equals $-\log Z_b$. The first check compares the end of training
            with its start on those same samples, the second the rate of texts that satisfy $b$ with the prior's
            rate $Z_b$ (estimated from its \#(priorSamples) samples), each by more than 5.3 standard errors.
            """#)
        page.check(Checks.forwardKLFalls(id: "dpg.forward-kl-falls", start: dpg.forwardTerms.first!,
                                         end: dpg.forwardTerms.last!))
        page.check(Checks.constraintRises(id: "dpg.constraint-rises", prior: r.estimates.constraintRate,
                                          end: dpg.measurements.last!.constraint))
        page.record("dpg_forward_kl_start", dpg.forwardKL.first!)
        page.record("dpg_forward_kl_end", dpg.forwardKL.last!)
    }

    func squareRootSection(_ r: Results) {
        page.section("Reward against √KL")
        page.prose(#"""
            Chapter 8 shows that along the posterior path the reward gain starts like
            $\sigma_0 \sqrt{2\,\mathrm{KL}}$, with $\sigma_0$ the reward's standard deviation under the prior, and
            bends below it as KL grows. @fig:gain-against-root-kl places each run's evaluations beside that first-order law; it is
            shown, not checked: the runs are not on the posterior path (the sections above measure how far from
            it they are), and chapter 8 checks the law exactly.
            """#)
        var series: [Series] = []
        var maxRoot = 0.0
        for method in methods {
            let curve = r[method]
            let xs = curve.measurements.map { max(0, $0.klStepwise.value).squareRoot() }
            maxRoot = max(maxRoot, xs.max() ?? 0)
            let gains = curve.measurements.map { $0.reward.value - r.estimates.reward.value }
            series.append(Series("\(method)", x: xs, y: gains, style: .lineAndPoints))
        }
        let grid = (0...20).map { maxRoot * Double($0) / 20 }
        let slope = r.estimates.rewardStandardDeviation * 2.0.squareRoot()
        series.append(Series(#"$\sigma_0 \sqrt{2 \, \mathrm{KL}}$ (chapter 8)"#, x: grid, y: grid.map { slope * $0 }, style: .dashed))
        page.plot(LinePlot(title: "Reward gain against the square root of KL",
                           description: "Reward gain over the prior against sqrt(KL) for every method, with the "
                               + "small-KL prediction.",
                           xLabel: #"$\sqrt{\mathrm{KL}(\pi_\theta \| \pi_0)}$"#, yLabel: #"$\mathbb{E}_{\pi_\theta}[r] - \mathbb{E}_{\pi_0}[r]$"#, series: series, yIncludesZero: true),
                  caption: "Reward gain against $\\sqrt{\\mathrm{KL}}$. The dashed line is the first-order law of "
                      + "chapter 8.", label: "gain-against-root-kl")
    }

    /// The posterior path over β against each run's (KL to the prior, reward) along training.
    func frontierSection(_ r: Results) {
        let est = r.estimates
        let grid = (0...48).map { 0.05 * pow(200, Double($0) / 48) }   // β from 0.05 to 10
        let path = est.posteriorPath(grid)
        let marks = est.posteriorPath(betas)
        // π*_b, the path's β → 0 end: KL = −log Z_b, reward E_π0[r | b = 1].
        let satisfying = est.rewards.filter { $0 > 0 }
        let constrainedReward = satisfying.reduce(0, +) / Double(max(1, satisfying.count))
        let regularised = methods.filter { $0 != .reinforce }
        let reach = regularised.flatMap { r[$0].measurements.map(\.klStepwise.value) }.max() ?? 1
        let limit = 1.5 * max(reach, -est.logConstraintPartition.value)
        let shown = path.filter { $0.kl <= limit }
        page.section("On the frontier: reward against KL")
        let ess = marks.map { "\(Int($0.effectiveSampleSize.rounded())) at β = \(fmt($0.beta))" }
            .joined(separator: " and ")
        page.prose(#"""
            For every policy $\mathbb{E}_\pi[r] - \beta\,\mathrm{KL}(\pi \| \pi_0) \le \beta \log Z(\beta)$, with
            equality only at $\pi^*_\beta$ (eq. 7): no policy as close to the prior as $\pi^*_\beta$ earns more
            reward. The posterior path $\beta \mapsto (\mathrm{KL}(\pi^*_\beta \| \pi_0), \mathbb{E}_{\pi^*_\beta}[r])$
            is therefore the frontier of reward against KL. It is computed here from the prior's
            \#(priorSamples) samples with self-normalised weights $e^{r/\beta}$, whose effective sample size is
            \#(ess): at small $\beta$ the weights rest on the few samples with the most occurrences, so the path
            there is an estimate, biased toward what the sample contains. Each regularised run is plotted along
            training; one that reached its posterior would sit on the path at its own $\beta$ (the marked points).
            DPG's target $\pi^*_b$ is not on this path: $r$ counts occurrences, so as $\beta \to 0$ the path runs
            to the texts with the most occurrences, while $\pi^*_b$ keeps the prior's texts that contain the word
            once or more. Plain RL ends at
            \#(fmt(r[.reinforce].measurements.last!.klStepwise.value)) nats, off the right edge. Shown, not checked.
            """#)
        var series = [Series(#"posterior path $\pi^*_\beta$"#, x: shown.map(\.kl), y: shown.map(\.reward), style: .dashed)]
        for m in regularised {
            let points = r[m].measurements
            series.append(Series("\(m)", x: points.map(\.klStepwise.value), y: points.map(\.reward.value),
                                 style: .lineAndPoints))
        }
        series.append(Series(#"$\pi^*_\beta$ at the runs' $\beta$"#, x: marks.map(\.kl), y: marks.map(\.reward), style: .points))
        series.append(Series(#"$\pi^*_b$ (DPG's target)"#, x: [-est.logConstraintPartition.value], y: [constrainedReward], style: .points))
        page.plot(LinePlot(title: "Reward against KL: the posterior path and the runs",
                           description: "The posterior path over beta, estimated from prior samples, with each "
                               + "regularised run's KL to the prior and reward along training.",
                           xLabel: #"$\mathrm{KL}(\pi \| \pi_0)$ (nats)"#, yLabel: "E[r]", series: series, yIncludesZero: true),
                  caption: "The frontier (dashed) and the runs. Points above the dashed line would contradict eq. 7, "
                      + "up to the error of the path's estimate.")
        page.record("path_ess_beta_\(betas[0])", marks[0].effectiveSampleSize)
    }

    func tableSection(_ r: Results) {
        page.section("The double dissociation, in numbers")
        let p = r.prior
        let priorForward = r.priorForward.isEmpty ? Double.nan
            : r.priorForward.reduce(0, +) / Double(r.priorForward.count)
        var rows: [[String]] = [["prior π0", fmt(p.reward.value), fmt(p.constraint.value), "0", fmt(p.entropyPerToken),
                                 fmt(p.distinct4), fmt(p.repetition), fmt(p.priorPerplexity), fmt(priorForward)]]
        for method in methods {
            let c = r[method], m = c.measurements.last!
            rows.append(["\(method)", fmt(m.reward.value), fmt(m.constraint.value), fmt(m.klStepwise.value),
                         fmt(m.entropyPerToken), fmt(m.distinct4), fmt(m.repetition), fmt(m.priorPerplexity),
                         fmt(c.forwardKL.last!)])
        }
        page.table(headers: ["policy", "$\\mathbb{E}[r]$", "$P(b)$", "KL to $\\pi_0$", "entropy / token", "distinct-4",
                             "repetition", "perplexity under $\\pi_0$", "$\\mathrm{KL}(\\pi^*_b \\| \\pi_\\theta)$"],
                   rows: rows, caption: "At the end of training (\(evalSamples) fresh samples each)")
        page.samples("Samples of the prior", Array(r.priorTexts.prefix(6)))
        for method in methods {
            page.samples("Samples after \(method)", Array(r[method].measurements.last!.texts.prefix(6)))
        }
    }
}

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
        arrivalSection(r)
        squareRootSection(r)
        frontierSection(r)
        likeForLikeSection(r)
        tableSection(r)
    }

    /// The distance of a regularised method's policy to its own target, as a fraction of the
    /// prior's, from one evaluation: KL(π_θ ‖ π*_β) for KL-RL, KL(π*_b ‖ π_θ) for DPG; nil for
    /// plain RL, which has no target.
    func arrival(_ method: Method, _ m: PolicyMeasurement, forwardTerms terms: [Double],
                 _ r: Results) -> Arrival? {
        switch method {
        case .reinforce: return nil
        case .klReinforce(let b):
            return Arrival.reverse(logRatios: m.logRatios, constraints: m.rewards.map { $0 > 0 ? 1 : 0 }, beta: b,
                                   count: r.count)
        case .dpg:
            // The terms hold −log Ẑ_b; Arrival.forward takes log π0 − log π_θ alone.
            let logZb = Foundation.log(r.count.value)
            return terms.count > 1 ? Arrival.forward(priorMinusPolicy: terms.map { $0 + logZb }, count: r.count) : nil
        }
    }

    /// Each evaluation's arrival, in order.
    func arrivals(_ method: Method, _ r: Results) -> [Arrival] {
        let c = r[method]
        return c.measurements.indices.compactMap {
            arrival(method, c.measurements[$0], forwardTerms: c.forwardTerms[$0], r)
        }
    }

    /// The target of a method, in words for the page.
    func targetName(_ method: Method) -> String {
        switch method {
        case .reinforce: return "none"
        case .klReinforce(let b):
            return "$\\pi^*_\\beta$ at $\\beta = \(fmt(b))$, in $\\mathrm{KL}(\\pi_\\theta \\| \\pi^*_\\beta)$"
        case .dpg: return "$\\pi^*_b$, in $\\mathrm{KL}(\\pi^*_b \\| \\pi_\\theta)$"
        }
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
        let decay = settings.finalLearningRateFraction
        let schedule = decay == 1 ? ""
            : ", decayed along a half cosine to \(fmt(decay * settings.learningRate)) at the last step"
        let rlRate = settings.reinforceLearningRate ?? settings.learningRate
        let rlNote = rlRate == settings.learningRate ? ""
            : " (plain RL at \(fmt(rlRate)): what it converges to, the point mass of eq. 2, does not depend on the "
                + "rate, and the larger rate lets it get there within the budget; the option --rl-learning-rate "
                + "\(fmt(settings.learningRate)) shows how far it gets at the others' rate)"
        page.prose(#"""
            Every method starts from the prior and sees the same number of samples (\#(settings.steps) steps of
            \#(settings.batchSize)), with AdamW at learning rate \#(fmt(settings.learningRate))\#(schedule)\#(rlNote).
            Plain REINFORCE maximises $\mathbb{E}[r]$ alone, with $r(x)$ the number of occurrences of the word (at most
            4); KL-regularised REINFORCE maximises $\mathbb{E}[b] - \beta\,\mathrm{KL}(\pi_\theta \| \pi_0)$ through
            the shaped reward of eq. 4; DPG minimises the forward divergence $\mathrm{KL}(\pi^*_b \| \pi_\theta)$ with
            importance weights $\pi^*_b(x)/\pi_\theta(x)$. Each point below is measured on \#(evalSamples) fresh
            samples (\#(finalEvalSamples) at the last step).
            """#)
        func series(_ value: (PolicyMeasurement) -> Double) -> [Series] {
            methods.map { m in Series("\(m)", x: r[m].steps, y: r[m].measurements.map(value), style: .lineAndPoints) }
        }
        page.plot(LinePlot(title: "The preference along training",
                           description: "The rate of fresh samples that contain the word, for each method.",
                           xLabel: "fine-tuning step", yLabel: #"$P_\theta(b)$"#,
                           series: series(\.constraint.value),
                           references: [ReferenceLine(.horizontal, at: r.count.value, label: "prior")],
                           yIncludesZero: true),
                  caption: "The rate $P_\\theta(b)$ of texts that contain the word, along training.")
        page.plot(LinePlot(title: "Entropy along training",
                           description: "Next-token entropy per token of fresh samples.",
                           xLabel: "fine-tuning step", yLabel: "entropy (nats per token)",
                           series: series(\.entropyPerToken),
                           yIncludesZero: true),
                  caption: "Entropy per token. Collapse shows as a fall toward 0.")
        page.plot(LinePlot(title: "KL to the prior along training",
                           description: #"Exact stepwise $\mathrm{KL}(\pi_\theta \| \pi_0)$ summed along fresh "#
                               + "samples.",
                           xLabel: "fine-tuning step", yLabel: #"$\mathrm{KL}(\pi_\theta \| \pi_0)$ (nats)"#,
                           series: series(\.klStepwise.value),
                           yIncludesZero: true),
                  caption: "KL from the prior, summed exactly over next-token distributions along each sample and "
                      + "averaged over samples.", label: "kl-along-training")
    }

    func reinforceSection(_ r: Results) {
        let rl = r[.reinforce]
        let end = rl.measurements.last!, mid = rl.measurements[rl.measurements.count / 2]
        let entropy = Checks.entropyCollapses(id: "rl.entropy-halved", policy: end.entropy, prior: r.prior.entropy)
        let diversity = Checks.diversityFalls(id: "rl.diversity-falls", policyTexts: end.texts,
                                              priorTexts: r.prior.texts, rng: seeds.generator("rl-diversity-bootstrap"))
        page.section(entropy.passed && diversity.passed ? "Plain RL collapses"
                         : "Plain RL: the collapse falls short of its thresholds")
        page.prose(#"""
            Collapse is judged against the prior's own measurements, on \#(evalSamples) fresh samples of each, with
            standard errors: the entropy per token must fall below half the prior's, and the diversity of the
            samples below the prior's, each by more than 5.3 standard errors. Plain RL's KL from the prior, shown
            in @fig:kl-along-training, ends at \#(fmt(end.klStepwise.value)) nats (standard error
            \#(fmt(end.klStepwise.standardError))), against \#(fmt(-Foundation.log(r.count.value))) nats
            for the constrained posterior $\pi^*_b$, which already satisfies the constraint everywhere.
            """#)
        page.check(entropy)
        page.check(diversity)
        page.record("rl_kl_mid", mid.klStepwise.value)
        page.record("rl_kl_end", end.klStepwise.value)
    }

    func klSection(_ r: Results, beta b: Double) {
        let method = Method.klReinforce(beta: b)
        let curve = r[method]
        let name = checkName(method)
        let target = BinaryPosterior(zb: r.count.value, beta: b)
        page.section("KL-regularised RL at β = \(fmt(b))")
        page.prose(#"""
            KL-regularised RL maximises $\mathbb{E}_{\pi_\theta}[b] - \beta\,\mathrm{KL}(\pi_\theta \| \pi_0)$ by
            REINFORCE on the shaped reward $b(x) - \beta \log \frac{\pi_\theta(x)}{\pi_0(x)}$ of eq. 4. How its
            gradient is estimated from a batch decides how far the run gets on this budget, not where it goes: every
            choice here is unbiased. \#(penaltyNote) \#(creditNote) Divided by $\beta$ the
            objective is an evidence lower bound, and the gap to $\log Z(\beta)$ is the distance to the posterior
            (eqs. 7 and 14):
            """#)
        page.equation(#"""
            \mathrm{KL}(\pi_\theta \| \pi^*_\beta) = \mathbb{E}_{x \sim \pi_\theta}\left[\log
            \frac{\pi_\theta(x)}{\pi_0(x)} - \frac{b(x)}{\beta}\right] + \log Z(\beta)
            """#, number: "7")
        page.prose(#"""
            Both terms are estimated without weights: the expectation by the mean over fresh samples of the policy
            of $\ell(x) - b(x)/\beta$, with $\ell = \log \pi_\theta(x) - \log \pi_0(x)$ computed exactly for each
            sample (chapter 9's $k_1$, unbiased), and $\log Z(\beta)$ from $\hat{Z}_b$. The mean is unbiased and its
            variance vanishes at $\pi^*_\beta$, where $\ell - b/\beta = -\log Z$ for every text; the only bias is that
            of $\log \hat{Z}$ (Jensen, about $-\mathrm{se}^2/2$ =
            \#(fmt(-pow(logEvidenceError(r.count, beta: b), 2) / 2))
            nats here). The prior's own distance is exact given $Z_b$: $\mathrm{KL}(\pi_0 \| \pi^*_\beta) = \log Z
            - Z_b/\beta$.
            """#)
        let start = arrivals(method, r).first!, end = arrivals(method, r).last!
        page.derivation([
            DerivationLine(#"\log Z(\beta) = \log\left(1 + \hat{Z}_b (e^{1/\beta} - 1)\right)"#, target.logEvidence,
                           note: "binomial standard error \(fmt(logEvidenceError(r.count, beta: b)))"),
            DerivationLine(#"\pi^*_\beta(b = 1) = \hat{Z}_b e^{1/\beta} / Z(\beta)"#, target.mass),
            DerivationLine(#"\mathrm{KL}(\pi^*_\beta \| \pi_0) = \pi^*_\beta(b)/\beta - \log Z(\beta)"#,
                           target.klFromPrior, note: "how far the posterior is from the prior"),
            DerivationLine(#"D_0 = \mathrm{KL}(\pi_0 \| \pi^*_\beta) = \log Z(\beta) - \hat{Z}_b/\beta"#,
                           target.priorDistance,
                           note: "over $Z_b$'s 97.5% interval: \(fmt(start.priorDistance.low)) to "
                               + fmt(start.priorDistance.high)),
            DerivationLine(#"D_0 \text{ from the prior's own samples, by eq. 7}"#, start.distance.value,
                           note: "standard error \(fmt(start.distance.standardError)), not 0: the step-0 policy is "
                               + "the prior, sampled"),
            DerivationLine(#"D_T = \mathrm{KL}(\pi_T \| \pi^*_\beta) \text{ at the end}"#, end.distance.value,
                           note: "95% interval \(fmt(end.distance.low)) to \(fmt(end.distance.high)), "
                               + "\(r[method].measurements.last!.samples) samples"),
        ], caption: "The target at $\\beta = \(fmt(b))$ and the distances, from $\\hat{Z}_b$ and the policy's samples")
        let elbos = curve.measurements.map {
            Estimate.mean(zip($0.rewards, $0.logRatios).map { ($0 > 0 ? 1 : 0) / b - $1 })
        }
        page.check(Checks.evidenceBoundAtScale(id: "\(name).evidence-bound", beta: b, elbos: elbos,
                                               logZ: target.logEvidence, logZError: logEvidenceError(r.count, beta: b)))
        page.check(Checks.entropyKept(id: "\(name).entropy-kept", beta: b, policy: curve.measurements.last!.entropy,
                                      prior: r.prior.entropy))
        page.record("kl_to_posterior_start_beta_\(b)", start.distance.value)
        page.record("kl_to_posterior_end_beta_\(b)", end.distance.value)
        page.record("prior_distance_beta_\(b)", target.priorDistance)
        page.record("arrival_ratio_beta_\(b)", end.ratio)
        page.record("arrival_ratio_upper_beta_\(b)", end.ratioUpper)
    }

    /// How this run estimates the penalty's gradient (`--kl-gradient`), in words.
    var penaltyNote: String {
        switch settings.klGradient {
        case .prefixExact:
            return #"""
                The penalty's gradient comes from chapter 9's exact per-prefix KL (--kl-gradient prefix-exact): at
                each position the gradient of the exact next-token KL, plus the token's score times the exact KL of
                the positions after it, less the same sum of the other samples; the noise of the sampled log-ratios
                is gone.
                """#.split(whereSeparator: \.isNewline).joined(separator: " ")
        case .sequenceK1:
            return #"""
                The penalty's gradient comes from each sample's whole log-ratio in its reward, less the other
                samples' mean (--kl-gradient sequence-k1).
                """#.split(whereSeparator: \.isNewline).joined(separator: " ")
        }
    }

    /// Which tokens this run credits with the word (`--reward-credit`), in words.
    var creditNote: String {
        switch settings.rewardCredit {
        case .toGo:
            return #"""
                The word's reward $b$ is credited only to the tokens up to the one that decides it (the character
                after the word's first whole-word occurrence, or the end of the text), less the mean $b$ of the other
                samples still undecided at that position (--reward-credit to-go): the tokens after it cannot change
                $b$, so leaving them out removes the noise they added.
                """#.split(whereSeparator: \.isNewline).joined(separator: " ")
        case .sequence:
            return #"""
                The word's reward is credited to every token of the text, less the other samples' mean $b$
                (--reward-credit sequence).
                """#.split(whereSeparator: \.isNewline).joined(separator: " ")
        }
    }

    /// What `--dpg-continuation exact` changes, in words.
    var dpgExactNote: String {
        #"""
        With --dpg-continuation exact, DPG's gradient treats the text after the word differently: once a
        prefix contains the word and the character that ends it, $\pi^*_b$'s next-token distribution there is the
        prior's, so the expected score under it is summed over the vocabulary instead of taken at the one sampled
        token, and weighted by the prefix's importance ratio $\pi_0(x_{\le t}) / (Z_b\, \pi_\theta(x_{\le t}))$
        instead of the whole text's; before that point each token's score is weighted by the ratio of the text up
        to the deciding character (the rest of the text cannot change those tokens, and its ratio averages to 1),
        less the mean weight of the other samples still undecided there. The expectation is the same gradient (a
        test checks it over every sequence of a small model); the noise of the sampled continuations is gone.
        """#.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    func dpgSection(_ r: Results) {
        let dpg = r[.dpg]
        page.section("DPG moves toward the constrained posterior")
        page.prose(#"""
            DPG fits the forward divergence, whose value we can estimate on exact posterior samples: the prior texts
            that filtering kept, \#(dpg.forwardTerms.last!.count) of them, independent of the count that gives
            $\hat{Z}_b$. With $t(x) = \log \pi_0(x) - \log \pi_\theta(x)$,
            $\mathrm{KL}(\pi^*_b \| \pi_\theta) = \mathbb{E}_{\pi^*_b}[t] - \log Z_b$: the mean of $t$ is unbiased, and
            $-\log \hat{Z}_b$ is biased by about $\mathrm{se}(\hat{Z}_b)^2 / (2 Z_b^2)$ =
            \#(fmt(pow(r.count.standardError / r.count.value, 2) / 2)) nats. At the prior $t = 0$ and the distance is
            $-\log Z_b$ exactly. The first check compares the end of training with its start on the same samples,
            the second the rate of texts that satisfy $b$ with the prior's rate $Z_b$, each by more than 5.3 standard
            errors. How far it ends from $\pi^*_b$ is in the section on arrival.\#(
                settings.dpgContinuation == .exact ? " " + dpgExactNote : "")
            """#)
        page.check(Checks.forwardKLFalls(id: "dpg.forward-kl-falls", start: dpg.forwardTerms.first!,
                                         end: dpg.forwardTerms.last!))
        page.check(Checks.constraintRises(id: "dpg.constraint-rises", prior: r.estimates.constraintRate,
                                          end: dpg.measurements.last!.constraint))
        let end = arrivals(.dpg, r).last!
        page.record("dpg_forward_kl_start", dpg.forwardKL.first!)
        page.record("dpg_forward_kl_end", dpg.forwardKL.last!)
        page.record("arrival_ratio_dpg", end.ratio)
        page.record("arrival_ratio_upper_dpg", end.ratioUpper)
    }

    /// The learning curves: each regularised method's distance to its own target along training,
    /// as a fraction of the prior's, with the thresholds.
    func arrivalSection(_ r: Results) {
        page.section("Arrival: the distance to each target along training")
        let regularised = methods.filter { $0 != .reinforce }
        var rows: [[String]] = []
        var series: [Series] = []
        for m in regularised {
            let a = arrivals(m, r)
            let steps = r[m].steps
            series.append(Series("\(m)", x: steps, y: a.map(\.ratio), style: .lineAndPoints))
            series.append(Series("\(m), 95% upper bound", x: steps, y: a.map { min($0.ratioUpper, 2) }, style: .dashed))
            let end = a.last!
            rows.append(["\(m)", targetName(m), fmt(end.priorDistance.value), fmt(end.distance.value),
                         "\(fmt(end.distance.low)) to \(fmt(end.distance.high))", fmt(end.ratio), fmt(end.ratioUpper)])
        }
        let ends = regularised.map { (method: $0, arrival: arrivals($0, r).last!) }
        let arrived = ends.filter { Checks.arrived(ratio: $0.arrival.ratio, upper: $0.arrival.ratioUpper) }
        let verdict: String
        if arrived.count == ends.count {
            verdict = "Every regularised method arrives on this run (shown, not checked: other seeds have not been "
                + "held to it)."
        } else if arrived.isEmpty {
            let closest = fmt(ends.map(\.arrival.ratio).min()!)
            verdict = "No method arrives on this budget: the closest ends at \(closest) of "
                + "the prior's distance. This is weaker than the goal; the fractions are shown, not checked, because "
                + "as checks they would fail."
        } else {
            verdict = "Only \(arrived.map { "\($0.method)" }.joined(separator: " and ")) arrive on this budget, "
                + "weaker than the goal; the fractions are shown, not checked."
        }
        page.prose(#"""
            The goal is that each method's distance to its own target at the end of training be at most 30% of the
            prior's, with the 95% upper bound of that fraction below 40%. The bound takes the largest fraction over
            the one-sided 97.5% bound of the policy's sample mean and the two-sided 97.5% Wilson interval of $Z_b$
            (so both errors are covered at 95% together). The last evaluation uses \#(finalEvalSamples) fresh
            samples, the others \#(evalSamples); @fig:arrival-curves shows the curves and @tbl:arrival-table the end.
            \#(verdict)
            """#)
        page.plot(LinePlot(title: "Distance to the target along training",
                           description: "Each regularised method's distance to its own target as a fraction of the "
                               + "prior's, with its 95% upper bound (dashed).",
                           xLabel: "fine-tuning step", yLabel: #"$D_t / D_0$"#, series: series,
                           references: [ReferenceLine(.horizontal, at: Checks.arrivalFraction, label: "30%"),
                                        ReferenceLine(.horizontal, at: Checks.arrivalUpperFraction, label: "40%")],
                           yIncludesZero: true),
                  caption: "The learning curves: KL-RL's $\\mathrm{KL}(\\pi_\\theta \\| \\pi^*_\\beta)$ and DPG's "
                      + "$\\mathrm{KL}(\\pi^*_b \\| \\pi_\\theta)$, each divided by the prior's distance to the same "
                      + "target (upper bounds above 2 drawn at 2).", label: "arrival-curves")
        page.table(headers: ["method", "target and distance", "$D_0$ (prior)", "$D_T$ (end)", "95% interval of $D_T$",
                             "$D_T / D_0$", "95% upper bound"],
                   rows: rows, caption: "Where each method ends, against the prior's distance to the same target",
                   label: "arrival-table")
        splitSection(r, regularised)
    }

    /// The end distance split by the chain rule of KL over the two classes b = 1 and b = 0: the part
    /// that the rate of the word alone accounts for, and the rest, within the classes.
    func splitSection(_ r: Results, _ regularised: [Method]) {
        var rows: [[String]] = []
        var within: [(method: Method, share: Double)] = []
        for m in regularised {
            let end = arrivals(m, r).last!
            let p = r[m].measurements.last!.constraint.value
            let w: Double
            if case .klReinforce(let b) = m { w = BinaryPosterior(zb: r.count.value, beta: b).mass } else { w = 1 }
            // KL-RL: kl(p ‖ w) of the reverse direction; DPG: kl(1 ‖ p) = −log p of the forward one.
            let between: Double
            if case .dpg = m { between = -Foundation.log(p) } else { between = Statistics.binaryKL(p, w) }
            rows.append(["\(m)", fmt(end.distance.value), fmt(p), fmt(w), fmt(between),
                         fmt(end.distance.value - between)])
            within.append((m, (end.distance.value - between) / end.distance.value))
            page.record("distance_within_classes_\(m.id)", end.distance.value - between)
        }
        let mostlyWithin = within.filter { $0.share > 0.5 }.map { "\($0.method)" }
        let verdict = mostlyWithin.count == within.count
            ? "For every method most of the distance left lies within the classes: the policies put the word in "
                + "their texts more nearly as often as the target does than they write the texts the target would."
            : mostlyWithin.isEmpty
                ? "For every method most of the distance left is the rate of the word itself: the policies have not "
                    + "yet moved enough probability onto texts that satisfy $b$."
                : "Most of the distance left lies within the classes for \(mostlyWithin.joined(separator: " and ")); "
                    + "for the others it is the rate of the word itself."
        page.prose(#"""
            Where the distance left lies. By the chain rule of KL over the two classes $b = 1$ and $b = 0$, with
            $p = P_\theta(b)$ and $w$ the target's own rate ($\pi^*_\beta(b)$, or 1 for $\pi^*_b$), and because
            within each class the target is the prior's own conditional:
            """#)
        page.equation(#"""
            \mathrm{KL}(\pi_\theta \| \pi^*_\beta) &= \mathrm{kl}(p \| w) \\
            &+ p\,\mathrm{KL}\big(\pi_\theta(\cdot|b) \,\|\, \pi_0(\cdot|b)\big) \\
            &+ (1 - p)\,\mathrm{KL}\big(\pi_\theta(\cdot|\neg b) \,\|\, \pi_0(\cdot|\neg b)\big)
            """#)
        page.prose(#"""
            For DPG's forward direction the first term is $-\log p$. The first term is exact given the estimate of
            $p$ (from the same final samples); the rest, within the classes, is the estimated distance minus it, with
            the distance's sampling error (so a small negative value is noise). \#(verdict)
            """#)
        page.table(headers: ["method", "$D_T$ (end)", "$P_\\theta(b)$ at the end", "target's $P(b)$",
                             "between the classes", "within the classes"],
                   rows: rows, caption: "The end distance split into the rate of the word and the rest",
                   label: "distance-split")
    }

    func squareRootSection(_ r: Results) {
        page.section("The preference against √KL")
        let sigma = (r.count.value * (1 - r.count.value)).squareRoot()
        page.prose(#"""
            Chapter 8 shows that along the posterior path the gain of a reward starts like
            $\sigma_0 \sqrt{2\,\mathrm{KL}}$, with $\sigma_0$ its standard deviation under the prior, and bends below it
            as KL grows. For $b$, $\sigma_0 = \sqrt{Z_b(1 - Z_b)}$ = \#(fmt(sigma)).
            @fig:gain-against-root-kl places each run's evaluations beside that first-order law; it is shown, not
            checked (chapter 8 checks the law exactly).
            """#)
        var series: [Series] = []
        var maxRoot = 0.0
        for method in methods where method != .reinforce {
            let curve = r[method]
            let xs = curve.measurements.map { max(0, $0.klStepwise.value).squareRoot() }
            maxRoot = max(maxRoot, xs.max() ?? 0)
            series.append(Series("\(method)", x: xs, y: curve.measurements.map { $0.constraint.value - r.count.value },
                                 style: .lineAndPoints))
        }
        let grid = (0...20).map { maxRoot * Double($0) / 20 }
        let path = (0...60).map { BinaryPosterior(zb: r.count.value, beta: 0.05 * pow(400, Double($0) / 60)) }
            .filter { $0.klFromPrior.squareRoot() <= maxRoot }
        series.append(Series(#"$\sigma_0 \sqrt{2 \, \mathrm{KL}}$ (chapter 8)"#, x: grid,
                             y: grid.map { sigma * 2.0.squareRoot() * $0 }, style: .dashed))
        series.append(Series(#"posterior path $\pi^*_\beta$"#, x: path.map { $0.klFromPrior.squareRoot() },
                             y: path.map { $0.mass - r.count.value }, style: .dashed))
        page.plot(LinePlot(title: "Gain in P(b) against the square root of KL",
                           description: "Gain in P(b) over the prior against sqrt(KL) for the regularised methods, "
                               + "with the small-KL prediction and the posterior path.",
                           xLabel: #"$\sqrt{\mathrm{KL}(\pi_\theta \| \pi_0)}$"#, yLabel: #"$P_\theta(b) - Z_b$"#,
                           series: series, yIncludesZero: true),
                  caption: "Gain in $P_\\theta(b)$ against $\\sqrt{\\mathrm{KL}}$. Dashed: the first-order law of "
                      + "chapter 8 and the exact posterior path from $\\hat{Z}_b$.", label: "gain-against-root-kl")
    }

    /// The posterior path over β in closed form from Ẑ_b against each run's (KL to the prior,
    /// P_θ(b)) along training.
    func frontierSection(_ r: Results) {
        let zb = r.count.value
        let range = r.count.wilson(z: 1.959963984540054)
        let grid = (0...80).map { 0.02 * pow(1000, Double($0) / 80) }   // β from 0.02 to 20
        let regularised = methods.filter { $0 != .reinforce }
        let reach = regularised.flatMap { r[$0].measurements.map(\.klStepwise.value) }.max() ?? 1
        let limit = 1.2 * max(reach, -Foundation.log(range.lowerBound))
        page.section("On the frontier: P(b) against KL")
        let plainRL = r.curves[.reinforce].map {
            " Plain RL ends at \(fmt($0.measurements.last!.klStepwise.value)) nats, off the right edge."
        } ?? ""
        page.prose(#"""
            For every policy $\mathbb{E}_\pi[b] - \beta\,\mathrm{KL}(\pi \| \pi_0) \le \beta \log Z(\beta)$, with
            equality only at $\pi^*_\beta$ (eq. 7): no policy as close to the prior as $\pi^*_\beta$ satisfies $b$ more
            often. The posterior path $\beta \mapsto (\mathrm{KL}(\pi^*_\beta \| \pi_0), \pi^*_\beta(b))$ is therefore
            the frontier, and for a binary $b$ it is a closed form in $Z_b$ (the derivation lines of the KL-RL
            sections), drawn here at $\hat{Z}_b$ and at the ends of its 95% Wilson interval. Its $\beta \to 0$ end is
            DPG's target $\pi^*_b$, at $(-\log Z_b, 1)$. Each regularised run is plotted along training; one that
            reached its posterior sits on the path at its own $\beta$ (the marked points).\#(plainRL)
            """#)
        func path(_ z: Double) -> [BinaryPosterior] {
            grid.map { BinaryPosterior(zb: z, beta: $0) }.filter { $0.klFromPrior <= limit }
        }
        var series: [Series] = []
        for (z, label) in [(zb, #"posterior path at $\hat{Z}_b$"#),
                           (range.lowerBound, "at the low end of $Z_b$'s 95% interval"),
                           (range.upperBound, "at the high end of $Z_b$'s 95% interval")] {
            let p = path(z)
            series.append(Series(label, x: p.map(\.klFromPrior), y: p.map(\.mass), style: .dashed))
        }
        for m in regularised {
            let points = r[m].measurements
            series.append(Series("\(m)", x: points.map(\.klStepwise.value), y: points.map(\.constraint.value),
                                 style: .lineAndPoints))
        }
        let marks = betas.map { BinaryPosterior(zb: zb, beta: $0) }
        series.append(Series(#"$\pi^*_\beta$ at the runs' $\beta$"#, x: marks.map(\.klFromPrior), y: marks.map(\.mass),
                             style: .points))
        series.append(Series(#"$\pi^*_b$ (DPG's target)"#, x: [-Foundation.log(zb)], y: [1], style: .points))
        page.plot(LinePlot(title: "P(b) against KL: the posterior path and the runs",
                           description: "The posterior path over beta in closed form from the estimate of Z_b, with "
                               + "each regularised run's KL to the prior and P(b) along training.",
                           xLabel: #"$\mathrm{KL}(\pi \| \pi_0)$ (nats)"#, yLabel: "$P(b)$", series: series,
                           yIncludesZero: true),
                  caption: "The frontier (dashed, with the ends of $Z_b$'s interval) and the runs. Points above the "
                      + "dashed lines would contradict eq. 7.", label: "frontier")
        for m in regularised {
            let end = r[m].measurements.last!
            page.check(Checks.belowFrontier(id: "\(checkName(m)).frontier", method: "\(m)", constraint: end.constraint,
                                            kl: end.klStepwise, count: r.count))
            let point = BinaryPosterior.frontier(kl: end.klStepwise.value, zb: zb)
            page.record("frontier_gap_\(m.id)", point - end.constraint.value)
        }
    }

    /// §6 like for like: DPG and KL-RL at the smaller β measured against the same target π*_b.
    func likeForLikeSection(_ r: Results) {
        guard let small = betas.min() else { return }
        let kl = Method.klReinforce(beta: small)
        let near = BinaryPosterior(zb: r.count.value, beta: small)
        page.section("DPG and KL-RL on the same target")
        page.prose(#"""
            §6 of the paper compares GDC (DPG) with KL-regularised RL. DPG targets $\pi^*_b$; KL-RL at
            $\beta = \#(fmt(small))$ targets $\pi^*_\beta$, which puts \#(fmt(near.mass)) of its mass on texts that
            satisfy $b$ and is \#(fmt(BinaryPosterior(zb: r.count.value, beta: small).klFromPrior)) nats from the
            prior against \#(fmt(-Foundation.log(r.count.value))) for $\pi^*_b$: nearly the same distribution.
            @tbl:like-for-like measures both runs against $\pi^*_b$ in both directions where a direction is finite:
            the forward $\mathrm{KL}(\pi^*_b \| \pi_\theta)$ on the exact posterior samples (95% intervals with
            $Z_b$'s), and the reverse divergence to the nearly identical $\pi^*_\beta$ (the reverse divergence to
            $\pi^*_b$ itself is infinite while $P_\theta(b) < 1$). Forward KL punishes a policy that misses texts of
            $\pi^*_b$, reverse KL one that puts mass where the target has little: the double dissociation of chapter
            7, here measured.
            """#)
        var rows: [[String]] = []
        for m in [Method.dpg, kl] where methods.contains(m) {
            let c = r[m], end = c.measurements.last!
            let logZb = Foundation.log(r.count.value)
            let forward = Arrival.forward(priorMinusPolicy: c.forwardTerms.last!.map { $0 + logZb }, count: r.count)
            let reverse = Arrival.reverse(logRatios: end.logRatios, constraints: end.rewards.map { $0 > 0 ? 1 : 0 },
                                          beta: small, count: r.count)
            rows.append(["\(m)",
                         "\(fmt(forward.distance.value)) [\(fmt(forward.distance.low)), \(fmt(forward.distance.high))]",
                         "\(fmt(reverse.distance.value)) [\(fmt(reverse.distance.low)), \(fmt(reverse.distance.high))]",
                         "\(fmt(end.constraint.value)) ± \(fmt(1.96 * end.constraint.standardError))",
                         fmt(end.entropyPerToken), fmt(end.distinct4), fmt(end.klStepwise.value)])
            page.record("like_for_like_forward_\(m.id)", forward.distance.value)
            page.record("like_for_like_reverse_\(m.id)", reverse.distance.value)
        }
        let priorDistance = fmt(BinaryPosterior(zb: r.count.value, beta: small).priorDistance)
        rows.append(["target", "0", "\(priorDistance) at $\\pi_0$, 0 at $\\pi^*_\\beta$",
                     fmt(near.mass) + " ($\\pi^*_\\beta$), 1 ($\\pi^*_b$)", "", "", fmt(near.klFromPrior)])
        page.table(headers: ["policy", "$\\mathrm{KL}(\\pi^*_b \\| \\pi_\\theta)$ [95%]",
                             "$\\mathrm{KL}(\\pi_\\theta \\| \\pi^*_\\beta)$, $\\beta = \(fmt(small))$ [95%]",
                             "$P_\\theta(b)$ ± 95%", "entropy / token", "distinct-4",
                             "$\\mathrm{KL}(\\pi_\\theta \\| \\pi_0)$"],
                   rows: rows,
                   caption: "DPG and KL-RL at $\\beta = \(fmt(small))$ at the end of training, against the same target",
                   label: "like-for-like")
    }

    func tableSection(_ r: Results) {
        page.section("Every method at the end of training")
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
                   rows: rows, caption: "At the end of training (\(finalEvalSamples) fresh samples each, the prior "
                       + "\(evalSamples))")
        page.samples("Samples of the prior", Array(r.priorTexts.prefix(6)))
        for method in methods {
            page.samples("Samples after \(method)", Array(r[method].measurements.last!.texts.prefix(6)))
        }
    }
}

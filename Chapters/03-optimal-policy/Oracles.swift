// Closed forms on bit strings, and the two ends of the temperature scale.
import BookKit
import Foundation
import Finite
import GSL
import Notebook

// MARK: - A closed-form oracle on bit strings

/// The closed forms of the bit-string oracle: X = {0,1}^L, π0 = Bernoulli(p)^L, r = number of
/// ones. Fields are `var` so that a test can give a wrong one.
struct BitStringClosedForms {
    var length: Int
    var beta: Double
    /// L log(1 − p + p e^{1/β}).
    var logZ: Double
    /// log π*(x) for a string with k ones: k log p' + (L − k) log(1 − p').
    var logPosterior: [Double]
    /// log P*(k) = log C(L, k) + k log p' + (L − k) log(1 − p'), with lnchoose from GSL.
    var logCountLaw: [Double]
    /// GSL's error estimate of its log C(L, k), the largest over k.
    var lnChooseError: Double
    /// L KL(Bern(p') ‖ Bern(p)) = KL(π* ‖ π0).
    var klFromPrior: Double
    /// L p' = E_π*[r].
    var expectedOnes: Double
    /// L (1/β + |log p| + |log(1 − p)|): the size of the log-terms.
    var scale: Double

    init(_ model: BernoulliProduct, beta: Double) throws {
        let L = model.length, p = model.bitProbability
        length = L; self.beta = beta
        logZ = model.logPartitionFunction(beta: beta)
        logPosterior = (0...L).map { model.logPosterior(ones: $0, beta: beta) }
        logCountLaw = try model.logCountLaw(beta: beta)
        lnChooseError = try (0...L).map { try SpecialFunctions.lnChoose(L, $0).error }.max()!
        klFromPrior = model.posteriorKLFromPrior(beta: beta)
        expectedOnes = model.posteriorExpectedReward(beta: beta)
        scale = Double(L) * (1 / beta + Swift.abs(log(p)) + Swift.abs(log1p(-p)))
    }
}

/// The same quantities by brute force over all 2^L strings.
struct BitStringEnumeration {
    let prior: Distribution
    let reward: [Double]
    let posterior: Distribution
    let logZ: Double
    /// Σ_{x: k(x) = k} π*(x).
    let countLaw: [Double]

    init(_ model: BernoulliProduct, beta: Double) {
        prior = model.enumeratedPrior()
        reward = model.enumeratedReward()
        let problem = ExactProblem(prior: prior, reward: reward, beta: beta)
        posterior = problem.posterior
        logZ = problem.logEvidence
        var law = [Double](repeating: 0, count: model.length + 1)
        for x in 0..<prior.count { law[x.nonzeroBitCount] += posterior.probabilities[x] }
        countLaw = law
    }
}

func bitStrings(_ c: Context) throws {
    let page = c.page, beta = c.setting.beta
    page.section("Closed forms on bit strings")
    let model = BernoulliProduct(length: c.length, bitProbability: c.bitProbability)
    page.prose(#"""
        Take strings of $L$ bits, a prior that sets each bit to one with probability $p$ independently, and a reward
        that counts the ones. Everything factorises: the posterior sets each bit independently with a new
        probability $p'$, the normaliser is a power, and the number of ones is binomial. We compare these closed
        forms (with $\log C(L, k)$, the log of the binomial coefficient, from GSL's gsl_sf_lnchoose) with
        brute-force sums over all $2^L$ strings.
        """#)
    page.equation(#"Z = \left( 1 - p + p e^{1/\beta} \right)^L, \quad \pi^* = \operatorname{Bernoulli}(p')^L, "#
                  + #"\ p' = \frac{p e^{1/\beta}}{1 - p + p e^{1/\beta}}, \quad "#
                  + #"\pi^*(k) = \frac{L!}{k! \, (L - k)!} p'^k (1 - p')^{L - k}"#, number: "5")
    let closed = try BitStringClosedForms(model, beta: beta)
    let enumerated = BitStringEnumeration(model, beta: beta)
    let pPrime = exp(model.logPosteriorBit(beta: beta).one)
    page.parameters([("$L$", "\(c.length) (\(model.outcomeCount) strings)"),
                     ("$p$", NumberFormat.format(c.bitProbability)),
                     (#"$\beta$"#, NumberFormat.format(beta)), ("$p'$", NumberFormat.format(pPrime))])
    for check in bitStringChecks(closed, enumerated) { page.check(check) }
    let L = c.length, p = c.bitProbability
    let priorLaw = try (0...L).map { k in
        exp(try SpecialFunctions.lnChoose(L, k).value + Double(k) * log(p) + Double(L - k) * log1p(-p))
    }
    page.plot(BarChart(title: "Number of ones under the prior and the posterior",
                       description: "Binomial(L, p) under the prior, Binomial(L, p') under the posterior, "
                           + "from enumeration and closed form.",
                       categories: (0...L).map { "\($0)" }, yLabel: "probability",
                       series: [(name: "prior Binomial(L, p)", values: priorLaw),
                                (name: "posterior, enumerated", values: enumerated.countLaw),
                                (name: "posterior, closed form", values: closed.logCountLaw.map { exp($0) })]),
              caption: #"""
                  The reward tilts the count of ones from Binomial$(L, p)$ to Binomial$(L, p')$; enumeration and closed
                  form coincide.
                  """#)
}

/// Each closed form against its enumeration, and the closed forms' value against β log Z.
func bitStringChecks(_ closed: BitStringClosedForms, _ e: BitStringEnumeration) -> [Check] {
    let n = e.prior.count, L = Double(closed.length), beta = closed.beta, scale = closed.scale
    let small = 4 * Double.ulpOfOne
    let stringTolerance = 2 * (summationTolerance(n, scale: 1) + small * scale)
    var strings = WorstCase(.equal)
    for x in 0..<n {
        strings.add(e.posterior.logProbabilities[x], closed.logPosterior[x.nonzeroBitCount], tolerance: stringTolerance,
                    at: "x = \(x)")
    }
    var law = WorstCase(.equal)
    let lawTolerance = 2 * summationTolerance(n, scale: 1) + 2 * closed.lnChooseError + 2 * small * scale
    for k in 0...closed.length {
        law.add(exp(closed.logCountLaw[k]), e.countLaw[k], tolerance: lawTolerance, at: "k = \(k)")
    }
    return [
        Check.close(id: "bits.log-z", #"$\log Z$ in closed form equals log-sum-exp over all $2^L$ strings"#,
                    reference: "eq. 5", aLabel: #"$L \log(1 - p + p e^{1/\beta})$"#,
                    bLabel: #"$\log \sum_x \pi_0(x) e^{r(x)/\beta}$"#, a: closed.logZ, b: e.logZ,
                    relative: 0, absolute: summationTolerance(n, scale: 1) + small * scale,
                    because: "a 2^L-term sum: (2^L+2)ε, plus rounding of L log-terms of size "
                        + "≤ 1/β + |log p| + |log(1−p)|"),
        strings.check(id: "bits.posterior-strings",
                      claim: #"Every string's posterior log-probability is that of independent Bernoulli$(p')$ bits"#,
                      reference: "eq. 5", aLabel: #"$\log \pi^*(x)$ enumerated"#,
                      bLabel: #"$k \log p' + (L - k) \log(1 - p')$"#,
                      because: "log-sum-exp over 2^L terms, (2^L+2)ε, plus rounding of sums of L logs of size ≤ the "
                          + "scale above, twice"),
        law.check(id: "bits.count-law",
                  claim: #"The number of ones under $\pi^*$ is Binomial$(L, p')$, "#
                      + #"with $\log C(L, k)$ from gsl_sf_lnchoose"#,
                  reference: "eq. 5", aLabel: #"$P^*(k)$ closed form"#, bLabel: #"$\sum_{x: k(x) = k} \pi^*(x)$"#,
                  because: "2^L-term sums, GSL's own error estimate of lnchoose, and rounding of "
                      + "k log p' + (L−k) log(1−p')"),
        Check.close(id: "bits.kl", #"$\operatorname{KL}(\pi^*, \pi_0)$ is $L$ times the KL of one bit"#,
                    reference: "eq. 5",
                    aLabel: #"$L \operatorname{KL}(\mathrm{Bern}(p'), \mathrm{Bern}(p))$"#,
                    bLabel: #"$\sum_x \pi^*(x) \log(\pi^*(x)/\pi_0(x))$"#,
                    a: closed.klFromPrior, b: klDivergence(e.posterior, e.prior),
                    relative: 0, absolute: summationTolerance(n, scale: scale) + 2 * small * scale,
                    because: "a 2^L-term sum of terms ≤ the log-ratio scale: (2^L+2)ε scale"),
        Check.close(id: "bits.expected-ones", "The posterior's expected number of ones is $L p'$", reference: "eq. 5",
                    aLabel: "$L p'$", bLabel: #"$\sum_x \pi^*(x) k(x)$"#,
                    a: closed.expectedOnes, b: e.posterior.expectation(e.reward),
                    relative: 0, absolute: summationTolerance(n, scale: L) + small * L,
                    because: "a 2^L-term sum of terms ≤ L: (2^L+2)ε L"),
        Check.close(id: "bits.value",
                    #"The closed forms are worth $\beta \log Z$: "#
                        + #"$L p' - \beta L \operatorname{KL}(p', p) = \beta L \log(1 - p + p e^{1/\beta})$"#,
                    reference: "eq. 6", aLabel: #"$\mathbb{E}_{\pi^*}[r] - \beta \operatorname{KL}$ (closed)"#,
                    bLabel: #"$\beta \log Z$ (closed)"#,
                    a: closed.expectedOnes - beta * closed.klFromPrior, b: beta * closed.logZ,
                    relative: 0, absolute: 4 * small * beta * scale + small * L,
                    because: "a few roundings of terms of size β(L/β + L|log p| + L|log(1−p)|)"),
    ]
}

// MARK: - The two ends of the temperature scale

/// The temperatures of the hot-limit checks (their ids name them).
let hotTemperatures = [10.0, 1000.0]
/// The cold-limit check's temperature, in units of the reward gap Δ: β = Δ/40.
let coldGapRatio = 40.0

func limits(_ c: Context) {
    let page = c.page, s = c.setting
    page.section("Hot and cold: the prior and collapse")
    page.prose(#"""
        At high temperature the evidence $e^{r/\beta}$ is nearly flat and the posterior stays with the prior: by
        Hoeffding's lemma, with $R = \max r - \min r$ and $\bar r = \mathbb{E}_{\pi_0} r$,
        $\operatorname{KL}(\pi_0, \pi^*_\beta) = \log \mathbb{E}_{\pi_0}[e^{(r - \bar r)/\beta}]$, at most \#
        $R^2 / (8 \beta^2)$.
        At low temperature it concentrates on the best outcomes $A$ and keeps the prior's proportions there, the
        collapse of chapter 1: the mass left outside $A$ is at most $\frac{1 - \pi_0(A)}{\pi_0(A)} e^{-\Delta/\beta}$,
        where $\Delta$ is the gap from the best reward to the runner-up. Both bounds are fixed by the reward and the
        prior alone, before any posterior is computed.
        """#)
    page.equation(#"\lim_{\beta \to \infty} \pi^*_\beta = \pi_0, \qquad "#
                  + #"\lim_{\beta \to 0} \pi^*_\beta = \pi_0( \cdot \mid A), \quad A = \argmax_x r(x)"#)
    for hot in hotTemperatures { page.check(hotLimit(s, beta: hot, posterior: s.problem.at(beta: hot).posterior)) }
    let cold = rewardGap(s) / coldGapRatio
    page.check(coldLimit(s, beta: cold, posterior: s.problem.at(beta: cold).posterior))
    let limit = Posterior.zeroTemperatureLimit(prior: s.prior, reward: s.reward)
    let betas = (0...48).map { pow(10, -3 + 6 * Double($0) / 48) }
    let posteriors = betas.map { s.problem.at(beta: $0).posterior }
    page.plot(LinePlot(title: "The posterior between its two limits",
                       description: "Total variation from the posterior to the prior and to the prior restricted to "
                           + "the argmax, across temperatures.",
                       xLabel: "β", yLabel: "total variation", xScale: .log10,
                       series: [Series(#"$\mathrm{TV}(\pi^*_\beta, \pi_0)$"#, x: betas,
                                       y: posteriors.map { totalVariation($0, s.prior) }),
                                Series(#"$\mathrm{TV}(\pi^*_\beta, \pi_0(\cdot \mid A))$"#, x: betas,
                                       y: posteriors.map { totalVariation($0, limit) }, style: .dashed)],
                       references: [ReferenceLine(.vertical, at: s.beta, label: "β of this run")],
                       yIncludesZero: true),
              caption: #"""
                  Hot posteriors are the prior; cold ones are the prior restricted to the best outcomes. The chosen
                  $\beta$ sits between.
                  """#)
}

/// Δ: the gap from the best reward to the runner-up (1 when every reward ties).
func rewardGap(_ s: Setting) -> Double {
    let a = Reward.maximisers(s.reward)
    let runnerUp = (0..<s.n).filter { !a.contains($0) }.map { s.reward[$0] }.max()
    return runnerUp.map { s.reward.max()! - $0 } ?? 1
}

/// β → ∞: KL(π0 ‖ π*_β) ≤ range(r)²/(8β²) (Hoeffding's lemma), for the posterior given.
func hotLimit(_ s: Setting, beta hot: Double, posterior: Distribution) -> Check {
    let range = s.rewardRange
    return Check(id: "limits.hot-\(Int(hot))",
                 claim: #"At $\beta = \#(NumberFormat.format(hot))$ the posterior is within Hoeffding's bound "#
                     + "of the prior",
                 reference: "eq. 5", aLabel: #"$\operatorname{KL}(\pi_0, \pi^*_\beta)$"#,
                 bLabel: #"$(\max r - \min r)^2 / (8\beta^2)$"#,
                 a: klDivergence(s.prior, posterior), b: range * range / (8 * hot * hot), relation: .lessOrEqual,
                 tolerance: summationTolerance(s.n, scale: range / hot + 1) + 4 * Double.ulpOfOne,
                 because: "Hoeffding's lemma is exact; slack for an n-term sum of log-ratios ≤ range/β")
}

/// β → 0: TV(π*_β, π0(·|A)) ≤ (1 − π0(A))/π0(A) e^{−Δ/β}, for the posterior given.
func coldLimit(_ s: Setting, beta cold: Double, posterior: Distribution) -> Check {
    let pA = s.prior.mass(of: Reward.maximisers(s.reward))
    let limit = Posterior.zeroTemperatureLimit(prior: s.prior, reward: s.reward)
    return Check(id: "limits.cold",
                 claim: #"At $\beta = \Delta/40 = \#(NumberFormat.format(cold))$ the posterior is within "#
                    + #"$\frac{1 - \pi_0(A)}{\pi_0(A)} e^{-40}$ of $\pi_0(\cdot \mid A)$ in total variation"#,
                 reference: "eq. 5", aLabel: #"$\mathrm{TV}(\pi^*_\beta, \pi_0(\cdot \mid A))$"#,
                 bLabel: #"$\frac{1 - \pi_0(A)}{\pi_0(A)} e^{-\Delta/\beta}$"#,
                 a: totalVariation(posterior, limit), b: (1 - pA) / pA * exp(-rewardGap(s) / cold),
                 relation: .lessOrEqual, tolerance: summationTolerance(s.n, scale: 1),
                 because: "the bound is exact; slack for n-term rounding")
}

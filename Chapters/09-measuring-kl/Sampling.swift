// Chapter 9, sampled: a seeded Monte Carlo run against the exact moments, the chance that a
// batch mean of k1 is negative, and bias and spread against batch size.
import BookKit
import Foundation
import Finite
import GSL
import Notebook

/// z for the Monte Carlo checks: a two-sided normal tail of about 1.2e-7.
let zCheck = 5.3

// MARK: - A seeded Monte Carlo run agrees with the exact moments

/// Sample means and variances of each estimator over `draws` sequences drawn token by token.
struct SampleMoments {
    let means: [Double]
    let variances: [Double]
    let draws: Int
}

/// Draws `draws` sequences from `model` token by token and averages each row's values (Welford).
func sampleMoments(_ rows: [EstimatorRow], from model: AutoregressiveModel, draws: Int,
                   _ rng: RandomGenerator) -> SampleMoments {
    var mean = [Double](repeating: 0, count: rows.count), m2 = mean
    for i in 1...draws {
        let x = model.sample { rng.uniform() }
        for (j, r) in rows.enumerated() {
            let v = r.values[x], d = v - mean[j]
            mean[j] += d / Double(i)
            m2[j] += d * (v - mean[j])
        }
    }
    return SampleMoments(means: mean, variances: m2.map { $0 / Double(draws - 1) }, draws: draws)
}

func monteCarlo(_ c: Context, _ rows: [EstimatorRow]) {
    let page = c.page, s = c.setting
    page.section("A sampled run agrees with the exact numbers")
    let draws = c.quick ? 20_000 : 200_000
    page.prose(#"""
        As a check on the enumeration, draw \#(draws) sequences token by token from $\pi_\theta$, exactly as a \#
        language model samples, and average each estimator. Means must land within \#(zCheck) standard errors of \#
        the exact means; sample variances within \#(zCheck) standard errors of the exact variances, the standard \#
        error of a variance being $\sqrt{(\mu_4 - \sigma^4)/R}$ with the exact fourth central moment $\mu_4$. Each \#
        check reports the estimator nearest to its allowance; @tbl:monte-carlo has all six.
        """#)
    let m = sampleMoments(rows, from: s.policy, draws: draws, c.seeds.generator("monte-carlo"))
    page.check(monteCarloMeansCheck(rows, m))
    page.check(monteCarloVariancesCheck(rows, m))
    let table = rows.enumerated().map { j, r in
        [r.name, NumberFormat.format(r.moments.mean), NumberFormat.format(m.means[j]),
         NumberFormat.format(r.moments.standardDeviation / Double(draws).squareRoot(), significant: 2),
         NumberFormat.format(r.moments.variance, significant: 5), NumberFormat.format(m.variances[j], significant: 5)]
    }
    page.table(headers: ["estimator", "exact mean", "MC mean", "standard error", "exact variance", "MC variance"],
               rows: table, caption: "\(draws) sequences sampled token by token against the exact sums",
               label: "monte-carlo")
}

/// Each estimator's sample mean against its exact mean, within zCheck standard errors σ/√R.
func monteCarloMeansCheck(_ rows: [EstimatorRow], _ m: SampleMoments) -> Check {
    var w = WorstCase(.equal)
    for (j, r) in rows.enumerated() {
        let se = r.moments.standardDeviation / Double(m.draws).squareRoot()
        w.add(m.means[j], r.moments.mean, tolerance: zCheck * se, at: r.name)
    }
    return w.check(id: "monte-carlo.means", claim: "Monte Carlo means of the six estimators match their exact means",
                   reference: "eq. 3", aLabel: "MC mean", bLabel: "exact mean",
                   because: "\(zCheck) standard errors σ/√R of \(m.draws) draws: false failure ≈ 1e-7 each")
}

/// Each estimator's sample variance against its exact variance, within zCheck standard errors
/// √((μ₄ − σ⁴)/R) of a sample variance.
func monteCarloVariancesCheck(_ rows: [EstimatorRow], _ m: SampleMoments) -> Check {
    var w = WorstCase(.equal)
    for (j, r) in rows.enumerated() {
        let se = max(0, r.moments.fourthCentral - r.moments.variance * r.moments.variance).squareRoot()
            / Double(m.draws).squareRoot()
        w.add(m.variances[j], r.moments.variance, tolerance: zCheck * se, at: r.name)
    }
    return w.check(id: "monte-carlo.variances",
                   claim: "Monte Carlo variances of the six estimators match their exact variances",
                   reference: "eq. 3", aLabel: "sample variance", bLabel: "exact variance",
                   because: "\(zCheck) standard errors √((μ₄ − σ⁴)/R) of a sample variance of \(m.draws) draws")
}

// MARK: - When is a batch mean of k1 negative?

let batchSizes = Array(1...256)

/// Counts over `streams` seeded streams of draws of k1 from p: for each batch size n up to
/// `maxBatch`, how many streams have a negative sum of their first n draws, and the sums of
/// max(0, mean) and its square (the clipped estimate).
struct BatchCounts {
    let streams: Int
    var negative: [Double]
    var clipped: [Double]
    var clippedSquared: [Double]

    init(k1: [Double], under p: Distribution, streams: Int, maxBatch: Int, _ rng: RandomGenerator) throws {
        self.streams = streams
        let sampler = try DiscreteSampler(weights: p.probabilities)
        negative = [Double](repeating: 0, count: maxBatch)
        clipped = negative; clippedSquared = negative
        for _ in 0..<streams {
            var sum = 0.0
            for n in 1...maxBatch {
                sum += k1[sampler.sample(rng)]
                if sum < 0 { negative[n - 1] += 1 }
                let c = max(0, sum / Double(n))
                clipped[n - 1] += c; clippedSquared[n - 1] += c * c
            }
        }
    }

    /// The sampled frequency of a negative batch mean at batch size n.
    func frequency(_ n: Int) -> Double { negative[n - 1] / Double(streams) }
}

/// E_p[e^{−λℓ}] on the grid λ = j/steps: the Chernoff function the rate ρ minimises.
func chernoffFunction(_ p: Distribution, _ q: Distribution, lambda: Double) -> Double {
    p.expectation((0..<p.count).map { exp(-lambda * (p.logProbabilities[$0] - q.logProbabilities[$0])) })
}

func negativity(_ c: Context, _ rows: [EstimatorRow]) throws {
    let page = c.page, s = c.setting
    page.section("How often a batch estimate of KL is negative")
    let k1 = rows[0].values
    let kl = rows[0].moments.mean, sigma = rows[0].moments.standardDeviation
    let streams = c.quick ? 5_000 : 40_000
    // n = 3 costs N² log N: exact up to N = 1500, sampled only beyond.
    let exactSizes = s.n <= 1500 ? 3 : 2
    page.prose(#"""
        Averaging $k_1$ over a batch of $n$ sequences keeps it unbiased and shrinks its spread by $\sqrt{n}$, but the \#
        average is still negative with some probability. For $n \le \#(exactSizes)$ we compute that probability \#
        exactly by sorting the \#(s.n) values of $k_1$. For every $n$ up to 256 we estimate it from \#(streams) \#
        seeded streams of 256 draws (the first $n$ draws of a stream form its batch of size $n$, so the curves for \#
        different $n$ are correlated, each point unbiased), and bound it with the Chernoff bound, which falls \#
        geometrically in $n$. The bound is shown, not checked: the sampled frequencies sit far below it, so a \#
        comparison with it could not fail. What is checked is the rate $\rho$ itself, the minimum of \#
        $\mathbb{E}_{\pi_\theta}[e^{-\lambda ℓ}]$ that GSL's Brent solver finds as the root of its derivative, \#
        against the smallest value on a grid of $\lambda$. The normal approximation \#
        $\Phi(-\sqrt{n}\,\operatorname{KL}/\sigma)$ is shown for comparison only: it is not a bound.
        """#)
    page.equation(#"""
        \operatorname{P} \left( \frac{1}{n} \sum_{i=1}^{n} k_1(x_i) \le 0 \right) \le \rho^n, \qquad \rho = \#
        \min_{0 \le \lambda \le 1} \sum_x \pi_\theta(x)^{1 - \lambda} \pi_0(x)^{\lambda}
        """#)
    let (rho, lambda) = try chernoffRate(s.p, s.q)
    page.parameters([("streams", "\(streams) × 256 draws (seeded)"), ("Chernoff rate ρ", NumberFormat.format(rho)),
                     ("minimising λ", NumberFormat.format(lambda, significant: 4)),
                     ("KL / σ of one k1", NumberFormat.format(kl / sigma, significant: 4))])
    let counts = try BatchCounts(k1: k1, under: s.p, streams: streams, maxBatch: batchSizes.count,
                                 c.seeds.generator("batches"))
    let pHat = batchSizes.map { counts.frequency($0) }
    var exact: [Double] = []
    page.sweep("$P(\\text{mean of } n\\ k_1 < 0)$: the exact sum against the sampled frequency, for each small $n$") {
        for n in 1...exactSizes {
            let pe = probabilityNegativeSum(values: k1, probabilities: s.p.probabilities, draws: n)
            exact.append(pe)
            page.check(exactNegativeCheck(n: n, exact: pe, counts))
        }
    }
    page.check(chernoffRateCheck(rho: rho, s.p, s.q))
    let normal = try batchSizes.map { n in
        try SpecialFunctions.erfc((Double(n).squareRoot() * kl / sigma) / 2.0.squareRoot()).value / 2
    }
    let shown = [1, 2, 3, 4, 8, 16, 32, 64, 128, 256]
    page.table(headers: ["batch size n", "exact", "sampled", "Chernoff bound ρⁿ", "normal approximation"],
               rows: shown.map { n in
                   [String(n), n <= exact.count ? NumberFormat.format(exact[n - 1], significant: 4) : "—",
                    NumberFormat.format(pHat[n - 1], significant: 4),
                    NumberFormat.format(min(1, pow(rho, Double(n))), significant: 4),
                    NumberFormat.format(normal[n - 1], significant: 4)]
               },
               caption: "Probability that the batch mean of k1 is negative (sampled: \(streams) batches each)")
    let xs = batchSizes.map(Double.init)
    let floor = 0.5 / Double(streams)
    page.plot(LinePlot(title: "Negative KL estimates against batch size",
                       description: "Probability that the mean of n k1 values is below zero.",
                       xLabel: "batch size n", yLabel: "P(mean k1 < 0)", xScale: .log10, yScale: .log10,
                       series: [Series("sampled", x: xs, y: pHat.map { max($0, floor) }, style: .points),
                                Series("Chernoff bound ρⁿ", x: xs, y: xs.map { max(min(1, pow(rho, $0)), floor) }),
                                Series("normal approximation", x: xs, y: normal.map { max($0, floor) }, style: .dashed),
                                Series("exact (n ≤ \(exact.count))", x: (1...exact.count).map(Double.init),
                                       y: exact.map { max($0, floor) }, style: .lineAndPoints)]),
              caption: "The chance of a negative estimate falls with n, geometrically at worst (Chernoff); points at "
                + "the bottom edge mean no negative batch was seen among \(streams).")
    page.record("chernoff_rate", rho)
    page.record("p_negative_n1", exact[0])
    // The first n from which every sampled frequency stays below 5% (it need not fall monotonically).
    let n5 = batchSizes.first { n in pHat[(n - 1)...].allSatisfy { $0 < 0.05 } }
    let at256 = pHat[255] > 0 ? NumberFormat.format(pHat[255], significant: 3)
        : "0 of \(streams) sampled batches, below \(NumberFormat.format(3 / Double(streams), significant: 2)) at 95% "
            + "confidence"
    c.answers.add("How large a batch before the k1 estimate stops going negative?",
                  "It never stops, it only becomes rare: P(mean k1 < 0) is "
                    + "\(NumberFormat.format(exact[0], significant: 3)) for one sample, "
                    + "\(NumberFormat.format(pHat[15], significant: 3)) for 16 and \(at256) for 256, "
                    + (n5.map { "below 5% from n = \($0) on" } ?? "still above 5% at 256")
                    + ", and at most ρⁿ with ρ = \(NumberFormat.format(rho, significant: 4)) (table of negative batch "
                    + "means).")
    biasAndSpread(c, rows, counts)
}

/// The exact P(mean of n k1 < 0), a sum over the sorted values, against the sampled frequency,
/// within the Wilson score interval at z = zCheck.
func exactNegativeCheck(n: Int, exact pe: Double, _ counts: BatchCounts) -> Check {
    let R = Double(counts.streams), pHat = counts.frequency(n)
    let (lo, hi) = wilson(successes: counts.negative[n - 1], trials: R, z: zCheck)
    return Check(id: "negativity.exact-n\(n)",
                 claim: "$P(\\text{mean of } \(n)\\ k_1 < 0)$: exact sum over sorted values against the sampled "
                    + "frequency",
                 reference: "beyond the paper", aLabel: "sampled frequency", bLabel: "exact", a: pHat, b: pe,
                 tolerance: pe >= pHat ? hi - pHat : pHat - lo,
                 because: "Wilson score interval at z = \(zCheck) for \(counts.streams) batches (false failure ≈ 1e-7)")
}

/// The Chernoff rate ρ found by Brent (the root of the derivative) against the smallest value
/// of E_p[e^{−λℓ}] on a grid of 2000 steps in λ. The true minimum is within h/2 of a grid
/// point, where the function exceeds it by at most ½ M (h/2)², M = max(m″(0), m″(1)) (m″ is
/// convex, so its largest value on [0, 1] is at an end).
func chernoffRateCheck(rho: Double, _ p: Distribution, _ q: Distribution) -> Check {
    let steps = 2000, h = 1 / Double(steps)
    let gridMinimum = (0...steps).map { chernoffFunction(p, q, lambda: Double($0) * h) }.min()!
    let l = (0..<p.count).map { p.logProbabilities[$0] - q.logProbabilities[$0] }
    let curvature = { (lambda: Double) in p.expectation(l.map { $0 * $0 * exp(-lambda * $0) }) }
    let M = max(curvature(0), curvature(1))
    return Check(id: "negativity.chernoff-rate",
                 claim: "The Chernoff rate $\\rho$ from Brent's root of the derivative is the minimum of "
                    + "$\\mathbb{E}_{\\pi_\\theta}[e^{-\\lambda ℓ}]$ over a grid of 2001 values of $\\lambda$",
                 reference: "beyond the paper", aLabel: "ρ (Brent)", bLabel: "grid minimum", a: rho, b: gridMinimum,
                 tolerance: M * h * h / 8 + roundingTolerance(terms: 2 * p.count, scale: 2),
                 because: "½ M (h/2)² with h = 1/2000 and M the largest curvature at the ends, plus the rounding of "
                    + "two N-term sums")
}

// MARK: - Bias and spread against batch size

func biasAndSpread(_ c: Context, _ rows: [EstimatorRow], _ counts: BatchCounts) {
    let page = c.page, s = c.setting
    page.section("Bias, spread and which estimator to use")
    let kl = rows[0].moments.mean
    let R = Double(counts.streams)
    let clipped = counts.clipped.map { $0 / R }, clippedSq = counts.clippedSquared.map { $0 / R }
    page.prose(#"""
        A batch mean of $n$ single-sample estimates keeps its single-sample bias and has standard deviation \#
        $\sigma/\sqrt{n}$, so its root-mean-square error is $\sqrt{b^2 + \sigma^2/n}$: exact numbers from the \#
        moments above. Clipping negative batch means of $k_1$ at zero, as some logging code does, trades the \#
        negative values for a positive bias; that bias is sampled from the same streams.
        """#)
    page.check(clippedMeanCheck(sampled: clipped[0], k1: rows[0].values, under: s.p, streams: counts.streams))
    let shown = [1, 4, 16, 64, 256]
    var table: [[String]] = []
    for r in rows {
        let b = r.moments.mean - kl
        table.append([r.name, NumberFormat.format(b, significant: 3)] + shown.map { n in
            NumberFormat.format((b * b + r.moments.variance / Double(n)).squareRoot(), significant: 3)
        })
    }
    table.append(["max(0, mean k1), sampled", NumberFormat.format(clipped[0] - kl, significant: 3) + " at n = 1"]
        + shown.map { n in
            NumberFormat.format((clippedSq[n - 1] - 2 * kl * clipped[n - 1] + kl * kl).squareRoot(), significant: 3)
        })
    page.table(headers: ["estimator", "bias"] + shown.map { "RMSE, n = \($0)" }, rows: table,
               caption: "Root-mean-square error of the batch mean against the true KL \(NumberFormat.format(kl)) "
                + "(exact except the clipped row)")
    let xs = (0...8).map { pow(2, Double($0)) }
    var series: [Series] = []
    for r in rows {
        series.append(Series("σ/√n: \(r.name)", x: xs, y: xs.map { r.moments.standardDeviation / $0.squareRoot() }))
    }
    for r in rows where Swift.abs(r.moments.mean - kl) > 1e-9 * max(kl, 1e-300) {
        let bias = Swift.abs(r.moments.mean - kl)
        series.append(Series("|bias|: \(r.name)", x: xs, y: xs.map { _ in bias }, style: .dashed))
    }
    page.plot(LinePlot(title: "Standard deviation and bias against batch size",
                       description: "Spread of a batch mean falls as one over root n; bias does not fall.",
                       xLabel: "batch size n", yLabel: "nats", xScale: .log10, yScale: .log10, series: series),
              caption: "Solid lines: the standard deviation of each batch mean; dashed: the absolute bias of the "
                + "biased estimators (k2), which no batch size removes.")
    // The recommendation, from the numbers.
    let unbiased = rows.filter { Swift.abs($0.moments.mean - kl) <= 1e-9 * max(1, kl) }
    let quietest = unbiased.min { $0.moments.variance < $1.moments.variance }!
    let rmse = { (r: EstimatorRow, n: Double) in
        let b = r.moments.mean - kl
        return (b * b + r.moments.variance / n).squareRoot()
    }
    let best1 = rows.min { rmse($0, 1) < rmse($1, 1) }!, best256 = rows.min { rmse($0, 256) < rmse($1, 256) }!
    let k2Bias = NumberFormat.format(rows[1].moments.mean - kl, significant: 2)
    let others = unbiased.filter { $0.key != quietest.key }.map {
        "\(NumberFormat.format($0.moments.standardDeviation, significant: 3)) for \($0.name)"
    }
    c.answers.add("Which of k1, k2, k3 should I use?",
                  "Among the unbiased ones, \(quietest.name) has the smallest standard deviation "
                    + "(\(NumberFormat.format(quietest.moments.standardDeviation, significant: 3)) against "
                    + "\(others.joined(separator: " and "))); by "
                    + "root-mean-square error the best is "
                    + (best1.key == best256.key ? "\(best1.name) for one sample and for batches of 256, "
                        : "\(best1.name) for one sample and \(best256.name) for batches of 256, ")
                    + (best256.name.hasPrefix("k2")
                        ? "because k2's bias (\(k2Bias)) is still smaller than the spread it saves, though no batch "
                            + "size removes it (RMSE table)."
                        : "because k2's bias (\(k2Bias)) does not shrink with the batch while the spreads do (RMSE "
                            + "table)."))
}

/// The sampled mean of max(0, k1) for one draw against its exact value.
func clippedMeanCheck(sampled: Double, k1: [Double], under p: Distribution, streams: Int) -> Check {
    let clippedValues = k1.map { max(0, $0) }
    let exact = p.expectation(clippedValues)
    let se = p.variance(clippedValues).squareRoot() / Double(streams).squareRoot()
    return Check(id: "bias.clipped-mean", claim: "Sampled mean of $\\max(0, k_1)$ for one draw matches its exact value",
                 reference: "beyond the paper", aLabel: "sampled", bLabel: "exact $\\mathbb{E}[\\max(0, k_1)]$",
                 a: sampled, b: exact, tolerance: zCheck * se, because: "\(zCheck) standard errors of \(streams) draws")
}

/// The Wilson score interval for a binomial proportion at normal quantile z.
func wilson(successes k: Double, trials n: Double, z: Double) -> (Double, Double) {
    if k == 0 { return (0, z * z / (n + z * z)) }   // the closed form at zero successes, free of rounding
    let p = k / n
    let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
    return (max(0, centre - half), min(1, centre + half))
}

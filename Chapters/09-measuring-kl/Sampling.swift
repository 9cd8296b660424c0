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

func monteCarlo(_ page: Page, _ s: Setting, _ rows: [EstimatorRow], _ seeds: Seeds, quick: Bool) {
    page.section("A sampled run agrees with the exact numbers")
    let draws = quick ? 20_000 : 200_000
    page.prose("As a check on the enumeration, draw \(draws) sequences token by token from $\\pi_\\theta$, exactly as a language model samples, and average each estimator. Means must land within \(zCheck) standard errors of the exact means; sample variances within \(zCheck) standard errors of the exact variances, the standard error of a variance being $\\sqrt{(\\mu_4 - \\sigma^4)/R}$ with the exact fourth central moment $\\mu_4$.")
    let rng = seeds.generator("monte-carlo")
    var mean = [Double](repeating: 0, count: rows.count), m2 = mean
    for i in 1...draws {
        let x = s.policy.sample { rng.uniform() }
        for (j, r) in rows.enumerated() {
            let v = r.values[x], d = v - mean[j]
            mean[j] += d / Double(i)
            m2[j] += d * (v - mean[j])
        }
    }
    var table: [[String]] = []
    for (j, r) in rows.enumerated() {
        let se = r.moments.standardDeviation / Double(draws).squareRoot()
        page.check(Check(claim: "Monte Carlo mean of \(r.name) matches its exact mean", reference: "eq. 3",
                         aLabel: "MC mean", bLabel: "exact mean", a: mean[j], b: r.moments.mean, tolerance: zCheck * se,
                         because: "\(zCheck) standard errors σ/√R of \(draws) draws: false failure ≈ 1e-7"))
        let sampleVariance = m2[j] / Double(draws - 1)
        let seVar = max(0, r.moments.fourthCentral - r.moments.variance * r.moments.variance).squareRoot() / Double(draws).squareRoot()
        page.check(Check(claim: "Monte Carlo variance of \(r.name) matches its exact variance", reference: "eq. 3",
                         aLabel: "sample variance", bLabel: "exact variance", a: sampleVariance, b: r.moments.variance, tolerance: zCheck * seVar,
                         because: "\(zCheck) standard errors √((μ₄ − σ⁴)/R) of a sample variance of \(draws) draws"))
        table.append([r.name, NumberFormat.format(r.moments.mean), NumberFormat.format(mean[j]), NumberFormat.format(se, significant: 2),
                      NumberFormat.format(r.moments.variance, significant: 5), NumberFormat.format(sampleVariance, significant: 5)])
    }
    page.table(headers: ["estimator", "exact mean", "MC mean", "standard error", "exact variance", "MC variance"], rows: table,
               caption: "\(draws) sequences sampled token by token against the exact sums")
}

// MARK: - When is a batch mean of k1 negative?

let batchSizes = Array(1...256)

func negativity(_ page: Page, _ s: Setting, _ rows: [EstimatorRow], _ seeds: Seeds, quick: Bool, _ answers: Answers) throws {
    page.section("How often a batch estimate of KL is negative")
    let k1 = rows[0].values
    let kl = rows[0].moments.mean, sigma = rows[0].moments.standardDeviation
    let streams = quick ? 5_000 : 40_000
    page.prose("Averaging $k_1$ over a batch of $n$ sequences keeps it unbiased and shrinks its spread by $\\sqrt{n}$, but the average is still negative with some probability. For $n \\le \(s.n <= 1500 ? 3 : 2)$ we compute that probability exactly by sorting the \(s.n) values of $k_1$. For every $n$ up to 256 we estimate it from \(streams) seeded streams of 256 draws (the first $n$ draws of a stream form its batch of size $n$, so the curves for different $n$ are correlated, each point unbiased), and bound it with the Chernoff bound, which falls geometrically in $n$. The normal approximation $\\Phi(-\\sqrt{n}\\,\\operatorname{KL}/\\sigma)$ is shown for comparison only: it is not a bound.")
    page.equation("\\operatorname{P} \\left( \\frac{1}{n} \\sum_{i=1}^{n} k_1(x_i) \\le 0 \\right) \\le \\rho^n, \\qquad \\rho = \\min_{0 \\le \\lambda \\le 1} \\sum_x \\pi_\\theta(x)^{1 - \\lambda} \\pi_0(x)^{\\lambda}")
    let (rho, lambda) = try chernoffRate(s.p, s.q)
    page.parameters([("streams", "\(streams) × 256 draws (seeded)"), ("Chernoff rate ρ", NumberFormat.format(rho)), ("minimising λ", NumberFormat.format(lambda, significant: 4)),
                     ("KL / σ of one k1", NumberFormat.format(kl / sigma, significant: 4))])
    let sampler = try DiscreteSampler(weights: s.p.probabilities)
    let rng = seeds.generator("batches")
    var negative = [Double](repeating: 0, count: batchSizes.count)
    var clipped = negative, clippedSq = negative
    for _ in 0..<streams {
        var sum = 0.0
        for n in batchSizes {
            sum += k1[sampler.sample(rng)]
            if sum < 0 { negative[n - 1] += 1 }
            let c = max(0, sum / Double(n))
            clipped[n - 1] += c; clippedSq[n - 1] += c * c
        }
    }
    let R = Double(streams)
    let pHat = negative.map { $0 / R }
    var exact: [Double] = []
    // n = 3 costs N² log N: exact up to N = 1500, sampled only beyond.
    let exactSizes = s.n <= 1500 ? 3 : 2
    for n in 1...exactSizes {
        let pe = probabilityNegativeSum(values: k1, probabilities: s.p.probabilities, draws: n)
        exact.append(pe)
        let (lo, hi) = wilson(successes: negative[n - 1], trials: R, z: zCheck)
        page.check(Check(claim: "P(mean of \(n) k1 < 0): exact sum over sorted values against the sampled frequency", reference: "beyond the paper",
                         aLabel: "sampled frequency", bLabel: "exact", a: pHat[n - 1], b: pe, tolerance: pe >= pHat[n - 1] ? hi - pHat[n - 1] : pHat[n - 1] - lo,
                         because: "Wilson score interval at z = \(zCheck) for \(streams) batches (false failure ≈ 1e-7)"))
    }
    // The Chernoff bound for every n, at z = 6 since 256 sizes are tested together.
    // Report the n where the interval's lower end comes closest to the bound, relatively.
    var worst = -Double.infinity, worstN = 1, worstTol = 0.0
    for n in batchSizes {
        let bound = pow(rho, Double(n))
        let (lo, _) = wilson(successes: negative[n - 1], trials: R, z: 6)
        if lo / bound > worst { worst = lo / bound; worstN = n; worstTol = max(0, pHat[n - 1] - lo) }
    }
    page.check(Check(claim: "The sampled P(mean of n k1 < 0) respects the Chernoff bound ρⁿ for every n ≤ 256 (closest n = \(worstN))", reference: "beyond the paper",
                     aLabel: "sampled frequency", bLabel: "ρⁿ", a: pHat[worstN - 1], b: pow(rho, Double(worstN)), relation: .lessOrEqual,
                     tolerance: worstTol, because: "lower end of the Wilson interval at z = 6, so 256 simultaneous tests fail falsely with probability below 1e-6"))
    let normal = try batchSizes.map { n in try SpecialFunctions.erfc((Double(n).squareRoot() * kl / sigma) / 2.0.squareRoot()).value / 2 }
    let shown = [1, 2, 3, 4, 8, 16, 32, 64, 128, 256]
    page.table(headers: ["batch size n", "exact", "sampled", "Chernoff bound ρⁿ", "normal approximation"],
               rows: shown.map { n in
                   [String(n), n <= exact.count ? NumberFormat.format(exact[n - 1], significant: 4) : "—", NumberFormat.format(pHat[n - 1], significant: 4),
                    NumberFormat.format(min(1, pow(rho, Double(n))), significant: 4), NumberFormat.format(normal[n - 1], significant: 4)]
               },
               caption: "Probability that the batch mean of k1 is negative (sampled: \(streams) batches each)")
    let xs = batchSizes.map(Double.init)
    let floor = 0.5 / R
    page.plot(LinePlot(title: "Negative KL estimates against batch size", description: "Probability that the mean of n k1 values is below zero.",
                       xLabel: "batch size n", yLabel: "P(mean k1 < 0)", xScale: .log10, yScale: .log10,
                       series: [Series("sampled", x: xs, y: pHat.map { max($0, floor) }, style: .points),
                                Series("Chernoff bound ρⁿ", x: xs, y: xs.map { max(min(1, pow(rho, $0)), floor) }),
                                Series("normal approximation", x: xs, y: normal.map { max($0, floor) }, style: .dashed),
                                Series("exact (n ≤ \(exact.count))", x: (1...exact.count).map(Double.init), y: exact.map { max($0, floor) }, style: .lineAndPoints)]),
              caption: "The chance of a negative estimate falls with n, geometrically at worst (Chernoff); points at the bottom edge mean no negative batch was seen among \(streams).")
    page.record("chernoff_rate", rho)
    page.record("p_negative_n1", exact[0])
    let n5 = batchSizes.first { pHat[$0 - 1] < 0.05 }
    answers.add("How large a batch before the k1 estimate stops going negative?",
                "It never stops, it only becomes rare: P(mean k1 < 0) is \(NumberFormat.format(exact[0], significant: 3)) for one sample, \(NumberFormat.format(pHat[15], significant: 3)) for 16 and \(pHat[255] > 0 ? NumberFormat.format(pHat[255], significant: 3) : "0 of \(streams) sampled batches, below \(NumberFormat.format(3 / R, significant: 2)) at 95% confidence") for 256, \(n5.map { "below 5% from n = \($0) on" } ?? "still above 5% at 256"), and at most ρⁿ with ρ = \(NumberFormat.format(rho, significant: 4)) (table of negative batch means).")
    biasAndSpread(page, s, rows, clipped: clipped.map { $0 / R }, clippedSq: clippedSq.map { $0 / R }, streams: streams, answers)
}

// MARK: - Bias and spread against batch size

func biasAndSpread(_ page: Page, _ s: Setting, _ rows: [EstimatorRow], clipped: [Double], clippedSq: [Double], streams: Int, _ answers: Answers) {
    page.section("Bias, spread and which estimator to use")
    let kl = rows[0].moments.mean
    page.prose("A batch mean of $n$ single-sample estimates keeps its single-sample bias and has standard deviation $\\sigma/\\sqrt{n}$, so its root-mean-square error is $\\sqrt{b^2 + \\sigma^2/n}$: exact numbers from the moments above. Clipping negative batch means of $k_1$ at zero, as some logging code does, trades the negative values for a positive bias; that bias is sampled from the same streams.")
    let exactClip = s.p.expectation(rows[0].values.map { max(0, $0) })
    let exactClipSD = s.p.variance(rows[0].values.map { max(0, $0) }).squareRoot() / Double(streams).squareRoot()
    page.check(Check(claim: "Sampled mean of max(0, k1) for one draw matches its exact value", reference: "beyond the paper",
                     aLabel: "sampled", bLabel: "exact E[max(0, k1)]", a: clipped[0], b: exactClip, tolerance: zCheck * exactClipSD,
                     because: "\(zCheck) standard errors of \(streams) draws"))
    let shown = [1, 4, 16, 64, 256]
    var table: [[String]] = []
    for r in rows {
        let b = r.moments.mean - kl
        table.append([r.name, NumberFormat.format(b, significant: 3)] + shown.map { n in
            NumberFormat.format((b * b + r.moments.variance / Double(n)).squareRoot(), significant: 3)
        })
    }
    table.append(["max(0, mean k1), sampled", NumberFormat.format(clipped[0] - kl, significant: 3) + " at n = 1"] + shown.map { n in
        NumberFormat.format((clippedSq[n - 1] - 2 * kl * clipped[n - 1] + kl * kl).squareRoot(), significant: 3)
    })
    page.table(headers: ["estimator", "bias"] + shown.map { "RMSE, n = \($0)" }, rows: table,
               caption: "Root-mean-square error of the batch mean against the true KL \(NumberFormat.format(kl)) (exact except the clipped row)")
    let xs = (0...8).map { pow(2, Double($0)) }
    var series: [Series] = []
    for r in rows {
        series.append(Series("σ/√n: \(r.name)", x: xs, y: xs.map { r.moments.standardDeviation / $0.squareRoot() }))
    }
    for r in rows where Swift.abs(r.moments.mean - kl) > 1e-9 * max(kl, 1e-300) {
        series.append(Series("|bias|: \(r.name)", x: xs, y: xs.map { _ in Swift.abs(r.moments.mean - kl) }, style: .dashed))
    }
    page.plot(LinePlot(title: "Standard deviation and bias against batch size", description: "Spread of a batch mean falls as one over root n; bias does not fall.",
                       xLabel: "batch size n", yLabel: "nats", xScale: .log10, yScale: .log10, series: series),
              caption: "Solid lines: the standard deviation of each batch mean; dashed: the absolute bias of the biased estimators (k2), which no batch size removes.")
    // The recommendation, from the numbers.
    let unbiased = rows.filter { Swift.abs($0.moments.mean - kl) <= 1e-9 * max(1, kl) }
    let quietest = unbiased.min { $0.moments.variance < $1.moments.variance }!
    let rmse = { (r: EstimatorRow, n: Double) in let b = r.moments.mean - kl; return (b * b + r.moments.variance / n).squareRoot() }
    let best1 = rows.min { rmse($0, 1) < rmse($1, 1) }!, best256 = rows.min { rmse($0, 256) < rmse($1, 256) }!
    answers.add("Which of k1, k2, k3 should I use?",
                "Among the unbiased ones, \(quietest.name) has the smallest standard deviation (\(NumberFormat.format(quietest.moments.standardDeviation, significant: 3)) against \(NumberFormat.format(rows[0].moments.standardDeviation, significant: 3)) for k1); by root-mean-square error the best is \(best1.name) for one sample and \(best256.name) for batches of 256, " +
                (best256.name.hasPrefix("k2") ? "because k2's bias (\(NumberFormat.format(rows[1].moments.mean - kl, significant: 2))) is still smaller than the spread it saves, though no batch size removes it (RMSE table)."
                                              : "because k2's bias (\(NumberFormat.format(rows[1].moments.mean - kl, significant: 2))) does not shrink with the batch while the spreads do (RMSE table)."))
}

/// The Wilson score interval for a binomial proportion at normal quantile z.
func wilson(successes k: Double, trials n: Double, z: Double) -> (Double, Double) {
    if k == 0 { return (0, z * z / (n + z * z)) }   // the closed form at zero successes, free of rounding
    let p = k / n
    let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
    return (max(0, centre - half), min(1, centre + half))
}

// Chapter 6: modelling vs inference (paper §5).
//
// Writing down the posterior is modelling; drawing samples that follow it is inference. This
// program builds a binary-preference posterior ("never curse") over the sentences of a small
// bigram language model, then samples it exactly by filtering, approximately by independent
// Metropolis-Hastings, importance sampling and quasi-rejection, each against exact sums.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct ModellingAndInference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelling-and-inference",
        abstract: "Chapter 6: a posterior is a model; filtering, Metropolis-Hastings and importance sampling are ways to sample it.",
        discussion: "Verifies paper §5 on the sentences of a bigram language model and writes Output/06-modelling-and-inference.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Sentence length L in words (1 to 8); the space has 5^L sentences.")
    var length: Int = 6

    @Option(help: "Accepted draws of each sampler (1000 to 2000000); --quick uses a fifth, at least 1000.")
    var samples: Int = 100_000

    @Option(help: "Temperature β of the real-reward posterior (0.25 to 10).")
    var beta: Double = 0.5

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (1...8).contains(length) else { throw ValidationError("--length must be between 1 and 8 (got \(length))") }
        guard (1000...2_000_000).contains(samples) else { throw ValidationError("--samples must be between 1000 and 2000000 (got \(samples))") }
        guard beta.isFinite, beta >= 0.25, beta <= 10 else { throw ValidationError("--beta must be in [0.25, 10] (got \(beta))") }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "06-modelling-and-inference", number: 6, title: "Modelling vs inference",
            summary: "A binary preference defines the posterior π0·b/Z; filtering samples it exactly, and Metropolis-Hastings, importance sampling and quasi-rejection approximate it with exactly computable errors.")
        let draws = common.quick ? max(1000, samples / 5) : samples
        try chapter.run(options: common, parameters: [("length", "\(length)"), ("samples", "\(samples)"), ("beta", "\(beta)")]) { page, seeds in
            let lm = try BigramModel(length: length, rng: seeds.generator("bigram"))
            binaryPosterior(page, lm, seeds)
            try filtering(page, lm, seeds, draws: draws)
            try realRewardFiltering(page, lm, seeds, draws: draws, beta: beta)
            binaryLimit(page, lm)
            metropolisHastings(page, lm, beta: beta)
            importanceSampling(page, lm, seeds, draws: draws, beta: beta)
            try quasiRejection(page, seeds, draws: draws)
        }
    }
}

/// z for a two-sided normal test with false-failure probability about 1.2e-7.
let zLevel = 5.3
/// Level of every chi-square goodness-of-fit test: a correct sampler fails it with probability 10⁻⁶.
let chiSquareLevel = 1e-6

/// Rounding allowance for an n-term sum of terms up to `scale`: (n + 2) ε scale.
func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

// MARK: - §5, modelling: the binary posterior

func binaryPosterior(_ page: Page, _ lm: BigramModel, _ seeds: Seeds) {
    page.section("A binary preference defines a posterior")
    page.prose("Our prior $\\pi_0$ is a bigram language model over the five words \(lm.words.map { "“\($0)”" }.joined(separator: ", ")), writing sentences of exactly \(lm.length) words: \(lm.n) sentences in all, each with positive probability. The preference is binary: a sentence is acceptable when it never uses the curse word “\(lm.words[BigramModel.curse])”. Conditioning on acceptability keeps every acceptable sentence at its prior odds and removes the rest; the normaliser is the prior probability of being acceptable, and the divergence from the prior is exactly the information in that condition.")
    page.equation("\\pi^*(x) = \\frac{1}{Z} \\pi_0(x) b(x), \\quad Z = \\pi_0(b = 1), \\quad \\mathrm{KL}(\\pi^* \\| \\pi_0) = -\\log Z")
    page.aside("The paper's §5 defines b(x) = 1 when x contains a curse word, which would make π* the distribution of cursing sentences; for π* to be non-cursing, b(x) must be 1 exactly when x does NOT contain a curse word. That is the definition used here (the erratum is listed once, under chapter 4).", kind: .remark)
    let b = lm.acceptable
    let post = RejectionSampling.binaryPosterior(prior: lm.prior, acceptable: b)
    let z = RejectionSampling.partitionFunction(prior: lm.prior, acceptable: b)
    let zForward = lm.forwardPartition(tokenWeight: { $0 == BigramModel.curse ? 0 : 1 })
    page.parameters([("words", lm.words.joined(separator: ", ")), ("length $L$", "\(lm.length)"), ("$|X| = 5^L$", "\(lm.n)"),
                     ("$Z = \\pi_0(b = 1)$", NumberFormat.format(z)),
                     ("per-word curse probability", "drawn in [0.05, 0.2] for each preceding word")])
    page.record("Z_binary", z)
    page.check(Check.close("Z summed over all sentences equals Z from the forward algorithm over acceptable words", reference: "§5",
                           aLabel: "Σ_x π0(x) b(x)", bLabel: "forward recursion", a: z, b: zForward,
                           relative: summationTolerance(lm.n, scale: 4), because: "an n-term sum against L matrix-vector products: (n+2)·4ε relative"))
    let cursing = post.mass(of: Set((0..<lm.n).filter { !b[$0] }))
    page.check(Check(claim: "π* gives the cursing sentences probability exactly zero", reference: "§5",
                     aLabel: "π*(b = 0)", bLabel: "0", a: cursing, b: 0, tolerance: 0, because: "log-weights −∞ give probability exactly 0"))
    page.check(Check.close("KL(π* ‖ π0) = −log Z", reference: "§5",
                           aLabel: "Σ π* log(π*/π0)", bLabel: "−log Z", a: klDivergence(post, lm.prior), b: -log(z),
                           relative: 0, absolute: summationTolerance(lm.n, scale: 1 + Swift.abs(log(z))), because: "n-term sum of terms ≤ |log Z|: (n+2)ε(1+|log Z|)"))
    // π* is the I-projection of π0 onto the non-cursing distributions.
    let rng = seeds.generator("binary-projection")
    let ok = (0..<lm.n).filter { b[$0] }
    var lowest = Double.infinity, spread = 0.0
    for k in 0..<100 {
        let w = rng.dirichlet(count: ok.count, concentration: [0.1, 1, 10][k % 3])
        var full = [Double](repeating: 0, count: lm.n)
        for (i, x) in ok.enumerated() { full[x] = w[i] }
        let pi = Distribution(weights: full)
        let kl0 = klDivergence(pi, lm.prior), klStar = klDivergence(pi, post)
        lowest = min(lowest, kl0)
        spread = max(spread, Swift.abs(kl0 - (klStar - log(z))))
    }
    page.check(Check(claim: "For 100 non-cursing policies π, KL(π ‖ π0) = KL(π ‖ π*) − log Z", reference: "§5",
                     aLabel: "max |KL(π‖π0) − KL(π‖π*) + log Z|", bLabel: "0", a: spread, b: 0,
                     tolerance: summationTolerance(lm.n, scale: 40), because: "two n-term sums of terms ≤ 20 nats: (n+2)·40ε"))
    page.check(Check(claim: "So no non-cursing policy is closer to the prior than π*: min KL(π ‖ π0) ≥ −log Z", reference: "§5",
                     aLabel: "min_π KL(π ‖ π0)", bLabel: "−log Z", a: lowest, b: -log(z), relation: .greaterOrEqual,
                     tolerance: summationTolerance(lm.n, scale: 40), because: "rounding of n-term sums"))
}

// MARK: - §5, inference: filtering is an exact sampler

func filtering(_ page: Page, _ lm: BigramModel, _ seeds: Seeds, draws: Int) throws {
    page.section("Filtering samples the posterior exactly")
    page.prose("Generate a sentence from the language model word by word; if it curses, throw it away and generate another. A kept sentence has probability $\\pi_0(x) b(x)$ up to the constant $Z$: it is an exact draw from $\\pi^*$. Each attempt succeeds with probability $Z$, so the attempts per kept sentence are geometric with mean $1/Z$. We test the kept sentences against $\\pi^*$ with Pearson's chi-square (cells with expected count below 20 pooled) and the attempt counts against the geometric law.")
    page.equation("P(\\text{attempts} = k) = (1 - Z)^{k-1} Z, \\qquad \\mathbb{E}[\\text{attempts}] = \\frac{1}{Z}")
    let rng = seeds.generator("filtering")
    let b = lm.acceptable
    var kept: [Int] = [], attempts: [Int] = []
    kept.reserveCapacity(draws); attempts.reserveCapacity(draws)
    for _ in 0..<draws {
        let d = RejectionSampling.draw(rng, propose: { lm.generate(rng) }, acceptance: { b[$0] ? 1 : 0 })
        kept.append(d.x); attempts.append(d.proposals)
    }
    let z = RejectionSampling.partitionFunction(prior: lm.prior, acceptable: b)
    let post = RejectionSampling.binaryPosterior(prior: lm.prior, acceptable: b)
    let total = attempts.reduce(0, +)
    page.parameters([("kept sentences", "\(draws)"), ("attempts", "\(total)"), ("level of each test", "false failure 10⁻⁶ (chi-square), 1.2·10⁻⁷ (5.3 standard errors)")])
    let rate = Double(draws) / Double(total)
    let meanAttempts = Double(total) / Double(draws)
    let seAttempts = (1 - z).squareRoot() / z / Double(draws).squareRoot()
    page.check(Check(claim: "Mean attempts per kept sentence is 1/Z", reference: "§5",
                     aLabel: "mean attempts", bLabel: "1/Z", a: meanAttempts, b: 1 / z,
                     tolerance: zLevel * seAttempts, because: "5.3 standard errors √(1−Z)/(Z√N) of a mean of N geometric counts: false failure ≈ 1.2·10⁻⁷"))
    page.record("acceptance_rate_binary", rate)
    let cap = 60
    var counts = [Int](repeating: 0, count: cap + 1)
    for a in attempts { counts[min(a, cap + 1) - 1] += 1 }
    var geometric = (1...cap).map { k in pow(1 - z, Double(k - 1)) * z }
    geometric.append(pow(1 - z, Double(cap)))
    let gofAttempts = try GoodnessOfFit(observed: counts, probabilities: geometric)
    page.check(Check(claim: "Attempt counts follow the geometric law with success probability Z (chi-square)", reference: "§5",
                     aLabel: "p-value", bLabel: "level", a: gofAttempts.pValue, b: chiSquareLevel, relation: .greaterOrEqual,
                     tolerance: 0, because: "chi-square test (\(gofAttempts.cells) pooled cells): a correct sampler fails with probability 10⁻⁶"))
    let observed = GoodnessOfFit.counts(kept, outcomes: lm.n)
    let gof = try GoodnessOfFit(observed: observed, probabilities: post.probabilities)
    page.check(Check(claim: "Kept sentences follow π* (chi-square over all sentences)", reference: "§5",
                     aLabel: "p-value", bLabel: "level", a: gof.pValue, b: chiSquareLevel, relation: .greaterOrEqual,
                     tolerance: 0, because: "chi-square test (\(gof.cells) pooled cells, X² = \(NumberFormat.format(gof.statistic, significant: 4))): false failure 10⁻⁶"))
    histogram(page, lm, prior: lm.prior, posterior: post, kept: kept, title: "Filtering: prior, posterior and kept sentences",
              caption: "Probability of the most likely sentences under the prior, the non-cursing posterior and the frequencies among the kept sentences. Sentences are numbered by prior rank (table below); cursing ones (marked ✗) vanish; the others keep their prior odds, scaled up by 1/Z.")
}

/// Bar chart of the 12 most likely sentences under the prior.
func histogram(_ page: Page, _ lm: BigramModel, prior: Distribution, posterior: Distribution, kept: [Int], title: String, caption: String) {
    let top = (0..<lm.n).sorted { prior.probabilities[$0] > prior.probabilities[$1] }.prefix(12)
    let counts = GoodnessOfFit.counts(kept, outcomes: lm.n)
    let names = top.indices.map { "\($0 - top.startIndex + 1)" + (lm.acceptable[top[$0]] ? "" : "✗") }
    page.plot(BarChart(title: title, description: "Probabilities of the 12 likeliest sentences under three distributions.",
                       categories: names, yLabel: "probability",
                       series: [("prior π0", top.map { prior.probabilities[$0] }), ("posterior π*", top.map { posterior.probabilities[$0] }),
                                ("sample frequency", top.map { Double(counts[$0]) / Double(kept.count) })]),
              caption: caption)
    page.table(headers: ["rank", "sentence", "acceptable"], rows: top.indices.map { i in
        ["\(i - top.startIndex + 1)", lm.sentence(top[i]), lm.acceptable[top[i]] ? "yes" : "no (curses)"]
    }, caption: "The sentences of the chart, by prior probability", foldAbove: 4)
}

// MARK: - Real rewards

func realRewardFiltering(_ page: Page, _ lm: BigramModel, _ seeds: Seeds, draws: Int, beta: Double) throws {
    page.section("Filtering with a real-valued reward")
    page.prose("For a real reward the same trick works with a soft acceptance: keep a generated sentence with probability $e^{(r(x) - \\max r)/\\beta}$, which never exceeds 1. Kept sentences then follow $\\pi_0(x) e^{r(x)/\\beta}$ up to normalisation, which is the posterior of eq. 5. The price is the acceptance rate $Z e^{-\\max r / \\beta}$, which collapses as $\\beta$ shrinks. Here the reward is the fraction of words that are “\(lm.words[BigramModel.good])”.")
    page.equation("P(\\text{keep} \\mid x) = e^{(r(x) - \\max r)/\\beta}, \\qquad \\text{acceptance rate} = Z(\\beta) \\, e^{-\\max r/\\beta}", number: "5")
    let r = lm.reward
    let a = RejectionSampling.acceptanceProbabilities(reward: r, beta: beta)
    let exact = RejectionSampling.acceptanceRate(prior: lm.prior, acceptance: a)
    let zForward = lm.forwardPartition(tokenWeight: { $0 == BigramModel.good ? exp(1 / (beta * Double(lm.length))) : 1 })
    let closed = zForward * exp(-r.max()! / beta)
    page.parameters([("β", NumberFormat.format(beta)), ("max r", NumberFormat.format(r.max()!)), ("exact acceptance rate", NumberFormat.format(exact))])
    page.check(Check.close("The acceptance rate Σ π0(x) a(x) equals Z(β) e^{−max r/β} with Z from the forward algorithm", reference: "eq. 5",
                           aLabel: "Σ_x π0 a", bLabel: "Z e^{−max r/β}", a: exact, b: closed,
                           relative: summationTolerance(lm.n, scale: 8), because: "n-term sum against L products with exp: (n+2)·8ε relative"))
    let rng = seeds.generator("real-filtering")
    var kept: [Int] = [], total = 0
    kept.reserveCapacity(draws)
    for _ in 0..<draws {
        let d = RejectionSampling.draw(rng, propose: { lm.generate(rng) }, acceptance: { a[$0] })
        kept.append(d.x); total += d.proposals
    }
    let rate = Double(draws) / Double(total)
    // The number of attempts is negative binomial; compare 1/rate with its mean 1/p.
    let se = (1 - exact).squareRoot() / exact / Double(draws).squareRoot()
    page.check(Check(claim: "Mean attempts per kept sentence is 1 / acceptance rate", reference: "eq. 5",
                     aLabel: "attempts / kept", bLabel: "1 / rate", a: 1 / rate, b: 1 / exact,
                     tolerance: zLevel * se, because: "5.3 standard errors of a mean of geometric counts: false failure ≈ 1.2·10⁻⁷"))
    let post = Posterior.distribution(prior: lm.prior, reward: r, beta: beta)
    let gof = try GoodnessOfFit(observed: GoodnessOfFit.counts(kept, outcomes: lm.n), probabilities: post.probabilities)
    page.check(Check(claim: "Kept sentences follow the posterior π*_β of eq. 5 (chi-square)", reference: "eq. 5",
                     aLabel: "p-value", bLabel: "level", a: gof.pValue, b: chiSquareLevel, relation: .greaterOrEqual,
                     tolerance: 0, because: "chi-square test (\(gof.cells) pooled cells): false failure 10⁻⁶"))
    page.record("acceptance_rate_real", rate)
}

// MARK: - The binary posterior as a limit

func binaryLimit(_ page: Page, _ lm: BigramModel) {
    page.section("The binary posterior is the limit of exponentiated rewards")
    page.prose("The binary model is not a different kind of object: it is the $c \\to \\infty$ limit of the exponentiated-reward posterior for the reward $r_c(x) = -c(1 - b(x))$ at $\\beta = 1$. For finite $c$ a cursing sentence keeps the weight $e^{-c}$, and the total-variation distance to the binary posterior is exactly the mass those sentences keep.")
    page.equation("\\mathrm{TV}(\\pi_c, \\pi^*) = \\pi_c(b = 0) = \\frac{(1 - Z) e^{-c}}{Z + (1 - Z) e^{-c}}")
    let b = lm.acceptable
    let post = RejectionSampling.binaryPosterior(prior: lm.prior, acceptable: b)
    let z = RejectionSampling.partitionFunction(prior: lm.prior, acceptable: b)
    var cs: [Double] = [], enumerated: [Double] = [], closed: [Double] = []
    var worst = 0.0
    let tol = summationTolerance(lm.n, scale: 4)
    for k in 0...20 {
        let c = Double(k)
        let pc = Posterior.distribution(prior: lm.prior, reward: b.map { $0 ? 0 : -c }, beta: 1)
        let tv = totalVariation(pc, post), form = RejectionSampling.limitTotalVariation(partition: z, c: c)
        worst = max(worst, Swift.abs(tv - form) - 1e-12 * form)
        cs.append(c); enumerated.append(tv); closed.append(form)
    }
    page.check(Check(claim: "For c = 0, 1, …, 20 the enumerated TV(π_c, π*) equals the closed form (worst excess over 10⁻¹² relative shown)", reference: "§5",
                     aLabel: "max_c |TV − closed form| − 10⁻¹²·form", bLabel: "0", a: worst, b: 0, relation: .lessOrEqual,
                     tolerance: tol, because: "TV is an n-term sum of differences of probabilities: (n+2)·4ε absolute"))
    page.plot(LinePlot(title: "Exponentiated rewards approach the binary posterior", description: "Total variation to the binary posterior against the penalty c, log scale.",
                       xLabel: "penalty c", yLabel: "TV(π_c, π*)", yScale: .log10,
                       series: [Series("closed form", x: cs, y: closed), Series("enumerated", x: cs, y: enumerated, style: .points)]),
              caption: "The distance falls like $e^{-c}(1-Z)/Z$: the binary posterior is the hard-constraint end of the family of eq. 5.")
}

// MARK: - Independent Metropolis-Hastings

func metropolisHastings(_ page: Page, _ full: BigramModel, beta: Double) {
    let lm = full.length > 4 ? full.shortened(to: 4) : full
    page.section("Independent Metropolis-Hastings has π* as its stationary law")
    page.prose("Filtering wastes every rejected sentence. Independent Metropolis-Hastings instead proposes a fresh sentence $y$ from the prior and moves to it with probability $\\min(1, w(y)/w(x))$, where $w = \\pi^*/\\pi_0 \\propto e^{r/\\beta}$; otherwise it stays. We build its exact transition matrix on the \(lm.n) sentences of length \(lm.length) and check that $\\pi^*_\\beta$ is stationary and that the chain forgets its start at least as fast as the known rate $(1 - 1/w^*)^t$, $w^* = \\max_x \\pi^*(x)/\\pi_0(x)$.")
    page.equation("P(x, y) = \\pi_0(y) \\min\\left(1, \\frac{w(y)}{w(x)}\\right) \\; (y \\ne x), \\qquad \\sum_x \\pi^*(x) P(x, y) = \\pi^*(y)")
    let post = Posterior.distribution(prior: lm.prior, reward: lm.reward, beta: beta)
    let p = IndependentMetropolisHastings.transitionMatrix(target: post, proposal: lm.prior)
    let next = IndependentMetropolisHastings.step(post.probabilities, p)
    let worst = zip(next, post.probabilities).map { Swift.abs($0 - $1) }.max()!
    page.check(Check(claim: "π*_β P = π*_β: the posterior is stationary", reference: "§5",
                     aLabel: "max_y |(π* P)(y) − π*(y)|", bLabel: "0", a: worst, b: 0,
                     tolerance: summationTolerance(2 * lm.n, scale: 1), because: "an n-term row sum plus the diagonal 1 − Σ: (2n+2)ε"))
    var balance = 0.0
    for x in 0..<lm.n { for y in 0..<lm.n { balance = max(balance, Swift.abs(post.probabilities[x] * p[x][y] - post.probabilities[y] * p[y][x])) } }
    page.check(Check(claim: "Detailed balance π*(x) P(x, y) = π*(y) P(y, x) for every pair", reference: "§5",
                     aLabel: "max |π*(x)P(x,y) − π*(y)P(y,x)|", bLabel: "0", a: balance, b: 0,
                     tolerance: summationTolerance(2 * lm.n, scale: 1), because: "diagonal terms carry an n-term sum: (2n+2)ε"))
    // Distance to stationarity from the slowest start: the sentence with the smallest weight.
    let start = (0..<lm.n).min { post.logProbabilities[$0] - lm.prior.logProbabilities[$0] < post.logProbabilities[$1] - lm.prior.logProbabilities[$1] }!
    var mu = [Double](repeating: 0, count: lm.n); mu[start] = 1
    var ts: [Double] = [], tvs: [Double] = [], bounds: [Double] = []
    var excess = -Double.infinity
    for t in 1...40 {
        mu = IndependentMetropolisHastings.step(mu, p)
        let tv = totalVariation(Distribution(weights: mu.map { max($0, 0) }), post)
        let bound = IndependentMetropolisHastings.convergenceBound(target: post, proposal: lm.prior, steps: t)
        excess = max(excess, tv - bound)
        ts.append(Double(t)); tvs.append(tv); bounds.append(bound)
    }
    page.check(Check(claim: "From the slowest start, TV(P^t(x,·), π*) ≤ (1 − 1/w*)^t for t = 1 … 40", reference: "§5, Mengersen & Tweedie (1996)",
                     aLabel: "max_t [TV_t − bound_t]", bLabel: "0", a: excess, b: 0, relation: .lessOrEqual,
                     tolerance: 40 * summationTolerance(2 * lm.n, scale: 1), because: "t matrix-vector products, each (2n+2)ε"))
    page.plot(LinePlot(title: "Independent Metropolis-Hastings forgets its start", description: "Total variation to the posterior after t steps and the uniform bound.",
                       xLabel: "steps t", yLabel: "TV to π*", yScale: .log10,
                       series: [Series("exact TV from the slowest start", x: ts, y: tvs, style: .lineAndPoints), Series("bound (1 − 1/w*)^t", x: ts, y: bounds, style: .dashed)]),
              caption: "The chain's law converges to $\\pi^*_\\beta$ geometrically; for an independent sampler started at the sentence of lowest weight the bound is attained.")
}

// MARK: - Importance sampling

func importanceSampling(_ page: Page, _ lm: BigramModel, _ seeds: Seeds, draws: Int, beta: Double) {
    page.section("Importance sampling: estimates and their exact variance")
    page.prose("Importance sampling keeps every draw from the prior and weights it by $e^{r(x)/\\beta}$. The mean weight is an unbiased estimate of $Z$; its variance is exact and finite on a finite space, set by the order-2 Rényi divergence $D_2(\\pi^* \\| \\pi_0)$. Weighted averages estimate posterior expectations with a small bias and a variance given by the delta method.")
    page.equation("\\hat{Z} = \\frac{1}{N} \\sum_{i=1}^{N} e^{r(x_i)/\\beta}, \\quad \\frac{\\operatorname{Var} \\hat{Z}}{Z^2} = \\frac{e^{D_2(\\pi^* \\| \\pi_0)} - 1}{N}")
    let rng = seeds.generator("importance")
    let r = lm.reward
    let post = Posterior.distribution(prior: lm.prior, reward: r, beta: beta)
    let logZ = Posterior.logPartitionFunction(prior: lm.prior, reward: r, beta: beta)
    var sumW = 0.0, sumW2 = 0.0, sumWR = 0.0
    for _ in 0..<draws {
        let x = lm.generate(rng)
        let w = exp(r[x] / beta)
        sumW += w; sumW2 += w * w; sumWR += w * r[x]
    }
    let zHat = sumW / Double(draws)
    let relVar = ImportanceSampling.relativeVarianceOfPartitionEstimate(posterior: post, prior: lm.prior, samples: draws)
    page.check(Check(claim: "The importance-sampling estimate of Z agrees with the exact Z", reference: "eq. 5",
                     aLabel: "Ẑ / Z", bLabel: "1", a: zHat / exp(logZ), b: 1, tolerance: zLevel * relVar.squareRoot(),
                     because: "5.3 exact standard errors (Rényi-2 variance): false failure ≈ 1.2·10⁻⁷"))
    let snEstimate = sumWR / sumW
    let snVar = ImportanceSampling.selfNormalisedVariance(posterior: post, prior: lm.prior, f: r, samples: draws)
    page.check(Check(claim: "The self-normalised estimate of E_π*[r] agrees with the exact posterior mean", reference: "eq. 5",
                     aLabel: "Σ w r / Σ w", bLabel: "E_π*[r]", a: snEstimate, b: post.expectation(r), tolerance: zLevel * snVar.squareRoot(),
                     because: "5.3 delta-method standard errors; the O(1/N) bias is below 1% of that at N ≥ 1000: false failure ≈ 10⁻⁷"))
    let essExact = ImportanceSampling.effectiveSampleFraction(posterior: post, prior: lm.prior)
    let essSample = sumW * sumW / sumW2 / Double(draws)
    page.table(headers: ["quantity", "exact", "from \(draws) draws"],
               rows: [["$Z$", NumberFormat.format(exp(logZ)), NumberFormat.format(zHat)],
                      ["$\\mathbb{E}_{\\pi^*}[r]$", NumberFormat.format(post.expectation(r)), NumberFormat.format(snEstimate)],
                      ["effective sample fraction $e^{-D_2}$", NumberFormat.format(essExact), NumberFormat.format(essSample)]],
               caption: "Importance sampling from the prior for the posterior at β = \(NumberFormat.format(beta))")
    page.record("effective_sample_fraction", essExact)
}

// MARK: - Quasi-rejection sampling

func quasiRejection(_ page: Page, _ seeds: Seeds, draws: Int) throws {
    page.section("Quasi-rejection sampling trades acceptance for divergence")
    let k = 60
    let q = Distribution(logWeights: try (0...k).map { try Poisson.logProbability($0, mean: 10) })
    let logP = try (0...k).map { try Poisson.logProbability($0, mean: 11) }
    let qrs = QuasiRejection(proposal: q, logTarget: logP)
    let cExact = qrs.exactConstant
    page.prose("Exact rejection needs a constant $c \\ge \\max_x P(x)/q(x)$, which can be huge. Quasi-rejection sampling uses any $c$ and accepts with $\\min(1, P(x)/(c\\,q(x)))$: kept draws follow $p_c \\propto \\min(q, P/c)$, exact once $c$ reaches the bound. Here the target $P$ is the Poisson(11) probability on $\\{0, …, \(k)\\}$ and the proposal the Poisson(10) distribution truncated there; since $P/q \\propto 1.1^x$ the cap binds on the top of the range, and the acceptance rate has a closed form in Poisson cumulative probabilities (GSL's incomplete gamma function).")
    page.equation("\\mathrm{AR}(c) = \\sum_x \\min\\left(q(x), \\frac{P(x)}{c}\\right) = \\frac{F_{11}(x_c)}{c} + \\frac{F_{10}(K) - F_{10}(x_c)}{F_{10}(K)}, \\quad x_c = \\max\\{x : P(x)/q(x) \\le c\\}")
    let f10K = try Poisson.cumulative(k, mean: 10).value
    func closedAR(_ c: Double) throws -> Double {
        // P(x)/q(x) = e^{-1} 1.1^x F10(K) ≤ c  ⇔  x ≤ (log c + 1 − log F10(K)) / log 1.1.
        let xc = min(k, Int(floor((log(c) + 1 - log(f10K)) / log(1.1))))
        guard xc >= 0 else { return 1 }
        return try Poisson.cumulative(xc, mean: 11).value / c + (f10K - Poisson.cumulative(xc, mean: 10).value) / f10K
    }
    let p = qrs.target
    var cs: [Double] = [], ars: [Double] = [], tvs: [Double] = [], kls: [Double] = []
    var worstAR = 0.0, worstTV = -Double.infinity, tvRise = -Double.infinity, klRise = -Double.infinity
    var rows: [[String]] = []
    for i in 0...40 {
        let c = 0.05 * pow(4 * cExact / 0.05, Double(i) / 40)
        let ar = qrs.acceptanceRate(c: c), pc = qrs.distribution(c: c)
        let tv = totalVariation(p, pc), kl = klDivergence(p, pc)
        worstAR = max(worstAR, Swift.abs(ar - (try closedAR(c))) / ar)
        worstTV = max(worstTV, tv - qrs.totalVariationBound(c: c))
        if let lastTV = tvs.last, let lastKL = kls.last { tvRise = max(tvRise, tv - lastTV); klRise = max(klRise, kl - lastKL) }
        cs.append(c); ars.append(ar); tvs.append(tv); kls.append(kl)
        if i % 5 == 0 { rows.append([NumberFormat.format(c, significant: 4), NumberFormat.format(ar, significant: 5), NumberFormat.format(tv, significant: 4), NumberFormat.format(kl, significant: 4)]) }
    }
    page.parameters([("support", "{0, …, \(k)}"), ("exact constant max P/q", NumberFormat.format(cExact)), ("c grid", "41 values from 0.05 to 4·max P/q")])
    page.check(Check(claim: "AR(c) summed over x equals the closed form in incomplete gamma functions, on the whole grid", reference: "§5",
                     aLabel: "max_c |AR_sum − AR_closed| / AR", bLabel: "0", a: worstAR, b: 0,
                     tolerance: 1e-12, because: "GSL's incomplete gamma is accurate to ~10⁻¹⁴ relative; 61-term sums add (K+2)ε"))
    page.check(Check(claim: "The acceptance rate bounds the divergence: TV(p, p_c) ≤ 1 − c·AR(c)/Z on the whole grid", reference: "§5, Eikema et al. (2022)",
                     aLabel: "max_c [TV − (1 − c AR/Z)]", bLabel: "0", a: worstTV, b: 0, relation: .lessOrEqual,
                     tolerance: summationTolerance(k + 1, scale: 8), because: "61-term sums of probabilities: (K+3)·8ε"))
    page.check(Check(claim: "The divergence KL(p ‖ p_c) never grows as c grows", reference: "§5",
                     aLabel: "max rise of KL between grid steps", bLabel: "0", a: klRise, b: 0, relation: .lessOrEqual,
                     tolerance: summationTolerance(k + 1, scale: 8), because: "rounding of 61-term sums"))
    let cBig = 2 * cExact
    page.check(Check(claim: "At c = 2 max P/q quasi-rejection is exact rejection: TV(p, p_c) = 0", reference: "§5",
                     aLabel: "TV(p, p_c)", bLabel: "0", a: totalVariation(p, qrs.distribution(c: cBig)), b: 0,
                     tolerance: summationTolerance(k + 1, scale: 2), because: "61-term sum: (K+3)·2ε"))
    page.check(Check.close("… with acceptance rate Z/c", reference: "§5", aLabel: "AR(c)", bLabel: "Z / c",
                           a: qrs.acceptanceRate(c: cBig), b: exp(qrs.logPartition) / cBig,
                           relative: summationTolerance(k + 1, scale: 4), because: "61-term sums: (K+3)·4ε relative"))
    page.table(headers: ["c", "acceptance rate", "TV(p, p_c)", "KL(p ‖ p_c)"], rows: rows,
               caption: "Quasi-rejection for a Poisson(11) target with a Poisson(10) proposal on {0, …, \(k)}, from exact sums")
    // A seeded run at c = 1.
    let rng = seeds.generator("quasi-rejection")
    let c = 1.0
    var kept: [Int] = [], proposals = 0
    while kept.count < draws {
        var x = rng.poisson(mean: 10)
        while x > k { x = rng.poisson(mean: 10) }   // the truncated proposal
        proposals += 1
        if rng.uniform() < qrs.acceptance(x, c: c) { kept.append(x) }
    }
    let ar = qrs.acceptanceRate(c: c)
    let rate = Double(draws) / Double(proposals)
    page.check(Check(claim: "A seeded run at c = 1: proposals per kept draw match 1/AR(1)", reference: "§5",
                     aLabel: "proposals / kept", bLabel: "1/AR(1)", a: 1 / rate, b: 1 / ar,
                     tolerance: zLevel * (1 - ar).squareRoot() / ar / Double(draws).squareRoot(), because: "5.3 standard errors of a geometric mean: false failure ≈ 1.2·10⁻⁷"))
    let gof = try GoodnessOfFit(observed: GoodnessOfFit.counts(kept, outcomes: k + 1), probabilities: qrs.distribution(c: c).probabilities)
    page.check(Check(claim: "… and the kept draws follow p_1 ∝ min(q, P) (chi-square)", reference: "§5",
                     aLabel: "p-value", bLabel: "level", a: gof.pValue, b: chiSquareLevel, relation: .greaterOrEqual,
                     tolerance: 0, because: "chi-square test (\(gof.cells) pooled cells): false failure 10⁻⁶"))
    page.plot(LinePlot(title: "Quasi-rejection: acceptance against divergence", description: "Acceptance rate, TV and KL to the target as functions of the constant c.",
                       xLabel: "constant c", yLabel: "value", xScale: .log10,
                       series: [Series("acceptance rate AR(c)", x: cs, y: ars), Series("TV(p, p_c)", x: cs, y: tvs, style: .dashed), Series("bound 1 − c AR/Z", x: cs, y: cs.map { qrs.totalVariationBound(c: $0) }, style: .points), Series("KL(p ‖ p_c)", x: cs, y: kls, style: .lineAndPoints)],
                       references: [ReferenceLine(.vertical, at: cExact, label: "c = max P/q")], yIncludesZero: true),
              caption: "Raising $c$ lowers the acceptance rate and the divergence together; the acceptance rate alone gives the bound $1 - c\\,\\mathrm{AR}(c)/Z$ on the total variation; right of the dashed line the sampler is exact and the rate falls like $Z/c$.")
}

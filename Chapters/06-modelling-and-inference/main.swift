// Chapter 6: modelling vs inference (paper §5).
//
// Writing down the posterior is modelling; drawing samples that follow it is inference. This
// program builds a binary-preference posterior ("never curse") over the sentences of a small
// bigram language model, then samples it exactly by filtering, approximately by independent
// Metropolis-Hastings, importance sampling and quasi-rejection, each against exact sums. Each
// check is built by a function of the numbers it compares, so a test can feed it a wrong sampler.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct ModellingAndInference: ParsableCommand {
    static let chapter = Chapter(
        slug: "06-modelling-and-inference", number: 6, title: "Modelling vs inference",
        summary: "A binary preference defines the posterior π0·b/Z; filtering samples it exactly, and "
            + "Metropolis-Hastings, importance sampling and quasi-rejection approximate it with exactly computable "
            + "errors.")
    static let configuration = CommandConfiguration(
        commandName: chapter.command,
        abstract: "Chapter 6: a posterior is a model; filtering, Metropolis-Hastings and importance sampling are ways "
            + "to sample it.",
        discussion: "Verifies paper §5 on the sentences of a bigram language model and writes "
            + "Output/06-modelling-and-inference.html and .json. Exit 0: every check holds; 1: a check failed; "
            + "2: bad usage or input.")

    enum Defaults: ExactSpaceDefaults {
        static let beta = 0.5
        static let betaRange = 0.25...10.0
        static let betaMeaning = "Temperature β of the real-reward posterior"
    }

    @OptionGroup var common: ChapterOptions

    @Option(help: "Sentence length L in words (1 to 8); the space has 5^L sentences.")
    var length: Int = 6

    @Option(help: "Accepted draws of each sampler (1000 to 2000000); --quick uses a fifth, at least 1000.")
    var samples: Int = 100_000

    @OptionGroup var temperature: BetaOption<Defaults>

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (1...8).contains(length) else {
            throw ValidationError("--length must be between 1 and 8 (got \(length))")
        }
        guard (1000...2_000_000).contains(samples) else {
            throw ValidationError("--samples must be between 1000 and 2000000 (got \(samples))")
        }
    }

    func run() throws {
        let draws = common.quick ? max(1000, samples / 5) : samples
        let parameters = [("length", "\(length)"), ("samples", "\(samples)"), ("beta", "\(temperature.beta)")]
        try Self.chapter.run(options: common, parameters: parameters) { page, seeds in
            let lm = try BigramModel(length: length, rng: seeds.generator("bigram"))
            let c = Context(page: page, seeds: seeds, lm: lm, draws: draws, beta: temperature.beta)
            // The findings are known only at the end of the run; they are shown first.
            let top = page.mark()
            binaryPosterior(c)
            try filtering(c)
            try realRewardFiltering(c)
            binaryLimit(c)
            metropolisHastings(c)
            importanceSampling(c)
            try quasiRejection(c)
            page.insert(at: top) { findings(page) }
        }
    }
}

// MARK: - What this chapter finds

/// The opening section: the run's headline numbers, as recorded for the JSON, and what they say.
func findings(_ page: Page) {
    let t = { (key: String) in Findings.text(page, key) }
    page.section(Findings.title)
    let binary = Findings.held(page, prefixes: ["filtering."])
        ? #"and the sentences it kept pass the chi-square test against $\pi^*$ (@fig:filtering)"#
        : #"but the sentences it kept fail a test against $\pi^*$ on this run (@fig:filtering)"#
    let real = Findings.held(page, prefixes: ["real."])
        ? "and what it keeps follows the posterior of eq. 5"
        : "but a check of what it keeps fails on this run"
    let approximate = Findings.held(page, prefixes: ["mh.", "importance.", "qrs."])
        ? "every check of them against exact sums holds"
        : "not every check of them against exact sums holds on this run"
    page.prose(#"""
        Forbidding one word turns a bigram language model over \#(t("sentences")) sentences into the posterior \#
        $\pi^* = \pi_0 b / Z$ with $Z = \#(t("normaliser_binary"))$, the prior's probability of a sentence \#
        without it, so \#
        $\operatorname{KL}(\pi^* \| \pi_0) = -\log Z = \#(t("kl_binary"))$ nats. Filtering (generate, throw away \#
        the sentences that curse: rejection sampling) kept a fraction \#(t("acceptance_rate_binary")) of its \#
        attempts, \#(binary); for a real reward at $\beta = \#(t("beta"))$, keeping each sentence with probability \#
        $e^{(r - \max r)/\beta}$ kept \#(t("acceptance_rate_real")), \#(real). For the approximate samplers \#
        (importance sampling from the prior, whose exact effective sample fraction is \#
        \#(t("effective_sample_fraction")), independent Metropolis-Hastings, and the quasi-rejection sampling of \#
        Eikema et al.) \#(approximate) (@tbl:findings).
        """#)
    Findings.table(page, [
        Findings.Row("sentences $|X| = 5^L$", "sentences"),
        Findings.Row(#"$Z = \pi_0(b = 1)$"#, "normaliser_binary"),
        Findings.Row(#"$\operatorname{KL}(\pi^* \| \pi_0) = -\log Z$, nats"#, "kl_binary"),
        Findings.Row("filtering: kept per attempt", "acceptance_rate_binary"),
        Findings.Row(#"real reward: temperature $\beta$"#, "beta"),
        Findings.Row("real reward: kept per attempt", "acceptance_rate_real"),
        Findings.Row(#"importance sampling: effective sample fraction $e^{-D_2}$"#, "effective_sample_fraction"),
    ], caption: "The run's headline numbers, as recorded in the JSON twin")
}

/// What every section reads.
struct Context {
    let page: Page
    let seeds: Seeds
    let lm: BigramModel
    /// Kept draws of each sampler.
    let draws: Int
    /// Temperature of the real-reward posterior.
    let beta: Double

    /// The real-reward problem: the language model, the fraction of "good" words, β.
    var problem: ExactProblem { ExactProblem(prior: lm.prior, reward: lm.reward, beta: beta) }
}

/// z for a two-sided normal test with false-failure probability about 1.2e-7.
let zLevel = 5.3
/// Level of every chi-square goodness-of-fit test: a correct sampler fails it with probability 10⁻⁶.
let chiSquareLevel = 1e-6

// MARK: - Checks shared by the samplers

/// Proposals per kept draw against 1/p for a sampler that keeps each proposal with probability p:
/// the count is a sum of `kept` geometric variables, each with mean 1/p and variance (1 − p)/p².
func proposalsPerKept(id: String, claim: String, reference: String, proposals: Int, kept: Int, acceptance p: Double,
                      bLabel: String) -> Check {
    Check(id: id, claim: claim, reference: reference, aLabel: "proposals / kept", bLabel: bLabel,
          a: Double(proposals) / Double(kept), b: 1 / p,
          tolerance: zLevel * (1 - p).squareRoot() / p / Double(kept).squareRoot(),
          because: "5.3 standard errors √(1−p)/(p√N) of a mean of N geometric counts: false failure ≈ 1.2·10⁻⁷")
}

/// Pearson's chi-square test of `draws` against `probabilities` (cells with expected count below 20 pooled).
func chiSquare(id: String, claim: String, reference: String, draws: [Int], probabilities: [Double]) throws -> Check {
    let counts = GoodnessOfFit.counts(draws, outcomes: probabilities.count)
    let gof = try GoodnessOfFit(observed: counts, probabilities: probabilities)
    return chiSquare(id: id, claim: claim, reference: reference, gof)
}

func chiSquare(id: String, claim: String, reference: String, _ gof: GoodnessOfFit) -> Check {
    Check(id: id, claim: claim, reference: reference, aLabel: "p-value", bLabel: "level",
          a: gof.pValue, b: chiSquareLevel, relation: .greaterOrEqual, tolerance: 0,
          because: "chi-square test (\(gof.cells) pooled cells, "
            + "$X^2$ = \(NumberFormat.format(gof.statistic, significant: 4))): "
            + "a correct sampler fails with probability 10⁻⁶")
}

/// Filtering: propose from the language model, keep with probability `acceptance(x)`, until
/// `draws` sentences are kept. Returns them and the proposals each took.
func filterSentences(_ lm: BigramModel, _ rng: RandomGenerator, draws: Int,
                     acceptance: (Int) -> Double) -> (kept: [Int], attempts: [Int]) {
    var kept: [Int] = [], attempts: [Int] = []
    kept.reserveCapacity(draws); attempts.reserveCapacity(draws)
    for _ in 0..<draws {
        let d = RejectionSampling.draw(rng, propose: { lm.generate(rng) }, acceptance: acceptance)
        kept.append(d.x); attempts.append(d.proposals)
    }
    return (kept, attempts)
}

// MARK: - §5, modelling: the binary posterior

/// Z summed over all sentences against the forward recursion over acceptable words.
func partitionAgreement(enumerated z: Double, forward: Double, outcomes n: Int) -> Check {
    Check.close(id: "binary.partition",
                "$Z$ summed over all sentences equals $Z$ from the forward algorithm over acceptable words",
                reference: "§5", aLabel: "$\\sum_x \\pi_0(x) b(x)$", bLabel: "forward recursion", a: z, b: forward,
                relative: summationTolerance(n, scale: 4),
                because: "an n-term sum against L matrix-vector products: (n+2)·4ε relative")
}

func binaryPosterior(_ c: Context) {
    let page = c.page, lm = c.lm
    page.section("A binary preference defines a posterior")
    page.prose(#"""
    Our prior $\pi_0$ is a bigram language model over the five words
    """# + " " + lm.words.map { "“\($0)”" }.joined(separator: ", ")
        + ", writing sentences of exactly \(lm.length) words: \(lm.n) sentences in all, each with positive "
        + "probability. " + #"""
    The preference is binary: a sentence is acceptable when it never uses the curse word
    """# + " “\(lm.words[BigramModel.curse])”. " + #"""
    Conditioning on acceptability keeps every acceptable sentence at its prior odds and removes the rest; the
    normaliser is the prior probability of being acceptable, and the divergence from the prior is exactly the
    information in that condition.
    """#)
    page.equation(#"""
    \pi^*(x) = \frac{1}{Z} \pi_0(x) b(x), \quad Z = \pi_0(b = 1), \quad \mathrm{KL}(\pi^* \| \pi_0) = -\log Z
    """#)
    page.aside(#"""
    The paper's §5 defines b(x) = 1 when x contains a curse word, which would make π* the distribution of cursing
    sentences; for π* to be non-cursing, b(x) must be 1 exactly when x does NOT contain a curse word. That is the
    definition used here (the erratum is listed once, under chapter 4).
    """#, kind: .remark)
    let b = lm.acceptable
    let post = RejectionSampling.binaryPosterior(prior: lm.prior, acceptable: b)
    let z = RejectionSampling.partitionFunction(prior: lm.prior, acceptable: b)
    let zForward = lm.forwardPartition(tokenWeight: { $0 == BigramModel.curse ? 0 : 1 })
    page.parameters([("words", lm.words.joined(separator: ", ")), ("length $L$", "\(lm.length)"),
                     ("$|X| = 5^L$", "\(lm.n)"),
                     ("$Z = \\pi_0(b = 1)$", NumberFormat.format(z)),
                     ("per-word curse probability", "drawn in [0.05, 0.2] for each preceding word")])
    page.record("normaliser_binary", z)
    page.record("kl_binary", -log(z))
    page.record("sentences", Double(lm.n))
    page.check(partitionAgreement(enumerated: z, forward: zForward, outcomes: lm.n))
    // π* is the I-projection of π0 onto the non-cursing distributions: KL(π ‖ π0) = KL(π ‖ π*) − log Z.
    let rng = c.seeds.generator("binary-projection")
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
    page.derivation([
        DerivationLine(#"\pi^*(b = 0) = \sum_{x : b(x) = 0} \pi^*(x)"#,
                       post.mass(of: Set((0..<lm.n).filter { !b[$0] })),
                       note: "cursing sentences have log-weight $-\\infty$: probability 0 by construction"),
        DerivationLine(#"\mathrm{KL}(\pi^* \| \pi_0) = \sum_x \pi^*(x) \log \frac{\pi^*(x)}{\pi_0(x)}"#,
                       klDivergence(post, lm.prior),
                       note: "the direct sum"),
        DerivationLine(#"= -\log Z"#, -log(z), note: "$\\pi^* / \\pi_0 = 1/Z$ on every acceptable sentence"),
        DerivationLine(#"\max_\pi | \mathrm{KL}(\pi \| \pi_0) - \mathrm{KL}(\pi \| \pi^*) + \log Z |"#, spread,
                       note: "100 non-cursing policies $\\pi$ (Dirichlet draws): the same substitution, term by term"),
        DerivationLine(#"\min_\pi \mathrm{KL}(\pi \| \pi_0)"#, lowest,
                       note: "at least $-\\log Z$, since $\\mathrm{KL}(\\pi \\| \\pi^*) \\ge 0$: no non-cursing policy "
                        + "is closer to the prior than $\\pi^*$"),
    ], caption: "What the definition of $\\pi^*$ implies at once (shown, not checked: each line restates the "
        + "construction)")
}

// MARK: - §5, inference: filtering is an exact sampler

/// The geometric law of the attempts per kept sentence, with the tail beyond `cap` in one cell.
func geometricLaw(success z: Double, cap: Int) -> [Double] {
    var law = (1...cap).map { k in pow(1 - z, Double(k - 1)) * z }
    law.append(pow(1 - z, Double(cap)))
    return law
}

/// Attempt counts against the geometric law with success probability Z (chi-square).
func attemptsAreGeometric(_ attempts: [Int], success z: Double) throws -> Check {
    let cap = 60
    var counts = [Int](repeating: 0, count: cap + 1)
    for a in attempts { counts[min(a, cap + 1) - 1] += 1 }
    let gof = try GoodnessOfFit(observed: counts, probabilities: geometricLaw(success: z, cap: cap))
    return chiSquare(id: "filtering.geometric",
                     claim: "Attempt counts follow the geometric law with success probability $Z$ (chi-square)",
                     reference: "§5", gof)
}

func filtering(_ c: Context) throws {
    let page = c.page, lm = c.lm
    page.section("Filtering samples the posterior exactly")
    page.prose(#"""
    Generate a sentence from the language model word by word; if it curses, throw it away and generate another. A
    kept sentence has probability $\pi_0(x) b(x)$ up to the constant $Z$: it is an exact draw from $\pi^*$. Each
    attempt succeeds with probability $Z$, so the attempts per kept sentence are geometric with mean $1/Z$. We test
    the kept sentences against $\pi^*$ with Pearson's chi-square (cells with expected count below 20 pooled) and
    the attempt counts against the geometric law.
    """#)
    page.equation(#"P(\text{attempts} = k) = (1 - Z)^{k-1} Z, \qquad \mathbb{E}[\text{attempts}] = \frac{1}{Z}"#)
    let b = lm.acceptable
    let run = filterSentences(lm, c.seeds.generator("filtering"), draws: c.draws, acceptance: { b[$0] ? 1 : 0 })
    let z = RejectionSampling.partitionFunction(prior: lm.prior, acceptable: b)
    let post = RejectionSampling.binaryPosterior(prior: lm.prior, acceptable: b)
    let total = run.attempts.reduce(0, +)
    page.parameters([("kept sentences", "\(c.draws)"), ("attempts", "\(total)"),
                     ("level of each test", "false failure 10⁻⁶ (chi-square), 1.2·10⁻⁷ (5.3 standard errors)")])
    page.check(proposalsPerKept(id: "filtering.mean-attempts", claim: "Mean attempts per kept sentence is $1/Z$",
                                reference: "§5", proposals: total, kept: c.draws, acceptance: z, bLabel: "$1/Z$"))
    page.record("acceptance_rate_binary", Double(c.draws) / Double(total))
    page.check(try attemptsAreGeometric(run.attempts, success: z))
    page.check(try chiSquare(id: "filtering.posterior",
                             claim: "Kept sentences follow $\\pi^*$ (chi-square over all sentences)",
                             reference: "§5", draws: run.kept, probabilities: post.probabilities))
    histogram(page, lm, prior: lm.prior, posterior: post, kept: run.kept,
              title: "Filtering: prior, posterior and kept sentences", label: "filtering")
}

/// Bar chart of the likeliest sentences under the prior, with the likeliest cursing ones added.
func histogram(_ page: Page, _ lm: BigramModel, prior: Distribution, posterior: Distribution, kept: [Int],
               title: String, label: String? = nil) {
    let p = prior.probabilities
    let ranked = (0..<lm.n).sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
    let rank = Dictionary(uniqueKeysWithValues: ranked.enumerated().map { ($1, $0 + 1) })
    let cursing = Array(ranked.filter { !lm.acceptable[$0] }.prefix(3))
    let shown = Set(ranked.prefix(12 - cursing.count)).union(cursing).sorted { rank[$0]! < rank[$1]! }
    let counts = GoodnessOfFit.counts(kept, outcomes: lm.n)
    let names = shown.map { "\(rank[$0]!)" + (lm.acceptable[$0] ? "" : "✗") }
    // The cursing sentences shown: the three likeliest, or more if the likeliest overall include more.
    let marked = shown.filter { !lm.acceptable[$0] }
    let cursingRanks = marked.map { "\(rank[$0]!)" }.joined(separator: ", ")
    let cursingText = marked.isEmpty
        ? "No sentence curses at this length, so none is marked."
        : "The chart shows the likeliest sentences and, marked ✗, the \(marked.count) likeliest cursing ones "
            + "(ranks \(cursingRanks)): the posterior gives these probability 0, and no kept sentence is one of them."
    page.plot(BarChart(title: title,
                       description: "Probabilities of the likeliest sentences, and of the likeliest cursing ones, "
                        + "under three distributions.",
                       categories: names, yLabel: "probability",
                       series: [("prior π0", shown.map { p[$0] }),
                                ("posterior π*", shown.map { posterior.probabilities[$0] }),
                                ("sample frequency", shown.map { Double(counts[$0]) / Double(kept.count) })]),
              caption: "Sentences are numbered by prior rank (@tbl:sentences). " + cursingText
                + " The others keep their prior odds, scaled up by $1/Z$.", label: label)
    page.table(headers: ["rank", "sentence", "acceptable"], rows: shown.map { x in
        ["\(rank[x]!)", lm.sentence(x), lm.acceptable[x] ? "yes" : "no (curses)"]
    }, caption: "The sentences of the chart, by prior probability", foldAbove: 4, label: "sentences")
}

// MARK: - Real rewards

/// The exact acceptance rate Σ π0(x) a(x) against Z(β) e^{−max r/β} with Z from the forward algorithm.
func acceptanceAgreement(exact: Double, closed: Double, outcomes n: Int) -> Check {
    Check.close(id: "real.acceptance-rate",
                "The acceptance rate $\\sum_x \\pi_0(x) a(x)$ equals $Z(\\beta) e^{-\\max r/\\beta}$ with $Z$ from the "
                    + "forward algorithm",
                reference: "eq. 5", aLabel: "$\\sum_x \\pi_0 a$", bLabel: "$Z e^{-\\max r/\\beta}$",
                a: exact, b: closed, relative: summationTolerance(n, scale: 8),
                because: "n-term sum against L products with exp: (n+2)·8ε relative")
}

/// Z(β) e^{−max r/β} by the forward recursion: each "good" word multiplies the weight by e^{1/(Lβ)}.
func forwardAcceptanceRate(_ lm: BigramModel, beta: Double) -> Double {
    lm.forwardPartition(tokenWeight: { $0 == BigramModel.good ? exp(1 / (beta * Double(lm.length))) : 1 })
        * exp(-lm.reward.max()! / beta)
}

func realRewardFiltering(_ c: Context) throws {
    let page = c.page, lm = c.lm, beta = c.beta
    page.section("Filtering with a real-valued reward")
    page.prose(#"""
    For a real reward the same trick works with a soft acceptance: keep a generated sentence with probability
    $e^{(r(x) - \max r)/\beta}$, which never exceeds 1. Kept sentences then follow $\pi_0(x) e^{r(x)/\beta}$ up to
    normalisation, which is the posterior of eq. 5. The price is the acceptance rate $Z e^{-\max r / \beta}$, which
    collapses as $\beta$ shrinks. Here the reward is the fraction of words that are
    """# + " “\(lm.words[BigramModel.good])”.")
    page.equation(#"""
    P(\text{keep} \mid x) = e^{(r(x) - \max r)/\beta}, \qquad \text{acceptance rate} = Z(\beta) \, e^{-\max r/\beta}
    """#, number: "5")
    let r = lm.reward
    let a = RejectionSampling.acceptanceProbabilities(reward: r, beta: beta)
    let exact = RejectionSampling.acceptanceRate(prior: lm.prior, acceptance: a)
    page.parameters([("β", NumberFormat.format(beta)), ("max r", NumberFormat.format(r.max()!)),
                     ("exact acceptance rate", NumberFormat.format(exact))])
    page.check(acceptanceAgreement(exact: exact, closed: forwardAcceptanceRate(lm, beta: beta), outcomes: lm.n))
    let run = filterSentences(lm, c.seeds.generator("real-filtering"), draws: c.draws, acceptance: { a[$0] })
    let total = run.attempts.reduce(0, +)
    page.check(proposalsPerKept(id: "real.mean-attempts",
                                claim: "Mean attempts per kept sentence is 1 / acceptance rate", reference: "eq. 5",
                                proposals: total, kept: c.draws, acceptance: exact, bLabel: "1 / rate"))
    let post = c.problem.posterior
    page.check(try chiSquare(id: "real.posterior",
                             claim: "Kept sentences follow the posterior $\\pi^*_\\beta$ of eq. 5 (chi-square)",
                             reference: "eq. 5", draws: run.kept, probabilities: post.probabilities))
    page.record("acceptance_rate_real", Double(c.draws) / Double(total))
    page.record("beta", beta)
}

// MARK: - The binary posterior as a limit

/// TV(π_c, π*) enumerated, for the reward r_c = −c(1 − b) at temperature `beta` (1 in the chapter).
func enumeratedLimitDistance(_ lm: BigramModel, c: Double, beta: Double = 1) -> Double {
    let pc = Posterior.distribution(prior: lm.prior, reward: lm.acceptable.map { $0 ? 0 : -c }, beta: beta)
    return totalVariation(pc, RejectionSampling.binaryPosterior(prior: lm.prior, acceptable: lm.acceptable))
}

/// The enumerated distances against the closed form, at every penalty c.
func limitAgreement(penalties: [Double], enumerated: [Double], closed: [Double], outcomes n: Int) -> Check {
    var w = WorstCase(.equal)
    for k in penalties.indices {
        w.add(enumerated[k], closed[k], tolerance: summationTolerance(n, scale: 4) + 1e-12 * closed[k],
              at: "c = \(NumberFormat.format(penalties[k]))")
    }
    return w.check(id: "limit.distance",
                   claim: "For $c = 0, 1, \\ldots, \(Int(penalties.last!))$ the enumerated "
                    + "$\\mathrm{TV}(\\pi_c, \\pi^*)$ equals the closed form",
                   reference: "§5", aLabel: "enumerated TV", bLabel: "$(1 - Z) e^{-c} / (Z + (1 - Z) e^{-c})$",
                   because: "TV is an n-term sum of differences of probabilities: (n+2)·4ε absolute, plus 10⁻¹² "
                    + "relative for the closed form's exp and division")
}

func binaryLimit(_ c: Context) {
    let page = c.page, lm = c.lm
    page.section("The binary posterior is the limit of exponentiated rewards")
    page.prose(#"""
    The binary model is not a different kind of object: it is the $c \to \infty$ limit of the exponentiated-reward
    posterior for the reward $r_c(x) = -c(1 - b(x))$ at $\beta = 1$. For finite $c$ a cursing sentence keeps the
    weight $e^{-c}$, and the total-variation distance to the binary posterior is exactly the mass those sentences
    keep.
    """#)
    page.equation(#"\mathrm{TV}(\pi_c, \pi^*) = \pi_c(b = 0) = \frac{(1 - Z) e^{-c}}{Z + (1 - Z) e^{-c}}"#)
    let z = RejectionSampling.partitionFunction(prior: lm.prior, acceptable: lm.acceptable)
    let cs = (0...20).map(Double.init)
    let enumerated = cs.map { enumeratedLimitDistance(lm, c: $0) }
    let closed = cs.map { RejectionSampling.limitTotalVariation(partition: z, c: $0) }
    page.check(limitAgreement(penalties: cs, enumerated: enumerated, closed: closed, outcomes: lm.n))
    page.plot(LinePlot(title: "Exponentiated rewards approach the binary posterior",
                       description: "Total variation to the binary posterior against the penalty c, log scale.",
                       xLabel: "penalty c", yLabel: "$\\mathrm{TV}(\\pi_c, \\pi^*)$", yScale: .log10,
                       series: [Series("closed form", x: cs, y: closed),
                                Series("enumerated", x: cs, y: enumerated, style: .points)]),
              caption: "The distance falls like $e^{-c}(1-Z)/Z$: the binary posterior is the hard-constraint end "
                + "of the family of eq. 5.")
}

// MARK: - Independent Metropolis-Hastings

/// max_y |(π P)(y) − π(y)|: the target is stationary for the chain P.
func stationarity(target: Distribution, chain p: [[Double]]) -> Check {
    let next = IndependentMetropolisHastings.step(target.probabilities, p)
    var w = WorstCase(.equal)
    let tol = summationTolerance(2 * target.count, scale: 1)
    for y in 0..<target.count { w.add(next[y], target.probabilities[y], tolerance: tol, at: "sentence \(y)") }
    return w.check(id: "mh.stationary", claim: "$\\pi^*_\\beta P = \\pi^*_\\beta$: the posterior is stationary",
                   reference: "§5", aLabel: "$(\\pi^* P)(y)$", bLabel: "$\\pi^*(y)$",
                   because: "an n-term row sum plus the diagonal 1 − Σ: (2n+2)ε")
}

/// π(x) P(x, y) against π(y) P(y, x) for every pair.
func detailedBalance(target: Distribution, chain p: [[Double]]) -> Check {
    var w = WorstCase(.equal)
    let tol = summationTolerance(2 * target.count, scale: 1), pi = target.probabilities
    for x in 0..<target.count { for y in 0..<target.count { w.add(pi[x] * p[x][y], pi[y] * p[y][x], tolerance: tol) } }
    return w.check(id: "mh.detailed-balance",
                   claim: "Detailed balance $\\pi^*(x) P(x, y) = \\pi^*(y) P(y, x)$ for every pair",
                   reference: "§5", aLabel: "$\\pi^*(x) P(x, y)$", bLabel: "$\\pi^*(y) P(y, x)$",
                   because: "diagonal terms carry an n-term sum: (2n+2)ε")
}

/// The law of the chain after t = 1 … `steps` steps from `start`, its TV to the target, and the bound (1 − 1/w*)^t.
func distanceFromStart(target: Distribution, proposal: Distribution, chain p: [[Double]], start: Int,
                       steps: Int) -> (tv: [Double], bound: [Double]) {
    var mu = [Double](repeating: 0, count: target.count); mu[start] = 1
    var tvs: [Double] = [], bounds: [Double] = []
    for t in 1...steps {
        mu = IndependentMetropolisHastings.step(mu, p)
        tvs.append(totalVariation(Distribution(weights: mu.map { max($0, 0) }), target))
        bounds.append(IndependentMetropolisHastings.convergenceBound(target: target, proposal: proposal, steps: t))
    }
    return (tvs, bounds)
}

/// The sentence of largest weight w(x) = π(x)/q(x): the chain's slowest start.
func slowestStart(target: Distribution, proposal: Distribution) -> Int {
    let logW = (0..<target.count).map { target.logProbabilities[$0] - proposal.logProbabilities[$0] }
    return (0..<target.count).max { logW[$0] < logW[$1] }!
}

func convergenceBoundHolds(tv: [Double], bound: [Double], outcomes n: Int) -> Check {
    var w = WorstCase(.lessOrEqual)
    for t in tv.indices {
        w.add(tv[t], bound[t], tolerance: Double(t + 1) * summationTolerance(2 * n, scale: 1), at: "t = \(t + 1)")
    }
    return w.check(id: "mh.convergence",
                   claim: "From the slowest start, $\\mathrm{TV}(P^t(x, \\cdot), \\pi^*) \\le (1 - 1/w^*)^t$ for "
                    + "$t = 1, \\ldots, \(tv.count)$",
                   reference: "§5, Mengersen & Tweedie (1996)", aLabel: "$\\mathrm{TV}_t$", bLabel: "$(1 - 1/w^*)^t$",
                   because: "t matrix-vector products, each (2n+2)ε")
}

func metropolisHastings(_ c: Context) {
    let page = c.page, full = c.lm
    let lm = full.length > 4 ? full.shortened(to: 4) : full
    page.section("Independent Metropolis-Hastings has π* as its stationary law")
    page.prose(#"""
    Filtering wastes every rejected sentence. Independent Metropolis-Hastings instead proposes a fresh sentence $y$
    from the prior and moves to it with probability $\min(1, w(y)/w(x))$, where $w = \pi^*/\pi_0 \propto e^{r/\beta}$;
    otherwise it stays. We build its exact transition matrix on the
    """# + " \(lm.n) sentences of length \(lm.length) " + #"""
    and check that $\pi^*_\beta$ is stationary and that the chain forgets its start at least as fast as the known
    rate $(1 - 1/w^*)^t$, $w^* = \max_x \pi^*(x)/\pi_0(x)$.
    """#)
    page.equation(#"""
    P(x, y) = \pi_0(y) \min\left(1, \frac{w(y)}{w(x)}\right) \; (y \ne x), \qquad
    \sum_x \pi^*(x) P(x, y) = \pi^*(y)
    """#)
    let post = ExactProblem(prior: lm.prior, reward: lm.reward, beta: c.beta).posterior
    let p = IndependentMetropolisHastings.transitionMatrix(target: post, proposal: lm.prior)
    page.check(stationarity(target: post, chain: p))
    page.check(detailedBalance(target: post, chain: p))
    // Distance to stationarity from the slowest start: the sentence of largest weight w*, where the
    // chain stays put with probability 1 − 1/w* at each step (from the smallest weight every move
    // is accepted and the law is the prior after one step).
    let start = slowestStart(target: post, proposal: lm.prior)
    let run = distanceFromStart(target: post, proposal: lm.prior, chain: p, start: start, steps: 40)
    page.check(convergenceBoundHolds(tv: run.tv, bound: run.bound, outcomes: lm.n))
    let ts = (1...run.tv.count).map(Double.init)
    let ratio = run.tv.last! / run.bound.last!
    page.plot(LinePlot(title: "Independent Metropolis-Hastings forgets its start",
                       description: "Total variation to the posterior after t steps and the uniform bound.",
                       xLabel: "steps t", yLabel: "TV to π*", yScale: .log10,
                       series: [Series("exact TV from the slowest start", x: ts, y: run.tv, style: .lineAndPoints),
                                Series("bound (1 − 1/w*)^t", x: ts, y: run.bound, style: .dashed)]),
              caption: "The chain's law converges to $\\pi^*_\\beta$ geometrically, at the rate of the bound: from the "
                + "sentence of largest weight it leaves with probability $1/w^*$ a step. After \(run.tv.count) steps "
                + "the exact distance is \(NumberFormat.format(ratio, significant: 3)) times the bound.")
}

// MARK: - Importance sampling

/// Sums over N prior draws of the weights w = e^{r/β}, their squares and w r.
struct ImportanceSums {
    var count = 0, weight = 0.0, squaredWeight = 0.0, weightedReward = 0.0

    init(_ lm: BigramModel, _ rng: RandomGenerator, draws: Int, beta: Double) {
        for _ in 0..<draws {
            let x = lm.generate(rng)
            let w = exp(lm.reward[x] / beta)
            weight += w; squaredWeight += w * w; weightedReward += w * lm.reward[x]
        }
        count = draws
    }

    /// Ẑ = (1/N) Σ w.
    var partitionEstimate: Double { weight / Double(count) }
    /// Σ w r / Σ w.
    var selfNormalisedReward: Double { weightedReward / weight }
}

/// Ẑ/Z against 1 within 5.3 exact standard errors (Rényi-2 variance).
func partitionEstimateAgrees(_ sums: ImportanceSums, _ problem: ExactProblem) -> Check {
    let relVar = ImportanceSampling.relativeVarianceOfPartitionEstimate(
        posterior: problem.posterior, prior: problem.prior, samples: sums.count)
    return Check(id: "importance.partition", claim: "The importance-sampling estimate of $Z$ agrees with the exact $Z$",
                 reference: "eq. 5", aLabel: "$\\hat{Z} / Z$", bLabel: "1",
                 a: sums.partitionEstimate / exp(problem.logEvidence), b: 1, tolerance: zLevel * relVar.squareRoot(),
                 because: "5.3 exact standard errors (Rényi-2 variance): false failure ≈ 1.2·10⁻⁷")
}

/// The self-normalised estimate of E_π*[r] against the exact posterior mean.
func selfNormalisedAgrees(_ sums: ImportanceSums, _ problem: ExactProblem) -> Check {
    let post = problem.posterior
    let v = ImportanceSampling.selfNormalisedVariance(posterior: post, prior: problem.prior, f: problem.reward,
                                                      samples: sums.count)
    return Check(id: "importance.self-normalised",
                 claim: "The self-normalised estimate of $\\mathbb{E}_{\\pi^*}[r]$ agrees with the exact posterior "
                    + "mean",
                 reference: "eq. 5", aLabel: "$\\sum w r / \\sum w$", bLabel: "$\\mathbb{E}_{\\pi^*}[r]$",
                 a: sums.selfNormalisedReward, b: post.expectation(problem.reward), tolerance: zLevel * v.squareRoot(),
                 because: "5.3 delta-method standard errors; the O(1/N) bias is below 1% of that at N ≥ 1000: "
                    + "false failure ≈ 10⁻⁷")
}

func importanceSampling(_ c: Context) {
    let page = c.page, lm = c.lm
    page.section("Importance sampling: estimates and their exact variance")
    page.prose(#"""
    Importance sampling keeps every draw from the prior and weights it by $e^{r(x)/\beta}$. The mean weight is an
    unbiased estimate of $Z$; its variance is exact and finite on a finite space, set by the order-2 Rényi divergence
    $D_2(\pi^* \| \pi_0)$. Weighted averages estimate posterior expectations with a small bias and a variance given by
    the delta method.
    """#)
    page.equation(#"""
    \hat{Z} = \frac{1}{N} \sum_{i=1}^{N} e^{r(x_i)/\beta}, \quad
    \frac{\operatorname{Var} \hat{Z}}{Z^2} = \frac{e^{D_2(\pi^* \| \pi_0)} - 1}{N}
    """#)
    let problem = c.problem
    let sums = ImportanceSums(lm, c.seeds.generator("importance"), draws: c.draws, beta: c.beta)
    page.check(partitionEstimateAgrees(sums, problem))
    page.check(selfNormalisedAgrees(sums, problem))
    let post = problem.posterior
    let essExact = ImportanceSampling.effectiveSampleFraction(posterior: post, prior: lm.prior)
    let essSample = sums.weight * sums.weight / sums.squaredWeight / Double(c.draws)
    page.table(headers: ["quantity", "exact", "from \(c.draws) draws"],
               rows: [["$Z$", NumberFormat.format(exp(problem.logEvidence)),
                       NumberFormat.format(sums.partitionEstimate)],
                      ["$\\mathbb{E}_{\\pi^*}[r]$", NumberFormat.format(post.expectation(lm.reward)),
                       NumberFormat.format(sums.selfNormalisedReward)],
                      ["effective sample fraction $e^{-D_2}$", NumberFormat.format(essExact),
                       NumberFormat.format(essSample)]],
               caption: "Importance sampling from the prior for the posterior at β = \(NumberFormat.format(c.beta))")
    page.record("effective_sample_fraction", essExact)
}

// MARK: - Quasi-rejection sampling

/// The Poisson(11) target on {0, …, K} with the Poisson(10) proposal truncated there.
struct PoissonQuasiRejection {
    static let support = 60
    let sampler: QuasiRejection
    /// F_10(K), the proposal's untruncated mass.
    let proposalMass: Double

    init() throws {
        let k = PoissonQuasiRejection.support
        let q = Distribution(logWeights: try (0...k).map { try Poisson.logProbability($0, mean: 10) })
        let logP = try (0...k).map { try Poisson.logProbability($0, mean: 11) }
        sampler = QuasiRejection(proposal: q, logTarget: logP)
        proposalMass = try Poisson.cumulative(k, mean: 10).value
    }

    /// AR(c) in closed form: P(x)/q(x) = e^{-1} 1.1^x F10(K) ≤ c ⇔ x ≤ (log c + 1 − log F10(K)) / log 1.1.
    func closedAcceptanceRate(_ c: Double) throws -> Double {
        let k = PoissonQuasiRejection.support
        let xc = min(k, Int(floor((log(c) + 1 - log(proposalMass)) / log(1.1))))
        guard xc >= 0 else { return 1 }
        let kept = try Poisson.cumulative(xc, mean: 11).value / c
        return kept + (proposalMass - (try Poisson.cumulative(xc, mean: 10).value)) / proposalMass
    }
}

/// 41 constants c from 0.05 to 4 max P/q, evenly spaced in log c.
func constantGrid(_ qrs: QuasiRejection) -> [Double] {
    (0...40).map { i in 0.05 * pow(4 * qrs.exactConstant / 0.05, Double(i) / 40) }
}

/// AR(c) summed over x against the closed form, on the whole grid.
func acceptanceClosedForm(grid: [Double], summed: [Double], closed: [Double]) -> Check {
    var w = WorstCase(.equal)
    for k in grid.indices {
        w.add(summed[k], closed[k], tolerance: 1e-12 * summed[k],
              at: "c = \(NumberFormat.format(grid[k], significant: 3))")
    }
    return w.check(id: "qrs.acceptance-rate",
                   claim: "$\\mathrm{AR}(c)$ summed over $x$ equals the closed form in incomplete gamma functions, "
                    + "on the whole grid",
                   reference: "§5", aLabel: "$\\sum_x \\min(q, P/c)$", bLabel: "closed form",
                   because: "10⁻¹² relative: GSL's incomplete gamma is accurate to ~10⁻¹⁴ relative; 61-term sums "
                    + "add (K+2)ε")
}

/// TV(p, p_c) ≤ 1 − c AR(c)/Z at every c of the grid, with Z = e^{logZ}.
func divergenceBound(_ qrs: QuasiRejection, grid: [Double], logZ: Double) -> Check {
    var w = WorstCase(.lessOrEqual)
    let tol = summationTolerance(qrs.proposal.count, scale: 8)
    for c in grid {
        let tv = totalVariation(qrs.target, qrs.distribution(c: c))
        w.add(tv, 1 - c * qrs.acceptanceRate(c: c) / exp(logZ), tolerance: tol,
              at: "c = \(NumberFormat.format(c, significant: 3))")
    }
    return w.check(id: "qrs.bound",
                   claim: "The acceptance rate bounds the divergence: "
                    + "$\\mathrm{TV}(p, p_c) \\le 1 - c \\, \\mathrm{AR}(c)/Z$ on the whole grid",
                   reference: "§5, Eikema et al. (2022)", aLabel: "$\\mathrm{TV}(p, p_c)$",
                   bLabel: "$1 - c \\, \\mathrm{AR}(c)/Z$",
                   because: "61-term sums of probabilities: (K+3)·8ε")
}

/// KL(p ‖ p_c) along the grid, in the order given, never rises.
func divergenceFalls(grid: [Double], divergences kls: [Double], outcomes n: Int) -> Check {
    var w = WorstCase(.lessOrEqual)
    for k in 1..<kls.count {
        w.add(kls[k], kls[k - 1], tolerance: summationTolerance(n, scale: 8),
              at: "c = \(NumberFormat.format(grid[k], significant: 3))")
    }
    return w.check(id: "qrs.monotone", claim: "The divergence $\\mathrm{KL}(p \\| p_c)$ never grows as $c$ grows",
                   reference: "§5", aLabel: "$\\mathrm{KL}(p \\| p_{c_{k+1}})$",
                   bLabel: "$\\mathrm{KL}(p \\| p_{c_k})$",
                   because: "rounding of 61-term sums")
}

/// A seeded run of quasi-rejection at constant c: kept draws and proposals.
func quasiRejectionRun(_ qrs: QuasiRejection, _ rng: RandomGenerator, c: Double,
                       draws: Int) -> (kept: [Int], proposals: Int) {
    var kept: [Int] = [], proposals = 0
    while kept.count < draws {
        var x = rng.poisson(mean: 10)
        while x > PoissonQuasiRejection.support { x = rng.poisson(mean: 10) }   // the truncated proposal
        proposals += 1
        if rng.uniform() < qrs.acceptance(x, c: c) { kept.append(x) }
    }
    return (kept, proposals)
}

func quasiRejection(_ c: Context) throws {
    let page = c.page
    page.section("Quasi-rejection sampling trades acceptance for divergence")
    let k = PoissonQuasiRejection.support
    let poisson = try PoissonQuasiRejection()
    let qrs = poisson.sampler
    let cExact = qrs.exactConstant
    page.prose(#"""
    Exact rejection needs a constant $c \ge \max_x P(x)/q(x)$, which can be huge. Quasi-rejection sampling uses any
    $c$ and accepts with $\min(1, P(x)/(c\,q(x)))$: kept draws follow $p_c \propto \min(q, P/c)$, exact once $c$
    reaches the bound. Here the target $P$ is the Poisson(11) probability on
    """# + " $\\{0, …, \(k)\\}$ " + #"""
    and the proposal the Poisson(10) distribution truncated there; since $P/q \propto 1.1^x$ the cap binds on the top
    of the range, and the acceptance rate has a closed form in Poisson cumulative probabilities (GSL's incomplete
    gamma function).
    """#)
    page.equation(#"""
    \mathrm{AR}(c) = \sum_x \min\left(q(x), \frac{P(x)}{c}\right)
    = \frac{F_{11}(x_c)}{c} + \frac{F_{10}(K) - F_{10}(x_c)}{F_{10}(K)},
    \quad x_c = \max\{x : P(x)/q(x) \le c\}
    """#)
    let p = qrs.target
    let grid = constantGrid(qrs)
    let ars = grid.map { qrs.acceptanceRate(c: $0) }
    let tvs = grid.map { totalVariation(p, qrs.distribution(c: $0)) }
    let kls = grid.map { klDivergence(p, qrs.distribution(c: $0)) }
    let rows = stride(from: 0, through: 40, by: 5).map { i in
        [NumberFormat.format(grid[i], significant: 4), NumberFormat.format(ars[i], significant: 5),
         NumberFormat.format(tvs[i], significant: 4), NumberFormat.format(kls[i], significant: 4)]
    }
    page.parameters([("support", "{0, …, \(k)}"), ("exact constant max P/q", NumberFormat.format(cExact)),
                     ("c grid", "41 values from 0.05 to 4·max P/q")])
    let closed = try grid.map { try poisson.closedAcceptanceRate($0) }
    page.check(acceptanceClosedForm(grid: grid, summed: ars, closed: closed))
    page.check(divergenceBound(qrs, grid: grid, logZ: qrs.logPartition))
    page.check(divergenceFalls(grid: grid, divergences: kls, outcomes: k + 1))
    let cBig = 2 * cExact
    page.derivation([
        DerivationLine(#"\mathrm{TV}(p, p_{2 \max P/q})"#, totalVariation(p, qrs.distribution(c: cBig)),
                       note: "once $c \\ge \\max P/q$, $p_c = (P/c)/(Z/c) = p$ term by term: exact rejection"),
        DerivationLine(#"\mathrm{AR}(2 \max P/q) = \sum_x \min\left(q(x), \frac{P(x)}{c}\right)"#,
                       qrs.acceptanceRate(c: cBig), note: "every term is $P(x)/c$ once $c \\ge \\max P/q$"),
        DerivationLine(#"= Z / c"#, exp(qrs.logPartition) / cBig, note: "the same sum with $1/c$ taken out"),
    ], caption: "Above the exact constant quasi-rejection is exact rejection, with acceptance rate $Z/c$ (shown, not "
        + "checked: the construction restated, and one sum written twice)")
    page.table(headers: ["c", "acceptance rate", "$\\mathrm{TV}(p, p_c)$", "$\\mathrm{KL}(p \\| p_c)$"], rows: rows,
               caption: "Quasi-rejection for a Poisson(11) target with a Poisson(10) proposal on {0, …, \(k)}, "
                + "from exact sums")
    // A seeded run at c = 1.
    let run = quasiRejectionRun(qrs, c.seeds.generator("quasi-rejection"), c: 1, draws: c.draws)
    page.check(proposalsPerKept(id: "qrs.mean-proposals",
                                claim: "A seeded run at $c = 1$: proposals per kept draw match $1/\\mathrm{AR}(1)$",
                                reference: "§5", proposals: run.proposals, kept: c.draws,
                                acceptance: qrs.acceptanceRate(c: 1), bLabel: "$1/\\mathrm{AR}(1)$"))
    page.check(try chiSquare(id: "qrs.kept-law",
                             claim: "… and the kept draws follow $p_1 \\propto \\min(q, P)$ (chi-square)",
                             reference: "§5", draws: run.kept, probabilities: qrs.distribution(c: 1).probabilities))
    page.plot(LinePlot(title: "Quasi-rejection: acceptance against divergence",
                       description: "Acceptance rate, TV and KL to the target as functions of the constant c.",
                       xLabel: "constant c", yLabel: "value", xScale: .log10,
                       series: [Series("acceptance rate AR(c)", x: grid, y: ars),
                                Series("$\\mathrm{TV}(p, p_c)$", x: grid, y: tvs, style: .dashed),
                                Series("bound 1 − c AR/Z", x: grid, y: grid.map { qrs.totalVariationBound(c: $0) },
                                       style: .points),
                                Series("$\\mathrm{KL}(p \\| p_c)$", x: grid, y: kls, style: .lineAndPoints)],
                       references: [ReferenceLine(.vertical, at: cExact, label: "c = max P/q")], yIncludesZero: true),
              caption: "Raising $c$ lowers the acceptance rate and the divergence together; the acceptance rate "
                + "alone gives the bound $1 - c\\,\\mathrm{AR}(c)/Z$ on the total variation; right of the dashed line "
                + "the sampler is exact and the rate falls like $Z/c$.")
}

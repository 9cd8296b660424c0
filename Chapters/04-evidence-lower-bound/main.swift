// Chapter 4: KL-regularised RL is variational inference (paper §4 and appendix, eqs. 8-17).
//
// Read the exponentiated reward as the likelihood of an "optimal" observation; then the
// KL-regularised objective is the evidence lower bound of variational inference. This program
// checks the appendix's derivation line by line, each line against the next computed another
// way, and the bound itself over many policies.
import ArgumentParser
import BookKit
import Foundation
import Finite
import GSL
import Notebook

@main
struct EvidenceLowerBound: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence-lower-bound",
        abstract: "Chapter 4: the KL-regularised objective is an evidence lower bound, tight exactly at the posterior.",
        discussion: "Verifies the appendix of the paper (eqs. 8-17) on exact finite distributions and writes Output/04-evidence-lower-bound.html and .json. Exit 0: every check holds; 1: a check failed; 2: bad usage or input.")

    @OptionGroup var common: ChapterOptions

    @Option(help: "Number of outcomes |X| of the exact space (2 to 100000).")
    var outcomes: Int = 1000

    @Option(help: "Temperature β (0.05 to 100); the appendix takes β = 1, other values use the likelihood exp(r/β). Below 0.05 the likelihood table exp(r/β) of the least acceptable outcome (u = 2⁻³²) would leave double precision.")
    var beta: Double = 1

    static func main() { ChapterMain.main(Self.self) }

    func validate() throws {
        guard (2...100_000).contains(outcomes) else { throw ValidationError("--outcomes must be between 2 and 100000 (got \(outcomes))") }
        guard beta.isFinite, beta >= 0.05, beta <= 100 else { throw ValidationError("--beta must be a number in [0.05, 100] (got \(beta))") }
    }

    func run() throws {
        let chapter = Chapter(
            slug: "04-evidence-lower-bound", number: 4, title: "KL-regularised RL is variational inference",
            summary: "With p(O=1|x) = exp(r(x)/β), the KL-regularised objective over β is the ELBO of log p(O=1); its gap is exactly KL(π ‖ posterior).")
        try chapter.run(options: common, parameters: [("outcomes", "\(outcomes)"), ("beta", "\(beta)")]) { page, seeds in
            let setting = Setting(outcomes: outcomes, beta: beta, seeds: seeds)
            likelihood(page, setting)
            bayes(page, setting)
            derivation(page, setting, seeds)
            bound(page, setting, seeds, quick: common.quick)
        }
    }
}

// MARK: - The setting

/// A Dirichlet(1) prior and non-positive rewards r(x) = log u(x), u uniform on (0, 1): each
/// outcome is acceptable with probability u(x) = p(O = 1 | x) at β = 1.
struct Setting {
    let n: Int
    let beta: Double
    let prior: Distribution
    let reward: [Double]
    let posterior: Distribution
    let logEvidence: Double

    init(outcomes n: Int, beta: Double, seeds: Seeds) {
        self.n = n; self.beta = beta
        let rng = seeds.generator("setting")
        prior = Distribution(logWeights: (0..<n).map { _ in log(-log(rng.uniformPositive())) })
        reward = (0..<n).map { _ in log(rng.uniformPositive()) }
        posterior = Posterior.distribution(prior: prior, reward: reward, beta: beta)
        logEvidence = EvidenceDerivation.logEvidence(prior: prior, reward: reward, beta: beta)
    }

    /// The largest |r|/β: the size of the log-likelihood terms.
    var maxLogLikelihood: Double { reward.map { Swift.abs($0) }.max()! / beta }
    var maxLogPrior: Double { prior.logProbabilities.map { Swift.abs($0) }.max()! }
}

/// Rounding allowance for a sum of n terms each at most `scale` in size: (n + 2) ε scale.
func summationTolerance(_ n: Int, scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

/// The size of the terms log w(x) = r/β + log π0 − log π on the support of π.
func logWeightScale(_ s: Setting, _ pi: Distribution) -> Double {
    var m = 0.0
    for x in 0..<s.n where pi.probabilities[x] > 0 { m = max(m, Swift.abs(pi.logProbabilities[x])) }
    return s.maxLogLikelihood + s.maxLogPrior + m
}

/// Variational policies with full support: Dirichlet draws mixed with 10⁻⁶ of the uniform
/// distribution, so that eq. 13 covers every outcome of the prior.
func policies(_ rng: RandomGenerator, n: Int, count: Int) -> [Distribution] {
    (0..<count).map { k in
        let w = rng.dirichlet(count: n, concentration: [0.05, 0.3, 1, 10][k % 4])
        return Distribution(weights: w.map { (1 - 1e-6) * $0 + 1e-6 / Double(n) })
    }
}

// MARK: - Eq. 8: rewards as likelihoods

func likelihood(_ page: Page, _ s: Setting) {
    page.section("A reward is a likelihood")
    page.prose("Introduce a binary variable $O$, read as \"this outcome is acceptable\", and let the reward set its probability: $p(O = 1 \\mid x) = e^{r(x)/\\beta}$. For this to be a probability the reward must be at most zero, which is why the appendix asks for negative rewards; here $r(x) = \\log u(x)$ with $u(x)$ uniform on $(0, 1)$, so $u(x)$ is literally the chance that $x$ is acceptable when $\\beta = 1$. Together with the prior this defines a joint distribution over $(O, x)$, and the evidence $p(O = 1)$, the prior probability that a sample is acceptable, is the normaliser $Z$ of eq. 5; being a probability it is at most one.")
    page.equation("p(O = 1 \\mid x) = \\exp \\left( r(x) / \\beta \\right), \\qquad p(O = 1) = \\sum_x \\pi_0(x) \\, p(O = 1 \\mid x) = Z \\le 1", number: "8")
    page.parameters([("$|X|$", "\(s.n)"), ("prior $\\pi_0$", "Dirichlet(1, …, 1) draw"), ("reward", "r(x) = log u(x), u uniform on (0, 1)"),
                     ("$\\beta$", NumberFormat.format(s.beta) + (s.beta == 1 ? " (as in the appendix)" : " (the appendix's β = 1, generalised)"))])
    let table = EvidenceDerivation.likelihood(reward: s.reward, beta: s.beta)
    page.check(Check(claim: "Every likelihood p(O=1|x) = e^{r(x)/β} lies in [0, 1]", reference: "eq. 8",
                     aLabel: "max_x p(O=1|x)", bLabel: "1", a: table.max()!, b: 1, relation: .lessOrEqual, tolerance: 0,
                     because: "exp of a non-positive number never exceeds 1 in IEEE arithmetic"))
    let joint = EvidenceDerivation.joint(prior: s.prior, reward: s.reward, beta: s.beta)
    let total = joint.optimal.reduce(0, +) + joint.notOptimal.reduce(0, +)
    page.check(Check(claim: "The joint table p(O, x) = p(O|x) π0(x) sums to 1 over O ∈ {0, 1} and x", reference: "eq. 8",
                     aLabel: "Σ_{O,x} p(O, x)", bLabel: "1", a: total, b: 1, tolerance: 2 * summationTolerance(2 * s.n, scale: 1),
                     because: "two n-term sums of probabilities plus the rounding of exp and expm1: 2(2n+2)ε"))
    page.check(Check(claim: "The evidence p(O = 1) = Z is a probability: log Z ≤ 0", reference: "eq. 8",
                     aLabel: "log p(O = 1)", bLabel: "0", a: s.logEvidence, b: 0, relation: .lessOrEqual,
                     tolerance: summationTolerance(s.n, scale: 1), because: "an average of numbers ≤ 1; slack for n-term rounding"))
    page.record("log_evidence", s.logEvidence)
}

// MARK: - Eqs. 9-10: Bayes' rule gives the posterior of eq. 5

func bayes(_ page: Page, _ s: Setting) {
    page.section("Bayes' rule gives the optimal policy")
    page.prose("Condition on the observation $O = 1$. Bayes' rule multiplies the prior by the likelihood and divides by the evidence, and what comes out is exactly the optimal policy $\\pi^*$ of eq. 5: the posterior that the KL-regularised objective aims at is the ordinary Bayesian posterior given that the outcome is acceptable. We compute it from the joint table in linear space and compare it with the log-space softmax of chapter 3.")
    page.equation("p(x \\mid O = 1) = \\frac{p(O = 1 \\mid x) \\, \\pi_0(x)}{p(O = 1)} = \\frac{1}{Z} \\pi_0(x) \\exp \\left( r(x) / \\beta \\right) = \\pi^*(x)", number: "9-10")
    let bayes = EvidenceDerivation.bayesPosterior(prior: s.prior, reward: s.reward, beta: s.beta)
    let diff = (0..<s.n).map { Swift.abs(bayes[$0] - s.posterior.probabilities[$0]) }.max()!
    page.check(Check(claim: "Bayes' rule from the joint table equals the posterior π* of eq. 5 at every outcome", reference: "eqs. 9-10",
                     aLabel: "max_x |p(x|O=1) − π*(x)|", bLabel: "0", a: diff, b: 0,
                     tolerance: 2 * summationTolerance(s.n, scale: 1) + 8 * Double.ulpOfOne * (s.maxLogLikelihood + s.maxLogPrior),
                     because: "an n-term sum in each normaliser, (n+2)ε each, plus exp of arguments up to max|r|/β + max|log π0|"))
    page.aside("Eq. 10: the paper writes the posterior as $\\frac{1}{Z} a(x) \\exp(r(x)/\\beta)$; the factor is the prior $\\pi_0(x)$, as the line before it (eq. 9, with $p(x) = \\pi_0(x)$) and eq. 5 show. The check above uses $\\pi_0$.", kind: .erratum)
}

// MARK: - Eqs. 11-17: the derivation, line by line

/// The worst of several (difference, tolerance) pairs: the one closest to failing.
struct Worst {
    var difference = 0.0, tolerance = 0.0, ratio = -Double.infinity
    mutating func update(_ d: Double, _ t: Double) {
        let r = d.isNaN ? .infinity : d / t
        if r > ratio { ratio = r; difference = d; tolerance = t }
    }
}

func derivation(_ page: Page, _ s: Setting, _ seeds: Seeds) {
    page.section("The derivation, one line at a time")
    page.prose("The appendix reaches the evidence lower bound in five steps: sum the joint over $x$ (eq. 11), factor it into likelihood and prior (12), multiply and divide by a variational policy $\\pi$ (13), move the logarithm inside the average with Jensen's inequality (14), and substitute the likelihood (15). Two rewritings follow: the KL-regularised objective (16) and a negative divergence from the unnormalised posterior (17). We compute every line separately, the way it is written (tables where it has products, logarithms where it has logarithms), for 100 random full-support policies and two near the posterior, and compare each line with the next. The equalities hold to rounding; the one inequality has a gap that is exactly $\\operatorname{KL}(\\pi, p(\\cdot \\mid O = 1))$.")
    page.equation("\\log p(O = 1) = \\log \\sum_x p(O = 1, x) = \\log \\sum_x p(O = 1 \\mid x) \\pi_0(x) = \\log \\sum_x \\pi(x) \\frac{p(O = 1 \\mid x) \\pi_0(x)}{\\pi(x)}", number: "11-13")
    page.equation("\\ge \\sum_x \\pi(x) \\log \\frac{p(O = 1 \\mid x) \\pi_0(x)}{\\pi(x)} = \\mathbb{E}_{x \\sim \\pi} \\left[ \\log \\frac{\\exp(r(x)/\\beta) \\pi_0(x)}{\\pi(x)} \\right]", number: "14-15")
    page.equation("= \\frac{1}{\\beta} \\mathbb{E}_{x \\sim \\pi} [r(x)] - \\operatorname{KL}(\\pi, \\pi_0) = -\\mathbb{E}_{x \\sim \\pi} \\left[ \\log \\frac{\\pi(x)}{\\pi_0(x) \\exp(r(x)/\\beta)} \\right] = \\log Z - \\operatorname{KL}(\\pi, \\pi^*)", number: "16-17")
    let rng = seeds.generator("derivation")
    var pis = policies(rng, n: s.n, count: 100)
    // Two policies close to the posterior, where Jensen's gap is nearly closed.
    for t in [1e-2, 1e-4] { pis.append(Distribution(weights: (0..<s.n).map { (1 - t) * s.posterior.probabilities[$0] + t * pis[0].probabilities[$0] })) }
    let table = EvidenceDerivation.likelihood(reward: s.reward, beta: s.beta)
    let logZ = s.logEvidence
    let small = 4 * Double.ulpOfOne

    let fromJoint = EvidenceDerivation.logEvidenceFromJoint(prior: s.prior, reward: s.reward, beta: s.beta)
    page.check(Check(claim: "(11) = (12): summing the joint table equals log-sum-exp over likelihood times prior", reference: "eqs. 11-12",
                     aLabel: "log Σ_x p(O=1, x)", bLabel: "log Σ_x p(O=1|x) π0(x)", a: fromJoint, b: logZ,
                     tolerance: 2 * summationTolerance(s.n, scale: 1) + small * (Swift.abs(logZ) + s.maxLogLikelihood + s.maxLogPrior),
                     because: "two n-term sums, (n+2)ε relative each, plus rounding of exp arguments up to max|r|/β + max|log π0|"))
    var w13 = Worst(), w14 = Worst(), gap = Worst(), w15 = Worst(), w16 = Worst(), w17 = Worst(), wKL = Worst()
    var rows: [[String]] = []
    for (k, pi) in pis.enumerated() {
        let scale = logWeightScale(s, pi)
        let tol = 2 * summationTolerance(s.n, scale: scale) + small * Swift.abs(logZ)
        let l13 = EvidenceDerivation.logEvidenceImportanceWeighted(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let l14 = EvidenceDerivation.jensenBound(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let l15 = EvidenceDerivation.boundFromLikelihood(pi, prior: s.prior, likelihood: table)
        let l16 = EvidenceDerivation.klRegularisedForm(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let l17 = EvidenceDerivation.divergenceForm(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        let kl = klDivergence(pi, s.posterior)
        w13.update(Swift.abs(l13 - logZ), tol)
        w14.update(l14 - l13, tol)
        gap.update(Swift.abs((l13 - l14) - kl), 2 * tol)
        w15.update(Swift.abs(l15 - l14), tol + small * s.maxLogLikelihood)
        w16.update(Swift.abs(l16 - l15), tol + small * s.maxLogLikelihood)
        w17.update(Swift.abs(l17 - l16), tol)
        wKL.update(Swift.abs(l17 - (logZ - kl)), 2 * tol)
        if k < 4 {
            rows.append(["π\(k + 1)", NumberFormat.format(l13), NumberFormat.format(l14), NumberFormat.format(l15), NumberFormat.format(l16),
                         NumberFormat.format(l17), NumberFormat.format(kl)])
        }
    }
    let because = "n-term sums of terms up to |r|/β + |log π0| + |log π|: 2(n+2)ε times that, plus a few ε of |log Z|"
    page.check(Check(claim: "(12) = (13): the importance-weighted evidence under π equals the evidence, for all 102 policies (worst shown)", reference: "eqs. 12-13",
                     aLabel: "|(13) − (12)|", bLabel: "0", a: w13.difference, b: 0, tolerance: w13.tolerance, because: because))
    page.check(Check(claim: "(13) ≥ (14): Jensen's inequality, log of an average ≥ average of the log, for all 102 policies", reference: "eqs. 13-14",
                     aLabel: "max (14) − (13)", bLabel: "0", a: w14.difference, b: 0, relation: .lessOrEqual, tolerance: w14.tolerance, because: because))
    page.check(Check(claim: "The Jensen gap (13) − (14) is exactly KL(π ‖ p(·|O=1)), for all 102 policies", reference: "eqs. 13-14",
                     aLabel: "|(13) − (14) − KL(π ‖ π*)|", bLabel: "0", a: gap.difference, b: 0, tolerance: gap.tolerance, because: "three such sums: " + because))
    page.check(Check(claim: "(14) = (15): substituting the likelihood table p(O=1|x) = e^{r/β} changes nothing", reference: "eqs. 14-15",
                     aLabel: "|(15) − (14)|", bLabel: "0", a: w15.difference, b: 0, tolerance: w15.tolerance, because: because + "; log(exp(r/β)) rounds by a few ε of |r|/β"))
    page.check(Check(claim: "(15) = (16): the bound is E_π[r]/β − KL(π ‖ π0), the KL-regularised objective over β", reference: "eqs. 15-16",
                     aLabel: "|(16) − (15)|", bLabel: "0", a: w16.difference, b: 0, tolerance: w16.tolerance, because: because))
    page.check(Check(claim: "(16) = (17): and it is the negative divergence of π from the unnormalised posterior π0 e^{r/β}", reference: "eqs. 16-17",
                     aLabel: "|(17) − (16)|", bLabel: "0", a: w17.difference, b: 0, tolerance: w17.tolerance, because: because))
    page.check(Check(claim: "(17) = log Z − KL(π ‖ π*): maximising the bound is minimising the divergence from the posterior", reference: "eq. 17",
                     aLabel: "|(17) − (log Z − KL(π ‖ π*))|", bLabel: "0", a: wKL.difference, b: 0, tolerance: wKL.tolerance, because: "two such sums: " + because))
    page.table(headers: ["policy", "(13) log-evidence", "(14) Jensen", "(15) likelihood", "(16) $J_{KLRL}/\\beta$", "(17) divergence form", "$\\operatorname{KL}(\\pi, \\pi^*)$"],
               rows: rows + [["(11), (12)", NumberFormat.format(fromJoint), "", "", "", "", NumberFormat.format(logZ)]],
               caption: "Each line of the derivation for four of the policies; (13) equals log p(O=1), and (14) through (17) fall short of it by KL(π ‖ π*).")
    page.aside("Eq. 16: the paper writes the bound as $\\mathbb{E}_\\pi[r(x)] - \\operatorname{KL}(\\pi_\\theta, a)$; the second argument is the prior $\\pi_0$, as eqs. 15 and 17 and the objective of eq. 3 require. The check of (15) = (16) uses $\\pi_0$.", kind: .erratum)
    page.aside("§5: the paper defines $b(x) = 1$ if $x$ contains a curse word and 0 otherwise, and then says $\\pi^* \\propto \\pi_0 b$ gives cursing sequences probability zero. For that, $b(x)$ must be 1 when $x$ does not contain a curse word. (Chapter 6 works with the corrected $b$.)", kind: .erratum)
}

// MARK: - The bound over many policies

func bound(_ page: Page, _ s: Setting, _ seeds: Seeds, quick: Bool) {
    page.section("The evidence lower bound, tight only at the posterior")
    page.prose("Every policy gives a lower bound on the log-evidence, and the shortfall is its divergence from the posterior. Maximising the KL-regularised objective is therefore variational inference: it pushes the bound up by pulling $\\pi$ towards $p(\\cdot \\mid O = 1)$, and the bound touches $\\log p(O = 1)$ at the posterior and nowhere else. We evaluate the bound with the library's single-sum ELBO for random policies and for mixtures ever closer to the posterior.")
    page.equation("\\operatorname{ELBO}(\\pi) = \\frac{J_{KLRL}(\\pi)}{\\beta} = \\log p(O = 1) - \\operatorname{KL}(\\pi, p(\\cdot \\mid O = 1)) \\le \\log p(O = 1)", number: "14")
    let rng = seeds.generator("bound")
    var pis = policies(rng, n: s.n, count: quick ? 100 : 300)
    for t in [0.5, 0.1, 0.01, 1e-3] {
        pis.append(Distribution(weights: (0..<s.n).map { (1 - t) * s.posterior.probabilities[$0] + t * pis[0].probabilities[$0] }))
    }
    var above = Worst(), kls: [Double] = [], elbos: [Double] = []
    for pi in pis {
        let elbo = Objective.evidenceLowerBound(pi, prior: s.prior, reward: s.reward, beta: s.beta)
        above.update(elbo - s.logEvidence, summationTolerance(s.n, scale: logWeightScale(s, pi)) + 4 * Double.ulpOfOne * Swift.abs(s.logEvidence))
        kls.append(klDivergence(pi, s.posterior)); elbos.append(elbo)
    }
    page.check(Check(claim: "ELBO(π) ≤ log p(O = 1) for \(pis.count) policies, including mixtures within 10⁻³ of the posterior", reference: "eq. 14",
                     aLabel: "max_π ELBO(π) − log p(O=1)", bLabel: "0", a: above.difference, b: 0, relation: .lessOrEqual, tolerance: above.tolerance,
                     because: "an n-term sum of terms up to |r|/β + |log π0| + |log π|: (n+2)ε times that"))
    let atPosterior = Objective.evidenceLowerBound(s.posterior, prior: s.prior, reward: s.reward, beta: s.beta)
    page.check(Check(claim: "At the posterior the bound is tight: ELBO(π*) = log p(O = 1)", reference: "eqs. 14, 17",
                     aLabel: "ELBO(π*)", bLabel: "log p(O=1)", a: atPosterior, b: s.logEvidence,
                     tolerance: summationTolerance(s.n, scale: logWeightScale(s, s.posterior)) + 4 * Double.ulpOfOne * Swift.abs(s.logEvidence),
                     because: "an n-term sum of terms up to |r|/β + |log π0| + |log π*|: (n+2)ε times that"))
    let maxKL = kls.max()!
    page.plot(LinePlot(title: "The ELBO of many policies against the log-evidence", description: "Each policy's ELBO lies on the line log p(O=1) minus its KL from the posterior.",
                       xLabel: "KL(π ‖ p(·|O=1)) in nats", yLabel: "ELBO(π) in nats",
                       series: [Series("policies", x: kls, y: elbos, style: .points),
                                Series("log p(O=1) − KL", x: [0, maxKL], y: [s.logEvidence, s.logEvidence - maxKL], style: .dashed)],
                       references: [ReferenceLine(.horizontal, at: s.logEvidence, label: "log p(O = 1)")]),
              caption: "No policy's bound exceeds the log-evidence (horizontal line); each falls short by exactly its divergence from the posterior (dashed line), and only the posterior, at KL = 0, attains it.")
}

// Chapter 9, best-of-n: its exact distribution with ties, its KL against log n − (n−1)/n,
// its win rate, and the posterior π*_β with the same KL (paper eq. 5).
import BookKit
import Foundation
import Finite
import GSL
import Notebook

struct ScoredReward {
    let name: String
    let values: [Double]
}

/// The two rewards: the count of token 0 (few values, many ties) and a random score (no ties).
func bestOfNRewards(_ s: Setting, _ seeds: Seeds) -> [ScoredReward] {
    let scores = seeds.generator("scores")
    return [
        ScoredReward(name: "count of token 0 (ties)",
                     values: s.space.sequences.map { Double($0.filter { $0 == 0 }.count) }),
        ScoredReward(name: "random score (no ties)", values: (0..<s.n).map { _ in scores.uniform() }),
    ]
}

/// The best-of-n distribution, as a function a test can replace by a wrong one.
typealias BestOfNFormula = @Sendable (_ prior: Distribution, _ reward: [Double], _ n: Int) -> Distribution
let levelFormula: BestOfNFormula = { BestOfN.distribution(prior: $0, reward: $1, n: $2) }

func bestOfN(_ c: Context) throws {
    let page = c.page, s = c.setting
    page.section("Best-of-n, exactly")
    let rewards = bestOfNRewards(s, c.seeds)
    let ns = (0...12).map { 1 << $0 }.filter { $0 <= c.maxN }
    page.prose(#"""
        Best-of-$n$ draws $n$ sequences from the prior $\pi_0$ and keeps one with the highest reward, choosing at \#
        random among draws that tie. Its distribution has a closed form level by level: the top reward among the \#
        draws is $r$ with probability $F(r)^n - F(r^-)^n$, and the kept sequence is then distributed as the prior \#
        restricted to that reward level. We use two rewards: the number of times token 0 occurs (few values, many \#
        ties) and a random score per sequence (no ties). Its KL from the prior is often quoted as \#
        $\log n - (n-1)/n$; that value is exact only for a continuous reward distribution and is otherwise an upper \#
        bound.
        """#)
    page.equation(#"""
        \pi_n(x) = \frac{\pi_0(x)}{\pi_0(R = r(x))} \left( F(r(x))^n - F(r(x)^-)^n \right), \qquad \#
        \operatorname{KL}(\pi_n \| \pi_0) \le \log n - \frac{n-1}{n}
        """#)
    let q = s.q
    page.check(levelFormulaCheck(prior: q, rewards: rewards))
    let dists = rewards.map { r in ns.map { levelFormula(q, r.values, $0) } }
    page.check(quotedBoundCheck(prior: q, rewards: rewards, ns: ns, dists: dists))
    var table: [[String]] = []
    for (j, n) in ns.enumerated() {
        let kls = dists.map { klDivergence($0[j], q) }
        let wins = (0..<rewards.count).map { BestOfN.winRate(dists[$0][j], prior: q, reward: rewards[$0].values) }
        table.append([String(n), NumberFormat.format(BestOfN.quotedKL(n: n), significant: 4),
                      NumberFormat.format(kls[0], significant: 4), NumberFormat.format(kls[1], significant: 4),
                      NumberFormat.format(Double(n) / Double(n + 1), significant: 4),
                      NumberFormat.format(wins[0], significant: 4), NumberFormat.format(wins[1], significant: 4)])
    }
    page.table(headers: ["n", "log n − (n−1)/n", "KL, count reward", "KL, random score", "n/(n+1)",
                         "win rate, count reward", "win rate, random score"],
               rows: table, caption: "Best-of-n against the prior: exact KL and win rate (ties counted half) next to "
                + "the continuous-case formulas")
    let trials = c.quick ? 20_000 : 100_000
    let sampled = try sampleBestOfN(prior: q, reward: rewards[0].values, n: 8, trials: trials,
                                    c.seeds.generator("best-of-n"))
    let exact8 = levelFormula(q, rewards[0].values, 8)
    page.check(sampledRewardCheck(sampled, exact: exact8, reward: rewards[0].values))
    page.check(sampledWinRateCheck(sampled, exact: exact8, prior: q, reward: rewards[0].values))
    let last = ns.count - 1
    let klTies = klDivergence(dists[0][last], q), klFree = klDivergence(dists[1][last], q)
    page.record("best_of_max_n_kl_ties", klTies)
    page.record("best_of_max_n_kl_no_ties", klFree)
    c.answers.add("Is the KL of best-of-n really log n − (n−1)/n?",
                  "Only as an upper bound: at n = \(ns[last]) the formula gives "
                    + "\(NumberFormat.format(BestOfN.quotedKL(n: ns[last]), significant: 3)) nats, while the exact KL "
                    + "is \(NumberFormat.format(klFree, significant: 3)) for a tie-free score and "
                    + "\(NumberFormat.format(klTies, significant: 3)) for the tied count reward (best-of-n table).")
    try posteriorComparison(c, rewards[0], ns: ns, dists: dists[0])
}

/// The level formula against the sum over all ordered n-tuples of draws, for n = 2 and 3 and
/// both rewards, on the prior restricted to its first M ≤ 400 sequences (all of them when
/// N ≤ 400) so that the Mⁿ tuples stay countable; n = 3 only for M ≤ 130.
func levelFormulaCheck(prior q: Distribution, rewards: [ScoredReward],
                       formula: BestOfNFormula = levelFormula) -> Check {
    let M = min(q.count, 400)
    let small = q.restricted(to: Set(0..<M))
    let smallPrior = Distribution(logWeights: Array(small.logProbabilities[0..<M]))
    var w = WorstCase(.equal)
    for r in rewards {
        let values = Array(r.values[0..<M])
        for n in [2, 3] where n == 2 || M <= 130 {
            let brute = BestOfN.bruteForce(prior: smallPrior, reward: values, n: n)
            let closed = formula(smallPrior, values, n)
            let diff = zip(brute, closed.probabilities).map { Swift.abs($0 - $1) }.max()!
            let terms = Int(pow(Double(M), Double(n - 1))) + M
            w.add(difference: diff, tolerance: roundingTolerance(terms: terms, scale: 1),
                  at: "n = \(n), \(r.name)")
        }
    }
    return w.check(id: "best-of-n.level-formula",
                   claim: "Best-of-n's level formula equals the sum over all ordered draws (n = 2, 3, both rewards"
                    + (M < q.count ? ", prior restricted to its first \(M) sequences)" : ")"),
                   reference: "beyond the paper", aLabel: "$\\max_x$ |brute force − formula|", bLabel: "0",
                   because: "each outcome gathers M^(n−1) products of n probabilities; the formula is a few logs and "
                    + "exps")
}

/// KL(π_n ‖ π0) ≤ log n − (n−1)/n for every n ≥ 2 and both rewards (the tightest reported).
func quotedBoundCheck(prior q: Distribution, rewards: [ScoredReward], ns: [Int], dists: [[Distribution]]) -> Check {
    let lMax = q.logProbabilities.map { Swift.abs($0) }.max()!
    var w = WorstCase(.lessOrEqual)
    for (i, r) in rewards.enumerated() {
        for (j, n) in ns.enumerated() where n >= 2 {
            w.add(klDivergence(dists[i][j], q), BestOfN.quotedKL(n: n),
                  tolerance: roundingTolerance(terms: q.count, scale: 1 + lMax + log(Double(n))),
                  at: "n = \(n), \(r.name)")
        }
    }
    return w.check(id: "best-of-n.quoted-kl-bound",
                   claim: "$\\operatorname{KL}(\\pi_n \\| \\pi_0) \\le \\log n - (n-1)/n$ for every n from 2 to "
                    + "\(ns.last!) and both rewards", reference: "beyond the paper",
                   aLabel: "$\\operatorname{KL}(\\pi_n \\| \\pi_0)$", bLabel: "$\\log n - (n-1)/n$",
                   because: "an N-term KL sum, terms up to max|log π0| + log n")
}

/// A seeded run of best-of-n with random tie-breaks: its mean reward and its win rate against
/// a fresh prior draw (ties counted half).
struct SampledBestOfN {
    let n: Int
    let trials: Int
    let meanReward: Double
    let winRate: Double
}

func sampleBestOfN(prior q: Distribution, reward r: [Double], n: Int, trials: Int,
                   _ rng: RandomGenerator) throws -> SampledBestOfN {
    let sampler = try DiscreteSampler(weights: q.probabilities)
    var rewardSum = 0.0, winSum = 0.0
    for _ in 0..<trials {
        let draws = sampler.sample(rng, count: n)
        let top = draws.map { r[$0] }.max()!
        let tied = draws.filter { r[$0] == top }
        let kept = tied[rng.uniformInt(below: tied.count)]
        let opponent = sampler.sample(rng)
        rewardSum += r[kept]
        winSum += r[kept] > r[opponent] ? 1 : r[kept] == r[opponent] ? 0.5 : 0
    }
    return SampledBestOfN(n: n, trials: trials, meanReward: rewardSum / Double(trials),
                          winRate: winSum / Double(trials))
}

/// The sampled mean reward of best-of-n against its exact distribution's.
func sampledRewardCheck(_ m: SampledBestOfN, exact: Distribution, reward r: [Double]) -> Check {
    let se = exact.variance(r).squareRoot() / Double(m.trials).squareRoot()
    return Check(id: "best-of-n.sampled-reward",
                 claim: "Sampled best-of-\(m.n) (random tie-breaks) has the exact mean reward",
                 reference: "beyond the paper", aLabel: "sampled mean reward", bLabel: "$\\mathbb{E}_{\\pi_n}[r]$",
                 a: m.meanReward, b: exact.expectation(r),
                 tolerance: zCheck * se, because: "\(zCheck) standard errors of \(m.trials) trials")
}

/// The sampled win rate of best-of-n against the exact one, with the exact variance of the win
/// credit w ∈ {0, ½, 1}: E[w²] = Σ_x π_n(x)(π0(R < r) + ¼ π0(R = r)), walked level by level.
func sampledWinRateCheck(_ m: SampledBestOfN, exact: Distribution, prior q: Distribution, reward r: [Double]) -> Check {
    let exactWin = BestOfN.winRate(exact, prior: q, reward: r)
    var secondMoment = 0.0, below = 0.0
    let order = (0..<q.count).sorted { r[$0] < r[$1] }
    var i = 0
    while i < order.count {
        var j = i, equal = 0.0, mass = 0.0
        while j < order.count && r[order[j]] == r[order[i]] {
            equal += q.probabilities[order[j]]; mass += exact.probabilities[order[j]]; j += 1
        }
        secondMoment += mass * (below + equal / 4)
        below += equal
        i = j
    }
    let se = max(0, secondMoment - exactWin * exactWin).squareRoot() / Double(m.trials).squareRoot()
    return Check(id: "best-of-n.sampled-win-rate",
                 claim: "Sampled best-of-\(m.n) wins against a prior draw as often as the exact win rate says",
                 reference: "beyond the paper", aLabel: "sampled win rate", bLabel: "exact win rate",
                 a: m.winRate, b: exactWin, tolerance: zCheck * se,
                 because: "\(zCheck) standard errors of \(m.trials) trials (exact variance of the win credit)")
}

/// One n of the comparison: best-of-n and the posterior at Brent's matching temperature.
struct MatchedPosterior {
    let n: Int
    let bestOfN: Distribution
    let beta: Double
    let posterior: Distribution
}

/// Best-of-n against π*_β at the same KL.
func posteriorComparison(_ c: Context, _ r: ScoredReward, ns: [Int], dists: [Distribution]) throws {
    let page = c.page, s = c.setting
    page.section("Best-of-n against the posterior at the same KL")
    page.prose(#"""
        The posterior $\pi^*_\beta \propto \pi_0 e^{r/\beta}$ of eq. 5 maximises \#
        $\mathbb{E}_\pi[r] - \beta \operatorname{KL}(\pi \| \pi_0)$, so no policy with the same KL from the prior \#
        has a higher expected reward. For each $n$ we find, with GSL's Brent solver, the $\beta$ at which \#
        $\pi^*_\beta$ is exactly as far from the prior as best-of-$n$, and compare rewards and win rates. That \#
        $\beta$ is checked against the closed form $\operatorname{KL}(\pi^*_\beta \| \pi_0) = \#
        \mathbb{E}_{\pi^*_\beta}[r]/\beta - \log Z(\beta)$, computed from $\log Z$ without the solver's KL sum. The \#
        comparison uses the optimality inequality itself, which needs no exact match of the two KLs: \#
        $\mathbb{E}_{\pi_n}[r] \le \mathbb{E}_{\pi^*}[r] + \beta(\operatorname{KL}(\pi_n) - \operatorname{KL}(\pi^*))$.
        """#)
    page.equation(#"""
        \pi^*_\beta(x) = \frac{\pi_0(x) e^{r(x)/\beta}}{Z(\beta)}, \qquad \operatorname{KL}(\pi^*_\beta \| \pi_0) = \#
        \operatorname{KL}(\pi_n \| \pi_0)
        """#, number: "5")
    let q = s.q
    var table: [[String]] = []
    var matched: [MatchedPosterior] = []
    var frontierBoN: [(Double, Double)] = []
    let range = r.values.max()! - r.values.min()!
    for (j, n) in ns.enumerated() where n >= 2 {
        let d = dists[j]
        let kl = klDivergence(d, q), reward = d.expectation(r.values)
        frontierBoN.append((kl, reward))
        let winN = BestOfN.winRate(d, prior: q, reward: r.values)
        guard let beta = try BestOfN.matchingTemperature(prior: q, reward: r.values, kl: kl) else {
            table.append([String(n), NumberFormat.format(kl, significant: 4), "β → 0 limit",
                          NumberFormat.format(reward, significant: 4), "—", NumberFormat.format(winN, significant: 4),
                          "—"])
            continue
        }
        let post = Posterior.distribution(prior: q, reward: r.values, beta: beta)
        matched.append(MatchedPosterior(n: n, bestOfN: d, beta: beta, posterior: post))
        table.append([String(n), NumberFormat.format(kl, significant: 4), NumberFormat.format(beta, significant: 4),
                      NumberFormat.format(reward, significant: 4),
                      NumberFormat.format(post.expectation(r.values), significant: 4),
                      NumberFormat.format(winN, significant: 4),
                      NumberFormat.format(BestOfN.winRate(post, prior: q, reward: r.values), significant: 4)])
    }
    if !matched.isEmpty {
        page.check(posteriorOptimalityCheck(matched, prior: q, reward: r.values))
        page.check(matchedKLCheck(matched, prior: q, reward: r.values))
    }
    page.table(headers: ["n", "KL from π0", "β of π*", "reward of best-of-n", "reward of $\\pi^*_\\beta$",
                         "win rate of best-of-n",
                         "win rate of $\\pi^*_\\beta$"],
               rows: table,
               caption: "Best-of-n and the posterior $\\pi^*_\\beta$ at the same KL (count reward, ties broken "
                        + "at random)")
    // The frontier: the posterior path over β, and the best-of-n points.
    let betas = (0...60).map { range * pow(10, -2.5 + 5 * Double($0) / 60) }
    let path = betas.map { b -> (Double, Double) in
        let p = Posterior.distribution(prior: q, reward: r.values, beta: b)
        return (klDivergence(p, q), p.expectation(r.values))
    }
    page.plot(LinePlot(title: "Best-of-n against the posterior frontier",
                       description: "Expected reward against KL from the prior for the posterior path and for "
                        + "best-of-n.",
                       xLabel: "KL(π ‖ π0) in nats", yLabel: "expected reward",
                       series: [Series("posterior $\\pi^*_\\beta$", x: path.map(\.0), y: path.map(\.1)),
                                Series("best-of-n (exact KL)", x: frontierBoN.map(\.0), y: frontierBoN.map(\.1),
                                       style: .lineAndPoints),
                                Series("best-of-n at log n − (n−1)/n",
                                       x: ns.filter { $0 >= 2 }.map { BestOfN.quotedKL(n: $0) },
                                       y: frontierBoN.map(\.1), style: .points)],
                       references: [ReferenceLine(.horizontal, at: q.expectation(r.values), label: "prior's reward")]),
              caption: "Best-of-n sits just under the posterior frontier; plotted at the quoted KL instead of its "
                + "exact KL it would look further from it than it is.")
    bestOfNAnswer(c, matched, prior: q, reward: r.values, range: range)
}

/// Both halves of the comparison, from the numbers: the posterior's reward against best-of-n's,
/// and best-of-n's win rate against the posterior's.
func bestOfNAnswer(_ c: Context, _ matched: [MatchedPosterior], prior q: Distribution, reward r: [Double],
                   range: Double) {
    guard !matched.isEmpty else { return }
    let gains = matched.map { (n: $0.n, gain: $0.posterior.expectation(r) - $0.bestOfN.expectation(r)) }
    let wins = matched.map {
        (n: $0.n,
         gain: BestOfN.winRate($0.bestOfN, prior: q, reward: r) - BestOfN.winRate($0.posterior, prior: q, reward: r))
    }
    let best = gains.max { $0.gain < $1.gain }!
    let winning = wins.filter { $0.gain > 0 }
    let bestWin = wins.max { $0.gain < $1.gain }!
    let winHalf: String
    if winning.count == wins.count {
        winHalf = "best-of-n wins on win rate against a prior draw at every n, by up to "
            + "\(NumberFormat.format(bestWin.gain, significant: 3)) (at n = \(bestWin.n))"
    } else if winning.isEmpty {
        winHalf = "and here best-of-n does not win on win rate either: the posterior's win rate is at least as high at "
            + "every n"
    } else {
        winHalf = "best-of-n wins on win rate at \(winning.count) of \(wins.count) values of n, by up to "
            + "\(NumberFormat.format(bestWin.gain, significant: 3)) (at n = \(bestWin.n))"
    }
    c.answers.add("How far is best-of-n from the KL-regularised posterior?",
                  "On expected reward it is close but always below: at the same KL the posterior's expected reward is "
                    + "higher by at most \(NumberFormat.format(best.gain, significant: 3)) (at n = \(best.n)) on a "
                    + "reward range of \(NumberFormat.format(range)); \(winHalf) (table of best-of-n against "
                      + "$\\pi^*_\\beta$).")
}

/// Gibbs' inequality: E_{π_n}[r] − β KL(π_n) ≤ E_{π*}[r] − β KL(π*) at each matched β, the
/// n nearest to failing reported. A posterior that is not the optimum at β (a wrong
/// temperature, a wrong normaliser) can break it; best-of-n, however good, cannot.
func posteriorOptimalityCheck(_ matched: [MatchedPosterior], prior q: Distribution, reward r: [Double]) -> Check {
    let range = r.max()! - r.min()!
    let lMax = q.logProbabilities.map { Swift.abs($0) }.max()!
    var w = WorstCase(.lessOrEqual)
    for m in matched {
        let rhs = m.posterior.expectation(r) + m.beta * (klDivergence(m.bestOfN, q) - klDivergence(m.posterior, q))
        w.add(m.bestOfN.expectation(r), rhs, tolerance: roundingTolerance(terms: 4 * q.count, scale: 1 + range + lMax),
              at: "n = \(m.n)")
    }
    return w.check(id: "posterior.beats-best-of-n", claim: "At equal KL, best-of-n never beats the posterior's reward "
                    + "(every n)", reference: "eq. 5", aLabel: "$\\mathbb{E}_{\\pi_n}[r]$",
                   bLabel: "$\\mathbb{E}_{\\pi^*}[r] + \\beta(\\operatorname{KL}_n - \\operatorname{KL}^*)$",
                   because: "four N-term sums (two rewards, two KLs), terms up to range r + max|log π0|")
}

/// Brent's β against the closed form KL(π*_β ‖ π0) = E_{π*}[r]/β − log Z(β), computed here
/// from log Z by its own log-sum-exp (not the solver's KL sum over the posterior): a β the
/// solver did not converge to, or a posterior at another temperature, breaks it.
func matchedKLCheck(_ matched: [MatchedPosterior], prior q: Distribution, reward r: [Double]) -> Check {
    let range = r.max()! - r.min()!
    let lMax = q.logProbabilities.map { Swift.abs($0) }.max()!
    var w = WorstCase(.equal)
    for m in matched {
        let logTilted = (0..<q.count).map { q.logProbabilities[$0] + r[$0] / m.beta }
        let logZ = LogSpace.logSumExp(logTilted)
        let meanReward = (0..<q.count).reduce(0.0) { $0 + exp(logTilted[$1] - logZ) * r[$1] }
        let closedForm = meanReward / m.beta - logZ
        // Brent stops with |u − u*| ≤ 1e-13 on u = log β, and dKL/du = −Var_{π*}(r)/β².
        let tol = 2e-13 * m.posterior.variance(r) / (m.beta * m.beta)
            + roundingTolerance(terms: 2 * q.count, scale: 1 + range / m.beta + lMax)
        w.add(closedForm, klDivergence(m.bestOfN, q), tolerance: tol, at: "n = \(m.n)")
    }
    return w.check(id: "posterior.matched-kl",
                   claim: "Brent's β gives the posterior best-of-n's KL, by the closed form "
                    + "$\\mathbb{E}_{\\pi^*}[r]/\\beta - \\log Z(\\beta)$", reference: "eq. 5",
                   aLabel: "$\\mathbb{E}_{\\pi^*}[r]/\\beta - \\log Z$",
                   bLabel: "$\\operatorname{KL}(\\pi_n \\| \\pi_0)$",
                   because: "Brent's bracket on u = log β closes to 1e-13 and $|d\\mathrm{KL}/du| = "
                            + "\\mathrm{Var}_{π^*}(r)/β^2$; plus rounding "
                    + "of two N-term sums with terms up to r/β + max|log π0|")
}

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

func bestOfN(_ page: Page, _ s: Setting, _ seeds: Seeds, maxN: Int, quick: Bool, _ answers: Answers) throws {
    page.section("Best-of-n, exactly")
    let scores = seeds.generator("scores")
    let rewards = [
        ScoredReward(name: "count of token 0 (ties)", values: s.space.sequences.map { Double($0.filter { $0 == 0 }.count) }),
        ScoredReward(name: "random score (no ties)", values: (0..<s.n).map { _ in scores.uniform() }),
    ]
    let ns = (0...12).map { 1 << $0 }.filter { $0 <= maxN }
    page.prose("Best-of-$n$ draws $n$ sequences from the prior $\\pi_0$ and keeps one with the highest reward, choosing at random among draws that tie. Its distribution has a closed form level by level: the top reward among the draws is $r$ with probability $F(r)^n - F(r^-)^n$, and the kept sequence is then distributed as the prior restricted to that reward level. We use two rewards: the number of times token 0 occurs (few values, many ties) and a random score per sequence (no ties). Its KL from the prior is often quoted as $\\log n - (n-1)/n$; that value is exact only for a continuous reward distribution and is otherwise an upper bound.")
    page.equation("\\pi_n(x) = \\frac{\\pi_0(x)}{\\pi_0(R = r(x))} \\left( F(r(x))^n - F(r(x)^-)^n \\right), \\qquad \\operatorname{KL}(\\pi_n \\| \\pi_0) \\le \\log n - \\frac{n-1}{n}")
    let q = s.q
    let N = s.n
    // Exactness: the closed form against all ordered n-tuples, on the prior restricted to its
    // first M sequences (all of them when N ≤ 400) so that the N^n tuples stay countable.
    let M = min(N, 400)
    let small = q.restricted(to: Set(0..<M))
    let smallPrior = Distribution(logWeights: Array(small.logProbabilities[0..<M]))
    for r in rewards {
        let values = Array(r.values[0..<M])
        for n in [2, 3] where n == 2 || M <= 130 {
            let brute = BestOfN.bruteForce(prior: smallPrior, reward: values, n: n)
            let closed = BestOfN.distribution(prior: smallPrior, reward: values, n: n)
            let diff = zip(brute, closed.probabilities).map { Swift.abs($0 - $1) }.max()!
            page.check(Check(claim: "Best-of-\(n) for the \(r.name)\(M < N ? " (prior restricted to the first \(M) sequences)" : ""): the level formula equals the sum over all \(M)^\(n) ordered draws", reference: "beyond the paper",
                             aLabel: "max_x |brute force − formula|", bLabel: "0", a: diff, b: 0,
                             tolerance: roundingTolerance(terms: Int(pow(Double(M), Double(n - 1))) + M, scale: 1),
                             because: "each outcome gathers M^(n−1) products of n probabilities; the formula is a few logs and exps"))
        }
    }
    // The bound, every n, both rewards.
    var table: [[String]] = []
    var worst = (slack: Double.infinity, n: 1, name: "", kl: 0.0, bound: 0.0)
    var dists: [[Distribution]] = []
    for r in rewards {
        var row: [Distribution] = []
        for n in ns {
            let d = BestOfN.distribution(prior: q, reward: r.values, n: n)
            row.append(d)
            let kl = klDivergence(d, q), bound = BestOfN.quotedKL(n: n)
            if n >= 2 && bound - kl < worst.slack { worst = (bound - kl, n, r.name, kl, bound) }
        }
        dists.append(row)
    }
    let lMax = q.logProbabilities.map { Swift.abs($0) }.max()!
    page.check(Check(claim: "KL(best-of-n ‖ π0) ≤ log n − (n−1)/n for every n from 2 to \(maxN) and both rewards (tightest: n = \(worst.n), \(worst.name))", reference: "beyond the paper",
                     aLabel: "KL(π_n ‖ π0)", bLabel: "log n − (n−1)/n", a: worst.kl, b: worst.bound, relation: .lessOrEqual,
                     tolerance: roundingTolerance(terms: N, scale: 1 + lMax + log(Double(maxN))), because: "an N-term KL sum, terms up to max|log π0| + log n"))
    for (j, n) in ns.enumerated() {
        let kls = dists.map { klDivergence($0[j], q) }
        let wins = (0..<rewards.count).map { BestOfN.winRate(dists[$0][j], prior: q, reward: rewards[$0].values) }
        table.append([String(n), NumberFormat.format(BestOfN.quotedKL(n: n), significant: 4), NumberFormat.format(kls[0], significant: 4),
                      NumberFormat.format(kls[1], significant: 4), NumberFormat.format(Double(n) / Double(n + 1), significant: 4),
                      NumberFormat.format(wins[0], significant: 4), NumberFormat.format(wins[1], significant: 4)])
    }
    page.table(headers: ["n", "log n − (n−1)/n", "KL, count reward", "KL, random score", "n/(n+1)", "win rate, count reward", "win rate, random score"],
               rows: table, caption: "Best-of-n against the prior: exact KL and win rate (ties counted half) next to the continuous-case formulas")
    try bestOfNSampled(page, s, rewards[0], seeds, quick: quick)
    let last = ns.count - 1
    let klTies = klDivergence(dists[0][last], q), klFree = klDivergence(dists[1][last], q)
    page.record("best_of_max_n_kl_ties", klTies)
    page.record("best_of_max_n_kl_no_ties", klFree)
    answers.add("Is the KL of best-of-n really log n − (n−1)/n?",
                "Only as an upper bound: at n = \(ns[last]) the formula gives \(NumberFormat.format(BestOfN.quotedKL(n: ns[last]), significant: 3)) nats, while the exact KL is \(NumberFormat.format(klFree, significant: 3)) for a tie-free score and \(NumberFormat.format(klTies, significant: 3)) for the tied count reward (best-of-n table).")
    try posteriorComparison(page, s, rewards[0], ns: ns, dists: dists[0], answers)
}

/// A seeded run of best-of-8 against the exact mean reward and win rate.
func bestOfNSampled(_ page: Page, _ s: Setting, _ r: ScoredReward, _ seeds: Seeds, quick: Bool) throws {
    let n = 8, trials = quick ? 20_000 : 100_000
    let rng = seeds.generator("best-of-n")
    let sampler = try DiscreteSampler(weights: s.q.probabilities)
    let exact = BestOfN.distribution(prior: s.q, reward: r.values, n: n)
    // The win credit of an outcome: π0(R < r) + ½ π0(R = r), via the exact win rate of a point mass.
    var rewardSum = 0.0, winSum = 0.0
    for _ in 0..<trials {
        let draws = sampler.sample(rng, count: n)
        let top = draws.map { r.values[$0] }.max()!
        let tied = draws.filter { r.values[$0] == top }
        let kept = tied[rng.uniformInt(below: tied.count)]
        let opponent = sampler.sample(rng)
        rewardSum += r.values[kept]
        winSum += r.values[kept] > r.values[opponent] ? 1 : r.values[kept] == r.values[opponent] ? 0.5 : 0
    }
    let meanR = rewardSum / Double(trials), win = winSum / Double(trials)
    let seR = exact.variance(r.values).squareRoot() / Double(trials).squareRoot()
    let exactWin = BestOfN.winRate(exact, prior: s.q, reward: r.values)
    // Var of the win credit w ∈ {0, ½, 1}: E[w²] = Σ_x π_n(x)(π0(R < r) + ¼ π0(R = r)).
    // Walk the outcomes in increasing reward, one level of equal reward at a time.
    var secondMoment = 0.0, below = 0.0
    let order = (0..<s.n).sorted { r.values[$0] < r.values[$1] }
    var i = 0
    while i < order.count {
        var j = i, equal = 0.0, mass = 0.0
        while j < order.count && r.values[order[j]] == r.values[order[i]] {
            equal += s.q.probabilities[order[j]]; mass += exact.probabilities[order[j]]; j += 1
        }
        secondMoment += mass * (below + equal / 4)
        below += equal
        i = j
    }
    let seW = max(0, secondMoment - exactWin * exactWin).squareRoot() / Double(trials).squareRoot()
    page.check(Check(claim: "Sampled best-of-\(n) (random tie-breaks) has the exact mean reward", reference: "beyond the paper",
                     aLabel: "sampled mean reward", bLabel: "E_{π_n}[r]", a: meanR, b: exact.expectation(r.values), tolerance: zCheck * seR,
                     because: "\(zCheck) standard errors of \(trials) trials"))
    page.check(Check(claim: "Sampled best-of-\(n) wins against a prior draw as often as the exact win rate says", reference: "beyond the paper",
                     aLabel: "sampled win rate", bLabel: "exact win rate", a: win, b: exactWin, tolerance: zCheck * seW,
                     because: "\(zCheck) standard errors of \(trials) trials (exact variance of the win credit)"))
}

/// Best-of-n against π*_β at the same KL.
func posteriorComparison(_ page: Page, _ s: Setting, _ r: ScoredReward, ns: [Int], dists: [Distribution], _ answers: Answers) throws {
    page.section("Best-of-n against the posterior at the same KL")
    page.prose("The posterior $\\pi^*_\\beta \\propto \\pi_0 e^{r/\\beta}$ of eq. 5 maximises $\\mathbb{E}_\\pi[r] - \\beta \\operatorname{KL}(\\pi \\| \\pi_0)$, so no policy with the same KL from the prior has a higher expected reward. For each $n$ we find, with GSL's Brent solver, the $\\beta$ at which $\\pi^*_\\beta$ is exactly as far from the prior as best-of-$n$, and compare rewards and win rates. The check uses the optimality inequality itself, which needs no exact match of the two KLs: $\\mathbb{E}_{\\pi_n}[r] \\le \\mathbb{E}_{\\pi^*}[r] + \\beta(\\operatorname{KL}(\\pi_n) - \\operatorname{KL}(\\pi^*))$.")
    page.equation("\\pi^*_\\beta(x) = \\frac{\\pi_0(x) e^{r(x)/\\beta}}{Z(\\beta)}, \\qquad \\operatorname{KL}(\\pi^*_\\beta \\| \\pi_0) = \\operatorname{KL}(\\pi_n \\| \\pi_0)", number: "5")
    let q = s.q
    var table: [[String]] = []
    var worst = (gap: -Double.infinity, n: 0, a: 0.0, b: 0.0)
    var worstMatch = (excess: -Double.infinity, n: 0, target: 0.0, got: 0.0, tol: 0.0)
    var frontierBoN: [(Double, Double)] = []
    var advantage: [(n: Int, gain: Double)] = []
    let range = r.values.max()! - r.values.min()!
    let lMax = q.logProbabilities.map { Swift.abs($0) }.max()!
    for (j, n) in ns.enumerated() where n >= 2 {
        let d = dists[j]
        let kl = klDivergence(d, q), reward = d.expectation(r.values)
        frontierBoN.append((kl, reward))
        guard let beta = try BestOfN.matchingTemperature(prior: q, reward: r.values, kl: kl) else {
            table.append([String(n), NumberFormat.format(kl, significant: 4), "β → 0 limit", NumberFormat.format(reward, significant: 4), "—",
                          NumberFormat.format(BestOfN.winRate(d, prior: q, reward: r.values), significant: 4), "—"])
            continue
        }
        let post = Posterior.distribution(prior: q, reward: r.values, beta: beta)
        let klPost = klDivergence(post, q), rewardPost = post.expectation(r.values)
        let slackRHS = rewardPost + beta * (kl - klPost)
        if reward - slackRHS > worst.gap { worst = (reward - slackRHS, n, reward, slackRHS) }
        // Brent stops with |u − u*| ≤ 1e-13 on u = log β, and dKL/du = −Var_{π*}(r)/β².
        let matchTol = 2e-13 * post.variance(r.values) / (beta * beta) + roundingTolerance(terms: 2 * s.n, scale: 1 + range / beta + lMax)
        if Swift.abs(klPost - kl) - matchTol > worstMatch.excess { worstMatch = (Swift.abs(klPost - kl) - matchTol, n, kl, klPost, matchTol) }
        advantage.append((n, rewardPost - reward))
        table.append([String(n), NumberFormat.format(kl, significant: 4), NumberFormat.format(beta, significant: 4), NumberFormat.format(reward, significant: 4),
                      NumberFormat.format(rewardPost, significant: 4), NumberFormat.format(BestOfN.winRate(d, prior: q, reward: r.values), significant: 4),
                      NumberFormat.format(BestOfN.winRate(post, prior: q, reward: r.values), significant: 4)])
    }
    if worst.n > 0 {
        page.check(Check(claim: "At equal KL, best-of-n never beats the posterior's reward (all n; closest n = \(worst.n))", reference: "eq. 5",
                         aLabel: "E_{π_n}[r]", bLabel: "E_{π*}[r] + β(KL_n − KL*)", a: worst.a, b: worst.b, relation: .lessOrEqual,
                         tolerance: roundingTolerance(terms: 4 * s.n, scale: 1 + range + lMax),
                         because: "four N-term sums (two rewards, two KLs), terms up to range r + max|log π0|"))
        page.check(Check(claim: "Brent's β reproduces best-of-n's KL (worst n = \(worstMatch.n))", reference: "eq. 5",
                         aLabel: "KL(π*_β ‖ π0)", bLabel: "KL(π_n ‖ π0)", a: worstMatch.got, b: worstMatch.target,
                         tolerance: worstMatch.tol,
                         because: "Brent's bracket on u = log β closes to 1e-13 and |dKL/du| = Var_{π*}(r)/β²; plus rounding of two N-term KL sums with terms up to r/β + max|log π0|"))
    }
    page.table(headers: ["n", "KL from π0", "β of π*", "reward of best-of-n", "reward of π*_β", "win rate of best-of-n", "win rate of π*_β"],
               rows: table, caption: "Best-of-n and the posterior π*_β at the same KL (count reward, ties broken at random)")
    // The frontier: the posterior path over β, and the best-of-n points.
    let betas = (0...60).map { range * pow(10, -2.5 + 5 * Double($0) / 60) }
    let path = betas.map { b -> (Double, Double) in let p = Posterior.distribution(prior: q, reward: r.values, beta: b); return (klDivergence(p, q), p.expectation(r.values)) }
    page.plot(LinePlot(title: "Best-of-n against the posterior frontier", description: "Expected reward against KL from the prior for the posterior path and for best-of-n.",
                       xLabel: "KL(π ‖ π0) in nats", yLabel: "expected reward",
                       series: [Series("posterior π*_β", x: path.map(\.0), y: path.map(\.1)),
                                Series("best-of-n (exact KL)", x: frontierBoN.map(\.0), y: frontierBoN.map(\.1), style: .lineAndPoints),
                                Series("best-of-n at log n − (n−1)/n", x: ns.filter { $0 >= 2 }.map { BestOfN.quotedKL(n: $0) }, y: frontierBoN.map(\.1), style: .points)],
                       references: [ReferenceLine(.horizontal, at: q.expectation(r.values), label: "prior's reward")]),
              caption: "Best-of-n sits just under the posterior frontier; plotted at the quoted KL instead of its exact KL it would look further from it than it is.")
    if let best = advantage.max(by: { $0.gain < $1.gain }) {
        answers.add("How far is best-of-n from the KL-regularised posterior?",
                    "Close but always below: at the same KL the posterior's expected reward is higher by at most \(NumberFormat.format(best.gain, significant: 3)) (at n = \(best.n)) on a reward range of \(NumberFormat.format(range)) (table of best-of-n against π*_β).")
    }
}

import GSL

/// The derivation of the paper's appendix (eqs. 8-17), one function per line, so that each
/// step can be checked against its neighbour on its own.
///
/// The reward is turned into the likelihood of a binary "optimality" variable O,
/// p(O = 1 | x) = exp(r(x)/β) (eq. 8, where the paper takes β = 1), which is a probability when
/// r ≤ 0. With the prior p(x) = π0(x), the evidence is p(O = 1) = Σ_x π0(x) e^{r(x)/β} = Z and
/// the posterior p(x | O = 1) is π* of eq. 5.
///
/// Each function computes its line the way the line is written (linear-space tables where the
/// line has products of probabilities, log space where it has logarithms), so that two
/// consecutive lines are two different computations of one number.
public enum EvidenceDerivation {
    /// Eq. 8: the likelihood table p(O = 1 | x) = exp(r(x)/β), in linear space.
    public static func likelihood(reward r: [Double], beta: Double) -> [Double] {
        precondition(beta > 0, "beta must be positive")
        return r.map { expOf($0 / beta) }
    }

    /// The joint table p(O, x) = p(O | x) π0(x) for O = 1 and O = 0, in linear space, with
    /// p(O = 0 | x) = 1 - e^{r/β} computed as -expm1(r/β) so that it keeps its precision near 0.
    /// Its entries sum to 1 when r ≤ 0.
    public static func joint(prior: Distribution, reward r: [Double], beta: Double) -> (optimal: [Double], notOptimal: [Double]) {
        precondition(beta > 0, "beta must be positive")
        let optimal = (0..<r.count).map { prior.probabilities[$0] * expOf(r[$0] / beta) }
        let notOptimal = (0..<r.count).map { prior.probabilities[$0] * -expm1Of(r[$0] / beta) }
        return (optimal, notOptimal)
    }

    /// Eq. 11: log p(O = 1) = log Σ_x p(O = 1, x), summing the joint table. Every entry is
    /// scaled by e^{-m}, m = max_x r(x)/β, before the sum and m added back after the log, so
    /// that rewards of -10^6 do not underflow the whole table.
    public static func logEvidenceFromJoint(prior: Distribution, reward r: [Double], beta: Double) -> Double {
        precondition(beta > 0, "beta must be positive")
        let m = r.max()! / beta
        var s = 0.0
        for x in 0..<r.count where prior.probabilities[x] > 0 { s += prior.probabilities[x] * expOf(r[x] / beta - m) }
        return m + logOf(s)
    }

    /// Eq. 12: log p(O = 1) = log Σ_x p(O = 1 | x) π0(x), by log-sum-exp over r/β + log π0.
    public static func logEvidence(prior: Distribution, reward r: [Double], beta: Double) -> Double {
        Posterior.logPartitionFunction(prior: prior, reward: r, beta: beta)
    }

    /// Eq. 9: Bayes' rule p(x | O = 1) = p(O = 1 | x) p(x) / p(O = 1), dividing the scaled joint
    /// table by its sum (linear space, independent of the log-space softmax of eq. 5).
    public static func bayesPosterior(prior: Distribution, reward r: [Double], beta: Double) -> [Double] {
        precondition(beta > 0, "beta must be positive")
        let m = r.max()! / beta
        let scaled = (0..<r.count).map { prior.probabilities[$0] * expOf(r[$0] / beta - m) }
        let total = scaled.reduce(0, +)
        return scaled.map { $0 / total }
    }

    /// Eq. 13: log Σ_x π(x) [p(O = 1 | x) π0(x) / π(x)], the evidence written as an expectation
    /// under a variational policy π of the importance weight w(x) = e^{r/β} π0 / π. Equal to
    /// eq. 12 when π covers the support of π0. Weights are scaled by their largest value.
    public static func logEvidenceImportanceWeighted(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> Double {
        let logW = logImportanceWeights(pi, prior: prior, reward: r, beta: beta)
        // Each term π(x) w(x) is formed in log space, log π(x) + log w(x): multiplying a
        // subnormal π(x) (which has lost digits) by a huge weight would carry its rounding into
        // the sum.
        let logTerms = (0..<r.count).map { pi.probabilities[$0] > 0 ? pi.logProbabilities[$0] + logW[$0] : -.infinity }
        let m = logTerms.max()!
        var s = 0.0
        for t in logTerms where t > -.infinity { s += expOf(t - m) }
        return m + logOf(s)
    }

    /// Eq. 14: the Jensen bound Σ_x π(x) log w(x) ≤ log Σ_x π(x) w(x) (log is concave).
    /// The gap is exactly KL(π ‖ p(· | O = 1)).
    public static func jensenBound(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> Double {
        let logW = logImportanceWeights(pi, prior: prior, reward: r, beta: beta)
        var s = 0.0
        for x in 0..<r.count where pi.probabilities[x] > 0 { s += pi.probabilities[x] * logW[x] }
        return s
    }

    /// Eq. 15: E_π[log(p(O = 1 | x) π0(x) / π(x))] with p(O = 1 | x) read from the likelihood
    /// table of eq. 8 (the definition substituted), split as E_π[log p(O=1|x)] + E_π[log π0 - log π].
    /// The table must not underflow: r/β > -700 on the support of π.
    public static func boundFromLikelihood(_ pi: Distribution, prior: Distribution, likelihood: [Double]) -> Double {
        var evidenceTerm = 0.0, priorTerm = 0.0
        for x in 0..<pi.count where pi.probabilities[x] > 0 {
            evidenceTerm += pi.probabilities[x] * logOf(likelihood[x])
            priorTerm += pi.probabilities[x] * (prior.logProbabilities[x] - pi.logProbabilities[x])
        }
        return evidenceTerm + priorTerm
    }

    /// Eq. 16: E_π[r]/β - KL(π ‖ π0), the KL-regularised objective of eq. 3 divided by β
    /// (the paper writes KL(π, a); the second argument is the prior π0).
    public static func klRegularisedForm(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> Double {
        pi.expectation(r) / beta - klDivergence(pi, prior)
    }

    /// Eq. 17: -E_π[log(π(x) / (π0(x) e^{r(x)/β}))], the negative divergence of π from the
    /// unnormalised posterior; it equals log Z - KL(π ‖ π*), so maximising it over π minimises
    /// KL(π ‖ π*).
    public static func divergenceForm(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> Double {
        var s = 0.0
        for x in 0..<pi.count where pi.probabilities[x] > 0 {
            s -= pi.probabilities[x] * (pi.logProbabilities[x] - (prior.logProbabilities[x] + r[x] / beta))
        }
        return s
    }

    // MARK: - The model as an experiment

    /// The experiment eq. 8 describes: draw x from the prior and observe O ~ Bernoulli(a(x)),
    /// `draws` times. With a(x) = p(O = 1 | x) the number of O = 1 is Binomial(draws, Z), and the
    /// outcomes with O = 1 are independent draws from p(x | O = 1) = π* (Bayes' rule, eq. 9);
    /// with a = p(O = 1 | x) / max_y p(O = 1 | y) the accepted draws are still exact draws of π*,
    /// only more of them. Returns the accepted outcomes in order.
    ///
    /// - Throws: `GSLError` if the prior has no mass (the alias table cannot be built).
    public static func observe(prior: Distribution, acceptance a: [Double], draws: Int,
                               _ rng: RandomGenerator) throws(GSLError) -> [Int] {
        precondition(a.count == prior.count && draws >= 0, "one acceptance probability an outcome")
        let sampler = try DiscreteSampler(weights: prior.probabilities)
        var accepted: [Int] = []
        for _ in 0..<draws {
            let x = sampler.sample(rng)
            if rng.uniform() < a[x] { accepted.append(x) }
        }
        return accepted
    }

    /// Bernstein's inequality for the mean of k independent draws of a variable within `range`
    /// of its mean, with variance σ²: P(|mean − μ| ≥ t) ≤ 2 exp(−k t² / (2σ² + 2 range t / 3)).
    /// Returns the t at which that bound is `falseRate`, t ≤ √(2σ² L / k) + 2 range L / (3k) with
    /// L = log(2 / falseRate): a tolerance that holds for small probabilities too, where a
    /// normal approximation does not. +∞ for k = 0.
    public static func bernsteinRadius(variance: Double, range: Double, count k: Int, falseRate: Double = 1e-7) -> Double {
        precondition(variance >= 0 && range >= 0 && falseRate > 0 && falseRate < 1, "invalid Bernstein parameters")
        guard k > 0 else { return .infinity }
        let l = logOf(2 / falseRate), n = Double(k)
        return (2 * variance * l / n).squareRoot() + 2 * range * l / (3 * n)
    }

    /// log w(x) = r(x)/β + log π0(x) - log π(x) on the support of π (-∞ elsewhere).
    static func logImportanceWeights(_ pi: Distribution, prior: Distribution, reward r: [Double], beta: Double) -> [Double] {
        precondition(beta > 0, "beta must be positive")
        precondition(pi.count == r.count && prior.count == r.count, "lengths differ")
        return (0..<r.count).map { x in
            pi.probabilities[x] > 0 ? r[x] / beta + prior.logProbabilities[x] - pi.logProbabilities[x] : -.infinity
        }
    }
}

import GSL

/// Sampling-based inference with the prior as proposal: independent Metropolis-Hastings and
/// importance sampling (paper §5, "Inference").
public enum IndependentMetropolisHastings {
    /// The exact transition matrix of independent Metropolis-Hastings with proposal q and
    /// target π (both over X, q with full support on supp π):
    ///
    ///     P(x, y) = q(y) min(1, w(y) / w(x))   for y ≠ x,   w = π / q,
    ///     P(x, x) = 1 − Σ_{y ≠ x} P(x, y).
    ///
    /// Row x is the law of the next state from x. Detailed balance π(x) P(x, y) = π(y) P(y, x)
    /// makes π stationary. Weights are compared in log space.
    public static func transitionMatrix(target: Distribution, proposal: Distribution) -> [[Double]] {
        precondition(target.count == proposal.count, "target and proposal over different spaces")
        let n = target.count
        let logW = (0..<n).map { target.logProbabilities[$0] - proposal.logProbabilities[$0] }
        var p = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for x in 0..<n where target.probabilities[x] > 0 {
            var off = 0.0
            for y in 0..<n where y != x {
                let ratio = logW[y] - logW[x]
                let move = proposal.probabilities[y] * (ratio >= 0 ? 1 : expOf(ratio))
                p[x][y] = move
                off += move
            }
            p[x][x] = 1 - off
        }
        return p
    }

    /// One step of the chain's law: (μ P)(y) = Σ_x μ(x) P(x, y).
    public static func step(_ mu: [Double], _ p: [[Double]]) -> [Double] {
        var out = [Double](repeating: 0, count: mu.count)
        for x in 0..<mu.count where mu[x] != 0 {
            let row = p[x], m = mu[x]
            for y in 0..<mu.count { out[y] += m * row[y] }
        }
        return out
    }

    /// The uniform bound on the distance to stationarity after t steps from any start
    /// (Mengersen & Tweedie 1996, exact rate for independent samplers):
    ///
    ///     TV(P^t(x, ·), π) ≤ (1 − 1/w*)^t,   w* = max_x π(x)/q(x).
    public static func convergenceBound(target: Distribution, proposal: Distribution, steps t: Int) -> Double {
        var logWMax = -Double.infinity
        for x in 0..<target.count where target.probabilities[x] > 0 {
            logWMax = max(logWMax, target.logProbabilities[x] - proposal.logProbabilities[x])
        }
        return expOf(Double(t) * log1pOf(-expOf(-logWMax)))
    }
}

/// Importance sampling with the prior as proposal for the posterior π* = π0 e^{r/β}/Z.
public enum ImportanceSampling {
    /// The exact variance of the unbiased estimate Ẑ = (1/N) Σ_i exp(r(x_i)/β), x_i ~ π0:
    ///
    ///     Var(Ẑ) = (E_π0[e^{2r/β}] − Z²) / N = Z² (exp(D₂(π* ‖ π0)) − 1) / N,
    ///
    /// with the Rényi divergence of order 2, D₂ = log Σ π*(x)²/π0(x). Returned relative to Z²,
    /// i.e. (exp D₂ − 1)/N, the squared relative standard error.
    public static func relativeVarianceOfPartitionEstimate(posterior: Distribution, prior: Distribution, samples n: Int) -> Double {
        var terms: [Double] = []
        for x in 0..<prior.count where posterior.probabilities[x] > 0 {
            terms.append(2 * posterior.logProbabilities[x] - prior.logProbabilities[x])
        }
        return expm1Of(LogSpace.logSumExp(terms)) / Double(n)
    }

    /// The effective sample size fraction of importance sampling from π0 for π*:
    /// n_eff / N = 1 / E_π0[w²] with w = π*/π0 normalised, i.e. exp(−D₂(π* ‖ π0)).
    public static func effectiveSampleFraction(posterior: Distribution, prior: Distribution) -> Double {
        1 / (1 + relativeVarianceOfPartitionEstimate(posterior: posterior, prior: prior, samples: 1))
    }

    /// The asymptotic variance of the self-normalised estimate Σ w_i f(x_i) / Σ w_i of E_π*[f]
    /// (delta method): E_π0[w² (f − E_π* f)²] / N = E_π*[w (f − μ)²] / N with w = π*/π0.
    public static func selfNormalisedVariance(posterior: Distribution, prior: Distribution, f: [Double], samples n: Int) -> Double {
        let mu = posterior.expectation(f)
        var s = 0.0
        for x in 0..<prior.count where posterior.probabilities[x] > 0 {
            let w = expOf(posterior.logProbabilities[x] - prior.logProbabilities[x])
            s += posterior.probabilities[x] * w * (f[x] - mu) * (f[x] - mu)
        }
        return s / Double(n)
    }
}

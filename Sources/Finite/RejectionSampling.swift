import GSL

/// Binary-preference posteriors and rejection sampling from the prior (paper §5).
///
/// A binary preference b: X → {0, 1} (b(x) = 1 when x is acceptable, e.g. contains no curse
/// word) turns the prior into the posterior π*(x) = π0(x) b(x) / Z with Z = π0(b = 1).
/// Drawing from π0 and keeping a draw with probability a(x) is an exact sampler of the
/// distribution ∝ π0(x) a(x); with a = b it samples π*, with a = exp((r − max r)/β) it samples
/// the posterior of a real reward.
public enum RejectionSampling {
    /// π*(x) = π0(x) b(x) / Z, Z = Σ_x π0(x) b(x) = π0(b = 1).
    ///
    /// - Precondition: some acceptable outcome has positive prior probability.
    public static func binaryPosterior(prior: Distribution, acceptable b: [Bool]) -> Distribution {
        precondition(prior.count == b.count, "prior and preference have different lengths")
        return Distribution(logWeights: (0..<b.count).map { b[$0] ? prior.logProbabilities[$0] : -.infinity })
    }

    /// Z = π0(b = 1) = Σ_{x: b(x) = 1} π0(x): the acceptance rate of filtering.
    public static func partitionFunction(prior: Distribution, acceptable b: [Bool]) -> Double {
        var z = 0.0
        for x in 0..<b.count where b[x] { z += prior.probabilities[x] }
        return z
    }

    /// a(x) = exp((r(x) − max r)/β) ∈ (0, 1]: the acceptance probability that makes filtering
    /// from π0 an exact sampler of π*_β(x) ∝ π0(x) exp(r(x)/β).
    public static func acceptanceProbabilities(reward r: [Double], beta: Double) -> [Double] {
        precondition(beta > 0, "beta must be positive")
        let top = r.max()!
        return r.map { expOf(($0 - top) / beta) }
    }

    /// The exact acceptance rate Σ_x π0(x) a(x) of filtering with acceptance probabilities a.
    public static func acceptanceRate(prior: Distribution, acceptance a: [Double]) -> Double {
        prior.expectation(a)
    }

    /// The posterior of the exponentiated reward r_c(x) = −c (1 − b(x)) at β = 1 against the
    /// binary posterior: r_c sends unacceptable outcomes' weight to e^{−c}, so
    ///
    ///     π_c(b = 0) = (1 − Z) e^{−c} / (Z + (1 − Z) e^{−c}),
    ///
    /// and since π_c is π* scaled down on b = 1 plus that mass on b = 0,
    /// TV(π_c, π*) = π_c(b = 0), which goes to 0 like e^{−c} (1 − Z)/Z.
    public static func limitTotalVariation(partition z: Double, c: Double) -> Double {
        let tail = (1 - z) * expOf(-c)
        return tail / (z + tail)
    }

    /// One exact draw by rejection: propose from the prior until `accept` says yes.
    ///
    /// Each proposal x is kept with probability `acceptance(x)`; returns the kept outcome and the
    /// number of proposals it took (geometric with mean 1/(acceptance rate)).
    public static func draw(_ rng: RandomGenerator, propose: () -> Int, acceptance: (Int) -> Double) -> (x: Int, proposals: Int) {
        var proposals = 0
        while true {
            proposals += 1
            let x = propose()
            let a = acceptance(x)
            if a >= 1 || rng.uniform() < a { return (x, proposals) }
        }
    }
}

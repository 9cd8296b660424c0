import Finite
import Foundation
import GSL
import PropertyBased

/// A random exact problem (a `Finite.ExactProblem` with a policy) for the identities of chapters 2-5, drawn from one seed through GSL
/// so that a failure is reproduced by its seed alone.
///
/// - |X| log-uniform in 2 ... 10^4;
/// - prior: Gamma(a) weights in log space with a log-uniform in [0.02, 20] (full support, some
///   probabilities far below 10^-100 when a is small);
/// - reward, one of five kinds: Gaussian with scale log-uniform in [10^-3, 10^3]; ties (three
///   levels); a large |r|/β (scale 10^6); rewards of -10^6 mixed with ordinary ones; all equal;
/// - β log-uniform in [10^-3, 10^3];
/// - policy: full-support Gamma weights like the prior, or (one time in four) a sparse Dirichlet
///   draw that may put exactly zero mass on some outcomes.
struct ExactCase: CustomStringConvertible {
    enum RewardKind: String, CaseIterable { case gaussian, ties, huge, minusMillion, constant }

    let seed: UInt64
    let prior: Distribution
    let policy: Distribution
    let reward: [Double]
    let beta: Double
    let kind: RewardKind

    init(seed: UInt64, maxOutcomes: Int = 10_000, kinds: [RewardKind] = RewardKind.allCases) {
        self.seed = seed
        let rng = RandomGenerator(seed: seed)
        let n = min(maxOutcomes, max(2, Int(exp(rng.uniform() * log(Double(maxOutcomes) + 1)))))
        func logUniform(_ lo: Double, _ hi: Double) -> Double { exp(log(lo) + rng.uniform() * (log(hi) - log(lo))) }
        func fullSupport(_ a: Double) -> Distribution {
            Distribution(logWeights: (0..<n).map { _ in log(max(rng.gamma(shape: a), Double.leastNormalMagnitude)) })
        }
        prior = fullSupport(logUniform(0.02, 20))
        policy = rng.uniformInt(below: 4) == 0
            ? Distribution(weights: rng.dirichlet(count: n, concentration: logUniform(0.01, 1)))
            : fullSupport(logUniform(0.02, 20))
        beta = logUniform(1e-3, 1e3)
        kind = kinds[rng.uniformInt(below: kinds.count)]
        switch kind {
        case .gaussian:
            let scale = logUniform(1e-3, 1e3)
            reward = (0..<n).map { _ in scale * rng.gaussian() }
        case .ties:
            reward = (0..<n).map { _ in Double(rng.uniformInt(below: 3)) }
        case .huge:
            reward = (0..<n).map { _ in 1e6 * rng.uniform() }
        case .minusMillion:
            reward = (0..<n).map { _ in rng.uniformInt(below: 3) == 0 ? -1e6 : rng.gaussian() }
        case .constant:
            reward = [Double](repeating: rng.gaussian(), count: n)
        }
    }

    var n: Int { prior.count }
    /// The prior, reward and temperature as the library's `ExactProblem`.
    var problem: ExactProblem { ExactProblem(prior: prior, reward: reward, beta: beta) }
    var description: String { "ExactCase(seed: \(seed), n: \(n), beta: \(beta), reward: \(kind.rawValue))" }

    /// The rounding scale of π-weighted sums (E_π of terms built from r(x), β log π0(x), β log π(x)
    /// and β log d(x) for the distributions d passed): max|r| + β (1 + the largest |log d(x)| and
    /// |log π0(x)| over the supports of π and d). The policy's own log-probabilities need not be
    /// passed for such sums: E_π|log π| = H(π) ≤ log|supp π| ≤ max over supp π of |log π0| (some
    /// x in supp π has π0(x) ≤ 1/|supp π|).
    ///
    /// It does not bound sums weighted by another distribution. A log-sum-exp weighs the error of
    /// each term by the term's share of the sum (`termErrorsInLogSumExp`), so eq. 13's terms, which
    /// carry the rounding of log π(x) + log w(x), are weighted by π*, and E_π*|log π| (the
    /// cross-entropy H(π*, π)) is bounded by no max over log π0, log π* and r/β.
    func scale(_ distributions: Distribution...) -> Double {
        var m = 0.0
        for d in distributions + [prior] {
            for x in 0..<n where policy.probabilities[x] > 0 || d.probabilities[x] > 0 { m = max(m, abs(d.logProbabilities[x])) }
        }
        return reward.map(abs).max()! + beta * (1 + m)
    }
}

enum ExactGens {
    static let seed = Gen.int(in: 0...Int(Int32.max)).map { UInt64($0) }
}

/// (n + 2) ε scale: the rounding allowance of an n-term sum of terms up to `scale`.
func sumTolerance(_ n: Int, _ scale: Double) -> Double { summationTolerance(n, scale: scale) }

/// The rounding of one log-sum-exp L = m + log Σ_x e^{t_x − m}, m = max_x t_x, of n given doubles
/// t (`LogSpace.logSumExp`, and the loops written like it): (n + 2)ε + ε|L|/2.
///
/// With u = ε/2 the unit roundoff, and exp and log within 1 ulp (ε): t_x − m rounds by u|t_x − m|,
/// which exp turns into a relative error u|t_x − m| of the term e^{t_x − m} ≤ 1, plus ε of its own.
/// The sum s of the n non-negative terms is off by (n − 1)u relative to s; since s ≥ 1 (the
/// largest term is 1) and y e^{−y} ≤ 1/e, the argument errors add at most u(n − 1)/e relative to
/// s. log s ∈ [0, log n] rounds by ε log n and m + log s by u|L|. In all
/// (n − 1)(1 + 1/e)u + ε + ε log n + u|L| ≤ (n + 2)ε + u|L| for every n ≥ 1 (log n ≤ 0.32 n + 1.68).
/// The error of the terms themselves is not included: see `termErrorsInLogSumExp`.
func logSumExpRounding(_ n: Int, _ result: Double) -> Double { sumTolerance(n, 1) + Double.ulpOfOne / 2 * abs(result) }

/// How far a log-sum-exp moves when its terms t_x are off by at most δ_x: Σ_x w_x δ_x, with w the
/// softmax of the terms (for log Z = LSE(log π0 + r/β), the posterior π*).
///
/// ∂L/∂t_x = w_x, and by the mean value theorem the weights at the point between the two term
/// vectors exceed w by a factor of at most e^{2 max δ}. With |r|/β ≤ 10⁹ in `ExactCase`,
/// max δ < 10⁻⁶, and callers state δ with ε where u = ε/2 would do, which covers that factor. So
/// each term's error counts by its share of the sum, not by π and not by the largest term.
func termErrorsInLogSumExp(weights w: [Double], errors delta: [Double]) -> Double {
    precondition(w.count == delta.count, "lengths differ")
    var s = 0.0
    for x in 0..<w.count where w[x] > 0 { s += w[x] * delta[x] }
    return s
}

/// True when every entry is a number (no NaN) and finite.
func allFinite(_ xs: [Double]) -> Bool { xs.allSatisfy { $0.isFinite } }

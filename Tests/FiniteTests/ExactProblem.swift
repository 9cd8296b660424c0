import Finite
import Foundation
import GSL
import PropertyBased

/// A random exact problem for the identities of chapters 2-5, drawn from one seed through GSL
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
struct ExactProblem: CustomStringConvertible {
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
    var description: String { "ExactProblem(seed: \(seed), n: \(n), beta: \(beta), reward: \(kind.rawValue))" }

    /// The rounding scale of sums whose terms are r(x), β log π0(x), β log π(x), β log π*(x):
    /// max|r| + β (1 + the largest |log-probability| on the supports involved).
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
func sumTolerance(_ n: Int, _ scale: Double) -> Double { Double(n + 2) * Double.ulpOfOne * scale }

/// True when every entry is a number (no NaN) and finite.
func allFinite(_ xs: [Double]) -> Bool { xs.allSatisfy { $0.isFinite } }

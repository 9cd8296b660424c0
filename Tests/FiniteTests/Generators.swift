import Finite
import Foundation
import GSL
import PropertyBased

/// A random finite problem: a prior with full support, a reward, a temperature and a policy,
/// all drawn from one seed through GSL, so a failing case is reproduced by its seed alone.
struct RandomProblem: CustomStringConvertible {
    let seed: UInt64
    let prior: Distribution
    let policy: Distribution
    let reward: [Double]
    let beta: Double

    /// - Parameters: `sizes` range of |X|; rewards are Gaussian with a random scale from 1e-3 to
    ///   1e3; beta log-uniform in [1e-3, 1e3]; priors and policies Dirichlet with concentration
    ///   log-uniform in [0.05, 20] (spiky to flat).
    init(seed: UInt64, sizes: ClosedRange<Int> = 2...2000) {
        self.seed = seed
        let rng = RandomGenerator(seed: seed)
        let n = sizes.lowerBound + rng.uniformInt(below: sizes.count)
        func concentration() -> Double { exp(log(0.05) + rng.uniform() * (log(20) - log(0.05))) }
        // Priors keep full support: draw in log space via log Gamma draws.
        let a0 = concentration()
        prior = Distribution(logWeights: (0..<n).map { _ in log(max(rng.gamma(shape: a0), Double.leastNormalMagnitude)) })
        policy = Distribution(weights: rng.dirichlet(count: n, concentration: concentration()))
        let scale = exp(log(1e-3) + rng.uniform() * (log(1e3) - log(1e-3)))
        reward = (0..<n).map { _ in scale * rng.gaussian() }
        beta = exp(log(1e-3) + rng.uniform() * (log(1e3) - log(1e-3)))
    }

    var n: Int { prior.count }
    var description: String { "RandomProblem(seed: \(seed), n: \(n), beta: \(beta))" }
}

enum Gens {
    /// Seeds for `RandomProblem`.
    static let seed = Gen.int(in: 0...Int(Int32.max)).map { UInt64($0) }
}

/// n ε max(1, |scale|): the rounding allowance of an n-term sum.
func roundingTolerance(_ n: Int, scale: Double = 1) -> Double { Double(n + 2) * Double.ulpOfOne * max(1, abs(scale)) }

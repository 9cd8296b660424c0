#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How heavy the right tail of the importance weights is: the shape k̂ of a generalised Pareto
/// distribution fitted to the largest weights, as in Pareto-smoothed importance sampling
/// (Vehtari, Simpson, Gelman, Yao and Gabry, 2024).
///
/// A generalised Pareto tail with shape k has finite moments of order < 1/k only. So for
/// k̂ < 0.5 the weights have a finite variance and the importance-sampling estimate of Z
/// behaves; for 0.5 ≤ k̂ < 0.7 the variance is infinite but the estimate is still usable in
/// practice; for k̂ ≥ 0.7 the estimate of Z (hence of log Z and of KL(π ‖ π*)) cannot be
/// trusted at any practical sample size.
public enum ParetoTail {
    /// The tail size used for S samples: M = min(S/5, 3√S) (Vehtari et al., §3).
    public static func tailSize(samples: Int) -> Int {
        min(samples / 5, Int((3 * Double(samples).squareRoot()).rounded(.down)))
    }

    /// k̂ from the largest log-weights (descending), of which the first `tailSize + 1` are used:
    /// the exceedances of the M largest weights over the (M+1)-th. Weights are rescaled by
    /// their maximum first (k̂ does not depend on scale). Returns nil when the tail has fewer
    /// than 5 values or is flat.
    public static func shape(largestLogWeights lw: [Double], samples: Int) -> Double? {
        let m = min(tailSize(samples: samples), lw.count - 1)
        guard m >= 5, let top = lw.first, top.isFinite else { return nil }
        let threshold = exp(lw[m] - top)
        // Exceedances, ascending.
        let x = (0..<m).map { exp(lw[$0] - top) - threshold }.reversed().map { $0 }
        guard x.last! > 0 else { return nil }
        return generalisedParetoShape(exceedances: x.filter { $0 > 0 })
    }

    /// The Zhang and Stephens (2009) estimate of the generalised Pareto shape ξ, with the weakly
    /// informative prior of Vehtari et al. (ξ̂ shrunk towards 0.5 by 10 pseudo-observations).
    /// `x` is sorted ascending and positive.
    ///
    /// In Zhang and Stephens' parameters θ = -ξ/σ and k = -ξ, the density of a generalised
    /// Pareto tail is (θ/k)(1 - θx)^(1/k - 1), so for a given θ the maximum-likelihood k is
    /// k(θ) = -mean_i log(1 - θ x_i) and the profile log-likelihood is
    /// ℓ(θ) = n (log(θ / k(θ)) + k(θ) - 1).
    /// θ̂ is the mean over a grid of θ_j weighted by exp ℓ(θ_j), and ξ̂ = mean_i log(1 - θ̂ x_i).
    public static func generalisedParetoShape(exceedances x: [Double]) -> Double? {
        let n = x.count
        guard n >= 5 else { return nil }
        let priorScale = 3.0
        let gridSize = 30 + Int(Double(n).squareRoot())
        let quartile = x[max(0, Int((Double(n) / 4 + 0.5).rounded(.down)) - 1)]
        let xMax = x[n - 1]
        guard quartile > 0, xMax > 0 else { return nil }
        var theta = [Double](repeating: 0, count: gridSize)
        var profile = [Double](repeating: 0, count: gridSize)
        for j in 0..<gridSize {
            let b = 1 - (Double(gridSize) / (Double(j + 1) - 0.5)).squareRoot()
            theta[j] = b / (priorScale * quartile) + 1 / xMax
            var s = 0.0
            for xi in x { s += log1p(-theta[j] * xi) }
            let k = -s / Double(n)
            profile[j] = Double(n) * (log(theta[j] / k) + k - 1)
        }
        // Weights w_j = 1 / Σ_l exp(ℓ_l - ℓ_j) (normalised exp ℓ without overflow).
        var thetaHat = 0.0
        for j in 0..<gridSize {
            var s = 0.0
            for l in 0..<gridSize { s += exp(profile[l] - profile[j]) }
            let w = 1 / s
            if w.isFinite { thetaHat += theta[j] * w }
        }
        var s = 0.0
        for xi in x { s += log1p(-thetaHat * xi) }
        let xi = s / Double(n)
        guard xi.isFinite else { return nil }
        let a = 10.0
        return xi * Double(n) / (Double(n) + a) + a * 0.5 / (Double(n) + a)
    }
}

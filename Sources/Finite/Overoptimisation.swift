/// Least-squares fits of the reward-model over-optimisation forms of Gao et al. (2023), with
/// d = √KL(π ‖ π0) and R(d) the gain in gold reward:
///
///     best-of-n:  R(d) = d (α − β d),        RL:  R(d) = d (α − β log d).
///
/// Both are linear in (α, β) with regressors f1 = d and f2 = −d² (best-of-n) or −d log d (RL),
/// so the least-squares fit solves the 2 × 2 normal equations in closed form.
public struct TwoParameterFit: Sendable {
    public let alpha: Double
    public let beta: Double
    /// y_i − (α f1_i + β f2_i).
    public let residuals: [Double]
    /// √(mean of squared residuals).
    public var rootMeanSquare: Double { (residuals.map { $0 * $0 }.reduce(0, +) / Double(max(residuals.count, 1))).squareRoot() }

    /// Solves [Σf1² Σf1f2; Σf1f2 Σf2²] (α, β) = (Σf1 y, Σf2 y) by Cramer's rule.
    ///
    /// - Precondition: the regressors are not collinear (the determinant is positive).
    public init(y: [Double], f1: [Double], f2: [Double]) {
        precondition(y.count == f1.count && y.count == f2.count && y.count >= 2, "need at least two points")
        var s11 = 0.0, s12 = 0.0, s22 = 0.0, t1 = 0.0, t2 = 0.0
        for i in 0..<y.count {
            s11 += f1[i] * f1[i]; s12 += f1[i] * f2[i]; s22 += f2[i] * f2[i]
            t1 += f1[i] * y[i]; t2 += f2[i] * y[i]
        }
        let det = s11 * s22 - s12 * s12
        precondition(det > 0, "regressors are collinear")
        let a = (t1 * s22 - t2 * s12) / det, b = (s11 * t2 - s12 * t1) / det
        alpha = a; beta = b
        residuals = (0..<y.count).map { y[$0] - (a * f1[$0] + b * f2[$0]) }
    }

    /// R(d) = d(α − β d), fitted to (d_i, R_i).
    public static func bestOfN(d: [Double], gain: [Double]) -> TwoParameterFit {
        TwoParameterFit(y: gain, f1: d, f2: d.map { -$0 * $0 })
    }

    /// R(d) = d(α − β log d), fitted to (d_i, R_i) with d_i > 0.
    public static func reinforcementLearning(d: [Double], gain: [Double]) -> TwoParameterFit {
        TwoParameterFit(y: gain, f1: d, f2: d.map { -$0 * logOf($0) })
    }

    /// The fitted curve at d for the best-of-n form.
    public func bestOfNValue(_ d: Double) -> Double { d * (alpha - beta * d) }
    /// The fitted curve at d for the RL form.
    public func reinforcementLearningValue(_ d: Double) -> Double { d > 0 ? d * (alpha - beta * logOf(d)) : 0 }
}

import GSL

/// The reward-KL trade-off of paper §3 (eq. 3): each temperature β gives one optimal policy
/// π*_β (eq. 5), and the points (KL(π*_β ‖ π0), E_{π*_β}[r]) trace the frontier of the best
/// expected reward reachable at each distance from the prior.
///
/// Along the frontier, with λ = 1/β and K(λ) = log E_{π0}[e^{λ r}]:
///
///     E_β[r] = K'(λ),    KL(π*_β ‖ π0) = λ K'(λ) - K(λ),
///     dE/dλ = K''(λ) = Var_β(r),    dKL/dλ = λ K''(λ),
///
/// so the slope dE/dKL is 1/λ = β, and the frontier is concave (its slope β falls as KL grows).
public enum Frontier {
    /// One point of the frontier.
    public struct Point: Sendable {
        public let beta: Double
        /// KL(π*_β ‖ π0).
        public let klDivergence: Double
        /// E_{π*_β}[r].
        public let expectedReward: Double
    }

    /// The frontier point at temperature β: the posterior of eq. 5, its KL from the prior and
    /// its expected reward, each summed over the outcomes.
    public static func point(prior: Distribution, reward r: [Double], beta: Double) -> Point {
        let post = Posterior.distribution(prior: prior, reward: r, beta: beta)
        return Point(beta: beta, klDivergence: klDivergence(post, prior), expectedReward: post.expectation(r))
    }

    /// The secant slopes on either side of the frontier point at β, using the neighbours at
    /// β(1 + h) (smaller KL) and β(1 - h) (larger KL).
    ///
    /// A concave curve lies below its tangents, so the secant from the left neighbour is at
    /// least the tangent slope and the secant to the right neighbour at most:
    /// `right ≤ β ≤ left`, for every 0 < h < 1, and both tend to β as h → 0.
    public static func secantSlopes(prior: Distribution, reward r: [Double], beta: Double, relativeStep h: Double) -> (left: Double, right: Double) {
        precondition(h > 0 && h < 1, "the relative step must lie in (0, 1)")
        let centre = point(prior: prior, reward: r, beta: beta)
        let smallKL = point(prior: prior, reward: r, beta: beta * (1 + h))
        let largeKL = point(prior: prior, reward: r, beta: beta * (1 - h))
        let left = (centre.expectedReward - smallKL.expectedReward) / (centre.klDivergence - smallKL.klDivergence)
        let right = (largeKL.expectedReward - centre.expectedReward) / (largeKL.klDivergence - centre.klDivergence)
        return (left, right)
    }

    /// The largest KL on the frontier: as β → 0 the posterior tends to π0(· | A) with
    /// A = argmax r, whose divergence from the prior is -log π0(A).
    public static func largestKL(prior: Distribution, reward r: [Double]) -> Double {
        let a = Reward.maximisers(r, within: prior.support)
        return -logOf(prior.mass(of: a))
    }

    /// The KL-constrained problem of §3: maximise E_π[r] subject to KL(π ‖ π0) ≤ ε.
    ///
    /// Its solution is the posterior π*_β whose KL equals the budget, 0 < ε < -log π0(A); the
    /// temperature is found by GSL's Brent solver on u = log β for KL(π*_{e^u} ‖ π0) - ε = 0 (KL
    /// falls monotonically in β). The bracket is widened by factors of 4 from β = 1 until it
    /// straddles the root.
    ///
    /// - Throws: `GSLError` if the solver fails; `GSLError.domain` if ε is outside (0, -log π0(A))
    ///   or no bracket is found within β ∈ [1e-300, 1e300].
    public static func temperature(forKL epsilon: Double, prior: Distribution, reward r: [Double],
                                   relativeTolerance: Double = 1e-13) throws(GSLError) -> Double {
        let top = largestKL(prior: prior, reward: r)
        guard epsilon > 0, epsilon < top else {
            throw GSLError(function: "Frontier.temperature", status: GSLError.domain,
                           meaning: "the KL budget must lie in (0, -log pi0(A)) = (0, \(top))")
        }
        let f: (Double) -> Double = { u in point(prior: prior, reward: r, beta: expOf(u)).klDivergence - epsilon }
        var lower = 0.0, upper = 0.0
        while f(lower) <= 0 {   // KL too small: cool down
            lower -= logOf(4)
            if lower < -690 { throw GSLError(function: "Frontier.temperature", status: GSLError.domain, meaning: "no bracket below") }
        }
        while f(upper) >= 0 {   // KL too large: warm up
            upper += logOf(4)
            if upper > 690 { throw GSLError(function: "Frontier.temperature", status: GSLError.domain, meaning: "no bracket above") }
        }
        let u = try RootFinder.brent(lower: lower, upper: upper, absoluteTolerance: 0,
                                     relativeTolerance: relativeTolerance, f)
        return expOf(u)
    }

    /// The Lagrange dual of the KL-constrained problem at temperature β:
    /// g(β) = β log Z(β) + β ε = max_π { E_π[r] - β (KL(π ‖ π0) - ε) } ≥ the constrained optimum,
    /// with equality at the β whose posterior has KL = ε (strong duality).
    public static func dual(prior: Distribution, reward r: [Double], beta: Double, budget epsilon: Double) -> Double {
        beta * (Posterior.logPartitionFunction(prior: prior, reward: r, beta: beta) + epsilon)
    }

    /// The minimum of the dual g(β) = β (log Z(β) + ε), found by golden-section search on
    /// u = log β over [lower, upper], without the root finder of `temperature(forKL:)`.
    ///
    /// g is convex in β (the perspective of the convex log Z), hence unimodal in u, and
    /// dg/du = β (ε − KL(π*_β ‖ π0)) vanishes where the posterior spends the budget: the search
    /// reaches the constrained problem's temperature by a route independent of the root finder.
    /// It stops when its bracket is at most `width` wide in u; the minimiser lies inside the final
    /// bracket [lowerBeta, upperBeta], and `beta` is its midpoint, with `value` = g(beta).
    public static func dualMinimum(prior: Distribution, reward r: [Double], budget epsilon: Double,
                                   lower: Double = -50, upper: Double = 50, width: Double = 1e-4)
        -> (beta: Double, value: Double, lowerBeta: Double, upperBeta: Double) {
        precondition(lower < upper && width > 0, "the bracket must be non-empty and the width positive")
        let g: (Double) -> Double = { u in dual(prior: prior, reward: r, beta: expOf(u), budget: epsilon) }
        let phi = (5.0.squareRoot() - 1) / 2   // 0.618…
        var a = lower, b = upper
        var c = b - phi * (b - a), d = a + phi * (b - a)
        var gc = g(c), gd = g(d)
        while b - a > width {
            if gc <= gd {   // the minimum lies in [a, d]
                b = d; d = c; gd = gc
                c = b - phi * (b - a); gc = g(c)
            } else {        // the minimum lies in [c, b]
                a = c; c = d; gc = gd
                d = a + phi * (b - a); gd = g(d)
            }
        }
        let u = (a + b) / 2
        return (expOf(u), g(u), expOf(a), expOf(b))
    }

    /// The mixture (1 - t) π0 + t q with the largest t ∈ [0, 1] whose KL from π0 is at most ε:
    /// a feasible policy for the constrained problem built without the posterior. KL of the
    /// mixture is convex in t and 0 at t = 0, so Brent's method finds the boundary.
    public static func feasibleMixture(prior: Distribution, toward q: Distribution, budget epsilon: Double) throws(GSLError) -> Distribution {
        let mix: (Double) -> Distribution = { t in
            Distribution(weights: (0..<prior.count).map { (1 - t) * prior.probabilities[$0] + t * q.probabilities[$0] })
        }
        if klDivergence(mix(1), prior) <= epsilon { return mix(1) }
        let t = try RootFinder.brent(lower: 0, upper: 1, absoluteTolerance: 1e-15, relativeTolerance: 1e-12) { t in
            klDivergence(mix(t), prior) - epsilon
        }
        // Step just inside the boundary so rounding cannot leave the policy infeasible.
        var s = t
        for _ in 0..<200 where klDivergence(mix(s), prior) > epsilon { s *= 1 - 1e-6 }
        return mix(s)
    }
}

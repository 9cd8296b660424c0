/// Best-of-n sampling: draw n outcomes independently from the prior π0 and keep one with the
/// highest reward, choosing uniformly among the draws that tie for the highest reward.
import GSL

public enum BestOfN {
    /// The exact distribution of the kept outcome. Group outcomes into reward levels; with
    /// F(r) = π0(R ≤ r) and F(r⁻) = π0(R < r), the best reward is r with probability
    /// F(r)ⁿ − F(r⁻)ⁿ, and given that, the kept draw is a uniformly chosen one of the draws at
    /// that level, hence distributed as π0 restricted to the level:
    ///
    ///     π_n(x) = π0(x) / π0(R = r(x)) · (F(r(x))ⁿ − F(r(x)⁻)ⁿ).
    ///
    /// The difference of powers is formed in log space as
    /// n log1p(−π0(R > r)) + log(−expm1(−n log1p(π0(R = r)/F(r⁻)))), which neither overflows for
    /// large n nor cancels when both powers are close to 1.
    public static func distribution(prior: Distribution, reward r: [Double], n: Int) -> Distribution {
        precondition(n >= 1 && prior.count == r.count)
        let levels = RewardLevels(prior: prior, reward: r)
        var logw = [Double](repeating: -.infinity, count: r.count)
        for (j, members) in levels.members.enumerated() {
            let f = levels.mass[j], below = levels.below[j]
            guard f > 0 else { continue }
            let logF = log1pOf(-min(levels.above[j], 1))   // log F(r), precise when F(r) is near 1
            var logTop = Double(n) * logF                   // log(F(r)ⁿ − F(r⁻)ⁿ)
            if below > 0 { logTop += logOf(-expm1Of(-Double(n) * log1pOf(f / below))) }
            for x in members where prior.probabilities[x] > 0 { logw[x] = prior.logProbabilities[x] - logOf(f) + logTop }
        }
        return Distribution(logWeights: logw)
    }

    /// The often-quoted value KL(π_n || π0) = log n − (n − 1)/n; for a reward without ties under
    /// a prior without atoms it is exact, and in general it is an upper bound (Beirami et al., 2024).
    public static func quotedKL(n: Int) -> Double { logOf(Double(n)) - Double(n - 1) / Double(n) }

    /// The win rate of π against π0 with ties counted half:
    /// W(π) = Σ_x π(x) (π0(R < r(x)) + ½ π0(R = r(x))).
    public static func winRate(_ pi: Distribution, prior: Distribution, reward r: [Double]) -> Double {
        let levels = RewardLevels(prior: prior, reward: r)
        var s = 0.0
        for (j, members) in levels.members.enumerated() {
            let credit = levels.below[j] + levels.mass[j] / 2
            for x in members { s += pi.probabilities[x] * credit }
        }
        return s
    }

    /// Best-of-n by brute force over all Nⁿ ordered draws (for small N and n): each tuple has
    /// probability Π π0(x_i), split evenly among its positions with the highest reward.
    public static func bruteForce(prior: Distribution, reward r: [Double], n: Int) -> [Double] {
        let N = prior.count
        var out = [Double](repeating: 0, count: N)
        var tuple = [Int](repeating: 0, count: n)
        var total = 0
        var power = 1
        for _ in 0..<n { power *= N }
        while total < power {
            var p = 1.0, best = -Double.infinity
            for x in tuple { p *= prior.probabilities[x]; best = max(best, r[x]) }
            if p > 0 {
                var ties = 0
                for x in tuple where r[x] == best { ties += 1 }
                for x in tuple where r[x] == best { out[x] += p / Double(ties) }
            }
            total += 1
            var i = 0
            while i < n { tuple[i] += 1; if tuple[i] < N { break }; tuple[i] = 0; i += 1 }
        }
        return out
    }

    /// The temperature β whose posterior π*_β ∝ π0 e^{r/β} has KL(π*_β || π0) = target, by GSL's
    /// Brent solver on u = log β (KL falls as β rises). Nil when the target is not strictly
    /// between 0 and the β → 0 limit −log π0(argmax r).
    public static func matchingTemperature(prior: Distribution, reward r: [Double], kl target: Double) throws -> Double? {
        let kl = { (u: Double) in klDivergence(Posterior.distribution(prior: prior, reward: r, beta: expOf(u)), prior) }
        let limit = klDivergence(Posterior.zeroTemperatureLimit(prior: prior, reward: r), prior)
        guard target > 0, target < limit * (1 - 1e-9) else { return nil }
        let range = max(r.max()! - r.min()!, 1e-300)
        var hi = logOf(range) + 2, lo = logOf(range) - 2
        // β = range·e^{-40} leaves at most e^{-Δ e^{40}/range} outside the argmax, and
        // β = range·e^{60} is within e^{-60} of the prior: the bracket never needs to be wider.
        while kl(hi) > target && hi < logOf(range) + 60 { hi += 2 }
        while kl(lo) < target && lo > logOf(range) - 40 { lo -= 2 }
        guard kl(hi) <= target, kl(lo) >= target else { return nil }
        let u = try RootFinder.brent(lower: lo, upper: hi, absoluteTolerance: 1e-13, relativeTolerance: 0) { kl($0) - target }
        return expOf(u)
    }
}

/// Outcomes grouped by equal reward, in increasing reward: for level j its members, its prior
/// mass π0(R = r_j), the mass below it π0(R < r_j) (summed from the bottom) and above it.
struct RewardLevels {
    var members: [[Int]] = []
    var mass: [Double] = []
    var below: [Double] = []
    /// π0(R > r_j), summed from the top.
    var above: [Double] = []

    init(prior: Distribution, reward r: [Double]) {
        let order = r.indices.sorted { r[$0] < r[$1] }
        var cumulative = 0.0
        var i = 0
        while i < order.count {
            var j = i
            var group: [Int] = []
            var m = 0.0
            while j < order.count && r[order[j]] == r[order[i]] { group.append(order[j]); m += prior.probabilities[order[j]]; j += 1 }
            members.append(group); mass.append(m); below.append(cumulative)
            cumulative += m
            i = j
        }
        var top = 0.0
        above = [Double](repeating: 0, count: mass.count)
        for j in stride(from: mass.count - 1, through: 0, by: -1) { above[j] = top; top += mass[j] }
    }
}

/// Where the trainers of `Trainers.swift` stop, computed without iterating their updates.
///
/// The updates whose expected direction is ∇J_KLRL up to a positive factor (k1 in the reward,
/// per token with returns to go or per sequence) stop at π*_β = π0 e^{r/β}/Z (eq. 5), which
/// `SequenceProblem.posterior` gives in closed form. GRPO with a per-token k3 loss does not. In
/// the tabular policy its expected direction in the block of prefix h is
///
///     π(h) [ π(a|h) (Q(h,a) − V(h)) − β (π(a|h) − π0(a|h)) ]_a,
///
/// with Q(h,a) the expected group advantage of the sequences through (h, a) and V(h) its mean
/// under π(·|h): the k3 loss differentiated at the sampled token pulls each next-token
/// distribution toward π0(·|h) along ∇ KL(π0(·|h) ‖ π(·|h)) (chapter 9's "forward per-prefix
/// part") and never sees the sequences below h. Its zeros solve, prefix by prefix,
///
///     π(a|h) = β π0(a|h) / (λ_h − Q(h,a)),   λ_h > max_a Q(h,a),  Σ_a π(a|h) = 1,
///
/// (then V(h) = λ_h − β automatically) and the advantage itself depends on π through the
/// reward's distribution, which the group statistics see. `k3FixedPoint` solves this: an outer
/// fixed-point iteration on the advantage of each reward value, and inside it one pass up the
/// prefix tree, each λ_h by bisection.
public enum TrainerFixedPoints {
    public struct Solution: Sendable {
        public let policy: AutoregressiveModel
        /// Outer iterations, and the largest change of the advantages at the last one.
        public let iterations: Int
        public let change: Double
    }

    /// The tabular policy π(a|h) = β π0(a|h)/(λ_h − Q(h,a)) for the terminal values `a` of every
    /// sequence (the advantage a sequence ends with), built from the deepest prefixes up.
    public static func perPrefixK3Policy(prior q: AutoregressiveModel, terminal a: [Double],
                                         beta: Double) -> AutoregressiveModel {
        let s = q.space, k = s.choices
        var value = [Double](repeating: 0, count: s.prefixCount)
        var logits = [Double](repeating: 0, count: s.parameterCount)
        for h in stride(from: s.prefixCount - 1, through: 0, by: -1) {
            var qs = [Double](repeating: 0, count: k)
            for c in 0..<k {
                if c == s.vocabulary { qs[c] = a[h]; continue }   // the end token: the sequence is h itself
                let child = s.child(h, c)
                qs[c] = child < s.prefixCount ? value[child] : a[child]
            }
            let p0 = (0..<k).map { expOf(q.logProbability($0, given: h)) }
            let top = qs.max()!
            // f(λ) = Σ_c β π0_c/(λ − Q_c) falls from +∞ at max Q to at most 1 at max Q + β.
            var lo = top, hi = top + beta
            for _ in 0..<200 {
                let mid = 0.5 * (lo + hi)
                if mid <= lo || mid >= hi { break }
                let f = (0..<k).reduce(0) { $0 + beta * p0[$1] / (mid - qs[$1]) }
                if f > 1 { lo = mid } else { hi = mid }
            }
            let lambda = hi
            var probs = (0..<k).map { beta * p0[$0] / (lambda - qs[$0]) }
            let total = probs.reduce(0, +)
            probs = probs.map { $0 / total }   // removes the bisection's last rounding
            value[h] = (0..<k).reduce(0) { $0 + probs[$1] * qs[$1] }
            for c in 0..<k { logits[h * k + c] = logOf(max(probs[c], Double.leastNormalMagnitude)) }
        }
        return AutoregressiveModel(space: s, logits: logits)
    }

    /// GRPO with the per-token k3 loss: the fixed point of (advantages of the reward values under
    /// π) ↦ π = `perPrefixK3Policy`, iterated from the prior with damping `damping` until the
    /// advantages change by at most `tolerance`.
    public static func k3FixedPoint(problem: SequenceProblem, group: Int, scale: GroupScale, tolerance: Double = 1e-14,
                                    damping: Double = 0.5, maxIterations: Int = 10_000) -> Solution {
        var policy = problem.prior
        precondition(scale != .batch, "the k3 fixed point is written for group scaling or none")
        var a = ExactTrainer.groupAdvantage(values: problem.reward, probabilities: policy.distribution.probabilities,
                                            group: group, scale: scale == .group)
        var change = Double.infinity
        var n = 0
        while n < maxIterations && change > tolerance {
            policy = perPrefixK3Policy(prior: problem.prior, terminal: a, beta: problem.beta)
            let next = ExactTrainer.groupAdvantage(values: problem.reward,
                                                   probabilities: policy.distribution.probabilities,
                                                   group: group, scale: scale == .group)
            change = zip(a, next).reduce(0) { max($0, Swift.abs($1.0 - $1.1)) }
            a = zip(a, next).map { (1 - damping) * $0 + damping * $1 }
            n += 1
        }
        return Solution(policy: perPrefixK3Policy(prior: problem.prior, terminal: a, beta: problem.beta),
                        iterations: n, change: change)
    }
}

/// Deterministic optimisation paths over the simplex: exact gradient ascent on softmax logits
/// and exponentiated-gradient (natural-gradient) ascent.
public enum Dynamics {
    /// A snapshot of a path: the step count and the policy there.
    public struct Snapshot: Sendable {
        public let step: Int
        public let policy: Distribution
    }

    /// Gradient ascent on softmax logits, θ ← θ + η ∇_θ J(π_θ), from `logits`.
    ///
    /// - Parameters:
    ///   - gradient: the exact gradient with respect to the logits at π_θ.
    ///   - record: keep a snapshot every `record` steps (and always the first and last).
    ///   - stop: optional early stop, tested after each step.
    public static func gradientAscent(
        logits: [Double], stepSize eta: Double, steps: Int, record: Int = 1,
        gradient: (Distribution) -> [Double],
        stop: ((Distribution) -> Bool)? = nil
    ) -> [Snapshot] {
        var theta = logits
        var pi = Distribution.softmax(theta)
        var path = [Snapshot(step: 0, policy: pi)]
        for t in 1...max(steps, 1) {
            let g = gradient(pi)
            for i in 0..<theta.count { theta[i] += eta * g[i] }
            // Logits are defined up to a constant: re-centre at the max so they stay bounded.
            let m = theta.max()!
            for i in 0..<theta.count { theta[i] -= m }
            pi = Distribution.softmax(theta)
            let done = stop?(pi) ?? false
            if t % record == 0 || t == steps || done { path.append(Snapshot(step: t, policy: pi)) }
            if done { break }
        }
        return path
    }

    /// Exponentiated-gradient ascent on J_RL, the mirror ascent of the entropy geometry (the
    /// natural gradient of softmax logits): π_{t+1}(x) = π_t(x) exp(η r(x)) / Σ_y π_t(y) exp(η r(y)).
    ///
    /// Iterated multiplicatively in probability space, renormalising by a plain sum each step;
    /// the weights exp(η (r(x) - max r)) are at most 1 so nothing overflows. After k steps the
    /// total step is t = kη and the theory says π_k = π0 exp(t r) / Z, the posterior at β = 1/t.
    public static func exponentiatedGradient(prior: Distribution, reward r: [Double], stepSize eta: Double, steps: Int) -> Distribution {
        let rmax = r.max()!
        let factor = r.map { expOf(eta * ($0 - rmax)) }
        var p = prior.probabilities
        for _ in 0..<steps {
            var s = 0.0
            for i in 0..<p.count { p[i] *= factor[i]; s += p[i] }
            for i in 0..<p.count { p[i] /= s }
        }
        return Distribution(weights: p)
    }
}

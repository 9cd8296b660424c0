import GSL

/// The score-function (REINFORCE) form of the policy gradient for softmax logits, written as
/// the expectation it is, with a baseline b:
///
///     ∇_θ E_{π_θ}[f] = E_{x ~ π_θ}[∇_θ log π_θ(x) (f(x) - b)],    ∇_θ log π_θ(x) = e_x - π_θ.
///
/// The baseline changes nothing in expectation because E_π[∇ log π] = Σ_x π(x)(e_x - π) = 0;
/// for the KL-regularised objective (eq. 4) the same fact removes the term that
/// differentiating β log π inside the shaped reward would add.
public enum ScoreFunction {
    /// The exact expectation Σ_x π(x) (f(x) - b) (e_x - π), accumulated outcome by outcome
    /// (not through the closed form π ⊙ (f - E_π f)).
    public static func gradient(_ pi: Distribution, f: [Double], baseline b: Double) -> [Double] {
        let n = pi.count
        var g = [Double](repeating: 0, count: n)
        var coefficient = 0.0   // Σ_x π(x) (f(x) - b): multiplies -π in every term
        for x in 0..<n where pi.probabilities[x] > 0 {
            let c = pi.probabilities[x] * (f[x] - b)
            g[x] += c
            coefficient += c
        }
        for y in 0..<n { g[y] -= coefficient * pi.probabilities[y] }
        return g
    }

    /// E_π[∇_θ log π_θ(x)] = Σ_x π(x) (e_x - π), summed term by term: the zero vector up to rounding.
    public static func meanScore(_ pi: Distribution) -> [Double] {
        let n = pi.count
        var g = [Double](repeating: 0, count: n)
        var total = 0.0
        for x in 0..<n where pi.probabilities[x] > 0 {
            g[x] += pi.probabilities[x]
            total += pi.probabilities[x]
        }
        for y in 0..<n { g[y] -= total * pi.probabilities[y] }
        return g
    }

    /// A seeded Monte Carlo estimate of the directional derivative ⟨∇_θ E_π[f], v⟩ from `draws`
    /// samples x ~ π: the mean of (f(x) - b) ⟨e_x - π, v⟩ = (f(x) - b)(v_x - ⟨π, v⟩), with its
    /// standard error (Welford's running variance).
    public static func sampledDirectionalDerivative(_ pi: Distribution, f: [Double], baseline b: Double, direction v: [Double],
                                                    draws: Int, rng: RandomGenerator) throws(GSLError) -> (mean: Double, standardError: Double) {
        precondition(draws >= 2, "need at least two draws")
        let sampler = try DiscreteSampler(weights: pi.probabilities)
        let piV = pi.expectation(v)
        var mean = 0.0, m2 = 0.0
        for i in 1...draws {
            let x = sampler.sample(rng)
            let sample = (f[x] - b) * (v[x] - piV)
            let d = sample - mean
            mean += d / Double(i)
            m2 += d * (sample - mean)
        }
        return (mean, (m2 / Double(draws - 1) / Double(draws)).squareRoot())
    }
}

import CGSL

/// A seeded Mersenne Twister (GSL's `mt19937`), owned by whoever uses it.
///
/// Not shared between threads: each test, chapter section or task makes its own from a seed,
/// so every random computation in the book is reproducible.
public final class RandomGenerator {
    let rng: UnsafeMutablePointer<gsl_rng>
    /// The seed this generator was made with.
    public let seed: UInt64

    public init(seed: UInt64) {
        GSLRuntime.start()
        guard let r = gsl_rng_alloc(cgsl_rng_mt19937()) else { fatalError("gsl_rng_alloc: out of memory") }
        rng = r
        self.seed = seed
        // mt19937 takes an unsigned long seed; 0 selects GSL's default seed 4357, which is fine.
        gsl_rng_set(rng, UInt(truncatingIfNeeded: seed))
    }

    deinit { gsl_rng_free(rng) }

    /// A uniform draw in [0, 1).
    public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// A uniform draw in (0, 1), never 0.
    public func uniformPositive() -> Double { gsl_rng_uniform_pos(rng) }

    /// A uniform integer in 0..<n (n >= 1).
    public func uniformInt(below n: Int) -> Int {
        precondition(n >= 1, "uniformInt(below:) needs n >= 1")
        return Int(gsl_rng_uniform_int(rng, UInt(n)))
    }

    /// A Gaussian draw with mean 0 and standard deviation `sigma`.
    public func gaussian(sigma: Double = 1) -> Double { gsl_ran_gaussian_ziggurat(rng, sigma) }

    /// A Gamma(a, 1) draw.
    public func gamma(shape a: Double) -> Double { gsl_ran_gamma(rng, a, 1) }

    /// A Dirichlet(alpha) draw: a point of the probability simplex.
    ///
    /// GSL samples small concentrations in log space, so even alpha = 0.01 over 10^4 outcomes
    /// returns a normalised vector (some entries may be exactly 0 in double precision).
    public func dirichlet(alpha: [Double]) -> [Double] {
        precondition(!alpha.isEmpty && alpha.allSatisfy { $0 > 0 && $0.isFinite }, "Dirichlet needs positive concentrations")
        var theta = [Double](repeating: 0, count: alpha.count)
        alpha.withUnsafeBufferPointer { a in
            theta.withUnsafeMutableBufferPointer { t in
                gsl_ran_dirichlet(rng, alpha.count, a.baseAddress, t.baseAddress)
            }
        }
        return theta
    }

    /// A symmetric Dirichlet(alpha, ..., alpha) draw over `n` outcomes.
    public func dirichlet(count n: Int, concentration alpha: Double) -> [Double] {
        dirichlet(alpha: [Double](repeating: alpha, count: n))
    }

    /// Number of failures before the first success in Bernoulli(p) trials, plus one
    /// (GSL's geometric: support 1, 2, ...).
    public func geometric(p: Double) -> Int { Int(gsl_ran_geometric(rng, p)) }

    /// A Poisson(mu) draw.
    public func poisson(mean mu: Double) -> Int { Int(gsl_ran_poisson(rng, mu)) }

    /// A Bernoulli(p) draw.
    public func bernoulli(p: Double) -> Bool { gsl_ran_bernoulli(rng, p) == 1 }
}

/// Walker's alias table over fixed weights (`gsl_ran_discrete`): O(1) draws of an index with
/// probability proportional to its weight.
public final class DiscreteSampler {
    private let table: UnsafeMutablePointer<gsl_ran_discrete_t>
    public let count: Int

    /// - Throws: `GSLError` (domain) for an empty array, a negative or non-finite weight, or
    ///   weights that are all zero.
    public init(weights: [Double]) throws(GSLError) {
        GSLRuntime.start()
        guard !weights.isEmpty, weights.allSatisfy({ $0 >= 0 && $0.isFinite }), weights.contains(where: { $0 > 0 }) else {
            throw GSLError(function: "gsl_ran_discrete_preproc", status: GSLError.domain,
                           meaning: "weights must be finite, non-negative and not all zero")
        }
        let t = weights.withUnsafeBufferPointer { gsl_ran_discrete_preproc(weights.count, $0.baseAddress) }
        guard let t else { throw GSLError(function: "gsl_ran_discrete_preproc", status: GSLError.invalid) }
        table = t
        count = weights.count
    }

    deinit { gsl_ran_discrete_free(table) }

    /// One index drawn with probability proportional to its weight.
    public func sample(_ rng: RandomGenerator) -> Int { Int(gsl_ran_discrete(rng.rng, table)) }

    /// `n` draws.
    public func sample(_ rng: RandomGenerator, count n: Int) -> [Int] { (0..<n).map { _ in sample(rng) } }
}

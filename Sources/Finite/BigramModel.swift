import GSL

/// A toy language model: a bigram Markov chain over five words writing sentences of exactly
/// L words, small enough to enumerate all 5^L sentences.
///
/// π0(x) = s(x₁) Π_{i>1} T(x_{i-1}, x_i), with a start distribution s and transition rows T.
/// Every row gives the curse word a probability between 0.05 and 0.2, so that at least
/// 0.8^L of the sentences are acceptable.
public struct BigramModel {
    public let words = ["the", "cat", "sat", "good", "darn"]
    public static let curse = 4
    public static let good = 3
    public let length: Int
    /// Start distribution s (index 5 of `rows`) and transitions T (rows 0-4).
    public let rows: [[Double]]
    let samplers: [DiscreteSampler]
    public let n: Int
    public let prior: Distribution
    /// b(x) = 1 when the sentence has no curse word.
    public let acceptable: [Bool]
    /// r(x) = fraction of the words that are "good".
    public let reward: [Double]

    /// A random chain: each row's curse probability uniform in [0.05, 0.2], the other four
    /// words' shares uniform on the simplex.
    public init(length: Int, rng: RandomGenerator) throws(GSLError) {
        var rows: [[Double]] = []
        for _ in 0...5 {
            let kappa = 0.05 + 0.15 * rng.uniform()
            let w = (0..<4).map { _ in -logOf(rng.uniformPositive()) }
            let s = w.reduce(0, +)
            rows.append(w.map { (1 - kappa) * $0 / s } + [kappa])
        }
        try self.init(length: length, rows: rows)
    }

    public init(length: Int, rows: [[Double]]) throws(GSLError) {
        self.length = length
        self.rows = rows
        var samplers: [DiscreteSampler] = []
        for row in rows { samplers.append(try DiscreteSampler(weights: row)) }
        self.samplers = samplers
        var n = 1
        for _ in 0..<length { n *= 5 }
        self.n = n
        var logp = [Double](repeating: 0, count: n), ok = [Bool](repeating: true, count: n), r = [Double](repeating: 0, count: n)
        let logRows = rows.map { $0.map { logOf($0) } }
        for x in 0..<n {
            let t = BigramModel.tokens(x, length: length)
            var lp = logRows[5][t[0]]
            for i in 1..<length { lp += logRows[t[i - 1]][t[i]] }
            logp[x] = lp
            ok[x] = !t.contains(BigramModel.curse)
            r[x] = Double(t.filter { $0 == BigramModel.good }.count) / Double(length)
        }
        prior = Distribution(logWeights: logp)
        acceptable = ok
        reward = r
    }

    /// The same chain writing shorter sentences.
    public func shortened(to m: Int) -> BigramModel { try! BigramModel(length: m, rows: rows) }

    /// The words of sentence x: its base-5 digits, most significant first.
    public static func tokens(_ x: Int, length: Int) -> [Int] {
        var t = [Int](repeating: 0, count: length), y = x
        for i in stride(from: length - 1, through: 0, by: -1) { t[i] = y % 5; y /= 5 }
        return t
    }

    public func sentence(_ x: Int) -> String { BigramModel.tokens(x, length: length).map { words[$0] }.joined(separator: " ") }

    /// One sentence generated word by word (ancestral sampling), as its index.
    public func generate(_ rng: RandomGenerator) -> Int {
        var previous = 5, x = 0
        for _ in 0..<length {
            let t = samplers[previous].sample(rng)
            x = x * 5 + t
            previous = t
        }
        return x
    }

    /// Σ_x π0(x) Π_i g(x_i) by the forward recursion α_i(t) = g(t) Σ_s α_{i−1}(s) T(s, t):
    /// L small matrix-vector products instead of a sum over 5^L sentences.
    public func forwardPartition(tokenWeight g: (Int) -> Double) -> Double {
        var alpha = (0..<5).map { rows[5][$0] * g($0) }
        for _ in 0..<(length - 1) {
            alpha = (0..<5).map { t in g(t) * (0..<5).reduce(0) { $0 + alpha[$1] * rows[$1][t] } }
        }
        return alpha.reduce(0, +)
    }
}

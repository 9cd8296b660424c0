import Foundation
import GSL

/// A mean with its standard error and a two-sided interval.
public struct Estimate: Sendable, Codable, CustomStringConvertible {
    public let value: Double
    public let standardError: Double
    public let low: Double
    public let high: Double

    /// The sample mean with a normal interval at `z` standard errors (z = 1.96: 95%).
    public static func mean(_ xs: [Double], z: Double = 1.959963984540054) -> Estimate {
        let n = Double(xs.count)
        let m = xs.reduce(0, +) / n
        let v = xs.count > 1 ? xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1) : 0
        let se = (v / n).squareRoot()
        return Estimate(value: m, standardError: se, low: m - z * se, high: m + z * se)
    }

    public init(value: Double, standardError: Double, low: Double, high: Double) {
        self.value = value; self.standardError = standardError; self.low = low; self.high = high
    }

    public var description: String { "\(value) [\(low), \(high)]" }
}

public enum Statistics {
    /// log((1/n) Σ exp(a_i)), stably.
    /// kl(p ‖ w) = p log(p/w) + (1 − p) log((1 − p)/(1 − w)), the KL between two Bernoulli
    /// distributions (0 log 0 = 0; infinite when p puts mass where w has none).
    public static func binaryKL(_ p: Double, _ w: Double) -> Double {
        func term(_ a: Double, _ b: Double) -> Double { a == 0 ? 0 : b == 0 ? .infinity : a * log(a / b) }
        return term(p, w) + term(1 - p, 1 - w)
    }

    public static func logMeanExp(_ a: [Double]) -> Double {
        let m = a.max() ?? -.infinity
        guard m.isFinite else { return m }
        return m + log(a.reduce(0) { $0 + exp($1 - m) } / Double(a.count))
    }

    /// The ratio of means Σ y_i / Σ x_i with its standard error by the delta method:
    /// se² = Σ (y_i − R x_i)² / (n (n − 1) x̄²), and a normal 95% interval.
    public static func ratio(_ y: [Double], _ x: [Double], z: Double = 1.959963984540054) -> Estimate {
        precondition(y.count == x.count && y.count > 1, "ratio: two samples of the same size, at least 2")
        let n = Double(y.count)
        let r = y.reduce(0, +) / x.reduce(0, +)
        let xBar = x.reduce(0, +) / n
        let ss = zip(y, x).reduce(0) { $0 + ($1.0 - r * $1.1) * ($1.0 - r * $1.1) }
        let se = (ss / (n * (n - 1))).squareRoot() / xBar
        return Estimate(value: r, standardError: se, low: r - z * se, high: r + z * se)
    }

    /// A percentile bootstrap interval of `statistic` over `resamples` resamples of `xs`.
    public static func bootstrap(_ xs: [Double], resamples: Int = 1000, level: Double = 0.95, rng: RandomGenerator,
                                 statistic: ([Double]) -> Double) -> Estimate {
        let value = statistic(xs)
        var stats: [Double] = []
        stats.reserveCapacity(resamples)
        var buffer = [Double](repeating: 0, count: xs.count)
        for _ in 0..<resamples {
            for i in 0..<xs.count { buffer[i] = xs[rng.uniformInt(below: xs.count)] }
            stats.append(statistic(buffer))
        }
        stats.sort()
        let lo = stats[max(0, Int(Double(resamples) * (1 - level) / 2))]
        let hi = stats[min(resamples - 1, Int(Double(resamples) * (1 + level) / 2))]
        let m = stats.reduce(0, +) / Double(resamples)
        let sd = (stats.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(resamples - 1, 1))).squareRoot()
        return Estimate(value: value, standardError: sd, low: lo, high: hi)
    }

    /// Distinct n-grams over all texts divided by all n-grams (characters): 1 for no repeats.
    public static func distinctNGrams(_ texts: [String], n: Int) -> Double {
        var seen = Set<String>()
        var total = 0
        for t in texts {
            let c = Array(t)
            guard c.count >= n else { continue }
            for i in 0...(c.count - n) { seen.insert(String(c[i..<(i + n)])); total += 1 }
        }
        return total == 0 ? 0 : Double(seen.count) / Double(total)
    }

    /// Mean over texts of the fraction of a text's character n-grams that already occurred
    /// earlier in the same text: 0 for no repetition, near 1 for "love love love ...".
    public static func repetitionRate(_ texts: [String], n: Int = 4) -> Double {
        var rates: [Double] = []
        for t in texts {
            let c = Array(t)
            guard c.count > n else { rates.append(0); continue }
            var seen = Set<String>()
            var repeats = 0
            for i in 0...(c.count - n) {
                let g = String(c[i..<(i + n)])
                if !seen.insert(g).inserted { repeats += 1 }
            }
            rates.append(Double(repeats) / Double(c.count - n + 1))
        }
        return rates.isEmpty ? 0 : rates.reduce(0, +) / Double(rates.count)
    }
}

/// Arithmetic in log space: the exact chapters keep probabilities as logarithms so that
/// rewards of -1e6 or temperatures of 1e-3 neither underflow nor overflow.
public enum LogSpace {
    /// log Σ_i exp(a_i), computed as m + log Σ_i exp(a_i - m) with m = max_i a_i.
    ///
    /// Returns -∞ for an empty array or when every a_i is -∞, +∞ when some a_i is +∞, and NaN
    /// when some a_i is NaN. Each term exp(a_i - m) lies in [0, 1], so nothing overflows; the
    /// relative error of the sum is at most n ε (plain recursive summation of n terms).
    public static func logSumExp(_ a: [Double]) -> Double {
        a.withUnsafeBufferPointer { logSumExp($0) }
    }

    /// `logSumExp` on a buffer.
    public static func logSumExp(_ a: UnsafeBufferPointer<Double>) -> Double {
        var m = -Double.infinity
        for v in a {
            if v.isNaN { return .nan }
            if v > m { m = v }
        }
        if m == -.infinity || m == .infinity { return m }
        var s = 0.0
        for v in a { s += expOf(v - m) }
        return m + logOf(s)
    }

    /// x log x with the convention 0 log 0 = 0.
    @inline(__always)
    public static func xLogX(_ x: Double) -> Double { x == 0 ? 0 : x * logOf(x) }

    /// Normalises log-weights: log p_i = a_i - logSumExp(a).
    public static func normalise(_ a: [Double]) -> [Double] {
        let z = logSumExp(a)
        return a.map { $0 - z }
    }
}

/// The probability-weighted sum Σ_i p_i f_i with the convention that terms with p_i = 0
/// contribute 0 even when f_i is infinite (as in E_p[f] over supp p).
@inline(__always)
func weightedSum(_ p: [Double], _ f: [Double]) -> Double {
    precondition(p.count == f.count, "length mismatch")
    var s = 0.0
    for i in 0..<p.count where p[i] > 0 { s += p[i] * f[i] }
    return s
}

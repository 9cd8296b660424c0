import GSL

/// Pearson's chi-square goodness-of-fit test of observed counts against exact probabilities.
///
/// Cells whose expected count is below `minimumExpected` are pooled (in the given order) into
/// groups until each group reaches it, so that the chi-square approximation of the statistic
/// holds; a leftover small group joins the last full one.
public struct GoodnessOfFit: Sendable {
    /// X² = Σ_cells (O − E)² / E over the pooled cells.
    public let statistic: Double
    /// Pooled cells minus one.
    public let degreesOfFreedom: Int
    /// P(χ²_k > X²) by `gsl_cdf_chisq_Q`: the probability, under the null, of a statistic at
    /// least this large. Rejecting when it is below a level α has false-failure probability α
    /// (asymptotically in the number of draws).
    public let pValue: Double
    /// Number of pooled cells.
    public let cells: Int

    /// - Parameters:
    ///   - observed: counts per outcome.
    ///   - probabilities: the exact null distribution (same length; sums to 1).
    public init(observed: [Int], probabilities: [Double], minimumExpected: Double = 20) throws(GSLError) {
        precondition(observed.count == probabilities.count, "counts and probabilities have different lengths")
        let n = Double(observed.reduce(0, +))
        // A draw of an impossible outcome refutes the null outright.
        if observed.indices.contains(where: { observed[$0] > 0 && probabilities[$0] == 0 }) {
            statistic = .infinity; cells = observed.count; degreesOfFreedom = max(observed.count - 1, 1); pValue = 0
            return
        }
        // Large cells first, so that small ones pool together at the end.
        let order = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }
        var groups: [(o: Double, e: Double)] = []
        var o = 0.0, e = 0.0
        for i in order {
            o += Double(observed[i]); e += n * probabilities[i]
            if e >= minimumExpected { groups.append((o, e)); o = 0; e = 0 }
        }
        if e > 0 || o > 0 {
            if groups.isEmpty { groups.append((o, e)) } else { groups[groups.count - 1].o += o; groups[groups.count - 1].e += e }
        }
        var x2 = 0.0
        for g in groups where g.e > 0 { x2 += (g.o - g.e) * (g.o - g.e) / g.e }
        statistic = x2
        cells = groups.count
        degreesOfFreedom = max(groups.count - 1, 1)
        pValue = try SpecialFunctions.chiSquareQ(x2, degreesOfFreedom: Double(degreesOfFreedom))
    }

    /// Counts of each outcome 0..<n among draws.
    public static func counts(_ draws: [Int], outcomes n: Int) -> [Int] {
        var c = [Int](repeating: 0, count: n)
        for x in draws { c[x] += 1 }
        return c
    }
}

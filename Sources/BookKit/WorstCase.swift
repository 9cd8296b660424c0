import Notebook

/// The worst of many comparisons of one kind, reported as one check.
///
/// Each comparison is a pair (a, b) with its own tolerance. The one kept is the nearest to
/// failing: the largest excess over its tolerance, measured as excess / tolerance, where the
/// excess is |a − b| for `.equal`, a − b for `.lessOrEqual`, b − a for `.greaterOrEqual` and
/// tolerance − (a − b) for `.exceeds`. A NaN anywhere, or a negative tolerance, is worst of all.
/// The check then shows that comparison's own a, b and tolerance, so it fails exactly when one
/// of the comparisons fails, and its row says which one (`where`).
///
///     var w = WorstCase(.equal)
///     for x in outcomes { w.add(closedForm[x], enumerated[x], tolerance: tol[x], at: "x = \(x)") }
///     page.check(w.check(id: "…", claim: "…", aLabel: "closed form", bLabel: "enumeration", because: "…"))
public struct WorstCase: Sendable {
    public let relation: Check.Relation
    /// How many comparisons were added.
    public private(set) var count = 0
    /// The comparison nearest to failing so far.
    public private(set) var a = Double.nan
    public private(set) var b = Double.nan
    public private(set) var tolerance = 0.0
    /// Where it was (a label given to `add`), if any.
    public private(set) var location: String?
    /// excess / tolerance of the kept comparison: ≤ 1 holds for `.equal` (≤ 0 for `.exceeds`
    /// means within its margin); +∞ for a NaN or for any excess over a zero tolerance.
    public private(set) var score = -Double.infinity

    public init(_ relation: Check.Relation = .equal) { self.relation = relation }

    /// Adds one comparison of `a` with `b` within `tolerance` (the margin, for `.exceeds`).
    public mutating func add(_ a: Double, _ b: Double, tolerance: Double, at location: String? = nil) {
        count += 1
        let s = WorstCase.score(a, b, tolerance: tolerance, relation: relation)
        if s > score || count == 1 {
            score = s; self.a = a; self.b = b; self.tolerance = tolerance; self.location = location
        }
    }

    /// Adds a difference to be compared with 0: `add(difference, 0, tolerance:)`.
    public mutating func add(difference: Double, tolerance: Double, at location: String? = nil) {
        add(difference, 0, tolerance: tolerance, at: location)
    }

    /// Whether every comparison added holds (false when none was added).
    public var holds: Bool { count > 0 && check(id: "", claim: "", aLabel: "", bLabel: "", because: "").passed }

    /// The check of the worst comparison. With no comparison added it fails (a = NaN): a sweep
    /// over nothing proves nothing.
    public func check(id: String, claim: String, reference: String? = nil, aLabel: String, bLabel: String,
                      because reason: String) -> Check {
        let whereText = location.map { " (worst of \(count), at \($0))" } ?? (count > 1 ? " (worst of \(count))" : "")
        return Check(id: id, claim: claim, reference: reference, aLabel: aLabel + whereText, bLabel: bLabel,
                     a: count > 0 ? a : .nan, b: b, relation: relation, tolerance: tolerance, because: reason)
    }

    static func score(_ a: Double, _ b: Double, tolerance t: Double, relation: Check.Relation) -> Double {
        Check.score(a, b, tolerance: t, relation: relation)
    }
}

/// A check: two independent computations of one quantity compared within a stated tolerance.
public struct Check: Codable, Sendable {
    /// How `a` and `b` must relate.
    public enum Relation: String, Codable, Sendable {
        /// |a - b| <= tolerance.
        case equal = "="
        /// a <= b + tolerance.
        case lessOrEqual = "<="
        /// a >= b - tolerance.
        case greaterOrEqual = ">="
        /// a - b >= tolerance: a must exceed b by at least the margin `tolerance` (>= 0).
        case exceeds = ">+"
    }

    /// A stable identifier, unique within its chapter ("collapse.entropy-natural"): the name of
    /// the check in the JSON and in the counterexample tests. Stays the same when the claim is
    /// re-worded.
    public let id: String

    /// The claim in words, e.g. "J_KLRL(pi*) equals beta log Z".
    public let claim: String
    /// The paper's equation or section the claim restates, if any ("eq. 5", "§2").
    public let reference: String?
    /// What `a` and `b` are, in a few words each.
    public let aLabel: String
    public let bLabel: String
    public let a: Double
    public let b: Double
    public let relation: Relation
    /// The tolerance, absolute, in the units of a and b (the margin for `.exceeds`); never
    /// negative: a check with a negative or NaN tolerance fails.
    public let tolerance: Double
    /// Why this tolerance (rounding of n terms, optimiser tolerance, a confidence level...).
    public let toleranceReason: String
    /// |a - b| for equalities; a - b for inequalities and `.exceeds` (how far a is above b).
    public let difference: Double
    public let passed: Bool
    /// The sweep this check is one case of (`Page.sweep`): the same identity over many
    /// policies, rewards or parameters, shown as one summary row with its cases folded under
    /// it. Nil for a check that stands alone.
    public internal(set) var sweep: String?

    public init(id: String = "", claim: String, reference: String? = nil, aLabel: String, bLabel: String,
                a: Double, b: Double, relation: Relation = .equal, tolerance: Double, because toleranceReason: String) {
        self.id = id
        self.claim = claim; self.reference = reference; self.aLabel = aLabel; self.bLabel = bLabel
        self.a = a; self.b = b; self.relation = relation; self.tolerance = tolerance
        self.toleranceReason = toleranceReason
        let comparable = !a.isNaN && !b.isNaN && tolerance >= 0   // false for a NaN tolerance too
        switch relation {
        case .equal:
            difference = (a == b) ? 0 : Swift.abs(a - b)   // ∞ = ∞ counts as equal
            passed = comparable && difference <= tolerance
        case .lessOrEqual:
            difference = a - b
            passed = comparable && (a <= b + tolerance)
        case .greaterOrEqual:
            difference = a - b
            passed = comparable && (a >= b - tolerance)
        case .exceeds:
            difference = a - b
            passed = comparable && difference >= tolerance
        }
    }

    /// "A exceeds B by at least `margin`": a - b >= margin, with margin >= 0 (for example a
    /// number of standard errors, so that the effect claimed is larger than its noise).
    public static func exceeds(id: String, claim: String, reference: String? = nil, aLabel: String, bLabel: String,
                               a: Double, b: Double, margin: Double, because reason: String) -> Check {
        Check(id: id, claim: claim, reference: reference, aLabel: aLabel, bLabel: bLabel, a: a, b: b,
              relation: .exceeds, tolerance: margin, because: reason)
    }

    /// Relative comparison with an absolute floor: |a - b| <= rel max(|a|, |b|) + abs.
    public static func close(id: String = "", _ claim: String, reference: String? = nil, aLabel: String, bLabel: String,
                             a: Double, b: Double, relative: Double, absolute: Double = 0, because reason: String) -> Check {
        let scale = max(Swift.abs(a), Swift.abs(b))
        let tol = relative * (scale.isFinite ? scale : 0) + absolute
        return Check(id: id, claim: claim, reference: reference, aLabel: aLabel, bLabel: bLabel, a: a, b: b,
                     relation: .equal, tolerance: tol, because: reason)
    }

    /// How near the check is to failing: excess / tolerance, where the excess is |a − b| for
    /// `.equal`, a − b for `.lessOrEqual`, b − a for `.greaterOrEqual` and margin − (a − b) for
    /// `.exceeds`. A check holds when its score is at most 1 (`.equal`, with a positive finite
    /// tolerance) or at most 0 (the inequalities); +∞ for a NaN, a negative tolerance, or any
    /// excess over a zero tolerance.
    public var score: Double { Check.score(a, b, tolerance: tolerance, relation: relation) }

    public static func score(_ a: Double, _ b: Double, tolerance t: Double, relation: Relation) -> Double {
        if a.isNaN || b.isNaN || t.isNaN || t < 0 { return .infinity }
        let excess: Double
        switch relation {
        case .equal: excess = a == b ? 0 : Swift.abs(a - b)
        case .lessOrEqual: excess = a - b
        case .greaterOrEqual: excess = b - a
        case .exceeds: excess = t - (a - b)
        }
        if excess.isNaN { return .infinity }
        if t > 0 && t.isFinite { return excess / t }
        if t == .infinity { return excess == .infinity ? .infinity : -1 }
        return excess > 0 ? .infinity : (excess == 0 ? 0 : -1)
    }

    /// The verdict as a sentence a reader understands, in plain text (for the terminal).
    public var sentence: String {
        let verdict = passed ? "holds" : "FAILS"
        let claim = PlainMath.text(self.claim), aLabel = PlainMath.text(self.aLabel), bLabel = PlainMath.text(self.bLabel)
        switch relation {
        case .equal:
            return "\(claim): \(verdict) (\(aLabel) and \(bLabel) differ by \(NumberFormat.format(difference, significant: 3)), allowed \(NumberFormat.format(tolerance, significant: 3)))"
        case .lessOrEqual, .greaterOrEqual:
            return "\(claim): \(verdict) (\(aLabel) − \(bLabel) = \(NumberFormat.format(difference, significant: 3)), slack \(NumberFormat.format(tolerance, significant: 3)))"
        case .exceeds:
            return "\(claim): \(verdict) (\(aLabel) − \(bLabel) = \(NumberFormat.format(difference, significant: 3)), must be at least \(NumberFormat.format(tolerance, significant: 3)))"
        }
    }
}

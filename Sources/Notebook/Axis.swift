/// Axis ranges and tick marks chosen the way a person would: round numbers (1, 2 or 5 times a
/// power of ten), labels printed from the tick's own decimal digits (never 0.30000000000000004).
public struct Axis: Sendable {
    public enum Scale: Sendable { case linear, log10 }

    public let label: String
    public let scale: Scale
    public let lower: Double
    public let upper: Double
    public let ticks: [Double]

    /// Plain ticks (the range's two ends, labelled to 3 significant digits) instead of round
    /// ones: for a range the round-number arithmetic cannot carry (spans below 10⁻²⁹⁰ or above
    /// 10³⁰⁰, subnormal values, magnitudes near the largest Double).
    let plain: Bool

    /// An axis covering `values` (non-finite values ignored; on a log axis, non-positive ones
    /// too). Any finite values give finite bounds and ticks, from subnormal numbers to the
    /// largest Double.
    public init(label: String, scale: Scale = .linear, covering values: [Double], includeZero: Bool = false, tickCount: Int = 5) {
        self.label = label
        self.scale = scale
        let tickCount = max(1, tickCount)
        var v = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        if includeZero && scale == .linear { v.append(0) }
        var lo = v.min() ?? 0, hi = v.max() ?? 1
        switch scale {
        case .linear:
            if lo == hi { let pad = lo == 0 ? 1 : Swift.abs(lo) * 0.1; lo -= pad; hi += pad }
            let span = hi - lo
            if span.isFinite && span >= 1e-290 && Swift.max(Swift.abs(lo), Swift.abs(hi)) <= 1e300 {
                let step = Axis.niceStep((hi - lo) / Double(tickCount))
                // Values within a hair of a tick (rounding noise such as -1e-17) snap onto it.
                lo = (lo / step + 1e-9).rounded(.down) * step
                hi = (hi / step - 1e-9).rounded(.up) * step
                let n = Int(((hi - lo) / step).rounded())
                ticks = (0...n).map { Axis.clean(lo + Double($0) * step, step: step) }
                plain = false
            } else {
                // Padding can overflow (to ±∞) or underflow (leaving lo == hi): step to the
                // neighbouring Doubles instead.
                if !lo.isFinite || lo == hi { lo = (v.min() ?? 0).nextDown }
                if !hi.isFinite || lo == hi { hi = (v.max() ?? 1).nextUp }
                if !lo.isFinite { lo = -.greatestFiniteMagnitude }
                if !hi.isFinite { hi = .greatestFiniteMagnitude }
                ticks = [lo, hi]
                plain = true
            }
        case .log10:
            if v.isEmpty { lo = 1; hi = 10 }
            var elo = _log10(lo).rounded(.down), ehi = _log10(hi).rounded(.up)
            if elo == ehi { elo -= 1; ehi += 1 }
            // 10^e is a normal or subnormal Double for e in -323...308 only (10^-324 is 0).
            let clamped = elo < -323 || ehi > 308
            if clamped {
                elo = Swift.max(elo, -323); ehi = Swift.min(ehi, 308)
                if elo >= ehi { if ehi == 308 { elo = 307 } else { ehi = elo + 1 } }
            }
            let first = lo, last = hi
            lo = _pow(10, elo); hi = _pow(10, ehi)
            if clamped { lo = Swift.min(lo, first); hi = Swift.max(hi, last) }
            let decades = Int(ehi - elo)
            let every = max(1, Int((Double(decades) / Double(tickCount)).rounded(.up)))
            ticks = stride(from: Int(elo), through: Int(ehi), by: every).map { _pow(10, Double($0)) }
            plain = false
        }
        self.lower = lo
        self.upper = hi
    }

    /// 1, 2 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let e = _log10(raw).rounded(.down)
        let base = _pow(10, e)
        for m in [1.0, 2.0, 5.0, 10.0] where m * base >= raw * (1 - 1e-12) { return m * base }
        return 10 * base
    }

    /// Rounds a tick to the decimals of its step so that 0.1 + 0.2 prints as 0.3.
    static func clean(_ x: Double, step: Double) -> Double {
        let decimals = max(0, -Int(_log10(step).rounded(.down)))
        let scale = _pow(10, Double(decimals))
        let r = (x * scale).rounded() / scale
        return r == 0 ? 0 : r   // no "-0"
    }

    /// Maps a data value to [0, 1] along the axis.
    func fraction(_ x: Double) -> Double {
        switch scale {
        case .linear:
            let span = upper - lower
            // Halves where the span overflows (an axis from -1e308 to 1e308).
            return span.isFinite ? (x - lower) / span : (x / 2 - lower / 2) / (upper / 2 - lower / 2)
        case .log10: return (_log10(x) - _log10(lower)) / (_log10(upper) - _log10(lower))
        }
    }

    /// The label of a tick.
    func tickLabel(_ t: Double) -> String {
        switch scale {
        case .log10:
            guard t > 0, t.isFinite else { return NumberFormat.format(t, significant: 3) }
            let e = Int(_log10(t).rounded())
            return e == 0 ? "1" : e == 1 ? "10" : "10" + NumberFormat.superscript(e)
        case .linear:
            if t == 0 { return "0" }
            if plain { return NumberFormat.format(t, significant: 3) }
            let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
            let decimals = max(0, -Int(_log10(step * (1 + 1e-9)).rounded(.down)))
            if Swift.abs(t) >= 1e5 || (Swift.abs(t) < 1e-3 && t != 0) { return NumberFormat.format(t, significant: 3) }
            return NumberFormat.fixed(t, decimals: decimals).replacingMinus()
        }
    }
}

extension Axis {
    /// The same axis with about `count` ticks (the narrow drawing of a plot has fewer).
    func retick(_ count: Int) -> Axis {
        Axis(label: label, scale: scale, covering: [lower, upper], tickCount: count)
    }
}

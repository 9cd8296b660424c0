/// Arithmetic helpers for the fast exact kernels: a vectorised exp on eight Doubles and
/// compensated (Neumaier) summation, scalar and in eight lanes.

/// A Neumaier-compensated running sum: the rounding error of each addition is kept in `c`, so
/// the result is within a few ulp of the exact sum of the added values (as long as the running
/// compensation itself does not overflow), regardless of their number or order.
struct Compensated {
    var s = 0.0, c = 0.0
    @inline(__always) mutating func add(_ v: Double) {
        let t = s + v
        if abs(s) >= abs(v) { c += (s - t) + v } else { c += (v - t) + s }
        s = t
    }
    var value: Double { s + c }
}

/// Eight independent Neumaier sums, one per SIMD lane.
struct CompensatedLanes {
    var s = SIMD8<Double>(repeating: 0), c = SIMD8<Double>(repeating: 0)
    @inline(__always) mutating func add(_ v: SIMD8<Double>) {
        let t = s + v
        let bigS = (s - t) + v, bigV = (v - t) + s
        c += bigS.replacing(with: bigV, where: abs(s) .< abs(v))
        s = t
    }
    /// The eight lanes folded into one compensated sum.
    func total() -> Compensated {
        var out = Compensated()
        for i in 0..<8 { out.add(s[i]) }
        for i in 0..<8 { out.add(c[i]) }
        return out
    }
}

@inline(__always) func abs(_ v: SIMD8<Double>) -> SIMD8<Double> {
    SIMD8<Double>(bitPattern: v.bitPattern & SIMD8<UInt64>(repeating: 0x7FFF_FFFF_FFFF_FFFF))
}

extension SIMD8 where Scalar == Double {
    @inline(__always) init(bitPattern b: SIMD8<UInt64>) { self = unsafeBitCast(b, to: SIMD8<Double>.self) }
    @inline(__always) var bitPattern: SIMD8<UInt64> { unsafeBitCast(self, to: SIMD8<UInt64>.self) }
}

/// e^x on eight Doubles for x ≤ 0 (the shifted log-weights of a log-sum-exp).
enum VectorExp {
    /// x = n ln 2 + f with n = round(x / ln 2) and |f| ≤ ln 2 / 2 (Cody-Waite: ln 2 split in a
    /// high part with 32 trailing zero bits and a low part, so n ln2_hi is exact); e^f by its
    /// Taylor polynomial of degree 13 (truncation ≤ (ln 2/2)^14/14! ≈ 4e-18, below half an ulp),
    /// evaluated by Horner; 2^n written into the exponent bits. n is rounded with the 1.5·2^52
    /// trick. Arguments below −708 (where e^x is subnormal or 0) give exactly 0; the kernels
    /// only need x ≤ 0, and NaN propagates.
    @inline(__always)
    static func exp(_ x: SIMD8<Double>) -> SIMD8<Double> {
        let tiny = x .< -708
        let xc = x.replacing(with: -708, where: tiny)
        let magic = 6_755_399_441_055_744.0   // 1.5 · 2^52
        let shifted = xc * 1.442_695_040_888_963_4 + magic
        let n = shifted - magic
        let f = (xc - n * 0.693_147_180_369_123_816_49) - n * 1.908_214_929_270_587_700_02e-10
        var p = SIMD8<Double>(repeating: 1.0 / 6_227_020_800)   // 1/13!
        p = p * f + 1.0 / 479_001_600
        p = p * f + 1.0 / 39_916_800
        p = p * f + 1.0 / 3_628_800
        p = p * f + 1.0 / 362_880
        p = p * f + 1.0 / 40_320
        p = p * f + 1.0 / 5_040
        p = p * f + 1.0 / 720
        p = p * f + 1.0 / 120
        p = p * f + 1.0 / 24
        p = p * f + 1.0 / 6
        p = p * f + 0.5
        p = p * f + 1
        p = p * f + 1
        let nInt = shifted.bitPattern &- SIMD8<Double>(repeating: magic).bitPattern   // n, as an integer
        let scale = SIMD8<Double>(bitPattern: (nInt &+ 1023) &<< 52)
        return (p * scale).replacing(with: 0, where: tiny)
    }
}

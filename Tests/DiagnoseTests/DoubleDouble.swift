import Foundation

/// A number carried as an unevaluated sum hi + lo of two Doubles (about 32 significant
/// digits), with error-free transformations (Knuth's TwoSum, FMA-based TwoProduct). The tests'
/// independent high-precision reference: sums of 10^4 terms in it are exact to ~1e-30
/// relative, far below the 1e-13 tolerances the tool is held to.
struct DoubleDouble: CustomStringConvertible {
    var hi: Double
    var lo: Double

    init(_ x: Double) { hi = x; lo = 0 }
    init(hi: Double, lo: Double) { self.hi = hi; self.lo = lo }

    static func twoSum(_ a: Double, _ b: Double) -> DoubleDouble {
        let s = a + b
        let bb = s - a
        let err = (a - (s - bb)) + (b - bb)
        return DoubleDouble(hi: s, lo: err)
    }

    static func twoProduct(_ a: Double, _ b: Double) -> DoubleDouble {
        let p = a * b
        return DoubleDouble(hi: p, lo: (-p).addingProduct(a, b))   // fma(a, b, -p) = a·b − p exactly
    }

    static func + (x: DoubleDouble, y: DoubleDouble) -> DoubleDouble {
        var s = twoSum(x.hi, y.hi)
        s.lo += x.lo + y.lo
        return twoSum(s.hi, s.lo)
    }

    static func + (x: DoubleDouble, y: Double) -> DoubleDouble { x + DoubleDouble(y) }
    static prefix func - (x: DoubleDouble) -> DoubleDouble { DoubleDouble(hi: -x.hi, lo: -x.lo) }
    static func - (x: DoubleDouble, y: DoubleDouble) -> DoubleDouble { x + (-y) }

    static func * (x: DoubleDouble, y: DoubleDouble) -> DoubleDouble {
        var p = twoProduct(x.hi, y.hi)
        p.lo += x.hi * y.lo + x.lo * y.hi
        return twoSum(p.hi, p.lo)
    }

    static func * (x: DoubleDouble, y: Double) -> DoubleDouble { x * DoubleDouble(y) }

    static func / (x: DoubleDouble, y: DoubleDouble) -> DoubleDouble {
        let q1 = x.hi / y.hi
        let r = x - y * DoubleDouble(q1)
        let q2 = r.hi / y.hi
        let r2 = r - y * DoubleDouble(q2)
        let q3 = r2.hi / y.hi
        return twoSum(q1, q2) + DoubleDouble(q3)
    }

    var value: Double { hi + lo }
    var description: String { "\(hi) + \(lo)" }

    /// log of a positive double-double: the double log of hi, then one Newton step on
    /// exp(y) = x using a double-double exp of the small correction: y + (x·e^{-y} − 1).
    var log: DoubleDouble {
        let y = Foundation.log(hi)
        // x e^{-y} - 1 where e^{-y} ≈ 1/hi to within an ulp: r = (x - e^y)/e^y, |r| ~ 1e-16.
        let ey = DoubleDouble.exp(DoubleDouble(y))
        let r = (self - ey) / ey
        return DoubleDouble(y) + r.hi
    }

    /// exp of a double-double: exp(hi) in double times a Taylor series for the remaining
    /// reduction, computed as e^a = 2^k e^t with |t| ≤ ln2/2 and t split for a 20-term series.
    static func exp(_ a: DoubleDouble) -> DoubleDouble {
        let ln2 = DoubleDouble(hi: 0.6931471805599453, lo: 2.3190468138462996e-17)
        let k = (a.hi / ln2.hi).rounded()
        let t = a - ln2 * k
        // Taylor series of e^t in double-double (|t| ≤ 0.35: 27 terms reach 1e-33).
        var sum = DoubleDouble(1), term = DoubleDouble(1)
        for n in 1...27 {
            term = term * t / DoubleDouble(Double(n))
            sum = sum + term
        }
        let scale = Foundation.pow(2.0, k)
        return DoubleDouble(hi: sum.hi * scale, lo: sum.lo * scale)
    }
}

/// Σ x_i in double-double.
func exactSum<S: Sequence>(_ xs: S) -> DoubleDouble where S.Element == DoubleDouble {
    xs.reduce(DoubleDouble(0)) { $0 + $1 }
}

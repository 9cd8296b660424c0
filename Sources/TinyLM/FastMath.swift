/// Vectorisable exp and erf on eight Floats at a time, for the SIMD kernels.
///
/// libm's expf and erff are scalar calls the compiler cannot vectorise; these are plain
/// arithmetic on SIMD8<Float>. Accuracy (checked in the tests against Double): exp relative
/// error below 3e-7 on [-87, 88]; erf absolute error below 5e-7 (the Abramowitz-Stegun 7.1.26
/// form, whose own bound is 1.5e-7, plus Float rounding of about six operations on values near
/// 1, each up to 6e-8; measured 4e-7).
enum FastMath {
    /// e^x for x <= 88 (x below -87 is taken as -87, e^-87 ~ 1.6e-38): x = n ln2 + f with n an
    /// integer and |f| <= ln2/2 (Cody-Waite split of ln2), e^f by its Taylor polynomial of
    /// degree 7, 2^n by writing n + 127 into the exponent bits. n is rounded with the 1.5 * 2^23
    /// trick (adding it leaves n in the low mantissa bits), which avoids a slow conversion.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let x = x.replacing(with: -87, where: x .< -87)
        let magic: Float = 12_582_912  // 1.5 * 2^23
        let shifted = x * 1.442_695_04 + magic
        let n = shifted - magic
        let f = (x - n * 0.693_359_375) - n * -2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.0 / 5040)
        p = madd(p, f, 1.0 / 720)
        p = madd(p, f, 1.0 / 120)
        p = madd(p, f, 1.0 / 24)
        p = madd(p, f, 1.0 / 6)
        p = madd(p, f, 0.5)
        p = madd(p, f, 1)
        p = madd(p, f, 1)
        let nInt = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(SIMD8<Float>(repeating: magic), to: SIMD8<Int32>.self)
        let bits = (nInt &+ 127) &<< 23
        return p * unsafeBitCast(bits, to: SIMD8<Float>.self)
    }

    /// erf(x) = sign(x) (1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e^{-x^2}), t = 1 / (1 + p|x|)
    /// (Abramowitz and Stegun 7.1.26). `expMinusSquare` must be e^{-x^2}, passed in so that GELU's
    /// backward pass can share it with the normal density.
    @inline(__always)
    static func erf(_ x: SIMD8<Float>, expMinusSquare e: SIMD8<Float>) -> SIMD8<Float> {
        let signBit = unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x8000_0000
        let ax = unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
        let t = 1 / (1 + 0.327_591_1 * ax)
        var poly = SIMD8<Float>(repeating: 1.061_405_429)
        poly = madd(poly, t, -1.453_152_027)
        poly = madd(poly, t, 1.421_413_741)
        poly = madd(poly, t, -0.284_496_736)
        poly = madd(poly, t, 0.254_829_592)
        let y = 1 - poly * t * e
        return unsafeBitCast(unsafeBitCast(y, to: SIMD8<UInt32>.self) | signBit, to: SIMD8<Float>.self)
    }

    /// a * b + c: one fused multiply-add where TinyLM is compiled for FMA (`TINYLM_FMA`, set
    /// by Package.swift), else a multiply and an add (a library call for fma would be slower).
    @inline(__always)
    static func madd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
        #if TINYLM_FMA
        return c.addingProduct(a, b)
        #else
        return a * b + c
        #endif
    }

    /// `madd` with a scalar addend.
    @inline(__always)
    static func madd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: Float) -> SIMD8<Float> {
        madd(a, b, SIMD8<Float>(repeating: c))
    }

    /// `madd` with a scalar factor.
    @inline(__always)
    static func madd(_ a: Float, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
        madd(SIMD8<Float>(repeating: a), b, c)
    }

    /// The horizontal sum of eight lanes.
    @inline(__always)
    static func sum(_ v: SIMD8<Float>) -> Float { v.sum() }

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}

import Foundation

// Kernels in forward/backward pairs, llm.c style: outputs first, backward passes accumulate
// (`+=`) into `d`-prefixed buffers, shapes in the doc comments with one letter a dimension.

/// The namespace of the transformer's kernels.
enum Kernels {
    // MARK: - Encoder

    /// out[b,t,:] = wte[tokens[b,t],:] + wpe[t,:].
    ///
    /// out (B,T,C), tokens (B,T), wte (V,C), wpe (maxT,C).
    static func encoderForward(
        out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
        wte: UnsafePointer<Float>, wpe: UnsafePointer<Float>, B: Int, T: Int, C: Int
    ) {
        for b in 0..<B {
            for t in 0..<T {
                let out_bt = out + (b * T + t) * C
                let wte_ix = wte + Int(tokens[b * T + t]) * C
                let wpe_t = wpe + t * C
                for i in 0..<C { out_bt[i] = wte_ix[i] + wpe_t[i] }
            }
        }
    }

    /// Differentiates `out = wte[ix] + wpe[t]`: both rows receive dout.
    ///
    /// dwte (V,C), dwpe (maxT,C), dout (B,T,C), tokens (B,T).
    static func encoderBackward(
        dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>,
        dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, B: Int, T: Int, C: Int
    ) {
        for b in 0..<B {
            for t in 0..<T {
                let dout_bt = dout + (b * T + t) * C
                let dwte_ix = dwte + Int(tokens[b * T + t]) * C
                let dwpe_t = dwpe + t * C
                for i in 0..<C {
                    dwte_ix[i] += dout_bt[i]
                    dwpe_t[i] += dout_bt[i]
                }
            }
        }
    }

    // MARK: - Residual

    /// out = inp1 + inp2, all of N elements.
    static func residualForward(
        out: UnsafeMutablePointer<Float>, inp1: UnsafePointer<Float>, inp2: UnsafePointer<Float>, N: Int
    ) {
        for i in 0..<N { out[i] = inp1[i] + inp2[i] }
    }

    /// Differentiates `out = inp1 + inp2`: dinp1 += dout, dinp2 += dout.
    static func residualBackward(
        dinp1: UnsafeMutablePointer<Float>, dinp2: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, N: Int
    ) {
        for i in 0..<N {
            dinp1[i] += dout[i]
            dinp2[i] += dout[i]
        }
    }

    // MARK: - GELU (exact, with erf, as PyTorch's nn.GELU())

    /// out = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), N elements.
    static func geluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int) {
        let invSqrt2: Float = 0.70710678118654752
        for i in 0..<N {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + erff(x * invSqrt2))
        }
    }

    /// Differentiates `out = x Phi(x)`: d out / dx = Phi(x) + x phi(x), phi the standard normal density.
    static func geluBackward(
        dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int
    ) {
        let invSqrt2: Float = 0.70710678118654752
        let invSqrt2Pi: Float = 0.39894228040143268
        for i in 0..<N {
            let x = inp[i]
            let cdf = 0.5 * (1 + erff(x * invSqrt2))
            let pdf = invSqrt2Pi * expf(-0.5 * x * x)
            dinp[i] += (cdf + x * pdf) * dout[i]
        }
    }
}

// The faster variant of the kernels above: the same formulas, eight lanes at a time
// (SIMD8<Float>), with several partial sums in the reductions so that they do not wait on one
// accumulator; a scalar loop finishes each row. The passes run this variant.
extension Kernels {
    /// `geluForward` with the vectorised erf (absolute error < 2e-7, see `FastMath`).
    static func geluForwardSIMD(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int) {
        let invSqrt2: Float = 0.70710678118654752
        var i = 0
        while i + 8 <= N {
            let x = FastMath.load(inp + i)
            let z = x * invSqrt2
            let e = FastMath.exp(-z * z)
            FastMath.store(0.5 * x * (1 + FastMath.erf(z, expMinusSquare: e)), out + i)
            i += 8
        }
        if i < N { geluForward(out: out + i, inp: inp + i, N: N - i) }
    }

    /// `geluBackward` with the vectorised erf; Phi(x) and phi(x) share one exp(-x^2 / 2).
    static func geluBackwardSIMD(
        dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int
    ) {
        let invSqrt2: Float = 0.70710678118654752
        let invSqrt2Pi: Float = 0.39894228040143268
        var i = 0
        while i + 8 <= N {
            let x = FastMath.load(inp + i)
            let z = x * invSqrt2
            let e = FastMath.exp(-z * z)
            let cdf = 0.5 * (1 + FastMath.erf(z, expMinusSquare: e))
            let d = FastMath.load(dinp + i) + (cdf + x * invSqrt2Pi * e) * FastMath.load(dout + i)
            FastMath.store(d, dinp + i)
            i += 8
        }
        if i < N { geluBackward(dinp: dinp + i, inp: inp + i, dout: dout + i, N: N - i) }
    }
}

import Foundation
import GSL

/// Incremental decoding: the keys and values of every layer for up to B rows of maxT
/// positions, so that each new position costs one row of work instead of a full forward pass.
final class KVCache {
    let B: Int
    let config: GPTConfig
    /// key, value (B,maxT,C) per layer (heads side by side, as in the fused qkv output).
    let keys: [FloatBuffer], values: [FloatBuffer]
    /// Scratch for one position of every row: x, ln (B,C), qkv (B,3C), y, proj (B,C),
    /// fch, fchGelu (B,4C), att (maxT), logits (B,V), mean and rstd (B).
    let x, ln, qkv, y, proj, fch, fchGelu, att, logits, mean, rstd: FloatBuffer
    let tokens: IntBuffer

    init(config: GPTConfig, B: Int) {
        self.B = B
        self.config = config
        let C = config.nEmbd, maxT = config.blockSize
        keys = (0..<config.nLayer).map { _ in FloatBuffer(count: B * maxT * C) }
        values = (0..<config.nLayer).map { _ in FloatBuffer(count: B * maxT * C) }
        x = FloatBuffer(count: B * C); ln = FloatBuffer(count: B * C); qkv = FloatBuffer(count: B * 3 * C)
        y = FloatBuffer(count: B * C); proj = FloatBuffer(count: B * C)
        fch = FloatBuffer(count: B * 4 * C); fchGelu = FloatBuffer(count: B * 4 * C)
        att = FloatBuffer(count: maxT); logits = FloatBuffer(count: B * config.vocabSize)
        mean = FloatBuffer(count: B); rstd = FloatBuffer(count: B)
        tokens = IntBuffer(count: B)
    }

    /// Feeds `tokens` (B) at position `pos` (the cache holds positions 0..<pos) and leaves the
    /// next-token logits (B,V) in `logits`. Same kernels as the full forward pass with T = 1,
    /// except attention, which reads the cached keys and values of positions 0...pos.
    func step(model: GPT, pos: Int) {
        precondition(pos < config.blockSize, "KVCache.step: position \(pos) beyond the block size")
        let C = config.nEmbd, NH = config.nHead, HS = C / NH, maxT = config.blockSize
        let p = model.params
        // x (B,C) = wte[token] + wpe[pos]: the encoder with T = 1 and the position row shifted
        Kernels.encoderForward(out: x.pointer, tokens: tokens.pointer, wte: p.wte, wpe: p.wpe + pos * C, B: B, T: 1, C: C)
        let scale = 1 / Float(HS).squareRoot()
        for l in 0..<config.nLayer {
            let w = p.blocks[l]
            Kernels.layerNormForward(out: ln.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer,
                                     weight: w.ln1w, bias: w.ln1b, N: B, C: C)
            Kernels.matmulForward(out: qkv.pointer, inp: ln.pointer, weight: w.qkvw, bias: w.qkvb, N: B, C: C, OC: 3 * C)
            let kc = keys[l].pointer, vc = values[l].pointer
            for b in 0..<B {
                let qkv_b = qkv.pointer + b * 3 * C
                (kc + (b * maxT + pos) * C).update(from: qkv_b + C, count: C)
                (vc + (b * maxT + pos) * C).update(from: qkv_b + 2 * C, count: C)
                for h in 0..<NH {
                    let k_bh = kc + b * maxT * C + h * HS  // (pos+1, HS) rows of stride C
                    let v_bh = vc + b * maxT * C + h * HS
                    // att (pos+1) = K q * scale, softmax; y_bh (HS) = V^T att
                    BLAS.sgemv(trans: false, m: pos + 1, n: HS, alpha: scale, a: k_bh, lda: C,
                               x: qkv_b + h * HS, beta: 0, y: att.pointer)
                    Kernels.causalSoftmaxRow(att.pointer, t: pos, T: pos + 1)
                    BLAS.sgemv(trans: true, m: pos + 1, n: HS, alpha: 1, a: v_bh, lda: C,
                               x: att.pointer, beta: 0, y: y.pointer + b * C + h * HS)
                }
            }
            Kernels.matmulForward(out: proj.pointer, inp: y.pointer, weight: w.attprojw, bias: w.attprojb, N: B, C: C, OC: C)
            Kernels.residualForward(out: x.pointer, inp1: x.pointer, inp2: proj.pointer, N: B * C)
            Kernels.layerNormForward(out: ln.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer,
                                     weight: w.ln2w, bias: w.ln2b, N: B, C: C)
            Kernels.matmulForward(out: fch.pointer, inp: ln.pointer, weight: w.fcw, bias: w.fcb, N: B, C: C, OC: 4 * C)
            Kernels.geluForward(out: fchGelu.pointer, inp: fch.pointer, N: B * 4 * C)
            Kernels.matmulForward(out: proj.pointer, inp: fchGelu.pointer, weight: w.fcprojw, bias: w.fcprojb, N: B, C: 4 * C, OC: C)
            Kernels.residualForward(out: x.pointer, inp1: x.pointer, inp2: proj.pointer, N: B * C)
        }
        Kernels.layerNormForward(out: ln.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: x.pointer,
                                 weight: p.lnfw, bias: p.lnfb, N: B, C: C)
        Kernels.matmulForward(out: logits.pointer, inp: ln.pointer, weight: p.wte, bias: nil, N: B, C: C, OC: config.vocabSize)
    }
}

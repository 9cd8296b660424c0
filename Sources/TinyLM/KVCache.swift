import Foundation
import GSL

/// Incremental decoding: the keys and values of every layer for up to B rows of maxT
/// positions, so that each new position costs one row of work instead of a full forward pass.
final class KVCache {
    /// Rows the buffers hold.
    let capacity: Int
    /// Rows in use (<= capacity): `step` feeds rows 0..<B.
    var B: Int
    let config: GPTConfig
    /// key, value (B,NH,maxT,HS) per layer: each head's history contiguous.
    let keys: [FloatBuffer], values: [FloatBuffer]
    /// Scratch for one position of every row: x, ln (B,C), qkv (B,3C), y, proj (B,C),
    /// fch, fchGelu (B,4C), att (maxT a worker), logits (B,V), mean and rstd (B).
    let x, ln, qkv, y, proj, fch, fchGelu, att, logits, mean, rstd: FloatBuffer
    let tokens: IntBuffer
    /// Each layer's weights transposed (qkv (C,3C), attproj (C,C), fc (C,4C), fcproj (4C,C)) and
    /// wte^T (C,V), for `Kernels.matmulForwardTransposed`; refreshed by `prepare(model:)`.
    let qkvT, attprojT, fcT, fcprojT: [FloatBuffer]
    let wteT: FloatBuffer
    /// Whether `prepare(model:)` has run: `step` reads the weights as they were then.
    private(set) var prepared = false

    init(config: GPTConfig, B: Int) {
        self.B = B
        capacity = B
        self.config = config
        let C = config.nEmbd, maxT = config.blockSize
        keys = (0..<config.nLayer).map { _ in FloatBuffer(count: B * maxT * C) }
        values = (0..<config.nLayer).map { _ in FloatBuffer(count: B * maxT * C) }
        x = FloatBuffer(count: B * C); ln = FloatBuffer(count: B * C); qkv = FloatBuffer(count: B * 3 * C)
        y = FloatBuffer(count: B * C); proj = FloatBuffer(count: B * C)
        fch = FloatBuffer(count: B * 4 * C); fchGelu = FloatBuffer(count: B * 4 * C)
        att = FloatBuffer(count: maxT * Parallel.workers); logits = FloatBuffer(count: B * config.vocabSize)
        mean = FloatBuffer(count: B); rstd = FloatBuffer(count: B)
        tokens = IntBuffer(count: B)
        qkvT = (0..<config.nLayer).map { _ in FloatBuffer(count: 3 * C * C) }
        attprojT = (0..<config.nLayer).map { _ in FloatBuffer(count: C * C) }
        fcT = (0..<config.nLayer).map { _ in FloatBuffer(count: 4 * C * C) }
        fcprojT = (0..<config.nLayer).map { _ in FloatBuffer(count: 4 * C * C) }
        wteT = FloatBuffer(count: C * config.vocabSize)
    }

    /// Copies the model's current weights, transposed, for the steps that follow (a sampling
    /// call runs this once: the weights do not change while it samples).
    func prepare(model: GPT) {
        prepared = true
        let C = config.nEmbd, V = config.vocabSize, L = config.nLayer
        Parallel.forChunks(L + 1) { r in
            for l in r {
                if l == L {
                    Kernels.transposeWeight(wteT.pointer, model.params.wte, C: C, OC: V)
                    continue
                }
                let w = model.params.blocks[l]
                Kernels.transposeWeight(qkvT[l].pointer, w.qkvw, C: C, OC: 3 * C)
                Kernels.transposeWeight(attprojT[l].pointer, w.attprojw, C: C, OC: C)
                Kernels.transposeWeight(fcT[l].pointer, w.fcw, C: C, OC: 4 * C)
                Kernels.transposeWeight(fcprojT[l].pointer, w.fcprojw, C: 4 * C, OC: C)
            }
        }
    }

    /// Feeds `tokens` (B) at position `pos` (the cache holds positions 0..<pos) and leaves the
    /// next-token logits (B,V) in `logits`, with the weights as of the last `prepare(model:)`.
    /// The full forward pass with T = 1, except that the matrix products run on the transposed
    /// weights (`matmulForwardTransposed`) and attention reads the cached keys and values of
    /// positions 0...pos (`attendOneQuery`).
    func step(model: GPT, pos: Int) {
        precondition(pos < config.blockSize, "KVCache.step: position \(pos) beyond the block size")
        precondition(prepared, "KVCache.step needs prepare(model:) first")
        Parallel.withOwnThreads {
            Parallel.forChunksIndexed(B, minimum: 4) { w, rows in step(model: model, pos: pos, rows: rows, worker: w) }
        }
    }

    /// `step` for the rows `rows` only: every buffer is per row, so disjoint row ranges can run
    /// at the same time (worker `w` uses its own slice of the attention scratch).
    func step(model: GPT, pos: Int, rows: Range<Int>, worker: Int) {
        let C = config.nEmbd, NH = config.nHead, HS = C / NH, maxT = config.blockSize, V = config.vocabSize
        let p = model.params
        let r0 = rows.lowerBound, B = rows.count
        let x = self.x.pointer + r0 * C, ln = self.ln.pointer + r0 * C, qkv = self.qkv.pointer + r0 * 3 * C
        let y = self.y.pointer + r0 * C, proj = self.proj.pointer + r0 * C
        let fch = self.fch.pointer + r0 * 4 * C, fchGelu = self.fchGelu.pointer + r0 * 4 * C
        let mean = self.mean.pointer + r0, rstd = self.rstd.pointer + r0
        let att = self.att.pointer + worker * maxT, logits = self.logits.pointer + r0 * V
        // x (B,C) = wte[token] + wpe[pos]: the encoder with T = 1 and the position row shifted
        Kernels.encoderForward(out: x, tokens: tokens.pointer + r0, wte: p.wte, wpe: p.wpe + pos * C, B: B, T: 1, C: C)
        let scale = 1 / Float(HS).squareRoot()
        for l in 0..<config.nLayer {
            let w = p.blocks[l]
            Kernels.layerNormForwardSIMD(out: ln, mean: mean, rstd: rstd, inp: x,
                                     weight: w.ln1w, bias: w.ln1b, N: B, C: C)
            Kernels.matmulForwardTransposed(out: qkv, inp: ln, wt: qkvT[l].pointer, bias: w.qkvb, N: B, C: C, OC: 3 * C)
            let kc = keys[l].pointer + r0 * maxT * C, vc = values[l].pointer + r0 * maxT * C
            for b in 0..<B {
                let qkv_b = qkv + b * 3 * C
                for h in 0..<NH {
                    // each head's keys and values are contiguous: (pos+1, HS) with row stride HS
                    let k_bh = kc + (b * NH + h) * maxT * HS
                    let v_bh = vc + (b * NH + h) * maxT * HS
                    (k_bh + pos * HS).update(from: qkv_b + C + h * HS, count: HS)
                    (v_bh + pos * HS).update(from: qkv_b + 2 * C + h * HS, count: HS)
                    Kernels.attendOneQuery(out: y + b * C + h * HS, scores: att, query: qkv_b + h * HS,
                                           keys: k_bh, values: v_bh, count: pos + 1, HS: HS, scale: scale)
                }
            }
            Kernels.matmulForwardTransposed(out: proj, inp: y, wt: attprojT[l].pointer, bias: w.attprojb, N: B, C: C, OC: C)
            Kernels.residualForward(out: x, inp1: x, inp2: proj, N: B * C)
            Kernels.layerNormForwardSIMD(out: ln, mean: mean, rstd: rstd, inp: x,
                                     weight: w.ln2w, bias: w.ln2b, N: B, C: C)
            Kernels.matmulForwardTransposed(out: fch, inp: ln, wt: fcT[l].pointer, bias: w.fcb, N: B, C: C, OC: 4 * C)
            Kernels.geluForwardSIMD(out: fchGelu, inp: fch, N: B * 4 * C)
            Kernels.matmulForwardTransposed(out: proj, inp: fchGelu, wt: fcprojT[l].pointer, bias: w.fcprojb, N: B, C: 4 * C, OC: C)
            Kernels.residualForward(out: x, inp1: x, inp2: proj, N: B * C)
        }
        Kernels.layerNormForwardSIMD(out: ln, mean: mean, rstd: rstd, inp: x,
                                 weight: p.lnfw, bias: p.lnfb, N: B, C: C)
        Kernels.matmulForwardTransposed(out: logits, inp: ln, wt: wteT.pointer, bias: nil, N: B, C: C, OC: V)
    }
}

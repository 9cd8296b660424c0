/// The activations of one forward pass that the backward pass needs, for up to
/// `capacityB` rows of `maxT` positions (a pass may use fewer: B <= capacityB, T <= maxT).
final class Activations {
    let capacityB: Int
    let maxT: Int
    /// encoded (B,T,C): token plus position embeddings, the residual stream's start.
    let encoded: FloatBuffer
    let layers: [LayerActivations]
    /// lnf (B,T,C), lnfMean (B,T), lnfRstd (B,T).
    let lnf, lnfMean, lnfRstd: FloatBuffer
    /// logits (B,T,V), probs (B,T,V), logprobs (B,T) of the targets.
    let logits, probs, logprobs: FloatBuffer
    /// The inputs and targets (B,T) of the last pass and its shape.
    let inputs, targets: IntBuffer
    var B = 0, T = 0

    init(config: GPTConfig, capacityB: Int) {
        self.capacityB = capacityB
        maxT = config.blockSize
        let BT = capacityB * maxT
        let C = config.nEmbd
        encoded = FloatBuffer(count: BT * C)
        layers = (0..<config.nLayer).map { _ in LayerActivations(BT: BT, C: C, NH: config.nHead, B: capacityB, T: config.blockSize) }
        lnf = FloatBuffer(count: BT * C)
        lnfMean = FloatBuffer(count: BT)
        lnfRstd = FloatBuffer(count: BT)
        logits = FloatBuffer(count: BT * config.vocabSize)
        probs = FloatBuffer(count: BT * config.vocabSize)
        logprobs = FloatBuffer(count: BT)
        inputs = IntBuffer(count: BT)
        targets = IntBuffer(count: BT, repeating: -1)
    }
}

/// One block's saved activations; shapes for N = B*T rows.
final class LayerActivations {
    /// ln1, ln2 (N,C) with their mean and rstd (N); qkv (N,3C); atty (N,C) attention output;
    /// att (B,NH,T,T) probabilities; attproj (N,C); residual2 (N,C) = input + attproj;
    /// fch (N,4C); fchGelu (N,4C); fcproj (N,C); residual3 (N,C) = residual2 + fcproj (the output).
    let ln1, ln1Mean, ln1Rstd, qkv, atty, att, attproj, residual2: FloatBuffer
    let ln2, ln2Mean, ln2Rstd, fch, fchGelu, fcproj, residual3: FloatBuffer

    init(BT: Int, C: Int, NH: Int, B: Int, T: Int) {
        ln1 = FloatBuffer(count: BT * C); ln1Mean = FloatBuffer(count: BT); ln1Rstd = FloatBuffer(count: BT)
        qkv = FloatBuffer(count: BT * 3 * C); atty = FloatBuffer(count: BT * C)
        att = FloatBuffer(count: B * NH * T * T)
        attproj = FloatBuffer(count: BT * C); residual2 = FloatBuffer(count: BT * C)
        ln2 = FloatBuffer(count: BT * C); ln2Mean = FloatBuffer(count: BT); ln2Rstd = FloatBuffer(count: BT)
        fch = FloatBuffer(count: BT * 4 * C); fchGelu = FloatBuffer(count: BT * 4 * C)
        fcproj = FloatBuffer(count: BT * C); residual3 = FloatBuffer(count: BT * C)
    }
}

/// Gradient scratch for the backward pass, one block's worth reused by every block.
final class GradientScratch {
    let dlogits, dlnf, dresidual, dresidualIn: FloatBuffer
    let dres2, dfcproj, dfchGelu, dfch, dln2, dattproj, datty, dqkv, dln1: FloatBuffer

    init(BT: Int, C: Int, V: Int) {
        dlogits = FloatBuffer(count: BT * V); dlnf = FloatBuffer(count: BT * C)
        dresidual = FloatBuffer(count: BT * C); dresidualIn = FloatBuffer(count: BT * C)
        dres2 = FloatBuffer(count: BT * C); dfcproj = FloatBuffer(count: BT * C)
        dfchGelu = FloatBuffer(count: BT * 4 * C); dfch = FloatBuffer(count: BT * 4 * C)
        dln2 = FloatBuffer(count: BT * C); dattproj = FloatBuffer(count: BT * C)
        datty = FloatBuffer(count: BT * C); dqkv = FloatBuffer(count: BT * 3 * C); dln1 = FloatBuffer(count: BT * C)
    }

    /// The slice of `buffer` for `count` positions from position `o`, `width` floats each, zeroed.
    func zeroed(_ buffer: FloatBuffer, from o: Int, count: Int, width: Int) -> UnsafeMutablePointer<Float> {
        let p = buffer.pointer + o * width
        p.update(repeating: 0, count: count * width)
        return p
    }

    /// One block's scratch for `count` positions from position `o`, zeroed.
    func block(from o: Int, count N: Int, C: Int) -> BlockGradients {
        BlockGradients(
            dres2: zeroed(dres2, from: o, count: N, width: C), dfcproj: zeroed(dfcproj, from: o, count: N, width: C),
            dfchGelu: zeroed(dfchGelu, from: o, count: N, width: 4 * C), dfch: zeroed(dfch, from: o, count: N, width: 4 * C),
            dln2: zeroed(dln2, from: o, count: N, width: C), dattproj: zeroed(dattproj, from: o, count: N, width: C),
            datty: zeroed(datty, from: o, count: N, width: C), dqkv: zeroed(dqkv, from: o, count: N, width: 3 * C),
            dln1: zeroed(dln1, from: o, count: N, width: C))
    }
}

// MARK: - A shard's view

/// One block's activations for the rows of one batch shard: every pointer already offset to
/// the shard's first row, so a pass reads like nanoGPT's `Block.forward`, not like arithmetic
/// on offsets. Shapes for the shard's N = B*T positions.
struct BlockActivations {
    let ln1, ln1Mean, ln1Rstd, qkv, atty, att, attproj, residual2: UnsafeMutablePointer<Float>
    let ln2, ln2Mean, ln2Rstd, fch, fchGelu, fcproj, residual3: UnsafeMutablePointer<Float>

    /// The slice of `a` from position offset `o` (= first row × T) and attention offset `attOffset`.
    init(_ a: LayerActivations, position o: Int, attention attOffset: Int, C: Int) {
        ln1 = a.ln1.pointer + o * C; ln1Mean = a.ln1Mean.pointer + o; ln1Rstd = a.ln1Rstd.pointer + o
        qkv = a.qkv.pointer + o * 3 * C; atty = a.atty.pointer + o * C; att = a.att.pointer + attOffset
        attproj = a.attproj.pointer + o * C; residual2 = a.residual2.pointer + o * C
        ln2 = a.ln2.pointer + o * C; ln2Mean = a.ln2Mean.pointer + o; ln2Rstd = a.ln2Rstd.pointer + o
        fch = a.fch.pointer + o * 4 * C; fchGelu = a.fchGelu.pointer + o * 4 * C
        fcproj = a.fcproj.pointer + o * C; residual3 = a.residual3.pointer + o * C
    }
}

/// The activations of one batch shard (rows `rows` of a pass of T positions), pointers offset.
struct ShardActivations {
    /// Rows in the shard, positions a row, and B*T.
    let B, T, N: Int
    let inputs, targets: UnsafeMutablePointer<Int32>
    let encoded: UnsafeMutablePointer<Float>
    let blocks: [BlockActivations]
    let lnf, lnfMean, lnfRstd, logits, probs, logprobs: UnsafeMutablePointer<Float>

    init(_ acts: Activations, rows: Range<Int>, T: Int, config: GPTConfig) {
        let C = config.nEmbd, V = config.vocabSize, o = rows.lowerBound * T
        let attOffset = rows.lowerBound * config.nHead * T * T
        B = rows.count; self.T = T; N = rows.count * T
        inputs = acts.inputs.pointer + o; targets = acts.targets.pointer + o
        encoded = acts.encoded.pointer + o * C
        blocks = acts.layers.map { BlockActivations($0, position: o, attention: attOffset, C: C) }
        lnf = acts.lnf.pointer + o * C; lnfMean = acts.lnfMean.pointer + o; lnfRstd = acts.lnfRstd.pointer + o
        logits = acts.logits.pointer + o * V; probs = acts.probs.pointer + o * V; logprobs = acts.logprobs.pointer + o
    }

    /// The input of block l: the embeddings for the first block, else the previous block's output.
    func blockInput(_ l: Int) -> UnsafeMutablePointer<Float> { l == 0 ? encoded : blocks[l - 1].residual3 }
    /// The residual stream after the last block.
    var lastResidual: UnsafeMutablePointer<Float> { blockInput(blocks.count) }
}

/// One block's gradient scratch for one shard, zeroed when taken (`GradientScratch.block`).
struct BlockGradients {
    let dres2, dfcproj, dfchGelu, dfch, dln2, dattproj, datty, dqkv, dln1: UnsafeMutablePointer<Float>
}

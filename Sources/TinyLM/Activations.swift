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
}

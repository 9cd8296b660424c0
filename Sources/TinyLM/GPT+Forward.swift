extension GPT {
    /// Runs the model on `inputs` (B,T) row-major and scores `targets` (B,T) (negative = ignored).
    ///
    /// Keeps the activations for `backward(dLogProbs:)`. Returns the per-position log-probabilities
    /// log p(targets[b,t] | inputs[b,0...t]) (B,T), 0 where the target is ignored.
    /// Needs 1 <= T <= blockSize, token ids in 0..<V.
    @discardableResult
    public func forward(inputs: [Int32], targets: [Int32], B: Int, T: Int) -> [Float] {
        precondition(T >= 1 && T <= config.blockSize, "forward: T = \(T) outside 1...\(config.blockSize)")
        precondition(inputs.count == B * T && targets.count == B * T, "forward: inputs and targets must be (B,T)")
        let acts = activations(forBatch: B)
        let V = Int32(config.vocabSize)
        for i in 0..<(B * T) {
            precondition(inputs[i] >= 0 && inputs[i] < V, "forward: token id \(inputs[i]) outside the vocabulary")
            precondition(targets[i] < V, "forward: target id \(targets[i]) outside the vocabulary")
            acts.inputs[i] = inputs[i]
            acts.targets[i] = targets[i]
        }
        Parallel.withOwnThreads { forwardPass(acts, B: B, T: T) }
        return Array(UnsafeBufferPointer(start: acts.logprobs.pointer, count: B * T))
    }

    /// The logits (B,T,V) of the last forward pass (a copy).
    public var lastLogits: [Float] {
        guard let acts else { return [] }
        return Array(UnsafeBufferPointer(start: acts.logits.pointer, count: acts.B * acts.T * config.vocabSize))
    }

    /// The activation buffers for a batch of B rows, reallocated when B exceeds the capacity.
    func activations(forBatch B: Int) -> Activations {
        if let acts, acts.capacityB >= B { return acts }
        let made = Activations(config: config, capacityB: B)
        acts = made
        scratch = nil
        return made
    }

    /// The forward pass on `acts.inputs` and `acts.targets`, shapes (B,T), shard by shard
    /// (`Parallel.shards`).
    func forwardPass(_ acts: Activations, B: Int, T: Int) {
        acts.B = B
        acts.T = T
        Parallel.forShards(Parallel.shards(B: B)) { _, rows in
            forwardRows(acts, rows: rows, T: T)
        }
    }

    /// The forward pass of batch rows `rows` only: every activation is per row (attention mixes
    /// positions within a row, never rows), so each shard reads and writes its own slice of
    /// the buffers (`ShardActivations`).
    func forwardRows(_ acts: Activations, rows: Range<Int>, T: Int) {
        let s = ShardActivations(acts, rows: rows, T: T, config: config)
        let C = config.nEmbd, V = config.vocabSize
        Kernels.encoderForward(out: s.encoded, tokens: s.inputs, wte: params.wte, wpe: params.wpe, B: s.B, T: T, C: C)
        for l in 0..<config.nLayer {
            blockForward(s.blockInput(l), s.blocks[l], params.blocks[l], B: s.B, T: T)
        }
        Kernels.layerNormForwardSIMD(out: s.lnf, mean: s.lnfMean, rstd: s.lnfRstd, inp: s.lastResidual,
                                     weight: params.lnfw, bias: params.lnfb, N: s.N, C: C)
        Kernels.matmulForward(out: s.logits, inp: s.lnf, weight: params.wte, bias: nil, N: s.N, C: C, OC: V)
        Kernels.logProbForward(probs: s.probs, logprobs: s.logprobs, logits: s.logits, targets: s.targets, N: s.N, V: V)
    }

    /// One transformer block on one shard, as nanoGPT's `Block.forward`:
    /// x = x + attn(ln_1(x)), then x = x + mlp(ln_2(x)). Reads x, writes the block's
    /// activations; its output is `a.residual3`.
    func blockForward(_ x: UnsafePointer<Float>, _ a: BlockActivations, _ p: BlockPointers, B: Int, T: Int) {
        let C = config.nEmbd, NH = config.nHead, N = B * T
        // attention: ln_1, the fused qkv projection, causal self-attention, the output projection
        Kernels.layerNormForwardSIMD(out: a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd, inp: x, weight: p.ln1w, bias: p.ln1b,
                                     N: N, C: C)
        Kernels.matmulForward(out: a.qkv, inp: a.ln1, weight: p.qkvw, bias: p.qkvb, N: N, C: C, OC: 3 * C)
        Kernels.attentionForward(out: a.atty, att: a.att, inp: a.qkv, B: B, T: T, C: C, NH: NH)
        Kernels.matmulForward(out: a.attproj, inp: a.atty, weight: p.attprojw, bias: p.attprojb, N: N, C: C, OC: C)
        Kernels.residualForward(out: a.residual2, inp1: x, inp2: a.attproj, N: N * C)
        // MLP: ln_2, c_fc, GELU, c_proj
        Kernels.layerNormForwardSIMD(out: a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd, inp: a.residual2, weight: p.ln2w,
                                     bias: p.ln2b, N: N, C: C)
        Kernels.matmulForward(out: a.fch, inp: a.ln2, weight: p.fcw, bias: p.fcb, N: N, C: C, OC: 4 * C)
        Kernels.geluForwardSIMD(out: a.fchGelu, inp: a.fch, N: N * 4 * C)
        Kernels.matmulForward(out: a.fcproj, inp: a.fchGelu, weight: p.fcprojw, bias: p.fcprojb, N: N, C: 4 * C, OC: C)
        Kernels.residualForward(out: a.residual3, inp1: a.residual2, inp2: a.fcproj, N: N * C)
    }
}

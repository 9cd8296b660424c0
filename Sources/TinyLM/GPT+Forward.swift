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
    /// the buffers, from row offset rows.lowerBound * T.
    func forwardRows(_ acts: Activations, rows: Range<Int>, T: Int) {
        let C = config.nEmbd, NH = config.nHead, V = config.vocabSize
        let B = rows.count, N = B * T, o = rows.lowerBound * T
        let attOffset = rows.lowerBound * NH * T * T
        let encoded = acts.encoded.pointer + o * C
        Kernels.encoderForward(out: encoded, tokens: acts.inputs.pointer + o,
                               wte: params.wte, wpe: params.wpe, B: B, T: T, C: C)
        var residual = UnsafePointer(encoded)
        for l in 0..<config.nLayer {
            let p = params.blocks[l]
            let a = acts.layers[l]
            let ln1 = a.ln1.pointer + o * C, qkv = a.qkv.pointer + o * 3 * C, atty = a.atty.pointer + o * C
            let attproj = a.attproj.pointer + o * C, residual2 = a.residual2.pointer + o * C, ln2 = a.ln2.pointer + o * C
            let fch = a.fch.pointer + o * 4 * C, fchGelu = a.fchGelu.pointer + o * 4 * C
            let fcproj = a.fcproj.pointer + o * C, residual3 = a.residual3.pointer + o * C
            Kernels.layerNormForwardSIMD(out: ln1, mean: a.ln1Mean.pointer + o, rstd: a.ln1Rstd.pointer + o,
                                             inp: residual, weight: p.ln1w, bias: p.ln1b, N: N, C: C)
            Kernels.matmulForward(out: qkv, inp: ln1, weight: p.qkvw, bias: p.qkvb, N: N, C: C, OC: 3 * C)
            Kernels.attentionForward(out: atty, att: a.att.pointer + attOffset, inp: qkv, B: B, T: T, C: C, NH: NH)
            Kernels.matmulForward(out: attproj, inp: atty, weight: p.attprojw, bias: p.attprojb, N: N, C: C, OC: C)
            Kernels.residualForward(out: residual2, inp1: residual, inp2: attproj, N: N * C)
            Kernels.layerNormForwardSIMD(out: ln2, mean: a.ln2Mean.pointer + o, rstd: a.ln2Rstd.pointer + o,
                                             inp: residual2, weight: p.ln2w, bias: p.ln2b, N: N, C: C)
            Kernels.matmulForward(out: fch, inp: ln2, weight: p.fcw, bias: p.fcb, N: N, C: C, OC: 4 * C)
            Kernels.geluForwardSIMD(out: fchGelu, inp: fch, N: N * 4 * C)
            Kernels.matmulForward(out: fcproj, inp: fchGelu, weight: p.fcprojw, bias: p.fcprojb, N: N, C: 4 * C, OC: C)
            Kernels.residualForward(out: residual3, inp1: residual2, inp2: fcproj, N: N * C)
            residual = UnsafePointer(residual3)
        }
        let lnf = acts.lnf.pointer + o * C, logits = acts.logits.pointer + o * V
        Kernels.layerNormForwardSIMD(out: lnf, mean: acts.lnfMean.pointer + o, rstd: acts.lnfRstd.pointer + o,
                                         inp: residual, weight: params.lnfw, bias: params.lnfb, N: N, C: C)
        Kernels.matmulForward(out: logits, inp: lnf, weight: params.wte, bias: nil, N: N, C: C, OC: V)
        Kernels.logProbForward(probs: acts.probs.pointer + o * V, logprobs: acts.logprobs.pointer + o,
                                       logits: logits, targets: acts.targets.pointer + o, N: N, V: V)
    }
}

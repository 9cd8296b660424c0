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

    /// The forward pass on `acts.inputs` and `acts.targets`, shapes (B,T).
    func forwardPass(_ acts: Activations, B: Int, T: Int) {
        acts.B = B
        acts.T = T
        let C = config.nEmbd, NH = config.nHead, V = config.vocabSize
        let N = B * T
        Kernels.encoderForward(out: acts.encoded.pointer, tokens: acts.inputs.pointer,
                               wte: params.wte, wpe: params.wpe, B: B, T: T, C: C)
        var residual = UnsafePointer(acts.encoded.pointer)
        for l in 0..<config.nLayer {
            let p = params.blocks[l]
            let a = acts.layers[l]
            Kernels.layerNormForwardParallel(out: a.ln1.pointer, mean: a.ln1Mean.pointer, rstd: a.ln1Rstd.pointer,
                                     inp: residual, weight: p.ln1w, bias: p.ln1b, N: N, C: C)
            Kernels.matmulForwardParallel(out: a.qkv.pointer, inp: a.ln1.pointer, weight: p.qkvw, bias: p.qkvb,
                                  N: N, C: C, OC: 3 * C)
            Kernels.attentionForwardParallel(out: a.atty.pointer, att: a.att.pointer, inp: a.qkv.pointer,
                                     B: B, T: T, C: C, NH: NH)
            Kernels.matmulForwardParallel(out: a.attproj.pointer, inp: a.atty.pointer, weight: p.attprojw, bias: p.attprojb,
                                  N: N, C: C, OC: C)
            Kernels.residualForwardParallel(out: a.residual2.pointer, inp1: residual, inp2: a.attproj.pointer, N: N * C)
            Kernels.layerNormForwardParallel(out: a.ln2.pointer, mean: a.ln2Mean.pointer, rstd: a.ln2Rstd.pointer,
                                     inp: a.residual2.pointer, weight: p.ln2w, bias: p.ln2b, N: N, C: C)
            Kernels.matmulForwardParallel(out: a.fch.pointer, inp: a.ln2.pointer, weight: p.fcw, bias: p.fcb,
                                  N: N, C: C, OC: 4 * C)
            Kernels.geluForwardParallel(out: a.fchGelu.pointer, inp: a.fch.pointer, N: N * 4 * C)
            Kernels.matmulForwardParallel(out: a.fcproj.pointer, inp: a.fchGelu.pointer, weight: p.fcprojw, bias: p.fcprojb,
                                  N: N, C: 4 * C, OC: C)
            Kernels.residualForwardParallel(out: a.residual3.pointer, inp1: a.residual2.pointer, inp2: a.fcproj.pointer, N: N * C)
            residual = UnsafePointer(a.residual3.pointer)
        }
        Kernels.layerNormForwardParallel(out: acts.lnf.pointer, mean: acts.lnfMean.pointer, rstd: acts.lnfRstd.pointer,
                                 inp: residual, weight: params.lnfw, bias: params.lnfb, N: N, C: C)
        Kernels.matmulForwardParallel(out: acts.logits.pointer, inp: acts.lnf.pointer, weight: params.wte, bias: nil,
                              N: N, C: C, OC: V)
        Kernels.logProbForwardParallel(probs: acts.probs.pointer, logprobs: acts.logprobs.pointer,
                               logits: acts.logits.pointer, targets: acts.targets.pointer, N: N, V: V)
    }
}

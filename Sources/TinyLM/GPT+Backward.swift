extension GPT {
    /// The backward pass of the last `forward`, from the gradient of an objective with respect
    /// to each scored log-probability: accumulates d objective / d parameters into `gradients`.
    ///
    /// dLogProbs (B,T): e.g. -1/n at every scored position for the mean cross-entropy loss over
    /// n targets. Call `zeroGradients()` first unless accumulating on purpose.
    public func backward(dLogProbs: [Float]) {
        Parallel.withOwnThreads { backwardPass(dLogProbs: dLogProbs) }
    }

    /// The backward pass proper (kernels split across `Parallel.workers`).
    func backwardPass(dLogProbs: [Float]) {
        guard let acts else { preconditionFailure("backward needs a forward pass first") }
        let B = acts.B, T = acts.T
        precondition(dLogProbs.count == B * T, "backward: dLogProbs must be (B,T) of the last forward")
        let C = config.nEmbd, NH = config.nHead, V = config.vocabSize
        let N = B * T
        let g = gradientScratch()
        g.dlogits.zero(); g.dlnf.zero(); g.dresidual.zero()  // only the first N rows are used; zero all for clarity
        dLogProbs.withUnsafeBufferPointer { dlp in
            Kernels.logProbBackwardParallel(dlogits: g.dlogits.pointer, dlogprobs: dlp.baseAddress!,
                                    probs: acts.probs.pointer, targets: acts.targets.pointer, N: N, V: V)
        }
        // logits = lnf wte^T (tied lm_head): wte receives this gradient and the encoder's
        Kernels.matmulBackwardParallel(dinp: g.dlnf.pointer, dweight: grads.wte, dbias: nil, dout: g.dlogits.pointer,
                               inp: acts.lnf.pointer, weight: params.wte, N: N, C: C, OC: V)
        let last = config.nLayer == 0 ? acts.encoded : acts.layers[config.nLayer - 1].residual3
        Kernels.layerNormBackwardParallel(dinp: g.dresidual.pointer, dweight: grads.lnfw, dbias: grads.lnfb,
                                  dout: g.dlnf.pointer, inp: last.pointer, weight: params.lnfw,
                                  mean: acts.lnfMean.pointer, rstd: acts.lnfRstd.pointer, N: N, C: C)
        // g.dresidual holds d/d(output of block l); each block writes d/d(its input) to dresidualIn
        var dOut = g.dresidual, dIn = g.dresidualIn
        for l in stride(from: config.nLayer - 1, through: 0, by: -1) {
            let p = params.blocks[l], dp = grads.blocks[l]
            let a = acts.layers[l]
            let residual = l == 0 ? acts.encoded : acts.layers[l - 1].residual3
            for buffer in [dIn, g.dres2, g.dfcproj, g.dfchGelu, g.dfch, g.dln2, g.dattproj, g.datty, g.dqkv, g.dln1] {
                let perRow = buffer.count / (acts.capacityB * acts.maxT)  // C, 3C or 4C
                buffer.pointer.update(repeating: 0, count: N * perRow)
            }
            // residual3 = residual2 + fcproj
            Kernels.residualBackward(dinp1: g.dres2.pointer, dinp2: g.dfcproj.pointer, dout: dOut.pointer, N: N * C)
            Kernels.matmulBackwardParallel(dinp: g.dfchGelu.pointer, dweight: dp.fcprojw, dbias: dp.fcprojb, dout: g.dfcproj.pointer,
                                   inp: a.fchGelu.pointer, weight: p.fcprojw, N: N, C: 4 * C, OC: C)
            Kernels.geluBackwardParallel(dinp: g.dfch.pointer, inp: a.fch.pointer, dout: g.dfchGelu.pointer, N: N * 4 * C)
            Kernels.matmulBackwardParallel(dinp: g.dln2.pointer, dweight: dp.fcw, dbias: dp.fcb, dout: g.dfch.pointer,
                                   inp: a.ln2.pointer, weight: p.fcw, N: N, C: C, OC: 4 * C)
            Kernels.layerNormBackwardParallel(dinp: g.dres2.pointer, dweight: dp.ln2w, dbias: dp.ln2b, dout: g.dln2.pointer,
                                      inp: a.residual2.pointer, weight: p.ln2w, mean: a.ln2Mean.pointer,
                                      rstd: a.ln2Rstd.pointer, N: N, C: C)
            // residual2 = residual + attproj
            Kernels.residualBackward(dinp1: dIn.pointer, dinp2: g.dattproj.pointer, dout: g.dres2.pointer, N: N * C)
            Kernels.matmulBackwardParallel(dinp: g.datty.pointer, dweight: dp.attprojw, dbias: dp.attprojb, dout: g.dattproj.pointer,
                                   inp: a.atty.pointer, weight: p.attprojw, N: N, C: C, OC: C)
            Kernels.attentionBackwardParallel(dinp: g.dqkv.pointer, dout: g.datty.pointer, inp: a.qkv.pointer, att: a.att.pointer,
                                      B: B, T: T, C: C, NH: NH)
            Kernels.matmulBackwardParallel(dinp: g.dln1.pointer, dweight: dp.qkvw, dbias: dp.qkvb, dout: g.dqkv.pointer,
                                   inp: a.ln1.pointer, weight: p.qkvw, N: N, C: C, OC: 3 * C)
            Kernels.layerNormBackwardParallel(dinp: dIn.pointer, dweight: dp.ln1w, dbias: dp.ln1b, dout: g.dln1.pointer,
                                      inp: residual.pointer, weight: p.ln1w, mean: a.ln1Mean.pointer,
                                      rstd: a.ln1Rstd.pointer, N: N, C: C)
            swap(&dOut, &dIn)
        }
        Kernels.encoderBackward(dwte: grads.wte, dwpe: grads.wpe, dout: dOut.pointer, tokens: acts.inputs.pointer,
                                B: B, T: T, C: C)
    }

    /// Backward pass for the mean cross-entropy of the last forward over its scored targets.
    public func backwardMeanLoss() {
        guard let acts else { preconditionFailure("backward needs a forward pass first") }
        let N = acts.B * acts.T
        var n = 0
        for i in 0..<N where acts.targets[i] >= 0 { n += 1 }
        let w: Float = n == 0 ? 0 : -1 / Float(n)
        backward(dLogProbs: (0..<N).map { acts.targets[$0] >= 0 ? w : 0 })
    }

    func gradientScratch() -> GradientScratch {
        if let scratch { return scratch }
        let made = GradientScratch(BT: (acts?.capacityB ?? 1) * config.blockSize, C: config.nEmbd, V: config.vocabSize)
        scratch = made
        return made
    }
}

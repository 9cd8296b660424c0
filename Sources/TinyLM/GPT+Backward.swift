extension GPT {
    /// The backward pass of the last `forward`, from the gradient of an objective with respect
    /// to each scored log-probability: accumulates d objective / d parameters into `gradients`.
    ///
    /// dLogProbs (B,T): e.g. -1/n at every scored position for the mean cross-entropy loss over
    /// n targets. Call `zeroGradients()` first unless accumulating on purpose.
    public func backward(dLogProbs: [Float]) {
        Parallel.withOwnThreads { backwardPass(dLogProbs: dLogProbs) }
    }

    /// The backward pass proper, shard by shard as the forward pass ran (`Parallel.shards`).
    /// The first shard accumulates into `gradients`; each other shard into a zeroed buffer of
    /// its own, added to `gradients` afterwards in shard order.
    func backwardPass(dLogProbs: [Float]) {
        guard let acts else { preconditionFailure("backward needs a forward pass first") }
        let B = acts.B, T = acts.T
        precondition(dLogProbs.count == B * T, "backward: dLogProbs must be (B,T) of the last forward")
        let g = gradientScratch()
        let shards = Parallel.shards(B: B)
        while shardGradients.count < shards.count - 1 { shardGradients.append(FloatBuffer(count: layout.count)) }
        let extra = shardGradients.prefix(shards.count - 1).map { buffer -> ModelPointers in
            buffer.zero()
            return ModelPointers(buffer, layout)
        }
        dLogProbs.withUnsafeBufferPointer { dlp in
            Parallel.forShards(shards) { i, rows in
                backwardRows(acts, g, dLogProbs: dlp.baseAddress!, rows: rows, T: T,
                             into: i == 0 ? grads : extra[i - 1])
            }
        }
        let total = gradients.pointer
        for buffer in shardGradients.prefix(shards.count - 1) {
            let part = buffer.pointer
            Parallel.forChunks(layout.count, minimum: 65536) { r in
                for i in r { total[i] += part[i] }
            }
        }
    }

    /// The backward pass of batch rows `rows` only, on their slices of the activations and of
    /// the gradient scratch (row offset rows.lowerBound * T), accumulating into `dm`.
    func backwardRows(_ acts: Activations, _ g: GradientScratch, dLogProbs: UnsafePointer<Float>, rows: Range<Int>, T: Int,
                      into dm: ModelPointers) {
        let C = config.nEmbd, NH = config.nHead, V = config.vocabSize
        let B = rows.count, N = B * T, o = rows.lowerBound * T
        let attOffset = rows.lowerBound * NH * T * T
        /// The shard's slice of a scratch buffer holding `perRow` floats a position, zeroed.
        func zeroed(_ buffer: FloatBuffer, _ perRow: Int) -> UnsafeMutablePointer<Float> {
            let p = buffer.pointer + o * perRow
            p.update(repeating: 0, count: N * perRow)
            return p
        }
        let dlogits = zeroed(g.dlogits, V), dlnf = zeroed(g.dlnf, C)
        Kernels.logProbBackward(dlogits: dlogits, dlogprobs: dLogProbs + o, probs: acts.probs.pointer + o * V,
                                        targets: acts.targets.pointer + o, N: N, V: V)
        // logits = lnf wte^T (tied lm_head): wte receives this gradient and the encoder's
        Kernels.matmulBackward(dinp: dlnf, dweight: dm.wte, dbias: nil, dout: dlogits,
                                       inp: acts.lnf.pointer + o * C, weight: params.wte, N: N, C: C, OC: V)
        let last = config.nLayer == 0 ? acts.encoded : acts.layers[config.nLayer - 1].residual3
        // dOut holds d/d(output of block l); each block writes d/d(its input) to dIn
        var dOut = zeroed(g.dresidual, C)
        Kernels.layerNormBackwardSIMD(dinp: dOut, dweight: dm.lnfw, dbias: dm.lnfb,
                                          dout: dlnf, inp: last.pointer + o * C, weight: params.lnfw,
                                          mean: acts.lnfMean.pointer + o, rstd: acts.lnfRstd.pointer + o, N: N, C: C)
        for l in stride(from: config.nLayer - 1, through: 0, by: -1) {
            let p = params.blocks[l], dp = dm.blocks[l]
            let a = acts.layers[l]
            let residual = (l == 0 ? acts.encoded : acts.layers[l - 1].residual3).pointer + o * C
            let dIn = zeroed(l % 2 == (config.nLayer - 1) % 2 ? g.dresidualIn : g.dresidual, C)
            let dres2 = zeroed(g.dres2, C), dfcproj = zeroed(g.dfcproj, C), dfchGelu = zeroed(g.dfchGelu, 4 * C)
            let dfch = zeroed(g.dfch, 4 * C), dln2 = zeroed(g.dln2, C), dattproj = zeroed(g.dattproj, C)
            let datty = zeroed(g.datty, C), dqkv = zeroed(g.dqkv, 3 * C), dln1 = zeroed(g.dln1, C)
            // residual3 = residual2 + fcproj
            Kernels.residualBackward(dinp1: dres2, dinp2: dfcproj, dout: dOut, N: N * C)
            Kernels.matmulBackward(dinp: dfchGelu, dweight: dp.fcprojw, dbias: dp.fcprojb, dout: dfcproj,
                                           inp: a.fchGelu.pointer + o * 4 * C, weight: p.fcprojw, N: N, C: 4 * C, OC: C)
            Kernels.geluBackwardSIMD(dinp: dfch, inp: a.fch.pointer + o * 4 * C, dout: dfchGelu, N: N * 4 * C)
            Kernels.matmulBackward(dinp: dln2, dweight: dp.fcw, dbias: dp.fcb, dout: dfch,
                                           inp: a.ln2.pointer + o * C, weight: p.fcw, N: N, C: C, OC: 4 * C)
            Kernels.layerNormBackwardSIMD(dinp: dres2, dweight: dp.ln2w, dbias: dp.ln2b, dout: dln2,
                                              inp: a.residual2.pointer + o * C, weight: p.ln2w, mean: a.ln2Mean.pointer + o,
                                              rstd: a.ln2Rstd.pointer + o, N: N, C: C)
            // residual2 = residual + attproj
            Kernels.residualBackward(dinp1: dIn, dinp2: dattproj, dout: dres2, N: N * C)
            Kernels.matmulBackward(dinp: datty, dweight: dp.attprojw, dbias: dp.attprojb, dout: dattproj,
                                           inp: a.atty.pointer + o * C, weight: p.attprojw, N: N, C: C, OC: C)
            Kernels.attentionBackward(dinp: dqkv, dout: datty, inp: a.qkv.pointer + o * 3 * C, att: a.att.pointer + attOffset,
                                              B: B, T: T, C: C, NH: NH)
            Kernels.matmulBackward(dinp: dln1, dweight: dp.qkvw, dbias: dp.qkvb, dout: dqkv,
                                           inp: a.ln1.pointer + o * C, weight: p.qkvw, N: N, C: C, OC: 3 * C)
            Kernels.layerNormBackwardSIMD(dinp: dIn, dweight: dp.ln1w, dbias: dp.ln1b, dout: dln1,
                                              inp: residual, weight: p.ln1w, mean: a.ln1Mean.pointer + o,
                                              rstd: a.ln1Rstd.pointer + o, N: N, C: C)
            dOut = dIn
        }
        Kernels.encoderBackward(dwte: dm.wte, dwpe: dm.wpe, dout: dOut, tokens: acts.inputs.pointer + o, B: B, T: T, C: C)
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

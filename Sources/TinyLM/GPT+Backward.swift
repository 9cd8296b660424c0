extension GPT {
    /// The backward pass of the last `forward`, from the gradient of an objective with respect
    /// to each scored log-probability: accumulates d objective / d parameters into `gradients`.
    ///
    /// dLogProbs (B,T): e.g. -1/n at every scored position for the mean cross-entropy loss over
    /// n targets. dLogits (B,T,V), when given, is the gradient of a further term of the objective
    /// with respect to the logits themselves (for example an exact per-prefix KL, from
    /// `prefixDivergence(against:sequences:)`), added before the logits' own backward pass.
    /// Call `zeroGradients()` first unless accumulating on purpose.
    public func backward(dLogProbs: [Float], dLogits: [Float]? = nil) {
        Parallel.withOwnThreads { backwardPass(dLogProbs: dLogProbs, dLogits: dLogits) }
    }

    /// The backward pass proper, shard by shard as the forward pass ran (`Parallel.shards`).
    /// The first shard accumulates into `gradients`; each other shard into a buffer of its own
    /// (zeroed by the shard itself, on its own core), added to `gradients` afterwards in shard
    /// order: element by element g + p1 + p2 + ..., split across the cores by elements.
    func backwardPass(dLogProbs: [Float], dLogits: [Float]? = nil) {
        guard let acts else { preconditionFailure("backward needs a forward pass first") }
        let B = acts.B, T = acts.T
        precondition(dLogProbs.count == B * T, "backward: dLogProbs must be (B,T) of the last forward")
        precondition(dLogits.map { $0.count == B * T * config.vocabSize } ?? true,
                     "backward: dLogits must be (B,T,V) of the last forward")
        let g = gradientScratch()
        let shards = Parallel.shards(B: B)
        while shardGradients.count < shards.count - 1 { shardGradients.append(FloatBuffer(count: layout.count)) }
        let buffers = Array(shardGradients.prefix(shards.count - 1))
        let extra = buffers.map { ModelPointers($0, layout) }
        let extraLogits = dLogits ?? []
        dLogProbs.withUnsafeBufferPointer { dlp in
            extraLogits.withUnsafeBufferPointer { dl in
                Parallel.forShards(shards) { i, rows in
                    if i > 0 { buffers[i - 1].zero() }
                    backwardRows(acts, g, dLogProbs: dlp.baseAddress!, dLogits: dLogits == nil ? nil : dl.baseAddress!,
                                 rows: rows, T: T, into: i == 0 ? grads : extra[i - 1])
                }
            }
        }
        addShardGradients(buffers)
    }

    /// gradients += buffers[0] + buffers[1] + ..., element by element in that order (so the
    /// split of the elements across the cores does not change the bits).
    func addShardGradients(_ buffers: [FloatBuffer]) {
        guard !buffers.isEmpty else { return }
        let total = gradients.pointer, parts = buffers.map(\.pointer)
        Parallel.forChunks(layout.count, minimum: 16384) { r in
            for part in parts {
                for i in r { total[i] += part[i] }
            }
        }
    }

    /// The backward pass of batch rows `rows` only, on their slices of the activations and of
    /// the gradient scratch, accumulating into `dm`: the forward pass in reverse, block by block.
    func backwardRows(_ acts: Activations, _ g: GradientScratch, dLogProbs: UnsafePointer<Float>,
                      dLogits: UnsafePointer<Float>? = nil, rows: Range<Int>, T: Int, into dm: ModelPointers) {
        let s = ShardActivations(acts, rows: rows, T: T, config: config)
        let C = config.nEmbd, V = config.vocabSize, N = s.N, o = rows.lowerBound * T
        let dlogits = g.zeroed(g.dlogits, from: o, count: N, width: V), dlnf = g.zeroed(g.dlnf, from: o, count: N, width: C)
        Kernels.logProbBackward(dlogits: dlogits, dlogprobs: dLogProbs + o, probs: s.probs, targets: s.targets, N: N, V: V)
        if let dLogits {
            let extra = dLogits + o * V
            for i in 0..<(N * V) { dlogits[i] += extra[i] }
        }
        // logits = lnf wte^T (tied lm_head): wte receives this gradient and the encoder's
        Kernels.matmulBackward(dinp: dlnf, dweight: dm.wte, dbias: nil, dout: dlogits, inp: s.lnf, weight: params.wte,
                               N: N, C: C, OC: V)
        // dOut holds d/d(output of block l); each block writes d/d(its input) to dIn. The two
        // buffers alternate so that the last block's dIn is never the buffer the final LayerNorm filled.
        var dOut = g.zeroed(g.dresidual, from: o, count: N, width: C)
        Kernels.layerNormBackwardSIMD(dinp: dOut, dweight: dm.lnfw, dbias: dm.lnfb, dout: dlnf, inp: s.lastResidual,
                                      weight: params.lnfw, mean: s.lnfMean, rstd: s.lnfRstd, N: N, C: C)
        for l in stride(from: config.nLayer - 1, through: 0, by: -1) {
            let dIn = g.zeroed(l % 2 == (config.nLayer - 1) % 2 ? g.dresidualIn : g.dresidual, from: o, count: N, width: C)
            blockBackward(dIn: dIn, dOut: dOut, x: s.blockInput(l), s.blocks[l], params.blocks[l], into: dm.blocks[l],
                          scratch: g.block(from: o, count: N, C: C), B: s.B, T: T)
            dOut = dIn
        }
        Kernels.encoderBackward(dwte: dm.wte, dwpe: dm.wpe, dout: dOut, tokens: s.inputs, B: s.B, T: T, C: C)
    }

    /// The backward pass of one block on one shard (`blockForward` in reverse): from dOut,
    /// d/d(the block's output), writes d/d(its input x) into dIn (zeroed) and accumulates the
    /// block's parameter gradients into `dp`.
    func blockBackward(dIn: UnsafeMutablePointer<Float>, dOut: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>,
                       _ a: BlockActivations, _ p: BlockPointers, into dp: BlockPointers, scratch d: BlockGradients,
                       B: Int, T: Int) {
        let C = config.nEmbd, NH = config.nHead, N = B * T
        // MLP: residual3 = residual2 + c_proj(gelu(c_fc(ln_2(residual2))))
        Kernels.residualBackward(dinp1: d.dres2, dinp2: d.dfcproj, dout: dOut, N: N * C)
        Kernels.matmulBackward(dinp: d.dfchGelu, dweight: dp.fcprojw, dbias: dp.fcprojb, dout: d.dfcproj, inp: a.fchGelu,
                               weight: p.fcprojw, N: N, C: 4 * C, OC: C)
        Kernels.geluBackwardSIMD(dinp: d.dfch, inp: a.fch, dout: d.dfchGelu, N: N * 4 * C)
        Kernels.matmulBackward(dinp: d.dln2, dweight: dp.fcw, dbias: dp.fcb, dout: d.dfch, inp: a.ln2, weight: p.fcw,
                               N: N, C: C, OC: 4 * C)
        Kernels.layerNormBackwardSIMD(dinp: d.dres2, dweight: dp.ln2w, dbias: dp.ln2b, dout: d.dln2, inp: a.residual2,
                                      weight: p.ln2w, mean: a.ln2Mean, rstd: a.ln2Rstd, N: N, C: C)
        // attention: residual2 = x + c_proj(attn(c_attn(ln_1(x))))
        Kernels.residualBackward(dinp1: dIn, dinp2: d.dattproj, dout: d.dres2, N: N * C)
        Kernels.matmulBackward(dinp: d.datty, dweight: dp.attprojw, dbias: dp.attprojb, dout: d.dattproj, inp: a.atty,
                               weight: p.attprojw, N: N, C: C, OC: C)
        Kernels.attentionBackward(dinp: d.dqkv, dout: d.datty, inp: a.qkv, att: a.att, B: B, T: T, C: C, NH: NH)
        Kernels.matmulBackward(dinp: d.dln1, dweight: dp.qkvw, dbias: dp.qkvb, dout: d.dqkv, inp: a.ln1, weight: p.qkvw,
                               N: N, C: C, OC: 3 * C)
        Kernels.layerNormBackwardSIMD(dinp: dIn, dweight: dp.ln1w, dbias: dp.ln1b, dout: d.dln1, inp: x, weight: p.ln1w,
                                      mean: a.ln1Mean, rstd: a.ln1Rstd, N: N, C: C)
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

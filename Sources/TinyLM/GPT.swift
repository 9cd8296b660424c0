import GSL

/// nanoGPT's GPT in Float32 with hand-written forward and backward passes.
///
/// Token and learned position embeddings; `nLayer` pre-LayerNorm blocks (causal self-attention
/// with a fused qkv projection, then a 4x MLP with exact GELU), each added to the residual
/// stream; a final LayerNorm; logits = ln_f(x) wte^T (the `lm_head` is tied to `wte`); no
/// dropout. Not thread-safe: one model, one thread of control. A pass splits its batch into
/// shards itself, one core a shard (`Parallel`), with BLAS held at one thread meanwhile.
public final class GPT {
    public let config: GPTConfig
    public let layout: ParameterLayout
    /// All parameters, laid out by `layout`.
    public let parameters: FloatBuffer
    /// Gradients with the same layout; backward passes accumulate into them.
    public let gradients: FloatBuffer
    let params: ModelPointers
    let grads: ModelPointers
    /// Activations of the last forward pass (allocated for a batch capacity, grown on demand).
    var acts: Activations?
    /// Gradient scratch for the backward pass, sized like `acts`.
    var scratch: GradientScratch?
    /// Gradient buffers of the second and later batch shards of a backward pass (see
    /// `Parallel.shards`), added into `gradients` when the pass ends.
    var shardGradients: [FloatBuffer] = []
    /// The KV cache of the last `sample` call, reused by the next one with as many rows.
    var sampleCache: KVCache?

    /// A model with nanoGPT's initialisation: every weight matrix (and wte, wpe) from
    /// N(0, 0.02^2), the two residual projections `c_proj.weight` from N(0, (0.02/sqrt(2L))^2),
    /// biases 0, LayerNorm weights 1.
    public init(config: GPTConfig, seed: UInt64) {
        self.config = config
        layout = ParameterLayout(config)
        parameters = FloatBuffer(count: layout.count)
        gradients = FloatBuffer(count: layout.count)
        params = ModelPointers(parameters, layout)
        grads = ModelPointers(gradients, layout)
        let rng = RandomGenerator(seed: seed)
        let projStd = 0.02 / (2 * Double(config.nLayer)).squareRoot()
        for spec in layout.specs {
            let p = parameters.pointer + spec.offset
            if spec.isMatrix {
                let std = spec.name.hasSuffix("c_proj.weight") ? projStd : 0.02
                for i in 0..<spec.count { p[i] = Float(rng.gaussian(sigma: std)) }
            } else if spec.name.contains(".ln_") && spec.name.hasSuffix(".weight") {
                p.update(repeating: 1, count: spec.count)
            } else {
                p.update(repeating: 0, count: spec.count)
            }
        }
    }

    /// A model with the given parameters (a copy), e.g. read from a checkpoint.
    public convenience init(config: GPTConfig, parameters values: FloatBuffer) {
        self.init(config: config, seed: 0)
        parameters.copy(from: values)
    }

    /// A deep copy of this model's parameters (gradients and activations are not copied).
    public func copy() -> GPT { GPT(config: config, parameters: parameters) }

    /// Sets every gradient to zero.
    public func zeroGradients() { gradients.zero() }

    /// The parameter tensor with nanoGPT's name, as an array (a copy).
    public func tensor(named name: String) -> [Float]? {
        guard let spec = layout.spec(named: name) else { return nil }
        return Array(UnsafeBufferPointer(start: parameters.pointer + spec.offset, count: spec.count))
    }

    /// The L2 norm of all gradients (Double accumulation): `normBlocks` fixed blocks of the
    /// parameters, each summed on some core, then the blocks' sums in order (so the bits do not
    /// depend on the number of cores).
    public func gradientNorm() -> Double {
        let g = gradients.pointer, n = gradients.count, k = Self.normBlocks
        var partial = [Double](repeating: 0, count: k)
        partial.withUnsafeMutableBufferPointer { out in
            let sums = out.baseAddress!
            Parallel.forChunks(k) { blocks in
                for j in blocks {
                    var s = 0.0
                    for i in (n * j / k)..<(n * (j + 1) / k) { s += Double(g[i]) * Double(g[i]) }
                    sums[j] = s
                }
            }
        }
        return partial.reduce(0, +).squareRoot()
    }

    /// The blocks of `gradientNorm`'s sum.
    static let normBlocks = 64

    /// Training FLOPs a token as nanoGPT/PaLM count them: 6N + 12 L C T, N the non-embedding
    /// parameters (tied head counted once), T the block size.
    public var flopsPerToken: Double {
        Double(6 * layout.nonEmbeddingCount + 12 * config.nLayer * config.nEmbd * config.blockSize)
    }
}

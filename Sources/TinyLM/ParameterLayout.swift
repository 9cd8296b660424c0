/// One named parameter tensor inside the flat parameter buffer, with nanoGPT's name and shape.
public struct TensorSpec: Sendable, Equatable {
    /// nanoGPT's `state_dict` name, e.g. `transformer.h.0.attn.c_attn.weight`.
    public let name: String
    /// Shape as PyTorch stores it: Linear weights are (out, in).
    public let shape: [Int]
    /// First element in the flat buffer.
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// Matrices (two dimensions) get weight decay; vectors (biases, LayerNorm) do not.
    public var isMatrix: Bool { shape.count >= 2 }
}

/// Where each of nanoGPT's tensors lives in one flat Float buffer.
///
/// Order: wte (V,C), wpe (maxT,C); per layer ln_1.{weight,bias} (C), attn.c_attn.weight (3C,C),
/// attn.c_attn.bias (3C), attn.c_proj.weight (C,C), attn.c_proj.bias (C), ln_2.{weight,bias} (C),
/// mlp.c_fc.weight (4C,C), mlp.c_fc.bias (4C), mlp.c_proj.weight (C,4C), mlp.c_proj.bias (C);
/// then transformer.ln_f.{weight,bias} (C). `lm_head.weight` is wte (tied) and not stored twice.
public struct ParameterLayout: Sendable {
    public let config: GPTConfig
    public let specs: [TensorSpec]
    /// Total number of Float parameters.
    public let count: Int
    private let indexByName: [String: Int]

    /// Names of one block's tensors in storage order, with their shapes for width C.
    static func blockTensors(_ c: Int) -> [(String, [Int])] {
        [("ln_1.weight", [c]), ("ln_1.bias", [c]),
         ("attn.c_attn.weight", [3 * c, c]), ("attn.c_attn.bias", [3 * c]),
         ("attn.c_proj.weight", [c, c]), ("attn.c_proj.bias", [c]),
         ("ln_2.weight", [c]), ("ln_2.bias", [c]),
         ("mlp.c_fc.weight", [4 * c, c]), ("mlp.c_fc.bias", [4 * c]),
         ("mlp.c_proj.weight", [c, 4 * c]), ("mlp.c_proj.bias", [c])]
    }

    public init(_ config: GPTConfig) {
        self.config = config
        let c = config.nEmbd
        var named: [(String, [Int])] = [
            ("transformer.wte.weight", [config.vocabSize, c]),
            ("transformer.wpe.weight", [config.blockSize, c]),
        ]
        for l in 0..<config.nLayer {
            named += Self.blockTensors(c).map { ("transformer.h.\(l).\($0.0)", $0.1) }
        }
        named += [("transformer.ln_f.weight", [c]), ("transformer.ln_f.bias", [c])]
        var specs: [TensorSpec] = []
        var offset = 0
        for (name, shape) in named {
            let spec = TensorSpec(name: name, shape: shape, offset: offset)
            specs.append(spec)
            offset += spec.count
        }
        self.specs = specs
        count = offset
        indexByName = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
    }

    /// The number of parameters `init` would lay out, or nil if it overflows an Int: V·C + maxT·C
    /// + L·(12C² + 13C) + 2C, each product checked (for sizes read from an untrusted file).
    public static func parameterCount(vocabSize v: Int, blockSize t: Int, nLayer l: Int, nEmbd c: Int) -> Int? {
        func mul(_ a: Int, _ b: Int) -> Int? { let r = a.multipliedReportingOverflow(by: b); return r.overflow ? nil : r.partialValue }
        func add(_ a: Int, _ b: Int) -> Int? { let r = a.addingReportingOverflow(b); return r.overflow ? nil : r.partialValue }
        guard let cc = mul(c, c), let twelve = mul(12, cc), let thirteen = mul(13, c), let block = add(twelve, thirteen),
              let blocks = mul(l, block), let wte = mul(v, c), let wpe = mul(t, c), let lnf = mul(2, c),
              let a = add(wte, wpe), let b = add(a, blocks), let total = add(b, lnf) else { return nil }
        return total
    }

    public func spec(named name: String) -> TensorSpec? { indexByName[name].map { specs[$0] } }

    /// Offsets of one block's tensors (see `BlockPointers`).
    func blockOffsets(_ layer: Int) -> [Int] {
        let first = 2 + 12 * layer
        return (first..<first + 12).map { specs[$0].offset }
    }

    /// Parameters without the position embedding (nanoGPT's `get_num_params()` with the tied head).
    public var nonEmbeddingCount: Int { count - config.blockSize * config.nEmbd }
}

/// Pointers to the tensors of one block inside a flat buffer (parameters or their gradients).
struct BlockPointers {
    let ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb: UnsafeMutablePointer<Float>

    init(base: UnsafeMutablePointer<Float>, offsets o: [Int]) {
        ln1w = base + o[0]; ln1b = base + o[1]; qkvw = base + o[2]; qkvb = base + o[3]
        attprojw = base + o[4]; attprojb = base + o[5]; ln2w = base + o[6]; ln2b = base + o[7]
        fcw = base + o[8]; fcb = base + o[9]; fcprojw = base + o[10]; fcprojb = base + o[11]
    }
}

/// Pointers to every tensor of a flat buffer laid out by a `ParameterLayout`.
struct ModelPointers {
    let wte, wpe, lnfw, lnfb: UnsafeMutablePointer<Float>
    let blocks: [BlockPointers]

    init(_ buffer: FloatBuffer, _ layout: ParameterLayout) {
        let base = buffer.pointer
        wte = base + layout.specs[0].offset
        wpe = base + layout.specs[1].offset
        lnfw = base + layout.specs[layout.specs.count - 2].offset
        lnfb = base + layout.specs[layout.specs.count - 1].offset
        blocks = (0..<layout.config.nLayer).map { BlockPointers(base: base, offsets: layout.blockOffsets($0)) }
    }
}

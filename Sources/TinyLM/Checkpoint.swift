import Foundation

/// A model with its vocabulary, stored as a safetensors file with nanoGPT's tensor names and
/// shapes and string metadata `vocab` (JSON array, index = token id), `bos`, `eos`, `n_layer`,
/// `n_head`, `n_embd`, `block_size`. Extra tensors (e.g. `optimizer.m`) and extra metadata
/// (e.g. the training step) may ride along for resuming.
public struct Checkpoint {
    public var model: GPT
    public var tokenizer: CharTokenizer
    /// Metadata beyond the model's own keys.
    public var extraMetadata: [String: String]
    /// Tensors beyond nanoGPT's, by name.
    public var extraTensors: [String: SafeTensors.Tensor]

    static let modelKeys: Set<String> = ["vocab", "bos", "eos", "n_layer", "n_head", "n_embd", "block_size", "vocab_size"]

    public init(model: GPT, tokenizer: CharTokenizer, extraMetadata: [String: String] = [:],
                extraTensors: [String: SafeTensors.Tensor] = [:]) {
        precondition(model.config.vocabSize == tokenizer.count, "Checkpoint: model and tokenizer disagree on V")
        self.model = model
        self.tokenizer = tokenizer
        self.extraMetadata = extraMetadata
        self.extraTensors = extraTensors
    }

    /// The safetensors content: every nanoGPT tensor in layout order (no `lm_head.weight`: it is
    /// `transformer.wte.weight`), then the extra tensors by name.
    public func file() -> SafeTensors.File {
        let p = model.parameters.pointer
        var tensors = model.layout.specs.map { spec in
            (name: spec.name, tensor: SafeTensors.Tensor(shape: spec.shape, values: Array(UnsafeBufferPointer(start: p + spec.offset, count: spec.count))))
        }
        tensors += extraTensors.sorted { $0.key < $1.key }.map { (name: $0.key, tensor: $0.value) }
        // An array of strings is always valid JSON.
        let vocabJSON = String(decoding: (try? JSONSerialization.data(withJSONObject: tokenizer.vocab)) ?? Data("[]".utf8), as: UTF8.self)
        let c = model.config
        var metadata = extraMetadata
        metadata.merge(["vocab": vocabJSON, "bos": "\(tokenizer.bos)", "eos": "\(tokenizer.eos)",
                        "n_layer": "\(c.nLayer)", "n_head": "\(c.nHead)", "n_embd": "\(c.nEmbd)",
                        "block_size": "\(c.blockSize)", "vocab_size": "\(c.vocabSize)"]) { _, new in new }
        return SafeTensors.File(tensors: tensors, metadata: metadata)
    }

    /// Writes the checkpoint atomically (temporary file, then rename).
    public func save(to url: URL) throws(TinyLMError) { try SafeTensors.write(file(), to: url) }

    /// Reads and validates a checkpoint; see `init(file:)`.
    public static func load(_ url: URL) throws(TinyLMError) -> Checkpoint { try Checkpoint(file: SafeTensors.read(url)) }

    /// Validates a safetensors file as a model: the metadata names a consistent configuration and
    /// vocabulary, every nanoGPT tensor is present with its exact shape, `lm_head.weight` (if
    /// present) equals `transformer.wte.weight`, and nothing else is unexplained (nanoGPT's
    /// causal-mask buffers `*.attn.bias` are ignored; `optimizer.*` tensors are kept as extras).
    public init(file: SafeTensors.File) throws(TinyLMError) {
        let m = file.metadata
        func int(_ key: String) throws(TinyLMError) -> Int {
            guard let s = m[key], let v = Int(s) else { throw .checkpoint("metadata \(key) is missing or not an integer") }
            return v
        }
        guard let vocabString = m["vocab"], let vocabData = vocabString.data(using: .utf8),
              let vocab = (try? JSONSerialization.jsonObject(with: vocabData)) as? [String]
        else { throw .checkpoint("metadata vocab is missing or not a JSON array of strings") }
        func id(_ key: String) throws(TinyLMError) -> Int32 {
            let v = try int(key)
            guard let i = Int32(exactly: v), vocab.indices.contains(v) else {
                throw .checkpoint("metadata \(key) = \(v) is not a token id (the vocab has \(vocab.count) entries)")
            }
            return i
        }
        let tokenizer = try CharTokenizer(vocab: vocab, bos: try id("bos"), eos: try id("eos"))
        let nLayer = try int("n_layer"), nHead = try int("n_head"), nEmbd = try int("n_embd"), blockSize = try int("block_size")
        guard nLayer >= 1, nHead >= 1, nEmbd >= 1, blockSize >= 1, nEmbd % nHead == 0 else {
            throw .checkpoint("inconsistent configuration n_layer=\(nLayer) n_head=\(nHead) n_embd=\(nEmbd) block_size=\(blockSize)")
        }
        if let v = m["vocab_size"], Int(v) != vocab.count {
            throw .checkpoint("metadata vocab_size \(v) but the vocab has \(vocab.count) entries")
        }
        // The model's parameters must all be in the file: checked (in overflow-checked
        // arithmetic) before the model is allocated, so hostile sizes cannot exhaust memory.
        let stored = file.tensors.reduce(0) { $0 + $1.tensor.values.count }
        guard let needed = ParameterLayout.parameterCount(vocabSize: vocab.count, blockSize: blockSize, nLayer: nLayer, nEmbd: nEmbd),
              needed <= stored else {
            throw .checkpoint("the configuration n_layer=\(nLayer) n_embd=\(nEmbd) block_size=\(blockSize) needs more parameters than the file's \(stored) values")
        }
        let config = GPTConfig(vocabSize: vocab.count, blockSize: blockSize, nLayer: nLayer, nHead: nHead, nEmbd: nEmbd)
        let model = GPT(config: config, seed: 0)
        var extras: [String: SafeTensors.Tensor] = [:]
        var seen = Set<String>()
        for (name, tensor) in file.tensors {
            if let spec = model.layout.spec(named: name) {
                guard tensor.shape == spec.shape else {
                    throw .checkpoint("tensor \(name) has shape \(tensor.shape), the metadata's configuration needs \(spec.shape)")
                }
                guard tensor.values.allSatisfy(\.isFinite) else {
                    throw .checkpoint("tensor \(name) holds values that are not finite (NaN or infinity): the model diverged")
                }
                tensor.values.withUnsafeBufferPointer { (model.parameters.pointer + spec.offset).update(from: $0.baseAddress!, count: spec.count) }
                seen.insert(name)
            } else if name == "lm_head.weight" || name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") {
                continue
            } else if name.hasPrefix("optimizer.") {
                extras[name] = tensor
            } else {
                throw .checkpoint("unexpected tensor \(name) for \(config)")
            }
        }
        if let missing = model.layout.specs.first(where: { !seen.contains($0.name) }) {
            throw .checkpoint("tensor \(missing.name) is missing")
        }
        if let head = file["lm_head.weight"] {
            guard head.values == model.tensor(named: "transformer.wte.weight") else {
                throw .checkpoint("lm_head.weight differs from transformer.wte.weight (the head must be tied)")
            }
        }
        self.init(model: model, tokenizer: tokenizer, extraMetadata: m.filter { !Self.modelKeys.contains($0.key) }, extraTensors: extras)
    }
}

/// Training state riding along with a model: the AdamW moments as the tensors `optimizer.m` and
/// `optimizer.v` (laid out like the parameters) and its step as the metadata `adam_step`, so a
/// run restored from the file takes exactly the updates the uninterrupted run would.
extension Checkpoint {
    /// A checkpoint of `model` carrying `optimizer`'s state and the given metadata.
    public init(model: GPT, tokenizer: CharTokenizer, optimizer: AdamW, metadata: [String: String]) {
        let n = model.layout.count
        var metadata = metadata
        metadata["adam_step"] = "\(optimizer.step)"
        self.init(model: model, tokenizer: tokenizer, extraMetadata: metadata,
                  extraTensors: ["optimizer.m": .init(shape: [n], values: optimizer.m.array),
                                 "optimizer.v": .init(shape: [n], values: optimizer.v.array)])
    }

    /// Copies the parameters into `model` and the optimiser state into `optimizer`, after
    /// checking that the vocabulary, the configuration and the state all fit (nothing is
    /// changed when they do not).
    public func restore(into model: GPT, tokenizer: CharTokenizer, optimizer: AdamW) throws(TinyLMError) {
        guard self.tokenizer == tokenizer, self.model.config == model.config else {
            throw .checkpoint("its vocabulary or configuration differs from the model it should continue")
        }
        guard let a = extraMetadata["adam_step"].flatMap(Int.init), a >= 0,
              let m = extraTensors["optimizer.m"], let v = extraTensors["optimizer.v"],
              m.values.count == model.layout.count, v.values.count == model.layout.count
        else { throw .checkpoint("it holds no resumable optimiser state") }
        model.parameters.copy(from: self.model.parameters)
        optimizer.m.copy(from: FloatBuffer(m.values))
        optimizer.v.copy(from: FloatBuffer(v.values))
        optimizer.step = a
    }
}

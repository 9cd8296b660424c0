import Foundation
import Testing
@testable import TinyLM

@Suite("Safetensors checkpoints")
struct CheckpointTests {
    let tokenizer = CharTokenizer(texts: ["abc de\n"])
    var config: GPTConfig { GPTConfig(vocabSize: tokenizer.count, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8) }
    let docs = ["abc", "de\nde", "", "eeee"]

    func tempURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("tinylm-tests-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    @Test func roundTripKeepsParametersVocabularyAndScores() throws {
        let model = microModel(seed: 31, config: config)
        let url = tempURL("roundtrip.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Checkpoint(model: model, tokenizer: tokenizer, extraMetadata: ["note": "x"]).save(to: url)
        let back = try Checkpoint.load(url)
        #expect(back.model.config == config && back.tokenizer == tokenizer && back.extraMetadata["note"] == "x")
        #expect(back.model.parameters.array == model.parameters.array)
        let encoded = try docs.map { try tokenizer.encode($0) }
        #expect(back.model.logProbs(of: encoded) == model.logProbs(of: encoded))
        // nanoGPT's names and shapes, little-endian F32
        let file = try SafeTensors.read(url)
        #expect(file["transformer.h.1.attn.c_attn.weight"]?.shape == [24, 8])
        #expect(file["transformer.h.0.mlp.c_proj.weight"]?.shape == [8, 32])
        #expect(file["transformer.wpe.weight"]?.shape == [8, 8])
        #expect(file.metadata["n_layer"] == "2" && file.metadata["block_size"] == "8" && file.metadata["bos"] == "0")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.contains(url.lastPathComponent) && $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "atomic write leaves no temporary file")
    }

    /// As PyTorch's safetensors would write a nanoGPT state dict: other tensor order, the tied
    /// `lm_head.weight` stored too, the causal-mask buffers `attn.bias` present.
    @Test func foreignLayoutWithTiedHeadLoadsAndScoresIdentically() throws {
        let model = microModel(seed: 32, config: config)
        var file = Checkpoint(model: model, tokenizer: tokenizer).file()
        file.tensors.reverse()
        file.tensors.append(("lm_head.weight", file["transformer.wte.weight"]!))
        file.tensors.append(("transformer.h.0.attn.bias", .init(shape: [1, 1, 8, 8], values: [Float](repeating: 1, count: 64))))
        let loaded = try Checkpoint(file: SafeTensors.decode(SafeTensors.encode(file)))
        let encoded = try docs.map { try tokenizer.encode($0) }
        #expect(loaded.model.logProbs(of: encoded) == model.logProbs(of: encoded))
    }

    @Test func truncatedFilesAreRefused() throws {
        let data = try SafeTensors.encode(Checkpoint(model: microModel(seed: 33, config: config), tokenizer: tokenizer).file())
        for cut in [0, 5, 8, 40, data.count / 2, data.count - 1] {
            #expect(throws: TinyLMError.self, "cut at \(cut) of \(data.count)") {
                try Checkpoint(file: SafeTensors.decode(data.prefix(cut)))
            }
        }
        var longer = data
        longer.append(0)
        #expect(throws: TinyLMError.self, "trailing byte") { try SafeTensors.decode(longer) }
    }

    @Test func inconsistentFilesAreRefused() throws {
        let base = Checkpoint(model: microModel(seed: 34, config: config), tokenizer: tokenizer).file()
        func refuses(_ what: String, _ edit: (inout SafeTensors.File) -> Void) {
            var f = base
            edit(&f)
            #expect(throws: TinyLMError.self, "\(what)") { try Checkpoint(file: SafeTensors.decode(SafeTensors.encode(f))) }
        }
        refuses("n_embd disagrees with the shapes") { $0.metadata["n_embd"] = "16" }
        refuses("n_layer larger than stored") { $0.metadata["n_layer"] = "3" }
        refuses("missing vocab") { $0.metadata["vocab"] = nil }
        refuses("vocab too short for wte") { $0.metadata["vocab"] = "[\"<|bos|>\",\"<|eos|>\",\"a\"]"; $0.metadata["vocab_size"] = "3" }
        refuses("missing tensor") { $0.tensors.removeAll { $0.name == "transformer.ln_f.bias" } }
        refuses("unknown tensor") { $0.tensors.append(("transformer.h.0.mystery", .init(shape: [1], values: [0]))) }
        refuses("untied head") {
            var w = $0["transformer.wte.weight"]!
            w.values[0] += 1
            $0.tensors.append(("lm_head.weight", w))
        }
        refuses("wrong shape") {
            let i = $0.tensors.firstIndex { $0.name == "transformer.h.0.ln_1.weight" }!
            $0.tensors[i].tensor = .init(shape: [4, 2], values: $0.tensors[i].tensor.values)
        }
    }
}

/// A checkpoint written by PyTorch's safetensors from a PyTorch nanoGPT-architecture model
/// (`bench/nanogpt_reference.py fixture`), with log-probabilities PyTorch computed.
@Suite("PyTorch-written checkpoint")
struct PyTorchFixtureTests {
    @Test func loadsAndScoresAsPyTorchDid() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let c = try Checkpoint.load(dir.appendingPathComponent("pytorch-micro.safetensors"))
        let data = try Data(contentsOf: dir.appendingPathComponent("pytorch-micro.json"))
        let expected = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let texts = expected["texts"] as! [String]
        let logprobs = expected["logprobs"] as! [Double]
        #expect(c.model.config == GPTConfig(vocabSize: c.tokenizer.count, blockSize: 24, nLayer: 2, nHead: 2, nEmbd: 16))
        let ours = c.model.logProbs(of: try texts.map { try c.tokenizer.encode($0) })
        for (o, e) in zip(ours, logprobs) {
            // Float32 in both (PyTorch's logits are Float32 too): 1e-5 relative to |log pi| ~ 3-50
            #expect(abs(o - e) <= 1e-5 * abs(e) + 1e-5, "ours \(o) vs PyTorch \(e)")
        }
    }
}

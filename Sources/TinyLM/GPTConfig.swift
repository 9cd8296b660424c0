/// The hyper-parameters of nanoGPT's `GPTConfig` that this model uses (no dropout, bias on).
///
/// Shape letters used in every doc comment of this module:
/// B batch, T time (positions), C channels (`nEmbd`), V vocabulary, NH heads, HS head size
/// (C / NH), L layers, maxT the block size.
public struct GPTConfig: Sendable, Equatable, Codable, CustomStringConvertible {
    /// V: number of tokens, including the start and end tokens.
    public var vocabSize: Int
    /// maxT: the longest context (learned positions 0..<blockSize).
    public var blockSize: Int
    /// L: number of transformer blocks.
    public var nLayer: Int
    /// NH: attention heads a block.
    public var nHead: Int
    /// C: embedding width; must be a multiple of `nHead`.
    public var nEmbd: Int

    public init(vocabSize: Int, blockSize: Int, nLayer: Int, nHead: Int, nEmbd: Int) {
        precondition(vocabSize >= 2 && blockSize >= 1 && nLayer >= 1 && nHead >= 1 && nEmbd >= 1,
                     "GPTConfig needs positive sizes")
        precondition(nEmbd % nHead == 0, "n_embd (\(nEmbd)) must be a multiple of n_head (\(nHead))")
        self.vocabSize = vocabSize
        self.blockSize = blockSize
        self.nLayer = nLayer
        self.nHead = nHead
        self.nEmbd = nEmbd
    }

    /// HS: the width of one head.
    public var headSize: Int { nEmbd / nHead }

    public var description: String {
        "n_layer=\(nLayer) n_head=\(nHead) n_embd=\(nEmbd) vocab=\(vocabSize) block=\(blockSize)"
    }

    /// The three configurations of `shared/bench/tinygpt_torch.py` (vocabulary 64, context 64).
    public static func benchmark(_ name: String) -> GPTConfig? {
        switch name {
        case "small": GPTConfig(vocabSize: 64, blockSize: 64, nLayer: 2, nHead: 4, nEmbd: 64)
        case "base": GPTConfig(vocabSize: 64, blockSize: 64, nLayer: 4, nHead: 4, nEmbd: 128)
        case "large": GPTConfig(vocabSize: 64, blockSize: 64, nLayer: 6, nHead: 4, nEmbd: 256)
        default: nil
        }
    }
}

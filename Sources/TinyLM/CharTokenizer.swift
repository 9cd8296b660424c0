/// A character (Unicode scalar) vocabulary with a start token and an end token.
///
/// A document x is encoded as BOS, its characters, EOS; the model's pi(x) is the product of
/// the next-token probabilities of every character and of EOS given the prefix from BOS, so
/// pi is a distribution over finite strings (see `GPT.logProbs(of:)`).
///
/// As in nanoGPT, the softmax covers every token, the start token included: strictly, pi is a
/// distribution over token sequences BOS (any token but EOS)* EOS, and a sample may contain the
/// start token inside the document. Training never shows it there, so a pretrained model gives
/// it a negligible probability; `decode` drops it, so only then does a text fail to re-encode to
/// its sample's tokens. Work with token sequences where exactness matters.
public struct CharTokenizer: Sendable, Equatable {
    /// Token strings, index = token id. BOS and EOS are multi-character names, so they never
    /// collide with a character token.
    public let vocab: [String]
    /// The start token's id.
    public let bos: Int32
    /// The end token's id.
    public let eos: Int32
    private let idByScalar: [Unicode.Scalar: Int32]

    public static let bosName = "<|bos|>"
    public static let eosName = "<|eos|>"

    /// A vocabulary of BOS (id 0), EOS (id 1) and then the given characters in ascending
    /// Unicode order (duplicates removed).
    public init<S: Sequence>(characters: S) where S.Element == Unicode.Scalar {
        let chars = Set(characters).sorted { $0.value < $1.value }
        try! self.init(vocab: [Self.bosName, Self.eosName] + chars.map { String($0) }, bos: 0, eos: 1)
    }

    /// The vocabulary of every character that occurs in `texts`.
    public init(texts: [String]) {
        var seen = Set<Unicode.Scalar>()
        for text in texts { seen.formUnion(text.unicodeScalars) }
        self.init(characters: seen)
    }

    /// A vocabulary as stored in a checkpoint: every entry but BOS and EOS one Unicode scalar.
    public init(vocab: [String], bos: Int32, eos: Int32) throws(TinyLMError) {
        guard vocab.indices.contains(Int(bos)), vocab.indices.contains(Int(eos)), bos != eos else {
            throw .invalidVocabulary("bos \(bos) and eos \(eos) must be distinct ids below \(vocab.count)")
        }
        var map: [Unicode.Scalar: Int32] = [:]
        for (i, s) in vocab.enumerated() where i != Int(bos) && i != Int(eos) {
            let scalars = Array(s.unicodeScalars)
            guard scalars.count == 1 else { throw .invalidVocabulary("entry \(i) is not one character: \(s.debugDescription)") }
            guard map[scalars[0]] == nil else { throw .invalidVocabulary("character \(s.debugDescription) appears twice") }
            map[scalars[0]] = Int32(i)
        }
        self.vocab = vocab
        self.bos = bos
        self.eos = eos
        idByScalar = map
    }

    /// V, including BOS and EOS.
    public var count: Int { vocab.count }

    /// BOS, the characters of `text`, EOS.
    /// - Throws: `TinyLMError.unknownCharacter` naming the first character outside the vocabulary.
    public func encode(_ text: String) throws(TinyLMError) -> [Int32] {
        var ids: [Int32] = [bos]
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            guard let id = idByScalar[scalar] else { throw .unknownCharacter(scalar, offset: offset) }
            ids.append(id)
        }
        ids.append(eos)
        return ids
    }

    /// True when every character of `text` has a token.
    public func covers(_ text: String) -> Bool { text.unicodeScalars.allSatisfy { idByScalar[$0] != nil } }

    /// The text of a token sequence: characters only, BOS and EOS dropped.
    public func decode<S: Sequence>(_ ids: S) -> String where S.Element == Int32 {
        var s = String.UnicodeScalarView()
        for id in ids where id != bos && id != eos {
            if let scalar = vocab[Int(id)].unicodeScalars.first { s.append(scalar) }
        }
        return String(s)
    }
}

/// Errors of the TinyLM library, each with a one-line description for the command line.
public enum TinyLMError: Error, CustomStringConvertible, Equatable {
    case invalidVocabulary(String)
    case unknownCharacter(Unicode.Scalar, offset: Int)
    case tooLong(length: Int, blockSize: Int)
    case checkpoint(String)
    case corpus(String)
    /// Training produced a non-finite loss or parameters (a learning rate too high): nothing was saved.
    case diverged(step: Int, loss: Double)

    public var description: String {
        switch self {
        case .invalidVocabulary(let why): "invalid vocabulary: \(why)"
        case .unknownCharacter(let c, let offset):
            "character \(String(c).debugDescription) (U+\(String(c.value, radix: 16, uppercase: true))) at offset \(offset) is not in the vocabulary"
        case .tooLong(let length, let blockSize): "text of \(length) characters does not fit the block size \(blockSize) (at most \(blockSize - 1))"
        case .checkpoint(let why): "checkpoint: \(why)"
        case .corpus(let why): "corpus: \(why)"
        case .diverged(let step, let loss):
            "training diverged at step \(step) (loss \(loss)); nothing was saved from that step on: lower the learning rate"
        }
    }
}

import Foundation

/// The quotations of Debian's `fortunes` package as documents, with a deterministic split.
///
/// Reading rules: every regular file of the directory whose name has no extension (so the
/// strfile `.dat` indexes and the `.u8` duplicates are skipped; sub-folders such as `off/`
/// are not entered), in byte order of the file names; within a file, quotations are separated
/// by lines holding only `%`. A quotation is trimmed of leading and trailing white space and
/// new lines; empty ones and repeats of an earlier quotation are dropped.
///
/// Split: the k-th distinct quotation (k = 0, 1, ... over the whole corpus, before any length
/// filter) goes to validation when k % 10 == 9, to training otherwise. Then quotations longer
/// than `maxCharacters` Unicode scalars are dropped from both sides.
public struct FortuneCorpus: Sendable {
    public static let defaultDirectory = "/usr/share/games/fortunes"

    public let train: [String]
    public let validation: [String]
    /// The files read, in order.
    public let files: [String]

    public var all: [String] { train + validation }

    public init(train: [String], validation: [String], files: [String] = []) {
        self.train = train
        self.validation = validation
        self.files = files
    }

    /// Reads the corpus; see the type's documentation for the rules.
    public static func load(directory: String = defaultDirectory, maxCharacters: Int) throws(TinyLMError) -> FortuneCorpus {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw .corpus("cannot read \(directory) (install Debian's fortunes package: apt-get install fortunes)")
        }
        var files: [String] = []
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) where !name.contains(".") {
            var isDir: ObjCBool = false
            let path = directory + "/" + name
            if fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { files.append(path) }
        }
        guard !files.isEmpty else { throw .corpus("no fortune files in \(directory)") }
        var seen = Set<String>()
        var train: [String] = [], validation: [String] = []
        var k = 0
        for path in files {
            guard let data = fm.contents(atPath: path) else { throw .corpus("cannot read \(path)") }
            for q in quotations(in: String(decoding: data, as: UTF8.self)) where seen.insert(q).inserted {
                defer { k += 1 }
                guard q.unicodeScalars.count <= maxCharacters else { continue }
                if k % 10 == 9 { validation.append(q) } else { train.append(q) }
            }
        }
        return FortuneCorpus(train: train, validation: validation, files: files)
    }

    /// The quotations of one strfile text: pieces between lines that are exactly `%`, trimmed.
    public static func quotations(in text: String) -> [String] {
        var out: [String] = []
        var current: [Substring] = []
        func flush() {
            let q = current.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if !q.isEmpty { out.append(q) }
            current = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "%" || line == "%\r" { flush() } else { current.append(line) }
        }
        flush()
        return out
    }
}

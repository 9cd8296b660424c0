import Notebook

/// A chapter command whose sources are embedded: the EmbedSources plugin makes the chapter's
/// command type conform, and `ChapterMain.main` hands the sources to `Chapter.run`.
public protocol EmbedsSources {
    static var sources: ChapterSources { get }
}

/// A chapter's Swift sources as they were compiled, embedded by the EmbedSources build-tool
/// plugin (`embeddedSources` in every chapter module). A page shows, under each section, the
/// function that built it, and its provenance carries `hash`, so a reader can tell which code
/// produced the numbers.
public struct ChapterSources: Sendable {
    public struct File: Sendable {
        /// From the package root: "Chapters/01-distribution-collapse/main.swift".
        public let path: String
        public let text: String
        public init(path: String, text: String) { self.path = path; self.text = text }
    }

    public let files: [File]

    public init(files: [File]) { self.files = files }

    /// FNV-1a (64 bits, hexadecimal) of every file's path and text, in path order, each followed
    /// by a zero byte: the same bytes give the same hash on every machine.
    public var hash: String {
        var h: UInt64 = 0xcbf29ce484222325
        for f in files.sorted(by: { $0.path < $1.path }) {
            for b in f.path.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            h = (h ^ 0) &* 0x100000001b3
            for b in f.text.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            h = (h ^ 0) &* 0x100000001b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The function around a call, as an excerpt: the file is matched by the last component of
    /// `#fileID` ("Chapter01/main.swift" → "main.swift"), the function by `SwiftCode`.
    public func excerpt(at location: CodeLocation) -> CodeExcerpt? {
        let name = location.fileID.split(separator: "/").last.map(String.init) ?? location.fileID
        guard let file = files.first(where: { $0.path.split(separator: "/").last.map(String.init) == name }),
              let range = SwiftCode.enclosingFunction(file.text, line: location.line) else { return nil }
        let lines = file.text.split(separator: "\n", omittingEmptySubsequences: false)
        guard range.upperBound <= lines.count else { return nil }
        return CodeExcerpt(path: file.path, firstLine: range.lowerBound,
                           text: lines[(range.lowerBound - 1)...(range.upperBound - 1)].joined(separator: "\n"))
    }
}

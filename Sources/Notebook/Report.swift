import Foundation

/// The JSON twin of a page (schema in `Docs/report-schema.md`): the same checks and numbers,
/// for programs and tests. Non-finite numbers are written as the strings "Infinity",
/// "-Infinity" and "NaN" so that the file stays valid JSON.
public struct Report: Codable, Sendable {
    public static let schemaVersion = "klbayes-report/2"
    public var schema: String
    public var chapter: String
    public var number: Int
    public var title: String
    public var summary: String
    public var passed: Int
    public var failed: Int
    public var checks: [Check]
    public var values: [String: Double]
    public var errata: [String]
    /// Derivations shown on the page (algebraic steps with their values; not checks).
    public var derivations: [Derivation]
    /// The command that makes this page again (`swift run -c release …`), if the page says it.
    public var reproduction: String?
    /// The code shown on the page, a function a section, as compiled.
    public var code: [CodeExcerpt]
    public var provenance: Provenance

    public init(page: Page, provenance: Provenance) {
        schema = Report.schemaVersion
        chapter = page.slug; number = page.number; title = page.title; summary = page.summary
        passed = page.passedCount; failed = page.failedCount
        checks = page.checks; values = page.values; errata = page.errata
        derivations = page.derivations
        reproduction = page.reproduction
        code = page.code
        self.provenance = provenance
    }

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }

    public func json() throws -> Data { try Report.encoder().encode(self) }
}

/// Writes a chapter's page and report into an output folder, then rebuilds the index from
/// every report found there.
public enum Publisher {
    public static func publish(_ page: Page, provenance: Provenance, to folder: URL) throws {
        try AtomicFile.prepareFolder(folder)
        let report = Report(page: page, provenance: provenance)
        try AtomicFile.write(try report.json(), to: folder.appendingPathComponent("\(page.slug).json"))
        try AtomicFile.write(Renderer.page(page, provenance: provenance), to: folder.appendingPathComponent("\(page.slug).html"))
        try writeIndex(in: folder)
    }

    /// Reads every `*.json` report in `folder` and writes `index.html`.
    public static func writeIndex(in folder: URL) throws {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var reports: [Report] = []
        for name in files.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  let r = try? Report.decoder().decode(Report.self, from: data), r.schema == Report.schemaVersion else { continue }
            reports.append(r)
        }
        try AtomicFile.write(Renderer.index(reports.sorted { $0.number < $1.number }), to: folder.appendingPathComponent("index.html"))
    }
}

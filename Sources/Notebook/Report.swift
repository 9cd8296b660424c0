import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
    /// The data of every figure and table on the page, numbered as the page numbers them
    /// (absent in reports written before they were recorded).
    public var figures: [FigureRecord]?
    public var tables: [TableRecord]?
    /// The works the page names, as listed at its end.
    public var references: [Reference]?
    public var provenance: Provenance

    public init(page: Page, provenance: Provenance) {
        schema = Report.schemaVersion
        chapter = page.slug; number = page.number; title = page.title; summary = page.summary
        passed = page.passedCount; failed = page.failedCount
        checks = page.checks; values = page.values; errata = page.errata
        derivations = page.derivations
        reproduction = page.reproduction
        code = page.code
        figures = page.figures; tables = page.tables; references = page.citedWorks
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

/// Writes a chapter's page and report into an output folder and rebuilds the index, all or
/// nothing: `<slug>.json`, `<slug>.html` and `index.html` change together or not at all.
///
/// The three files are first written in full as temporaries (`AtomicFile`); a failure there (a
/// full disk) removes them and leaves the previous report as it was, and the error names the
/// real reason. Then a journal naming the three renames is written, the renames are made with
/// SIGINT, SIGTERM and SIGHUP held, and the journal is deleted. A SIGKILL between the renames
/// leaves the journal, and the next publish or index build in the folder finishes the renames
/// first. Publishers of one folder take turns (an exclusive `flock` on the folder), so two
/// chapters run at once both end up in the index.
///
/// The index lists only reports whose file name is their own chapter's slug (lowercase
/// letters, digits and hyphens) and whose HTML page exists: a planted or copied JSON file is
/// not linked.
public enum Publisher {
    static let journalName = ".publish.journal"

    public static func publish(_ page: Page, provenance: Provenance, to folder: URL, front: BookFront = .untitled) throws {
        try AtomicFile.prepareFolder(folder)
        guard isSafeSlug(page.slug) else {
            throw AtomicFile.WriteError(path: folder.path, reason: "the page's slug \(page.slug) is not made of lowercase letters, digits and hyphens")
        }
        let report = Report(page: page, provenance: provenance)
        let json = try report.json()
        let html = Data(Renderer.page(page, provenance: provenance).html.utf8)
        try withFolderLock(folder) {
            try recover(folder)
            let others = reports(in: folder).filter { $0.chapter != page.slug }
            let index = Data(Renderer.index(ordered(others + [report]), front: front).html.utf8)
            try commit([("\(page.slug).json", json), ("\(page.slug).html", html), ("index.html", index)], in: folder)
        }
    }

    /// Writes one page as a single self-contained HTML file at `url` (atomically, or through
    /// to a device or FIFO); no JSON, no index, nothing else in its folder.
    public static func writePage(_ page: Page, provenance: Provenance, to url: URL) throws {
        try AtomicFile.write(Renderer.page(page, provenance: provenance).html, to: url)
    }

    /// Rebuilds `index.html` from the reports in `folder` (finishing an interrupted publish first).
    public static func writeIndex(in folder: URL, front: BookFront = .untitled) throws {
        try withFolderLock(folder) {
            try recover(folder)
            try commit([("index.html", Data(Renderer.index(ordered(reports(in: folder)), front: front).html.utf8))], in: folder)
        }
    }

    /// The reports of `folder` the index may link: `<slug>.json` of schema `Report.schemaVersion`
    /// whose chapter is `<slug>`, a safe slug, with `<slug>.html` beside it.
    static func reports(in folder: URL) -> [Report] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var out: [Report] = []
        for name in files.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let slug = String(name.dropLast(5))
            guard isSafeSlug(slug), FileManager.default.fileExists(atPath: folder.appendingPathComponent(slug + ".html").path),
                  let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  let r = try? Report.decoder().decode(Report.self, from: data),
                  r.schema == Report.schemaVersion, r.chapter == slug else { continue }
            out.append(r)
        }
        return out
    }

    static func ordered(_ reports: [Report]) -> [Report] {
        reports.sorted { ($0.number, $0.chapter) < ($1.number, $1.chapter) }
    }

    /// Lowercase ASCII letters, digits and hyphens, 1 to 100 of them, not starting with a hyphen.
    static func isSafeSlug(_ s: String) -> Bool {
        (1...100).contains(s.utf8.count) && s.utf8.first != UInt8(ascii: "-")
            && s.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    /// Runs `body` holding an exclusive lock on the folder itself (no lock file is left).
    static func withFolderLock<R>(_ folder: URL, _ body: () throws -> R) throws -> R {
        let fd = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw AtomicFile.WriteError(path: folder.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw AtomicFile.WriteError(path: folder.path, reason: "cannot lock it: \(String(cString: strerror(errno)))") }
        }
        return try body()
    }

    /// Writes every file as a temporary, then renames them all under the journal.
    static func commit(_ files: [(name: String, data: Data)], in folder: URL) throws {
        for f in files {
            let url = folder.appendingPathComponent(f.name)
            if case .stream = try AtomicFile.Target(url) {
                throw AtomicFile.WriteError(path: url.path, reason: "it is not a regular file (a report is never written into a device or a FIFO)")
            }
        }
        var temporaries: [URL] = []
        defer { for t in temporaries { Temporaries.unregister(t.path) } }
        func discard() { for t in temporaries { unlink(t.path) } }
        do {
            for f in files { temporaries.append(try AtomicFile.writeTemporary(f.data, beside: folder.appendingPathComponent(f.name))) }
        } catch { discard(); throw error }
        let renames = zip(temporaries, files).map { [$0.0.lastPathComponent, $0.1.name] }
        let journal = folder.appendingPathComponent(journalName)
        let journalTemporary: URL
        do {
            journalTemporary = try AtomicFile.writeTemporary(try JSONSerialization.data(withJSONObject: renames), beside: journal)
        } catch { discard(); throw error }
        defer { Temporaries.unregister(journalTemporary.path) }
        Temporaries.beginCritical()
        defer { Temporaries.endCritical() }
        guard rename(journalTemporary.path, journal.path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(journalTemporary.path); discard()
            throw AtomicFile.WriteError(path: journal.path, reason: reason)
        }
        try finish(renames, journal: journal, in: folder)
    }

    /// Makes the journal's renames whose temporary still exists, then deletes the journal.
    static func finish(_ renames: [[String]], journal: URL, in folder: URL) throws {
        for pair in renames where pair.count == 2 {
            let from = folder.appendingPathComponent(pair[0]), to = folder.appendingPathComponent(pair[1])
            guard FileManager.default.fileExists(atPath: from.path) else { continue }
            if rename(from.path, to.path) != 0 {
                throw AtomicFile.WriteError(path: to.path, reason: String(cString: strerror(errno)))
            }
        }
        let fd = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 { fsync(fd); close(fd) }
        unlink(journal.path)
    }

    /// Finishes a publish that was killed between its renames (its journal is still there).
    static func recover(_ folder: URL) throws {
        let journal = folder.appendingPathComponent(journalName)
        guard let data = FileManager.default.contents(atPath: journal.path) else { return }
        guard let renames = (try? JSONSerialization.jsonObject(with: data)) as? [[String]],
              renames.allSatisfy({ $0.count == 2 && !$0[0].contains("/") && !$0[1].contains("/") }) else {
            unlink(journal.path)   // not ours: its temporaries, if any, are deleted as stale
            return
        }
        try finish(renames, journal: journal, in: folder)
    }
}

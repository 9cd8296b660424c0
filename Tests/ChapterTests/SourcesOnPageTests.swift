import BookKit
import Foundation
import Notebook
import Testing

/// Each page shows, under each section, the code that built it, as compiled; its provenance
/// holds the hash of that code; it says how to run it again and links its JSON twin.
@Suite("The code beside its output")
struct SourcesOnPageTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let chapters: [(product: String, slug: String)] = [
        ("distribution-collapse", "01-distribution-collapse"), ("reward-shaping", "02-reward-shaping"),
        ("optimal-policy", "03-optimal-policy"), ("evidence-lower-bound", "04-evidence-lower-bound"),
        ("kl-proportionality", "05-kl-proportionality"), ("modelling-and-inference", "06-modelling-and-inference"),
        ("forward-and-reverse-kl", "07-forward-and-reverse-kl"), ("square-root-law", "08-square-root-law"),
        ("measuring-kl", "09-measuring-kl"),
    ]

    /// FNV-1a of the chapter folder's Swift files as they are in this checkout, as
    /// `ChapterSources.hash` computes it.
    static func workingTreeHash(slug: String) throws -> String {
        let folder = packageRoot.appendingPathComponent("Chapters/\(slug)")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }.sorted()
        var h: UInt64 = 0xcbf29ce484222325
        for name in names {
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            for b in "Chapters/\(slug)/\(name)".utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            h = h &* 0x100000001b3
            for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            h = h &* 0x100000001b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    @Test("every section shows its code, the hash matches, the page links its JSON; figures, tables, works and neighbours linked",
          arguments: SourcesOnPageTests.chapters.map(\.product))
    func codeBesideOutput(product: String) throws {
        let slug = Self.chapters.first { $0.product == product }!.slug
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let arguments = ["--quick", "--seed", "2"]
        let run = try ChapterRunner.run(product, arguments + ["--output", folder.path])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try ChapterRunner.report(in: folder, slug: slug)
        let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
        try Self.expectCodeBesideOutput(product: product, slug: slug, arguments: arguments, folder: folder.path,
                                        report: report, html: html)
    }

    /// What `codeBesideOutput` asks of a page already written by `product arguments --output folder`
    /// (chapters 10 and 11 hold their own shared run to it, as their runs take minutes).
    static func expectCodeBesideOutput(product: String, slug: String, arguments: [String], folder: String,
                                       report: Report, html: String,
                                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(report.provenance.sourceHash == (try Self.workingTreeHash(slug: slug)), sourceLocation: sourceLocation)
        #expect(!report.code.isEmpty)
        for excerpt in report.code {
            let text = try String(contentsOf: Self.packageRoot.appendingPathComponent(excerpt.path), encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let count = excerpt.text.split(separator: "\n", omittingEmptySubsequences: false).count
            #expect(lines[(excerpt.firstLine - 1)..<(excerpt.firstLine - 1 + count)].joined(separator: "\n") == excerpt.text,
                    "\(excerpt.path):\(excerpt.firstLine)")
            #expect(excerpt.text.contains("func "))
        }
        let command = (["swift run -c release", product] + arguments + ["--output", folder]).joined(separator: " ")
        #expect(report.reproduction == command, sourceLocation: sourceLocation)
        #expect(html.contains("href=\"\(slug).json\""))
        #expect(html.contains("id=\"option-seed\""))
        try Self.expectFiguresTablesAndReferences(slug: slug, report: report, html: html)
        // Every section but the last ("Re-run it") holds its code or a reference to it.
        let sections = html.components(separatedBy: "<h2").dropFirst()
        for section in sections where !section.contains("Re-run it</h2>") && !section.contains("Provenance</h2>")
            && !section.contains(">References</h2>") {
            let body = section.components(separatedBy: "<footer").first!
            #expect(body.contains("class=\"code\"") || body.contains("class=\"code-ref\""),
                    "a section without its code: \(body.prefix(80))")
        }
    }

    /// Every figure and table is numbered and anchored, every citation by number and every in-page
    /// link finds its target, every work named is listed with a link, and the page links its
    /// neighbours in the book.
    static func expectFiguresTablesAndReferences(slug: String, report: Report, html: String) throws {
        let ids = Set(html.matches(of: /id="([^"]+)"/).map { String($0.output.1) })
        // Numbered 1, 2, ... in the HTML and in the JSON, which holds every figure's data and table's cells.
        let figures = try #require(report.figures), tables = try #require(report.tables)
        #expect(figures.map(\.number) == Array(figures.indices.map { $0 + 1 }))
        #expect(tables.map(\.number) == Array(tables.indices.map { $0 + 1 }))
        #expect(!figures.isEmpty && figures.allSatisfy { !$0.series.isEmpty && $0.series.allSatisfy { $0.x.count == $0.y.count } })
        for f in figures { #expect(ids.contains("figure-\(f.number)") && html.contains("Figure \(f.number).</span>")) }
        for t in tables { #expect(ids.contains("table-\(t.number)") && html.contains("Table \(t.number).</span>")) }
        #expect(!ids.contains("figure-\(figures.count + 1)") && !ids.contains("table-\(tables.count + 1)"))
        // Citations by number: none unresolved, none left as source, each to a figure or table that exists.
        // (The code shown under a section keeps its citations as written.)
        let text = html.replacing(/<pre[\s\S]*?<\/pre>/, with: "")
        #expect(!html.contains("xref missing") && !text.contains("@fig:") && !text.contains("@tbl:"))
        for m in html.matches(of: /<a class="xref" href="#(figure|table)-(\d+)">(Figure|Table) (\d+)<\/a>/) {
            #expect(m.output.2 == m.output.4 && ids.contains("\(m.output.1)-\(m.output.2)"))
        }
        for target in html.matches(of: /href="#([^"]+)"/).map({ String($0.output.1) }) {
            #expect(ids.contains(target), "a link to #\(target), which is not on the page")
        }
        // The works it names, listed with links; the paper always.
        let references = try #require(report.references)
        #expect(references.first?.key == "korbak2022")
        for r in references {
            #expect(r.url.hasPrefix("https://") || r.url.hasPrefix("http://"))
            #expect(ids.contains("ref-\(r.key)"))
        }
        // The previous and next chapters, as the book lists them.
        let (previous, next) = BookContents.neighbours(of: slug)
        if let p = previous { #expect(html.contains("rel=\"prev\" href=\"\(p.href)\"")) }
        if let n = next { #expect(html.contains("rel=\"next\" href=\"\(n.href)\"")) }
        #expect(previous != nil || next != nil)
    }

    @Test("the book's contents list every chapter folder, in order")
    func contentsMatchFolders() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.packageRoot.appendingPathComponent("Chapters").path)
            .filter { $0.first?.isNumber == true }.sorted()
        #expect(BookContents.slugs == folders)
    }

    /// Issue 21: a chapter's source reads as the page it writes, so no line is wider than 120
    /// characters (counted as Unicode scalars, not bytes: π and ‖ are one each).
    @Test("no chapter source line is longer than 120 characters")
    func lineLength() throws {
        let chapters = Self.packageRoot.appendingPathComponent("Chapters")
        let folders = try FileManager.default.contentsOfDirectory(atPath: chapters.path)
            .filter { $0.first?.isNumber == true }.sorted()
        #expect(!folders.isEmpty)
        for folder in folders {
            let names = try FileManager.default.contentsOfDirectory(atPath: chapters.appendingPathComponent(folder).path)
                .filter { $0.hasSuffix(".swift") }.sorted()
            for name in names {
                let text = try String(contentsOf: chapters.appendingPathComponent("\(folder)/\(name)"), encoding: .utf8)
                for (k, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where line.unicodeScalars.count > 120 {
                    Issue.record("Chapters/\(folder)/\(name):\(k + 1) is \(line.unicodeScalars.count) characters long (at most 120)")
                }
            }
        }
    }
}

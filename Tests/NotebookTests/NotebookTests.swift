import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import BookKit
@testable import Notebook
import Testing

/// Parses text as XML and reports whether it is well-formed.
func isWellFormedXML(_ text: String) -> Bool {
    let parser = XMLParser(data: Data(text.utf8))
    return parser.parse()
}

@Suite("Notebook: escaping, equations, axes, reports")
struct NotebookTests {
    static let hostile = [
        "<script>alert(1)</script>", "a & b", "\"quoted\" 'single'", "]]>", "</math><b>x</b>",
        "\u{0}\u{1}\u{7}\u{1B}[31m", "\u{FFFD} from invalid UTF-8", "<!-- comment -->", "&amp; &#x3c;", "$x<y$",
    ]

    @Test("escaping leaves no markup and no control characters", arguments: hostile)
    func escaping(text: String) {
        let e = HTML.escape(text)
        #expect(!e.contains("<") && !e.contains(">"))
        #expect(!e.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" })
        #expect(isWellFormedXML("<p>\(e)</p>"))
    }

    @Test("invalid UTF-8 becomes U+FFFD")
    func lossyDecoding() {
        let s = HTML.lossyUTF8([0x61, 0xFF, 0xFE, 0x62, 0xC3])
        #expect(s == "a\u{FFFD}\u{FFFD}b\u{FFFD}")
    }

    @Test("hostile text through every page path stays text and the page stays well-formed")
    func hostilePage() throws {
        let evil = Self.hostile.joined(separator: " ")
        let page = Page(slug: "99-" + "evil", number: 99, title: evil, summary: evil)
        page.section(evil)
        page.prose(evil)
        page.equation("\\text{\(evil)} x < y", number: evil)
        page.parameters([(evil, evil)])
        page.check(Check(claim: evil, reference: evil, aLabel: evil, bLabel: evil, a: 1, b: 1, tolerance: 0, because: evil))
        page.plot(LinePlot(title: evil, description: evil, xLabel: evil, yLabel: evil,
                           series: [Series(evil, x: [0, 1], y: [0, 1])], references: [ReferenceLine(.horizontal, at: 0.5, label: evil)]),
                  caption: evil)
        page.plot(BarChart(title: evil, description: evil, categories: [evil], yLabel: evil, series: [(name: evil, values: [0.5])]), caption: evil)
        page.table(headers: [evil], rows: [[evil]], caption: evil)
        page.aside(evil, kind: .erratum)
        page.samples(evil, [evil])
        let provenance = Provenance(commit: evil, dirty: true, commandLine: evil, seed: 1, parameters: [evil: evil],
                                    swiftVersion: evil, gslVersion: evil, openblas: evil, cores: 2, date: evil, elapsedSeconds: 1)
        let html = Renderer.page(page, provenance: provenance).html
        #expect(!html.contains("<script>"))
        #expect(!html.contains("<b>x</b>"))
        #expect(!html.contains("<!-- comment -->"))
        // Strip the doctype and check the whole document parses as XML (our markup is XHTML-clean).
        let body = html.replacingOccurrences(of: "<!DOCTYPE html>", with: "")
            .replacingOccurrences(of: "<meta charset=\"utf-8\">", with: "<meta charset=\"utf-8\"/>")
            .replacingOccurrences(of: "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">", with: "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>")
            .replacingOccurrences(of: "<meta name=\"color-scheme\" content=\"light dark\">", with: "<meta name=\"color-scheme\" content=\"light dark\"/>")
        #expect(isWellFormedXML(body))
        let index = Renderer.index([Report(page: page, provenance: provenance)]).html
        #expect(!index.contains("<script>"))
    }

    @Test("TeX-like notation becomes well-formed MathML", arguments: [
        "\\pi^*(x) = \\frac{1}{Z} \\pi_0(x) \\exp(r(x)/\\beta)",
        "\\sum_{x \\in X} \\pi(x) \\log \\frac{\\pi(x)}{\\pi_0(x)}",
        "\\mathbb{E}_{x \\sim \\pi} \\left[ r(x) \\right] \\le \\max_x r(x)",
        "J_{KLRL}(\\theta) \\propto -\\operatorname{KL}(\\pi_\\theta, \\pi^*)",
        "\\lVert g \\rVert \\ne \\hat{Z}, \\sqrt{2 \\, KL}, \\left\\{ a \\right\\}",
        "x'' + \\unknown{y} < 3.5",
    ])
    func tex(source: String) {
        let m = TeX.block(source).html
        #expect(isWellFormedXML(m))
        #expect(m.hasPrefix("<math display=\"block\">"))
    }

    @Test("TeX structures map to the MathML elements a reader expects")
    func texStructure() {
        #expect(TeX.convert("\\frac{a}{b}").html.contains("<mfrac><mrow><mi>a</mi></mrow><mrow><mi>b</mi></mrow></mfrac>"))
        #expect(TeX.convert("x_i^2").html.contains("<msubsup><mi>x</mi><mrow><mi>i</mi></mrow><mrow><mn>2</mn></mrow></msubsup>"))
        #expect(TeX.convert("\\sum_{x}").html.contains("<munder>"))
        #expect(TeX.convert("\\beta").html.contains("β"))
        #expect(TeX.convert("\\mathbb{E}").html.contains("𝔼"))
        #expect(TeX.convert("\\left( x \\right)").html.contains("stretchy=\"true\""))
        #expect(TeX.convert("\\foo").html.contains("<mtext>\\foo</mtext>"))   // unknown commands are shown, not dropped
        #expect(TeX.convert("\\dfrac{a}{b}").html == TeX.convert("\\frac{a}{b}").html)
        // A formula written over several source lines (a raw multi-line string) reads as on one line.
        #expect(TeX.convert("a = b\n  + \\frac{c}{d}").html == TeX.convert("a = b + \\frac{c}{d}").html)
        #expect(TeX.convert("\\tfrac{1}{2}").html.contains("<mstyle displaystyle=\"false\"><mfrac><mrow><mn>1</mn></mrow><mrow><mn>2</mn></mrow></mfrac></mstyle>"))
        #expect(TeX.convert("\\binom{n}{k}").html.contains("<mo>(</mo><mfrac linethickness=\"0\"><mrow><mi>n</mi></mrow><mrow><mi>k</mi></mrow></mfrac><mo>)</mo>"))
    }

    @Test("a table cell that is one number is marked so a phone keeps its digits together; text is not")
    func numberCells() {
        for cell in ["1000", "0.00118734", "9.57771×10⁻¹⁰", "−4.5", "-3", "1.2×10⁷"] {
            #expect(Renderer.isNumber(cell), "\(cell)")
        }
        for cell in ["", "x", "4.701 at π0", "1 (π*_b)", "kl_to_posterior_end", "×10", "3.1 ± 0.2", "$Z$"] {
            #expect(!Renderer.isNumber(cell), "\(cell)")
        }
        let page = Page(slug: "01-t", number: 1, title: "t", summary: "s")
        page.table(headers: ["a", "b"], rows: [["pi", "0.25"]], caption: "c")
        let html = Renderer.page(page, provenance: CrossReferenceTests.provenance).html
        #expect(html.contains("<td class=\"number\">0.25</td>") && html.contains("<td>pi</td>"))
    }

    @Test("axis ticks are round numbers printed without binary noise")
    func ticks() {
        // Steps of 0.1 accumulate binary noise (0.1 + 0.2 = 0.30000000000000004) unless cleaned.
        let a = Axis(label: "x", covering: [0, 0.45], tickCount: 5)
        let labels = a.ticks.map { a.tickLabel($0) }
        #expect(labels == ["0", "0.1", "0.2", "0.3", "0.4", "0.5"])
        #expect(a.ticks[3] == 0.3)
        let b = Axis(label: "y", covering: [-3.3, 1234])
        #expect(b.lower <= -3.3 && b.upper >= 1234)
        #expect(b.ticks.count >= 3 && b.ticks.count <= 12)
        let c = Axis(label: "z", scale: .log10, covering: [0.002, 5e4])
        #expect(c.lower <= 0.002 && c.upper >= 5e4)
        #expect(c.ticks.allSatisfy { $0 > 0 })
        let d = Axis(label: "flat", covering: [2, 2])
        #expect(d.lower < 2 && d.upper > 2)
    }

    @Test("numbers are formatted for people")
    func numbers() {
        #expect(NumberFormat.format(0.1 + 0.2) == "0.3")
        #expect(NumberFormat.format(1e-20).contains("×10⁻²⁰"))
        #expect(NumberFormat.format(-2.5) == "−2.5")
        #expect(NumberFormat.format(.infinity) == "∞")
        #expect(NumberFormat.format(.nan) == "NaN")
        #expect(NumberFormat.format(123456.0) == "123456")
    }

    @Test("checks compare as documented, and NaN never passes")
    func checks() {
        #expect(Check(claim: "c", aLabel: "a", bLabel: "b", a: 1, b: 1 + 1e-12, tolerance: 1e-11, because: "r").passed)
        #expect(!Check(claim: "c", aLabel: "a", bLabel: "b", a: 1, b: 1.1, tolerance: 1e-3, because: "r").passed)
        #expect(!Check(claim: "c", aLabel: "a", bLabel: "b", a: .nan, b: .nan, tolerance: 1, because: "r").passed)
        #expect(Check(claim: "c", aLabel: "a", bLabel: "b", a: .infinity, b: .infinity, tolerance: 0, because: "r").passed)
        #expect(Check(claim: "c", aLabel: "a", bLabel: "b", a: 0.5, b: 1, relation: .lessOrEqual, tolerance: 0, because: "r").passed)
        #expect(!Check(claim: "c", aLabel: "a", bLabel: "b", a: 1.5, b: 1, relation: .lessOrEqual, tolerance: 0.1, because: "r").passed)
        #expect(!Check(claim: "c", aLabel: "a", bLabel: "b", a: 0.5, b: 1, relation: .greaterOrEqual, tolerance: 0.1, because: "r").passed)
    }

    @Test("reports round-trip through JSON with non-finite numbers as strings, and are written atomically")
    func reports() throws {
        let page = Page(slug: "98-json", number: 98, title: "JSON", summary: "s")
        page.check(Check(claim: "inf", aLabel: "a", bLabel: "b", a: .infinity, b: .infinity, tolerance: 0, because: "r"))
        page.check(Check(claim: "nan", aLabel: "a", bLabel: "b", a: .nan, b: 1, tolerance: 0, because: "r"))
        page.record("minus", -.infinity)
        let prov = Provenance(commit: "c", dirty: false, commandLine: "x", seed: 3, parameters: [:], swiftVersion: "s",
                              gslVersion: "g", openblas: "o", cores: 2, date: "d", elapsedSeconds: 0.5)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Publisher.publish(page, provenance: prov, to: folder)
        let data = try Data(contentsOf: folder.appendingPathComponent("98-json.json"))
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"Infinity\"") && text.contains("\"NaN\"") && text.contains("\"-Infinity\""))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        for key in ["chapter", "checks", "passed", "failed"] { #expect(json[key] != nil) }
        let check = (json["checks"] as! [[String: Any]])[0]
        for key in ["claim", "a", "b", "tolerance", "passed"] { #expect(check[key] != nil) }
        let back = try Report.decoder().decode(Report.self, from: data)
        #expect(back.passed == 1 && back.failed == 1)
        #expect(back.checks[0].a == .infinity)
        #expect(back.values["minus"] == -.infinity)
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(files == ["98-json.html", "98-json.json", "index.html"])
        let index = try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(index.contains("98-json.html") && index.contains("1 of 2 checks fail"))
    }

    @Test("an output path that is a file is refused with a reason")
    func unwritable() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nb-file-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.prepareFolder(file) }
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write("x", to: file.appendingPathComponent("y.html")) }
    }

    @Test("a page outside the book (number 0) claims no chapter and links to no index; a chapter page does both")
    func pageOutsideTheBook() {
        let prov = Provenance(commit: "c", dirty: false, commandLine: "x", seed: 3, parameters: [:], swiftVersion: "s",
                              gslVersion: "g", openblas: "o", cores: 2, date: "d", elapsedSeconds: 0.5)
        let outside = Renderer.page(Page(slug: "tool", number: 0, title: "A tool's report", summary: "s"), provenance: prov).html
        #expect(!outside.contains("Chapter 0") && !outside.contains("href=\"index.html\""))
        #expect(outside.contains("<title>\(HTML.escape("A tool's report"))</title>"), "the title carries no chapter number")
        let chapter = Renderer.page(Page(slug: "07-x", number: 7, title: "Seven", summary: "s"), provenance: prov).html
        #expect(chapter.contains("Chapter 7") && chapter.contains("href=\"index.html\""))
    }

    @Test("provenance: changes under Output/ leave the tree clean, a change to a source file makes it dirty")
    func dirtyIgnoresOutput() throws {
        let repo = FileManager.default.temporaryDirectory.appendingPathComponent("git-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: repo.appendingPathComponent("Output"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: repo) }
        func git(_ args: String...) throws {
            let r = Environment.run(["git", "-c", "user.name=t", "-c", "user.email=t@t"] + args, in: repo)
            try #require(r != nil, "git \(args) failed")
        }
        try "a".write(to: repo.appendingPathComponent("code.swift"), atomically: true, encoding: .utf8)
        try "r".write(to: repo.appendingPathComponent("Output/report.html"), atomically: true, encoding: .utf8)
        try git("init", "-q")
        try git("add", ".")
        try git("commit", "-q", "-m", "x")
        #expect(Environment.gitState(in: repo).dirty == false)
        try "r2".write(to: repo.appendingPathComponent("Output/report.html"), atomically: true, encoding: .utf8)
        let afterReport = Environment.gitState(in: repo)
        #expect(afterReport.dirty == false && afterReport.commit != "unknown", "a rewritten report is not a change to the code")
        try "b".write(to: repo.appendingPathComponent("code.swift"), atomically: true, encoding: .utf8)
        #expect(Environment.gitState(in: repo).dirty == true)
    }
}

@Suite("Check tables")
struct CheckTableTests {
    @Test("a tolerance's reason shared by several rows is stated once, folded; a reason of one row stays on it")
    func sharedReasonFolded() {
        let shared = "rounding of a sum of n terms"
        let checks = [
            Check(claim: "one", aLabel: "a", bLabel: "b", a: 1, b: 1, tolerance: 1e-12, because: shared),
            Check(claim: "two", aLabel: "a", bLabel: "b", a: 2, b: 2, tolerance: 1e-12, because: shared),
            Check(claim: "three", aLabel: "a", bLabel: "b", a: 3, b: 3, tolerance: 1e-9, because: "its own reason"),
        ]
        let html = Renderer.checkTable(checks).html
        #expect(html.components(separatedBy: shared).count - 1 == 1, "the shared reason appears once")
        #expect(html.contains("<details class=\"tolerances\">"))
        #expect(html.contains("its own reason"))
        #expect(html.components(separatedBy: "reason under the table").count - 1 == 2)
        let single = Renderer.checkTable([checks[2]]).html
        #expect(!single.contains("<details"), "a one-row table keeps its reason on the row")
        let every = Renderer.checkTable(Array(checks.prefix(2))).html
        #expect(every.contains("the same on every row"))
    }

    /// A page whose sweep has the given differences |a − b| (tolerance 1 each), then one lone check.
    static func sweepPage(_ differences: [Double]) -> Page {
        let page = Page(slug: "01-x", number: 1, title: "t", summary: "s")
        page.sweep("the identity on each shape") {
            for (k, d) in differences.enumerated() {
                page.check(Check(id: "sweep.case-\(k)", claim: "case \(k)", aLabel: "a", bLabel: "b", a: d, b: 0,
                                 tolerance: 1, because: "r"))
            }
        }
        page.check(Check(id: "lone", claim: "a lone check", aLabel: "a", bLabel: "b", a: 0, b: 0, tolerance: 1,
                         because: "r"))
        return page
    }

    @Test("a sweep is one summary row showing its case nearest to failing, with every case folded under it")
    func sweepFolded() throws {
        let page = Self.sweepPage([0.25, 0.75, 0.5])
        #expect(page.checks.map(\.sweep) == ["the identity on each shape", "the identity on each shape",
                                              "the identity on each shape", nil])
        let html = Renderer.checkTable(page.checks).html
        #expect(html.contains("all 3 hold"))
        #expect(html.contains("nearest to failing: case 1"), "case 1 has the largest |a − b| / tolerance")
        #expect(html.contains("<details><summary>The 3 cases"), "a sweep that holds is folded")
        for k in 0..<3 { #expect(html.contains(">case \(k)<"), "case \(k) is listed under the summary") }
        #expect(html.contains("a lone check"))
        let provenance = Provenance(commit: "c", dirty: false, commandLine: "x", seed: 1, parameters: [:],
                                    swiftVersion: "6", gslVersion: "2", openblas: "o", cores: 2, date: "d",
                                    elapsedSeconds: 1)
        let json = String(decoding: try Report(page: page, provenance: provenance).json(), as: UTF8.self)
        #expect(json.contains("\"sweep\" : \"the identity on each shape\""), "each case names its sweep in the JSON")
    }

    @Test("a sweep with a failing case says how many fail, names the nearest, and is open")
    func sweepFailingOpen() {
        let page = Self.sweepPage([0.25, 3, 0.5, 1.5])
        #expect(page.failedCount == 2)
        let html = Renderer.checkTable(page.checks).html
        #expect(html.contains("2 of 4 fail"))
        #expect(html.contains("nearest to failing: case 1"), "the worst failing case is the one shown")
        #expect(html.contains("<details open><summary>The 4 cases of this sweep (2 failing)"))
        #expect(html.contains("<tr class=\"sweep fail\">"))
    }

    @Test("a card's cell labels are its headers rendered as formulas, not plain-text attributes")
    func cardLabelsAreMath() {
        let page = Page(slug: "01-x", number: 1, title: "t", summary: "s")
        page.table(headers: ["trainer", "$\\mathrm{KL}(\\pi \\| \\pi^*_\\beta)$", "$\\mathbb{E}_\\pi[r]$", "TV"],
                   rows: [["PPO", "0", "4.5", "0"]], caption: "c")
        let html = Renderer.page(page, provenance: Provenance(commit: "c", dirty: false, commandLine: "x", seed: 1,
                                                              parameters: [:], swiftVersion: "6", gslVersion: "2",
                                                              openblas: "o", cores: 2, date: "d", elapsedSeconds: 1)).html
        let table = String(html[html.range(of: "<table class=\"data cards\">")!.lowerBound...])
        #expect(table.components(separatedBy: "<span class=\"cell-label\" aria-hidden=\"true\"><span class=\"imath\"><math").count - 1 == 2,
                "the two formula headers label their cells as MathML")
        #expect(!table.contains("data-label=\"𝔼_π"), "no subscript written as an underscore in an attribute")
    }

    @Test("a sweep of one case is an ordinary row")
    func sweepOfOne() {
        let html = Renderer.checkTable(Self.sweepPage([0.5]).checks).html
        #expect(!html.contains("sweep"), "nothing to fold")
    }
}

import Foundation
@testable import Notebook
import Testing

/// Numbered figures and tables, citations of them from prose, the reference list, the links
/// to neighbouring pages, and the figures' and tables' data in the JSON twin.
@Suite("Figures, tables and works cited by number and name")
struct CrossReferenceTests {
    static let provenance = Provenance(commit: "c", dirty: false, commandLine: "x", seed: 1, parameters: [:],
                                       swiftVersion: "s", gslVersion: "g", openblas: "o", cores: 2, date: "d", elapsedSeconds: 1)

    static func plot(_ name: String) -> LinePlot {
        LinePlot(title: name, description: name, xLabel: "x", yLabel: "y", series: [Series(name, x: [0, 1, 2], y: [3, 4, 5])])
    }

    static func page() -> Page {
        let page = Page(slug: "03-x", number: 3, title: "Three", summary: "s")
        page.section("One")
        page.prose("As @fig:second shows, and @tbl:numbers lists, the curve rises; @fig:first is flat.")
        page.plot(plot("first"), caption: "The first", label: "first")
        page.table(headers: ["a", "b"], rows: [["1", "2"]], caption: "Numbers", label: "numbers")
        page.plot(BarChart(title: "bars", description: "d", categories: ["u", "v"], xLabel: "outcome", yLabel: "p",
                           series: [(name: "π0", values: [0.25, 0.75])]), caption: "Bars")
        page.plot(plot("second"), caption: "The second", label: "second")
        return page
    }

    @Test("figures and tables are numbered in reading order; a citation links to its number's anchor")
    func numberedAndCited() {
        let page = Self.page()
        #expect(page.figures.map(\.number) == [1, 2, 3])
        #expect(page.figures.map(\.label) == ["first", nil, "second"])
        #expect(page.tables.map(\.number) == [1])
        #expect(page.citedLabels == ["fig:second", "tbl:numbers", "fig:first"])
        #expect(page.unresolvedReferences.isEmpty)
        let html = Renderer.page(page, provenance: Self.provenance).html
        #expect(html.contains("<a class=\"xref\" href=\"#figure-3\">Figure 3</a> shows"))
        #expect(html.contains("<a class=\"xref\" href=\"#table-1\">Table 1</a> lists"))
        #expect(html.contains("<a class=\"xref\" href=\"#figure-1\">Figure 1</a> is flat"))
        for id in ["figure-1", "figure-2", "figure-3", "table-1"] { #expect(html.contains("id=\"\(id)\"")) }
        #expect(html.contains("<span class=\"number\">Figure 2.</span> Bars"))
        #expect(!html.contains("@fig:") && !html.contains("@tbl:"))
    }

    @Test("a citation in the code shown under a section stays as written")
    func codeUntouched() {
        let page = Self.page()
        page.attachCode { _ in CodeExcerpt(path: "Chapters/03-x/main.swift", firstLine: 1,
                                          text: "func section() { page.prose(\"As @fig:second shows\") }") }
        let html = Renderer.page(page, provenance: Self.provenance).html
        #expect(html.contains("@fig:second"))
        #expect(html.components(separatedBy: "href=\"#figure-3\"").count - 1 == 1)
    }

    @Test("a citation of a label no figure carries is reported and shown as missing")
    func unresolved() {
        let page = Self.page()
        page.prose("See @fig:nowhere and @tbl:second (a figure's label, not a table's).")
        #expect(page.unresolvedReferences == ["fig:nowhere", "tbl:second"])
        let html = Renderer.page(page, provenance: Self.provenance).html
        #expect(html.components(separatedBy: "<span class=\"xref missing\">").count - 1 == 2)
    }

    @Test("blocks moved to a mark are numbered where they are shown")
    func numberedWhereShown() {
        let page = Page(slug: "03-x", number: 3, title: "Three", summary: "s")
        let mark = page.mark()
        page.plot(Self.plot("late"), caption: "Made first", label: "late")
        page.insert(at: mark) { page.plot(Self.plot("early"), caption: "Made second", label: "early") }
        #expect(page.figures.map(\.label) == ["early", "late"])
        #expect(page.figures.map(\.number) == [1, 2])
    }

    @Test("the JSON twin holds every figure's series and every table's cells, numbered as on the page")
    func dataInJSON() throws {
        let report = Report(page: Self.page(), provenance: Self.provenance)
        let decoded = try Report.decoder().decode(Report.self, from: try report.json())
        let figures = try #require(decoded.figures)
        #expect(figures.count == 3)
        #expect(figures[0].kind == "line" && figures[0].series[0].x == [0, 1, 2] && figures[0].series[0].y == [3, 4, 5])
        #expect(figures[1].kind == "bar" && figures[1].categories == ["u", "v"] && figures[1].series[0].y == [0.25, 0.75])
        #expect(figures[2].number == 3 && figures[2].caption == "The second")
        #expect(decoded.tables == [TableRecord(number: 1, label: "numbers", caption: "Numbers", headers: ["a", "b"], rows: [["1", "2"]])])
    }

    @Test("works named in the text are linked and listed; not inside words, mathematics or code")
    func references() {
        let page = Page(slug: "09-x", number: 9, title: "Nine", summary: "s")
        page.bibliography = [
            Reference(key: "paper", mentions: [], text: "The paper.", url: "https://example.org/paper"),
            Reference(key: "verl", mentions: ["verl"], text: "verl.", url: "https://example.org/verl"),
            Reference(key: "gao", mentions: ["Gao et al."], text: "Gao.", url: "https://example.org/gao"),
            Reference(key: "unused", mentions: ["Nobody"], text: "Unused.", url: "https://example.org/unused"),
        ]
        page.section("Settings")
        page.prose("As in verl, and as Gao et al. found; the curves overlap. $\\mathrm{verl}$ is maths.")
        page.prose("verl again, in the same section: not linked again.")
        page.section("Later")
        page.prose("verl in a new section: linked.")
        #expect(page.citedWorks.map(\.key) == ["paper", "verl", "gao"])
        let html = Renderer.page(page, provenance: Self.provenance).html
        #expect(html.contains("As in <a class=\"cite\" href=\"#ref-verl\">verl</a>, and as <a class=\"cite\" href=\"#ref-gao\">Gao et al.</a> found"))
        #expect(html.contains("overlap"))
        #expect(!html.contains("o<a class=\"cite\""))
        #expect(html.components(separatedBy: "href=\"#ref-verl\"").count - 1 == 2, "verl linked once a section, not in the MathML")
        #expect(html.contains("<p>verl again") && html.contains("<a class=\"cite\" href=\"#ref-verl\">verl</a> in a new section"))
        #expect(html.contains("<li id=\"ref-paper\">") && html.contains("<li id=\"ref-verl\">") && !html.contains("ref-unused"))
        // A page that names nothing lists only the always-listed work.
        let bare = Page(slug: "09-z", number: 9, title: "Nine", summary: "s")
        bare.bibliography = page.bibliography
        bare.prose("The curves overlap.")
        #expect(bare.citedWorks.map(\.key) == ["paper"])
    }

    @Test("the previous and next pages are linked at the end; a page without neighbours has no pager")
    func pager() {
        let page = Self.page()
        page.previous = PageLink(href: "02-b.html", label: "Chapter 2: b")
        page.next = PageLink(href: "04-d.html", label: "Chapter 4: d")
        let html = Renderer.page(page, provenance: Self.provenance).html
        #expect(html.contains("<a rel=\"prev\" href=\"02-b.html\">← Chapter 2: b</a>"))
        #expect(html.contains("<a rel=\"next\" href=\"04-d.html\">Chapter 4: d →</a>"))
        #expect(!Renderer.page(Self.page(), provenance: Self.provenance).html.contains("class=\"pager\""))
    }
}

@Suite("The index's front matter comes from the book")
struct BookFrontTests {
    @Test("the index shows the book's title, its linked work, the argument and the reading paths; a bare folder none")
    func front() {
        let front = BookFront(title: "A $\\beta$ book", lede: "A companion to The Work, checked.",
                              work: (title: "The Work", url: "https://example.org/work"), argument: "Because $x = 1$.",
                              paths: [(reader: "A reader", chapters: [2, 1])])
        let html = Renderer.index([], front: front).html
        #expect(html.contains("<title>A β book</title>"))
        #expect(html.contains("A companion to <a href=\"https://example.org/work\">The Work</a>, checked."))
        #expect(html.contains("<h2>The argument</h2><p>Because <span class=\"imath\">"))
        #expect(html.contains("<li>A reader: 2 → 1</li>"))
        let bare = Renderer.index([]).html
        #expect(bare.contains("<title>Reports</title>") && !bare.contains("The argument") && !bare.contains("class=\"paths\""))
    }
}

/// A kind of plot the library does not have, written as one struct: dots on a line.
struct DotStrip: Figure {
    let values: [Double]
    var title: String { "Dots" }
    var description: String { "One dot a value." }
    var xTitle: String { "value $x$" }
    var yTitle: String { "" }
    var legend: [LegendEntry] { [LegendEntry(name: "values", style: .series(0, .points))] }
    func drawing(in frame: PlotFrame) -> Markup {
        let lo = values.min() ?? 0, hi = values.max() ?? 1
        let dots = values.map { v in
            let x = frame.left + (hi > lo ? (v - lo) / (hi - lo) : 0.5) * frame.plotWidth
            return Markup.emptyElement("circle", ["cx": "\(x)", "cy": "\(frame.top + frame.plotHeight / 2)", "r": "3"])
        }
        return frame.svg(title: title, description: description, dots.joined())
    }
    func record(label: String?, caption: String) -> FigureRecord {
        FigureRecord(label: label, caption: caption, kind: "line", xLabel: xTitle, yLabel: yTitle, categories: nil,
                     series: [FigureRecord.Series(name: "values", x: values, y: values.map { _ in 0 })], references: nil)
    }
}

@Suite("A new kind of plot is one struct")
struct FigureProtocolTests {
    @Test("a type conforming to Figure is drawn wide and narrow, with its titles and legend, numbered and recorded")
    func newKind() throws {
        let page = Page(slug: "03-x", number: 3, title: "Three", summary: "s")
        page.prose("@fig:dots shows three values.")
        page.plot(DotStrip(values: [1, 2, 4]), caption: "Three dots", label: "dots")
        let html = Renderer.page(page, provenance: CrossReferenceTests.provenance).html
        #expect(html.contains("<div class=\"plot-wide\"><svg class=\"plot\" viewBox=\"0 0 640 340\""))
        #expect(html.contains("<div class=\"plot-narrow\"><svg class=\"plot\" viewBox=\"0 0 340 260\""))
        #expect(html.components(separatedBy: "<circle cx=").count - 1 == 6 + 1, "three dots in each drawing, one in the legend")
        #expect(html.contains("<a class=\"xref\" href=\"#figure-1\">Figure 1</a> shows"))
        let figures = try #require(Report(page: page, provenance: CrossReferenceTests.provenance).figures)
        #expect(figures.count == 1 && figures[0].label == "dots" && figures[0].series[0].x == [1, 2, 4])
    }
}

import Foundation
@testable import Notebook
import Testing

/// HTML on a page is `Markup`, made from text only by escaping: whatever a chapter, a tool or a
/// generated sample hands the page, it reads as text.
@Suite("Markup: escaped by construction")
struct MarkupTests {
    /// Text that would be markup if it reached the page unescaped: an element, an attribute
    /// broken out of with either quote, an entity, and the same inside `$…$` mathematics.
    static let hostile = #"<script>alert("x&y")</script>" onmouseover="bad" ' onfocus='bad' &amp; $a<b & "c"$"#

    static let provenance = Provenance(commit: hostile, dirty: false, commandLine: hostile, seed: 1,
                                       parameters: [hostile: hostile], swiftVersion: hostile, gslVersion: hostile,
                                       openblas: hostile, cores: 2, date: hostile, elapsedSeconds: 1, sourceHash: hostile)

    /// A page that passes `hostile` through every public text of the Page API.
    static func page() -> Page {
        let h = hostile
        let page = Page(slug: "05-x", number: 5, title: h, summary: h)
        page.bibliography = [Reference(key: "k", mentions: [h], text: h, url: h)]
        page.previous = PageLink(href: h, label: h)
        page.next = PageLink(href: h, label: h)
        page.section(h)
        page.prose(h)
        page.equation(h, number: h)
        page.parameters([(h, h)])
        page.check(Check(id: "a", claim: h, reference: h, aLabel: h, bLabel: h, a: 1, b: 2, tolerance: 0.1, because: h))
        page.check(Check(id: "b", claim: h, reference: h, aLabel: h, bLabel: h, a: 1e-12, b: 0, tolerance: 0.1, because: h))
        page.sweep(h) {
            for k in 0..<2 {
                page.check(Check(id: "s\(k)", claim: h, reference: h, aLabel: h, bLabel: h, a: 1, b: 1, tolerance: 0, because: h + "\(k)"))
            }
        }
        page.plot(LinePlot(title: h, description: h, xLabel: h, yLabel: h,
                           series: [Series(h, x: [1, 2], y: [3, 4]), Series(h, x: [1, 2], y: [3, 4], style: .dashed)],
                           references: [ReferenceLine(.horizontal, at: 3.5, label: h), ReferenceLine(.vertical, at: 1.5, label: h)]),
                  caption: h, label: "line")
        page.plot(BarChart(title: h, description: h, categories: [h, "word " + h], xLabel: h, yLabel: h,
                           series: [(name: h, values: [1, 2])]), caption: h)
        page.table(headers: [h, h, h, h], rows: [[h, h, h, h]], caption: h, label: "t")
        page.table(headers: [h], rows: Array(repeating: [h], count: 3), caption: h, foldAbove: 1)
        page.aside(h)
        page.aside(h, kind: .erratum)
        page.derivation([DerivationLine(h, 1, note: h), DerivationLine(h, 2)], caption: h)
        page.samples(h, [h, h + "\u{0}\u{7F}"])
        page.section(h)
        page.attachCode { _ in CodeExcerpt(path: h, firstLine: 1, text: "let s = \"\(h)\" // \(h)") }
        page.rerun(command: h, help: "  --\(h) \(h)\n\(h)")
        return page
    }

    /// What must never appear on a page built from `hostile`: each is `hostile`'s markup, or an
    /// attribute it would open, were any of it left unescaped; or text escaped twice.
    static let forbidden = ["<script", "</script", "onmouseover=\"", "onfocus='", "\" onmouseover", "' onfocus",
                            "alert(\"", "x&y", "<b ", "& \"", "&amp; $", "&amp;lt;", "&amp;amp;amp;"]

    /// Every `&` starts an entity (the escaping writes only `&amp; &lt; &gt; &quot; &#39;`).
    static func strayAmpersands(_ html: String) -> [String] {
        let withoutStyle = html.replacing(/<style>[\s\S]*?<\/style>/, with: "")
        return withoutStyle.matches(of: /&(?!(amp|lt|gt|quot|#39);)[^&]{0,12}/).map { String($0.output.0) }
    }

    @Test("text with <script>, &, quotes passed through every Page API never reaches the page unescaped")
    func everyPageAPI() {
        let page = Self.page()
        let html = Renderer.page(page, provenance: Self.provenance).html
        for f in Self.forbidden { #expect(!html.contains(f), "the page holds \(f)") }
        #expect(Self.strayAmpersands(html).isEmpty, "an & that starts no entity: \(Self.strayAmpersands(html))")
        // The text is on the page, escaped, not dropped.
        #expect(html.components(separatedBy: "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;").count > 40)
        #expect(html.contains("&#39; onfocus=&#39;bad&#39; &amp;amp;"))
        // The mathematics of `$a<b & "c"$` is MathML with its operators escaped.
        #expect(html.contains("<mo>&lt;</mo>"))
        // Control characters in samples are replaced, not passed on.
        #expect(!html.contains("\u{0}") && !html.contains("\u{7F}"))
    }

    @Test("text with <script>, &, quotes in reports and the book's front never reaches the index unescaped")
    func index() {
        let h = Self.hostile
        // The work's title is found in the rendered line, so it holds no mathematics here.
        let work = #"<b>A "work"</b> & 'its' title"#
        let front = BookFront(title: h, lede: h + " names " + work, work: (title: work, url: h), argument: h,
                              paths: [(reader: h, chapters: [5, 6])])
        let html = Renderer.index([Report(page: Self.page(), provenance: Self.provenance)], front: front).html
        for f in Self.forbidden { #expect(!html.contains(f), "the index holds \(f)") }
        #expect(Self.strayAmpersands(html).isEmpty, "an & that starts no entity: \(Self.strayAmpersands(html))")
        #expect(html.contains("<a href=\"\(HTML.escape(h))\">\(HTML.escape(work))</a>"), "the work's title is linked, escaped")
    }

    @Test("a Markup value is made from text only by escaping; elements escape their attribute values")
    func construction() {
        #expect(Markup(text: "<a href='x'>&</a>").html == "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;")
        #expect(Markup.escaping("\"") == Markup(text: "\""))
        let a = Markup.element("a", ["href": "x\" onclick=\"y", "class": "c"], Markup(text: "<b>"))
        #expect(a.html == "<a href=\"x&quot; onclick=&quot;y\" class=\"c\">&lt;b&gt;</a>")
        #expect(Markup.emptyElement("circle", ["r": "3"]).html == "<circle r=\"3\"/>")
        #expect([Markup(text: "<"), Markup(text: ">")].joined(separator: Markup(text: "&")).html == "&lt;&amp;&gt;")
        // Inside the module, a literal of our markup escapes the strings it interpolates.
        let text = "<i>"
        #expect(Markup("<p>\(text)</p>").html == "<p>&lt;i&gt;</p>")
        #expect(Markup("<p>\(Markup(text: text))</p>").html == "<p>&lt;i&gt;</p>")
    }

    /// Where raw markup may be made: the files that write our own HTML, MathML and SVG.
    static let rawAllowed: [String: Set<String>] = [
        // Markup(unescaped:): markup made by another program of ours.
        "Markup(unescaped:": ["Markup.swift", "Renderer.swift", "TeX.swift"],
        // A string literal of our markup, Markup("…") (its interpolated strings escaped).
        "literal": ["Markup.swift", "Renderer.swift", "TeX.swift", "Plot.swift"],
    ]

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("raw markup is made only in Markup, Renderer, TeX and Plot; no other file or module makes any")
    func rawOnlyWhereAllowed() throws {
        let fm = FileManager.default
        var sources: [(path: String, text: String)] = []
        for folder in ["Sources", "Chapters", "Tools"] {
            let root = Self.packageRoot.appendingPathComponent(folder)
            guard let walk = fm.enumerator(atPath: root.path) else { continue }
            for case let rel as String in walk where rel.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(rel), encoding: .utf8)
                sources.append(("\(folder)/\(rel)", text))
            }
        }
        #expect(sources.count > 50, "the sources were found under \(Self.packageRoot.path)")
        for (path, text) in sources {
            let name = (path as NSString).lastPathComponent
            let inNotebook = path.hasPrefix("Sources/Notebook/")
            if text.contains("Markup(unescaped:") {
                #expect(inNotebook && Self.rawAllowed["Markup(unescaped:"]!.contains(name), "\(path) makes Markup(unescaped:)")
            }
            if text.contains(/Markup\(\s*"/) {
                #expect(inNotebook && Self.rawAllowed["literal"]!.contains(name), "\(path) makes Markup from a literal")
            }
        }
    }
}

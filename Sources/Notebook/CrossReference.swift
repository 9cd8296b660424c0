/// Numbered figures and tables cited from prose, and works linked where the text names them.
///
/// Prose cites a figure or table by its label: `@fig:frontier`, `@tbl:settings`. The page
/// numbers figures and tables in reading order, so a citation renders as a link reading
/// "Figure 3" to the anchor `figure-3`; a label nothing carries renders as "Figure ?" and is
/// listed by `Page.unresolvedReferences` (a test holds every page to none).
enum CrossReference {
    /// The labels cited in `text`, as "fig:name" or "tbl:name".
    static func labels(in text: String) -> [String] {
        text.matches(of: pattern).map { "\($0.output.1):\($0.output.2)" }
    }

    nonisolated(unsafe) static let pattern = /@(fig|tbl):([a-z0-9]+(?:-[a-z0-9]+)*)/

    /// "fig:name" → ("Figure", 3) for every labelled figure and table of the page.
    static func numbering(_ page: Page) -> [String: (kind: String, number: Int)] {
        var out: [String: (kind: String, number: Int)] = [:]
        for r in page.figures { if let l = r.label { out["fig:" + l] = ("Figure", r.number) } }
        for r in page.tables { if let l = r.label { out["tbl:" + l] = ("Table", r.number) } }
        return out
    }

    /// Replaces each citation in the text of rendered HTML (not in code, where the source is
    /// shown as written) by a link to its figure or table.
    static func resolve(_ html: Markup, _ numbers: [String: (kind: String, number: Int)]) -> Markup {
        html.rewritingText(skipping: ["pre", "code", "style"]) { text, _ in
            text.replacingRuns { s, i in
                guard s[i] == "@", let match = s[i...].prefixMatch(of: pattern) else { return nil }
                let key = "\(match.output.1):\(match.output.2)"
                let kind = match.output.1 == "fig" ? "Figure" : "Table"
                guard let n = numbers[key] else {
                    return (match.range.upperBound, Markup.element("span", ["class": "xref missing"], Markup(text: "\(kind) ?")))
                }
                return (match.range.upperBound,
                        Markup.element("a", ["class": "xref", "href": "#\(n.kind.lowercased())-\(n.number)"], Markup(text: "\(n.kind) \(n.number)")))
            }
        }
    }

    /// Links the first mention in each section of each cited work, in the text of rendered HTML,
    /// to its entry in the reference list: only in text, never inside a tag, mathematics, code, a
    /// plot, a heading or an existing link, and only where the mention is a whole word. (Once a
    /// section: a table naming a library on every row links it once.)
    static func linkMentions(_ html: Markup, _ works: [Reference]) -> Markup {
        let mentions = works.flatMap { w in w.mentions.map { (text: Markup(text: $0), key: w.key) } }
            .sorted { $0.text.html.count > $1.text.html.count }
        guard !mentions.isEmpty else { return html }
        var linked = Set<String>()
        return html.rewritingText(skipping: ["math", "pre", "code", "svg", "a", "h1", "h2", "h3", "summary", "title", "style"]) { text, tag in
            if tag == "h2" { linked.removeAll() }
            return text.isEmpty ? text : link(text, mentions, &linked)
        }
    }

    /// Whether `text` names `mention` as a whole word (not "verl" in "overlap").
    static func names(_ text: String, _ mention: String) -> Bool {
        var i = text.startIndex
        while let r = text[i...].range(of: mention) {
            if isWhole(text, r.lowerBound, mention) { return true }
            i = text.index(after: r.lowerBound)
        }
        return false
    }

    static func isWordChar(_ c: Character?) -> Bool { c.map { $0.isLetter || $0.isNumber } ?? false }

    /// Whether `mention`, found in `text` at `i`, stands as a whole word.
    static func isWhole(_ text: String, _ i: String.Index, _ mention: String) -> Bool {
        let after = text.index(i, offsetBy: mention.count)
        let before = i == text.startIndex ? nil : text[text.index(before: i)]
        return !(isWordChar(mention.first) && isWordChar(before)) && !(isWordChar(mention.last) && isWordChar(after < text.endIndex ? text[after] : nil))
    }

    /// The text (markup between two tags) with the first mention of each work linked, as a whole word.
    static func link(_ text: Markup, _ mentions: [(text: Markup, key: String)], _ linked: inout Set<String>) -> Markup {
        text.replacingRuns { s, i in
            for m in mentions where s[i...].hasPrefix(m.text.html) && isWhole(s, i, m.text.html) {
                let after = s.index(i, offsetBy: m.text.html.count)
                return (after, linked.insert(m.key).inserted ? Markup.element("a", ["class": "cite", "href": "#ref-\(m.key)"], m.text) : m.text)
            }
            return nil
        }
    }

    /// The reference list at the end of a page.
    static func list(_ works: [Reference]) -> Markup {
        guard !works.isEmpty else { return .empty }
        let items = works.map { w in
            Markup.element("li", ["id": "ref-" + w.key],
                           Renderer.inlineMath(w.text) + Markup(text: " ") + Markup.element("a", ["href": w.url], Markup(text: w.url)))
        }
        return Markup.element("h2", ["id": "references"], Markup(text: "References"))
            + Markup.element("ol", ["class": "references"], items.joined())
    }

    /// Links to the previous page, the book's index and the next page.
    static func pager(previous: PageLink?, next: PageLink?) -> Markup {
        guard previous != nil || next != nil else { return .empty }
        var parts: [Markup] = []
        if let p = previous { parts.append(Markup.element("a", ["rel": "prev", "href": p.href], Markup(text: "← ") + Renderer.inlineMath(p.label))) }
        parts.append(Markup.element("a", ["href": "index.html"], Markup(text: "The book")))
        if let n = next { parts.append(Markup.element("a", ["rel": "next", "href": n.href], Renderer.inlineMath(n.label) + Markup(text: " →"))) }
        return Markup.element("nav", ["class": "pager"], parts.joined())
    }
}

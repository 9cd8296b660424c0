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
        eachText(html, skipping: ["pre", "code", "style"]) { text, _ in
            text.replacing(pattern) { match in
                let key = "\(match.output.1):\(match.output.2)"
                let kind = match.output.1 == "fig" ? "Figure" : "Table"
                guard let n = numbers[key] else { return Markup.element("span", ["class": "xref missing"], Markup(text: "\(kind) ?")).html }
                return Markup.element("a", ["class": "xref", "href": "#\(n.kind.lowercased())-\(n.number)"], Markup(text: "\(n.kind) \(n.number)")).html
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
        return eachText(html, skipping: ["math", "pre", "code", "svg", "a", "h1", "h2", "h3", "summary", "title", "style"]) { text, tag in
            if tag == "h2" { linked.removeAll() }
            return text.isEmpty ? text : link(text, mentions, &linked)
        }
    }

    /// Rewrites the text between the tags of `html` with `transform`, except inside the elements
    /// named in `skipping`; `transform` also hears of each tag's name as it passes (with empty text).
    ///
    /// The text `transform` receives is markup (escaped text as it stands between two tags), and
    /// it returns markup: its own elements built by `Markup.element`, the rest copied. This is
    /// why the file may make `Markup(unescaped:)`: it cuts rendered markup at its tags and joins
    /// the pieces again.
    static func eachText(_ html: Markup, skipping skipped: Set<String>, _ transform: (String, String?) -> String) -> Markup {
        var out = "", depth = 0
        var rest = Substring(html.html)
        while !rest.isEmpty {
            if rest.first == "<", let close = rest.firstIndex(of: ">") {
                let tag = rest[...close]
                let name = tag.dropFirst(tag.hasPrefix("</") ? 2 : 1).prefix { $0.isLetter || $0.isNumber }.lowercased()
                _ = transform("", name)
                if skipped.contains(name) && !tag.hasSuffix("/>") {
                    depth = max(depth + (tag.hasPrefix("</") ? -1 : 1), 0)
                }
                out += tag
                rest = rest[rest.index(after: close)...]
                continue
            }
            let end = rest.firstIndex(of: "<") ?? rest.endIndex
            let text = String(rest[..<end])
            out += depth == 0 ? transform(text, nil) : text
            rest = rest[end...]
        }
        return Markup(unescaped: out)
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

    static func link(_ text: String, _ mentions: [(text: Markup, key: String)], _ linked: inout Set<String>) -> String {
        var out = "", i = text.startIndex
        scan: while i < text.endIndex {
            for m in mentions where text[i...].hasPrefix(m.text.html) {
                let after = text.index(i, offsetBy: m.text.html.count)
                if isWhole(text, i, m.text.html) {
                    out += linked.insert(m.key).inserted ? Markup.element("a", ["class": "cite", "href": "#ref-\(m.key)"], m.text).html : m.text.html
                    i = after
                    continue scan
                }
            }
            out.append(text[i])
            i = text.index(after: i)
        }
        return out
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

import Foundation

/// Turns pages into self-contained HTML: inline CSS, MathML, inline SVG, no script.
///
/// Every text a chapter writes (prose, headings, claims, A and B labels, tolerance reasons,
/// table headers and cells, captions, legends, axis titles) goes through `inlineMath`, so
/// mathematics is written once, between `$...$`, in the notation of `TeX.swift`.
enum Renderer {
    static func page(_ page: Page, provenance: Provenance) -> Markup {
        var body = Markup.empty
        // Pages outside the book (number 0, e.g. diagnose's) neither link to an index nor claim a chapter.
        body += page.number > 0
            ? Markup("<header><p class=\"kicker\"><a href=\"index.html\">The book</a> · Chapter \(page.number)</p>")
            : Markup("<header><p class=\"kicker\">Report</p>")
        body += Markup("<h1>\(inlineMath(page.title))</h1><p class=\"lede\">\(inlineMath(page.summary))</p>")
        let works = page.citedWorks
        body += summaryBox(page) + contents(page, references: !works.isEmpty) + Markup("</header>")
        var context = Context()
        var main = Markup.empty
        for block in page.blocks { main += render(block, &context) }
        main = CrossReference.linkMentions(CrossReference.resolve(main, CrossReference.numbering(page)), works)
        body += Markup("<main>\(main)\(CrossReference.list(works))</main>")
        body += CrossReference.pager(previous: page.previous, next: page.next) + footer(provenance)
        let hasAsides = page.blocks.contains { if case .aside = $0 { return true } else { return false } }
        let title = PlainMath.text(page.number > 0 ? "\(page.number). \(page.title)" : page.title)
        return document(title: title, body: body, bodyClass: hasAsides ? "has-asides" : nil, extraCSS: context.css.joined())
    }

    /// What rendering one page collects besides its blocks: the stylesheet rules that switch
    /// long equations to their broken form below their one-line width.
    struct Context {
        var css: [String] = []
        var equations = 0
        /// Sections rendered so far (their anchors are section-1, section-2, ...).
        var sections = 0
        /// Figures and tables rendered so far (anchors figure-1, ..., table-1, ...).
        var figures = 0
        var tables = 0
    }

    /// The page's sections, linked to their anchors, folded (open on wide screens is the reader's
    /// choice; printed, it is open).
    static func contents(_ page: Page, references: Bool = false) -> Markup {
        let titles = page.blocks.compactMap { block -> String? in
            if case .heading(let t, _) = block { return t } else { return nil }
        }
        guard titles.count > 1 else { return .empty }
        var items = titles.enumerated().map { Markup("<li><a href=\"#section-\($0.offset + 1)\">\(inlineMath($0.element))</a></li>") }
        if references { items.append(Markup("<li><a href=\"#references\">References</a></li>")) }
        return Markup("<nav class=\"contents\"><details><summary>Contents (\(titles.count) sections)</summary><ol>\(items.joined())</ol></details></nav>")
    }

    static func summaryBox(_ page: Page) -> Markup {
        let n = page.checks.count
        if page.failedCount == 0 {
            return Markup("<p class=\"summary pass\"><span class=\"badge pass\">\(n) of \(n) checks hold</span> Every comparison below agrees within its stated tolerance.</p>")
        }
        let failed = page.checks.filter { !$0.passed }.map { Markup("<li>\(inlineMath($0.claim))</li>") }.joined()
        return Markup("<div class=\"summary fail\"><span class=\"badge fail\">\(page.failedCount) of \(n) checks fail</span><ul>\(failed)</ul></div>")
    }

    static func render(_ block: Page.Block) -> Markup {
        var context = Context()
        return render(block, &context)
    }

    static func render(_ block: Page.Block, _ context: inout Context) -> Markup {
        switch block {
        case .heading(let t, _):
            context.sections += 1
            return Markup("<h2 id=\"section-\(context.sections)\">\(inlineMath(t))</h2>")
        case .prose(let t):
            return Markup("<p>\(inlineMath(t))</p>")
        case .equation(let tex, let number):
            return equation(tex, number: number, &context)
        case .parameters(let items):
            let rows = items.map { Markup("<tr><th scope=\"row\">\(inlineMath($0.0))</th><td>\(inlineMath($0.1))</td></tr>") }.joined()
            return Markup("<table class=\"parameters\"><caption>Parameters</caption>\(rows)</table>")
        case .checks(let checks):
            return checkTable(checks)
        case .figure(let svg, let record):
            context.figures += 1
            let n = context.figures
            return Markup("<figure class=\"wide\" id=\"figure-\(n)\">\(svg)<figcaption><span class=\"number\">Figure \(n).</span> \(inlineMath(record.caption))</figcaption></figure>")
        case .table(let record, let folded):
            context.tables += 1
            let n = context.tables
            let headers = record.headers, rows = record.rows
            let caption = Markup("<span class=\"number\">Table \(n).</span> ") + inlineMath(record.caption)
            let head = Markup("<tr>\(headers.map { Markup("<th scope=\"col\">\(inlineMath($0))</th>") }.joined())</tr>")
            // Tables of more than three columns become lists of labelled rows on a phone.
            let cards = headers.count > 3
            // Each cell of a card carries its column's header, rendered as the header is (MathML,
            // not a plain-text attribute, so that π*_β reads as a formula), shown only on a phone.
            let labels = headers.map { Markup("<span class=\"cell-label\" aria-hidden=\"true\">\(inlineMath($0)): </span>") }
            let body = rows.map { row in
                let cells = row.enumerated().map { k, cell in
                    // A cell that is one number keeps its digits together on a phone.
                    let open = isNumber(cell) ? Markup("<td class=\"number\">") : Markup("<td>")
                    return Markup("\(open)\(cards && k < labels.count ? labels[k] : .empty)\(inlineMath(cell))</td>")
                }
                return Markup("<tr>\(cells.joined())</tr>")
            }.joined()
            let table = Markup("<div class=\"scroll wide\"><table class=\"data\(cards ? " cards" : "")\"><thead>\(head)</thead><tbody>\(body)</tbody></table></div>")
            if folded {
                return Markup("<details id=\"table-\(n)\"><summary>\(caption) (\(rows.count) rows)</summary>\(table)</details>")
            }
            return Markup("<p class=\"table-caption\" id=\"table-\(n)\">\(caption)</p>\(table)")
        case .aside(let kind, let text):
            let label = kind == .erratum ? "Erratum" : "Remark"
            return Markup("<aside class=\"\(kind.rawValue)\"><strong>\(label).</strong> \(inlineMath(text))</aside>")
        case .derivation(let d):
            let rows = d.lines.map { line in
                Markup("<tr><td class=\"line\">\(TeX.inline(line.tex))</td>")
                    + Markup("<td class=\"num\" data-label=\"Value\">\(number(line.value))</td>")
                    + Markup("<td class=\"note\"\(line.note == nil ? Markup.empty : Markup(" data-label=\"Step\""))>\(inlineMath(line.note ?? ""))</td></tr>")
            }.joined()
            let head = Markup("<tr><th scope=\"col\">Line</th><th scope=\"col\">Value</th><th scope=\"col\">Step</th></tr>")
            return Markup("<p class=\"table-caption\">\(inlineMath(d.caption))</p><div class=\"scroll wide\"><table class=\"data derivation cards\"><thead>\(head)</thead><tbody>\(rows)</tbody></table></div>")
        case .code(let e):
            let last = e.firstLine + e.text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
            return Markup("<details class=\"code\"><summary>The code of this section: <code>\(e.path):\(e.firstLine)-\(last)</code></summary>")
                + Markup("<pre class=\"swift\"><code>\(highlighted(e.text))</code></pre></details>")
        case .codeReference(let e):
            return Markup("<p class=\"code-ref\">The code of this section is the function shown above, <code>\(e.path):\(e.firstLine)</code>.</p>")
        case .rerun(let command, let help, let json):
            var out = Markup("<p>This page, exactly (same seed, same options, same numbers):</p><pre class=\"command\"><code>\(command)</code></pre>")
            out += Markup("<p>Run the command with other options to change it; its JSON twin, <a href=\"\(json)\">\(json)</a>, holds the checks, derivations and recorded values.</p>")
            if !help.isEmpty {
                out += Markup("<details class=\"help\" id=\"options\"><summary>The options (<code>--help</code>)</summary><pre>\(helpWithAnchors(help))</pre></details>")
            }
            return out
        case .samples(let title, let texts):
            let items = texts.map { Markup("<li><pre>\($0)</pre></li>") }.joined()
            return Markup("<div class=\"samples\"><h3>\(inlineMath(title))</h3><ol>\(items)</ol></div>")
        }
    }

    /// A displayed equation. Its number sits outside the formula's box. A long one is shown
    /// broken into lines aligned on its relation signs wherever its one-line form would not fit.
    static func equation(_ tex: String, number: String?, _ context: inout Context) -> Markup {
        context.equations += 1
        let id = "eq-\(context.equations)"
        let tag = number.map { Markup("<span class=\"eqno\">(\($0))</span>") } ?? .empty
        // Math at 1.05 × 17 px; the number and the gaps take about 4.5 rem.
        let onePx = EquationLayout.estimatedEm(tex) * 17.85 + 72
        let explicit = tex.contains("\\\\")
        let rows = EquationLayout.rows(tex, width: explicit ? .infinity : 16.5)
        let wide = onePx > 44 * 16 ? " wide" : ""
        func div(_ body: Markup, _ cls: String) -> Markup {
            Markup("<div class=\"equation\(cls)\" id=\"\(id)\"><div class=\"eq-body\">\(body)</div>\(tag)</div>")
        }
        if explicit { return div(EquationLayout.grid(rows), "") }
        if rows.count == 1 { return div(TeX.block(tex), wide) }
        // Wider than the page's widest column (72 rem less the margins): always broken.
        if onePx > 1100 { return div(EquationLayout.grid(rows), "") }
        // Below the viewport (or printed page) width the one-line form needs, with the page's
        // side padding, the broken form is shown; beside asides the wide column is 62 rem.
        let needed = Int(onePx + 48)
        context.css.append("@media (max-width:\(needed)px){#\(id) .eq-one{display:none}#\(id) .eq-broken{display:block}}")
        if onePx > 62 * 16 {
            context.css.append("@media (min-width:80rem){body.has-asides #\(id) .eq-one{display:none}body.has-asides #\(id) .eq-broken{display:block}}")
        }
        return div(Markup("<div class=\"eq-one\">\(TeX.block(tex))</div><div class=\"eq-broken\">\(EquationLayout.grid(rows))</div>"), wide)
    }

    static func checkTable(_ checks: [Check]) -> Markup {
        // A tolerance's reason shared by several rows is stated once, folded under the table, and
        // each of those rows names it by its number; a reason only one row has stays on the row.
        var uses: [String: Int] = [:]
        for c in checks { uses[c.toleranceReason, default: 0] += 1 }
        var shared: [String] = []
        for c in checks where uses[c.toleranceReason, default: 0] > 1 && !shared.contains(c.toleranceReason) {
            shared.append(c.toleranceReason)
        }
        var rows = Markup.empty, i = 0
        while i < checks.count {
            guard let title = checks[i].sweep else { rows += checkRow(checks[i], shared); i += 1; continue }
            var j = i + 1
            while j < checks.count && checks[j].sweep == title { j += 1 }
            let cases = Array(checks[i..<j])
            rows += cases.count == 1 ? checkRow(cases[0], shared) : sweepRows(title, cases, shared)
            i = j
        }
        let table = Markup("<div class=\"scroll wide\"><table class=\"checks\"><thead>\(checkHead)</thead><tbody>\(rows)</tbody></table></div>")
        guard !shared.isEmpty else { return table }
        let items = shared.map { Markup("<li>\(inlineMath($0))</li>") }.joined()
        let every = shared.count == 1 && uses[shared[0]] == checks.count
        let title = every ? "How the tolerance is set (the same on every row)"
            : "How the tolerances are set (\(shared.count) \(shared.count == 1 ? "reason" : "reasons") shared by several rows)"
        return table + Markup("<details class=\"tolerances\"><summary>\(title)</summary><ol>\(items)</ol></details>")
    }

    static let checkHead = Markup("<tr><th scope=\"col\">Claim</th><th scope=\"col\">Value A</th><th scope=\"col\">Value B</th><th scope=\"col\">Difference</th><th scope=\"col\">Required, and why</th><th scope=\"col\">Verdict</th></tr>")

    /// One check's row: the claim, both values, their difference, what is required and why, the verdict.
    static func checkRow(_ c: Check, _ shared: [String], claim: Markup? = nil, verdict: Markup? = nil,
                         sentence: String? = nil, rowClass: String? = nil) -> Markup {
        let badge = verdict ?? (c.passed ? Markup("<span class=\"badge pass\">holds</span>") : Markup("<span class=\"badge fail\">fails</span>"))
        let ref = c.reference.map { Markup(" <span class=\"ref\">\($0)</span>") } ?? .empty
        let d = number(c.difference, significant: 3), t = number(c.tolerance, significant: 3)
        let difference: String, required: String
        switch c.relation {
        case .equal: difference = "|A − B| = \(d)"; required = "|A − B| ≤ \(t)"
        case .lessOrEqual: difference = "A − B = \(d)"; required = "A − B ≤ \(t)"
        case .greaterOrEqual: difference = "A − B = \(d)"; required = "B − A ≤ \(t)"
        case .exceeds: difference = "A − B = \(d)"; required = "A − B ≥ \(t)"
        }
        var row = Markup("<tr class=\"\(rowClass ?? (c.passed ? "pass" : "fail"))\">")
        row += Markup("<td class=\"claim\">\(claim ?? inlineMath(c.claim) + ref)</td>")
        row += Markup("<td class=\"value\" data-label=\"A\">\(what(c.aLabel, c.a))\(shown(c.a, c))</td>")
        row += Markup("<td class=\"value\" data-label=\"B\">\(what(c.bLabel, c.b))\(shown(c.b, c))</td>")
        row += Markup("<td class=\"difference\" data-label=\"Difference\"><span class=\"num\">\(difference)</span></td>")
        row += Markup("<td class=\"required\" data-label=\"Required\"><span class=\"num\">\(required)</span><span class=\"why\">\(reason(c.toleranceReason, shared))</span></td>")
        row += Markup("<td class=\"verdict\">\(badge)<span class=\"verdict-sentence\">\(sentence ?? verdictSentence(c, d: d, t: t))</span></td></tr>")
        return row
    }

    /// A sweep (`Page.sweep`): one summary row showing the case nearest to failing (the largest
    /// `Check.score`), and every case folded under it in a table of its own, open when one fails.
    static func sweepRows(_ title: String, _ cases: [Check], _ shared: [String]) -> Markup {
        let failed = cases.filter { !$0.passed }.count
        let nearest = cases.max { $0.score < $1.score || ($0.score.isNaN && !$1.score.isNaN) }!
        let n = cases.count
        let badge = failed == 0 ? Markup("<span class=\"badge pass\">all \(n) hold</span>")
            : Markup("<span class=\"badge fail\">\(failed) of \(n) fail</span>")
        let d = number(nearest.difference, significant: 3), t = number(nearest.tolerance, significant: 3)
        let ref = nearest.reference.map { Markup(" <span class=\"ref\">\($0)</span>") } ?? .empty
        let claim = Markup("\(inlineMath(title))\(ref) <span class=\"cases\">\(n) cases; the values shown are those of the case ")
            + Markup("nearest to failing: \(inlineMath(nearest.claim))</span>")
        let sentence = (failed == 0 ? "Every case holds; nearest to failing: " : "Nearest to failing: ")
            + verdictSentence(nearest, d: d, t: t)
        var out = checkRow(nearest, shared, claim: claim, verdict: badge, sentence: sentence,
                           rowClass: "sweep " + (failed == 0 ? "pass" : "fail"))
        let caseRows = cases.map { checkRow($0, shared) }.joined()
        out += Markup("<tr class=\"sweep-cases\"><td colspan=\"6\"><details\(failed > 0 ? Markup(" open") : .empty)><summary>The \(n) cases ")
            + Markup("of this sweep\(failed > 0 ? " (\(failed) failing)" : "")</summary><div class=\"scroll\"><table class=\"checks cases\">")
            + Markup("<thead>\(checkHead)</thead><tbody>\(caseRows)</tbody></table></div></details></td></tr>")
        return out
    }

    /// A row's tolerance reason: in full, or by its number in the folded list under the table.
    static func reason(_ text: String, _ shared: [String]) -> Markup {
        guard let k = shared.firstIndex(of: text) else { return inlineMath(text) }
        return Markup(text: shared.count == 1 ? "reason under the table" : "reason \(k + 1) under the table")
    }

    /// What a compared value is; nothing when the label is only the number itself ("0", "1").
    static func what(_ label: String, _ x: Double) -> Markup {
        let plain = PlainMath.text(label).trimmingCharacters(in: .whitespaces)
        if plain == NumberFormat.format(x, significant: 6) || Double(plain) == x { return .empty }
        return Markup("<span class=\"what\">\(inlineMath(label))</span>")
    }

    /// `--help` text, escaped, with an anchor `option-NAME` on each option's line.
    static func helpWithAnchors(_ help: String) -> Markup {
        help.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Markup in
            let t = line.drop(while: { $0 == " " })
            guard t.hasPrefix("--") else { return Markup(text: String(line)) }
            let name = t.dropFirst(2).prefix(while: { $0.isLetter || $0.isNumber || $0 == "-" })
            return Markup("<span id=\"option-\(name)\">\(line)</span>")
        }.joined(separator: Markup("\n"))
    }

    /// Swift source as escaped HTML with a span a highlighted token (`SwiftCode`).
    static func highlighted(_ source: String) -> Markup {
        var out = Markup.empty
        for t in SwiftCode.tokens(source) {
            let text = Markup(text: String(t.text))
            switch t.kind {
            case .whitespace, .punctuation, .identifier: out += text
            case .keyword: out += Markup("<span class=\"kw\">\(text)</span>")
            case .comment: out += Markup("<span class=\"cm\">\(text)</span>")
            case .string: out += Markup("<span class=\"st\">\(text)</span>")
            case .number: out += Markup("<span class=\"nu\">\(text)</span>")
            case .attribute: out += Markup("<span class=\"at\">\(text)</span>")
            case .type: out += Markup("<span class=\"ty\">\(text)</span>")
            }
        }
        return out
    }

    /// A number for a page cell: 6 significant digits unless asked otherwise (the JSON keeps all 17).
    /// Plain text: it is escaped where it is put on the page.
    /// Whether a table cell is one number as `NumberFormat` prints it (digits, a sign, a point,
    /// "×10" and superscript digits): such a cell is not broken across lines.
    static func isNumber(_ cell: String) -> Bool {
        let allowed = Set("0123456789.−-+×⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
        return cell.first.map { $0.isNumber || $0 == "−" || $0 == "-" } == true
            && cell.contains(where: \.isNumber) && cell.allSatisfy(allowed.contains)
    }

    static func number(_ x: Double, significant: Int = 6) -> String {
        NumberFormat.format(x, significant: significant)
    }

    /// A compared value: one within the check's rounding allowance of zero is shown as 0 (its
    /// exact value in the tooltip), so that rounding noise never reads as a negative KL.
    static func shown(_ x: Double, _ c: Check) -> Markup {
        if x != 0, c.relation != .exceeds, Swift.abs(x) <= c.tolerance, Swift.abs(x) < 1e-10 {
            return Markup("<span class=\"num\" title=\"\(number(x, significant: 3)), within rounding of 0\">0</span>")
        }
        return Markup("<span class=\"num\">\(number(x))</span>")
    }

    /// The verdict in words, shown in the narrow (card) layout under the claim.
    static func verdictSentence(_ c: Check, d: String, t: String) -> String {
        let ok = c.passed
        switch c.relation {
        case .equal: return ok ? "A and B differ by \(d), within the allowed \(t)." : "A and B differ by \(d), more than the allowed \(t)."
        case .lessOrEqual: return ok ? "A does not exceed B by more than \(t) (A − B = \(d))." : "A exceeds B by more than the allowed \(t) (A − B = \(d))."
        case .greaterOrEqual: return ok ? "A is not below B by more than \(t) (A − B = \(d))." : "A is below B by more than the allowed \(t) (A − B = \(d))."
        case .exceeds: return ok ? "A exceeds B by \(d), at least the required \(t)." : "A exceeds B by only \(d), less than the required \(t)."
        }
    }

    /// Escapes text and turns each `$...$` span into inline MathML (an unpaired `$` stays text).
    static func inlineMath(_ text: String) -> Markup {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        var out = Markup.empty
        for (k, part) in parts.enumerated() {
            if k % 2 == 1 && k < parts.count - 1 {
                out += Markup("<span class=\"imath\">\(TeX.inline(String(part)))</span>")
            } else if k % 2 == 1 {
                out += Markup(text: "$" + part)
            } else {
                out += Markup(text: String(part))
            }
        }
        return out
    }

    static func footer(_ p: Provenance) -> Markup {
        let params = p.parameters.keys.sorted().map { "\($0)=\(p.parameters[$0]!)" }.joined(separator: ", ")
        return Markup("""
        <footer><h2>Provenance</h2><dl>
        <dt>Commit</dt><dd><code>\(p.commit)</code>\(p.dirty ? " (working tree had uncommitted changes)" : "")</dd>
        <dt>Command</dt><dd><code>\(command(p.commandLine))</code></dd>
        <dt>Seed and parameters</dt><dd>seed=\(p.seed)\(params.isEmpty ? "" : ", " + params)</dd>
        <dt>Versions</dt><dd>\(p.swiftVersion), GSL \(p.gslVersion), OpenBLAS \(p.openblas)</dd>
        <dt>Machine</dt><dd>\(p.cores) cores</dd>
        <dt>Date</dt><dd>\(p.date)</dd>
        \(p.sourceHash.map { Markup("<dt>Code</dt><dd>FNV-1a <code>\($0)</code> of the chapter's sources as compiled (shown under each section)</dd>") } ?? .empty)
        <dt>Elapsed</dt><dd>\(NumberFormat.format(p.elapsedSeconds, significant: 3)) s</dd>
        </dl></footer>
        """)
    }

    /// The command as a reader would type it in the repository: a chapter run from the build
    /// folder (`/tmp/x/.build/x86_64-unknown-linux-gnu/release/fine-tuning --quick`) becomes
    /// `swift run -c release fine-tuning --quick`; any other command is shown as it was.
    static func command(_ line: String) -> String {
        let first = line.prefix { $0 != " " }
        guard let build = first.range(of: "/.build/") ?? (first.hasPrefix(".build/") ? first.range(of: ".build/") : nil) else { return line }
        let path = first[build.upperBound...].split(separator: "/")
        guard let product = path.last else { return line }
        let configuration = path.contains("release") ? "swift run -c release " : "swift run "
        return configuration + product + line.dropFirst(first.count)
    }

    static func index(_ reports: [Report], front: BookFront = .untitled) -> Markup {
        var body = Markup("<header><h1>\(inlineMath(front.title))</h1>")
        if !front.lede.isEmpty {
            var lede = inlineMath(front.lede)
            if let work = front.work {
                lede = lede.replacing(Markup(text: work.title), with: Markup.element("a", ["href": work.url], Markup(text: work.title)))
            }
            body += Markup("<p class=\"lede\">\(lede)</p>")
        }
        body += Markup("</header><main>")
        body += thesis(reports, front)
        let total = reports.reduce(0) { $0 + $1.passed + $1.failed }
        let failed = reports.reduce(0) { $0 + $1.failed }
        body += failed == 0
            ? Markup("<p class=\"summary pass\"><span class=\"badge pass\">\(total) of \(total) checks hold</span> across \(reports.count) chapters.</p>")
            : Markup("<p class=\"summary fail\"><span class=\"badge fail\">\(failed) of \(total) checks fail</span> across \(reports.count) chapters.</p>")
        body += Markup("<h2>Chapters</h2><div class=\"scroll\"><table class=\"data toc\"><thead><tr><th>Chapter</th><th>What it shows</th><th>Checks</th><th>Run time</th></tr></thead><tbody>")
        for r in reports {
            let badge = r.failed == 0 ? Markup("<span class=\"badge pass\">\(r.passed) hold</span>") : Markup("<span class=\"badge fail\">\(r.failed) fail</span> <span class=\"badge pass\">\(r.passed) hold</span>")
            body += Markup("<tr><td><a href=\"\(r.chapter).html\">\(r.number). \(inlineMath(r.title))</a></td><td>\(inlineMath(r.summary))</td><td>\(badge)</td><td>\(NumberFormat.format(r.provenance.elapsedSeconds, significant: 3)) s</td></tr>")
        }
        body += Markup("</tbody></table></div>")
        let errata = reports.flatMap { r in r.errata.map { (r, $0) } }
        if !errata.isEmpty {
            body += Markup("<h2>Errata found in the paper</h2><ul class=\"errata\">")
            // Each erratum links to its chapter, where the checks and tables it refers to are.
            for (r, e) in errata { body += Markup("<li><a href=\"\(r.chapter).html\">Chapter \(r.number)</a>: \(inlineMath(e))</li>") }
            body += Markup("</ul>")
        }
        body += Markup("</main>")
        return document(title: PlainMath.text(front.title), body: body, bodyClass: "index")
    }

    /// The book's argument in one paragraph, and the ways through it.
    static func thesis(_ reports: [Report], _ front: BookFront) -> Markup {
        func link(_ n: Int) -> Markup {
            guard let r = reports.first(where: { $0.number == n }) else { return Markup(text: "\(n)") }
            return Markup("<a href=\"\(r.chapter).html\">\(n). \(inlineMath(r.title))</a>")
        }
        var out = Markup.empty
        if !front.argument.isEmpty { out += Markup("<h2>The argument</h2><p>\(inlineMath(front.argument))</p>") }
        if !front.paths.isEmpty {
            out += Markup("<h3>Ways through the book</h3><ul class=\"paths\">")
            for path in front.paths { out += Markup("<li>\(inlineMath(path.reader)): \(path.chapters.map(link).joined(separator: Markup(" → ")))</li>") }
            out += Markup("</ul>")
        }
        return out
    }

    static func document(title: String, body: Markup, bodyClass: String? = nil, extraCSS: String = "") -> Markup {
        // The stylesheets are our own CSS, written in the module (and the page's equation rules).
        let css = Markup(unescaped: Stylesheet.css + Stylesheet.codeCSS + extraCSS)
        return Markup("""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>\(title)</title>
        <style>\(css)</style>
        </head><body\(bodyClass.map { Markup(" class=\"\($0)\"") } ?? .empty)>\(body)</body></html>
        """)
    }
}

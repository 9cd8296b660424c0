/// Turns pages into self-contained HTML: inline CSS, MathML, inline SVG, no script.
enum Renderer {
    static func page(_ page: Page, provenance: Provenance) -> String {
        var body = ""
        // Pages outside the book (number 0, e.g. diagnose's) neither link to an index nor claim a chapter.
        body += page.number > 0
            ? "<header><p class=\"kicker\"><a href=\"index.html\">The book</a> · Chapter \(page.number)</p>"
            : "<header><p class=\"kicker\">Report</p>"
        body += "<h1>\(HTML.escape(page.title))</h1><p class=\"lede\">\(HTML.escape(page.summary))</p>"
        body += summaryBox(page) + "</header><main>"
        for block in page.blocks { body += render(block) }
        body += "</main>" + footer(provenance)
        return document(title: page.number > 0 ? "\(page.number). \(page.title)" : page.title, body: body)
    }

    static func summaryBox(_ page: Page) -> String {
        let n = page.checks.count
        if page.failedCount == 0 {
            return "<p class=\"summary pass\"><span class=\"badge pass\">\(n) of \(n) checks hold</span> Every comparison below agrees within its stated tolerance.</p>"
        }
        let failed = page.checks.filter { !$0.passed }.map { "<li>\(HTML.escape($0.claim))</li>" }.joined()
        return "<div class=\"summary fail\"><span class=\"badge fail\">\(page.failedCount) of \(n) checks fail</span><ul>\(failed)</ul></div>"
    }

    static func render(_ block: Page.Block) -> String {
        switch block {
        case .heading(let t):
            return "<h2>\(HTML.escape(t))</h2>"
        case .prose(let t):
            return "<p>\(inlineMath(t))</p>"
        case .equation(let tex, let number):
            let tag = number.map { "<span class=\"eqno\">(\(HTML.escape($0)))</span>" } ?? ""
            return "<div class=\"equation\">\(TeX.block(tex))\(tag)</div>"
        case .parameters(let items):
            let rows = items.map { "<tr><th scope=\"row\">\(inlineMath($0.0))</th><td>\(HTML.escape($0.1))</td></tr>" }.joined()
            return "<table class=\"parameters\"><caption>Parameters</caption>\(rows)</table>"
        case .checks(let checks):
            return checkTable(checks)
        case .figure(let svg, let caption):
            return "<figure>\(svg)<figcaption>\(inlineMath(caption))</figcaption></figure>"
        case .table(let headers, let rows, let caption, let folded):
            let head = "<tr>" + headers.map { "<th scope=\"col\">\(inlineMath($0))</th>" }.joined() + "</tr>"
            let body = rows.map { "<tr>" + $0.map { "<td>\(HTML.escape($0))</td>" }.joined() + "</tr>" }.joined()
            let table = "<div class=\"scroll\"><table class=\"data\"><thead>\(head)</thead><tbody>\(body)</tbody></table></div>"
            if folded {
                return "<details><summary>\(inlineMath(caption)) (\(rows.count) rows)</summary>\(table)</details>"
            }
            return "<p class=\"table-caption\">\(inlineMath(caption))</p>\(table)"
        case .aside(let kind, let text):
            let label = kind == .erratum ? "Erratum" : "Remark"
            return "<aside class=\"\(kind.rawValue)\"><strong>\(label).</strong> \(inlineMath(text))</aside>"
        case .derivation(let d):
            let rows = d.lines.map { line in
                "<tr><td class=\"line\"><span class=\"imath\">\(TeX.inline(line.tex))</span></td>"
                    + "<td class=\"num\">\(HTML.escape(NumberFormat.format(line.value, significant: 12)))</td>"
                    + "<td>\(inlineMath(line.note ?? ""))</td></tr>"
            }.joined()
            let head = "<tr><th scope=\"col\">Line</th><th scope=\"col\">Value</th><th scope=\"col\">Step</th></tr>"
            return "<p class=\"table-caption\">\(inlineMath(d.caption))</p><div class=\"scroll\"><table class=\"data derivation\"><thead>\(head)</thead><tbody>\(rows)</tbody></table></div>"
        case .code(let e):
            let last = e.firstLine + e.text.split(separator: "\n", omittingEmptySubsequences: false).count - 1
            return "<details class=\"code\"><summary>The code of this section: <code>\(HTML.escape(e.path)):\(e.firstLine)-\(last)</code></summary>"
                + "<pre class=\"swift\"><code>\(highlighted(e.text))</code></pre></details>"
        case .codeReference(let e):
            return "<p class=\"code-ref\">The code of this section is the function shown above, <code>\(HTML.escape(e.path)):\(e.firstLine)</code>.</p>"
        case .rerun(let command, let help, let json):
            var out = "<p>This page, exactly (same seed, same options, same numbers):</p><pre class=\"command\"><code>\(HTML.escape(command))</code></pre>"
            out += "<p>Run the command with other options to change it; its JSON twin, <a href=\"\(HTML.escape(json))\">\(HTML.escape(json))</a>, holds the checks, derivations and recorded values.</p>"
            if !help.isEmpty {
                out += "<details class=\"help\" id=\"options\"><summary>The options (<code>--help</code>)</summary><pre>\(helpWithAnchors(help))</pre></details>"
            }
            return out
        case .samples(let title, let texts):
            let items = texts.map { "<li><pre>\(HTML.escape($0))</pre></li>" }.joined()
            return "<div class=\"samples\"><h3>\(HTML.escape(title))</h3><ol>\(items)</ol></div>"
        }
    }

    static func checkTable(_ checks: [Check]) -> String {
        var rows = ""
        for c in checks {
            let verdict = c.passed ? "<span class=\"badge pass\">holds</span>" : "<span class=\"badge fail\">fails</span>"
            let ref = c.reference.map { " <span class=\"ref\">\(HTML.escape($0))</span>" } ?? ""
            let rel: String
            switch c.relation {
            case .equal: rel = "|A − B|"
            case .lessOrEqual: rel = "A − B ≤"
            case .greaterOrEqual: rel = "A − B ≥ −"
            case .exceeds: rel = "A − B ≥"
            }
            rows += "<tr class=\"\(c.passed ? "pass" : "fail")\">"
            rows += "<td class=\"claim\">\(HTML.escape(c.claim))\(ref)</td>"
            rows += "<td><span class=\"what\">\(HTML.escape(c.aLabel))</span><span class=\"num\">\(HTML.escape(NumberFormat.format(c.a, significant: 12)))</span></td>"
            rows += "<td><span class=\"what\">\(HTML.escape(c.bLabel))</span><span class=\"num\">\(HTML.escape(NumberFormat.format(c.b, significant: 12)))</span></td>"
            rows += "<td><span class=\"what\">\(rel)</span><span class=\"num\">\(HTML.escape(NumberFormat.format(c.difference, significant: 3)))</span></td>"
            rows += "<td><span class=\"num\">\(HTML.escape(NumberFormat.format(c.tolerance, significant: 3)))</span><span class=\"why\">\(HTML.escape(c.toleranceReason))</span></td>"
            rows += "<td>\(verdict)</td></tr>"
        }
        let head = "<tr><th scope=\"col\">Claim</th><th scope=\"col\">Value A</th><th scope=\"col\">Value B</th><th scope=\"col\">Difference</th><th scope=\"col\">Tolerance and why</th><th scope=\"col\">Verdict</th></tr>"
        return "<div class=\"scroll\"><table class=\"checks\"><thead>\(head)</thead><tbody>\(rows)</tbody></table></div>"
    }

    /// `--help` text, escaped, with an anchor `option-NAME` on each option's line.
    static func helpWithAnchors(_ help: String) -> String {
        help.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let t = line.drop(while: { $0 == " " })
            guard t.hasPrefix("--") else { return HTML.escape(String(line)) }
            let name = t.dropFirst(2).prefix(while: { $0.isLetter || $0.isNumber || $0 == "-" })
            return "<span id=\"option-\(HTML.escape(String(name)))\">\(HTML.escape(String(line)))</span>"
        }.joined(separator: "\n")
    }

    /// Swift source as escaped HTML with a span a highlighted token (`SwiftCode`).
    static func highlighted(_ source: String) -> String {
        var out = ""
        for t in SwiftCode.tokens(source) {
            let text = HTML.escape(String(t.text))
            switch t.kind {
            case .whitespace, .punctuation, .identifier: out += text
            case .keyword: out += "<span class=\"kw\">\(text)</span>"
            case .comment: out += "<span class=\"cm\">\(text)</span>"
            case .string: out += "<span class=\"st\">\(text)</span>"
            case .number: out += "<span class=\"nu\">\(text)</span>"
            case .attribute: out += "<span class=\"at\">\(text)</span>"
            case .type: out += "<span class=\"ty\">\(text)</span>"
            }
        }
        return out
    }

    /// Escapes text and turns each `$...$` span into inline MathML.
    static func inlineMath(_ text: String) -> String {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        var out = ""
        for (k, part) in parts.enumerated() {
            if k % 2 == 1 && k < parts.count - 1 || (k % 2 == 1 && parts.count % 2 == 1) {
                // MathML cannot break a line; a long formula scrolls inside its own box rather
                // than pushing the paragraph wider than the screen.
                out += "<span class=\"imath\">" + TeX.inline(String(part)) + "</span>"
            } else {
                out += HTML.escape(String(part))
            }
        }
        return out
    }

    static func footer(_ p: Provenance) -> String {
        let params = p.parameters.keys.sorted().map { "\(HTML.escape($0))=\(HTML.escape(p.parameters[$0]!))" }.joined(separator: ", ")
        return """
        <footer><h2>Provenance</h2><dl>
        <dt>Commit</dt><dd><code>\(HTML.escape(p.commit))</code>\(p.dirty ? " (working tree had uncommitted changes)" : "")</dd>
        <dt>Command</dt><dd><code>\(HTML.escape(p.commandLine))</code></dd>
        <dt>Seed and parameters</dt><dd>seed=\(p.seed)\(params.isEmpty ? "" : ", " + params)</dd>
        <dt>Versions</dt><dd>\(HTML.escape(p.swiftVersion)), GSL \(HTML.escape(p.gslVersion)), OpenBLAS \(HTML.escape(p.openblas))</dd>
        <dt>Machine</dt><dd>\(p.cores) cores</dd>
        <dt>Date</dt><dd>\(HTML.escape(p.date))</dd>
        \(p.sourceHash.map { "<dt>Code</dt><dd>FNV-1a <code>\(HTML.escape($0))</code> of the chapter's sources as compiled (shown under each section)</dd>" } ?? "")
        <dt>Elapsed</dt><dd>\(HTML.escape(NumberFormat.format(p.elapsedSeconds, significant: 3))) s</dd>
        </dl></footer>
        """
    }

    static func index(_ reports: [Report]) -> String {
        var body = "<header><h1>RL with KL penalties, read as Bayesian inference</h1>"
        body += "<p class=\"lede\">An executable companion to Korbak, Perez and Buckley (2022). Each chapter is a program that checks one derivation of the paper with numbers; this page lists what the last run found.</p></header><main>"
        let total = reports.reduce(0) { $0 + $1.passed + $1.failed }
        let failed = reports.reduce(0) { $0 + $1.failed }
        body += failed == 0
            ? "<p class=\"summary pass\"><span class=\"badge pass\">\(total) of \(total) checks hold</span> across \(reports.count) chapters.</p>"
            : "<p class=\"summary fail\"><span class=\"badge fail\">\(failed) of \(total) checks fail</span> across \(reports.count) chapters.</p>"
        body += "<h2>Chapters</h2><div class=\"scroll\"><table class=\"data toc\"><thead><tr><th>Chapter</th><th>What it shows</th><th>Checks</th><th>Run time</th></tr></thead><tbody>"
        for r in reports {
            let badge = r.failed == 0 ? "<span class=\"badge pass\">\(r.passed) hold</span>" : "<span class=\"badge fail\">\(r.failed) fail</span> <span class=\"badge pass\">\(r.passed) hold</span>"
            body += "<tr><td><a href=\"\(HTML.escape(r.chapter)).html\">\(r.number). \(HTML.escape(r.title))</a></td><td>\(HTML.escape(r.summary))</td><td>\(badge)</td><td>\(HTML.escape(NumberFormat.format(r.provenance.elapsedSeconds, significant: 3))) s</td></tr>"
        }
        body += "</tbody></table></div>"
        let errata = reports.flatMap { r in r.errata.map { (r, $0) } }
        if !errata.isEmpty {
            body += "<h2>Errata found in the paper</h2><ul class=\"errata\">"
            for (r, e) in errata { body += "<li>\(inlineMath(e)) <span class=\"ref\">(chapter \(r.number))</span></li>" }
            body += "</ul>"
        }
        body += "</main>"
        return document(title: "RL with KL penalties, read as Bayesian inference", body: body)
    }

    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>\(HTML.escape(title))</title>
        <style>\(Stylesheet.css)\(Stylesheet.codeCSS)</style>
        </head><body>\(body)</body></html>
        """
    }
}

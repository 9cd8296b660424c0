/// One chapter's notebook page, built top to bottom in the chapter's own order: prose,
/// equations, parameters, checks, plots, tables and asides. Rendering makes one
/// self-contained HTML file; `report` gives the same checks and numbers as data.
public final class Page {
    /// One block of the page, in reading order.
    enum Block {
        /// A section heading, with where `section` was called from (for `attachCode`).
        case heading(String, CodeLocation? = nil)
        case prose(String)
        case equation(tex: String, number: String?)
        case parameters([(String, String)])
        case checks([Check])
        case figure(svg: Markup, record: FigureRecord)
        case table(record: TableRecord, folded: Bool)
        case aside(kind: AsideKind, text: String)
        case samples(title: String, texts: [String])
        case derivation(Derivation)
        case code(CodeExcerpt)
        /// The section was built by a function already shown under an earlier section.
        case codeReference(CodeExcerpt)
        case rerun(command: String, help: String, json: String)
    }

    public enum AsideKind: String, Sendable { case remark, erratum }

    /// The folder name, e.g. "01-distribution-collapse": also the file names.
    public let slug: String
    public let number: Int
    public let title: String
    /// One line: what the chapter shows.
    public let summary: String
    var blocks: [Block] = []
    public private(set) var checks: [Check] = []
    /// The title of the sweep whose checks are being made (`sweep(_:_:)`), if any.
    private var sweepTitle: String?
    /// Named numbers for the JSON report (parameters and results programs may read).
    public private(set) var values: [String: Double] = [:]
    public private(set) var errata: [String] = []
    /// The derivations shown on the page: algebraic steps with their values, not checks.
    public private(set) var derivations: [Derivation] = []
    /// Called for each check as it is added (the chapter prints it to the terminal).
    public var onCheck: ((Check) -> Void)?
    /// Works the page may name: those its text names are linked and listed at its end.
    public var bibliography: [Reference] = []
    /// The previous and next pages of the book, linked at the page's end.
    public var previous: PageLink?
    public var next: PageLink?

    public init(slug: String, number: Int, title: String, summary: String) {
        self.slug = slug; self.number = number; self.title = title; self.summary = summary
    }

    // MARK: - Building the page

    /// A section heading. Where it is called from is kept, so that the function that builds the
    /// section can be shown under it (`attachCode`).
    public func section(_ title: String, fileID: String = #fileID, line: Int = #line) {
        blocks.append(.heading(title, CodeLocation(fileID: fileID, line: line)))
    }

    /// Puts, at the end of each section, the code `excerpt` finds for the section's call (the
    /// function that built it), folded. A function that built several sections is shown once,
    /// under its first, and referred to under the others; sections without code get none.
    public func attachCode(_ excerpt: (CodeLocation) -> CodeExcerpt?) {
        var shown = Set<String>()
        var inserts: [(at: Int, block: Block)] = []
        let headings = blocks.indices.filter { if case .heading = blocks[$0] { return true } else { return false } }
        for (k, index) in headings.enumerated() {
            guard case .heading(_, let location?) = blocks[index], let e = excerpt(location) else { continue }
            let end = k + 1 < headings.count ? headings[k + 1] : blocks.count
            if shown.insert("\(e.path):\(e.firstLine)").inserted {
                inserts.append((end, .code(e)))
                code.append(e)
            } else {
                inserts.append((end, .codeReference(e)))
            }
        }
        for (at, block) in inserts.reversed() { blocks.insert(block, at: at) }
    }

    /// The closing section: the command that makes this page again, and the `--help` text that
    /// says how to change it.
    public func rerun(command: String, help: String) {
        blocks.append(.heading("Re-run it"))
        blocks.append(.rerun(command: command, help: help, json: slug + ".json"))
        reproduction = command
    }

    /// The command that makes this page again, if the page says it.
    public private(set) var reproduction: String?

    /// The code shown on the page.
    public private(set) var code: [CodeExcerpt] = []

    /// A paragraph. Text between `$...$` is TeX-like mathematics; everything else is escaped.
    public func prose(_ text: String) { blocks.append(.prose(text)) }

    /// A displayed equation, with the paper's equation number when it restates one ("5").
    public func equation(_ tex: String, number: String? = nil) { blocks.append(.equation(tex: tex, number: number)) }

    public func parameters(_ items: [(String, String)]) { blocks.append(.parameters(items)) }

    /// Records checks; consecutive checks share one table.
    @discardableResult
    public func check(_ c: Check) -> Bool {
        var c = c
        if let sweepTitle { c.sweep = sweepTitle }
        checks.append(c)
        onCheck?(c)
        if case .checks(let existing)? = blocks.last {
            blocks[blocks.count - 1] = .checks(existing + [c])
        } else {
            blocks.append(.checks([c]))
        }
        return c.passed
    }

    /// The checks made in `body` are cases of one sweep: the same identity over many policies,
    /// rewards or parameters. The page shows them as one summary row (how many cases, how many
    /// hold, the case nearest to failing) with every case folded under it, open when one fails.
    /// Each case stays a check of its own in the count and in the JSON (`"sweep": title`).
    public func sweep(_ title: String, _ body: () throws -> Void) rethrows {
        precondition(sweepTitle == nil, "Page.sweep: sweeps do not nest")
        sweepTitle = title
        defer { sweepTitle = nil }
        try body()
    }

    /// A figure, numbered in reading order ("Figure 2."). Give it a `label` to cite it from
    /// prose as `@fig:label`, which renders as a link reading "Figure 2".
    public func plot(_ figure: some Figure, caption: String, label: String? = nil) {
        blocks.append(.figure(svg: figure.svg(), record: figure.record(label: label, caption: caption)))
    }

    /// A table of text cells (escaped), numbered in reading order ("Table 1."); cite it from
    /// prose as `@tbl:label`. Tables of more than `foldAbove` rows are folded.
    public func table(headers: [String], rows: [[String]], caption: String, foldAbove: Int = 12, label: String? = nil) {
        let record = TableRecord(number: 0, label: label, caption: caption, headers: headers, rows: rows)
        blocks.append(.table(record: record, folded: rows.count > foldAbove))
    }

    /// The page's figures and tables, numbered in the order a reader meets them.
    public var figures: [FigureRecord] {
        var out: [FigureRecord] = []
        for case .figure(_, var r) in blocks { r.number = out.count + 1; out.append(r) }
        return out
    }
    public var tables: [TableRecord] {
        var out: [TableRecord] = []
        for case .table(var r, _) in blocks { r.number = out.count + 1; out.append(r) }
        return out
    }

    /// Every `@fig:label` and `@tbl:label` the page's text cites, in order of appearance.
    public var citedLabels: [String] {
        texts.flatMap { CrossReference.labels(in: $0) }
    }

    /// The cited labels no figure or table carries (they render as "Figure ?").
    public var unresolvedReferences: [String] {
        let known = Set(figures.compactMap { $0.label.map { "fig:" + $0 } } + tables.compactMap { $0.label.map { "tbl:" + $0 } })
        return citedLabels.filter { !known.contains($0) }
    }

    /// The works of `bibliography` the page's text names (and those with no mention, always
    /// listed), in the bibliography's order.
    public var citedWorks: [Reference] {
        let all = texts.joined(separator: "\n")
        return bibliography.filter { work in work.mentions.isEmpty || work.mentions.contains { CrossReference.names(all, $0) } }
    }

    /// The text a reader reads in the page's body: prose, captions, asides, headings, claims,
    /// table cells (the places cross-references and names of works may appear).
    var texts: [String] {
        blocks.flatMap { block -> [String] in
            switch block {
            case .heading(let t, _), .prose(let t): return [t]
            case .aside(_, let t): return [t]
            case .figure(_, let r): return [r.caption]
            case .table(let r, _): return [r.caption] + r.rows.flatMap { $0 }
            case .derivation(let d): return [d.caption] + d.lines.compactMap(\.note)
            case .checks(let cs): return cs.flatMap { [$0.claim] + ($0.reference.map { [$0] } ?? []) }
            default: return []
            }
        }
    }

    /// A remark in the margin; errata are also listed on the index page.
    public func aside(_ text: String, kind: AsideKind = .remark) {
        blocks.append(.aside(kind: kind, text: text))
        if kind == .erratum { errata.append(text) }
    }

    /// The lines of a derivation, each evaluated on the page's example. A rearrangement of the
    /// same sum is a step of the derivation, not an independent computation, so it is shown
    /// with its value and is not counted as a check.
    public func derivation(_ lines: [DerivationLine], caption: String) {
        let d = Derivation(caption: caption, lines: lines)
        derivations.append(d)
        blocks.append(.derivation(d))
    }

    /// Generated text (e.g. language-model samples), shown verbatim and escaped.
    public func samples(_ title: String, _ texts: [String]) { blocks.append(.samples(title: title, texts: texts)) }

    /// A place on the page for blocks made later, so that a chapter can show first what it
    /// only knows at the end of its run (its answers, a summary table).
    public struct Mark: Sendable { let index: Int }

    /// Marks the current end of the page.
    public func mark() -> Mark { Mark(index: blocks.count) }

    /// Runs `body` and moves the blocks it adds to `mark`, before every block added since the
    /// mark was made. Only prose, tables, plots and asides: checks keep the order they were
    /// made in (it is a precondition that `body` adds none). Use one mark, or insert at the
    /// later marks first: an insertion moves the blocks after it down.
    public func insert(at mark: Mark, _ body: () throws -> Void) rethrows {
        let start = blocks.count, checkCount = checks.count
        try body()
        precondition(checks.count == checkCount, "Page.insert(at:) takes no checks")
        let added = Array(blocks[start...])
        blocks.removeSubrange(start...)
        blocks.insert(contentsOf: added, at: min(mark.index, blocks.count))
    }

    /// Records a named number for the JSON report.
    public func record(_ name: String, _ value: Double) { values[name] = value }

    public var passedCount: Int { checks.filter(\.passed).count }
    public var failedCount: Int { checks.count - passedCount }
}

/// One line of a derivation: the expression, its value on the page's example, and the step
/// that leads to it ("Jensen", "eq. 12 substituted").
public struct DerivationLine: Codable, Sendable, Equatable {
    public let tex: String
    public let value: Double
    public let note: String?
    public init(_ tex: String, _ value: Double, note: String? = nil) {
        self.tex = tex; self.value = value; self.note = note
    }
}

/// A derivation shown on a page, line by line.
public struct Derivation: Codable, Sendable, Equatable {
    public let caption: String
    public let lines: [DerivationLine]
}

/// Where in the source a call was made: `#fileID` ("Chapter01/main.swift") and `#line`.
public struct CodeLocation: Sendable, Equatable {
    public let fileID: String
    public let line: Int
    public init(fileID: String, line: Int) { self.fileID = fileID; self.line = line }
}

/// Lines of source shown on a page: the path from the package root, the first line's number,
/// and the text of the lines.
public struct CodeExcerpt: Codable, Sendable, Equatable {
    public let path: String
    public let firstLine: Int
    public let text: String
    public init(path: String, firstLine: Int, text: String) { self.path = path; self.firstLine = firstLine; self.text = text }
}

import Notebook

/// The opening section of a chapter page, "What this chapter finds": a few sentences and a table
/// of the run's headline numbers, shown first although they are known only at the end of the run
/// (`Page.mark()` and `Page.insert(at:)`). Every number in the table is one the page records for
/// its JSON twin (`Page.record`), printed as the page prints numbers, so a test can hold the
/// table to the JSON.
public enum Findings {
    public static let title = "What this chapter finds"
    public static let label = "findings"
    public static let headers = ["result", "this run", "JSON value"]

    /// One row: what the number is (may hold `$…$`) and the name it is recorded under.
    public struct Row: Sendable {
        public let quantity: String
        public let key: String
        public init(_ quantity: String, _ key: String) { self.quantity = quantity; self.key = key }
    }

    /// The value recorded under `key`, as the page prints it (the table and the sentences both
    /// use this, so they agree).
    public static func text(_ page: Page, _ key: String, significant: Int = 6) -> String {
        guard let v = page.values[key] else { preconditionFailure("Findings: nothing recorded under \(key)") }
        return NumberFormat.format(v, significant: significant)
    }

    /// Whether every check with one of `ids` passed (false if one of them was not made): what a
    /// sentence of the findings may claim only when its checks hold.
    public static func held(_ page: Page, _ ids: [String]) -> Bool {
        ids.allSatisfy { id in page.checks.first { $0.id == id }?.passed == true }
    }

    /// Whether every check whose id starts with one of `prefixes` passed (false if a prefix has no
    /// check): a sentence about a whole part of the chapter.
    public static func held(_ page: Page, prefixes: [String]) -> Bool {
        prefixes.allSatisfy { prefix in
            let matching = page.checks.filter { $0.id.hasPrefix(prefix) }
            return !matching.isEmpty && matching.allSatisfy(\.passed)
        }
    }

    /// The table of headline numbers, labelled `findings` (cite it as `@tbl:findings`).
    public static func table(_ page: Page, _ rows: [Row], caption: String) {
        page.table(headers: headers, rows: rows.map { [$0.quantity, text(page, $0.key), $0.key] },
                   caption: caption, foldAbove: 40, label: label)
    }
}

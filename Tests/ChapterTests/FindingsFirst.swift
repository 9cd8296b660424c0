import BookKit
import Foundation
import Notebook
import Testing

/// A chapter page opens with its findings: the first section is "What this chapter finds", the
/// first table on the page is its table of headline numbers and sits in that section, and every
/// number of that table is the value the JSON twin records under the name the table gives.
/// Returns the report, so that a chapter's test can hold a sentence of the section to a value.
@discardableResult
func expectFindingsFirst(_ product: String, slug: String, arguments: [String], status: Int32 = 0,
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> (report: Report, section: String) {
    let folder = try ChapterRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let result = try ChapterRunner.run(product, arguments + ["--output", folder.path])
    #expect(result.status == status, "\(product) \(arguments): \(result.stderr)", sourceLocation: sourceLocation)
    let report = try ChapterRunner.report(in: folder, slug: slug)
    let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
    return (report, try expectFindingsFirst(html: html, report: report, sourceLocation: sourceLocation))
}

/// The same for a page already written: its HTML and its JSON twin. Returns the findings section.
@discardableResult
func expectFindingsFirst(html: String, report: Report,
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let start = try #require(html.range(of: "<h2 id=\"section-1\">"), sourceLocation: sourceLocation)
    let end = html.range(of: "<h2 id=\"section-2\">")?.lowerBound ?? html.endIndex
    var section = String(html[start.lowerBound..<end])
    // The section as a reader reads it, without the code folded under it.
    if let code = section.range(of: "<details class=\"code\">") { section = String(section[..<code.lowerBound]) }
    #expect(section.hasPrefix("<h2 id=\"section-1\">\(Findings.title)</h2>"), "the first section is the findings",
            sourceLocation: sourceLocation)
    #expect(!html[..<start.lowerBound].contains("<h2"), "nothing comes before the findings", sourceLocation: sourceLocation)
    let table = try #require(report.tables?.first, sourceLocation: sourceLocation)
    #expect(table.label == Findings.label && table.number == 1, sourceLocation: sourceLocation)
    #expect(table.headers == Findings.headers, sourceLocation: sourceLocation)
    #expect(section.contains("id=\"table-1\""), "the findings table is in the first section", sourceLocation: sourceLocation)
    #expect(!table.rows.isEmpty, sourceLocation: sourceLocation)
    for row in table.rows {
        let value = try #require(report.values[row[2]], "no value \(row[2]) in the JSON", sourceLocation: sourceLocation)
        #expect(row[1] == NumberFormat.format(value), "\(row[2]): table \(row[1]), JSON \(value)",
                sourceLocation: sourceLocation)
    }
    #expect(section.contains("@fig:") == false && section.contains("Figure ?") == false && section.contains("Table ?") == false,
            "the findings cite only what exists", sourceLocation: sourceLocation)
    return section
}

/// The text of some HTML with its tags removed (MathML numbers read as their digits).
func plainText(_ html: String) -> String {
    html.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
        .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&quot;", with: "\"")
        .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        .replacingOccurrences(of: "&amp;", with: "&")
}

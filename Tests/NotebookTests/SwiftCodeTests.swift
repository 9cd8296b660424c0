import BookKit
@testable import Notebook
import Testing

@Suite("Swift code on the page")
struct SwiftCodeTests {
    static let sample = ##"""
    import Foundation

    /// Doubles.
    @inline(__always)
    func twice(_ x: Int) -> Int {
        let s = "a { brace } in a string \(x + (1 * 2))"   // and { in a comment
        /* nested /* block */ comment { */
        let raw = #"raw "quoted" \#(x) } brace"#
        let multi = """
            } still a string
            """
        return 2 * x + s.count + raw.count + multi.count
    }

    struct S {
        func inner() {
            let f = { (y: Int) in y + 1 }
            _ = f(1)
        }
    }
    """##

    @Test("tokens concatenate to the source, and strings and comments are single tokens")
    func tokensCoverTheSource() {
        let tokens = SwiftCode.tokens(Self.sample)
        #expect(tokens.map { String($0.text) }.joined() == Self.sample)
        let strings = tokens.filter { $0.kind == .string }.map { String($0.text) }
        #expect(strings.contains("\"a { brace } in a string \\(x + (1 * 2))\""))
        #expect(strings.contains("#\"raw \"quoted\" \\#(x) } brace\"#"))
        #expect(strings.contains { $0.hasPrefix("\"\"\"") && $0.contains("} still a string") })
        #expect(tokens.contains { $0.kind == .comment && $0.text == "/* nested /* block */ comment { */" })
        #expect(tokens.contains { $0.kind == .keyword && $0.text == "func" })
        #expect(tokens.contains { $0.kind == .attribute && $0.text == "@inline" })
        #expect(tokens.contains { $0.kind == .type && $0.text == "Int" })
        #expect(tokens.contains { $0.kind == .number && $0.text == "2" })
    }

    @Test("the function around a line, with its doc comment and attributes, ignoring braces in strings and comments")
    func enclosingFunction() {
        // Line 6 is inside twice (lines 3-13 with the doc comment and the attribute).
        #expect(SwiftCode.enclosingFunction(Self.sample, line: 6) == 3...13)
        #expect(SwiftCode.enclosingFunction(Self.sample, line: 12) == 3...13)
        // Line 17 is inside inner(), which sits inside struct S: the innermost function wins.
        #expect(SwiftCode.enclosingFunction(Self.sample, line: 17) == 16...19)
        #expect(SwiftCode.enclosingFunction(Self.sample, line: 1) == nil)
    }

    @Test("sections get the function that built them, folded; a function building two sections is referred to")
    func attachCode() {
        let page = Page(slug: "00-t", number: 0, title: "t", summary: "s")
        page.section("one", fileID: "M/main.swift", line: 6)
        page.prose("first")
        page.section("two", fileID: "M/main.swift", line: 12)
        page.section("three", fileID: "M/main.swift", line: 17)
        let sources = ChapterSources(files: [ChapterSources.File(path: "Chapters/00-t/main.swift", text: Self.sample)])
        page.attachCode { sources.excerpt(at: $0) }
        #expect(page.code.count == 2)
        #expect(page.code[0].firstLine == 3 && page.code[0].text.hasPrefix("/// Doubles."))
        let html = Renderer.render(page.blocks[2]).html   // after heading "one" and its prose
        #expect(html.contains("class=\"code\"") && html.contains("Chapters/00-t/main.swift:3-13"))
        #expect(html.contains("<span class=\"kw\">func</span>"))
        #expect(page.blocks.contains { if case .codeReference = $0 { return true } else { return false } })
    }

    @Test("the sources' hash changes with any byte of any file")
    func hash() {
        let a = ChapterSources(files: [.init(path: "a.swift", text: "x"), .init(path: "b.swift", text: "y")])
        let b = ChapterSources(files: [.init(path: "b.swift", text: "y"), .init(path: "a.swift", text: "x")])
        let c = ChapterSources(files: [.init(path: "a.swift", text: "x "), .init(path: "b.swift", text: "y")])
        #expect(a.hash == b.hash && a.hash.count == 16)
        #expect(a.hash != c.hash)
    }
}

@testable import Notebook
import Testing

@Suite("Page marks: blocks made late, shown early")
struct PageMarkTests {
    @Test("blocks inserted at a mark come before every block added after it; checks keep their order")
    func insertAtMark() {
        let page = Page(slug: "09-x", number: 9, title: "t", summary: "s")
        page.section("first")
        let mark = page.mark()
        page.section("second")
        page.check(Check(id: "a", claim: "c", aLabel: "a", bLabel: "b", a: 1, b: 1, tolerance: 0, because: "r"))
        page.section("third")
        page.insert(at: mark) {
            page.section("inserted")
            page.prose("p")
        }
        let headings = page.blocks.compactMap { block -> String? in
            if case .heading(let t, _) = block { return t }
            return nil
        }
        #expect(headings == ["first", "inserted", "second", "third"])
        #expect(page.checks.map(\.id) == ["a"])
        guard case .prose("p")? = page.blocks.dropFirst(2).first else {
            Issue.record("the prose did not follow its heading")
            return
        }
    }
}

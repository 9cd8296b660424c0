import BookKit
@testable import Notebook
import Testing

@Suite("WorstCase and Check relations")
struct WorstCaseTests {
    @Test("the worst comparison is the one nearest to failing, relative to its own tolerance")
    func keepsTheNearestToFailing() {
        var w = WorstCase(.equal)
        w.add(1.0, 1.5, tolerance: 1, at: "large difference, larger tolerance")   // 0.5 of its tolerance
        w.add(2.0, 2.0 + 9e-3, tolerance: 1e-2, at: "small difference, tight")     // 0.9 of its tolerance
        w.add(3.0, 3.0, tolerance: 0, at: "exact")
        let c = w.check(id: "t", claim: "c", aLabel: "A", bLabel: "B", because: "r")
        #expect(c.passed)
        #expect(c.a == 2.0 && c.tolerance == 1e-2)
        #expect(w.location == "small difference, tight")
        #expect(w.count == 3)
    }

    @Test("one failing comparison among many makes the check fail")
    func oneFailureFails() {
        var w = WorstCase(.equal)
        for k in 0..<100 { w.add(Double(k), Double(k) + 1e-12, tolerance: 1e-9) }
        w.add(5, 5.1, tolerance: 0.01, at: "k = 5")
        for k in 0..<100 { w.add(Double(k), Double(k), tolerance: 1e-9) }
        let c = w.check(id: "t", claim: "c", aLabel: "A", bLabel: "B", because: "r")
        #expect(!c.passed)
        #expect(c.aLabel.contains("k = 5"))
    }

    @Test("NaN, a negative tolerance and an empty sweep fail", arguments: [0, 1, 2])
    func degenerateCasesFail(kind: Int) {
        var w = WorstCase(.lessOrEqual)
        w.add(0, 1, tolerance: 0)
        if kind == 0 { w.add(.nan, 1, tolerance: 1) }
        if kind == 1 { w.add(0, 1, tolerance: -1) }
        if kind == 2 { w = WorstCase(.lessOrEqual) }
        #expect(!w.check(id: "t", claim: "c", aLabel: "A", bLabel: "B", because: "r").passed)
        #expect(!w.holds)
    }

    @Test("inequalities: the largest excess over the bound is kept")
    func inequalities() {
        var le = WorstCase(.lessOrEqual)
        le.add(0.5, 1, tolerance: 0.1)
        le.add(0.95, 1, tolerance: 0.1)
        #expect(le.a == 0.95 && le.holds)
        le.add(1.2, 1, tolerance: 0.1)
        #expect(!le.holds)
        var ge = WorstCase(.greaterOrEqual)
        ge.add(2, 1, tolerance: 0)
        ge.add(1, 1, tolerance: 0)
        #expect(ge.a == 1 && ge.holds)
        ge.add(0.99, 1, tolerance: 0)
        #expect(!ge.holds)
    }

    @Test("exceeds: A must be above B by the margin, and a negative margin fails")
    func exceeds() {
        #expect(Check.exceeds(id: "e", claim: "c", aLabel: "A", bLabel: "B", a: 3, b: 1, margin: 2, because: "r").passed)
        #expect(!Check.exceeds(id: "e", claim: "c", aLabel: "A", bLabel: "B", a: 2.9, b: 1, margin: 2, because: "r").passed)
        #expect(!Check.exceeds(id: "e", claim: "c", aLabel: "A", bLabel: "B", a: 3, b: 1, margin: -1, because: "r").passed)
        #expect(!Check.exceeds(id: "e", claim: "c", aLabel: "A", bLabel: "B", a: .nan, b: 1, margin: 0, because: "r").passed)
        var w = WorstCase(.exceeds)
        w.add(10, 0, tolerance: 1)
        w.add(3, 0, tolerance: 2)
        #expect(w.a == 3 && w.holds)
        w.add(1, 0, tolerance: 2)
        #expect(!w.holds)
    }

    @Test("every relation refuses a negative tolerance", arguments: [Check.Relation.equal, .lessOrEqual, .greaterOrEqual, .exceeds])
    func negativeTolerance(relation: Check.Relation) {
        #expect(!Check(id: "n", claim: "c", aLabel: "A", bLabel: "B", a: 1, b: 1, relation: relation, tolerance: -1e-3, because: "r").passed)
        #expect(!Check(id: "n", claim: "c", aLabel: "A", bLabel: "B", a: 1, b: 1, relation: relation, tolerance: .nan, because: "r").passed)
    }

    @Test("a chapter's command is its slug without the number")
    func command() {
        #expect(Chapter(slug: "01-distribution-collapse", number: 1, title: "t", summary: "s").command == "distribution-collapse")
        #expect(Chapter(slug: "11-trainers", number: 11, title: "t", summary: "s").command == "trainers")
    }
}

@Suite("Derivation lines")
struct DerivationTests {
    @Test("a derivation is shown with its values, kept in the JSON, and not counted as a check")
    func derivationIsNotACheck() throws {
        let page = Page(slug: "00-test", number: 0, title: "t", summary: "s")
        page.derivation([DerivationLine("\\log Z", 0.25, note: "eq. 11"), DerivationLine("\\log \\sum_x \\pi_0(x) e^{r(x)}", 0.25)],
                        caption: "The lines of eq. 11")
        #expect(page.checks.isEmpty)
        #expect(page.derivations.count == 1 && page.derivations[0].lines.count == 2)
        let html = Renderer.page(page, provenance: Provenance(commit: "c", dirty: false, commandLine: "x", seed: 3, parameters: [:], swiftVersion: "s", gslVersion: "g", openblas: "o", cores: 2, date: "d", elapsedSeconds: 0.5)).html
        #expect(html.contains("class=\"data derivation") && html.contains("<math"))
    }
}

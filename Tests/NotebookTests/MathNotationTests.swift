import Foundation
@testable import Notebook
import Testing

/// The one maths notation of every page: claims, labels, headers, legends and axis titles are
/// written with `$...$` like prose, and come out as MathML (or, where MathML cannot go, as
/// plain Unicode); no TeX source reaches the reader.
@Suite("Notebook: one maths notation everywhere")
struct MathNotationTests {
    @Test("multi-letter subscripts are upright words; two lowercase letters stay a product")
    func uprightSubscripts() {
        #expect(TeX.convert("J_{RL}").html.contains("<msub><mi>J</mi><mrow><mi>RL</mi></mrow></msub>"))
        #expect(TeX.convert("J_{KLRL}(\\pi)").html.contains("<mi>KLRL</mi>"))
        #expect(TeX.convert("J_KLRL").html.contains("<mi>KLRL</mi>"))   // capitals without braces: a name
        #expect(TeX.convert("x_{ij}").html.contains("<mi>i</mi><mi>j</mi>"))
        #expect(TeX.convert("\\pi_{old}").html.contains("<mi>old</mi>"))
    }

    @Test("primes attach to their letter, before or after a subscript")
    func primes() {
        let a = TeX.convert("r'_\\pi").html, b = TeX.convert("r_\\pi'").html
        #expect(a == b)
        #expect(a.contains("<msub><mrow><mi>r</mi><mo lspace=\"0\" rspace=\"0\">′</mo></mrow><mrow><mi>π</mi></mrow></msub>"))
        #expect(TeX.convert("p'^k").html.contains("<msup><mrow><mi>p</mi><mo lspace=\"0\" rspace=\"0\">′</mo></mrow><mrow><mi>k</mi></mrow></msup>"))
        #expect(TeX.convert("K''(\\lambda)").html.contains("′′"))
        #expect(!a.contains("<mo>_</mo>"))
    }

    @Test("a function name is set off by thin spaces, except before its bracket")
    func functionSpacing() {
        #expect(TeX.convert("\\log x").html.contains("<mi>log</mi><mo>\u{2061}</mo><mspace width=\"0.1667em\"/><mi>x</mi>"))
        #expect(!TeX.convert("\\log(x)").html.contains("mspace"))
        #expect(TeX.convert("\\beta \\log Z").html.hasPrefix("<mrow><mi>β</mi><mspace width=\"0.1667em\"/><mi>log</mi>"))
        // A script on a function name wraps the name alone, never the application operator.
        #expect(TeX.convert("\\log_2 n").html.contains("<msub><mi>log</mi><mrow><mn>2</mn></mrow></msub><mo>\u{2061}</mo>"))
    }

    @Test("function names written without a backslash are still functions")
    func bareFunctionNames() {
        #expect(TeX.convert("log Z").html == TeX.convert("\\log Z").html)
        #expect(TeX.convert("KL(p, q)").html == TeX.convert("\\KL(p, q)").html)
        #expect(TeX.convert("max_x r").html == TeX.convert("\\max_x r").html)
        #expect(TeX.convert("xy").html.contains("<mi>x</mi><mi>y</mi>"))   // other letters stay a product
    }

    @Test("hats stretch over a whole word; bars, norms and dots are symbols, not text")
    func accentsAndSymbols() {
        #expect(TeX.convert("\\widehat{\\mathrm{ELBO}}").html.contains("<mover accent=\"true\"><mrow><mi>ELBO</mi></mrow><mo stretchy=\"true\">^</mo></mover>"))
        for source in ["\\lvert x \\rvert", "a, \\dots, b", "\\mathcal{X}", "\\mathbf{v}", "\\bigl( x \\bigr)", "\\operatorname*{argmax}"] {
            #expect(!TeX.convert(source).html.contains("\\"), "\(source)")
        }
    }

    @Test("plain text for titles, SVG and the terminal has no TeX left")
    func plain() {
        #expect(PlainMath.text("$\\pi_0$ and $J_{RL}(\\pi)$") == "π₀ and J_RL(π)")
        #expect(PlainMath.text("$\\frac{1}{2} \\log Z$") == "1/2 log Z")
        #expect(PlainMath.text("no maths, $5 only") == "no maths, $5 only")
        #expect(PlainMath.text("$\\hat Z_b$") == "Ẑ_b")
        let c = Check(claim: "$J_{KLRL}(\\pi^*) = \\beta \\log Z$", aLabel: "$J_{KLRL}$", bLabel: "$\\beta \\log Z$", a: 1, b: 1, tolerance: 0, because: "exact")
        #expect(!c.sentence.contains("\\") && !c.sentence.contains("$"))
    }

    @Test("claims, labels, headers and legends go through the maths renderer")
    func everyTextPath() {
        let page = Page(slug: "99-maths", number: 99, title: "Maths $\\beta$", summary: "s")
        page.check(Check(claim: "$\\mathbb{E}_{\\pi_n}[r]$ rises", aLabel: "$J_{RL}(\\pi_T)$", bLabel: "$\\lvert Z \\rvert$", a: 1, b: 1, tolerance: 0, because: "$n\\varepsilon$"))
        page.table(headers: ["$\\beta$", "$\\mathrm{KL}(\\pi, \\pi^*)$"], rows: [["$x_1$", "1"]], caption: "$\\pi$")
        page.plot(LinePlot(title: "$\\pi$", description: "$\\pi$", xLabel: "$\\beta$", yLabel: "$\\log Z$",
                           series: [Series("$\\pi_\\theta$", x: [0, 1], y: [0, 1])], references: [ReferenceLine(.horizontal, at: 0.5, label: "$\\beta \\log Z$")]),
                  caption: "c")
        let html = Renderer.page(page, provenance: Provenance(commit: "c", dirty: false, commandLine: "x", seed: 1, parameters: [:],
                                                              swiftVersion: "s", gslVersion: "g", openblas: "o", cores: 1, date: "d", elapsedSeconds: 1)).html
        let body = html[html.range(of: "<body")!.lowerBound...]
        #expect(!body.contains("$"))
        #expect(!body.contains("\\"))
        #expect(!body.contains("_{"))
    }

    @Test("a long equation gets a form broken at its relation signs, aligned on them")
    func breaking() {
        let tex = "J_{KLRL}(\\pi) = \\mathbb{E}_{x \\sim \\pi} \\left[ r(x) \\right] - \\beta \\operatorname{KL}(\\pi, \\pi_0) = \\mathbb{E}_{x \\sim \\pi} \\left[ r'_\\pi(x) \\right], \\quad r'_\\pi(x) = r(x) + \\beta \\left( \\log \\pi_0(x) - \\log \\pi(x) \\right)"
        let rows = EquationLayout.rows(tex, width: 19)
        #expect(rows.count >= 3, "\(rows)")
        #expect(rows[0].left.contains("J_{KLRL}"))
        #expect(rows.dropFirst().contains { $0.left.isEmpty && $0.right.trimmingCharacters(in: .whitespaces).hasPrefix("=") }, "\(rows)")
        #expect(rows.contains { $0.left.contains("r'_\\pi(x)") })   // the second formula starts its own line
        // Nothing inside \left … \right or braces is split.
        for row in rows { #expect(row.right.components(separatedBy: "\\left").count == row.right.components(separatedBy: "\\right").count) }
        // An explicit multi-line equation is split at \\ and aligned at &.
        let explicit = EquationLayout.rows("a &= b + c \\\\ &= d", width: .infinity)
        #expect(explicit.count == 2 && explicit[0].left.trimmingCharacters(in: .whitespaces) == "a" && explicit[1].left.isEmpty)
        // A line of the source that starts with its alignment point after a line break has an empty
        // left part, and the grid draws no empty formula there (a browser lays it out at zero size).
        let indented = EquationLayout.rows("a &= b \\\\\n            &+ c \\\\\n\t&+ d", width: .infinity)
        #expect(indented.count == 3 && indented.dropFirst().allSatisfy { $0.left.isEmpty }, "\(indented)")
        #expect(!"\(EquationLayout.grid(indented))".contains("<mrow></mrow>"))
    }
}

@Suite("Notebook: provenance as a reader would type it")
struct ProvenanceCommandTests {
    @Test("a chapter run from the build folder is shown as swift run; other commands as they were")
    func command() {
        #expect(Renderer.command("/tmp/clone/.build/x86_64-unknown-linux-gnu/release/fine-tuning --quick --output Output")
                == "swift run -c release fine-tuning --quick --output Output")
        #expect(Renderer.command(".build/debug/measuring-kl") == "swift run measuring-kl")
        #expect(Renderer.command("diagnose exact 'a b.csv'") == "diagnose exact 'a b.csv'")
    }
}

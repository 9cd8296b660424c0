import Foundation

/// How a displayed equation is laid out: on one line where it fits, otherwise broken into
/// lines aligned on their relation sign (=, ≤, ≈ …). An equation written with `\\` (and `&`
/// before the sign to align on) is always shown on those lines; any other long equation gets
/// a one-line and a broken form, and the page's stylesheet shows the broken one on screens
/// (and paper) narrower than the one-line form's estimated width.
enum EquationLayout {
    /// One line of a broken equation: the part left of the alignment point and the rest.
    struct Row { var left: String; var right: String }

    /// Where a top-level piece of the source begins.
    enum Break: Int, Comparable {
        case start = 0, plusMinus = 1, relation = 2, formula = 3
        static func < (a: Break, b: Break) -> Bool { a.rawValue < b.rawValue }
    }

    static let relations = ["\\leftarrow", "\\rightarrow", "\\gets", "\\to", "\\Rightarrow", "\\coloneqq", "\\approx", "\\propto", "\\equiv", "\\leq", "\\geq", "\\neq", "\\le", "\\ge", "\\ne", "\\simeq", "=", "<", ">"]

    /// The estimated width of a formula in em of the math font (a rough count of glyphs:
    /// enough to choose between one line and several, never used to clip).
    static func estimatedEm(_ tex: String) -> Double {
        let plain = PlainMath.convert(tex)
        var em = 0.0
        for c in plain {
            switch c {
            case " ": em += 0.25
            case "=", "≤", "≥", "≈", "∝", "≡", "≔", "<", ">", "+", "−", "→", "∼": em += 1.2   // the sign and its spaces
            case ",", ".", "(", ")", "[", "]", "|", "′": em += 0.35
            case "₀"..."₉", "ₐ"..."ₜ", "ᵢ", "ⱼ", "⁰"..."⁹", "¹", "²", "³", "ᵏ", "ⁿ": em += 0.4
            default: em += 0.62
            }
        }
        // A fraction written a/b is set as a stacked fraction: about the longer of its two parts.
        let fractions = tex.components(separatedBy: "frac{").count - 1
        return max(em - Double(fractions) * 1.2, em * 0.6)
    }

    /// The top-level pieces of `tex` (outside braces and \left … \right), each with the kind of
    /// break that may precede it.
    static func pieces(_ tex: String) -> [(Break, String)] {
        let s = Array(tex)
        var out: [(Break, String)] = []
        var current = "", kind = Break.start
        var depth = 0, i = 0
        var lastSignificant: Character = "("
        func flush(_ next: Break) {
            if !current.trimmingCharacters(in: .whitespaces).isEmpty { out.append((kind, current)) }
            current = ""; kind = next
        }
        while i < s.count {
            let c = s[i]
            if c == "{" { depth += 1 } else if c == "}" { depth -= 1 }
            if c == "\\" {
                var j = i + 1, name = ""
                while j < s.count && s[j].isLetter { name.append(s[j]); j += 1 }
                if name.isEmpty && j < s.count { j += 1 }   // \, \{ \|
                if name == "left" { depth += 1 } else if name == "right" { depth -= 1 }
                if depth == 0 && (name == "quad" || name == "qquad") {
                    flush(.formula); i = j; lastSignificant = "("; continue
                }
                let isRelation = relations.contains("\\" + name)
                if depth == 0 && isRelation { flush(.relation) }
                current += String(s[i..<j])
                i = j
                lastSignificant = isRelation ? "=" : "x"
                continue
            }
            if depth == 0 && (c == "=" || c == "<" || c == ">") { flush(.relation) }
            if depth == 0 && (c == "+" || c == "-") && !"(=<>,[".contains(lastSignificant) { flush(.plusMinus) }
            current.append(c)
            if c != " " { lastSignificant = c }
            i += 1
        }
        flush(.start)
        return out
    }

    /// Lines of at most about `width` em, breaking at the strongest break that helps.
    static func rows(_ tex: String, width: Double) -> [Row] {
        if tex.contains("\\\\") {
            return split(tex, on: "\\\\").map { line in
                // TeX ignores white space, so a line that starts with its alignment point after a line
                // break of the source has an empty left part (not an empty formula drawn at zero size).
                let cells = split(line, on: "&").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                return cells.count >= 2 ? Row(left: cells[0], right: cells[1...].joined(separator: " ")) : Row(left: "", right: line)
            }
        }
        var rows: [Row] = []
        // Each formula (separated by \quad) starts a row; each relation sign starts a row aligned
        // on it; a part still too long is broken before a + or −, indented.
        var formulas: [[(Break, String)]] = []
        for piece in pieces(tex) {
            if piece.0 == .formula || formulas.isEmpty { formulas.append([piece]) } else { formulas[formulas.count - 1].append(piece) }
        }
        for formula in formulas {
            var chunks: [[String]] = [[]]
            var left = "", seenRelation = false
            for (kind, piece) in formula {
                if kind == .relation {
                    if !seenRelation { left = chunks[0].joined(); chunks = [[]] } else if !chunks[chunks.count - 1].isEmpty { chunks.append([]) }
                    seenRelation = true
                }
                chunks[chunks.count - 1].append(piece)
            }
            for (n, chunk) in chunks.enumerated() where !chunk.isEmpty {
                var line = ""
                var first = true
                // The first row shares the width with the left-hand side.
                for piece in chunk {
                    let room = n == 0 && first ? width - estimatedEm(left) : width
                    if !line.isEmpty && estimatedEm(line + piece) > room {
                        rows.append(Row(left: n == 0 && first ? left : "", right: (first ? "" : "\\quad ") + line))
                        first = false; line = ""
                    }
                    line += piece
                }
                rows.append(Row(left: n == 0 && first ? left : "", right: (first ? "" : "\\quad ") + line))
            }
        }
        return rows
    }

    /// Splits at a top-level separator (outside braces).
    static func split(_ tex: String, on separator: String) -> [String] {
        var parts: [String] = [], current = "", depth = 0
        var rest = Substring(tex)
        while let c = rest.first {
            if c == "{" { depth += 1 } else if c == "}" { depth -= 1 }
            if depth == 0 && rest.hasPrefix(separator) && !(separator == "&" && current.hasSuffix("\\")) {
                parts.append(current); current = ""; rest = rest.dropFirst(separator.count); continue
            }
            if c == "\\" && rest.count > 1 && separator != "\\\\" {
                current += String(rest.prefix(2)); rest = rest.dropFirst(2); continue
            }
            current.append(c); rest = rest.dropFirst()
        }
        parts.append(current)
        return parts.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
    }

    /// The rows as an HTML grid of MathML cells, aligned on the relation.
    /// A row that is still too long for a phone (one bracket can hold a whole side) is set
    /// smaller, down to 11 px, so that the widest row fits the screen: the font size is the
    /// screen's width less the margins, divided by the widest row's estimated width.
    static func grid(_ rows: [Row]) -> Markup {
        let widest = rows.map { estimatedEm($0.left) + estimatedEm($0.right) }.max() ?? 1
        let fit = "font-size:max(11px,min(1em,(100vw - 2.5rem) / \(Int((widest * 1.3).rounded(.up)))))"
        return Markup.element("div", ["class": "eq-rows", "style": fit], rows.map { row in
            Markup.element("span", ["class": "eq-l"], row.left.isEmpty ? .empty : TeX.display(row.left))
                + Markup.element("span", ["class": "eq-r"], TeX.display(row.right))
        }.joined())
    }
}

/// The same TeX-like notation as `TeX`, written as plain Unicode text for the places that
/// cannot hold MathML: a page's `<title>`, SVG text and tooltips, and the terminal.
/// `π_0` becomes `π₀`, `J_{RL}` becomes `J_RL`, `\frac{a}{b}` becomes `a/b`.
public enum PlainMath {
    /// Text with `$...$` spans: the spans converted, the rest kept as written.
    public static func text(_ text: String) -> String {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return text }
        var out = ""
        for (k, part) in parts.enumerated() {
            let isMath = k % 2 == 1 && (k < parts.count - 1 || parts.count % 2 == 1)
            out += isMath ? convert(String(part)) : String(part)
        }
        return out
    }

    /// One formula.
    public static func convert(_ source: String) -> String {
        var p = Walker(Array(source))
        return p.sequence(until: nil)
    }

    static let subscripts: [Character: Character] = [
        "0": "₀", "1": "₁", "2": "₂", "3": "₃", "4": "₄", "5": "₅", "6": "₆", "7": "₇", "8": "₈", "9": "₉",
        "+": "₊", "−": "₋", "=": "₌", "(": "₍", ")": "₎", "a": "ₐ", "e": "ₑ", "h": "ₕ", "i": "ᵢ", "j": "ⱼ",
        "k": "ₖ", "l": "ₗ", "m": "ₘ", "n": "ₙ", "o": "ₒ", "p": "ₚ", "r": "ᵣ", "s": "ₛ", "t": "ₜ", "u": "ᵤ",
        "v": "ᵥ", "x": "ₓ", "β": "ᵦ", "γ": "ᵧ", "ρ": "ᵨ", "φ": "ᵩ", "χ": "ᵪ",
    ]
    static let superscripts: [Character: Character] = [
        "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹",
        "+": "⁺", "−": "⁻", "=": "⁼", "(": "⁽", ")": "⁾", "n": "ⁿ", "i": "ⁱ", "k": "ᵏ", "T": "ᵀ", "∗": "*", "*": "*", "′": "′",
    ]

    struct Walker {
        let s: [Character]
        var i = 0
        init(_ s: [Character]) { self.s = s }

        mutating func sequence(until terminator: Character?) -> String {
            var out = ""
            while i < s.count {
                let c = s[i]
                if let t = terminator, c == t { i += 1; return out }
                switch c {
                case "{": i += 1; out += sequence(until: "}")
                case "\\": out += command()
                case "_", "^":
                    i += 1
                    let arg = argument()
                    let map = c == "_" ? PlainMath.subscripts : PlainMath.superscripts
                    if !arg.isEmpty, arg.allSatisfy({ map[$0] != nil }) {
                        out += String(arg.map { map[$0]! })
                    } else {
                        let word = arg.allSatisfy { $0.isLetter || $0.isNumber || $0 == "*" || $0 == "′" }
                        out += String(c) + (word ? arg : "(\(arg))")
                    }
                case "-": i += 1; out += "−"
                case "'": i += 1; out += "′"
                case "&": i += 1
                case "~", "\n", "\t": i += 1; out += " "
                default: i += 1; out.append(c)
                }
            }
            return out
        }

        mutating func argument() -> String {
            while i < s.count && s[i] == " " { i += 1 }
            guard i < s.count else { return "" }
            if s[i] == "{" { i += 1; return sequence(until: "}") }
            if s[i] == "\\" { return command() }
            i += 1
            return s[i - 1] == "-" ? "−" : String(s[i - 1])
        }

        mutating func raw() -> String { TeX.rawGroup(s, &i) }

        mutating func command() -> String {
            i += 1
            guard i < s.count else { return "" }
            var name = ""
            if s[i].isLetter { while i < s.count && s[i].isLetter { name.append(s[i]); i += 1 } } else { name = String(s[i]); i += 1 }
            if name == "operatorname", i < s.count, s[i] == "*" { i += 1 }
            if let g = TeX.greek[name] { return g }
            if TeX.spaces[name] != nil { return name == "!" ? "" : " " }
            if TeX.ignored.contains(name) { return "" }
            if let b = TeX.bars[name] { return b }
            if let sym = TeX.symbols[name] { return sym }
            if TeX.functions.contains(name) {
                while i < s.count && s[i] == " " { i += 1 }
                let bracket = i < s.count && (s[i] == "(" || s[i] == "[" || s[i] == "_" || s[i] == "^")
                return bracket ? name : name + " "
            }
            if let big = TeX.bigOperators[name] { return big.count == 1 ? big : big + " " }
            switch name {
            case "frac", "dfrac", "tfrac":
                let a = argument(), b = argument()
                return (a.count > 1 ? "(\(a))" : a) + "/" + (b.count > 1 ? "(\(b))" : b)
            case "binom": let n = argument(), k = argument(); return "C(\(n), \(k))"
            case "sqrt": let a = argument(); return "√" + (a.count > 1 ? "(\(a))" : a)
            case "text", "textrm", "mbox", "textit", "mathrm", "operatorname", "mathbf", "boldsymbol", "mathit": return raw()
            case "mathbb": return raw().map { TeX.doubleStruck[$0] ?? String($0) }.joined()
            case "mathcal": return raw().map { TeX.calligraphic[$0] ?? String($0) }.joined()
            case "hat", "widehat", "bar", "overline", "tilde", "widetilde":
                let a = argument()
                let mark = name.hasSuffix("hat") ? "\u{302}" : name.hasSuffix("tilde") ? "\u{303}" : "\u{304}"
                return a.count == 1 ? a + mark : a
            case "left", "right":
                guard i < s.count else { return "" }
                let c = s[i]; i += 1
                if c == "." { return "" }
                if c == "\\" {
                    var n = ""
                    if i < s.count && !s[i].isLetter { n = String(s[i]); i += 1 } else { while i < s.count && s[i].isLetter { n.append(s[i]); i += 1 } }
                    return TeX.bars[n] ?? TeX.symbols[n] ?? n
                }
                return String(c)
            default: return "\\" + name
            }
        }
    }
}

/// A small TeX-like notation for equations, translated to MathML Core so that pages need no
/// script and no network to draw their mathematics.
///
/// Supported: letters (italic identifiers), numbers, operators, `{...}` groups, `_` and `^`,
/// `\frac{a}{b}` (and `\dfrac`, `\tfrac` in text size), `\binom{n}{k}`, `\sqrt{a}`,
/// `\left( ... \right)`, `\text{...}`, `\mathrm{...}`, `\operatorname{...}`, `\mathbb{E}`, `\hat`,
/// `\bar`, `\tilde`, Greek letters, big operators with limits (`\sum`, `\prod`, `\max`, `\min`,
/// `\argmax`, `\lim`), function names (`\log`, `\exp`, `\KL`, `\Var`) and the relations and
/// symbols in `symbols`. Anything unknown is shown literally (escaped), never dropped silently.
public enum TeX {
    /// `<math display="block">` for an equation on its own line.
    public static func block(_ source: String) -> String {
        "<math display=\"block\">\(convert(source))</math>"
    }

    /// `<math>` for inline mathematics inside prose.
    public static func inline(_ source: String) -> String {
        "<math>\(convert(source))</math>"
    }

    /// The MathML (without the enclosing `<math>`) of `source`, wrapped in one `<mrow>`.
    public static func convert(_ source: String) -> String {
        var parser = Parser(Array(source))
        return "<mrow>" + parser.parseSequence(until: nil) + "</mrow>"
    }

    static let greek: [String: String] = [
        "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε",
        "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
        "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "ϕ",
        "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
        "Theta": "Θ", "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
        "ell": "ℓ",
    ]
    static let symbols: [String: String] = [
        "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈",
        "propto": "∝", "to": "→", "rightarrow": "→", "leftarrow": "←", "Rightarrow": "⇒", "iff": "⇔",
        "in": "∈", "notin": "∉", "subseteq": "⊆", "subset": "⊂", "cup": "∪", "cap": "∩",
        "setminus": "∖", "cdot": "⋅", "times": "×", "pm": "±", "mid": "∣", "sim": "∼",
        "ldots": "…", "cdots": "⋯", "partial": "∂", "nabla": "∇", "odot": "⊙", "forall": "∀",
        "exists": "∃", "star": "⋆", "ast": "∗", "equiv": "≡", "coloneqq": "≔", "mapsto": "↦",
        "langle": "⟨", "rangle": "⟩", "lVert": "‖", "rVert": "‖", "|": "‖", "ll": "≪", "gg": "≫",
        "{": "{", "}": "}", "lbrace": "{", "rbrace": "}", "emptyset": "∅", "neg": "¬", "land": "∧",
        "lor": "∨", "circ": "∘", "dagger": "†", "infty": "∞", "geqslant": "⩾", "leqslant": "⩽",
        "uparrow": "↑", "downarrow": "↓", "leftrightarrow": "↔", "perp": "⊥", "top": "⊤",
    ]
    static let functions: Set<String> = [
        "log", "exp", "sin", "cos", "tan", "det", "dim", "ker", "deg", "arg", "Var", "KL", "Cov",
        "TV", "sgn", "supp", "clip", "tr", "erf", "softmax", "diag", "cov", "ln",
    ]
    static let bigOperators: [String: String] = [
        "sum": "∑", "prod": "∏", "max": "max", "min": "min", "argmax": "arg max", "argmin": "arg min",
        "lim": "lim", "sup": "sup", "inf": "inf", "int": "∫", "mathbb{E}": "𝔼",
    ]
    static let doubleStruck: [Character: String] = ["E": "𝔼", "R": "ℝ", "N": "ℕ", "Z": "ℤ", "P": "ℙ", "1": "𝟙"]
    static let spaces: [String: String] = [",": "0.1667em", ";": "0.2778em", ":": "0.2222em", "quad": "1em", "qquad": "2em", " ": "0.25em", "!": "0em"]

    struct Parser {
        let s: [Character]
        var i = 0
        init(_ s: [Character]) { self.s = s }

        /// Spaces, and the line breaks of a formula written over several source lines.
        mutating func skipSpaces() { while i < s.count && (s[i] == " " || s[i] == "\n" || s[i] == "\t") { i += 1 } }

        /// Parses atoms with their scripts until `terminator` (or the end).
        mutating func parseSequence(until terminator: Character?) -> String {
            var out = ""
            while true {
                skipSpaces()
                guard i < s.count else { return out }
                if let t = terminator, s[i] == t { i += 1; return out }
                if s[i] == "\\" && peekCommand() == "right" { return out }
                var (atom, isBig) = parseAtom()
                // Scripts.
                var sub: String?, sup: String?
                while true {
                    skipSpaces()
                    guard i < s.count, s[i] == "_" || s[i] == "^" else { break }
                    let which = s[i]; i += 1
                    skipSpaces()
                    let arg = parseArgument()
                    if which == "_" { sub = arg } else { sup = arg }
                }
                // A prime after an atom is a superscript ′.
                while i < s.count && s[i] == "'" {
                    i += 1
                    sup = (sup ?? "") + "<mo>′</mo>"
                }
                switch (sub, sup) {
                case let (b?, p?): atom = isBig ? "<munderover>\(atom)<mrow>\(b)</mrow><mrow>\(p)</mrow></munderover>"
                                               : "<msubsup>\(atom)<mrow>\(b)</mrow><mrow>\(p)</mrow></msubsup>"
                case let (b?, nil): atom = isBig ? "<munder>\(atom)<mrow>\(b)</mrow></munder>" : "<msub>\(atom)<mrow>\(b)</mrow></msub>"
                case let (nil, p?): atom = isBig ? "<mover>\(atom)<mrow>\(p)</mrow></mover>" : "<msup>\(atom)<mrow>\(p)</mrow></msup>"
                default: break
                }
                isBig = false
                out += atom
            }
        }

        func peekCommand() -> String {
            var j = i + 1
            var name = ""
            while j < s.count && s[j].isLetter { name.append(s[j]); j += 1 }
            return name
        }

        /// A script or command argument: a `{group}` or a single atom.
        mutating func parseArgument() -> String {
            skipSpaces()
            if i < s.count && s[i] == "{" { i += 1; return parseSequence(until: "}") }
            return parseAtom().0
        }

        /// The raw text of a `{...}` argument (for \text and friends).
        mutating func rawArgument() -> String {
            skipSpaces()
            guard i < s.count, s[i] == "{" else { return "" }
            i += 1
            var depth = 1, text = ""
            while i < s.count {
                if s[i] == "{" { depth += 1 }
                if s[i] == "}" { depth -= 1; if depth == 0 { i += 1; break } }
                text.append(s[i]); i += 1
            }
            return text
        }

        mutating func parseAtom() -> (String, Bool) {
            let c = s[i]
            if c == "{" { i += 1; return ("<mrow>" + parseSequence(until: "}") + "</mrow>", false) }
            if c == "\\" { return parseCommand() }
            if c.isNumber || (c == "." && i + 1 < s.count && s[i + 1].isNumber) {
                var num = ""
                while i < s.count && (s[i].isNumber || (s[i] == "." && i + 1 < s.count && s[i + 1].isNumber)) {
                    num.append(s[i]); i += 1
                }
                return ("<mn>\(HTML.escape(num))</mn>", false)
            }
            i += 1
            if c.isLetter { return ("<mi>\(HTML.escape(String(c)))</mi>", false) }
            switch c {
            case "-": return ("<mo>−</mo>", false)
            case "*": return ("<mo>∗</mo>", false)
            case "(", ")", "[", "]", "|": return ("<mo stretchy=\"false\">\(c)</mo>", false)
            default: return ("<mo>\(HTML.escape(String(c)))</mo>", false)
            }
        }

        mutating func parseCommand() -> (String, Bool) {
            i += 1   // the backslash
            guard i < s.count else { return ("<mo>\\</mo>", false) }
            var name = ""
            if s[i].isLetter {
                while i < s.count && s[i].isLetter { name.append(s[i]); i += 1 }
            } else {
                name = String(s[i]); i += 1
            }
            if let g = TeX.greek[name] { return ("<mi>\(g)</mi>", false) }
            if let w = TeX.spaces[name] { return ("<mspace width=\"\(w)\"/>", false) }
            if name == "|" || name == "mid" || name == "lVert" || name == "rVert" {
                // Divider bars, not fences: never stretched around their neighbours.
                return ("<mo stretchy=\"false\">\(TeX.symbols[name]!)</mo>", false)
            }
            if let sym = TeX.symbols[name] { return ("<mo>\(HTML.escape(sym))</mo>", false) }
            if TeX.functions.contains(name) { return ("<mi>\(name)</mi><mo>\u{2061}</mo>", false) }
            if let big = TeX.bigOperators[name] {
                let isSymbol = big.count == 1
                return (isSymbol ? "<mo largeop=\"true\" movablelimits=\"false\">\(big)</mo>" : "<mo movablelimits=\"false\">\(big)</mo>", true)
            }
            switch name {
            case "frac", "dfrac":
                let num = parseArgument(); let den = parseArgument()
                return ("<mfrac><mrow>\(num)</mrow><mrow>\(den)</mrow></mfrac>", false)
            case "tfrac":
                let num = parseArgument(); let den = parseArgument()
                return ("<mstyle displaystyle=\"false\"><mfrac><mrow>\(num)</mrow><mrow>\(den)</mrow></mfrac></mstyle>", false)
            case "binom":
                let n = parseArgument(); let k = parseArgument()
                return ("<mrow><mo>(</mo><mfrac linethickness=\"0\"><mrow>\(n)</mrow><mrow>\(k)</mrow></mfrac><mo>)</mo></mrow>", false)
            case "sqrt":
                return ("<msqrt><mrow>\(parseArgument())</mrow></msqrt>", false)
            case "text":
                return ("<mtext>\(HTML.escape(rawArgument()))</mtext>", false)
            case "mathrm", "operatorname":
                return ("<mi>\(HTML.escape(rawArgument()))</mi>", false)
            case "mathbb":
                let arg = rawArgument()
                let mapped = arg.map { TeX.doubleStruck[$0] ?? String($0) }.joined()
                return ("<mi>\(HTML.escape(mapped))</mi>", false)
            case "hat", "bar", "tilde":
                let accent = name == "hat" ? "^" : name == "bar" ? "¯" : "~"
                return ("<mover accent=\"true\"><mrow>\(parseArgument())</mrow><mo>\(accent)</mo></mover>", false)
            case "left":
                skipSpaces()
                let open = fence()
                let body = parseSequence(until: nil)
                var close = ""
                if i < s.count && s[i] == "\\" && peekCommand() == "right" {
                    i += 1 + "right".count
                    skipSpaces()
                    close = fence()
                }
                let o = open.isEmpty ? "" : "<mo fence=\"true\" stretchy=\"true\">\(open)</mo>"
                let c = close.isEmpty ? "" : "<mo fence=\"true\" stretchy=\"true\">\(close)</mo>"
                return ("<mrow>\(o)\(body)\(c)</mrow>", false)
            default:
                return ("<mtext>\\\(HTML.escape(name))</mtext>", false)
            }
        }

        /// The delimiter after \left or \right: ( ) [ ] | . \{ \} \| \langle \rangle.
        mutating func fence() -> String {
            guard i < s.count else { return "" }
            let c = s[i]; i += 1
            if c == "." { return "" }
            if c == "\\" {
                var name = ""
                if i < s.count && !s[i].isLetter { name = String(s[i]); i += 1 } else {
                    while i < s.count && s[i].isLetter { name.append(s[i]); i += 1 }
                }
                return HTML.escape(TeX.symbols[name] ?? name)
            }
            return HTML.escape(String(c))
        }
    }
}

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
    public static func block(_ source: String) -> Markup {
        Markup("<math display=\"block\">\(convert(source))</math>")
    }

    /// `<math>` for inline mathematics inside prose.
    public static func inline(_ source: String) -> Markup {
        Markup("<math>\(convert(source))</math>")
    }

    /// The MathML (without the enclosing `<math>`) of `source`, wrapped in one `<mrow>`.
    ///
    /// The parser below writes MathML as strings: every piece of the source it puts into the
    /// markup is escaped (`HTML.escape`) or is one of its own tables' symbols, so its result is
    /// markup of ours, and this is the one place it becomes `Markup`.
    public static func convert(_ source: String) -> Markup {
        var parser = Parser(Array(source))
        return Markup(unescaped: "<mrow>" + parser.parseSequence(until: nil) + "</mrow>")
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
        "dots": "…", "prime": "′", "lceil": "⌈", "rceil": "⌉", "lfloor": "⌊", "rfloor": "⌋",
        "gets": "←", "implies": "⟹", "colon": ":", "vdots": "⋮", "bullet": "∙", "wedge": "∧", "vee": "∨",
        "lesssim": "≲", "gtrsim": "≳", "simeq": "≃", "cong": "≅", "triangleq": "≜", "blacksquare": "■",
    ]
    /// Bars: dividers and absolute values, never stretched around their neighbours.
    static let bars: [String: String] = ["|": "‖", "mid": "∣", "lVert": "‖", "rVert": "‖", "Vert": "‖",
                                          "lvert": "|", "rvert": "|", "vert": "|"]
    /// Commands that only size or style in TeX and change nothing here.
    static let ignored: Set<String> = ["big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr",
                                       "displaystyle", "textstyle", "nolimits", "limits", "middle", "\\"]
    static let functions: Set<String> = [
        "log", "exp", "sin", "cos", "tan", "det", "dim", "ker", "deg", "arg", "Var", "KL", "Cov",
        "TV", "sgn", "supp", "clip", "tr", "erf", "softmax", "diag", "cov", "ln", "Pr", "sign", "logit",
        "sigmoid", "std", "ELBO", "Bernoulli", "Binomial", "Dirichlet", "Uniform", "Beta",
    ]
    static let bigOperators: [String: String] = [
        "sum": "∑", "prod": "∏", "max": "max", "min": "min", "argmax": "arg max", "argmin": "arg min",
        "lim": "lim", "sup": "sup", "inf": "inf", "int": "∫", "mathbb{E}": "𝔼",
    ]
    static let doubleStruck: [Character: String] = ["E": "𝔼", "R": "ℝ", "N": "ℕ", "Z": "ℤ", "P": "ℙ", "1": "𝟙", "Q": "ℚ", "V": "𝕍"]
    static let calligraphic: [Character: String] = [
        "A": "𝒜", "B": "ℬ", "C": "𝒞", "D": "𝒟", "E": "ℰ", "F": "ℱ", "G": "𝒢", "H": "ℋ", "I": "ℐ", "J": "𝒥",
        "K": "𝒦", "L": "ℒ", "M": "ℳ", "N": "𝒩", "O": "𝒪", "P": "𝒫", "Q": "𝒬", "R": "ℛ", "S": "𝒮", "T": "𝒯",
        "U": "𝒰", "V": "𝒱", "W": "𝒲", "X": "𝒳", "Y": "𝒴", "Z": "𝒵",
    ]
    static let spaces: [String: String] = [",": "0.1667em", ";": "0.2778em", ":": "0.2222em", "quad": "1em", "qquad": "2em", " ": "0.25em", "!": "0em"]

    struct Parser {
        let s: [Character]
        var i = 0
        init(_ s: [Character]) { self.s = s }

        /// What an atom is, for the spacing and scripts that follow it.
        enum Kind { case ordinary, big, function }

        /// Spaces, and the line breaks of a formula written over several source lines.
        mutating func skipSpaces() { while i < s.count && (s[i] == " " || s[i] == "\n" || s[i] == "\t") { i += 1 } }

        /// Parses atoms with their scripts until `terminator` (or the end). Inside a script,
        /// a run of letters that reads as a word (RL, KLRL, old) is one upright identifier.
        mutating func parseSequence(until terminator: Character?, inScript: Bool = false) -> String {
            var out = ""
            while true {
                skipSpaces()
                guard i < s.count else { return out }
                if let t = terminator, s[i] == t { i += 1; return out }
                if s[i] == "\\" && peekCommand() == "right" { return out }
                var (atom, kind) = inScript ? (scriptWord() ?? parseAtom()) : parseAtom()
                // Scripts and primes, in any order: r'_\pi, p'^k, x_i^2, x^2_i.
                var sub: String?, sup = "", primes = ""
                while true {
                    skipSpaces()
                    guard i < s.count else { break }
                    if s[i] == "'" { i += 1; primes += "′"; continue }
                    guard s[i] == "_" || s[i] == "^" else { break }
                    let which = s[i]; i += 1
                    let arg = parseScriptArgument(isSubscript: which == "_")
                    if which == "_" { sub = (sub ?? "") + arg } else { sup += arg }
                }
                // Primes belong to the letter (the prime glyph is already raised): r′ with its
                // subscript after it, as r′_π, rather than a prime lifted into a superscript.
                if !primes.isEmpty { atom = "<mrow>\(atom)<mo lspace=\"0\" rspace=\"0\">\(primes)</mo></mrow>" }
                let big = kind == .big
                switch (sub, sup.isEmpty ? nil : sup) {
                case let (b?, p?): atom = big ? "<munderover>\(atom)<mrow>\(b)</mrow><mrow>\(p)</mrow></munderover>"
                                             : "<msubsup>\(atom)<mrow>\(b)</mrow><mrow>\(p)</mrow></msubsup>"
                case let (b?, nil): atom = big ? "<munder>\(atom)<mrow>\(b)</mrow></munder>" : "<msub>\(atom)<mrow>\(b)</mrow></msub>"
                case let (nil, p?): atom = big ? "<mover>\(atom)<mrow>\(p)</mrow></mover>" : "<msup>\(atom)<mrow>\(p)</mrow></msup>"
                default: break
                }
                if kind == .function {
                    // A function name is set off by thin spaces, as TeX does: β log x, log(x), a − log b.
                    if !out.isEmpty && !out.hasSuffix("</mo>") && !out.hasSuffix("/>") { atom = "<mspace width=\"0.1667em\"/>" + atom }
                    atom += "<mo>\u{2061}</mo>"
                    skipSpaces()
                    let next: Character? = i < s.count ? s[i] : nil
                    let bracket = next == "(" || next == "[" || (next == "\\" && peekCommand() == "left")
                    if !bracket && next != nil && next != "}" { atom += "<mspace width=\"0.1667em\"/>" }
                }
                out += atom
            }
        }

        func peekCommand() -> String {
            var j = i + 1
            var name = ""
            while j < s.count && s[j].isLetter { name.append(s[j]); j += 1 }
            return name
        }

        /// A word of two or more letters inside a script (RL, KLRL, old, ref), upright as in
        /// J_{\text{RL}}; two lowercase letters (ij) stay a product of italic letters.
        mutating func scriptWord() -> (String, Kind)? {
            var j = i
            while j < s.count && s[j].isLetter && s[j].isASCII { j += 1 }
            let word = String(s[i..<j])
            guard word.count >= 2, word.count >= 3 || word.contains(where: \.isUppercase) else { return nil }
            i = j
            return ("<mi>\(HTML.escape(word))</mi>", .ordinary)
        }

        /// A script's argument: a `{group}`, a single atom, or (after `_`) a run of capitals
        /// written without braces (J_KLRL), which can only mean a name.
        mutating func parseScriptArgument(isSubscript: Bool) -> String {
            skipSpaces()
            guard i < s.count else { return "" }
            if s[i] == "{" { i += 1; return parseSequence(until: "}", inScript: true) }
            if isSubscript, s[i].isUppercase, s[i].isASCII, i + 1 < s.count, s[i + 1].isUppercase, s[i + 1].isASCII {
                return scriptWord()!.0
            }
            return parseAtom().0
        }

        /// A command argument: a `{group}` or a single atom.
        mutating func parseArgument() -> String {
            skipSpaces()
            if i < s.count && s[i] == "{" { i += 1; return parseSequence(until: "}") }
            guard i < s.count else { return "" }
            return parseAtom().0
        }

        /// The raw text of a `{...}` argument (for \text and friends).
        mutating func rawArgument() -> String { TeX.rawGroup(s, &i) }

        mutating func parseAtom() -> (String, Kind) {
            let c = s[i]
            if c == "{" { i += 1; return ("<mrow>" + parseSequence(until: "}") + "</mrow>", .ordinary) }
            if c == "\\" { return parseCommand() }
            if c.isNumber || (c == "." && i + 1 < s.count && s[i + 1].isNumber) {
                var num = ""
                while i < s.count && (s[i].isNumber || (s[i] == "." && i + 1 < s.count && s[i + 1].isNumber)) {
                    num.append(s[i]); i += 1
                }
                return ("<mn>\(HTML.escape(num))</mn>", .ordinary)
            }
            // A function name written without its backslash (log, max, KL) is still the function:
            // a product of the letters l, o, g is never what a reader means.
            if c.isASCII && c.isLetter {
                var j = i
                while j < s.count && s[j].isASCII && s[j].isLetter { j += 1 }
                let word = String(s[i..<j])
                if word.count > 1, TeX.functions.contains(word) || (TeX.bigOperators[word]?.count ?? 0) > 1 {
                    i = j
                    if TeX.functions.contains(word) { return ("<mi>\(word)</mi>", .function) }
                    return ("<mo movablelimits=\"false\">\(TeX.bigOperators[word]!)</mo>", .big)
                }
            }
            i += 1
            if c.isLetter { return ("<mi>\(HTML.escape(String(c)))</mi>", .ordinary) }
            switch c {
            case "-": return ("<mo>−</mo>", .ordinary)
            case "*": return ("<mo>∗</mo>", .ordinary)
            case "'": return ("<mo>′</mo>", .ordinary)
            case "&": return ("", .ordinary)   // an alignment point; lines are split before parsing
            case "~": return ("<mspace width=\"0.25em\"/>", .ordinary)
            case "(", ")", "[", "]", "|": return ("<mo stretchy=\"false\">\(c)</mo>", .ordinary)
            default: return ("<mo>\(HTML.escape(String(c)))</mo>", .ordinary)
            }
        }

        mutating func parseCommand() -> (String, Kind) {
            i += 1   // the backslash
            guard i < s.count else { return ("<mo>\\</mo>", .ordinary) }
            var name = ""
            if s[i].isLetter {
                while i < s.count && s[i].isLetter { name.append(s[i]); i += 1 }
            } else {
                name = String(s[i]); i += 1
            }
            if name == "operatorname", i < s.count, s[i] == "*" { i += 1 }
            if let g = TeX.greek[name] { return ("<mi>\(g)</mi>", .ordinary) }
            if let w = TeX.spaces[name] { return ("<mspace width=\"\(w)\"/>", .ordinary) }
            if TeX.ignored.contains(name) { return ("", .ordinary) }
            if let bar = TeX.bars[name] { return ("<mo stretchy=\"false\">\(bar)</mo>", .ordinary) }
            if let sym = TeX.symbols[name] { return ("<mo>\(HTML.escape(sym))</mo>", .ordinary) }
            if TeX.functions.contains(name) { return ("<mi>\(name)</mi>", .function) }
            if let big = TeX.bigOperators[name] {
                let isSymbol = big.count == 1
                return (isSymbol ? "<mo largeop=\"true\" movablelimits=\"false\">\(big)</mo>" : "<mo movablelimits=\"false\">\(big)</mo>", .big)
            }
            switch name {
            case "frac", "dfrac":
                let num = parseArgument(); let den = parseArgument()
                return ("<mfrac><mrow>\(num)</mrow><mrow>\(den)</mrow></mfrac>", .ordinary)
            case "tfrac":
                let num = parseArgument(); let den = parseArgument()
                return ("<mstyle displaystyle=\"false\"><mfrac><mrow>\(num)</mrow><mrow>\(den)</mrow></mfrac></mstyle>", .ordinary)
            case "binom":
                let n = parseArgument(); let k = parseArgument()
                return ("<mrow><mo>(</mo><mfrac linethickness=\"0\"><mrow>\(n)</mrow><mrow>\(k)</mrow></mfrac><mo>)</mo></mrow>", .ordinary)
            case "sqrt":
                return ("<msqrt><mrow>\(parseArgument())</mrow></msqrt>", .ordinary)
            case "text", "textrm", "mbox", "textit":
                return ("<mtext>\(HTML.escape(rawArgument()))</mtext>", .ordinary)
            case "mathrm", "operatorname":
                let word = rawArgument()
                // One letter is upright only if asked; several letters are upright anyway.
                return (word.count == 1 ? "<mi mathvariant=\"normal\">\(HTML.escape(word))</mi>" : "<mi>\(HTML.escape(word))</mi>",
                        name == "operatorname" ? .function : .ordinary)
            case "mathbf", "boldsymbol":
                return ("<mi mathvariant=\"bold\">\(HTML.escape(rawArgument()))</mi>", .ordinary)
            case "mathit":
                return ("<mi>\(HTML.escape(rawArgument()))</mi>", .ordinary)
            case "mathbb":
                let arg = rawArgument()
                let mapped = arg.map { TeX.doubleStruck[$0] ?? String($0) }.joined()
                return ("<mi>\(HTML.escape(mapped))</mi>", .ordinary)
            case "mathcal":
                let arg = rawArgument()
                let mapped = arg.map { TeX.calligraphic[$0] ?? String($0) }.joined()
                return ("<mi>\(HTML.escape(mapped))</mi>", .ordinary)
            case "hat", "widehat", "bar", "overline", "tilde", "widetilde":
                // Stretchy accents, so that a hat covers the whole of ELBO and a bar the whole of its base.
                let accent = name.hasSuffix("hat") ? "^" : name.hasSuffix("tilde") ? "~" : "¯"
                return ("<mover accent=\"true\"><mrow>\(parseArgument())</mrow><mo stretchy=\"true\">\(accent)</mo></mover>", .ordinary)
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
                return ("<mrow>\(o)\(body)\(c)</mrow>", .ordinary)
            default:
                return ("<mtext>\\\(HTML.escape(name))</mtext>", .ordinary)
            }
        }

        /// The delimiter after \left or \right: ( ) [ ] | . \{ \} \| \langle \rangle \lvert.
        mutating func fence() -> String {
            guard i < s.count else { return "" }
            let c = s[i]; i += 1
            if c == "." { return "" }
            if c == "\\" {
                var name = ""
                if i < s.count && !s[i].isLetter { name = String(s[i]); i += 1 } else {
                    while i < s.count && s[i].isLetter { name.append(s[i]); i += 1 }
                }
                return HTML.escape(TeX.bars[name] ?? TeX.symbols[name] ?? name)
            }
            return HTML.escape(String(c))
        }
    }
}

extension TeX {
    /// The raw text of the `{...}` group at `i` (nested braces kept), or of the one character
    /// there (`\mathrm x`), after any spaces; `i` moves past it.
    static func rawGroup(_ s: [Character], _ i: inout Int) -> String {
        while i < s.count && s[i] == " " { i += 1 }
        guard i < s.count else { return "" }
        guard s[i] == "{" else { i += 1; return String(s[i - 1]) }
        i += 1
        var depth = 1, text = ""
        while i < s.count {
            if s[i] == "{" { depth += 1 }
            if s[i] == "}" { depth -= 1; if depth == 0 { i += 1; break } }
            text.append(s[i]); i += 1
        }
        return text
    }

    /// `<math displaystyle="true">` for a cell of a displayed equation laid out by the page.
    static func display(_ source: String) -> Markup {
        Markup("<math displaystyle=\"true\">\(convert(source))</math>")
    }
}

/// HTML that is safe to put on a page, escaped by construction.
///
/// A `Markup` value is made in one of three ways:
/// - from text, escaped (`Markup(text:)`, `Markup.escaping(_:)`): whatever the text holds
///   (`<script>`, `&`, quotes, control characters) it reads as text;
/// - by joining other `Markup` values (`+`, `joined`, `Markup.element`), whose attribute values
///   are text and are escaped;
/// - inside this module only, from a string literal of our own markup (`Markup("<p>\(x)</p>")`,
///   where every interpolated `String` is escaped and every interpolated `Markup` is joined as
///   it is), or from markup made by another program of ours (`Markup(unescaped:)`: the MathML
///   of `TeX`'s parser, the stylesheet, and here the pieces of markup that `rewritingText` and
///   `replacingRuns` cut and join again).
///
/// The last way is used only in `Markup.swift`, `Renderer.swift` (which also highlights Swift
/// code, `SwiftCode`'s tokens), `TeX.swift` (the MathML emitters) and `Plot.swift` (SVG); a
/// test (`MarkupTests`) holds the module to it.
public struct Markup: Sendable, Hashable, CustomStringConvertible {
    /// The markup as HTML source.
    public let html: String

    /// Markup made by our own code. Internal: see the type's documentation for where it may be used.
    init(unescaped html: String) { self.html = html }

    /// A string literal of our own markup: the literal's text is markup, each interpolated
    /// `String` (or number) is escaped, each interpolated `Markup` is joined as it is.
    init(_ template: Template) { html = template.html }

    /// Text, escaped (`HTML.escape`).
    public init(text: String) { html = HTML.escape(text) }

    /// Text, escaped (`HTML.escape`).
    public static func escaping(_ text: String) -> Markup { Markup(text: text) }

    /// No markup at all.
    public static let empty = Markup(unescaped: "")

    public var isEmpty: Bool { html.isEmpty }
    public var description: String { html }

    /// Every occurrence of `target` replaced by `replacement` (both markup, so that escaped text
    /// is matched as it stands on the page: the index links the paper's title where its line names it).
    func replacing(_ target: Markup, with replacement: Markup) -> Markup {
        Markup(unescaped: html.replacingOccurrences(of: target.html, with: replacement.html))
    }

    public static func + (a: Markup, b: Markup) -> Markup { Markup(unescaped: a.html + b.html) }
    public static func += (a: inout Markup, b: Markup) { a = a + b }

    /// `<name attributes…>content</name>`, each attribute value escaped. The name and the
    /// attribute names must be made of ASCII letters, digits and hyphens (they are ours, never text).
    public static func element(_ name: String, _ attributes: KeyValuePairs<String, String> = [:], _ content: Markup = .empty) -> Markup {
        Markup(unescaped: "<" + name + attributeList(name, attributes) + ">" + content.html + "</" + name + ">")
    }

    /// `<name attributes…/>`, as SVG writes an element without content, each attribute value escaped.
    public static func emptyElement(_ name: String, _ attributes: KeyValuePairs<String, String> = [:]) -> Markup {
        Markup(unescaped: "<" + name + attributeList(name, attributes) + "/>")
    }

    static func attributeList(_ name: String, _ attributes: KeyValuePairs<String, String>) -> String {
        precondition(isName(name), "Markup.element: \(name) is not an element name")
        var out = ""
        for (key, value) in attributes {
            precondition(isName(key), "Markup.element: \(key) is not an attribute name")
            out += " " + key + "=\"" + HTML.escape(value) + "\""
        }
        return out
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x2D }
    }

    /// A string literal of our own markup with escaped interpolations (see `Markup.init(_:)`).
    struct Template: ExpressibleByStringInterpolation {
        var html: String
        init(stringLiteral value: String) { html = value }
        init(stringInterpolation: Interpolation) { html = stringInterpolation.html }

        struct Interpolation: StringInterpolationProtocol {
            var html = ""
            init(literalCapacity: Int, interpolationCount: Int) { html.reserveCapacity(literalCapacity * 2) }
            mutating func appendLiteral(_ literal: String) { html += literal }
            mutating func appendInterpolation(_ markup: Markup) { html += markup.html }
            mutating func appendInterpolation(_ text: String) { html += HTML.escape(text) }
            mutating func appendInterpolation(_ text: Substring) { html += HTML.escape(String(text)) }
            mutating func appendInterpolation<N: BinaryInteger>(_ n: N) { html += String(n) }
        }
    }
}

extension Markup {
    /// Rewrites the text between the tags with `transform`, except inside the elements named in
    /// `skipping`; `transform` also hears of each tag's name as it passes (with empty text). Each
    /// run of text is given as markup (escaped text, as it stands between two tags) and `transform`
    /// returns its markup: the tags are kept as they are.
    func rewritingText(skipping skipped: Set<String>, _ transform: (Markup, String?) -> Markup) -> Markup {
        var out = "", depth = 0
        var rest = Substring(html)
        while !rest.isEmpty {
            if rest.first == "<", let close = rest.firstIndex(of: ">") {
                let tag = rest[...close]
                let name = tag.dropFirst(tag.hasPrefix("</") ? 2 : 1).prefix { $0.isLetter || $0.isNumber }.lowercased()
                _ = transform(.empty, name)
                if skipped.contains(name) && !tag.hasSuffix("/>") {
                    depth = max(depth + (tag.hasPrefix("</") ? -1 : 1), 0)
                }
                out += tag
                rest = rest[rest.index(after: close)...]
                continue
            }
            let end = rest.firstIndex(of: "<") ?? rest.endIndex
            let text = String(rest[..<end])
            out += depth == 0 ? transform(Markup(unescaped: text), nil).html : text
            rest = rest[end...]
        }
        return Markup(unescaped: out)
    }

    /// Scans the markup character by character: where `run` finds a run beginning at an index,
    /// the run is replaced by the markup `run` gives and the scan goes on after it; every other
    /// character is kept. Only markup goes in, so no text can arrive unescaped.
    func replacingRuns(_ run: (_ html: String, _ at: String.Index) -> (end: String.Index, with: Markup)?) -> Markup {
        var out = "", i = html.startIndex
        while i < html.endIndex {
            if let r = run(html, i) {
                precondition(r.end > i, "Markup.replacingRuns: an empty run")
                out += r.with.html
                i = r.end
                continue
            }
            out.append(html[i])
            i = html.index(after: i)
        }
        return Markup(unescaped: out)
    }
}

extension Sequence where Element == Markup {
    /// The markup values one after the other, `separator` between them.
    public func joined(separator: Markup = .empty) -> Markup {
        Markup(unescaped: map(\.html).joined(separator: separator.html))
    }
}

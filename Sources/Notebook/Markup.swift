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
///   of `TeX`, the stylesheet, the rewriting of rendered text in `CrossReference`).
///
/// The last way is used only in `Markup.swift`, `Renderer.swift`, `TeX.swift` (the MathML
/// emitters), `Plot.swift` (SVG), `SwiftCode.swift` (highlighting) and `CrossReference.swift`
/// (which rewrites the text between the tags of rendered markup); a test holds the module to it.
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

extension Sequence where Element == Markup {
    /// The markup values one after the other, `separator` between them.
    public func joined(separator: Markup = .empty) -> Markup {
        Markup(unescaped: map(\.html).joined(separator: separator.html))
    }
}

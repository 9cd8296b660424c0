import Foundation

/// A small lexer for Swift source, enough to highlight a chapter's code on its page and to find
/// the function around a line. It knows comments (nested block comments too), string literals
/// (single-line, multi-line and raw, with their interpolations kept inside the string token),
/// numbers, keywords, attributes and identifiers; everything else is punctuation.
///
/// Why not swift-syntax's SwiftIDEUtils, which classifies tokens exactly: building swift-syntax
/// adds minutes to every clean build of the book on a two-core machine (see ARCHITECTURE.md),
/// and a page needs only six colours.
public enum SwiftCode {
    public enum Kind: String, Sendable {
        case keyword, comment, string, number, attribute, type, identifier, punctuation, whitespace
    }

    public struct Token: Sendable, Equatable {
        public let kind: Kind
        public let text: Substring
    }

    static let keywords: Set<Substring> = [
        "associatedtype", "async", "await", "break", "case", "catch", "class", "continue", "default", "defer", "do",
        "else", "enum", "extension", "fallthrough", "false", "fileprivate", "for", "func", "guard", "if", "import",
        "in", "init", "inout", "internal", "is", "let", "mutating", "nil", "nonmutating", "open", "operator",
        "private", "protocol", "public", "repeat", "rethrows", "return", "self", "Self", "some", "any", "static",
        "struct", "subscript", "super", "switch", "throw", "throws", "true", "try", "typealias", "var", "where",
        "while", "as", "lazy", "weak", "final", "override", "convenience", "required", "indirect", "consuming",
    ]

    /// The tokens of `source`, in order; their texts concatenate to `source`.
    public static func tokens(_ source: String) -> [Token] {
        let s = source.unicodeScalars
        var out: [Token] = []
        var i = s.startIndex
        func emit(_ kind: Kind, _ from: String.UnicodeScalarView.Index) {
            let lo = from.samePosition(in: source)!, hi = i.samePosition(in: source)!
            out.append(Token(kind: kind, text: source[lo..<hi]))
        }
        func peek(_ k: Int = 0) -> Unicode.Scalar? {
            var j = i
            for _ in 0..<k { guard j < s.endIndex else { return nil }; j = s.index(after: j) }
            return j < s.endIndex ? s[j] : nil
        }
        func advance(_ k: Int = 1) { for _ in 0..<k where i < s.endIndex { i = s.index(after: i) } }
        func isIdentifierStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c.properties.isAlphabetic }
        func isIdentifierPart(_ c: Unicode.Scalar) -> Bool { isIdentifierStart(c) || ("0"..."9").contains(c) }

        while i < s.endIndex {
            let start = i, c = s[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                while let d = peek(), d == " " || d == "\t" || d == "\n" || d == "\r" { advance() }
                emit(.whitespace, start)
            } else if c == "/" && peek(1) == "/" {
                while let d = peek(), d != "\n" { advance() }
                emit(.comment, start)
            } else if c == "/" && peek(1) == "*" {
                advance(2)
                var depth = 1
                while i < s.endIndex && depth > 0 {
                    if peek() == "/" && peek(1) == "*" { depth += 1; advance(2) }
                    else if peek() == "*" && peek(1) == "/" { depth -= 1; advance(2) }
                    else { advance() }
                }
                emit(.comment, start)
            } else if c == "\"" || (c == "#" && stringAhead(s, i)) {
                lexString(s, &i)
                emit(.string, start)
            } else if ("0"..."9").contains(c) {
                while let d = peek(), isIdentifierPart(d) || d == "." && (peek(1).map { ("0"..."9").contains($0) } ?? false) {
                    advance()
                }
                emit(.number, start)
            } else if c == "@" || c == "#", let d = peek(1), isIdentifierStart(d) {
                advance()
                while let d = peek(), isIdentifierPart(d) { advance() }
                emit(.attribute, start)
            } else if isIdentifierStart(c) || c == "`" || c == "$" {
                advance()
                while let d = peek(), isIdentifierPart(d) || d == "`" { advance() }
                let lo = start.samePosition(in: source)!, hi = i.samePosition(in: source)!
                let word = source[lo..<hi]
                let kind: Kind = keywords.contains(word) ? .keyword
                    : (word.first.map { $0.isUppercase } ?? false) ? .type : .identifier
                out.append(Token(kind: kind, text: word))
            } else {
                advance()
                emit(.punctuation, start)
            }
        }
        return out
    }

    /// Whether the `#`s at `i` open a raw string.
    static func stringAhead(_ s: String.UnicodeScalarView, _ i: String.UnicodeScalarView.Index) -> Bool {
        var j = i
        while j < s.endIndex && s[j] == "#" { j = s.index(after: j) }
        return j < s.endIndex && s[j] == "\""
    }

    /// Moves `i` past one string literal (raw or not, single- or multi-line), interpolations
    /// included: `\(…)` (with the raw string's `#`s) is skipped with its nested parentheses and
    /// any strings inside it.
    static func lexString(_ s: String.UnicodeScalarView, _ i: inout String.UnicodeScalarView.Index) {
        var hashes = 0
        while i < s.endIndex && s[i] == "#" { hashes += 1; i = s.index(after: i) }
        func at(_ k: Int) -> Unicode.Scalar? {
            var j = i
            for _ in 0..<k { guard j < s.endIndex else { return nil }; j = s.index(after: j) }
            return j < s.endIndex ? s[j] : nil
        }
        func advance(_ k: Int = 1) { for _ in 0..<k where i < s.endIndex { i = s.index(after: i) } }
        let multi = at(0) == "\"" && at(1) == "\"" && at(2) == "\""
        advance(multi ? 3 : 1)
        while i < s.endIndex {
            let c = s[i]
            if !multi && c == "\n" { return }   // unterminated: stop at the line's end
            if c == "\\" && (0..<hashes).allSatisfy({ at($0 + 1) == "#" }) {
                advance(1 + hashes)
                if at(0) == "(" {
                    advance()
                    var depth = 1
                    while i < s.endIndex && depth > 0 {
                        let d = s[i]
                        if d == "(" { depth += 1; advance() }
                        else if d == ")" { depth -= 1; advance() }
                        else if d == "\"" || (d == "#" && stringAhead(s, i)) { lexString(s, &i) }
                        else { advance() }
                    }
                } else {
                    advance()
                }
                continue
            }
            if c == "\"" {
                let closes = multi ? (at(1) == "\"" && at(2) == "\"") : true
                if closes {
                    let q = multi ? 3 : 1
                    if (0..<hashes).allSatisfy({ at(q + $0) == "#" }) { advance(q + hashes); return }
                }
            }
            advance()
        }
    }

    /// The lines (1-based, inclusive) of the declaration around `line`: the innermost `func` or
    /// `init` whose body contains the line, with the doc comment and attributes above it.
    public static func enclosingFunction(_ source: String, line: Int) -> ClosedRange<Int>? {
        var lineNo = 1
        // For each `{` we track the line of the func/init keyword that opened it, if any.
        var stack: [(opensFunction: Int?, line: Int)] = []
        var pendingFunction: Int? = nil
        var best: ClosedRange<Int>? = nil
        for t in tokens(source) {
            switch t.kind {
            case .keyword where t.text == "func" || t.text == "init":
                pendingFunction = lineNo
            case .punctuation where t.text == "{":
                stack.append((pendingFunction, lineNo))
                pendingFunction = nil
            case .punctuation where t.text == "}":
                pendingFunction = nil   // a requirement without a body (in a protocol) opens nothing
                if let top = stack.popLast(), let f = top.opensFunction, f <= line, lineNo >= line {
                    if best == nil || f >= best!.lowerBound { best = f...lineNo }
                }
            default: break
            }
            lineNo += t.text.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
        }
        guard let found = best else { return nil }
        // Take in the doc comment and attributes directly above.
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        var first = found.lowerBound
        while first > 1 {
            let above = lines[first - 2].trimmingCharacters(in: .whitespaces)
            if above.hasPrefix("///") || above.hasPrefix("@") { first -= 1 } else { break }
        }
        return first...found.upperBound
    }
}

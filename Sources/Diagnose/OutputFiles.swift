import Foundation
import Notebook

// Writing results: the ordered JSON text and the single-file HTML report, both atomically.

/// A small JSON writer that keeps keys in the order given (the order the README documents)
/// and streams long arrays without building a tree. Numbers are written with Swift's
/// shortest round-trip representation, so reading them back gives the same Double; a
/// non-finite number, which JSON cannot hold, is written as null (and the tool warns).
public struct JSONText {
    public private(set) var text = ""
    var needsComma: [Bool] = [false]
    var indent: Int { needsComma.count - 1 }

    public init() {}

    mutating func separator() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
        text += "\n" + String(repeating: "  ", count: indent)
    }

    public mutating func beginObject(_ key: String? = nil) {
        if key != nil || indent > 0 { separator() }
        if let key { text += JSONText.quote(key) + ": " }
        text += "{"
        needsComma.append(false)
    }

    public mutating func endObject() {
        needsComma.removeLast()
        text += "\n" + String(repeating: "  ", count: indent) + "}"
    }

    public mutating func number(_ key: String, _ x: Double) { separator(); text += JSONText.quote(key) + ": " + JSONText.number(x) }
    public mutating func integer(_ key: String, _ x: Int) { separator(); text += JSONText.quote(key) + ": \(x)" }
    public mutating func string(_ key: String, _ s: String) { separator(); text += JSONText.quote(key) + ": " + JSONText.quote(s) }
    public mutating func bool(_ key: String, _ b: Bool) { separator(); text += JSONText.quote(key) + ": \(b)" }

    public mutating func strings(_ key: String, _ items: [String]) {
        separator()
        text += JSONText.quote(key) + ": [" + items.map { JSONText.quote($0) }.joined(separator: ", ") + "]"
    }

    /// A long array of numbers on as few lines as possible.
    public mutating func numbers(_ key: String, _ xs: [Double]) {
        separator()
        text += JSONText.quote(key) + ": ["
        text.reserveCapacity(text.utf8.count + xs.count * 24)
        for (k, x) in xs.enumerated() {
            if k > 0 { text += k % 8 == 0 ? ",\n" + String(repeating: "  ", count: indent + 1) : ", " }
            text += JSONText.number(x)
        }
        text += "]"
    }

    public var finished: String { text + "\n" }

    public static func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded(.towardZero) && Swift.abs(x) < 1e15 { return String(Int64(x)) }
        return "\(x)"
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// Output files the user named: checked before any input is read (each is then written with
/// `AtomicFile`, or by `Publisher.writePage` for the report).
public enum ReportFile {
    /// An output file that cannot be written, in one line.
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Throws unless a file can be created at `url` (its folder exists and is writable, and it
    /// is not a folder itself). Called before any input is read.
    /// A character device or FIFO (`/dev/null`) is written through, so it needs only to be writable.
    public static func checkWritable(_ url: URL, option: String) throws {
        let dir = url.deletingLastPathComponent()
        var st = stat()
        if stat(url.path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG, S_IFDIR: break
            case S_IFCHR, S_IFIFO:
                guard access(url.path, W_OK) == 0 else { throw WriteError(path: url.path, reason: "\(option): \(String(cString: strerror(errno)))") }
                return
            default: throw WriteError(path: url.path, reason: "\(option): it is not a regular file (a block device or a socket is never overwritten)")
            }
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw WriteError(path: url.path, reason: "\(option): the folder \(dir.path) does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: dir.path) else {
            throw WriteError(path: url.path, reason: "\(option): the folder \(dir.path) is not writable")
        }
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            throw WriteError(path: url.path, reason: "\(option): it is a folder")
        }
    }
}

import Foundation
import Notebook

/// Writes one notebook page as a single HTML file at a path the user chose.
///
/// Notebook's public writer, `Publisher.publish`, writes `<slug>.html`, `<slug>.json` and
/// `index.html` into a folder. So the page is published into a fresh hidden folder next to the
/// target (same file system), its HTML file is renamed over the target (atomic), and the
/// folder is removed: a reader never sees a half-written report, and nothing else is left.
public enum ReportFile {
    /// An output file that cannot be written, in one line.
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    public static func write(_ page: Page, provenance: Provenance, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let scratch = dir.appendingPathComponent(".diagnose-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do { try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false) } catch {
            throw WriteError(path: url.path, reason: "the folder \(dir.path) is not writable or does not exist")
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        try Publisher.publish(page, provenance: provenance, to: scratch)
        let html = scratch.appendingPathComponent("\(page.slug).html")
        if rename(html.path, url.path) != 0 {
            throw WriteError(path: url.path, reason: String(cString: strerror(errno)))
        }
    }

    /// Throws unless a file can be created at `url` (its folder exists and is writable, and it
    /// is not a folder itself). Called before any input is read.
    public static func checkWritable(_ url: URL, option: String) throws {
        let dir = url.deletingLastPathComponent()
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

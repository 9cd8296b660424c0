import Foundation
import Testing

/// Runs the built `diagnose` executable (built next to the test bundle, as the chapter
/// executables are for ChapterTests) with output to files.
enum Tool {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var productsFolder: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        if url.pathComponents.contains(where: { $0.hasSuffix(".xctest") }) {
            while !url.lastPathComponent.hasSuffix(".xctest") && url.pathComponents.count > 1 { url.deleteLastPathComponent() }
        }
        return url.deletingLastPathComponent()
    }

    static func run(_ arguments: [String], in folder: URL? = nil, stdin: URL? = nil) throws -> Result {
        let exe = productsFolder.appendingPathComponent("diagnose")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else { throw Failure("diagnose not found at \(exe.path)") }
        let p = Process()
        p.executableURL = exe
        p.arguments = arguments
        if let folder { p.currentDirectoryURL = folder }
        let scratch = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        if let stdin { p.standardInput = try FileHandle(forReadingFrom: stdin) }
        try p.run()
        p.waitUntilExit()
        try out.close(); try err.close()
        return Result(status: p.terminationStatus, stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diagnose-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}

/// Writes `text` to `name` in `folder` and returns its path.
func write(_ text: String, _ name: String, in folder: URL) throws -> String {
    let url = folder.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
}

/// The JSON object of a file or of standard output.
func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

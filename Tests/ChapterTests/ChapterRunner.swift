import Foundation
import Notebook
import Testing

/// Runs a built chapter executable and reads what it wrote.
///
/// The executables are built next to the test bundle (this target depends on every chapter
/// target), so they are found in the folder of the running test binary.
enum ChapterRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var productsFolder: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .pathComponents.contains(where: { $0.hasSuffix(".xctest") })
            ? bundleParent : URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// For a `.xctest` bundle (a folder on some platforms) the products folder is its parent.
    static var bundleParent: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while !url.lastPathComponent.hasSuffix(".xctest") && url.pathComponents.count > 1 { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent()
    }

    static func run(_ product: String, _ arguments: [String]) throws -> Result {
        let exe = productsFolder.appendingPathComponent(product)
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            throw RunnerError(message: "chapter executable not found at \(exe.path)")
        }
        let p = Process()
        p.executableURL = exe
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        p.environment = env
        // Output goes to files, so a chatty chapter can never block on a full pipe.
        let scratch = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        try out.close(); try err.close()
        let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
        return Result(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A fresh temporary output folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("klbayes-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func report(in folder: URL, slug: String) throws -> Report {
        let data = try Data(contentsOf: folder.appendingPathComponent("\(slug).json"))
        return try Report.decoder().decode(Report.self, from: data)
    }

    struct RunnerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}

/// The contract every chapter keeps: exit 0 with every check passing and a report whose JSON
/// matches what was printed; one-line errors with exit 2 on bad input.
///
/// Writes into `folder` when given (and leaves it for the caller to read), else into a
/// temporary folder deleted afterwards. Returns what the run printed.
@discardableResult
func expectChapterPasses(_ product: String, slug: String, arguments: [String], in given: URL? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> ChapterRunner.Result {
    let folder = try given ?? ChapterRunner.temporaryFolder()
    defer { if given == nil { try? FileManager.default.removeItem(at: folder) } }
    let result = try ChapterRunner.run(product, arguments + ["--output", folder.path])
    #expect(result.status == 0, "\(product) exited \(result.status): \(result.stdout.suffix(2000)) \(result.stderr)", sourceLocation: sourceLocation)
    validateReportJSON(try Data(contentsOf: folder.appendingPathComponent("\(slug).json")), sourceLocation: sourceLocation)
    let report = try ChapterRunner.report(in: folder, slug: slug)
    #expect(report.failed == 0, sourceLocation: sourceLocation)
    #expect(report.passed == report.checks.count && report.passed > 0, sourceLocation: sourceLocation)
    #expect(report.checks.allSatisfy { $0.passed }, sourceLocation: sourceLocation)
    #expect(result.stdout.contains("\(report.passed) passed, 0 failed"), sourceLocation: sourceLocation)
    let html = try String(contentsOf: folder.appendingPathComponent("\(slug).html"), encoding: .utf8)
    #expect(html.contains("<math"), sourceLocation: sourceLocation)
    #expect(html.contains("<svg"), sourceLocation: sourceLocation)
    #expect(html.contains("\(report.passed) of \(report.passed) checks hold"), sourceLocation: sourceLocation)
    let index = try String(contentsOf: folder.appendingPathComponent("index.html"), encoding: .utf8)
    #expect(index.contains("\(slug).html"), sourceLocation: sourceLocation)
    // No temporary files left behind by the atomic writes.
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
    #expect(leftovers.isEmpty, sourceLocation: sourceLocation)
    return result
}

/// Bad input: exit 2, exactly one line on standard error, nothing on disk.
func expectUsageError(_ product: String, arguments: [String], mentioning text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let folder = try ChapterRunner.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let args = arguments.contains("--output") ? arguments : arguments + ["--output", folder.path]
    let result = try ChapterRunner.run(product, args)
    #expect(result.status == 2, "exit \(result.status) for \(arguments)", sourceLocation: sourceLocation)
    let lines = result.stderr.split(separator: "\n")
    #expect(lines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.contains(text), "stderr: \(result.stderr)", sourceLocation: sourceLocation)
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, sourceLocation: sourceLocation)
}

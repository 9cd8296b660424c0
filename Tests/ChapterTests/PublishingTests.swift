import Foundation
import Notebook
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Issue 20, item 5: a chapter killed at any moment of its run leaves its JSON, its HTML and
/// the index consistent: the previous report or the new one, never a mixture.
@Suite("Publishing is all or nothing")
struct PublishingTests {
    static let product = "distribution-collapse", slug = "01-distribution-collapse"

    /// Starts the chapter writing into `folder`; the caller waits or kills.
    static func start(seed: Int, folder: URL) throws -> Process {
        let p = Process()
        p.executableURL = ChapterRunner.productsFolder.appendingPathComponent(product)
        p.arguments = ["--quick", "--seed", "\(seed)", "--output", folder.path]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        p.environment = env
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The JSON and the HTML come from one run (the same seed), and the index links the page
    /// exactly when both exist.
    static func expectConsistent(_ folder: URL, after what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fm = FileManager.default
        let json = folder.appendingPathComponent("\(slug).json"), html = folder.appendingPathComponent("\(slug).html")
        let index = folder.appendingPathComponent("index.html")
        #expect(fm.fileExists(atPath: json.path) == fm.fileExists(atPath: html.path), "\(what): JSON without HTML or the reverse", sourceLocation: sourceLocation)
        guard fm.fileExists(atPath: json.path) else { return }
        let report = try Report.decoder().decode(Report.self, from: Data(contentsOf: json))
        let page = try String(contentsOf: html, encoding: .utf8)
        #expect(page.contains("seed=\(report.provenance.seed)"), "\(what): the HTML is not the JSON's run", sourceLocation: sourceLocation)
        let indexText = (try? String(contentsOf: index, encoding: .utf8)) ?? ""
        #expect(indexText.contains("href=\"\(slug).html\""), "\(what): the index lacks the chapter", sourceLocation: sourceLocation)
    }

    @Test("SIGTERM and SIGKILL at seeded moments: the folder always holds one consistent report")
    func killedRuns() throws {
        let folder = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A whole run first, to know how long one takes and to have a previous report.
        let started = Date()
        let first = try Self.start(seed: 100, folder: folder)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
        let duration = Date().timeIntervalSince(started)
        var state: UInt64 = 20
        func nextFraction() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for trial in 0..<10 {
            let signal = trial % 2 == 0 ? SIGTERM : SIGKILL
            let p = try Self.start(seed: 101 + trial, folder: folder)
            usleep(useconds_t(nextFraction() * duration * 1e6))
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            let what = "trial \(trial), signal \(signal)"
            if signal == SIGTERM {
                try Self.expectConsistent(folder, after: what)
                let temporaries = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
                #expect(temporaries.isEmpty, "\(what) left \(temporaries)")
            } else {
                // A SIGKILL between two renames leaves the journal: the next writer finishes it.
                try Publisher.writeIndex(in: folder)
                try Self.expectConsistent(folder, after: what)
            }
        }
        // One more whole run cleans whatever a killed run left.
        let last = try Self.start(seed: 200, folder: folder)
        last.waitUntilExit()
        #expect(last.terminationStatus == 0)
        try Self.expectConsistent(folder, after: "the last run")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "temporaries left: \(left)")
    }
}

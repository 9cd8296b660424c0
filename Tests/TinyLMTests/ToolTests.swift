import Foundation
import GSL
import Testing
@testable import TinyLM

/// The `tinylm` executable (built beside the test bundle: this target depends on it), run as a
/// user would: JSON lines out, one-line errors with exit status 2 on bad input.
@Suite("tinylm command line")
struct ToolTests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static var executable: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while !url.lastPathComponent.hasSuffix(".xctest") && url.pathComponents.count > 1 { url.deleteLastPathComponent() }
        let folder = url.pathComponents.count > 1 ? url.deletingLastPathComponent()
            : URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return folder.appendingPathComponent("tinylm")
    }

    func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws -> Run {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinylm-tool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err"), inp = dir.appendingPathComponent("in")
        try (stdin ?? "").write(to: inp, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        let p = Process()
        p.executableURL = Self.executable
        p.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        env.merge(extra) { _, new in new }
        p.environment = env
        p.standardInput = try FileHandle(forReadingFrom: inp)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: try String(contentsOf: out, encoding: .utf8),
                   stderr: try String(contentsOf: err, encoding: .utf8))
    }

    func checkpoint() throws -> (URL, Checkpoint) {
        let tok = CharTokenizer(texts: ["hello world", "\t!"])
        let c = Checkpoint(model: microModel(seed: 61, config: GPTConfig(vocabSize: tok.count, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8)),
                           tokenizer: tok)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinylm-tool-\(UUID().uuidString).safetensors")
        try c.save(to: url)
        return (url, c)
    }

    func expectOneLineError(_ r: Run, containing text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "exit status \(r.status)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains(text), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
    }

    /// The batch shards (a fixed number a pass, `Parallel.shardsPerPass`) fix the order of every
    /// sum, so training on one, two, four or eight threads gives the same bits (ARCHITECTURE.md,
    /// "How TinyLM uses the cores"): with --quick's 16 documents a step (two passes of eight rows,
    /// one row a shard) and with 21 (passes of 10 and 11 rows, shards of one and two rows).
    @Test(arguments: [[String](), ["--batch-size", "21"]])
    func pretrainingGivesTheSameBitsOnAnyNumberOfCores(_ extra: [String]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinylm-cores-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let counts = ["1", "2", "4", "8"]
        var files: [Data] = []
        for threads in counts {
            let file = dir.appendingPathComponent("cores-\(threads).safetensors")
            let r = try run(["pretrain", "--quick", "--steps", "40", "--checkpoint", file.path] + extra,
                            environment: ["TINYLM_THREADS": threads])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("\(threads) threads on"), "\(r.stderr)")
            files.append(try Data(contentsOf: file))
        }
        #expect(files[0].count > 1000)
        for (threads, file) in zip(counts, files).dropFirst() {
            #expect(file == files[0], "the checkpoint trained on \(threads) threads differs from the one trained on 1")
        }
    }

    @Test func scorePrintsExactLogProbsAsJSONLines() throws {
        let (url, c) = try checkpoint()
        defer { try? FileManager.default.removeItem(at: url) }
        let texts = ["hello", "", "world !", "\tlow"]
        let r = try run(["score", "--checkpoint", url.path], stdin: texts.joined(separator: "\n") + "\n")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == texts.count)
        let expected = try c.logProbs(ofTexts: texts)
        for (i, line) in lines.enumerated() {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(o["text"] as? String == texts[i])
            #expect(o["tokens"] as? Int == texts[i].unicodeScalars.count + 1)
            #expect(abs((o["logprob"] as! Double) - expected[i]) <= 1e-9 * abs(expected[i]))
        }
    }

    @Test func badInputIsAOneLineErrorWithStatus2() throws {
        let (url, _) = try checkpoint()
        defer { try? FileManager.default.removeItem(at: url) }
        expectOneLineError(try run(["score", "--checkpoint", url.path], stdin: "hello\nhel?o\n"), containing: "line 2")
        expectOneLineError(try run(["score", "--checkpoint", url.path], stdin: String(repeating: "l", count: 16) + "\n"), containing: "line 1")
        let data = try Data(contentsOf: url)
        let cut = url.deletingPathExtension().appendingPathExtension("cut")
        try data.prefix(data.count - 3).write(to: cut)
        defer { try? FileManager.default.removeItem(at: cut) }
        expectOneLineError(try run(["score", "--checkpoint", cut.path], stdin: "hello\n"), containing: "truncated")
        expectOneLineError(try run(["bench", "--config", "huge"]), containing: "huge")
        expectOneLineError(try run(["sample", "--checkpoint", url.path, "--temperature", "0"]), containing: "temperature")
        expectOneLineError(try run(["score", "--checkpoint", url.path, "--no-such-option"]), containing: "no-such-option")
        expectOneLineError(try run(["score"]), containing: "--checkpoint")
    }

    @Test func sampleJSONLinesRescoreToTheirLogProb() throws {
        let (url, c) = try checkpoint()
        defer { try? FileManager.default.removeItem(at: url) }
        let r = try run(["sample", "--checkpoint", url.path, "--count", "6", "--seed", "4", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let again = try run(["sample", "--checkpoint", url.path, "--count", "6", "--seed", "4", "--json"])
        #expect(again.stdout == r.stdout, "seeded")
        let samples = c.sampleDocuments(count: 6, seed: 4)
        for (line, s) in zip(r.stdout.split(separator: "\n"), samples) {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            #expect(o["text"] as? String == s.text)
            #expect(abs((o["logprob"] as! Double) - s.sample.logProb) <= 1e-9 * abs(s.sample.logProb))
        }
    }

    @Test("a generic OpenBLAS kernel set on a CPU with AVX2 and FMA is replaced at start-up, and pretrain names the kernels")
    func genericKernelsAreReplaced() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinylm-kernels-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["pretrain", "--quick", "--steps", "2", "--checkpoint", dir.appendingPathComponent("m.safetensors").path]
        let plain = try run(args)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stderr.contains("OpenBLAS kernels: \(BLAS.coreName)"))
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard cpu.contains(" avx2") && cpu.contains(" fma") else { return }   // nothing better to choose
        try FileManager.default.removeItem(at: dir.appendingPathComponent("m.safetensors"))
        let pretend = try run(args, environment: ["KLBAYES_BLAS_PRETEND_CORE": "Prescott"])
        #expect(pretend.status == 0, "\(pretend.stderr)")
        #expect(pretend.stderr.contains("set at start-up; OpenBLAS chose the generic Prescott"), "\(pretend.stderr)")
        let user = try run(["bench", "--help"], environment: ["OPENBLAS_CORETYPE": "Prescott"])
        #expect(user.stderr.contains("generic Prescott kernels (OPENBLAS_CORETYPE=Prescott)"), "\(user.stderr)")
    }
}

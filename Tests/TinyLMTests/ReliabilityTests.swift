import Foundation
import Testing
@testable import TinyLM
#if canImport(Glibc)
import Glibc
#endif

/// Issue 20: inputs a hostile user found that crashed `tinylm` or its loader; each now gives
/// exit 2 (or 1 for training that diverges) with one line, or the right result.
@Suite("tinylm reliability")
struct TinyLMReliabilityTests {
    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        var lines: [Substring] { stderr.split(separator: "\n") }
    }

    /// Runs `tinylm <arguments>` through /bin/sh, so that a test can redirect or close the
    /// standard streams (`redirections`, e.g. ">/dev/full" or "<&-"). The environment is the
    /// test's, with `environment` applied (nil removes a variable).
    static func run(_ arguments: [String], redirections: String = "", stdin: String = "", environment: [String: String?] = [:],
                    in folder: URL? = nil) throws -> Run {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tinylm-rel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inp = dir.appendingPathComponent("in"), out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        try stdin.write(to: inp, atomically: true, encoding: .utf8)
        let quoted = ([ToolTests.executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let script = "exec " + quoted.joined(separator: " ") + " <'\(inp.path)' >'\(out.path)' 2>'\(err.path)' " + redirections
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_NUM_THREADS"] = "1"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        if let folder { p.currentDirectoryURL = folder }
        try p.run()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tinylm-rel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func expectRefused(_ r: Run, _ text: String, status: Int32 = 2, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.lines.count == 1 && r.stderr.contains(text), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
    }

    /// A small model and its checkpoint, written with `edit` applied to its parameters.
    static func checkpoint(in dir: URL, edit: (GPT) -> Void = { _ in }) throws -> (URL, Checkpoint) {
        let tok = CharTokenizer(texts: ["hello world", "\t!"])
        let model = microModel(seed: 61, config: GPTConfig(vocabSize: tok.count, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 8))
        edit(model)
        let c = Checkpoint(model: model, tokenizer: tok)
        let url = dir.appendingPathComponent("m.safetensors")
        try c.save(to: url)
        return (url, c)
    }

    // MARK: - Item 3

    @Test("pretraining that diverges (--lr 1e308) stops with exit 1 and one line, and saves no model")
    func divergence() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("n.st")
        let r = try Self.run(["pretrain", "--quick", "--lr", "1e308", "--checkpoint", file.path])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.lines.last?.contains("diverged") == true && r.lines.filter { $0.contains("diverged") }.count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test("a finite model whose log-probabilities overflow is scored as the report schema's strings; a NaN model is refused")
    func nonFiniteScores() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Finite weights whose logits overflow: the final LayerNorm's output is its bias, 3e38,
        // and each token's embedding is all +1 or all -1, so the logits are +-infinity.
        let (url, _) = try Self.checkpoint(in: dir) { m in
            let wte = m.layout.spec(named: "transformer.wte.weight")!, bias = m.layout.spec(named: "transformer.ln_f.bias")!
            let c = m.config.nEmbd
            for i in 0..<wte.count { m.parameters.pointer[wte.offset + i] = (i / c) % 2 == 0 ? 1 : -1 }
            for i in 0..<bias.count { m.parameters.pointer[bias.offset + i] = 3e38 }
        }
        let r = try Self.run(["score", "--checkpoint", url.path, "-"], stdin: "hello\n")
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(["NaN", "-Infinity", "Infinity"].contains(o["logprob"] as? String ?? ""), "\(r.stdout)")
        #expect(!r.stdout.contains("null"))
        let s = try Self.run(["sample", "--checkpoint", url.path, "--json", "--count", "2"])
        #expect(s.status == 0 && s.stdout.split(separator: "\n").count == 2, "\(s.stderr)")

        let (nan, _) = try Self.checkpoint(in: dir) { m in m.parameters.pointer[3] = .nan }
        Self.expectRefused(try Self.run(["score", "--checkpoint", nan.path], stdin: "hello\n"), "not finite")
    }

    // MARK: - Item 4: hostile metadata and headers

    static func file(_ c: Checkpoint, metadata: [String: String]) -> SafeTensors.File {
        var f = c.file()
        f.metadata.merge(metadata) { _, new in new }
        return f
    }

    /// Bytes of a safetensors file with this header JSON and `dataBytes` zero bytes of data.
    static func rawFile(header: String, dataBytes: Int) -> Data {
        var json = Data(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        return out + json + Data(count: dataBytes)
    }

    @Test("hostile metadata is refused before anything is allocated", arguments: [
        ("bos", "99999999999"), ("eos", "4294967296"), ("bos", "-1"), ("n_embd", "4294967296"), ("n_embd", "4294967294"),
        ("block_size", "9223372036854775807"), ("n_layer", "1000000"), ("n_head", "0"),
    ])
    func hostileMetadata(key: String, value: String) throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, c) = try Self.checkpoint(in: dir)
        var f = Self.file(c, metadata: [key: value])
        if key == "n_embd" { f.metadata["n_head"] = "2" }
        #expect(throws: TinyLMError.self) { try Checkpoint(file: f) }
        let url = dir.appendingPathComponent("h.safetensors")
        try SafeTensors.write(f, to: url)
        Self.expectRefused(try Self.run(["score", "--checkpoint", url.path], stdin: "hello\n"), "checkpoint")
    }

    @Test("hostile safetensors headers are refused with one line", arguments: [
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1073741824],\"data_offsets\":[0,8]}}", 8, "shape"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1,-9223372036854775808]}}", 8, "non-negative"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[9223372036854775807,9223372036854775807],\"data_offsets\":[0,8]}}", 8, "shape"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[101.5],\"data_offsets\":[0,8]}}", 8, "non-negative integers"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[true],\"data_offsets\":[0,4]}}", 4, "non-negative integers"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", 4, "non-negative integers"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "twice"),
        ("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "twice"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "JSON"),
    ])
    func hostileHeader(header: String, dataBytes: Int, reason: String) throws {
        #expect {
            _ = try SafeTensors.decode(Self.rawFile(header: header, dataBytes: dataBytes))
        } throws: { e in "\(e)".contains(reason) }
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("h.safetensors")
        try Self.rawFile(header: header, dataBytes: dataBytes).write(to: url)
        Self.expectRefused(try Self.run(["score", "--checkpoint", url.path], stdin: "hello\n"), reason)
    }

    @Test("the strict header reader still reads what the writer writes, escapes included")
    func headerRoundTrip() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, c) = try Self.checkpoint(in: dir)
        let back = try Checkpoint.load(url)
        #expect(back.tokenizer == c.tokenizer && back.model.parameters.array == c.model.parameters.array)
        let f = try SafeTensors.decode(Self.rawFile(header: "{\"__metadata__\":{\"k\":\"\\u00e9\\ud83d\\ude00\\n\"},\"x\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", dataBytes: 4))
        #expect(f.metadata["k"] == "é😀\n" && f["x"]?.values == [0])
    }

    // MARK: - Item 6: closed and full standard streams

    @Test("score into /dev/full, with standard output closed or standard input closed: exit 2, never a trap or a silent 0")
    func closedStreams() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, _) = try Self.checkpoint(in: dir)
        let full = try Self.run(["score", "--checkpoint", url.path], redirections: ">/dev/full", stdin: "hello\n")
        Self.expectRefused(full, "standard output")
        let closedOut = try Self.run(["score", "--checkpoint", url.path], redirections: ">&-", stdin: "hello\n")
        Self.expectRefused(closedOut, "standard output")
        let closedIn = try Self.run(["score", "--checkpoint", url.path], redirections: "<&-")
        Self.expectRefused(closedIn, "standard input")
        let closedErr = try Self.run(["score", "--checkpoint", url.path, "--no-such-option"], redirections: "2>&-")
        #expect(closedErr.status == 2)
    }

    // MARK: - Items 7, 9, 14 and 16: options

    @Test("option values that passed validation and then trapped or hung are refused at once", arguments: [
        (["pretrain", "--quick", "--lr", "inf"], "--lr"), (["pretrain", "--quick", "--lr", "nan"], "--lr"),
        (["pretrain", "--quick", "--width", "4294967296"], "--width"), (["pretrain", "--quick", "--block-size", "9223372036854775807"], "--block-size"),
        (["pretrain", "--quick", "--batch-size", "9223372036854775807"], "--batch-size"), (["pretrain", "--quick", "--batch-size", "100000000"], "--batch-size"),
        (["pretrain", "--quick", "--layers", "9223372036854775807"], "--layers"), (["pretrain", "--quick", "--batch-size", "4096", "--block-size", "4096"], "activations"),
        (["bench", "--budget", "inf"], "--budget"), (["bench", "--budget", "-1"], "--budget"),
        (["pretrain", "--quick", "--lr", "-1"], "--lr"),
    ])
    func boundedOptions(arguments: [String], mentioning: String) throws {
        let r = try Self.run(arguments)
        Self.expectRefused(r, mentioning)
        #expect(!r.stderr.contains("Missing value"))
    }

    @Test("sample --count 2^63-1 and TINYLM_THREADS=2^63-1 are refused; --count -1 names the option, not a missing value")
    func sampleAndThreads() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, _) = try Self.checkpoint(in: dir)
        Self.expectRefused(try Self.run(["sample", "--checkpoint", url.path, "--count", "9223372036854775807"]), "--count")
        Self.expectRefused(try Self.run(["sample", "--checkpoint", url.path, "--count", "-1"]), "--count must be")
        Self.expectRefused(try Self.run(["score", "--checkpoint", url.path], environment: ["TINYLM_THREADS": "9223372036854775807"]), "TINYLM_THREADS")
        Self.expectRefused(try Self.run(["score", "--checkpoint", url.path], environment: ["TINYLM_THREADS": "0"]), "TINYLM_THREADS")
    }

    @Test("an unwritable cache or checkpoint folder is refused before the first training step")
    func unwritableCache() throws {
        let dir = try Self.folder()
        defer { umount(dir.appendingPathComponent("ro").path); try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let r = try Self.run(["pretrain", "--quick"], environment: ["TINYLM_CACHE": file.path])
        Self.expectRefused(r, file.path)
        #expect(!r.stderr.contains("pretrain:"), "it trained first: \(r.stderr)")
        Self.expectRefused(try Self.run(["pretrain", "--quick", "--checkpoint", file.path + "/m.st"]), file.path)
        // A read-only folder (root ignores permission bits, so a read-only tmpfs).
        let ro = dir.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: ro, withIntermediateDirectories: true)
        if "size=64k".withCString({ mount("tmpfs", ro.path, "tmpfs", UInt(1), $0) }) == 0 {
            let rr = try Self.run(["pretrain", "--quick"], environment: ["TINYLM_CACHE": ro.path])
            Self.expectRefused(rr, "Read-only")
        } else {
            print("skipped the read-only case: cannot mount a tmpfs here (\(String(cString: strerror(errno))))")
        }
    }

    @Test("score reads CRLF lines as their texts and an empty input (/dev/null) as no texts")
    func crlfAndEmpty() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (url, _) = try Self.checkpoint(in: dir)
        let lf = try Self.run(["score", "--checkpoint", url.path], stdin: "hello\nworld\n")
        let crlf = try Self.run(["score", "--checkpoint", url.path], stdin: "hello\r\nworld\r\n")
        #expect(lf.status == 0 && crlf.status == 0 && crlf.stdout == lf.stdout && lf.stdout.split(separator: "\n").count == 2, "\(crlf.stderr)")
        let empty = try Self.run(["score", "--checkpoint", url.path, "/dev/null"])
        #expect(empty.status == 0 && empty.stdout.isEmpty && empty.stderr.isEmpty, "\(empty.stderr)")
        Self.expectRefused(try Self.run(["score", "--checkpoint", url.path, dir.appendingPathComponent("missing").path]), "No such file")
    }

    // MARK: - Item 12

    @Test("TINYLM_THREADS=1 gives the same weights whatever OPENBLAS_NUM_THREADS says")
    func openBLASThreads() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var files: [Data] = []
        for blas in [String?.some("1"), nil, "2"] {
            let file = dir.appendingPathComponent("w-\(blas ?? "unset").st")
            let r = try Self.run(["pretrain", "--quick", "--steps", "20", "--checkpoint", file.path],
                                 environment: ["TINYLM_THREADS": "1", "OPENBLAS_NUM_THREADS": blas])
            #expect(r.status == 0, "\(r.stderr)")
            files.append(try Data(contentsOf: file))
        }
        #expect(files[0].count > 1000 && files[0] == files[1] && files[1] == files[2])
    }

    // MARK: - Item 10

    @Test("a checkpoint write leaves no temporary, and one a killed run left is cleaned by the next write")
    func checkpointTemporaries() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead += 1 }
        try Data("partial".utf8).write(to: dir.appendingPathComponent(".m.safetensors.\(dead).abc.tmp"))
        _ = try Self.checkpoint(in: dir)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.safetensors"])
    }
}

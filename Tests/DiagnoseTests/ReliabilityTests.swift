import Foundation
import GSL
import Testing
@testable import Diagnose
#if canImport(Glibc)
import Glibc
#endif

/// Issue 20 for `diagnose`: device outputs, hostile axes, closed streams, provenance, escaped
/// messages, escaped JSON keys, multi-line CSV labels, and no false heavy-tail warnings.
@Suite("diagnose: reliability")
struct DiagnoseReliabilityTests {
    /// Runs diagnose through /bin/sh so that a test can close or redirect standard output.
    static func shell(_ arguments: [String], redirections: String, in folder: URL) throws -> (status: Int32, stderr: String) {
        let exe = Tool.productsFolder.appendingPathComponent("diagnose").path
        let words = ([exe] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let err = folder.appendingPathComponent("shell-stderr")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "exec " + words.joined(separator: " ") + " 2>'\(err.path)' " + redirections]
        p.currentDirectoryURL = folder
        try p.run()
        p.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: err) }
        return (p.terminationStatus, (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    // MARK: - Item 1

    @Test("--json and --report at a character device (made with mknod) or a FIFO write through and leave the node")
    func deviceOutputs() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try write(CommandTests.table, "t.csv", in: dir)
        let null = dir.appendingPathComponent("null")
        #expect(mknod(null.path, S_IFCHR | 0o666, dev_t(0x0103)) == 0, "mknod needs root")
        let r = try Tool.run(["table", csv, "--beta", "0.5", "--json", null.path, "--report", dir.appendingPathComponent("r.html").path])
        #expect(r.status == 0, "\(r.stderr)")
        var st = stat()
        #expect(lstat(null.path, &st) == 0 && st.st_mode & S_IFMT == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["null", "r.html", "t.csv"])
    }

    // MARK: - Item 2

    @Test("the reported inputs that trapped the axis: a 744-nat prior, two samples at β = 0.001, β = 1e307")
    func hostileAxes() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try write("log_prior,reward\n0,0.5\n-744.4,0.1\n", "s.csv", in: dir)
        let two = try write("{\"logp_ref\": -1, \"logp_policy\": -1.2, \"reward\": 1.0}\n{\"logp_ref\": -2, \"logp_policy\": -1.5, \"reward\": 0.256}\n", "two.jsonl", in: dir)
        let report = dir.appendingPathComponent("r.html")
        for args in [["table", csv, "--beta", ".5"], ["table", csv, "--beta", "1e307"], ["samples", two, "--beta", "0.001"]] {
            let r = try Tool.run(args + ["--report", report.path])
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let html = try String(contentsOf: report, encoding: .utf8)
            #expect(html.contains("<svg") && !html.contains("NaN") && !html.contains("\"nan") && !html.contains("inf\""), "\(args)")
        }
    }

    // MARK: - Item 6

    @Test("standard output full (/dev/full) or closed: exit 2 with one line, never a trap")
    func closedOutput() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try write(CommandTests.table, "t.csv", in: dir)
        for redirection in [">/dev/full", ">&-"] {
            let r = try Self.shell(["table", csv, "--beta", "0.5"], redirections: redirection, in: dir)
            #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("standard output"), "\(redirection): \(r.status) \(r.stderr)")
        }
        let closedErr = try Self.shell(["table", csv, "--beta", "-1"], redirections: "2>&-", in: dir)
        #expect(closedErr.status == 2)
    }

    // MARK: - Items 11 and 16: the footer

    @Test("the footer names our commit from any folder, the Swift version, and the command line quoted")
    func footer() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Another repository, with a commit of its own, as the working folder.
        let git = { (args: [String]) throws -> String in
            let p = Process(), out = Pipe()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["git"] + args
            p.currentDirectoryURL = dir
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git(["init", "-q"])
        _ = try git(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "other"])
        let otherCommit = try git(["rev-parse", "--short=12", "HEAD"])
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let ours = try git(["-C", root.path, "rev-parse", "--short=12", "HEAD"])
        let csv = try write(CommandTests.table, "my table.csv", in: dir)
        let r = try Tool.run(["table", "my table.csv", "--beta", "0.5", "--report", "r.html"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOf: dir.appendingPathComponent("r.html"), encoding: .utf8)
        #expect(!otherCommit.isEmpty && !html.contains(otherCommit))
        #expect(html.contains("<code>\(ours)</code>"), "the footer should name \(ours)")
        #expect(html.contains("&#39;my table.csv&#39;"), "the command line is quoted")
        #expect(html.range(of: "Swift 6\\.[0-9]", options: .regularExpression) != nil)
        _ = csv
    }

    // MARK: - Items 13 and 16: messages and values

    @Test("a CSV header holding terminal escapes is echoed escaped; --beta -1 is a value, not a missing one")
    func messages() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try write("log_prior,\u{1B}[2J\u{1B}]0;pwned\u{7}\n0,1\n", "t.csv", in: dir)
        let r = try Tool.run(["table", csv, "--beta", "1"])
        #expect(r.status == 2 && !r.stderr.contains("\u{1B}") && !r.stderr.contains("\u{7}") && r.stderr.contains("\\u{1B}"), "\(r.stderr.debugDescription)")
        let negative = try Tool.run(["table", csv, "--beta", "-1"])
        #expect(negative.status == 2 && negative.stderr.contains("--beta must be") && !negative.stderr.contains("Missing"), "\(negative.stderr)")
    }

    @Test("keys spelled with JSON escapes (\"logp\\u005fref\") are the keys they spell")
    func escapedKeys() throws {
        let line = "{\"logp\\u005fref\": -1.5, \"logp_polic\\u0079\": -1, \"re\\u0077ard\": 0.25, \"logp\\u005fre\": 9, \"x\\\"y\": 1}"
        let fast = try Array(line.utf8).withUnsafeBufferPointer { b throws(LineProblem) in try FastSampleParser.parse(b) }
        #expect(fast == SampleLine(logpRef: -1.5, logpPolicy: -1, reward: 0.25))
        #expect(try ReferenceSampleParser.parse(line) == fast)
        let twice = "{\"logp_ref\": -1, \"logp\\u005fref\": -2, \"logp_policy\": -1, \"reward\": 0}"
        #expect(throws: LineProblem.self) { try Array(twice.utf8).withUnsafeBufferPointer { b throws(LineProblem) in try FastSampleParser.parse(b) } }
    }

    // MARK: - Item 18

    @Test("a quoted label holding line breaks (as csv.writer writes completion text) is one row; messages name its first line")
    func multiLineLabels() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = "log_prior,reward,label\r\n-0.5,1,\"first line\nsecond, with \"\"quotes\"\"\r\n\nthird\"\r\n-1,0,plain\r\n"
        let table = try ExactTable.read(path: try write(text, "t.csv", in: dir), name: "t.csv")
        #expect(table.labels == ["first line\nsecond, with \"quotes\"\n\nthird", "plain"])
        #expect(table.lines == [2, 6])
        let bad = try write("log_prior,reward,label\n-0.5,1,\"a\nb\"\n-1,oops,c\n", "bad.csv", in: dir)
        let r = try Tool.run(["table", bad, "--beta", "1"])
        #expect(r.status == 2 && r.stderr.contains("bad.csv:4") && r.stderr.contains("'reward'"), "\(r.stderr)")
        let badFirst = try write("log_prior,reward,label\n-0.5,x,\"a\nb\"\n", "bad1.csv", in: dir)
        let r1 = try Tool.run(["table", badFirst, "--beta", "1"])
        #expect(r1.status == 2 && r1.stderr.contains("bad1.csv:2"), "\(r1.stderr)")
        let open = try write("log_prior,reward,label\n-0.5,1,c\n-0.5,1,\"never\nclosed\n", "open.csv", in: dir)
        let r2 = try Tool.run(["table", open, "--beta", "1"])
        #expect(r2.status == 2 && r2.stderr.contains("open.csv:3") && r2.stderr.contains("not closed"), "\(r2.stderr)")
    }

    // MARK: - Item 17: no false heavy-tail warnings

    /// A discrete completion space like the real client's: 1000 completions, π0 from a
    /// Dirichlet, r uniform, β = 0.5, and a policy π ∝ (π*)^0.8 that under-covers twenty
    /// completions by a factor of 50 (so a few weights π*/π stand far above the rest, bounded
    /// as measured on GPT-2). The largest weights of 20,000 samples are then a few repeated
    /// completions, on which the Pareto fit sees a tail that is not there (k̂ ≥ 0.5 in half
    /// the replications) though the exact effective sample size is about half of N. Returns log π0,
    /// r, log π, the exact ESS fraction 1 / E_π[(π*/π)²] and the largest π*/π.
    static func discreteSpace() -> (logPrior: [Double], reward: [Double], logPolicy: [Double], essFraction: Double, maxRatio: Double) {
        let rng = RandomGenerator(seed: 2017)
        let prior = rng.dirichlet(count: 1000, concentration: 1)
        let reward = (0..<1000).map { _ in rng.uniform() }
        let post = zip(prior, reward).map { $0 * exp($1 / 0.5) }
        let z = post.reduce(0, +)
        let posterior = post.map { $0 / z }
        var policy = posterior.map { pow($0, 0.8) }
        // The twenty completions nearest to posterior mass 0.001: under-covered by 50, they add
        // about 50 · 0.02 to E_π[(π*/π)²], leaving the exact ESS near half of N.
        let likely = posterior.indices.sorted { Swift.abs(posterior[$0] - 0.001) < Swift.abs(posterior[$1] - 0.001) }.prefix(20)
        for i in likely { policy[i] /= 50 }
        let zp = policy.reduce(0, +)
        policy = policy.map { $0 / zp }
        let second = zip(posterior, policy).reduce(0) { $0 + $1.0 * $1.0 / $1.1 }
        let maxRatio = zip(posterior, policy).map { $0 / $1 }.max()!
        return (prior.map { log($0) }, reward, policy.map { log($0) }, 1 / second, maxRatio)
    }

    static func diagnose(_ lines: String, seed: UInt64, in dir: URL) throws -> SampleDiagnosis {
        let file = try write(lines, "s-\(seed).jsonl", in: dir)
        return try SampleDiagnosis.run(policyFile: file, name: "s.jsonl", referenceFile: nil, beta: 0.5, replicates: 200,
                                       assignment: RandomGenerator(seed: seed), resampling: RandomGenerator(seed: seed + 100))
    }

    @Test("a discrete space with bounded weights and an exact ESS of at least 30% of N: no heavy-tail warning in any replication")
    func discreteSpaceNoFalseAlarm() throws {
        let space = Self.discreteSpace()
        try #require(space.essFraction >= 0.3 && space.maxRatio > 30, "ESS \(space.essFraction), max ratio \(space.maxRatio)")
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sampler = try DiscreteSampler(weights: space.logPolicy.map { exp($0) })
        var shapes: [Double] = []
        for seed in UInt64(1)...8 {
            let draw = RandomGenerator(seed: seed)
            let lines = (0..<20_000).map { _ in
                let x = sampler.sample(draw)
                return "{\"logp_ref\": \(space.logPrior[x]), \"logp_policy\": \(space.logPolicy[x]), \"reward\": \(space.reward[x])}\n"
            }.joined()
            let d = try Self.diagnose(lines, seed: seed, in: dir)
            shapes.append(d.paretoShape ?? .nan)
            let tail = d.warnings.filter { $0.contains("heavy-tailed") || $0.contains("infinite variance") }
            #expect(tail.isEmpty, "seed \(seed): k-hat \(d.paretoShape ?? .nan): \(tail)")
        }
        print("discrete space: exact ESS \(space.essFraction) of N, max weight \(space.maxRatio) x Z, k-hat over replications \(shapes)")
        // The space is one where k̂ alone would raise a warning (k̂ ≥ 0.5 says "infinite
        // variance", ≥ 0.7 "heavy-tailed") in half the replications, so the test exercises the
        // rule that asks the weights for evidence of a tail.
        #expect(shapes.filter { $0 >= SampleWarnings.infiniteVariance }.count >= 4, "k-hat over replications \(shapes)")
        #expect(shapes.contains { $0 >= SampleWarnings.heavyTail }, "k-hat over replications \(shapes)")
    }

    @Test("weights with a Pareto tail of shape 0.9 (an infinite variance): the heavy-tail warning, with what was measured")
    func heavyTailWarned() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for seed in UInt64(1)...5 {
            let draw = RandomGenerator(seed: seed)
            let lines = (0..<5000).map { _ in
                let l = -0.9 * log(draw.uniformPositive())   // w = U^-0.9: P(w > t) = t^(-1/0.9)
                return "{\"logp_ref\": \(-40 + l), \"logp_policy\": -40, \"reward\": 0}\n"
            }.joined()
            let d = try Self.diagnose(lines, seed: seed, in: dir)
            let tail = d.warnings.filter { $0.contains("heavy-tailed") || $0.contains("infinite variance") }
            #expect(tail.count == 1 && tail[0].contains("k-hat") && tail[0].contains("effective sample size"),
                    "seed \(seed): k-hat \(d.paretoShape ?? .nan), ESS \(d.estimate("effective_sample_size")?.estimate ?? .nan): \(d.warnings)")
        }
    }
}

import Foundation
import GSL
import Testing

/// The `diagnose` executable: results written atomically, every malformed input of issue 9
/// refused with one line naming file, line and field, exit 2 and nothing written.
@Suite("diagnose: the command line")
struct CommandTests {
    static let table = """
        log_prior,reward,log_policy,label
        -1.2,0.5,-1.0986122886681098,"a, quoted"
        -0.5,1.0,-1.0986122886681098,b
        -2.0,0.0,-1.0986122886681098,c

        """

    /// Samples from a policy on 50 outcomes (the posterior of a Dirichlet prior at β' = 0.5), or
    /// from the prior; `policyShift` s writes logp_policy = log π(x) + s·r(x), which is not the
    /// log-probability of the sampling policy when s ≠ 0.
    static func samples(_ n: Int, seed: UInt64, policyShift: Double = 0, fromPrior: Bool = false) -> String {
        let rng = RandomGenerator(seed: 1000)
        let logPrior = rng.dirichlet(count: 50, concentration: 1).map { log($0) }
        let reward = (0..<50).map { _ in rng.uniform() }
        let joint = zip(logPrior, reward).map { $0 + $1 / 0.5 }
        let z = log(joint.reduce(0) { $0 + exp($1) })
        let logPolicy = joint.map { $0 - z }
        let draw = RandomGenerator(seed: seed)
        let sampler = try! DiscreteSampler(weights: (fromPrior ? logPrior : logPolicy).map { exp($0) })
        return (0..<n).map { _ in
            let x = sampler.sample(draw)
            return "{\"logp_ref\": \(logPrior[x]), \"logp_policy\": \(logPolicy[x] + policyShift * reward[x]), \"reward\": \(reward[x])}\n"
        }.joined()
    }

    @Test("table: JSON and HTML report written, identities hold, nothing else left behind")
    func tableWrites() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try write(CommandTests.table, "t.csv", in: dir)
        let r = try Tool.run(["table", csv, "--beta", "0.5", "--json", dir.appendingPathComponent("out.json").path,
                              "--report", dir.appendingPathComponent("out.html").path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("5 passed, 0 failed"))
        let json = try jsonObject(String(contentsOf: dir.appendingPathComponent("out.json"), encoding: .utf8))
        for key in ["log_partition", "posterior", "kl_posterior_prior", "expected_reward_posterior", "objective",
                    "expected_reward", "kl_policy_prior", "kl_policy_posterior", "elbo"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect((json["posterior"] as? [Double])?.count == 3)
        let html = try String(contentsOf: dir.appendingPathComponent("out.html"), encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("<math") && html.contains("5 of 5 checks hold"))
        #expect(html.contains("a, quoted"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(files == ["out.html", "out.json", "t.csv"], "\(files)")
    }

    @Test("samples: JSON on standard output, the same seed gives the same numbers, a reference file is used")
    func samplesWrites() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try write(CommandTests.samples(3000, seed: 1), "s.jsonl", in: dir)
        let ref = try write(CommandTests.samples(1000, seed: 2, fromPrior: true), "r.jsonl", in: dir)
        let a = try Tool.run(["samples", s, "--beta", "1", "--seed", "7", "--reference", ref])
        let b = try Tool.run(["samples", s, "--beta", "1", "--seed", "7", "--reference", ref])
        #expect(a.status == 0 && b.status == 0, "\(a.stderr)")
        #expect(a.stdout == b.stdout)
        let json = try jsonObject(a.stdout)
        for key in ["expected_reward", "kl_policy_prior_k1", "kl_policy_prior_k3", "objective", "elbo", "log_partition",
                    "kl_policy_posterior", "effective_sample_size", "log_partition_reference"] {
            let o = try #require(json[key] as? [String: Any], "missing \(key)")
            let e = try #require(o["estimate"] as? Double), lo = try #require(o["low"] as? Double), hi = try #require(o["high"] as? Double)
            #expect(lo <= e && e <= hi, "\(key)")
        }
        #expect(json["samples"] as? Int == 3000)
        #expect(json["warnings"] is [String])
        let c = try Tool.run(["samples", s, "--beta", "1", "--seed", "8"])
        #expect(c.status == 0 && c.stdout != a.stdout)
        let html = dir.appendingPathComponent("s.html")
        let d = try Tool.run(["samples", s, "--beta", "1", "--report", html.path])
        #expect(d.status == 0)
        #expect(try String(contentsOf: html, encoding: .utf8).contains("<svg"))
    }

    @Test("- reads standard input: the same numbers as from the file, named 'standard input'; read once only")
    func standardInput() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try write(CommandTests.samples(500, seed: 4), "s.jsonl", in: dir)
        let fromFile = try jsonObject(try Tool.run(["samples", s, "--beta", "1", "--seed", "3"]).stdout)
        let piped = try Tool.run(["samples", "-", "--beta", "1", "--seed", "3"], stdin: URL(fileURLWithPath: s))
        #expect(piped.status == 0, "\(piped.stderr)")
        let fromStdin = try jsonObject(piped.stdout)
        for key in ["expected_reward", "kl_policy_posterior", "elbo", "samples"] {
            #expect((fromFile[key] as? NSObject) == (fromStdin[key] as? NSObject), "\(key)")
        }
        let bad = try write("{\"logp_ref\": -1, \"logp_policy\": -1}\n", "bad.jsonl", in: dir)
        let e = try Tool.run(["samples", "-", "--beta", "1"], stdin: URL(fileURLWithPath: bad))
        #expect(e.status == 2 && e.stderr.hasPrefix("diagnose: standard input:1"), "\(e.stderr)")
        let twice = try Tool.run(["samples", "-", "--reference", "-", "--beta", "1"], stdin: URL(fileURLWithPath: s))
        #expect(twice.status == 2 && twice.stderr.contains("once") && twice.stderr.split(separator: "\n").count == 1, "\(twice.stderr)")
    }

    @Test("log-probabilities that are not those of the sampling policy fail a check: exit 1, results still written")
    func checkFails() throws {
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        // logp_policy shifted by 3r: k1 and k3 no longer estimate the same KL.
        let s = try write(CommandTests.samples(20000, seed: 3, policyShift: 3), "s.jsonl", in: dir)
        let out = dir.appendingPathComponent("out.json")
        let r = try Tool.run(["samples", s, "--beta", "1", "--json", out.path])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("checks failed"))
        let json = try jsonObject(String(contentsOf: out, encoding: .utf8))
        #expect((json["checks_failed"] as? Int ?? 0) > 0)
    }

    /// (arguments after the mode, file contents by name, text the one-line error must contain)
    static let badInputs: [(String, [String], [String: String], [String])] = [
        ("table", ["t.csv", "--beta", "0"], ["t.csv": table], ["--beta"]),
        ("table", ["t.csv", "--beta", "-1"], ["t.csv": table], ["--beta"]),
        ("table", ["t.csv", "--beta", "nan"], ["t.csv": table], ["--beta"]),
        ("table", ["t.csv", "--beta", "inf"], ["t.csv": table], ["--beta"]),
        ("table", ["t.csv", "--beta", "x"], ["t.csv": table], ["x"]),
        ("table", ["t.csv"], ["t.csv": table], ["--beta"]),
        ("table", ["missing.csv", "--beta", "1"], [:], ["missing.csv", "cannot open"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": ""], ["t.csv", "empty"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward\n"], ["t.csv", "no rows"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,label\n0,a\n"], ["t.csv:1", "'reward'", "missing column"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward\n0,1\n0,abc\n"], ["t.csv:3", "'reward'", "not a number"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward\n0,1\nNaN,1\n"], ["t.csv:3", "'log_prior'", "NaN"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward\n0,1\n0,inf\n"], ["t.csv:3", "'reward'", "infinity"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward\n0,1\nInfinity,1\n"], ["t.csv:3", "'log_prior'", "+infinity"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward\n0,1\n0,1,2\n"], ["t.csv:3", "3 fields"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward,label\n0,1,\"open\n"], ["t.csv:2", "quoted"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward\n0,\n"], ["t.csv:2", "'reward'", "empty"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward\n-inf,1\n-inf,2\n"], ["t.csv:2-3", "'log_prior'", "probability 0"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward,log_policy\n0,1,-0.5\n0,1,-0.5\n"], ["t.csv:2-3", "'log_policy'", "does not normalise"]),
        ("table", ["t.csv", "--beta", "1"], ["t.csv": "log_prior,reward,log_policy\n0,1,-0.6931471805599453\n-inf,1,-inf\n0,1,-inf\n-inf,2,-0.6931471805599453\n"],
         ["t.csv:5", "'log_prior'", "KL"]),
        ("table", ["t.csv", "--beta", "1e-300"], ["t.csv": "log_prior,reward\n0,1e10\n0,1\n"], ["t.csv:2", "'reward'", "overflows"]),
        ("samples", ["s.jsonl", "--beta", "0"], ["s.jsonl": samples(5, seed: 1)], ["--beta"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": ""], ["s.jsonl", "empty"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": samples(1, seed: 1)], ["s.jsonl", "at least 2"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": samples(3, seed: 1) + "{\"logp_ref\": -1, \"logp_pol"], ["s.jsonl:4"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": samples(3, seed: 1) + "not json\n"], ["s.jsonl:4", "JSON object"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": "{\"logp_ref\": -1, \"logp_policy\": -2}\n"], ["s.jsonl:1", "'reward'", "missing"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": "{\"logp_ref\": -1, \"logp_policy\": \"-2\", \"reward\": 1}\n"],
         ["s.jsonl:1", "'logp_policy'", "string"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": samples(2, seed: 1) + "{\"logp_ref\": -1, \"logp_policy\": -2, \"reward\": NaN}\n"],
         ["s.jsonl:3", "'reward'", "NaN"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": "{\"logp_ref\": -1, \"logp_policy\": -Infinity, \"reward\": 1}\n"],
         ["s.jsonl:1", "'logp_policy'", "-infinity"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": "{\"logp_ref\": -Infinity, \"logp_policy\": -1, \"reward\": 1}\n"],
         ["s.jsonl:1", "'logp_ref'", "KL"]),
        ("samples", ["s.jsonl", "--beta", "1"], ["s.jsonl": "{\"logp_ref\": 1e999, \"logp_policy\": -1, \"reward\": 1}\n"],
         ["s.jsonl:1", "'logp_ref'", "+infinity"]),
        ("samples", ["s.jsonl", "--beta", "1", "--reference", "r.jsonl"], ["s.jsonl": samples(5, seed: 1), "r.jsonl": "{\"reward\": true}\n"],
         ["r.jsonl:1", "'reward'"]),
        ("samples", ["s.jsonl", "--beta", "1", "--bootstrap", "5"], ["s.jsonl": samples(5, seed: 1)], ["--bootstrap"]),
        ("samples", ["s.jsonl", "--beta", "1", "--json", "no/such/folder/out.json"], ["s.jsonl": samples(5, seed: 1)], ["does not exist"]),
        ("samples", ["s.jsonl", "--beta", "1", "--json", "s.jsonl"], ["s.jsonl": samples(5, seed: 1)], ["overwrite"]),
        ("samples", ["s.jsonl", "--beta", "1", "--frobnicate"], ["s.jsonl": samples(5, seed: 1)], ["frobnicate"]),
    ]

    @Test("bad input: exit 2, one line naming file, line and field, no output written", arguments: badInputs.indices)
    func badInput(index: Int) throws {
        let (mode, args, files, mentions) = CommandTests.badInputs[index]
        let dir = try Tool.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text) in files { _ = try write(text, name, in: dir) }
        // A previous result that must survive the failed run untouched.
        _ = try write("previous", "old.json", in: dir)
        let outputs = args.contains("--json") ? [] : ["--json", "old.json", "--report", "new.html"]
        let r = try Tool.run([mode] + args + outputs, in: dir)
        #expect(r.status == 2, "exit \(r.status) for \(args): \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.hasPrefix("diagnose: "), "stderr: \(r.stderr)")
        for m in mentions { #expect(r.stderr.contains(m), "\(m) not in: \(r.stderr)") }
        #expect(r.stdout.isEmpty, "stdout: \(r.stdout)")
        #expect(try String(contentsOf: dir.appendingPathComponent("old.json"), encoding: .utf8) == "previous")
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(after == Set(files.keys).union(["old.json"]), "left behind: \(after)")
    }

    @Test("--help documents both modes and their options, exit 0")
    func help() throws {
        let top = try Tool.run(["--help"])
        #expect(top.status == 0 && top.stdout.contains("table") && top.stdout.contains("samples"))
        let t = try Tool.run(["table", "--help"])
        for o in ["--beta", "--json", "--report", "--policy-tolerance", "log_prior"] { #expect(t.stdout.contains(o), "\(o)") }
        let s = try Tool.run(["samples", "--help"])
        for o in ["--beta", "--json", "--report", "--reference", "--seed", "--bootstrap", "logp_ref"] { #expect(s.stdout.contains(o), "\(o)") }
    }
}

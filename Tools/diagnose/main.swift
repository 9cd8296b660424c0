// `diagnose`: measure any policy against its Bayesian posterior (issue 9).
//
// A KL-penalised fine-tune is, in the paper's reading, variational inference towards the
// posterior π* = π0 e^{r/β} / Z. Trainers log the reward and KL(π ‖ π0); this tool reports the
// distance that the penalised objective actually measures, KL(π ‖ π*) = log Z − ELBO(π), from
// an exact table (`diagnose table`) or from samples (`diagnose samples`).
import ArgumentParser
import BookKit
import Diagnose
import Foundation
import GSL
import Notebook

@main
struct DiagnoseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Measure a policy against the Bayesian posterior π* = π0 exp(r/β) / Z that KL-penalised RL targets.",
        discussion: "Exit 0: results written; 1: a consistency check on your numbers failed (results written, the report says which); 2: bad usage or bad input, with a one-line reason naming the file, line and field, and no output written.",
        subcommands: [TableCommand.self, SamplesCommand.self])

    static func main() {
        ChapterMain.main(Self.self) { "diagnose: \($0.failed) of \($0.total) checks failed on your numbers (results written)" }
    }
}

/// A line on standard output through `StandardStreams` (a lost write is exit 2, never a trap).
func print(_ line: String) { StandardStreams.print(line) }

/// How messages and reports name an input: as the user typed it, "-" as "standard input".
func inputName(_ path: String) -> String { path == "-" ? "standard input" : path }

struct OutputOptions: ParsableArguments {
    @Option(help: "KL coefficient β of the penalised objective (the posterior's temperature), a positive number.")
    var beta: Double

    @Option(help: "Write the JSON results to this file (atomically) instead of standard output.")
    var json: String?

    @Option(help: "Also write an HTML report (prose, checks, plots) to this file.")
    var report: String?

    func validate(input: [String]) throws {
        guard beta.isFinite, beta > 0 else { throw ValidationError("--beta must be a positive finite number (got \(beta))") }
        if let json, let report, URL(fileURLWithPath: json).standardized == URL(fileURLWithPath: report).standardized {
            throw ValidationError("--json and --report name the same file")
        }
        if input.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input (-) can be read once: give at most one input as -")
        }
        for (option, path) in [("--json", json), ("--report", report)] {
            guard let path else { continue }
            if path == "-" { throw ValidationError("\(option) needs a file name (- is not accepted for output)") }
            if input.contains(where: { URL(fileURLWithPath: $0).standardized == URL(fileURLWithPath: path).standardized }) {
                throw ValidationError("\(option) would overwrite the input file \(path)")
            }
        }
    }

    /// Fails early (before reading any input) if an output file cannot be written.
    func checkOutputs() throws {
        for (option, path) in [("--json", json), ("--report", report)] {
            guard let path else { continue }
            do { try ReportFile.checkWritable(URL(fileURLWithPath: path), option: option) } catch { throw InputError("\(error)") }
        }
    }

    /// Writes the JSON (file or standard output) and the report, each atomically.
    func write(json text: String, page: () -> Page, parameters: [String: String], seed: UInt64, start: Date) throws {
        do {
            if let json { try AtomicFile.write(text, to: URL(fileURLWithPath: json)) }
            if let report {
                let provenance = RunProvenance.make(seed: seed, parameters: parameters, start: start)
                try Publisher.writePage(page(), provenance: provenance, to: URL(fileURLWithPath: report))
            }
        } catch { throw InputError("\(error)") }
        if json == nil { StandardStreams.write(text) }
    }
}

struct TableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "table",
        abstract: "Exact mode: a CSV with columns log_prior, reward and optionally log_policy and label, one row per outcome.",
        discussion: "log_prior may be unnormalised (it is normalised and the normaliser reported); log_policy must normalise. Writes log_partition, posterior (one probability per row, in input order), kl_posterior_prior, expected_reward_posterior and, with log_policy, objective, expected_reward, kl_policy_prior, kl_policy_posterior and elbo.")

    @Argument(help: "The CSV file (header line first), or - for standard input.")
    var file: String

    @OptionGroup var output: OutputOptions

    @Option(help: "How far log Σ exp(log_policy) may be from 0 (default 1e-6) before the policy column is refused as not normalised.")
    var policyTolerance: Double = ExactDiagnosis.defaultPolicyTolerance

    func validate() throws {
        try output.validate(input: [file])
        guard policyTolerance.isFinite, policyTolerance > 0, policyTolerance < 1 else {
            throw ValidationError("--policy-tolerance must be in (0, 1) (got \(policyTolerance))")
        }
    }

    func run() throws {
        let start = Date()
        try output.checkOutputs()
        GSLRuntime.start()
        let name = inputName(file)   // errors name the file as the user typed it
        let diagnosis: ExactDiagnosis, table: ExactTable
        do {
            table = try ExactTable.read(path: file, name: name)
            diagnosis = try ExactDiagnosis.compute(table, beta: output.beta, file: name, policyTolerance: policyTolerance)
        } catch { throw InputError(error.description) }
        let checks = DiagnoseChecks.exact(diagnosis, table: table)
        try output.write(json: ExactReport.json(diagnosis, checks: checks, file: name),
                         page: { ExactReport.page(diagnosis, table: table, checks: checks, file: name) },
                         parameters: ["mode": "table", "file": name, "beta": "\(output.beta)"], seed: 0, start: start)
        if output.json != nil { summary(checks) }
        let failed = checks.filter { !$0.passed }.count
        if failed > 0 { throw ChecksFailed(failed: failed, total: checks.count) }
    }
}

struct SamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samples",
        abstract: "Sample mode: JSON Lines of completions drawn from the policy, each {\"logp_ref\": …, \"logp_policy\": …, \"reward\": …}.",
        discussion: "Streams the file in constant memory. Writes expected_reward, kl_policy_prior_k1, kl_policy_prior_k3, objective, elbo, log_partition, kl_policy_posterior and effective_sample_size, each {estimate, low, high, standard_error} with a 95% bootstrap interval, plus samples and warnings.")

    @Argument(help: "JSON Lines of samples from the policy (sequence-level log-probabilities and reward; other keys are ignored), or - for standard input.")
    var file: String

    @OptionGroup var output: OutputOptions

    @Option(help: "JSON Lines of samples drawn from the reference π0 (only \"reward\" is needed): log Z is then estimated from them. - reads standard input.")
    var reference: String?

    @Option(help: "Seed for the bootstrap (any non-negative integer).")
    var seed: UInt64 = 1

    @Option(help: "Bootstrap replicates (100 to 100000).")
    var bootstrap: Int = 1000

    func validate() throws {
        try output.validate(input: [file] + (reference.map { [$0] } ?? []))
        guard (100...100_000).contains(bootstrap) else { throw ValidationError("--bootstrap must be between 100 and 100000 (got \(bootstrap))") }
    }

    func run() throws {
        let start = Date()
        try output.checkOutputs()
        let seeds = Seeds(seed)
        let name = inputName(file)   // errors name the file as the user typed it
        let diagnosis: SampleDiagnosis
        do {
            diagnosis = try SampleDiagnosis.run(policyFile: file, name: name, referenceFile: reference.map { ($0, inputName($0)) },
                                                beta: output.beta, replicates: bootstrap,
                                                assignment: seeds.generator("group-assignment"), resampling: seeds.generator("bootstrap"))
        } catch { throw InputError(error.description) }
        let checks = DiagnoseChecks.samples(diagnosis)
        try output.write(json: SampleReport.json(diagnosis, checks: checks, file: name, referenceFile: reference.map(inputName), seed: seed),
                         page: { SampleReport.page(diagnosis, checks: checks, file: name, referenceFile: reference.map(inputName), seed: seed) },
                         parameters: ["mode": "samples", "file": name, "beta": "\(output.beta)", "bootstrap": "\(bootstrap)", "reference": reference.map(inputName) ?? "none"],
                         seed: seed, start: start)
        if output.json != nil {
            print("\(diagnosis.samples) samples; KL(pi || pi*) = \(diagnosis.estimate("kl_policy_posterior")!.estimate)")
            for w in diagnosis.warnings { print("warning: \(w)") }
            summary(checks)
        }
        let failed = checks.filter { !$0.passed }.count
        if failed > 0 { throw ChecksFailed(failed: failed, total: checks.count) }
    }
}

/// One line a check, for a terminal.
func summary(_ checks: [Check]) {
    for c in checks { print("  \(c.passed ? "✓" : "✗") \(c.sentence)") }
    print("\(checks.filter(\.passed).count) passed, \(checks.filter { !$0.passed }.count) failed")
}

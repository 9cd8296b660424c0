import ArgumentParser
import BookKit
import Foundation
import GSL
import TinyLM

/// `tinylm`: pretrain, sample, score and benchmark the tiny language model.
struct Tool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tinylm",
        abstract: "A nanoGPT-architecture character language model in Swift, pretrained on Debian's fortunes.",
        discussion: "Exit status: 0 on success, 2 for bad usage or bad input (with a one-line reason).",
        subcommands: [Pretrain.self, SampleCommand.self, Score.self, Bench.self]
    )
}

/// Writes one line to standard error (control characters made visible; never traps).
func printError(_ text: String) { StandardStreams.printError(text) }

/// A line on standard output through `StandardStreams` (a lost write is exit 2, never a trap).
func print(_ line: String) { StandardStreams.print(line) }

/// Bad input: the one-line reason is printed by `main` and the exit status is 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// The cores TinyLM may use, from `TINYLM_THREADS`: refused unless a whole number from 1 to
/// `Parallel.maximumWorkers` (TinyLM itself ignores such a value and uses every core).
func checkThreadsVariable() throws {
    guard let s = ProcessInfo.processInfo.environment["TINYLM_THREADS"] else { return }
    guard let n = Int(s), (1...Parallel.maximumWorkers).contains(n) else {
        throw UsageError("TINYLM_THREADS must be a whole number from 1 to \(Parallel.maximumWorkers) (got \(s))")
    }
}

/// Exit status: 0 success, 1 training diverged (nothing saved from then on), 2 bad usage or
/// input, or output lost on a closed or full standard output.
func runTool() -> Int32 {
    StandardStreams.prepare()
    BLASKernels.choose()
    do {
        try checkThreadsVariable()
        var command = try Tool.parseAsRoot(CommandLineArguments.normalised(Array(CommandLine.arguments.dropFirst())))
        try command.run()
        return 0
    } catch let e as TinyLMError {
        printError("tinylm: \(e)")
        if case .diverged = e { return 1 }
        return 2
    } catch let e as UsageError {
        printError("tinylm: \(e)")
        return 2
    } catch let e as InputError {
        printError("tinylm: \(e)")
        return 2
    } catch {
        let code = Tool.exitCode(for: error)
        if code == .success {   // --help and --version
            print(Tool.fullMessage(for: error))
            return 0
        }
        let message = Tool.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        printError("tinylm: \(message)")
        return 2
    }
}

StandardStreams.exit(runTool())

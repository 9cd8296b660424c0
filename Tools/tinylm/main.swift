import ArgumentParser
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

/// Writes one line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Bad input: the one-line reason is printed by `main` and the exit status is 2.
struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

func runTool() -> Int32 {
    BLASKernels.choose()
    do {
        var command = try Tool.parseAsRoot()
        try command.run()
        return 0
    } catch let e as TinyLMError {
        printError("tinylm: \(e)")
        return 2
    } catch let e as UsageError {
        printError("tinylm: \(e)")
        return 2
    } catch {
        let code = Tool.exitCode(for: error)
        if code == .success { Tool.exit(withError: error) }  // --help and --version
        let message = Tool.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
        printError("tinylm: \(message)")
        return 2
    }
}

exit(runTool())

import ArgumentParser
import GSL

/// The options every chapter takes: `--seed`, `--quick`, `--output`.
public struct ChapterOptions: ParsableArguments {
    @Option(help: "Seed for every random computation in the chapter (any non-negative integer).")
    public var seed: UInt64 = 1

    @Flag(help: "Smaller sizes and fewer repetitions, for tests; the checks are the same.")
    public var quick = false

    @Option(help: "Folder for the HTML report, its JSON twin and the index page (created if missing).")
    public var output: String = "Output"

    public init() {}
}

/// The entry point of every chapter executable: parses the command line, runs the chapter
/// and exits 0 when every check holds, 1 when one fails, 2 for bad usage or bad input (with a
/// one-line reason on standard error; `--help` prints the full help and exits 0), 3 when it
/// stopped early on purpose (`StoppedEarly`, with its one line).
public enum ChapterMain {
    /// The chapter's `--help` text, shown on its page beside the command that re-runs it.
    nonisolated(unsafe) public internal(set) static var helpText = ""
    /// The running chapter's sources as compiled, when embedded (see `EmbedsSources`).
    nonisolated(unsafe) public internal(set) static var sources: ChapterSources?

    /// Standard streams are prepared first (`StandardStreams`), a negative number after an
    /// option is its value (`--beta -1`), and output lost on a closed or full standard output
    /// is exit 2. `checksFailed` words the line for exit 1.
    public static func main<Command: ParsableCommand>(
        _ command: Command.Type,
        checksFailed: (ChecksFailed) -> String = { "\($0.failed) of \($0.total) checks failed" }
    ) -> Never {
        StandardStreams.prepare()
        BLASKernels.choose()   // may re-run the program once, with kernels that suit the CPU
        helpText = command.helpMessage(columns: 100)
        sources = (command as? EmbedsSources.Type)?.sources
        do {
            var parsed = try command.parseAsRoot(CommandLineArguments.normalised(Array(CommandLine.arguments.dropFirst())))
            try parsed.run()   // --help arrives here too, as a thrown request
            exitProcess(0)
        } catch let e as ChecksFailed {
            printError(checksFailed(e))
            exitProcess(1)
        } catch let e as StoppedEarly {
            printError(e.message)
            exitProcess(3)
        } catch let e as InputError {
            failUsage(e.message)
        } catch {
            if command.exitCode(for: error) == .success {
                print(command.fullMessage(for: error))
                exitProcess(0)
            }
            failUsage(command.message(for: error))
        }
    }

    static func failUsage(_ message: String) -> Never {
        let first = message.split(separator: "\n").first.map(String.init) ?? message
        let name = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? "chapter"
        printError("\(name): \(first.hasPrefix("Error: ") ? String(first.dropFirst(7)) : first)")
        exitProcess(2)
    }
}

/// Bad input found while running (an unwritable output folder, a value out of range).
public struct InputError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Thrown after the report is written when some check failed.
public struct ChecksFailed: Error {
    public let failed: Int
    public let total: Int
    public init(failed: Int, total: Int) { self.failed = failed; self.total = total }
}

/// Thrown when a chapter stops before its end because it was asked to (a testing aid, such as
/// chapter 10's hidden `--stop-after-steps`), after saving what it needs to resume. Exit 3, with
/// `message` as the one line on standard error; no report is written.
public struct StoppedEarly: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

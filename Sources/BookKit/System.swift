import Foundation

func exitProcess(_ code: Int32) -> Never {
    fflush(nil)
    exit(code)
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Facts about the run for the provenance footer.
enum Environment {
    /// The commit of the working tree and whether it has uncommitted changes, or "unknown".
    /// Changes under Output/ do not count: the book writes its reports there (and commits them),
    /// so every chapter after the first would otherwise see its own outputs as a dirty tree.
    static func gitState(in folder: URL? = nil) -> (commit: String, dirty: Bool) {
        guard let commit = run(["git", "rev-parse", "--short=12", "HEAD"], in: folder), !commit.isEmpty else { return ("unknown", false) }
        let status = run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)", ":(top,exclude)Output"], in: folder) ?? ""
        return (commit, !status.isEmpty)
    }

    /// Runs a command (through /usr/bin/env) in `folder` or the current one; its trimmed
    /// standard output, or nil if it could not run or failed.
    static func run(_ arguments: [String], in folder: URL? = nil) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        if let folder { p.currentDirectoryURL = folder }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static var swiftVersion: String {
        #if compiler(>=6.4)
        return "Swift 6.4 or later"
        #elseif compiler(>=6.3)
        return "Swift 6.3"
        #elseif compiler(>=6.2)
        return "Swift 6.2"
        #else
        return "Swift 6.1"
        #endif
    }

    /// The command line as a person would type it again: an executable built by SwiftPM (a path
    /// through a `.build` folder, often a temporary clone's) is shown as the `swift run` command
    /// that builds and runs it from the package.
    static var commandLine: String { commandLine(CommandLine.arguments) }

    static func commandLine(_ arguments: [String]) -> String {
        let quoted = arguments.dropFirst().map(shellQuoted)
        guard let executable = arguments.first else { return quoted.joined(separator: " ") }
        let parts = executable.split(separator: "/").map(String.init)
        let program: String
        if let build = parts.lastIndex(of: ".build"), build < parts.count - 1, let name = parts.last {
            program = parts[build...].contains("release") ? "swift run -c release \(name)" : "swift run \(name)"
        } else {
            program = shellQuoted(executable)
        }
        return ([program] + quoted).joined(separator: " ")
    }

    /// `arg` as a POSIX shell reads it back: as is when it holds only safe characters, else in
    /// single quotes.
    static func shellQuoted(_ arg: String) -> String {
        arg.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:".contains($0) }) && !arg.isEmpty
            ? arg : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
}

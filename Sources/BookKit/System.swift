import Foundation
import GSL
import Notebook
#if canImport(Glibc)
import Glibc
#endif

func exitProcess(_ code: Int32) -> Never { StandardStreams.exit(code) }

func printError(_ line: String) { StandardStreams.printError(line) }

/// A line on standard output through `StandardStreams` (a lost write is exit 2, never a trap).
func print(_ line: String) { StandardStreams.print(line) }

/// Standard input, output and error used so that a closed or full stream is an error with an
/// exit status, never a trap (Foundation's `FileHandle.write` traps on a failed write) and
/// never a silent success.
///
/// `prepare()` (called first by every program) puts a placeholder on a descriptor 0, 1 or 2 the
/// program was started without, so a file opened later cannot take its number: reads of a
/// closed standard input and writes to a closed standard output then fail (EBADF), and writes
/// to a closed standard error are discarded. `write` and `print` send text to descriptor 1
/// with plain `write` calls and remember the first failure; `exit` then turns it (or a failed
/// flush of C's `stdout`, which Swift's own `print` fills) into exit status 2 with one line on
/// standard error.
public enum StandardStreams {
    nonisolated(unsafe) static var outputFailure: Int32 = 0

    public static func prepare() {
        let placeholders: [(fd: Int32, flags: Int32)] = [(0, O_WRONLY), (1, O_RDONLY), (2, O_WRONLY)]
        for (fd, flags) in placeholders where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            let opened = open("/dev/null", flags)
            if opened >= 0 && opened != fd { dup2(opened, fd); close(opened) }
        }
    }

    /// Writes `text` to standard output now (after anything Swift's `print` buffered).
    public static func write(_ text: String) {
        if fflush(nil) != 0, outputFailure == 0 { outputFailure = errno }
        if let failure = writeAll(1, text), outputFailure == 0 { outputFailure = failure }
    }

    /// `text` and a newline on standard output.
    public static func print(_ line: String) { write(line + "\n") }

    /// One line on standard error, control characters made visible (an input's escape
    /// sequences never reach the terminal raw); a failure to write it is ignored.
    public static func printError(_ line: String) {
        fflush(nil)
        _ = writeAll(2, visible(line) + "\n")
    }

    /// Writes every byte to `fd`; the errno of a failure, or nil.
    static func writeAll(_ fd: Int32, _ text: String) -> Int32? {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return n < 0 ? errno : EIO }
            done += n
        }
        return nil
    }

    /// `text` with control characters (C0 but tab, DEL, C1) written as `\u{1B}`.
    public static func visible(_ text: String) -> String {
        var out = ""
        for u in text.unicodeScalars {
            if (u.value < 0x20 && u != "\t") || u.value == 0x7F || (0x80..<0xA0).contains(u.value) {
                out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// Flushes standard output and exits with `code`, or with 2 (after one line naming the
    /// error) if anything written to standard output was lost and `code` claimed 0 or 1.
    public static func exit(_ code: Int32) -> Never {
        if fflush(nil) != 0, outputFailure == 0 { outputFailure = errno }
        if outputFailure != 0 && (code == 0 || code == 1) {
            let name = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? "program"
            _ = writeAll(2, "\(name): cannot write standard output: \(String(cString: strerror(outputFailure)))\n")
            Glibc.exit(2)
        }
        Glibc.exit(code)
    }

    /// Everything on standard input, or an error naming why it cannot be read.
    public static func readInput() throws -> Data { try readAll(0) }

    static func readAll(_ fd: Int32) throws -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw InputError("cannot read standard input: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
    }
}

/// Negative numbers as option values: `--beta -1` is read as `--beta=-1`, so the option's own
/// check explains what is wrong instead of "Missing value for '--beta'".
public enum CommandLineArguments {
    public static func normalised(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var k = 0
        while k < arguments.count {
            let a = arguments[k]
            if a == "--" { out += arguments[k...]; break }
            if a.hasPrefix("--"), !a.contains("="), k + 1 < arguments.count, looksNegative(arguments[k + 1]) {
                out.append(a + "=" + arguments[k + 1])
                k += 2
                continue
            }
            out.append(a)
            k += 1
        }
        return out
    }

    /// "-1", "-.5", "-2e-3", "-inf", "-nan": a minus sign before a number, never an option name.
    static func looksNegative(_ s: String) -> Bool {
        guard s.hasPrefix("-"), s.count > 1 else { return false }
        let rest = s.dropFirst().lowercased()
        if ["inf", "infinity", "nan"].contains(rest) { return true }
        return Double(s) != nil
    }
}

/// Where a page came from, for its footer: the commit of the source tree this program was built
/// from, the command line quoted as a shell would need it, versions and the machine.
public enum RunProvenance {
    public static func make(seed: UInt64, parameters: [String: String], start: Date, sourceHash: String? = nil) -> Provenance {
        let git = Environment.gitState()
        return Provenance(
            commit: git.commit, dirty: git.dirty, commandLine: Environment.commandLine, seed: seed,
            parameters: parameters, swiftVersion: Environment.swiftVersion, gslVersion: GSLRuntime.gslVersion,
            openblas: GSLRuntime.openBLASConfig.trimmingCharacters(in: .whitespaces) + "; kernels " + BLASKernels.description,
            cores: ProcessInfo.processInfo.activeProcessorCount,
            date: ISO8601DateFormatter().string(from: start), elapsedSeconds: Date().timeIntervalSince(start),
            sourceHash: sourceHash)
    }
}

/// Facts about the run for the provenance footer.
enum Environment {
    /// The root of the source tree this module was compiled from (`#filePath` is
    /// `<root>/Sources/BookKit/System.swift`), if it is still there.
    static var sourceRoot: URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) ? root : nil
    }

    /// The commit of the source tree this program was built from and whether it has uncommitted
    /// changes, or "unknown" (the tree is gone, or is not the top of a git repository), wherever
    /// the program is run from. Changes under Output/ do not count: the book writes its reports
    /// there (and commits them), so every chapter after the first would otherwise see its own
    /// outputs as a dirty tree.
    static func gitState(in folder: URL? = sourceRoot) -> (commit: String, dirty: Bool) {
        guard let folder,
              let top = run(["git", "rev-parse", "--show-toplevel"], in: folder),
              URL(fileURLWithPath: top).resolvingSymlinksInPath().path == folder.resolvingSymlinksInPath().path,
              let commit = run(["git", "rev-parse", "--short=12", "HEAD"], in: folder), !commit.isEmpty
        else { return ("unknown", false) }
        let status = run(["git", "status", "--porcelain", "--untracked-files=no", "--", ":(top)", ":(top,exclude)Output"], in: folder) ?? ""
        return (commit, !status.isEmpty)
    }

    /// Runs a command (through /usr/bin/env) in `folder`; its trimmed standard output, or nil
    /// if it could not run or failed.
    static func run(_ arguments: [String], in folder: URL) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        for key in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] { environment[key] = nil }
        p.environment = environment
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
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

/// A whole input file, "-" meaning standard input, read with plain `read` so that an empty
/// file, a device (`/dev/null`) or a closed standard input is read or refused with its reason.
public enum InputFile {
    public static func read(_ path: String) throws -> Data {
        if path == "-" { return try StandardStreams.readInput() }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR { throw InputError("cannot read \(path): it is a folder") }
        do { return try StandardStreams.readAll(fd) } catch let e as InputError {
            throw InputError(e.message.replacingOccurrences(of: "standard input", with: path))
        }
    }
}

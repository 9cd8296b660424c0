import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a reader never sees half of one: the bytes go to a temporary file in
/// the same folder (written, flushed to disk, closed), which is then renamed over the target
/// (rename is atomic on one file system).
///
/// Only a regular file (or a missing one) is replaced by a rename. A character device or a FIFO
/// (`/dev/null`, `/dev/stdout`, a named pipe) is written through, as a shell's `>` would; a
/// folder, a block device or a socket is refused. The temporary files are named
/// `.<name>.<pid>.<random>.tmp`: a write first deletes those a dead process left beside the
/// same target, and a process stopped by SIGINT, SIGTERM or SIGHUP deletes its own
/// (`Temporaries`).
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public init(path: String, reason: String) { self.path = path; self.reason = reason }
        public var description: String { "cannot write \(path): \(reason)" }
    }

    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }

    public static func write(_ data: Data, to url: URL) throws {
        switch try Target(url) {
        case .stream:
            try writeThrough(data, to: url)
        case .regular, .missing:
            let tmp = try writeTemporary(data, beside: url)
            defer { Temporaries.unregister(tmp.path) }
            if rename(tmp.path, url.path) != 0 {
                let reason = String(cString: strerror(errno))
                unlink(tmp.path)
                throw WriteError(path: url.path, reason: reason)
            }
        }
    }

    /// What a target path is now.
    enum Target {
        case missing, regular, stream

        /// Throws for a folder, a block device or a socket.
        init(_ url: URL) throws {
            var st = stat()
            guard stat(url.path, &st) == 0 else { self = .missing; return }
            switch st.st_mode & S_IFMT {
            case S_IFREG: self = .regular
            case S_IFCHR, S_IFIFO: self = .stream
            case S_IFDIR: throw WriteError(path: url.path, reason: "it is a folder")
            default: throw WriteError(path: url.path, reason: "it is not a regular file (a block device or a socket is never overwritten)")
            }
        }
    }

    /// Writes `data` into an existing character device or FIFO, without creating or renaming.
    static func writeThrough(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw WriteError(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        if let reason = writeAll(fd, data) { throw WriteError(path: url.path, reason: reason) }
    }

    /// Writes `data` to a new temporary file beside `url`, flushed to disk and registered with
    /// `Temporaries` (the caller renames it, then unregisters it). Stale temporaries of the same
    /// target left by dead processes are deleted first. On failure nothing is left behind and
    /// the error names the real reason (ENOSPC is "No space left on device").
    static func writeTemporary(_ data: Data, beside url: URL) throws -> URL {
        let dir = url.deletingLastPathComponent()
        let prefix = temporaryPrefix(url.lastPathComponent)
        removeStaleTemporaries(prefix: prefix, in: dir)
        Temporaries.installHandlers()
        let tmp = dir.appendingPathComponent("\(prefix)\(getpid()).\(String(UInt32.random(in: 0...UInt32.max), radix: 16)).tmp")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else {
            let e = errno
            var isDir: ObjCBool = false
            let reason = !FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir) || !isDir.boolValue
                ? "the folder \(dir.path) does not exist" : String(cString: strerror(e))
            throw WriteError(path: url.path, reason: reason)
        }
        Temporaries.register(tmp.path)
        var failure = writeAll(fd, data)
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(tmp.path)
            Temporaries.unregister(tmp.path)
            throw WriteError(path: url.path, reason: failure)
        }
        return tmp
    }

    /// Writes every byte (retrying short writes and EINTR); the reason of a failure, or nil.
    static func writeAll(_ fd: Int32, _ data: Data) -> String? {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> String? in
            var done = 0
            while done < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                done += n
            }
            return nil
        }
    }

    /// `.<name>.`, the name cut so that the temporary's name stays within NAME_MAX.
    static func temporaryPrefix(_ name: String) -> String {
        "." + String(decoding: Array(name.utf8.prefix(200)), as: UTF8.self) + "."
    }

    /// Deletes `<prefix><pid>.<hex>.tmp` files in `dir` whose process no longer runs.
    static func removeStaleTemporaries(prefix: String, in dir: URL) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            let middle = name.dropFirst(prefix.count).dropLast(4).split(separator: ".")
            guard middle.count == 2, let pid = Int32(middle[0]), UInt32(middle[1], radix: 16) != nil, !processIsRunning(pid) else { continue }
            unlink(dir.appendingPathComponent(name).path)
        }
    }

    static func processIsRunning(_ pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// Creates `dir` (and its parents) if needed and proves it writable, or throws with a
    /// one-line reason. A path with a component longer than NAME_MAX or longer than PATH_MAX in
    /// all is refused before anything is created; if a folder cannot be created, the parents
    /// this call created are removed again.
    public static func prepareFolder(_ dir: URL) throws {
        let path = dir.path
        guard !path.isEmpty else { throw WriteError(path: "\"\"", reason: "an empty path names no folder") }
        if path.utf8.count >= Int(PATH_MAX) || path.split(separator: "/").contains(where: { $0.utf8.count > Int(NAME_MAX) }) {
            throw WriteError(path: String(path.prefix(60)) + "…", reason: String(cString: strerror(ENAMETOOLONG)))
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw WriteError(path: path, reason: "it exists and is not a folder") }
        } else {
            try createFolders(dir)
        }
        guard access(path, W_OK | X_OK) == 0 else {
            throw WriteError(path: path, reason: "the folder is not writable (\(String(cString: strerror(errno))))")
        }
    }

    /// mkdir for `dir` and each missing parent, outermost first; undone on failure.
    static func createFolders(_ dir: URL) throws {
        var missing: [URL] = []
        var cursor = dir.standardizedFileURL
        while !FileManager.default.fileExists(atPath: cursor.path), cursor.path != "/" {
            missing.append(cursor)
            cursor = cursor.deletingLastPathComponent()
        }
        var created: [URL] = []
        for folder in missing.reversed() {
            if mkdir(folder.path, 0o777) != 0 && errno != EEXIST {
                let reason = String(cString: strerror(errno))
                for c in created.reversed() { rmdir(c.path) }
                throw WriteError(path: dir.path, reason: "the folder cannot be created (\(reason))")
            }
            created.append(folder)
        }
    }
}

/// The temporary files this process is writing, deleted if it is stopped by SIGINT, SIGTERM or
/// SIGHUP (the signal is then re-raised, so the exit status is the usual one). A SIGKILL cannot
/// be caught: `AtomicFile` deletes what a dead process left the next time it writes there.
///
/// The paths live in fixed C storage so that the signal handler calls only unlink, signal and
/// raise. Between `beginCritical()` and `endCritical()` (a publish renaming its files) a
/// signal is held and acted on at the end, so the renames happen all or not at all.
public enum Temporaries {
    static let slots = 64, slotBytes = 4096
    nonisolated(unsafe) static let storage: UnsafeMutablePointer<CChar> = {
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: slots * slotBytes)
        p.initialize(repeating: 0, count: slots * slotBytes)
        return p
    }()
    /// [0] critical depth, [1] a signal held during the critical section, [2] handlers installed.
    nonisolated(unsafe) static let state: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 3)
        p.initialize(repeating: 0, count: 3)
        return p
    }()
    static let lock = NSLock()

    static func installHandlers() {
        lock.lock(); defer { lock.unlock() }
        guard state[2] == 0 else { return }
        _ = storage
        state[2] = 1
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            // Leave a signal the parent told us to ignore (nohup) ignored.
            let previous = signal(sig, Temporaries_handle)
            if let previous, unsafeBitCast(previous, to: Int.self) == 1 { signal(sig, SIG_IGN) }
        }
    }

    static func register(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        let bytes = Array(path.utf8)
        guard bytes.count < slotBytes else { return }
        for s in 0..<slots where storage[s * slotBytes] == 0 {
            let slot = storage + s * slotBytes
            for (i, b) in bytes.enumerated().dropFirst() { slot[i] = CChar(bitPattern: b) }
            slot[bytes.count] = 0
            slot[0] = CChar(bitPattern: bytes[0])   // last: the handler sees a whole path or none
            return
        }
    }

    static func unregister(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        for s in 0..<slots where storage[s * slotBytes] != 0 && String(cString: storage + s * slotBytes) == path {
            storage[s * slotBytes] = 0
        }
    }

    /// Holds SIGINT, SIGTERM and SIGHUP until `endCritical()`.
    public static func beginCritical() {
        installHandlers()
        state[0] += 1
    }

    public static func endCritical() {
        state[0] -= 1
        if state[0] == 0 && state[1] != 0 { Temporaries_handle(state[1]) }
    }

    static func removeAll() {
        for s in 0..<slots where storage[s * slotBytes] != 0 { unlink(storage + s * slotBytes) }
    }
}

private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(fd, bytes, count) }

/// The signal handler: only async-signal-safe calls.
private func Temporaries_handle(_ sig: Int32) {
    if Temporaries.state[0] > 0 { Temporaries.state[1] = sig; return }
    Temporaries.removeAll()
    signal(sig, SIG_DFL)
    raise(sig)
}

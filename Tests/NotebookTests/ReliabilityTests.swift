import Foundation
import Testing
@testable import BookKit
@testable import Notebook
#if canImport(Glibc)
import Glibc
#endif

/// Issue 20: writers that never replace a device or a FIFO, axes that take any finite range,
/// and publishing that is all or nothing.
@Suite("Reliability: files, axes, publishing")
struct ReliabilityTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("notebook-rel-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Linux's dev_t of a small major and minor number.
    static func device(_ major: UInt64, _ minor: UInt64) -> dev_t { dev_t((major << 8) | minor) }

    static func fileType(_ path: String) -> mode_t? {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : nil
    }

    static func page(_ slug: String, number: Int, seed: UInt64 = 1, rows: Int = 1) -> (Page, Provenance) {
        let page = Page(slug: slug, number: number, title: "Chapter \(number)", summary: "A test page.")
        page.prose("Seed \(seed).")
        page.table(headers: ["k"], rows: (0..<rows).map { ["row \($0) of seed \(seed)"] }, caption: "Rows")
        let provenance = Provenance(commit: "test", dirty: false, commandLine: "test", seed: seed, parameters: [:],
                                    swiftVersion: "Swift", gslVersion: "GSL", openblas: "OpenBLAS", cores: 1,
                                    date: "2026-01-01T00:00:00Z", elapsedSeconds: 0)
        return (page, provenance)
    }

    // MARK: - Item 1: devices and FIFOs

    @Test("a character device the test makes with mknod is written through, never replaced by a regular file")
    func characterDevice() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = dir.appendingPathComponent("null")
        guard mknod(node.path, S_IFCHR | 0o666, Self.device(1, 3)) == 0 else {
            Issue.record("mknod failed (\(String(cString: strerror(errno)))): the test needs root")
            return
        }
        try AtomicFile.write("{}", to: node)
        #expect(Self.fileType(node.path) == S_IFCHR)
        let (page, provenance) = Self.page("report", number: 0)
        try Publisher.writePage(page, provenance: provenance, to: node)
        #expect(Self.fileType(node.path) == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["null"])
    }

    @Test("a FIFO is written through to its reader and stays a FIFO")
    func fifo() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = dir.appendingPathComponent("pipe")
        #expect(mkfifo(node.path, 0o666) == 0)
        let received = LockedData()
        let reader = Thread {
            if let h = FileHandle(forReadingAtPath: node.path) { received.set(h.readDataToEndOfFile()); try? h.close() }
        }
        reader.start()
        try AtomicFile.write("through the pipe", to: node)
        while !received.done { usleep(1000) }
        #expect(String(decoding: received.value, as: UTF8.self) == "through the pipe")
        #expect(Self.fileType(node.path) == S_IFIFO)
    }

    @Test("a block device, a folder, and a chapter's HTML that is a FIFO are refused with one reason; nothing changes")
    func refused() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let block = dir.appendingPathComponent("disk")
        if mknod(block.path, S_IFBLK | 0o600, Self.device(7, 200)) == 0 {
            #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write("x", to: block) }
            #expect(Self.fileType(block.path) == S_IFBLK)
        } else {
            Issue.record("mknod of a block device failed: the test needs root")
        }
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write("x", to: dir) }
        let out = dir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        #expect(mkfifo(out.appendingPathComponent("01-a.html").path, 0o666) == 0)
        let (page, provenance) = Self.page("01-a", number: 1)
        #expect(throws: AtomicFile.WriteError.self) { try Publisher.publish(page, provenance: provenance, to: out) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["01-a.html"])
        #expect(Self.fileType(out.appendingPathComponent("01-a.html").path) == S_IFIFO)
    }

    // MARK: - Item 2: axes over any finite range

    static let hostileRanges: [[Double]] = [
        [0, 5e-324], [5e-324, 1e-323], [1e-320, 2e-320], [-1e-310, 1e-310], [0.5, 0.1, exp(-744.4)],
        [-.greatestFiniteMagnitude, .greatestFiniteMagnitude], [1e307, 1e307], [.greatestFiniteMagnitude],
        [-.greatestFiniteMagnitude], [1e300, 1.7e308], [0, 1e-300], [1, 1 + 1e-15], [-744.4, 0], [5e-324],
    ]

    static func expectSane(_ a: Axis, covering values: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        let v = values.filter { $0.isFinite && (a.scale == .linear || $0 > 0) }
        #expect(a.lower.isFinite && a.upper.isFinite && a.lower < a.upper, "\(values): [\(a.lower), \(a.upper)]", sourceLocation: sourceLocation)
        #expect((1...50).contains(a.ticks.count) && a.ticks.allSatisfy(\.isFinite), "\(values): ticks \(a.ticks)", sourceLocation: sourceLocation)
        for x in v {
            let f = a.fraction(x)
            #expect(f.isFinite && f >= -1e-9 && f <= 1 + 1e-9, "\(values): fraction(\(x)) = \(f)", sourceLocation: sourceLocation)
        }
        for t in a.ticks {
            let label = a.tickLabel(t)
            #expect(!label.isEmpty && !label.contains("nan") && !label.contains("inf"), "\(values): label \(label)", sourceLocation: sourceLocation)
        }
    }

    @Test("linear and log axes over subnormal, huge and 744-nat ranges: finite bounds, ticks, fractions and labels")
    func hostileAxes() {
        for values in Self.hostileRanges {
            Self.expectSane(Axis(label: "x", covering: values), covering: values)
            Self.expectSane(Axis(label: "x", covering: values, includeZero: true), covering: values + [0])
            Self.expectSane(Axis(label: "x", scale: .log10, covering: values), covering: values)
        }
    }

    @Test("seeded random ranges of every magnitude give sane axes")
    func randomAxes() {
        var rng = SplitMix(seed: 20)
        for _ in 0..<2000 {
            func draw() -> Double {
                let bits = rng.next()
                let x = Double(bitPattern: bits & ~(0x7FF0_0000_0000_0000) | (UInt64(rng.next() % 2046) << 52))
                return rng.next() % 7 == 0 ? Double(bitPattern: bits >> 12) : x   // a subnormal now and then
            }
            let values = (0..<Int(1 + rng.next() % 3)).map { _ in draw() }
            Self.expectSane(Axis(label: "x", covering: values), covering: values)
            Self.expectSane(Axis(label: "x", scale: .log10, covering: values), covering: values)
        }
    }

    @Test("ordinary axes are unchanged: ticks at round numbers")
    func ordinaryAxes() {
        #expect(Axis(label: "x", covering: [0, 0.45]).ticks == [0, 0.1, 0.2, 0.3, 0.4, 0.5])
        #expect(Axis(label: "x", scale: .log10, covering: [0.002, 5e4]).ticks.first == 1e-3)
    }

    @Test("a plot over 10^-324 to 1 draws without NaN")
    func subnormalPlot() {
        let plot = LinePlot(title: "t", description: "d", xLabel: "x", yLabel: "y", yScale: .log10,
                            series: [Series("s", x: [0, 1, 2], y: [1, exp(-744.4), 1e-300], style: .points)])
        let svg = plot.svg().html
        #expect(!svg.contains("NaN") && !svg.contains("inf"))
    }

    // MARK: - Item 5: all or nothing

    static func contents(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
            out[name] = try Data(contentsOf: dir.appendingPathComponent(name))
        }
        return out
    }

    @Test("on a full disk (a small tmpfs) the previous report stays as it was and the message says ENOSPC")
    func fullDisk() throws {
        let dir = try Self.folder()
        defer { umount(dir.path); try? FileManager.default.removeItem(at: dir) }
        guard "size=256k".withCString({ mount("tmpfs", dir.path, "tmpfs", 0, $0) }) == 0 else {
            print("skipped: cannot mount a tmpfs here (\(String(cString: strerror(errno))))")
            return
        }
        let (small, p1) = Self.page("01-a", number: 1, seed: 1)
        try Publisher.publish(small, provenance: p1, to: dir)
        let before = try Self.contents(dir)
        let (big, p2) = Self.page("01-a", number: 1, seed: 2, rows: 20_000)
        do {
            try Publisher.publish(big, provenance: p2, to: dir)
            Issue.record("publishing 20000 rows into 256 kB did not fail")
        } catch {
            #expect("\(error)".contains(String(cString: strerror(ENOSPC))), "\(error)")
        }
        #expect(try Self.contents(dir) == before)
    }

    @Test("a journal left by a publish killed between its renames is finished by the next index build")
    func journalRecovery() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (old, p1) = Self.page("01-a", number: 1, seed: 1)
        try Publisher.publish(old, provenance: p1, to: dir)
        // What a SIGKILL after the first rename leaves: the new JSON in place, the HTML and the
        // index still temporaries named by the journal.
        let (new, p2) = Self.page("01-a", number: 1, seed: 2)
        let json = try Report(page: new, provenance: p2).json()
        let html = Data(Renderer.page(new, provenance: p2).html.utf8)
        let index = Data(Renderer.index([Report(page: new, provenance: p2)]).html.utf8)
        try json.write(to: dir.appendingPathComponent("01-a.json"))
        try html.write(to: dir.appendingPathComponent(".01-a.html.999999.1.tmp"))
        try index.write(to: dir.appendingPathComponent(".index.html.999999.2.tmp"))
        let journal = [[".01-a.json.999999.0.tmp", "01-a.json"], [".01-a.html.999999.1.tmp", "01-a.html"], [".index.html.999999.2.tmp", "index.html"]]
        try JSONSerialization.data(withJSONObject: journal).write(to: dir.appendingPathComponent(".publish.journal"))
        try Publisher.writeIndex(in: dir)
        #expect(try Data(contentsOf: dir.appendingPathComponent("01-a.html")) == html)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["01-a.html", "01-a.json", "index.html"])
    }

    // MARK: - Item 8: two chapters at once

    @Test("chapters published at once into one folder all end up in the index")
    func concurrentPublishers() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let failures = LockedData()
        DispatchQueue.concurrentPerform(iterations: 6) { k in
            for round in 0..<5 {
                let (page, provenance) = Self.page("0\(k + 1)-c", number: k + 1, seed: UInt64(round))
                do { try Publisher.publish(page, provenance: provenance, to: dir) } catch { failures.set(Data("\(error)".utf8)) }
            }
        }
        #expect(failures.value.isEmpty, "\(String(decoding: failures.value, as: UTF8.self))")
        let index = try String(contentsOf: dir.appendingPathComponent("index.html"), encoding: .utf8)
        for k in 1...6 { #expect(index.contains("href=\"0\(k)-c.html\"")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }.isEmpty)
    }

    // MARK: - Item 10: temporaries of killed runs

    @Test("temporaries a dead process left beside a target are deleted by the next write; a live one's are kept")
    func staleTemporaries() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead += 1 }
        let stale = ".x.json.\(dead).1a2b.tmp", live = ".x.json.\(getpid()).3c4d.tmp", other = ".y.json.\(dead).5e6f.tmp"
        for name in [stale, live, other] { try Data("partial".utf8).write(to: dir.appendingPathComponent(name)) }
        try AtomicFile.write("{}", to: dir.appendingPathComponent("x.json"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == [live, other, "x.json"].sorted())
    }

    // MARK: - Items 13 and 15: the index links safe slugs, once

    @Test("a planted JSON with a javascript: chapter, a copied JSON and a JSON without its page are not linked")
    func safeIndex() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (page, provenance) = Self.page("01-a", number: 1)
        try Publisher.publish(page, provenance: provenance, to: dir)
        var planted = Report(page: page, provenance: provenance)
        planted.chapter = "javascript:alert(1)//"
        try planted.json().write(to: dir.appendingPathComponent("javascript:alert(1)__.json"))
        try Data(contentsOf: dir.appendingPathComponent("01-a.json")).write(to: dir.appendingPathComponent("copy.json"))
        try FileManager.default.copyItem(at: dir.appendingPathComponent("01-a.html"), to: dir.appendingPathComponent("copy.html"))
        let (orphan, p2) = Self.page("02-b", number: 2)
        try Report(page: orphan, provenance: p2).json().write(to: dir.appendingPathComponent("02-b.json"))
        try Publisher.writeIndex(in: dir)
        let index = try String(contentsOf: dir.appendingPathComponent("index.html"), encoding: .utf8)
        #expect(!index.contains("javascript"))
        // Listed once in the table of chapters (the reading paths above it link chapters too).
        let table = index.components(separatedBy: "<h2>Chapters</h2>").last ?? index
        #expect(table.components(separatedBy: "href=\"01-a.html\"").count == 2)
        #expect(!index.contains("02-b.html") && !index.contains("copy.html"))
    }

    @Test("--output \"\" is refused; an overlong --output path is refused before any folder is made")
    func outputPaths() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let chapter = Chapter(slug: "01-a", number: 1, title: "A", summary: "a")
        let empty = try ChapterOptions.parse(["--output", ""])
        #expect(throws: InputError.self) { try chapter.run(options: empty, parameters: []) { _, _ in } }
        let long = (0..<2000).map { _ in "d" }.joined(separator: "/") + "/" + String(repeating: "e", count: 300)
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.prepareFolder(dir.appendingPathComponent(long)) }
        let deep = (0..<2100).map { _ in "d" }.joined(separator: "/")
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.prepareFolder(dir.appendingPathComponent(deep)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    // MARK: - Items 6, 11, 13 and 16 (BookKit)

    @Test("messages show control characters escaped; negative option values are values")
    func messagesAndArguments() {
        #expect(StandardStreams.visible("bad \u{1B}[31mred\u{7} column") == "bad \\u{1B}[31mred\\u{7} column")
        #expect(CommandLineArguments.normalised(["--beta", "-1", "--seed", "2", "-x", "--quick", "-0.5e-3"])
                == ["--beta=-1", "--seed", "2", "-x", "--quick=-0.5e-3"])
        #expect(CommandLineArguments.normalised(["--beta", "-inf", "--count", "--", "--x", "-1"]) == ["--beta=-inf", "--count", "--", "--x", "-1"])
    }

    @Test("provenance names the commit of the source tree the program was built from, quoted command lines")
    func provenanceSource() throws {
        let root = try #require(Environment.sourceRoot)
        let expected = Environment.run(["git", "rev-parse", "--short=12", "HEAD"], in: root)
        #expect(Environment.gitState().commit == (expected ?? "unknown"))
        // A folder outside any repository (or inside another one) is never asked.
        let other = try Self.folder()
        defer { try? FileManager.default.removeItem(at: other) }
        _ = Environment.run(["git", "init", "-q"], in: other)
        #expect(Environment.gitState(in: other).commit == "unknown")
    }

    @Test("an unpaired $ in prose is kept as text")
    func unpairedDollar() {
        #expect(Renderer.inlineMath("costs $5").html == "costs $5")
        #expect(Renderer.inlineMath("$x$ costs $5").html.hasSuffix(" costs $5"))
        #expect(!Renderer.inlineMath("$x$ and $y$").html.contains("$"))
    }
}

/// A value handed from a worker thread to the test.
final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    func set(_ d: Data) { lock.lock(); data += d; finished = true; lock.unlock() }
    var value: Data { lock.lock(); defer { lock.unlock() }; return data }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return finished }
}

/// SplitMix64, for seeded test inputs without GSL.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e3779b97f4a7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58476d1ce4e5b9
        z = (z ^ (z >> 27)) &* 0x94d049bb133111eb
        return z ^ (z >> 31)
    }
}

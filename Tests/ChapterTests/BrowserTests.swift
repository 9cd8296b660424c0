import Foundation
import Testing

/// Renders every chapter's report, and the index, in headless Chromium at 390, 1440 and 1920
/// CSS px, in light and dark mode, and printed to PDF, and measures what a reader would see:
/// no box wider than the page or cut off (tables, equations, plots, text), no equation cut at
/// its top or bottom, no TeX source left in the text, no text under 11 px, plot colours that
/// stand out, every check's verdict on screen, and in print no heading alone at the bottom of a
/// page and folded tables printed open. Screenshots of every page at the three widths (light
/// and dark) and the PDFs are written to `.build/browser-screenshots/` for a person to look at.
///
/// The measuring script (`BrowserProbe`) goes into a temporary copy of each page only.
@Suite("Reports in a real browser", .serialized)
struct BrowserTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let widths = [390, 1440, 1920]

    /// Every chapter: (folder, product), from the Chapters/ folder (product = folder without "NN-").
    static var chapters: [(folder: String, product: String)] {
        let dirs = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Chapters").path)) ?? []
        return dirs.sorted().filter { $0.first?.isNumber == true }.map { ($0, String($0.dropFirst(3))) }
    }

    static func chromium() -> String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func pdftotext() -> String? {
        ["/usr/bin/pdftotext", "/usr/local/bin/pdftotext"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a program to completion; its standard output (stderr is dropped).
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = arguments
        let scratch = try ChapterRunner.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try out.close()
        return String(decoding: try Data(contentsOf: outURL), as: UTF8.self)
    }

    static func browser(_ arguments: [String], dark: Bool = false) throws -> String {
        var flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files",
                     "--no-first-run", "--disable-extensions", "--virtual-time-budget=5000"]
        flags.append("--blink-settings=preferredColorScheme=\(dark ? 0 : 1)")
        return try run(chromium()!, flags + arguments)
    }

    /// Measures one page at every width, in one scheme.
    static func measure(_ page: URL, dark: Bool) throws -> [BrowserProbe.Layout] {
        let folder = page.deletingLastPathComponent()
        let html = try String(contentsOf: page, encoding: .utf8)
        let probed = folder.appendingPathComponent(".probe-" + page.lastPathComponent)
        let harness = folder.appendingPathComponent(".harness-" + page.lastPathComponent)
        try html.replacingOccurrences(of: "</body>", with: BrowserProbe.script + "</body>").write(to: probed, atomically: true, encoding: .utf8)
        try BrowserProbe.harness(for: probed, widths: widths).write(to: harness, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: probed); try? FileManager.default.removeItem(at: harness) }
        let layouts = try BrowserProbe.layouts(inDump: try browser(["--window-size=2000,1000", "--dump-dom", harness.absoluteString], dark: dark))
        guard layouts.count == widths.count else {
            throw ChapterRunner.RunnerError(message: "the browser measured \(page.lastPathComponent) at \(layouts.count) of \(widths.count) widths")
        }
        return layouts.sorted { $0.width < $1.width }
    }

    /// A screenshot of the whole page (up to 16000 px tall) at one width.
    static func screenshot(_ page: URL, width: Int, height: Int, dark: Bool, to shot: URL) throws {
        let h = min(max(height, 600), 16000)
        if width >= 500 {
            _ = try browser(["--window-size=\(width),\(h)", "--screenshot=\(shot.path)", page.absoluteString], dark: dark)
        } else {
            // Chromium's headless window is at least 500 px wide: a frame of the width instead.
            let frame = page.deletingLastPathComponent().appendingPathComponent(".frame-" + page.lastPathComponent)
            try BrowserProbe.harness(for: page, widths: [width], height: h).write(to: frame, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: frame) }
            _ = try browser(["--window-size=500,\(h)", "--screenshot=\(shot.path)", frame.absoluteString], dark: dark)
        }
    }

    /// The text of each printed page, from the PDF Chromium prints.
    static func printedPages(_ page: URL, pdf: URL) throws -> [String] {
        _ = try browser(["--no-pdf-header-footer", "--print-to-pdf=\(pdf.path)", page.absoluteString])
        let text = try run(pdftotext()!, ["-layout", pdf.path, "-"])
        var pages = text.components(separatedBy: "\u{0C}")
        if pages.last?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty == true { pages.removeLast() }
        return pages
    }

    static func squeezed(_ s: String) -> String { s.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ") }

    @Test("every page reads well at 390, 1440 and 1920 px, light and dark, and printed")
    func renderEveryPage() throws {
        try #require(Self.chromium() != nil, "Chromium is not installed (scripts/setup installs it)")
        try #require(Self.pdftotext() != nil, "pdftotext is not installed (scripts/setup installs poppler-utils)")
        // KLBAYES_BROWSER_PAGES=<folder> measures the pages already in a folder (Output/, say)
        // instead of running every chapter first.
        let given = ProcessInfo.processInfo.environment["KLBAYES_BROWSER_PAGES"].map { URL(fileURLWithPath: $0) }
        let folder = try given ?? ChapterRunner.temporaryFolder()
        defer { if given == nil { try? FileManager.default.removeItem(at: folder) } }
        let shots = Self.packageRoot.appendingPathComponent(".build/browser-screenshots")
        try? FileManager.default.removeItem(at: shots)
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        print("BrowserTests: screenshots and PDFs in \(shots.path)")
        #expect(!Self.chapters.isEmpty)
        for chapter in Self.chapters where given == nil {
            let result = try ChapterRunner.run(chapter.product, ["--quick", "--output", folder.path])
            #expect(result.status == 0, "\(chapter.product) exited \(result.status)")
            let json = try Data(contentsOf: folder.appendingPathComponent(chapter.folder + ".json"))
            validateReportJSON(json)
        }
        let pages = (Self.chapters.map { folder.appendingPathComponent($0.folder + ".html") } + [folder.appendingPathComponent("index.html")])
            .filter { given == nil || FileManager.default.fileExists(atPath: $0.path) }
            .filter { page in ProcessInfo.processInfo.environment["KLBAYES_BROWSER_ONLY"].map { page.lastPathComponent.contains($0) } ?? true }
        for page in pages {
            let stem = page.deletingPathExtension().lastPathComponent
            let isIndex = stem == "index"
            var headings: [String] = [], folded: [String] = []
            for dark in [false, true] {
                for layout in try Self.measure(page, dark: dark) {
                    let name = "\(page.lastPathComponent) at \(layout.width) px\(dark ? ", dark" : "")"
                    #expect(layout.dark == dark, "\(name): the colour scheme was not applied")
                    #expect(layout.textLength > 200, "\(name) is blank")
                    #expect(layout.scrollWidth <= layout.width + 1, "\(name) scrolls sideways (\(layout.scrollWidth) > \(layout.width))")
                    #expect(layout.overflowing.isEmpty, "\(name): cut off or wider than the page: \(layout.overflowing)")
                    #expect(layout.clippedVertically.isEmpty, "\(name): equations cut at top or bottom: \(layout.clippedVertically)")
                    #expect(layout.rawTeX.isEmpty, "\(name): TeX source in the text: \(layout.rawTeX)")
                    #expect(layout.smallText.isEmpty, "\(name): text under 11 px: \(layout.smallText)")
                    #expect(layout.colours.isEmpty, "\(name): colours: \(layout.colours)")
                    #expect(layout.verdictsHidden == 0, "\(name): \(layout.verdictsHidden) of \(layout.verdicts) verdicts off screen")
                    if !isIndex {
                        #expect(layout.math > 0, "\(name) has no equation")
                        #expect(layout.mathZero == 0, "\(name): \(layout.mathZero) equations not laid out")
                        #expect(layout.fractions == 0 || layout.fractionsFlat == 0, "\(name): fractions not laid out as MathML")
                        #expect(layout.plots > 0, "\(name) has no plot")
                        #expect(layout.plotsEmpty == 0, "\(name): \(layout.plotsEmpty) empty plots")
                    }
                    let shot = shots.appendingPathComponent("\(stem)-\(layout.width)\(dark ? "-dark" : "").png")
                    try Self.screenshot(page, width: layout.width, height: layout.height, dark: dark, to: shot)
                    #expect(FileManager.default.fileExists(atPath: shot.path), "no screenshot of \(name)")
                    headings = layout.headings; folded = layout.folded
                }
            }
            // Printed: no heading is the last line of a page, and folded tables print open.
            let printed = try Self.printedPages(page, pdf: shots.appendingPathComponent("\(stem).pdf"))
            #expect(!printed.isEmpty, "\(page.lastPathComponent) printed nothing")
            for (k, text) in printed.enumerated().dropLast() {
                guard let last = text.split(separator: "\n").map({ Self.squeezed(String($0)) }).last(where: { !$0.isEmpty }) else { continue }
                let orphan = headings.map(Self.squeezed).first { $0 == last || ($0.hasSuffix(last) && last.count >= 8) }
                #expect(orphan == nil, "\(page.lastPathComponent): printed page \(k + 1) ends with the heading \"\(orphan ?? "")\"")
            }
            let all = printed.joined().filter { !$0.isWhitespace }
            for cell in folded {
                #expect(all.contains(cell.filter { !$0.isWhitespace }), "\(page.lastPathComponent): a folded table is not printed (\"\(cell)\" missing)")
            }
            if isIndex { #expect(printed.count <= 2, "the index prints on \(printed.count) pages") }
        }
    }
}

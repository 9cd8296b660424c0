import Foundation
import Testing

/// Renders every chapter's report in headless Chromium and measures the layout: the page is not
/// blank, every equation is laid out as MathML (a fraction's numerator sits above its
/// denominator), every plot is drawn, and nothing overflows the page at desktop or phone width.
///
/// The measuring script is injected into a temporary copy of each page only; the reports
/// themselves carry no script. Screenshots go to a temporary folder whose path is printed.
@Suite("Reports in a real browser", .serialized)
struct BrowserTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every chapter: (folder, product), from the Chapters/ folder (product = folder without "NN-").
    static var chapters: [(folder: String, product: String)] {
        let dirs = (try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("Chapters").path)) ?? []
        return dirs.sorted().filter { $0.first?.isNumber == true }.map { ($0, String($0.dropFirst(3))) }
    }

    static let probe = """
    <script>
    (function () {
      const out = {};
      const main = document.querySelector('main') || document.body;
      out.textLength = (main.innerText || '').trim().length;
      out.innerWidth = window.innerWidth;
      out.scrollWidth = document.documentElement.scrollWidth;
      // Only what is displayed: a page carries a wide and a narrow drawing of each plot (and of
      // some equations), and CSS shows one of them for the width.
      const shown = e => e.getClientRects().length > 0;
      const maths = Array.from(document.querySelectorAll('math')).filter(shown);
      out.math = maths.length;
      out.mathZero = maths.filter(m => { const r = m.getBoundingClientRect(); return r.width < 1 || r.height < 1; }).length;
      const fracs = Array.from(document.querySelectorAll('mfrac')).filter(shown);
      out.fractions = fracs.length;
      out.fractionsFlat = fracs.filter(f => f.children.length !== 2 ||
        f.children[0].getBoundingClientRect().bottom > f.children[1].getBoundingClientRect().top + 1).length;
      const svgs = Array.from(document.querySelectorAll('svg.plot')).filter(shown);
      out.plots = svgs.length;
      out.plotsEmpty = svgs.filter(s => { const r = s.getBoundingClientRect();
        return r.width < 100 || r.height < 50 || s.querySelectorAll('path, circle, rect').length < 2; }).length;
      // Text that overflows its box: cells, paragraphs, headings, captions, legends (scrolling
      // containers such as .scroll and .equation are allowed to scroll).
      out.overflowing = Array.from(document.querySelectorAll('p, h1, h2, h3, li, figcaption, aside, dd, .lede, .summary'))
        .filter(e => e.scrollWidth > e.clientWidth + 2).map(e => e.tagName + ': ' + (e.innerText || '').slice(0, 60));
      const pre = document.createElement('pre');
      pre.id = 'layout-probe';
      pre.textContent = JSON.stringify(out);
      document.body.appendChild(pre);
    })();
    </script>
    """

    struct Layout: Decodable {
        let textLength: Int, innerWidth: Int, scrollWidth: Int
        let math: Int, mathZero: Int, fractions: Int, fractionsFlat: Int, plots: Int, plotsEmpty: Int
        let overflowing: [String]
    }

    static func chromium() -> String? {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        return nil
    }

    static func runBrowser(_ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: chromium()!)
        p.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000"] + arguments
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
        return try String(contentsOf: outURL, encoding: .utf8)
    }

    static func measure(_ page: URL, width: Int) throws -> Layout {
        let html = try String(contentsOf: page, encoding: .utf8)
        let probed = page.deletingLastPathComponent().appendingPathComponent(".probe-\(width)-" + page.lastPathComponent)
        try html.replacingOccurrences(of: "</body>", with: probe + "</body>").write(to: probed, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: probed) }
        let dom = try runBrowser(["--window-size=\(width),900", "--dump-dom", probed.absoluteString])
        guard let start = dom.range(of: "<pre id=\"layout-probe\">"), let end = dom.range(of: "</pre>", range: start.upperBound..<dom.endIndex) else {
            throw ChapterRunner.RunnerError(message: "the browser produced no layout report for \(page.lastPathComponent)")
        }
        let json = String(dom[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        return try JSONDecoder().decode(Layout.self, from: Data(json.utf8))
    }

    @Test("every chapter's page and the index render with equations, plots and no overflow")
    func renderEveryPage() throws {
        try #require(Self.chromium() != nil, "Chromium is not installed (scripts/setup installs it)")
        let folder = try ChapterRunner.temporaryFolder()
        let shots = FileManager.default.temporaryDirectory.appendingPathComponent("klbayes-screenshots-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: shots, withIntermediateDirectories: true)
        print("BrowserTests: screenshots in \(shots.path)")
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(!Self.chapters.isEmpty)
        for chapter in Self.chapters {
            let result = try ChapterRunner.run(chapter.product, ["--quick", "--output", folder.path])
            #expect(result.status == 0, "\(chapter.product) exited \(result.status)")
            let json = try Data(contentsOf: folder.appendingPathComponent(chapter.folder + ".json"))
            validateReportJSON(json)
        }
        let pages = Self.chapters.map { folder.appendingPathComponent($0.folder + ".html") } + [folder.appendingPathComponent("index.html")]
        for page in pages {
            let isIndex = page.lastPathComponent == "index.html"
            for width in [1280, 420] {
                let layout = try Self.measure(page, width: width)
                let name = "\(page.lastPathComponent) at \(width)px"
                #expect(layout.textLength > 200, "\(name) is blank")
                #expect(layout.scrollWidth <= layout.innerWidth + 1, "\(name) scrolls sideways (\(layout.scrollWidth) > \(layout.innerWidth))")
                #expect(layout.overflowing.isEmpty, "\(name): text overflows: \(layout.overflowing)")
                if !isIndex {
                    #expect(layout.math > 0, "\(name) has no equation")
                    #expect(layout.mathZero == 0, "\(name): \(layout.mathZero) equations not laid out")
                    #expect(layout.fractions == 0 || layout.fractionsFlat == 0, "\(name): fractions not laid out as MathML")
                    #expect(layout.plots > 0, "\(name) has no plot")
                    #expect(layout.plotsEmpty == 0, "\(name): \(layout.plotsEmpty) empty plots")
                }
            }
            let shot = shots.appendingPathComponent(page.deletingPathExtension().lastPathComponent + ".png")
            _ = try Self.runBrowser(["--window-size=1280,4000", "--screenshot=\(shot.path)", page.absoluteString])
            #expect(FileManager.default.fileExists(atPath: shot.path))
        }
    }
}

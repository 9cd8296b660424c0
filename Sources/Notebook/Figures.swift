/// The data behind a figure or a table of a page, numbered in reading order, for the JSON twin:
/// a reader can re-plot a figure or re-read a table without scraping the page.
public struct FigureRecord: Codable, Sendable, Equatable {
    public struct Series: Codable, Sendable, Equatable {
        public let name: String
        public let x: [Double]
        public let y: [Double]
        public init(name: String, x: [Double], y: [Double]) { self.name = name; self.x = x; self.y = y }
    }
    /// "Figure 3" is number 3; its anchor on the page is `figure-3`.
    public var number: Int
    /// The name prose cites it by (`@fig:label`), if it has one.
    public let label: String?
    public let caption: String
    /// "line" (series of (x, y) points) or "bar" (one value a category a series; x is the
    /// category's position 0, 1, ... and `categories` names them).
    public let kind: String
    public let xLabel: String
    public let yLabel: String
    public let categories: [String]?
    public let series: [Series]
    /// Horizontal and vertical reference lines of a line plot: label and value.
    public let references: [String: Double]?

    public init(label: String?, caption: String, kind: String, xLabel: String, yLabel: String, categories: [String]?,
                series: [Series], references: [String: Double]?) {
        number = 0; self.label = label; self.caption = caption; self.kind = kind; self.xLabel = xLabel; self.yLabel = yLabel
        self.categories = categories; self.series = series; self.references = references
    }
}

/// A table of a page, as data.
public struct TableRecord: Codable, Sendable, Equatable {
    /// "Table 2" is number 2; its anchor on the page is `table-2`.
    public var number: Int
    public let label: String?
    public let caption: String
    public let headers: [String]
    public let rows: [[String]]
}

/// A work a page names, listed at the end of the page with a link, and linked wherever the
/// page's text names it (`mention`, e.g. "Ziegler et al.").
public struct Reference: Codable, Sendable, Equatable {
    /// The anchor on the page is `ref-<key>`.
    public let key: String
    /// How the page's text names the work; every occurrence outside mathematics and code links
    /// to the entry.
    public let mentions: [String]
    /// The full reference: authors, year, title, venue.
    public let text: String
    public let url: String
    public init(key: String, mentions: [String], text: String, url: String) {
        self.key = key; self.mentions = mentions; self.text = text; self.url = url
    }
}

/// A link to another page of the book (previous and next chapters).
public struct PageLink: Sendable, Equatable {
    public let href: String
    public let label: String
    public init(href: String, label: String) { self.href = href; self.label = label }
}

/// What the index page of a folder of reports says before its table of chapters: the book's
/// title, one line, the argument, and the ways through it. Supplied by the book (BookKit);
/// Notebook itself knows no book.
public struct BookFront: Sendable {
    public let title: String
    /// One line under the title; where it names `work.title`, that is linked to `work.url`.
    public let lede: String
    public let work: (title: String, url: String)?
    /// The argument in one paragraph.
    public let argument: String
    /// Reading paths: who reads, and the chapter numbers in order.
    public let paths: [(reader: String, chapters: [Int])]
    public init(title: String, lede: String = "", work: (title: String, url: String)? = nil, argument: String = "",
                paths: [(reader: String, chapters: [Int])] = []) {
        self.title = title; self.lede = lede; self.work = work; self.argument = argument; self.paths = paths
    }
    /// A folder of reports that belongs to no book.
    public static let untitled = BookFront(title: "Reports")
}

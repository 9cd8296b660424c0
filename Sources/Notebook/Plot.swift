/// Plots drawn as inline SVG: no script, readable in print and in dark mode (colours come
/// from CSS variables), with `<title>` and `<desc>` for screen readers.
public struct Series: Sendable {
    public enum Style: Sendable { case line, points, lineAndPoints, dashed }
    public let name: String
    public let x: [Double]
    public let y: [Double]
    public let style: Style
    public init(_ name: String, x: [Double], y: [Double], style: Style = .line) {
        precondition(x.count == y.count, "series \(name): x and y differ in length")
        self.name = name; self.x = x; self.y = y; self.style = style
    }
}

/// A horizontal or vertical reference line with a label (e.g. y = β log Z).
public struct ReferenceLine: Sendable {
    public enum Orientation: Sendable { case horizontal, vertical }
    public let orientation: Orientation
    public let value: Double
    public let label: String
    public init(_ orientation: Orientation, at value: Double, label: String) {
        self.orientation = orientation; self.value = value; self.label = label
    }
}

/// Colour-blind-safe palette (Okabe and Ito), referenced through CSS variables.
enum Palette {
    static let count = 7
    static func color(_ i: Int) -> String { "var(--series-\(i % count))" }
}

/// A kind of plot. A conforming type says what it draws inside a frame and what its legend and
/// axis titles are; the HTML around it (the titles as MathML, the wide and narrow drawings, the
/// legend) and the JSON record are shared, so a new kind of plot is one struct.
public protocol Figure: Sendable {
    var title: String { get }
    var description: String { get }
    var xTitle: String { get }
    var yTitle: String { get }
    var legend: [LegendEntry] { get }
    /// The SVG drawing in the given frame (`PlotFrame.svg`).
    func drawing(in frame: PlotFrame) -> Markup
    /// The figure's data for the JSON twin.
    func record(label: String?, caption: String) -> FigureRecord
}

extension Figure {
    /// The figure's body: y-axis title, the wide and narrow drawings, x-axis title, legend.
    public func svg() -> Markup {
        Markup("<div class=\"plot-box\"><p class=\"y-title\">\(Renderer.inlineMath(yTitle))</p>")
            + Markup("<div class=\"plot-wide\">\(drawing(in: .wide))</div><div class=\"plot-narrow\">\(drawing(in: .narrow))</div>")
            + Markup("<p class=\"x-title\">\(Renderer.inlineMath(xTitle))</p>\(LegendEntry.html(legend))</div>")
    }
}

/// The drawing's size in SVG units: a wide form for screens wider than 40 rem and paper, a
/// narrow one for phones, so that tick labels stay at least 11 px on every screen; and what
/// every drawing shares: its opening, label spacing, text widths.
public struct PlotFrame: Sendable {
    public let width: Double, height: Double, left: Double, right: Double, top: Double, bottom: Double, ticks: Int
    public var plotWidth: Double { width - left - right }
    public var plotHeight: Double { height - top - bottom }
    public static let wide = PlotFrame(width: 640, height: 340, left: 58, right: 14, top: 12, bottom: 28, ticks: 6)
    public static let narrow = PlotFrame(width: 340, height: 260, left: 50, right: 10, top: 10, bottom: 26, ticks: 4)

    public init(width: Double, height: Double, left: Double, right: Double, top: Double, bottom: Double, ticks: Int) {
        self.width = width; self.height = height; self.left = left; self.right = right; self.top = top; self.bottom = bottom
        self.ticks = ticks
    }

    /// The same frame with `extra` units more room below the plot (for slanted labels).
    public func withRoomBelow(_ extra: Double) -> PlotFrame {
        PlotFrame(width: width, height: height + extra, left: left, right: right, top: top, bottom: bottom + extra, ticks: ticks)
    }

    /// A drawing in this frame: the SVG element with its title and description for screen
    /// readers, then `content` (its elements built with `Markup.element` / `emptyElement`).
    public func svg(title: String, description: String, _ content: Markup) -> Markup {
        open(title: title, description: description) + content + Markup("</svg>")
    }

    /// The SVG's opening, with the title and description for screen readers.
    func open(title: String, description: String) -> Markup {
        Markup("<svg class=\"plot\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">")
            + Markup("<title>\(PlainMath.text(title))</title><desc>\(PlainMath.text(description))</desc>")
    }

    /// The width of a tick label in SVG units at the tick font (11 px DejaVu Sans, about 0.6 em a glyph).
    public static func textWidth(_ s: String) -> Double { Double(s.count) * 6.8 }

    /// Show every n-th label so that neighbouring labels, `spacing` apart, keep a gap.
    public static func labelStride(_ labels: [String], spacing: Double) -> Int {
        let widest = labels.map(textWidth).max() ?? 0
        guard spacing > 0 else { return 1 }
        return max(1, Int(((widest + 8) / spacing).rounded(.up)))
    }
}

public struct LinePlot: Figure {
    public let title: String
    public let description: String
    public let xAxis: Axis
    public let yAxis: Axis
    public let series: [Series]
    public let references: [ReferenceLine]

    public init(title: String, description: String, xLabel: String, yLabel: String,
                xScale: Axis.Scale = .linear, yScale: Axis.Scale = .linear,
                series: [Series], references: [ReferenceLine] = [], yIncludesZero: Bool = false) {
        self.title = title
        self.description = description
        self.series = series
        self.references = references
        let xs = series.flatMap(\.x) + references.filter { $0.orientation == .vertical }.map(\.value)
        let ys = series.flatMap(\.y) + references.filter { $0.orientation == .horizontal }.map(\.value)
        xAxis = Axis(label: xLabel, scale: xScale, covering: xs)
        yAxis = Axis(label: yLabel, scale: yScale, covering: ys, includeZero: yIncludesZero)
    }

    public var xTitle: String { xAxis.label }
    public var yTitle: String { yAxis.label }

    public func record(label: String?, caption: String) -> FigureRecord {
        FigureRecord(label: label, caption: caption, kind: "line", xLabel: xAxis.label, yLabel: yAxis.label, categories: nil,
                     series: series.map { FigureRecord.Series(name: $0.name, x: $0.x, y: $0.y) },
                     references: references.isEmpty ? nil
                         : Dictionary(references.map { ($0.label, $0.value) }, uniquingKeysWith: { a, _ in a }))
    }

    public var legend: [LegendEntry] {
        var items: [LegendEntry] = []
        for (k, s) in series.enumerated() {
            let twin = series[..<k].first { Self.coincide($0, s, scale: yAxis) }
            items.append(LegendEntry(name: s.name, style: .series(k, s.style), note: twin.map { "coincides with \($0.name) at this scale" }))
        }
        for r in references where r.value.isFinite { items.append(LegendEntry(name: r.label, style: .reference, note: nil)) }
        return items
    }

    /// Two series that would be drawn on top of each other (same x, y within 0.2% of the axis).
    static func coincide(_ a: Series, _ b: Series, scale: Axis) -> Bool {
        guard a.x.count == b.x.count, a.x.count > 1, a.x == b.x else { return false }
        let span = scale.scale == .linear ? scale.upper - scale.lower : _log10(scale.upper) - _log10(scale.lower)
        for (u, v) in zip(a.y, b.y) {
            let d = scale.scale == .linear ? Swift.abs(u - v) : (u > 0 && v > 0 ? Swift.abs(_log10(u) - _log10(v)) : (u == v ? 0 : .infinity))
            if !(d <= 0.002 * span) { return false }
        }
        return true
    }

    public func drawing(in fr: PlotFrame) -> Markup {
        let pw = fr.plotWidth, ph = fr.plotHeight
        let xa = xAxis.retick(fr.ticks), ya = yAxis.retick(fr.ticks)
        func px(_ x: Double) -> Double { fr.left + xa.fraction(x) * pw }
        func py(_ y: Double) -> Double { fr.top + (1 - ya.fraction(y)) * ph }
        func ok(_ x: Double, _ y: Double) -> Bool {
            x.isFinite && y.isFinite && (xa.scale == .linear || x > 0) && (ya.scale == .linear || y > 0)
        }
        var out = fr.open(title: title, description: description)
        // Grid and ticks; x labels thinned out so that neighbours never touch.
        let xLabels = xa.ticks.map { xa.tickLabel($0) }
        let every = PlotFrame.labelStride(xLabels, spacing: pw / Double(max(xa.ticks.count - 1, 1)))
        for (n, t) in xa.ticks.enumerated() {
            let x = f(px(t))
            out += Markup("<line class=\"grid\" x1=\"\(x)\" y1=\"\(f(fr.top))\" x2=\"\(x)\" y2=\"\(f(fr.top + ph))\"/>")
            if n % every == 0 {
                out += Markup("<text class=\"tick\" x=\"\(x)\" y=\"\(f(fr.top + ph + 16))\" text-anchor=\"middle\">\(xLabels[n])</text>")
            }
        }
        for t in ya.ticks {
            let y = f(py(t))
            out += Markup("<line class=\"grid\" x1=\"\(f(fr.left))\" y1=\"\(y)\" x2=\"\(f(fr.left + pw))\" y2=\"\(y)\"/>")
            out += Markup("<text class=\"tick\" x=\"\(f(fr.left - 5))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(ya.tickLabel(t))</text>")
        }
        out += Markup("<rect class=\"frame\" x=\"\(f(fr.left))\" y=\"\(f(fr.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/>")
        // Reference lines (named in the legend, not on the plot, so no label sits on the data).
        for r in references where r.value.isFinite {
            if r.orientation == .horizontal {
                let y = f(py(r.value))
                out += Markup("<line class=\"reference\" x1=\"\(f(fr.left))\" y1=\"\(y)\" x2=\"\(f(fr.left + pw))\" y2=\"\(y)\"><title>\(PlainMath.text(r.label))</title></line>")
            } else {
                let x = f(px(r.value))
                out += Markup("<line class=\"reference\" x1=\"\(x)\" y1=\"\(f(fr.top))\" x2=\"\(x)\" y2=\"\(f(fr.top + ph))\"><title>\(PlainMath.text(r.label))</title></line>")
            }
        }
        // Series.
        for (k, s) in series.enumerated() {
            let color = Palette.color(k)
            let pts = zip(s.x, s.y).filter { ok($0.0, $0.1) }.map { (px($0.0), py($0.1)) }
            if s.style != .points, pts.count > 1 {
                let d = pts.enumerated().map { ($0.offset == 0 ? "M" : "L") + f($0.element.0) + " " + f($0.element.1) }.joined()
                let dash = s.style == .dashed ? Markup(" stroke-dasharray=\"6 4\"") : .empty
                out += Markup("<path class=\"series\" d=\"\(d)\" stroke=\"\(color)\"\(dash)/>")
            }
            if s.style == .points || s.style == .lineAndPoints || pts.count == 1 {
                for p in pts { out += Markup("<circle cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"2.5\" fill=\"\(color)\"/>") }
            }
        }
        return out + Markup("</svg>")
    }
}

/// Side-by-side bars: one group per category (outcome), one bar per series (distribution).
public struct BarChart: Figure {
    public let title: String
    public let description: String
    public let categories: [String]
    public let series: [(name: String, values: [Double])]
    public let xLabel: String
    public let yLabel: String
    public let yScale: Axis.Scale

    public init(title: String, description: String, categories: [String], xLabel: String = "outcome", yLabel: String,
                yScale: Axis.Scale = .linear, series: [(name: String, values: [Double])]) {
        self.title = title; self.description = description; self.categories = categories
        self.xLabel = xLabel; self.yLabel = yLabel; self.yScale = yScale; self.series = series
    }

    public var xTitle: String { xLabel }
    public var yTitle: String { yLabel }
    public var legend: [LegendEntry] {
        series.enumerated().map { LegendEntry(name: $0.element.name, style: .bar($0.offset), note: nil) }
    }

    public func record(label: String?, caption: String) -> FigureRecord {
        FigureRecord(label: label, caption: caption, kind: "bar", xLabel: xLabel, yLabel: yLabel, categories: categories,
                     series: series.map { FigureRecord.Series(name: $0.name, x: $0.values.indices.map(Double.init), y: $0.values) },
                     references: nil)
    }

    public func drawing(in base: PlotFrame) -> Markup {
        let labels = categories.map { PlainMath.text($0) }
        let pw0 = base.plotWidth
        let groupWidth = pw0 / Double(max(categories.count, 1))
        // Category names that are words and do not fit their group are set at an angle; numbers are thinned out.
        let widest = labels.map { PlotFrame.textWidth($0) }.max() ?? 0
        let numeric = labels.allSatisfy { Double($0.replacingOccurrences(of: "−", with: "-").replacingOccurrences(of: "+", with: "")) != nil }
        let slanted = !numeric && widest > groupWidth * 0.95
        let extra = slanted ? widest * 0.6 : 0
        let fr = base.withRoomBelow(extra)
        let pw = fr.plotWidth, ph = fr.plotHeight
        let axis = Axis(label: yLabel, scale: yScale, covering: series.flatMap(\.values), includeZero: yScale == .linear, tickCount: fr.ticks)
        func py(_ y: Double) -> Double { fr.top + (1 - max(0, min(1, axis.fraction(y)))) * ph }
        var out = fr.open(title: title, description: description)
        for t in axis.ticks {
            let y = f(py(t))
            out += Markup("<line class=\"grid\" x1=\"\(f(fr.left))\" y1=\"\(y)\" x2=\"\(f(fr.left + pw))\" y2=\"\(y)\"/>")
            out += Markup("<text class=\"tick\" x=\"\(f(fr.left - 5))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(axis.tickLabel(t))</text>")
        }
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        let every = slanted ? 1 : PlotFrame.labelStride(labels, spacing: groupWidth)
        for (c, name) in labels.enumerated() {
            let x0 = fr.left + Double(c) * groupWidth + groupWidth * 0.1
            for (k, s) in series.enumerated() where c < s.values.count {
                let v = s.values[c]
                guard v.isFinite, yScale == .linear || v > 0 else { continue }
                let top = py(v), base = py(yScale == .linear ? 0 : axis.lower)
                out += Markup("<rect x=\"\(f(x0 + Double(k) * barWidth))\" y=\"\(f(min(top, base)))\" width=\"\(f(barWidth))\" height=\"\(f(Swift.abs(base - top)))\" fill=\"\(Palette.color(k))\"><title>\(PlainMath.text(s.name)) at \(name): \(NumberFormat.format(v))</title></rect>")
            }
            guard c % every == 0 else { continue }
            let cx = x0 + groupWidth * 0.4, cy = fr.top + ph + 16
            if slanted {
                out += Markup("<text class=\"tick\" transform=\"translate(\(f(cx + 4)) \(f(cy - 6))) rotate(-35)\" text-anchor=\"end\">\(name)</text>")
            } else {
                out += Markup("<text class=\"tick\" x=\"\(f(cx))\" y=\"\(f(cy))\" text-anchor=\"middle\">\(name)</text>")
            }
        }
        out += Markup("<rect class=\"frame\" x=\"\(f(fr.left))\" y=\"\(f(fr.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/>")
        return out + Markup("</svg>")
    }
}

/// One entry of the legend under a plot, shown as HTML so that long names wrap instead of
/// overflowing; its swatch shows the series' line style (solid, dashed, points) or a bar's fill.
public struct LegendEntry: Sendable {
    public enum Style: Sendable { case series(Int, Series.Style), bar(Int), reference }
    public let name: String
    public let style: Style
    /// Said in brackets after the name ("coincides with … at this scale").
    public let note: String?
    public init(name: String, style: Style, note: String? = nil) { self.name = name; self.style = style; self.note = note }

    var swatch: Markup {
        let open = Markup("<svg class=\"swatch\" viewBox=\"0 0 28 12\" width=\"28\" height=\"12\" aria-hidden=\"true\">")
        switch style {
        case .bar(let k):
            return open + Markup("<rect x=\"7\" y=\"0\" width=\"14\" height=\"12\" fill=\"\(Palette.color(k))\"/></svg>")
        case .reference:
            return open + Markup("<line class=\"reference\" x1=\"0\" y1=\"6\" x2=\"28\" y2=\"6\"/></svg>")
        case .series(let k, let s):
            let c = Palette.color(k)
            var out = open
            if s != .points {
                out += Markup("<line x1=\"0\" y1=\"6\" x2=\"28\" y2=\"6\" stroke=\"\(c)\" stroke-width=\"2\"\(s == .dashed ? Markup(" stroke-dasharray=\"6 4\"") : .empty)/>")
            }
            if s == .points || s == .lineAndPoints { out += Markup("<circle cx=\"14\" cy=\"6\" r=\"3\" fill=\"\(c)\"/>") }
            return out + Markup("</svg>")
        }
    }

    static func html(_ items: [LegendEntry]) -> Markup {
        guard !items.isEmpty else { return .empty }
        let lis = items.map { item in
            Markup("<li>\(item.swatch)\(Renderer.inlineMath(item.name))\(item.note.map { Markup(" <span class=\"note\">(\(Renderer.inlineMath($0)))</span>") } ?? .empty)</li>")
        }
        return Markup("<ul class=\"legend\">\(lis.joined())</ul>")
    }
}

/// Coordinates with two decimals: enough for a 640-wide viewBox, short in the file.
func f(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let r = (x * 100).rounded() / 100
    return r == r.rounded() ? String(Int(r)) : "\(r)"
}

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

public struct LinePlot: Sendable {
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

    static let width = 640.0, height = 360.0
    static let left = 72.0, right = 16.0, top = 16.0, bottom = 52.0

    /// The SVG element.
    public func svg() -> String {
        let w = LinePlot.width, h = LinePlot.height
        let pw = w - LinePlot.left - LinePlot.right, ph = h - LinePlot.top - LinePlot.bottom
        func px(_ x: Double) -> Double { LinePlot.left + xAxis.fraction(x) * pw }
        func py(_ y: Double) -> Double { LinePlot.top + (1 - yAxis.fraction(y)) * ph }
        func ok(_ x: Double, _ y: Double) -> Bool {
            x.isFinite && y.isFinite && (xAxis.scale == .linear || x > 0) && (yAxis.scale == .linear || y > 0)
        }
        var out = "<svg class=\"plot\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
        out += "<title>\(HTML.escape(title))</title><desc>\(HTML.escape(description))</desc>"
        // Grid and ticks.
        for t in xAxis.ticks {
            let x = f(px(t))
            out += "<line class=\"grid\" x1=\"\(x)\" y1=\"\(f(LinePlot.top))\" x2=\"\(x)\" y2=\"\(f(LinePlot.top + ph))\"/>"
            out += "<text class=\"tick\" x=\"\(x)\" y=\"\(f(LinePlot.top + ph + 16))\" text-anchor=\"middle\">\(HTML.escape(xAxis.tickLabel(t)))</text>"
        }
        for t in yAxis.ticks {
            let y = f(py(t))
            out += "<line class=\"grid\" x1=\"\(f(LinePlot.left))\" y1=\"\(y)\" x2=\"\(f(LinePlot.left + pw))\" y2=\"\(y)\"/>"
            out += "<text class=\"tick\" x=\"\(f(LinePlot.left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(HTML.escape(yAxis.tickLabel(t)))</text>"
        }
        out += "<rect class=\"frame\" x=\"\(f(LinePlot.left))\" y=\"\(f(LinePlot.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/>"
        out += "<text class=\"axis-label\" x=\"\(f(LinePlot.left + pw / 2))\" y=\"\(f(h - 10))\" text-anchor=\"middle\">\(HTML.escape(xAxis.label))</text>"
        out += "<text class=\"axis-label\" transform=\"translate(16 \(f(LinePlot.top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yAxis.label))</text>"
        // Reference lines.
        for r in references where r.value.isFinite {
            if r.orientation == .horizontal {
                let y = f(py(r.value))
                out += "<line class=\"reference\" x1=\"\(f(LinePlot.left))\" y1=\"\(y)\" x2=\"\(f(LinePlot.left + pw))\" y2=\"\(y)\"/>"
                out += "<text class=\"annotation\" x=\"\(f(LinePlot.left + pw - 4))\" y=\"\(f(py(r.value) - 5))\" text-anchor=\"end\">\(HTML.escape(r.label))</text>"
            } else {
                let x = f(px(r.value))
                out += "<line class=\"reference\" x1=\"\(x)\" y1=\"\(f(LinePlot.top))\" x2=\"\(x)\" y2=\"\(f(LinePlot.top + ph))\"/>"
                out += "<text class=\"annotation\" x=\"\(f(px(r.value) + 4))\" y=\"\(f(LinePlot.top + 12))\">\(HTML.escape(r.label))</text>"
            }
        }
        // Series.
        for (k, s) in series.enumerated() {
            let color = Palette.color(k)
            let pts = zip(s.x, s.y).filter { ok($0.0, $0.1) }.map { (px($0.0), py($0.1)) }
            if s.style != .points, pts.count > 1 {
                let d = pts.enumerated().map { ($0.offset == 0 ? "M" : "L") + f($0.element.0) + " " + f($0.element.1) }.joined()
                let dash = s.style == .dashed ? " stroke-dasharray=\"6 4\"" : ""
                out += "<path class=\"series\" d=\"\(d)\" stroke=\"\(color)\"\(dash)/>"
            }
            if s.style == .points || s.style == .lineAndPoints || pts.count == 1 {
                for p in pts { out += "<circle cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"2.5\" fill=\"\(color)\"/>" }
            }
        }
        out += "</svg>"
        return out + Legend.html(series.map(\.name))
    }
}

/// Side-by-side bars: one group per category (outcome), one bar per series (distribution).
public struct BarChart: Sendable {
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

    public func svg() -> String {
        let w = LinePlot.width, h = LinePlot.height
        let pw = w - LinePlot.left - LinePlot.right, ph = h - LinePlot.top - LinePlot.bottom
        let axis = Axis(label: yLabel, scale: yScale, covering: series.flatMap(\.values), includeZero: yScale == .linear)
        func py(_ y: Double) -> Double { LinePlot.top + (1 - max(0, min(1, axis.fraction(y)))) * ph }
        var out = "<svg class=\"plot\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
        out += "<title>\(HTML.escape(title))</title><desc>\(HTML.escape(description))</desc>"
        for t in axis.ticks {
            let y = f(py(t))
            out += "<line class=\"grid\" x1=\"\(f(LinePlot.left))\" y1=\"\(y)\" x2=\"\(f(LinePlot.left + pw))\" y2=\"\(y)\"/>"
            out += "<text class=\"tick\" x=\"\(f(LinePlot.left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(HTML.escape(axis.tickLabel(t)))</text>"
        }
        let groupWidth = pw / Double(max(categories.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        let labelEvery = max(1, Int((Double(categories.count) / 20).rounded(.up)))
        for (c, name) in categories.enumerated() {
            let x0 = LinePlot.left + Double(c) * groupWidth + groupWidth * 0.1
            for (k, s) in series.enumerated() where c < s.values.count {
                let v = s.values[c]
                guard v.isFinite, yScale == .linear || v > 0 else { continue }
                let top = py(v), base = py(yScale == .linear ? 0 : axis.lower)
                out += "<rect x=\"\(f(x0 + Double(k) * barWidth))\" y=\"\(f(min(top, base)))\" width=\"\(f(barWidth))\" height=\"\(f(Swift.abs(base - top)))\" fill=\"\(Palette.color(k))\"><title>\(HTML.escape(s.name)) at \(HTML.escape(name)): \(NumberFormat.format(v))</title></rect>"
            }
            if c % labelEvery == 0 {
                out += "<text class=\"tick\" x=\"\(f(x0 + groupWidth * 0.4))\" y=\"\(f(LinePlot.top + ph + 16))\" text-anchor=\"middle\">\(HTML.escape(name))</text>"
            }
        }
        out += "<rect class=\"frame\" x=\"\(f(LinePlot.left))\" y=\"\(f(LinePlot.top))\" width=\"\(f(pw))\" height=\"\(f(ph))\"/>"
        out += "<text class=\"axis-label\" transform=\"translate(16 \(f(LinePlot.top + ph / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
        out += "<text class=\"axis-label\" x=\"\(f(LinePlot.left + pw / 2))\" y=\"\(f(h - 10))\" text-anchor=\"middle\">\(HTML.escape(xLabel))</text>"
        out += "</svg>"
        return out + Legend.html(series.map(\.name))
    }
}

/// The legend under a plot, as HTML so that long names wrap instead of overflowing.
enum Legend {
    static func html(_ names: [String]) -> String {
        guard !names.isEmpty else { return "" }
        let items = names.enumerated().map {
            "<li><span class=\"swatch\" style=\"background:\(Palette.color($0.offset))\"></span>\(HTML.escape($0.element))</li>"
        }
        return "<ul class=\"legend\">" + items.joined() + "</ul>"
    }
}

/// Coordinates with two decimals: enough for a 640-wide viewBox, short in the file.
func f(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let r = (x * 100).rounded() / 100
    return r == r.rounded() ? String(Int(r)) : "\(r)"
}

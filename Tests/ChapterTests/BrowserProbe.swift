import Foundation

/// The measuring script of `BrowserTests` and what it reports. The script is injected into a
/// temporary copy of a page only (the reports carry no script); the copy is loaded in an
/// iframe of the width under test (headless Chromium will not make a window narrower than
/// 500 px, an iframe is its own viewport for media queries), and the script appends its
/// measurements as JSON to the frame's parent, whose DOM `--dump-dom` prints.
enum BrowserProbe {
    struct Layout: Decodable {
        let width: Int, dark: Bool, scrollWidth: Int, height: Int, textLength: Int
        let math: Int, mathZero: Int, fractions: Int, fractionsFlat: Int, plots: Int, plotsEmpty: Int
        /// Boxes whose content is wider than the box (cut off or scrolling), or outside the viewport.
        let overflowing: [String]
        /// Equation boxes whose content is taller than the box.
        let clippedVertically: [String]
        /// Text that still reads as TeX source: a backslash, a dollar, `_{` or `^{`, or a one-letter name with an underscore subscript (J_RL, π_θ).
        let rawTeX: [String]
        /// Displayed text under 11 CSS px (SVG text at its drawn size; mathematics at the size of its formula).
        let smallText: [String]
        /// Plot series hard to see against the background, or two series of one plot hard to tell apart.
        let colours: [String]
        let headings: [String]
        /// For each folded table, a cell of it, to be found in the printed PDF.
        let folded: [String]
        let verdicts: Int, verdictsHidden: Int
    }

    static let script = """
    <script>
    (function () {
      const out = {width: window.innerWidth, dark: matchMedia('(prefers-color-scheme: dark)').matches};
      const root = document.documentElement;
      out.scrollWidth = root.scrollWidth; out.height = root.scrollHeight;
      const main = document.querySelector('main') || document.body;
      out.textLength = (main.innerText || '').trim().length;
      const shown = e => e.getClientRects().length > 0;
      const name = e => { const c = typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
        return e.tagName.toLowerCase() + c + ' "' + (e.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 60) + '"'; };
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
      out.overflowing = [];
      // Content wider than its box (cut off, scrolling, or sticking out); header, main and footer
      // only for leaving the viewport, since wide blocks extend past the text column on purpose.
      for (const e of document.querySelectorAll('header, main, footer, table, .scroll, .equation, .eq-body, figure, .plot-box, svg.plot, p, li, td, th, h1, h2, h3, aside, dd, figcaption, .legend, .summary, details')) {
        if (!shown(e)) continue;
        // A cell's content may reach into its own padding (8 px) without touching its neighbour.
        const slack = e.matches('td, th') ? 8 : 1;
        if (e.scrollWidth > e.clientWidth + slack && !(e instanceof SVGElement) && !e.matches('header, main, footer, figure')) out.overflowing.push(name(e) + ' content ' + e.scrollWidth + ' px in ' + e.clientWidth);
        const r = e.getBoundingClientRect();
        if (r.right > window.innerWidth + 1 || r.left < -1) out.overflowing.push(name(e) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ' px of ' + window.innerWidth);
      }
      out.clippedVertically = Array.from(document.querySelectorAll('.eq-body')).filter(shown)
        .filter(e => e.scrollHeight > e.clientHeight + 1).map(e => name(e) + ' ' + e.scrollHeight + ' px in ' + e.clientHeight);
      out.rawTeX = []; out.smallText = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const skip = 'script, style, title, desc, pre, code, footer, .samples, .layout-probe';
      const smallSeen = new Set();
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const t = n.textContent; const p = n.parentElement;
        if (!p || !t.trim() || p.closest(skip)) continue;
        // TeX source, or a one-letter name subscripted with an underscore (J_RL, π_θ, p_c) outside a formula;
        // identifiers of other programs (loss_type, gsl_sf_lnchoose) are words and pass.
        if (/\\\\|\\$|_\\{|\\^\\{/.test(t) || /(^|[^\\p{L}\\p{N}_])\\p{L}[*′]?_[\\p{L}\\p{N}(]/u.test(t)) out.rawTeX.push(name(p) + ' ' + JSON.stringify(t.trim().slice(0, 40)));
        if (!shown(p)) continue;
        let size;
        const svg = p.closest('svg');
        if (svg) { const m = svg.getScreenCTM(); size = parseFloat(getComputedStyle(p).fontSize) * (m ? m.a : 1); }
        else if (p.closest('math')) size = parseFloat(getComputedStyle(p.closest('math')).fontSize);
        else size = parseFloat(getComputedStyle(p).fontSize);
        if (size < 10.95) { const d = name(p) + ' at ' + size.toFixed(1) + ' px'; if (!smallSeen.has(d)) { smallSeen.add(d); out.smallText.push(d); } }
      }
      for (const e of document.querySelectorAll('[data-label]')) if (/\\\\|\\$|_\\{|\\^\\{/.test(e.getAttribute('data-label'))) out.rawTeX.push('data-label ' + e.getAttribute('data-label'));
      // Colours: every series stands out from the background, and the series of one plot from each other.
      const rgb = c => { const m = c.match(/[\\d.]+/g); return m ? m.slice(0, 3).map(Number) : [0, 0, 0]; };
      const lum = c => { const v = rgb(c).map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
      const contrast = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
      // CIE L*a*b* (D65), whose distances (ΔE) follow how different two colours look.
      const lab = c => { const v = rgb(c).map(x => { x /= 255; return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
        const X = (0.4124 * v[0] + 0.3576 * v[1] + 0.1805 * v[2]) / 0.95047, Y = 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2],
              Z = (0.0193 * v[0] + 0.1192 * v[1] + 0.9505 * v[2]) / 1.08883;
        const f = t => t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116;
        return [116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))]; };
      const bg = getComputedStyle(document.body).backgroundColor;
      out.colours = [];
      if (contrast(getComputedStyle(document.body).color, bg) < 7) out.colours.push('body text contrast ' + contrast(getComputedStyle(document.body).color, bg).toFixed(1));
      for (const s of svgs) {
        const cs = Array.from(s.querySelectorAll('path.series, circle, rect[fill^="var"], rect:not(.frame)')).map(e => {
          const st = getComputedStyle(e); return e.tagName === 'path' ? st.stroke : st.fill; }).filter(c => c && c !== 'none');
        const distinct = Array.from(new Set(cs));
        for (const c of distinct) if (contrast(c, bg) < 2) out.colours.push(name(s.closest('figure') || s) + ': series colour ' + c + ' on ' + bg);
        for (let i = 0; i < distinct.length; i++) for (let j = i + 1; j < distinct.length; j++) {
          const a = lab(distinct[i]), b = lab(distinct[j]);
          if (Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) < 20) out.colours.push(name(s.closest('figure') || s) + ': ' + distinct[i] + ' and ' + distinct[j] + ' look alike');
        }
      }
      out.headings = Array.from(document.querySelectorAll('h1, h2, h3')).map(h => h.textContent.replace(/\\s+/g, ' ').trim());
      out.folded = Array.from(document.querySelectorAll('details')).map(d => {
        const cells = Array.from(d.querySelectorAll('td')).filter(c => !c.querySelector('math') && !['verdict', 'required', 'claim', 'value'].some(k => c.classList.contains(k))).map(c => c.textContent.trim()).filter(t => t.length >= 4);
        return cells.length ? cells[cells.length - 1] : ''; }).filter(t => t);
      const verdicts = Array.from(document.querySelectorAll('td.verdict .badge'));
      out.verdicts = verdicts.length;
      out.verdictsHidden = verdicts.filter(v => { const r = v.getBoundingClientRect(); return !shown(v) || r.right > window.innerWidth + 1 || r.left < -1; }).length;
      const target = window.parent !== window ? window.parent.document : document;
      const pre = target.createElement('pre'); pre.className = 'layout-probe'; pre.textContent = JSON.stringify(out);
      target.body.appendChild(pre);
    })();
    </script>
    """

    /// A page of iframes, one for each width, around a probed copy of a page.
    static func harness(for probed: URL, widths: [Int], height: Int = 900) -> String {
        let frames = widths.map { "<iframe src=\"\(probed.lastPathComponent)\" style=\"width:\($0)px;height:\(height)px;border:0;display:block\"></iframe>" }
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{margin:0}</style></head><body>\(frames.joined())</body></html>"
    }

    /// The measurements in a dumped DOM, one for each frame.
    static func layouts(inDump dom: String) throws -> [Layout] {
        var layouts: [Layout] = []
        var rest = dom[...]
        while let start = rest.range(of: "<pre class=\"layout-probe\">"), let end = rest.range(of: "</pre>", range: start.upperBound..<rest.endIndex) {
            let json = String(rest[start.upperBound..<end.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
            layouts.append(try JSONDecoder().decode(Layout.self, from: Data(json.utf8)))
            rest = rest[end.upperBound...]
        }
        return layouts
    }
}

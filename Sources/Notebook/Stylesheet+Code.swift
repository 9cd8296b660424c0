extension Stylesheet {
    /// Code shown under a section: folded, scrolling sideways inside its own box on narrow
    /// screens, wrapped when printed; six token colours for each scheme.
    static let codeCSS = """
    details.code>summary code,.code-ref code{font-size:.85em}.code-ref{color:var(--muted);font-size:.9rem}
    pre.command{background:var(--panel);padding:.5rem .8rem;border-radius:6px;overflow-x:auto;white-space:pre-wrap}
    pre.swift{background:var(--panel);padding:.6rem .8rem;border-radius:6px;overflow-x:auto;line-height:1.45;font-size:.8rem;tab-size:4}
    pre.swift .kw{color:#8a2b89}pre.swift .cm{color:#5f6b5f;font-style:italic}pre.swift .st{color:#a3361a}
    pre.swift .nu{color:#1c5fa8}pre.swift .at{color:#7a5a00}pre.swift .ty{color:#2b6673}
    @media (prefers-color-scheme:dark){pre.swift .kw{color:#e38ee3}pre.swift .cm{color:#9aa79a}pre.swift .st{color:#f5a78a}
    pre.swift .nu{color:#8ec3ff}pre.swift .at{color:#e2c16b}pre.swift .ty{color:#7fd0dc}}
    nav.contents details{margin:.6rem 0}nav.contents ol{margin:.3rem 0;padding-left:1.4rem;font:.9rem "DejaVu Sans",sans-serif}
    ul.paths{font:.95rem "DejaVu Sans",sans-serif}
    @media print{nav.contents{display:none}}
    @media print{pre.swift{white-space:pre-wrap;overflow:visible;font-size:8pt}}
    """
}

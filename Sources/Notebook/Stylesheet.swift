/// The one stylesheet every page inlines: a readable column, light and dark schemes, a print
/// layout, a math font stack with a real math font, and the Okabe-Ito palette for plots.
enum Stylesheet {
    static let css = """
    :root{--bg:#fdfdfb;--fg:#1d1d1f;--muted:#5c5c66;--rule:#d9d9de;--panel:#f3f3f0;--pass:#0b6b3a;--pass-bg:#e3f4ea;
    --fail:#a3161a;--fail-bg:#fbe4e4;--accent:#0b5cad;--aside:#fff7e0;--aside-rule:#e0b43c;
    --series-0:#0072B2;--series-1:#D55E00;--series-2:#009E73;--series-3:#CC79A7;--series-4:#E69F00;--series-5:#56B4E9;--series-6:#000000}
    @media (prefers-color-scheme:dark){:root{--bg:#16171b;--fg:#e8e8ea;--muted:#a0a0aa;--rule:#3a3b42;--panel:#202127;
    --pass:#7ddca5;--pass-bg:#173526;--fail:#ff8f8f;--fail-bg:#3d1a1c;--accent:#7fb6ff;--aside:#2b2616;--aside-rule:#a88a2c;
    --series-0:#56B4E9;--series-1:#F28C3B;--series-2:#2BC79A;--series-3:#E39AC6;--series-4:#F0C04A;--series-5:#9ad0f5;--series-6:#e8e8ea}}
    *{box-sizing:border-box}
    body{margin:0 auto;max-width:58rem;padding:1.5rem 1.25rem 4rem;background:var(--bg);color:var(--fg);
    font:17px/1.6 "Charter","Bitstream Charter","DejaVu Serif",Georgia,serif;overflow-wrap:break-word}
    .imath{display:inline-block;max-width:100%;overflow-x:auto;overflow-y:hidden;vertical-align:middle}
    math{font-family:"DejaVu Math TeX Gyre","STIX Two Math","Latin Modern Math","Cambria Math",math;font-size:1.05em}
    h1,h2,h3{font-family:"DejaVu Sans",system-ui,sans-serif;line-height:1.25}
    h1{font-size:1.9rem;margin:.3rem 0}h2{font-size:1.3rem;margin-top:2.4rem;border-bottom:1px solid var(--rule);padding-bottom:.2rem}
    a{color:var(--accent)} code,pre{font-family:"DejaVu Sans Mono",monospace;font-size:.88em}
    .kicker{font-family:"DejaVu Sans",sans-serif;color:var(--muted);margin:0;font-size:.9rem}
    .lede{font-size:1.1rem;color:var(--muted);margin-top:.2rem}
    .summary{padding:.7rem 1rem;border-radius:6px;font-family:"DejaVu Sans",sans-serif;font-size:.95rem}
    .summary.pass{background:var(--pass-bg)}.summary.fail{background:var(--fail-bg)}
    .badge{display:inline-block;padding:.05rem .55rem;border-radius:999px;font:600 .8rem "DejaVu Sans",sans-serif;margin-right:.4rem;white-space:nowrap}
    .badge.pass{background:var(--pass-bg);color:var(--pass);border:1px solid var(--pass)}
    .badge.fail{background:var(--fail-bg);color:var(--fail);border:1px solid var(--fail)}
    .equation{display:flex;align-items:center;gap:1rem;overflow-x:auto;margin:1rem 0}
    .equation math{flex:1}.eqno{color:var(--muted);font-family:"DejaVu Sans",sans-serif;font-size:.9rem}
    .scroll{overflow-x:auto;margin:1rem 0}
    table{border-collapse:collapse;font-family:"DejaVu Sans",sans-serif;font-size:.82rem}
    th,td{border-bottom:1px solid var(--rule);padding:.35rem .5rem;text-align:left;vertical-align:top}
    thead th{background:var(--panel)}
    table.checks{width:100%}table.checks td.claim{min-width:12rem}
    table.checks .what{display:block;color:var(--muted);font-size:.75rem}
    table.checks .num{font-family:"DejaVu Sans Mono",monospace;white-space:nowrap}
    table.checks .why{display:block;color:var(--muted);font-size:.75rem;max-width:16rem}
    tr.fail td{background:var(--fail-bg)}
    .ref{color:var(--muted);font-size:.8em;white-space:nowrap}
    table.parameters{margin:1rem 0}table.parameters caption{text-align:left;font-weight:600;padding-bottom:.3rem}
    figure{margin:1.5rem 0}figcaption{color:var(--muted);font-size:.92rem;margin-top:.3rem}
    svg.plot{width:100%;height:auto;max-width:640px;display:block}
    svg.plot .grid{stroke:var(--rule);stroke-width:1}svg.plot .frame{fill:none;stroke:var(--muted);stroke-width:1}
    svg.plot .tick{fill:var(--muted);font:11px "DejaVu Sans",sans-serif}svg.plot .axis-label{fill:var(--fg);font:13px "DejaVu Sans",sans-serif}
    svg.plot .series{fill:none;stroke-width:2;stroke-linejoin:round}
    svg.plot .reference{stroke:var(--fg);stroke-width:1;stroke-dasharray:3 3}svg.plot .annotation{fill:var(--fg);font:12px "DejaVu Sans",sans-serif}
    .legend{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;font:.85rem "DejaVu Sans",sans-serif}
    .swatch{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;margin-right:.35rem;vertical-align:-.1rem}
    aside{background:var(--aside);border-left:3px solid var(--aside-rule);padding:.5rem .9rem;margin:1rem 0;font-size:.93rem}
    details{margin:1rem 0}summary{cursor:pointer;font-family:"DejaVu Sans",sans-serif;font-size:.9rem}
    .samples pre{white-space:pre-wrap;margin:0;background:var(--panel);padding:.3rem .5rem;border-radius:4px}
    footer{margin-top:3rem;color:var(--muted);font-size:.85rem}footer dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
    footer dt{font-weight:600}footer dd{margin:0;overflow-wrap:anywhere}
    @media (min-width:80rem){body{max-width:62rem;padding-right:17rem;position:relative}
    aside{float:right;clear:right;width:15rem;margin-right:-16.5rem;margin-top:0}}
    @media (max-width:40rem){body{font-size:16px;padding:1rem .75rem}h1{font-size:1.5rem}}
    @media print{body{max-width:none;padding:0;font-size:11pt;background:#fff;color:#000}a{color:#000}
    .scroll{overflow:visible}details{display:block}details>*{display:block}figure,table,aside{break-inside:avoid}
    aside{float:none;width:auto;margin:1rem 0}}
    """
}

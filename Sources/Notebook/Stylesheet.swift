/// The one stylesheet every page inlines: light and dark schemes, a print layout, a math font
/// stack with a real math font, and the Okabe-Ito palette for plots.
///
/// Widths follow Distill's three: text sits in a *body* column of 44 rem; tables, plots and
/// long equations (`.wide`) may widen to the *page* width (up to 72 rem, the screen less its
/// margins). Only a page with asides (`body.has-asides`) keeps a margin for them, at 80 rem and
/// wider: the body column moves left and wide blocks extend into the margin below the asides.
/// At 40 rem and narrower, a check row becomes a card (claim, verdict sentence, then A, B,
/// difference and requirement) and data tables become lists of labelled rows.
enum Stylesheet {
    static let css = """
    :root{--bg:#fdfdfb;--fg:#1d1d1f;--muted:#55555f;--rule:#d9d9de;--panel:#f3f3f0;--pass:#0b6b3a;--pass-bg:#e3f4ea;
    --fail:#a3161a;--fail-bg:#fbe4e4;--accent:#0b5cad;--aside:#fff7e0;--aside-rule:#e0b43c;
    --series-0:#0072B2;--series-1:#D55E00;--series-2:#009E73;--series-3:#CC79A7;--series-4:#E69F00;--series-5:#56B4E9;--series-6:#000000;
    --body:44rem;--page:min(72rem,100vw - 2.5rem)}
    @media (prefers-color-scheme:dark){:root{--bg:#16171b;--fg:#e8e8ea;--muted:#a8a8b2;--rule:#3a3b42;--panel:#202127;
    --pass:#7ddca5;--pass-bg:#173526;--fail:#ff8f8f;--fail-bg:#3d1a1c;--accent:#7fb6ff;--aside:#2b2616;--aside-rule:#a88a2c;
    --series-0:#56B4E9;--series-1:#F28C3B;--series-2:#2BC79A;--series-3:#E39AC6;--series-4:#F0E442;--series-5:#B7A6FF;--series-6:#e8e8ea}}
    *{box-sizing:border-box}
    html{font-size:16px}
    body{margin:0;padding:1.5rem 1.25rem 4rem;background:var(--bg);color:var(--fg);
    font:17px/1.6 "Charter","Bitstream Charter","DejaVu Serif",Georgia,serif;overflow-wrap:break-word}
    header,main,footer,nav.pager{max-width:var(--body);margin-left:auto;margin-right:auto}
    math{font-family:"DejaVu Math TeX Gyre","STIX Two Math","Latin Modern Math","Cambria Math",math;font-size:1.05em}
    h1,h2,h3{font-family:"DejaVu Sans",system-ui,sans-serif;line-height:1.25}
    h1{font-size:1.9rem;margin:.3rem 0}h2{font-size:1.3rem;margin-top:2.4rem;border-bottom:1px solid var(--rule);padding-bottom:.2rem}
    h3{font-size:1.05rem}
    a{color:var(--accent)} code,pre{font-family:"DejaVu Sans Mono",monospace;font-size:.88em}
    .kicker{font-family:"DejaVu Sans",sans-serif;color:var(--muted);margin:0;font-size:.9rem}
    .lede{font-size:1.1rem;color:var(--muted);margin-top:.2rem}
    .summary{padding:.7rem 1rem;border-radius:6px;font-family:"DejaVu Sans",sans-serif;font-size:.95rem}
    .summary.pass{background:var(--pass-bg)}.summary.fail{background:var(--fail-bg)}
    .badge{display:inline-block;padding:.05rem .55rem;border-radius:999px;font:600 .8rem "DejaVu Sans",sans-serif;margin-right:.4rem;white-space:nowrap}
    .badge.pass{background:var(--pass-bg);color:var(--pass);border:1px solid var(--pass)}
    .badge.fail{background:var(--fail-bg);color:var(--fail);border:1px solid var(--fail)}
    .equation{display:flex;align-items:center;gap:.75rem;margin:.5rem auto}
    .eq-body{flex:1;min-width:0;overflow-x:auto;overflow-y:hidden;padding:.6em 0}
    .eq-body math[display=block]{margin:0}
    .eq-broken{display:none}
    .eq-rows{display:grid;grid-template-columns:max-content max-content;justify-content:safe center;row-gap:.35em;align-items:baseline}
    .eq-l{text-align:right}.eq-r{text-align:left}
    .eqno{flex:none;color:var(--muted);font-family:"DejaVu Sans",sans-serif;font-size:.9rem}
    .scroll{overflow-x:auto;margin:1rem auto}
    table{border-collapse:collapse;font-family:"DejaVu Sans",sans-serif;font-size:.82rem}
    .scroll>table{margin:0 auto}
    th,td{border-bottom:1px solid var(--rule);padding:.35rem .5rem;text-align:left;vertical-align:top}
    thead th{background:var(--panel)}
    table.checks{width:100%}table.checks td.claim{min-width:14rem}
    table.checks .what{display:block;color:var(--muted);font-size:.75rem}
    table.checks .num,table.data td.num{font-family:"DejaVu Sans Mono",monospace;white-space:nowrap}
    table.checks .why{display:block;color:var(--muted);font-size:.75rem;max-width:18rem}
    table.checks .verdict-sentence{display:none}.cell-label{display:none}
    table.checks .cases{display:block;color:var(--muted);font-size:.75rem;margin-top:.2rem}
    tr.sweep td.claim{border-left:3px solid var(--rule)}
    tr.sweep-cases>td{padding:0 0 .4rem 1rem}tr.sweep-cases summary{cursor:pointer;font-size:.8rem;color:var(--muted);padding:.2rem 0}
    tr.sweep-cases .scroll{margin:.3rem 0}table.checks.cases{font-size:.76rem}
    tr.fail td{background:var(--fail-bg)}tr.sweep-cases>td{background:none}
    .ref{color:var(--muted);font-size:max(11px,.8em);white-space:nowrap}
    .table-caption{margin-bottom:.3rem}
    table.parameters{margin:1rem 0}table.parameters caption{text-align:left;font-weight:600;padding-bottom:.3rem}
    figure{margin:1.5rem auto}
    figcaption{color:var(--muted);font-size:.92rem;margin:.3rem auto 0;max-width:var(--body)}
    .plot-box{max-width:46rem;margin:0 auto}
    .y-title,.x-title{margin:0;font:.85rem/1.4 "DejaVu Sans",sans-serif;color:var(--fg)}.x-title{text-align:center}
    svg.plot{width:100%;height:auto;display:block}
    .plot-narrow{display:none}
    svg.plot .grid{stroke:var(--rule);stroke-width:1}svg.plot .frame{fill:none;stroke:var(--muted);stroke-width:1}
    svg.plot .tick{fill:var(--muted);font:12px "DejaVu Sans",sans-serif}
    svg.plot .series{fill:none;stroke-width:2;stroke-linejoin:round}
    svg .reference{stroke:var(--fg);stroke-width:1.2;stroke-dasharray:3 3}
    .legend{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1.2rem;font:.85rem "DejaVu Sans",sans-serif}
    .legend .note{color:var(--muted)}
    .swatch{display:inline-block;margin-right:.35rem;vertical-align:-.05rem}
    aside{background:var(--aside);border-left:3px solid var(--aside-rule);padding:.5rem .9rem;margin:1rem 0;font-size:.93rem}
    details{margin:1rem 0}summary{cursor:pointer;font-family:"DejaVu Sans",sans-serif;font-size:.9rem}
    .samples pre{white-space:pre-wrap;margin:0;background:var(--panel);padding:.3rem .5rem;border-radius:4px}
    figcaption .number,.table-caption .number,summary .number{font-weight:600;color:var(--fg)}
    a.xref,a.cite{color:inherit;text-decoration-color:var(--muted)}.xref.missing{color:var(--fail);font-weight:600}
    ol.references{padding-left:1.6rem;font-size:.93rem}ol.references li{margin:.3rem 0;overflow-wrap:anywhere}
    nav.pager{display:flex;flex-wrap:wrap;justify-content:space-between;gap:.5rem 1rem;margin:2.5rem 0 0;padding-top:.8rem;border-top:1px solid var(--rule);font:.92rem/1.5 "DejaVu Sans",sans-serif}
    footer{margin-top:3rem;color:var(--muted);font-size:.85rem}footer dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
    footer dt{font-weight:600}footer dd{margin:0;overflow-wrap:anywhere}
    .wide,figure.wide,.scroll.wide,.equation.wide{width:var(--page);max-width:none;margin-left:calc(50% - var(--page) / 2);margin-right:0}
    @media (min-width:80rem){
    body.has-asides header,body.has-asides main,body.has-asides footer,body.has-asides nav.pager{margin-left:calc((100% - 62rem) / 2)}
    body.has-asides .wide,body.has-asides .scroll.wide,body.has-asides figure.wide,body.has-asides .equation.wide{width:62rem;margin-left:0;clear:right}
    body.has-asides .scroll.wide{width:min(72rem,(100vw - 2.5rem + 62rem) / 2)}
    body.has-asides aside{float:right;clear:right;width:16rem;margin:0 -18rem 1rem 0;position:relative}
    body.has-asides aside .imath{display:inline-block;max-width:100%;overflow-x:auto;overflow-y:hidden;vertical-align:middle}}
    @media (max-width:40rem){
    body{font-size:16px;padding:1rem .75rem}h1{font-size:1.5rem}
    .equation{display:block}.eqno{display:block;text-align:right}
    table.derivation math{font-size:.95em}table.cards td.line{overflow-x:auto;max-width:100%}
    table.data td{overflow-wrap:anywhere}table.data td.number{overflow-wrap:normal;white-space:nowrap}table.data td.number .cell-label{white-space:normal}
    .plot-wide{display:none}.plot-narrow{display:block}svg.plot .tick{font-size:11.5px}
    .scroll:has(>table.checks),.scroll:has(>table.cards){overflow:visible}
    table.checks,table.checks tbody,table.checks tr,table.checks td,table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:auto}
    table.checks thead,table.cards thead{display:none}
    table.checks tr,table.cards tr{display:flex;flex-direction:column;border:1px solid var(--rule);border-radius:6px;margin:0 0 .8rem;padding:.45rem .7rem}
    table.checks td,table.cards td{border:none;padding:.15rem 0}
    table.checks td.claim{min-width:0;font-size:.9rem;order:0}
    table.checks td.verdict{order:1;padding-bottom:.3rem}
    table.checks td.value,table.checks td.difference,table.checks td.required{order:2}
    table.checks td[data-label]::before{content:attr(data-label) ": ";font-weight:600}
    table.cards .cell-label{display:inline;font-weight:600}
    table.checks .what{display:inline;font-size:.8rem}table.checks .what::after{content:" "}
    table.checks .verdict-sentence{display:inline;font-size:.85rem}
    table.checks .why{max-width:none;font-size:.8rem}
    table.checks tr.sweep-cases{border:none;padding:0;margin:-.5rem 0 .8rem}tr.sweep-cases>td{padding:0 0 0 .6rem}
    tr.fail td{background:none}tr.fail{background:var(--fail-bg)}}
    @media print{
    :root{--bg:#fff;--fg:#000;--muted:#444;--rule:#bbb;--panel:#eee;--pass:#0b6b3a;--pass-bg:#e3f4ea;--fail:#a3161a;--fail-bg:#fbe4e4;--accent:#000;
    --aside:#fff7e0;--aside-rule:#e0b43c;--series-0:#0072B2;--series-1:#D55E00;--series-2:#009E73;--series-3:#CC79A7;--series-4:#E69F00;--series-5:#56B4E9;--series-6:#000000}
    @page{margin:16mm 14mm}
    body{padding:0;font-size:10.5pt;background:#fff;color:#000}
    header,main,footer,body.has-asides header,body.has-asides main,body.has-asides footer{max-width:none;margin-left:0;margin-right:0}
    .wide,.scroll.wide,figure.wide,.equation.wide,body.has-asides .wide,body.has-asides .scroll.wide,body.has-asides figure.wide,body.has-asides .equation.wide{width:auto;margin-left:0}
    aside,body.has-asides aside{float:none;width:auto;margin:1rem 0}
    .scroll,.eq-body{overflow:visible}
    h1,h2,h3,.table-caption,summary{break-after:avoid;break-inside:avoid}
    figure,aside,.equation,tr,.samples li{break-inside:avoid}
    tr.sweep-cases{break-inside:auto}
    thead{display:table-header-group}
    details::details-content{content-visibility:visible;display:contents}
    summary{list-style:none}summary::-webkit-details-marker{display:none}
    table{font-size:8.5pt}table.checks td.claim{min-width:10rem}
    body.index{font-size:8pt}body.index table{font-size:7.5pt}body.index h2{margin-top:1.2rem}
    footer{break-inside:avoid}nav.pager{display:none}}
    """
}

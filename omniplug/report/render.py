"""The report page: one HTML file with inline CSS, SVG and a few lines of script.

Nothing is loaded from anywhere: a Content-Security-Policy in the page
forbids every request except ``data:`` images, so the file opens the same
offline, from an e-mail attachment or a shared drive. The page is
deterministic (no clock in it): the same output folder gives the same bytes.
"""

from __future__ import annotations

from omniplug import __version__
from omniplug.report.charts import count, esc, ratio_text, yuan
from omniplug.report.collect import ReportData
from omniplug.report.html_parts import kpi, platform_name
from omniplug.report.sections_effect import attribution_html, kol_html, materials_html
from omniplug.report.sections_people import aipl_html, quality_html, stitching_html
from omniplug.report.style import CSP, CSS, SCRIPT

__all__ = ["SECTIONS", "render_report"]

#: Section anchors and titles, in page order.
SECTIONS = (("roi", "ROI"), ("kol", "KOLs"), ("aipl", "AIPL funnel"), ("creatives", "Creatives"),
            ("stitching", "Stitching"), ("quality", "Data quality"))


def _overview(data: ReportData) -> str:
    o = data.overview
    credited = ""
    attribution = data.attribution
    if data.models and attribution.get("rows"):
        first = data.models[0]
        got = sum(r["revenue"] for r in attribution["rows"] if r["model"] == first)
        missing = (attribution.get("unattributed") or {}).get(first, {}).get("revenue", 0.0)
        if got + missing > 0:
            credited = kpi(f"{got / (got + missing):.0%}", f"of paid revenue credited ({first})",
                           title="credited revenue ÷ (credited + not credited)")
    tiles = [
        kpi(yuan(o.get("paid_revenue")), "paid revenue (GMV)"),
        kpi(count(o.get("paid_orders")), "paid orders",
            title=f"{o.get('refunded_orders', 0):,} refunded, {o.get('cancelled_orders', 0):,} cancelled, excluded"),
        kpi(yuan(o.get("spend")), "spend"),
        kpi(ratio_text(o.get("roi")), "blended ROI", title="paid revenue ÷ spend, all platforms"),
        credited,
        kpi(count(data.stitching.get("persons")), "persons (stitched)"),
        kpi(count(len(o.get("platforms") or [])), "platforms"),
    ]
    return f'<div class="kpis">{"".join(t for t in tiles if t)}</div>'


def render_report(data: ReportData) -> str:
    """The complete HTML page for ``data``."""
    o = data.overview
    window = (f"{o['first_day']} – {o['last_day']} (China time)" if o.get("first_day") else "no dated rows")
    platforms = ", ".join(platform_name(p) for p in o.get("platforms") or []) or "no platform"
    nav = "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in SECTIONS)
    body = "".join([
        _overview(data),
        attribution_html(data.attribution),
        kol_html(data.kols),
        aipl_html(data.aipl),
        materials_html(data.materials),
        stitching_html(data.stitching),
        quality_html(data.quality),
    ])
    models = ", ".join(data.models) or "none"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="omniplug {esc(__version__)}">'
        f"<title>omniplug report · {esc(data.folder)}</title><style>{CSS}</style></head><body>"
        f'<header class="top"><h1>Brand effect report · 全域效果报告</h1>'
        f'<div class="sub">{esc(data.folder)} · {esc(window)} · {esc(platforms)} · models: {esc(models)}</div>'
        f"<nav>{nav}</nav></header>"
        f"<main>{body}</main>"
        f'<footer>omniplug {esc(__version__)} · from {esc(", ".join(f"{t}.parquet" for t in data.tables))}'
        f"</footer><script>{SCRIPT}</script></body></html>\n"
    )

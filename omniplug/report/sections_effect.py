"""Report sections on effect: ROI by platform and channel, the KOL table, the creative reuse matrix."""

from __future__ import annotations

from typing import Any

from omniplug.report.charts import (
    attr,
    bar_chart,
    compact,
    count,
    esc,
    grouped_bar_chart,
    heat,
    pct,
    ratio_text,
    sparkline,
    yuan,
)
from omniplug.report.data_assets import MAX_CREATIVES
from omniplug.report.html_parts import channel_name, note, platform_name, table_html, td, td_html, th

__all__ = ["attribution_html", "kol_html", "materials_html"]

#: KOLs in the ROI chart.
MAX_KOL_BARS = 15
#: KOLs in the table (the ones with the most credited revenue; the page says how many more there are).
MAX_KOL_ROWS = 200


def _pc_label(row: dict[str, Any]) -> str:
    return f"{platform_name(row['platform'])} · {channel_name(row['channel'])}"


def attribution_html(section: dict[str, Any]) -> str:
    """ROI and credited revenue by platform and channel, every model side by side."""
    models: list[str] = section["models"]
    out = ['<section id="roi"><h2>ROI by platform and channel · 渠道投产比</h2>',
           '<p class="lead">Revenue of paid orders credited to the touches before them (lookback window), '
           'under each attribution model, against the spend reported for the same platform and channel. '
           'ROI = credited revenue ÷ spend.</p>', note(section.get("note"))]
    if not section["rows"]:
        return "".join(out) + "</section>"
    if section.get("mismatch") is not None and section["mismatch"] > 0.01:
        out.append(note(
            f"The KOL, creative and trend figures below were credited with default settings and differ from "
            f"attribution.parquet by up to {yuan(section['mismatch'])} per platform and channel; pass the "
            f"pipeline file (omniplug report OUT --pipeline pipeline.toml) to use the run's settings."))
    rows = section["rows"]
    cats = list(dict.fromkeys(_pc_label(r) for r in rows))
    revenue = {(_pc_label(r), r["model"]): r["revenue"] for r in rows}
    roi = {(_pc_label(r), r["model"]): r["roi"] for r in rows if r["roi"] is not None}
    roi_cats = [c for c in cats if any((c, m) in roi for m in models)]
    out.append('<div class="pair">')
    out.append(grouped_bar_chart(cats, models, revenue, fmt=compact, caption="Credited revenue (¥) by model",
                                 kind="revenue-by-channel"))
    if roi_cats:
        out.append(grouped_bar_chart(roi_cats, models, roi, fmt=ratio_text,
                                     caption="ROI by model (platform · channel with spend)", kind="roi-by-channel"))
    out.append("</div>")
    plat = section["platforms"]
    pcats = list(dict.fromkeys(platform_name(r["platform"]) for r in plat))
    out.append('<h3>By platform</h3><div class="pair">')
    out.append(grouped_bar_chart(pcats, models, {(platform_name(r["platform"]), r["model"]): r["revenue"]
                                                 for r in plat}, caption="Credited revenue (¥) by platform",
                                 kind="revenue-by-platform"))
    proi = {(platform_name(r["platform"]), r["model"]): r["roi"] for r in plat if r["roi"] is not None}
    if proi:
        out.append(grouped_bar_chart([c for c in pcats if any((c, m) in proi for m in models)], models, proi,
                                     fmt=ratio_text, caption="ROI by platform", kind="roi-by-platform"))
    out.append("</div>")
    heads = [th("platform"), th("channel"), th("spend", num=True)]
    for m in models:
        heads += [th(f"orders · {m}", num=True), th(f"revenue · {m}", num=True), th(f"ROI · {m}", num=True)]
    by_key: dict[tuple[Any, Any], dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_key.setdefault((r["platform"], r["channel"]), {})[r["model"]] = r
    body = []
    for (platform, channel), per in by_key.items():
        spend = next(iter(per.values()))["spend"]
        cells = [td(platform_name(platform)), td(channel_name(channel)), td(yuan(spend), sort=spend, cls="n")]
        for m in models:
            r = per.get(m, {})
            cells += [td(f"{r.get('conversions', 0.0):,.1f}", sort=r.get("conversions"), cls="n"),
                      td(yuan(r.get("revenue")), sort=r.get("revenue"), cls="n"),
                      td(ratio_text(r.get("roi")), sort=r.get("roi"), cls="n")]
        body.append(cells)
    out.append(table_html(heads, body, sortable=True))
    unattributed = section.get("unattributed") or {}
    if unattributed:
        parts = [f"{m}: {count(v['orders'])} orders, {yuan(v['revenue'])}" for m, v in sorted(unattributed.items())]
        out.append(f'<p class="lead">Not credited (paid orders with no touch in the lookback window): '
                   f'{esc("; ".join(parts))}. Source: {esc(section.get("source"))}.</p>')
    return "".join(out) + "</section>"


def kol_html(section: dict[str, Any]) -> str:
    """The KOL table: cost, credited revenue and ROI per model, and the daily trend."""
    models: list[str] = section["models"]
    first = models[0] if models else ""
    out = ['<section id="kol"><h2>KOLs · 达人</h2>',
           '<p class="lead">Each KOL account (per platform): what it cost (spend rows with its id), the revenue '
           'credited to touches on its posts, ROI, and the daily credited revenue'
           f'{esc(f" under {first}") if first else ""} (trend: last 7 days against the 7 before).</p>',
           note(section.get("note"))]
    rows = section["rows"]
    if not rows:
        return "".join(out) + note("No KOL in spend, touchpoints or materials.") + "</section>"
    with_roi = [r for r in rows if r["roi"].get(first) is not None][:MAX_KOL_BARS]
    if with_roi:
        bars = [{"kol": f"{platform_name(r['platform'])} · {r['kol_id']}", "roi": r["roi"][first]}
                for r in sorted(with_roi, key=lambda r: -r["roi"][first])]
        out.append(bar_chart(bars, "kol", "roi", fmt=ratio_text, caption=f"ROI by KOL ({first})", kind="kol-roi"))
    heads = [th("platform"), th("KOL id"), th("posts", num=True), th("cost", num=True), th("touches", num=True)]
    for m in models:
        heads += [th(f"revenue · {m}", num=True), th(f"ROI · {m}", num=True)]
    heads += [th("trend"), th("7-day change", num=True)]
    body = []
    days = section.get("days") or []
    for r in rows[:MAX_KOL_ROWS]:
        cells = [td(platform_name(r["platform"])), td(r["kol_id"], cls="id"), td(count(r["posts"]), sort=r["posts"],
                                                                             cls="n"),
                 td(yuan(r["cost"]), sort=r["cost"], cls="n"), td(count(r["touches"]), sort=r["touches"], cls="n")]
        for m in models:
            cells += [td(yuan(r["revenue"][m]), sort=r["revenue"][m], cls="n"),
                      td(ratio_text(r["roi"][m]), sort=r["roi"][m], cls="n")]
        spark = sparkline(r["trend"], days, caption=f"{r['kol_id']}: credited revenue per day") if r["trend"] else ""
        change = r["change"]
        cells += [td_html(spark), td(pct(change), sort=change,
                                     cls="n " + ("up" if (change or 0) > 0 else "down" if (change or 0) < 0 else ""))]
        body.append(cells)
    out.append(table_html(heads, body, sortable=True))
    if len(rows) > MAX_KOL_ROWS:
        out.append(f'<p class="lead">Showing the {MAX_KOL_ROWS} KOLs with the most credited revenue of '
                   f'{count(len(rows))}; attribution.parquet has them all.</p>')
    return "".join(out) + "</section>"


def materials_html(section: dict[str, Any]) -> str:
    """The cross-platform creative reuse matrix, with thumbnails and combined effect."""
    models: list[str] = section["models"]
    first = models[0] if models else ""
    out = ['<section id="creatives"><h2>Creatives across platforms · 跨平台素材复用</h2>',
           '<p class="lead">Which creative ran where: each row is one creative, each column a platform; a cell '
           'shows how many edits of the creative ran there and the revenue credited to them'
           f'{esc(f" ({first})") if first else ""}. The last columns add up every platform.</p>']
    if section["grouping"] == "material_id":
        out.append(note("asset_groups.parquet was not found, so re-edited copies of one creative are not matched "
                        "across platforms yet: each material is its own row (run `omniplug match`)."))
    out.append(note(section.get("note")))
    creatives = section["creatives"]
    if not creatives:
        return "".join(out) + "</section>"
    platforms: list[str] = section["platforms"]
    out.append(f'<p class="lead">{count(section["total"])} creatives, {count(section["multi_platform"])} of them '
               f'on two platforms or more; {count(section["thumbs"])} of {count(len(creatives))} shown with a '
               f'thumbnail.</p>')
    vmax = max((cell["revenue"].get(first, 0.0) for c in creatives for cell in c["cells"].values()), default=0.0)
    heads = [th(""), th("creative"), *(th(platform_name(p)) for p in platforms), th("platforms", num=True),
             th("spend", num=True), th(f"revenue · {first}", num=True), th(f"ROI · {first}", num=True)]
    body, data = [], []
    for c in creatives:
        img = (f'<img src="{esc(c["thumb"])}" alt="{esc(c["title"])}">' if c["thumb"]
               else f'<div class="ph">{esc(c["media_type"] or "n/a")}</div>')
        cells = [td_html(img, cls="thumb"),
                 td_html(f'{esc(c["title"])}<br><span class="id">{esc(c["key"])}</span>')]
        for p in platforms:
            cell = c["cells"].get(p)
            if cell is None:
                cells.append(td("·", cls="cell off", sort=-1.0))
                continue
            rev = cell["revenue"].get(first, 0.0)
            data.append({"creative": c["key"], "platform": p, "materials": cell["materials"],
                         "touches": cell["touches"], "spend": cell["spend"], "revenue": rev})
            tip = (f"{cell['materials']} material(s), {cell['touches']:,} touches, spend {yuan(cell['spend'])}; "
                   + ", ".join(f"{m} {yuan(v)}" for m, v in cell["revenue"].items()))
            cells.append(td_html(f'<span class="m">{cell["materials"]}×</span><br>{esc(compact(rev))}',
                                 cls="cell", sort=rev, title=tip, style=heat(rev, vmax)))
        every = ", ".join(f"{m}: {yuan(v)} (ROI {ratio_text(c['roi'][m])})" for m, v in c["revenue"].items())
        cells += [td(len(c["cells"]), sort=len(c["cells"]), cls="n"), td(yuan(c["spend"]), sort=c["spend"], cls="n"),
                  td(yuan(c["revenue"].get(first)), sort=c["revenue"].get(first), cls="n", title=every),
                  td(ratio_text(c["roi"].get(first)), sort=c["roi"].get(first), cls="n", title=every)]
        body.append(cells)
    table = table_html(heads, body, sortable=True, cls="matrix")
    out.append(f'<figure class="chart matrix" data-chart="creative-matrix" data-rows="{attr(data)}" '
               f'aria-label="creative reuse matrix">{table}</figure>')
    if section["total"] > len(creatives):
        out.append(f'<p class="lead">Showing the {MAX_CREATIVES} creatives with the most credited revenue of '
                   f'{count(section["total"])}.</p>')
    return "".join(out) + "</section>"

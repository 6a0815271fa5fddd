"""Report sections on people and data: the AIPL funnels, identity stitching, data quality."""

from __future__ import annotations

from typing import Any

from omniplug.report.charts import PALETTE, attr, bar_chart, column_chart, count, esc, funnel_chart, heat
from omniplug.report.html_parts import STAGE_NAMES, kpi, note, platform_name, table_html, td, td_html, th

__all__ = ["aipl_html", "quality_html", "stitching_html"]


def aipl_html(section: dict[str, Any]) -> str:
    """The AIPL funnel across platforms (stitched persons) and per platform."""
    out = ['<section id="aipl"><h2>AIPL funnel · AIPL 人群漏斗</h2>',
           f'<p class="lead">Persons by their highest stage as of {esc(section.get("as_of") or "–")}: '
           'A = aware (passive contact within 15 days), I = interested (active contact within 15 days), '
           'P = purchased within 365 days, L = loyal (repeat purchase, or a share or review after one). '
           'Across platforms each stitched person counts once; per platform, a person counts on every '
           'platform where they were seen, at the stage reached there.</p>',
           *(note(n) for n in section.get("notes") or [])]
    funnels = section["funnels"]
    if not funnels:
        return "".join(out) + "</section>"
    out.append('<div class="grid">')
    for f in funnels:
        scope = f["scope"]
        title = "All platforms 全平台" if scope == "all platforms" else platform_name(scope)
        total = sum(f["counts"].values())
        out.append(f'<div class="funnel-box"><h3>{esc(title)}</h3>'
                   + funnel_chart(STAGE_NAMES, f["counts"], caption=f"{total:,} persons",
                                  kind="aipl-all" if scope == "all platforms" else "aipl-platform") + "</div>")
    out.append("</div>")
    heads = [th("scope"), *(th(f"{k} · {name}", num=True) for k, name in STAGE_NAMES), th("persons", num=True)]
    rows = [[td("all platforms" if f["scope"] == "all platforms" else platform_name(f["scope"])),
             *(td(count(f["counts"][k]), sort=f["counts"][k], cls="n") for k, _ in STAGE_NAMES),
             td(count(sum(f["counts"].values())), sort=sum(f["counts"].values()), cls="n")] for f in funnels]
    return "".join(out) + table_html(heads, rows) + _flows_html(section.get("flows") or []) + "</section>"


def _flows_html(flows: list[dict[str, Any]]) -> str:
    """Persons who changed stage between two dates (``aipl_flows``), largest moves first."""
    if not flows:
        return ""
    names = dict(STAGE_NAMES)

    def stage(s: str | None) -> str:
        return "no stage" if s is None else f"{s} · {names.get(s, s)}"

    first = flows[0]
    out = [f'<h3>Moves between stages, {esc(first["from_date"])} → {esc(first["to_date"])}</h3>']
    rows = [[td(stage(f["from_stage"])), td(stage(f["to_stage"])), td(count(f["persons"]), sort=f["persons"], cls="n")]
            for f in flows]
    return "".join(out) + table_html([th("from"), th("to"), th("persons", num=True)], rows)


def stitching_html(section: dict[str, Any]) -> str:
    """Persons, identifiers per person, platforms per person and what the guardrails cut."""
    out = ['<section id="stitching"><h2>Identity stitching · 身份打通 (OneID)</h2>',
           '<p class="lead">Identifiers linked by the platforms (an order\'s buyer id with its hashed phone, a '
           'device id with an account) are joined into persons. Guardrails cut links that would merge '
           'unrelated people: blocked values (test phones), hubs (an identifier shared by too many), and caps '
           'on identifiers per person.</p>', note(section.get("note"))]
    report = section.get("report") or {}
    persons, ids = section["persons"], section["identifiers"]
    tiles = [kpi(count(persons), "persons"), kpi(count(ids), "identifiers in persons"),
             kpi(f"{ids / persons:.2f}" if persons else "–", "identifiers per person"),
             kpi(count(report.get("largest_component")), "largest person (identifiers)"),
             kpi(count(report.get("links")), "links"),
             kpi(count(sum(c["links"] for c in section["cuts"])) if section["cuts"] else "–", "links cut")]
    out.append(f'<div class="kpis">{"".join(tiles)}</div>')
    out.append('<div class="pair">')
    if section["ids_per_person"]:
        out.append(column_chart(section["ids_per_person"], "ids", "persons", caption="Persons by identifiers held",
                                kind="ids-per-person"))
    if section["platforms_per_person"]:
        out.append(column_chart([{"platforms": str(r["platforms"]), "persons": r["persons"]}
                                 for r in section["platforms_per_person"]], "platforms", "persons",
                                caption="Persons by platforms where they touched or ordered",
                                color=PALETTE[2], kind="platforms-per-person"))
    out.append("</div>")
    if section["cuts"]:
        out.append(bar_chart(section["cuts"], "rule", "links", fmt=count, caption="Links cut by guardrail",
                             color=PALETTE[3], kind="cuts-by-guardrail"))
    if section["cut_rows"]:
        out.append(table_html(
            [th("rule"), th("identifiers or links cut", num=True), th("links", num=True),
             th("persons they would have merged", num=True)],
            [[td(r["rule"]), td(count(r["cuts"]), cls="n"), td(count(r["links"]), cls="n"),
              td(count(r["would_merge_persons"]), cls="n")] for r in section["cut_rows"]]))
    changes = [(k, report.get(f"persons_{k}")) for k in ("new", "kept", "merged", "split", "vanished")]
    if any(v is not None for _, v in changes):
        out.append('<p class="lead">Since the previous run: ' + esc(", ".join(
            f"{count(v)} {k}" for k, v in changes if v is not None)) + " persons.</p>")
    if section["id_types"]:
        out.append("<h3>Identifier types</h3>" + table_html(
            [th("type"), th("identifiers", num=True), th("persons holding one", num=True)],
            [[td(r["id_type"], cls="id"), td(count(r["identifiers"]), cls="n"), td(count(r["persons"]), cls="n")]
             for r in section["id_types"]]))
    return "".join(out) + "</section>"


def quality_html(section: dict[str, Any]) -> str:
    """Rows kept and rejected per table and platform, and rejects by reason."""
    out = ['<section id="quality"><h2>Data quality · 数据质量</h2>',
           '<p class="lead">Every fetched row either conforms to its canonical table or goes to rejects with '
           'its reason; nothing is dropped silently. Reasons are counted by table, column and rule, without '
           'the offending values (a row with two problems counts under both).</p>']
    if section["reasons"]:
        out.append(bar_chart(section["reasons"], "reason", "rejects", fmt=count, color=PALETTE[3],
                             caption=f"Rejected rows by reason ({section['rejects']:,} rejected rows)",
                             kind="rejects-by-reason"))
    else:
        out.append(note(section.get("note") or "No rejected rows."))
    tables = section["tables"]
    if tables:
        platforms = sorted({r["platform"] for r in tables}, key=str)
        names = list(dict.fromkeys(r["table"] for r in tables))
        cell = {(r["table"], r["platform"]): r for r in tables}
        vmax = max((r["rows"] for r in tables), default=0)
        heads = [th("table"), *(th(platform_name(p), num=True) for p in platforms)]
        body = []
        for name in names:
            cells = [td(name, cls="id")]
            for p in platforms:
                r = cell.get((name, p))
                if r is None:
                    cells.append(td("·", cls="n"))
                    continue
                bad = f'<br><span class="down">{count(r["rejects"])} rejected</span>' if r["rejects"] else ""
                cells.append(td_html(f"{count(r['rows'])}{bad}", cls="n", sort=r["rows"],
                                     style=heat(r["rows"], vmax)))
            body.append(cells)
        grid = table_html(heads, body)
        out.append(f'<h3>Rows kept per table and platform</h3><figure class="chart" data-chart="rows-by-table" '
                   f'data-rows="{attr(tables)}" aria-label="rows per table and platform">{grid}</figure>')
    if section["streams"]:
        out.append("<h3>Rejects per stream</h3>" + table_html(
            [th("platform"), th("stream"), th("table"), th("rejected rows", num=True)],
            [[td(platform_name(r["platform"])), td(r["stream"]), td(r["table"], cls="id"),
              td(count(r["rejects"]), cls="n")] for r in section["streams"]]))
    return "".join(out) + "</section>"

"""report.html: every figure against an independent DuckDB query or engine call, escaping, missing inputs."""

from __future__ import annotations

import base64
import html
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from PIL import Image

from omniplug import attribute
from omniplug.config import AttributionConfig
from omniplug.errors import InvalidInputError
from omniplug.report import build_report, collect_report_data
from omniplug.report.data_quality import reason_kind
from omniplug.report.sample import HOSTILE_TEXTS, write_sample_outputs
from omniplug.report.thumbs import thumbnail, thumbnail_bytes

CHART_KINDS = {"revenue-by-channel", "roi-by-channel", "revenue-by-platform", "roi-by-platform", "kol-roi",
               "sparkline", "aipl-all", "aipl-platform", "creative-matrix", "ids-per-person",
               "platforms-per-person", "cuts-by-guardrail", "rejects-by-reason", "rows-by-table"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    write_sample_outputs(out, scale=0.12, seed=11, media_files=False, awkward=True)
    return out


@pytest.fixture(scope="module")
def page(folder: Path) -> str:
    return build_report(folder).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def data(folder: Path) -> Any:
    return collect_report_data(folder)


def q(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    for file in folder.glob("*.parquet"):
        con.execute(f"CREATE VIEW {file.stem} AS SELECT * FROM read_parquet('{file}')")
    return con.execute(sql).fetchall()


class Charts(HTMLParser):
    """Collects chart figures, script elements and every attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, Any]] = []
        self.scripts = 0
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "script":
            self.scripts += 1
        if tag == "figure" and "chart" in (a.get("class") or "").split():
            self.charts.append({"kind": a.get("data-chart"), "rows": json.loads(a.get("data-rows") or "null")})


def parse(page: str) -> Charts:
    parser = Charts()
    parser.feed(page)
    return parser


def test_every_section_and_chart_is_there_with_data(page: str) -> None:
    for anchor in ("roi", "kol", "aipl", "creatives", "stitching", "quality"):
        assert f'<section id="{anchor}">' in page
    charts = parse(page).charts
    assert {c["kind"] for c in charts} == CHART_KINDS
    assert all(isinstance(c["rows"], list) and c["rows"] for c in charts)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "全域效果报告" in page and "天猫" in page


def test_revenue_spend_and_roi_by_platform_and_channel_equal_attribution_parquet(folder: Path, data: Any) -> None:
    got = {(r["model"], r["platform"], r["channel"]): r for r in data.attribution["rows"]}
    # attribution.parquet is at the pipeline's grain (finer by default): the report sums it up.
    want = q(folder, "SELECT model, platform, channel, sum(revenue), sum(conversions) FROM attribution "
                     "WHERE attributed GROUP BY ALL")
    spend = dict(((p, c), s) for p, c, s in q(folder, "SELECT platform, channel, CAST(sum(spend) AS DOUBLE) "
                                                       "FROM spend GROUP BY ALL"))
    assert data.attribution["source"] == "attribution.parquet" and len(want) > 5
    # Every model lists every platform and channel (zero where the model credits nothing there).
    keys = {(p, c) for _, p, c, _, _ in want} | set(spend)
    assert set(got) == {(m, *k) for m in data.models for k in keys}
    listed = {(m, p, c) for m, p, c, _, _ in want}
    assert all(r["revenue"] == 0 == r["conversions"] for k, r in got.items() if k not in listed)
    for model, platform, channel, revenue, conversions in want:
        row = got[(model, platform, channel)]
        assert row["revenue"] == pytest.approx(revenue) and row["conversions"] == pytest.approx(conversions)
        assert row["spend"] == (pytest.approx(spend[(platform, channel)]) if (platform, channel) in spend else None)
        assert row["roi"] == (pytest.approx(revenue / row["spend"]) if row["spend"] else None)
    if {"kol_id", "material_id"} <= {c for (c, *_) in q(folder, "DESCRIBE attribution")}:
        # At the finest grain the engine's own spend join sums to the same spend.
        for model, platform, channel, cost in q(folder, "SELECT model, platform, channel, sum(spend) FROM attribution "
                                                        "WHERE attributed GROUP BY ALL"):
            if cost is not None:
                assert got[(model, platform, channel)]["spend"] == pytest.approx(cost)
    unattributed = dict(q(folder, "SELECT model, sum(revenue) FROM attribution WHERE NOT attributed GROUP BY 1"))
    assert {m: v["revenue"] for m, v in data.attribution["unattributed"].items()} == pytest.approx(unattributed)
    # The breakdown behind the daily trends rolls up to the same figures.
    assert data.attribution["mismatch"] == pytest.approx(0.0, abs=1e-6)


def test_page_tables_show_the_figures(page: str, data: Any) -> None:
    text = html.unescape(page)
    for r in data.attribution["rows"]:
        assert f"¥{r['revenue']:,.0f}" in text
    kol = next(c for c in parse(page).charts if c["kind"] == "revenue-by-channel")
    plotted = sum(r["value"] for r in kol["rows"] if r["series"] == data.models[0])
    assert plotted == pytest.approx(sum(r["revenue"] for r in data.attribution["rows"] if r["model"] == data.models[0]))


def test_kol_cost_and_credited_revenue_match_independent_queries(folder: Path, data: Any) -> None:
    rows = {(r["platform"], r["kol_id"]): r for r in data.kols["rows"]}
    cost = {(p, k): s for p, k, s in q(folder, "SELECT platform, kol_id, CAST(sum(spend) AS DOUBLE) FROM spend "
                                               "WHERE kol_id IS NOT NULL GROUP BY ALL")}
    assert cost and all(rows[key]["cost"] == pytest.approx(v) for key, v in cost.items())
    # Credited revenue by KOL straight from the engine, grouped by KOL only.
    reference = attribute(pq.read_table(folder / "touchpoints.parquet"), pq.read_table(folder / "orders.parquet"),
                          persons=pq.read_table(folder / "persons.parquet"), model=data.models,
                          group_by=["platform", "kol_id"]).to_pylist()
    checked = 0
    for r in reference:
        if r["attributed"] and r["kol_id"] is not None:
            row = rows[(r["platform"], r["kol_id"])]
            assert row["revenue"][r["model"]] == pytest.approx(r["revenue"])
            if r["model"] == data.models[0]:
                assert sum(row["trend"]) == pytest.approx(r["revenue"])
            checked += 1
    assert checked >= len(data.models) * 2
    for row in rows.values():
        for model in data.models:
            expected = row["revenue"][model] / row["cost"] if row["cost"] else None
            assert row["roi"][model] == (pytest.approx(expected) if expected is not None else None)
    assert len(data.kols["days"]) == len(next(iter(rows.values()))["trend"])


def test_creative_matrix_groups_by_asset_and_sums_effect(folder: Path, data: Any) -> None:
    section = data.materials
    assert section["grouping"] == "asset_groups"
    multi = q(folder, "SELECT count(*) FROM (SELECT asset_id FROM asset_groups GROUP BY 1 "
                      "HAVING count(DISTINCT platform) > 1)")[0][0]
    assert section["multi_platform"] == multi > 0
    assert section["total"] == q(folder, "SELECT count(DISTINCT asset_id) FROM asset_groups")[0][0]
    first = data.models[0]
    credit = attribute(pq.read_table(folder / "touchpoints.parquet"), pq.read_table(folder / "orders.parquet"),
                       persons=pq.read_table(folder / "persons.parquet"), model=first,
                       group_by=["platform", "material_id"])
    con = duckdb.connect()
    con.register("credit", credit)
    con.execute(f"CREATE VIEW asset_groups AS SELECT * FROM read_parquet('{folder / 'asset_groups.parquet'}')")
    con.execute(f"CREATE VIEW spend AS SELECT * FROM read_parquet('{folder / 'spend.parquet'}')")
    want = dict(con.execute(
        "SELECT 'asset ' || a.asset_id, sum(c.revenue) FROM asset_groups a JOIN credit c "
        "ON a.platform = c.platform AND a.material_id = c.material_id WHERE c.attributed GROUP BY 1").fetchall())
    spend = dict(con.execute(
        "SELECT 'asset ' || a.asset_id, CAST(sum(s.spend) AS DOUBLE) FROM asset_groups a JOIN spend s "
        "ON a.platform = s.platform AND a.material_id = s.material_id GROUP BY 1").fetchall())
    for c in section["creatives"]:
        assert c["revenue"][first] == pytest.approx(want.get(c["key"], 0.0))
        assert c["spend"] == pytest.approx(spend[c["key"]]) if c["key"] in spend else c["spend"] is None
        assert sum(cell["revenue"][first] for cell in c["cells"].values()) == pytest.approx(c["revenue"][first])
    revenues = [c["revenue"][first] for c in section["creatives"]]
    assert revenues == sorted(revenues, reverse=True)


def test_without_asset_groups_each_material_is_its_own_creative(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "out"
    shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("asset_groups.parquet", "report.html"))
    data = collect_report_data(copy)
    assert data.materials["grouping"] == "material_id" and data.materials["multi_platform"] == 0
    assert data.materials["total"] == pq.read_table(copy / "materials.parquet").num_rows
    assert "asset_groups.parquet was not found" in build_report(copy).read_text(encoding="utf-8")


def test_aipl_funnels_across_and_per_platform(folder: Path, data: Any) -> None:
    funnels = {f["scope"]: f["counts"] for f in data.aipl["funnels"]}
    assert funnels["all platforms"] == {s: n for s, n in q(folder, "SELECT stage, count(*) FROM aipl GROUP BY 1")}
    assert data.aipl["as_of"] == str(q(folder, "SELECT max(as_of) FROM aipl")[0][0])
    # Purchasers and loyal customers of a platform: exactly the persons with a paid order there
    # (the world's orders all fall within the 365-day purchase window).
    buyers = dict(q(folder, """
        SELECT o.platform, count(DISTINCT coalesce(CAST(p.person_id AS VARCHAR), o.id_type || ':' || o.id_value))
        FROM orders o LEFT JOIN persons p USING (id_type, id_value) WHERE o.status = 'paid' GROUP BY 1"""))
    platforms = {p for (p,) in q(folder, "SELECT DISTINCT platform FROM touchpoints UNION "
                                         "SELECT DISTINCT platform FROM orders")}
    assert set(funnels) == platforms | {"all platforms"}
    for platform in platforms:
        assert funnels[platform]["P"] + funnels[platform]["L"] == buyers.get(platform, 0)


def test_stitching_statistics(folder: Path, data: Any) -> None:
    s = data.stitching
    assert s["persons"] == q(folder, "SELECT count(DISTINCT person_id) FROM persons")[0][0]
    assert s["identifiers"] == q(folder, "SELECT count(*) FROM persons")[0][0]
    assert sum(r["persons"] for r in s["ids_per_person"]) == s["persons"]
    report = json.loads((folder / "stitch_report.json").read_text())
    assert {r["rule"]: r["links"] for r in s["cuts"]} == report["links_cut"]
    assert sum(r["links"] for r in s["cut_rows"]) == q(folder, "SELECT coalesce(sum(links), 0) FROM cuts")[0][0]
    seen = q(folder, "SELECT count(DISTINCT p.person_id) FROM persons p JOIN (SELECT id_type, id_value FROM "
                     "touchpoints UNION SELECT id_type, id_value FROM orders) s USING (id_type, id_value)")[0][0]
    assert sum(r["persons"] for r in s["platforms_per_person"]) == seen


def test_rejects_by_reason_without_values(folder: Path, data: Any) -> None:
    quality = data.quality
    assert quality["rejects"] == q(folder, "SELECT count(*) FROM rejects")[0][0]
    reasons = {r["reason"]: r["rejects"] for r in quality["reasons"]}
    assert reasons["orders.amount: has more than 2 decimals"] == 2
    assert reasons["orders.status: is not a known order status"] == 1
    assert reasons["touchpoints.event_time: null in required column"] == 1
    assert reasons["touchpoints.channel: is not a known channel"] == 1
    assert reasons["spend.impressions: is negative"] == 1
    kept = {(r["table"], r["platform"]): r["rows"] for r in quality["tables"]}
    assert kept[("orders", "tmall")] == q(folder, "SELECT count(*) FROM orders WHERE platform = 'tmall'")[0][0]


@pytest.mark.parametrize(("reason", "kinds"), [
    ("orders.amount: '1.234' has more than 2 decimals", ["orders.amount: has more than 2 decimals"]),
    ("orders.amount: \"it's\" has more than 2 decimals", ["orders.amount: has more than 2 decimals"]),
    ("spend.clicks: -3 is negative; spend.date: null in required column",
     ["spend.clicks: is negative", "spend.date: null in required column"]),
    ("orders.order_time: 2026-10-01T08:00:00+08:00 is in the future", ["orders.order_time: is in the future"]),
    ("touchpoints.event_type: 'zap' is not a known event type (known: click, like)",
     ["touchpoints.event_type: is not a known event type"]),
    ("free text from a plugin", ["free text from a plugin"]),
    (None, ["unknown"]),
])
def test_reason_kind(reason: str | None, kinds: list[str]) -> None:
    assert reason_kind(reason) == kinds


def test_hostile_text_is_escaped_everywhere(page: str) -> None:
    parsed = parse(page)
    assert parsed.scripts == 1  # the page's own sorting script, nothing injected
    for tag, attrs in parsed.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert tag not in ("textarea", "iframe", "object", "embed")
    text = html.unescape(page)
    for hostile in HOSTILE_TEXTS[:2]:
        assert hostile not in page and hostile in text  # shown, as text only
    assert "window.__pwned" in text


def test_page_is_self_contained(page: str) -> None:
    parsed = parse(page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in html.unescape(page)
    for tag, attrs in parsed.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("data:image/", "#")), (tag, name, value[:60])
        assert tag not in ("link", "iframe", "base")
    assert "@import" not in page and "url(" not in page


def test_thumbnails_from_local_files_only(folder: Path, data: Any) -> None:
    rows = pq.read_table(folder / "materials.parquet").to_pylist()
    by_id = {r["material_id"]: r for r in rows}
    cases = {case: next(r for r in rows if r["uri"] and marker in r["uri"])["material_id"]
             for case, marker in (("file_uri", "file://"), ("plain_path", "b.jpg"), ("http", "http://"),
                                  ("missing", "missing.jpg"), ("corrupt", "corrupt.jpg"))}
    for case, material_id in cases.items():
        r = by_id[material_id]
        got = thumbnail(r["platform"], material_id, r["uri"], r["media_type"])
        assert (got is not None) == (case in ("file_uri", "plain_path")), case
        if got:
            img = Image.open(io.BytesIO(base64.b64decode(got.split(",", 1)[1])))
            assert img.format == "JPEG" and max(img.size) <= 96
    assert data.materials["thumbs"] >= 1
    # A media source wins over the uri, and a failing one falls back to it silently.
    png = (folder / "awkward-media" / "a.png").read_bytes()
    assert thumbnail("tmall", "x", None, "image", lambda p, m: png) is not None

    def broken(platform: str, material_id: str) -> bytes:
        raise OSError("cache gone")

    fallback = by_id[cases["plain_path"]]
    assert thumbnail("tmall", "x", fallback["uri"], "image", broken) is not None


def test_video_thumbnail_from_the_middle_frame() -> None:
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=4)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(8):
            colour = (250, 20, 20) if i < 4 else (20, 20, 250)  # red start, blue second half
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), colour))
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    got = thumbnail_bytes(buf.getvalue(), media_type="video")
    assert got is not None
    r, g, b = Image.open(io.BytesIO(base64.b64decode(got.split(",", 1)[1]))).convert("RGB").getpixel((10, 10))
    assert b > 150 and r < 100  # not the first (red) frame
    assert thumbnail_bytes(b"\x00\x01garbage", media_type="video") is None
    assert thumbnail_bytes(b"", media_type="image") is None


def test_missing_optional_tables(folder: Path, tmp_path: Path) -> None:
    only = tmp_path / "only"
    only.mkdir()
    for name in ("touchpoints", "orders"):
        shutil.copy(folder / f"{name}.parquet", only / f"{name}.parquet")
    page = build_report(only).read_text(encoding="utf-8")
    data = collect_report_data(only)
    assert data.attribution["source"] == "recomputed" and data.attribution["rows"]
    assert "persons.parquet not found" in page and "materials.parquet not found" in page
    assert "no rejects.parquet" in page and "aipl.parquet not found" in page
    assert all(c["rows"] for c in parse(page).charts)
    spend_only = tmp_path / "spend"
    spend_only.mkdir()
    shutil.copy(folder / "spend.parquet", spend_only / "spend.parquet")
    data = collect_report_data(spend_only)
    assert data.attribution["rows"] == [] and data.kols["rows"]  # costs without credit
    assert all(c["rows"] for c in parse(build_report(spend_only).read_text(encoding="utf-8")).charts)


def test_not_an_output_folder(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no omniplug outputs"):
        build_report(tmp_path)
    with pytest.raises(InvalidInputError, match="not a folder"):
        build_report(tmp_path / "nope")


def test_other_settings_are_flagged(folder: Path, tmp_path: Path) -> None:
    page = build_report(folder, tmp_path / "r.html",
                        settings=AttributionConfig(models=["last_touch", "linear"], lookback_days=1)).read_text()
    assert "differ from attribution.parquet" in page
    assert "differ from attribution.parquet" not in build_report(folder, tmp_path / "same.html").read_text()


def test_same_folder_same_bytes(folder: Path, tmp_path: Path) -> None:
    first = build_report(folder, tmp_path / "a.html").read_bytes()
    assert build_report(folder, tmp_path / "b.html").read_bytes() == first


def test_cli_report(folder: Path, tmp_path: Path) -> None:
    import omniplug.cli.report  # noqa: F401  (registers the command)
    from omniplug.cli import cli

    runner = CliRunner()
    helped = runner.invoke(cli, ["report", "--help"])
    assert helped.exit_code == 0 and "self-contained" in helped.output and "--pipeline" in helped.output
    pipeline = tmp_path / "pipeline.toml"
    pipeline.write_text('output_dir = "out"\n[attribution]\nmodels = ["last_touch", "linear"]\nlookback_days = 2\n')
    result = runner.invoke(cli, ["report", str(folder), "-o", str(tmp_path / "r.html"), "--pipeline", str(pipeline)])
    assert result.exit_code == 0, result.output
    assert "differ from attribution.parquet" in (tmp_path / "r.html").read_text(encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    failed = runner.invoke(cli, ["report", str(empty)])
    assert failed.exit_code == 2 and "no omniplug outputs" in failed.output

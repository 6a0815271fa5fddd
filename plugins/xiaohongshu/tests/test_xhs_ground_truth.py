"""Fetch + normalise every stream from the simulator gives back the world's Xiaohongshu slice exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.compute as pc
from omniplug_xiaohongshu.simulator import XiaohongshuSimulator

STREAMS = ("ad_reports", "creatives", "kol_notes", "touchpoints", "shop_orders")
EXACT_TABLES = ("spend", "touchpoints", "orders", "order_items", "identity_links")


def test_every_table_matches_the_world(sim: XiaohongshuSimulator, fetch: Any, truth: Any, output: Any,
                                       tmp_path: Path) -> None:
    """Row counts, amounts, identifier pairs and every primary key equal the world's slice."""
    for stream in STREAMS:
        result = fetch(stream, tmp_path)
        assert not result.rejects, f"{stream}: {dict(result.rejects)}"
    assert not sim.errors
    for name in EXACT_TABLES:
        got, want = output(tmp_path, name), truth(name)
        assert got.num_rows == want.num_rows, name
        assert got.to_pylist() == want.to_pylist(), f"{name} differs from the world"
    spend = output(tmp_path, "spend")
    assert pc.sum(spend["spend"]).as_py() == pc.sum(truth("spend")["spend"]).as_py()
    assert set(spend["channel"].to_pylist()) == {"paid", "search", "kol"}
    assert pc.sum(output(tmp_path, "orders")["amount"]).as_py() == pc.sum(truth("orders")["amount"]).as_py()


def test_materials_match_and_their_uris_serve_real_media(sim: XiaohongshuSimulator, fetch: Any, truth: Any,
                                                         output: Any, tmp_path: Path) -> None:
    """Materials from creatives and KOL notes equal the world's (but for uri); each kind of uri serves an image."""
    for stream in ("creatives", "kol_notes"):
        fetch(stream, tmp_path)
    got, want = output(tmp_path, "materials"), truth("materials")
    assert got.drop_columns(["uri"]).to_pylist() == want.drop_columns(["uri"]).to_pylist()
    assert all(uri.startswith(sim.base_url + "/media/") for uri in got["uri"].to_pylist())
    paid = got.filter(pc.is_null(got["kol_id"]))["uri"][0].as_py()
    kol = got.filter(pc.is_valid(got["kol_id"]))["uri"][0].as_py()
    for uri in (paid, kol):
        response = httpx.get(uri, timeout=30)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/webp"
        assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WEBP"
    assert httpx.get(sim.base_url + "/media/nope.webp", timeout=5).status_code == 404


def test_china_time_becomes_utc(sim: XiaohongshuSimulator, fetch: Any, output: Any, tmp_path: Path) -> None:
    """The wall-clock China time the platform serves lands as the same instant in UTC (8 hours earlier)."""
    fetch("touchpoints", tmp_path)
    first = sim.data.events[0][1]
    row = output(tmp_path, "touchpoints").filter(pc.equal(pc.field("event_id"), first["event_id"]))
    assert row.schema.field("event_time").type == pa.timestamp("ms", tz="UTC")
    served = datetime.strptime(first["event_time"], "%Y-%m-%d %H:%M:%S")  # naive China wall time
    assert row["event_time"][0].as_py() == (served - timedelta(hours=8)).replace(tzinfo=UTC)

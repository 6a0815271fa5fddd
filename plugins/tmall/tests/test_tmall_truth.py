"""Fetch + normalise against the simulator gives back exactly the world's Tmall slice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.compute as pc
from omniplug_tmall.simulator import TmallSimulator

from omniplug.sync import StreamResult

Fetch = Callable[..., dict[str, StreamResult]]
Tables = Callable[..., dict[str, pa.Table]]
Expected = Callable[[str], pa.Table]

TABLES = ("orders", "order_items", "identity_links", "spend", "touchpoints", "products", "materials")


def test_every_stream_matches_the_world_exactly(
    fetch: Fetch, tables: Tables, expected: Expected, window: dict[str, datetime], tmp_path: Path
) -> None:
    results = fetch(tmp_path, **window)
    assert not any(r.rejects for r in results.values()), {s: dict(r.rejects) for s, r in results.items()}
    got = tables(tmp_path)
    assert set(got) == set(TABLES)
    for name in TABLES:
        want, table = expected(name), got[name]
        if name == "materials":
            # The URI is where the simulator serves the file; the world has none.
            table, want = table.drop_columns(["uri"]), want.drop_columns(["uri"])
        assert table.num_rows == want.num_rows > 0, name
        assert table.equals(want), f"{name} differs from the world"
    # The headline figures, spelled out.
    assert pc.sum(got["orders"]["amount"]).as_py() == pc.sum(expected("orders")["amount"]).as_py()
    assert pc.sum(got["spend"]["spend"]).as_py() == pc.sum(expected("spend")["spend"]).as_py()
    pairs = {(r["left_type"], r["right_type"]) for r in got["identity_links"].to_pylist()}
    assert pairs == {("tmall_buyer_open_uid", "tmall_ouid"), ("tmall_ouid", "phone_sha256"),
                     ("tmall_ouid", "tmall_omid")}


def test_material_uris_download_real_media(
    fetch: Fetch, tables: Tables, sim: TmallSimulator, tmp_path: Path
) -> None:
    fetch(tmp_path, ["materials"])
    materials = tables(tmp_path, ["materials"])["materials"].to_pylist()
    assert materials
    for m in materials:
        assert m["uri"].startswith(sim.base_url + "/media/")
        body = httpx.get(m["uri"], timeout=60)
        assert body.status_code == 200
        assert body.headers["content-type"].startswith(("image/", "video/"))
        magic = body.content[:12]
        assert magic.startswith(b"\xff\xd8\xff") or magic[8:12] == b"WEBP" or magic[4:8] == b"ftyp"
        assert len(body.content) > 2000


def test_big_ids_stay_exact_and_china_time_becomes_utc(
    fetch: Fetch, tables: Tables, window: dict[str, datetime], sim: TmallSimulator, tmp_path: Path
) -> None:
    fetch(tmp_path, ["orders"], **window)
    orders = {o["order_id"]: o for o in tables(tmp_path, ["orders"])["orders"].to_pylist()}
    big = [tid for tid, trade in sim.data.trades.items() if tid > 2**53]
    assert big, "the world should hold trade ids above 2**53"
    for tid in big:
        assert str(tid) in orders  # every digit kept: a float would round these
    lines = tables(tmp_path, ["order_items"])["order_items"].column("line_id").to_pylist()
    assert {str(o["oid"]) for t in sim.data.trades.values() for o in t["orders"]["order"]} == set(lines)
    # The simulator serves China wall time; the canonical table holds the UTC instant.
    tid = big[0]
    served = sim.data.trades[tid]["created"]
    utc = orders[str(tid)]["order_time"].astimezone(UTC)
    assert (utc.hour + 8) % 24 == int(served[11:13])
    assert utc.strftime("%M:%S") == served[14:19]
    assert orders[str(tid)]["amount"] == Decimal(sim.data.trades[tid]["payment"])

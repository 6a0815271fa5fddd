"""Fetch + normalise against the simulator gives back exactly the world's Weibo slice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.compute as pc
from omniplug_weibo.simulator import WeiboSimulator

from omniplug.world import World

Table = Callable[[str], pa.Table]


def test_every_stream_matches_the_world(run, sim: WeiboSimulator, world: World, truth: Table, fetched,
                                        tmp_path: Path) -> None:
    since, until = world.config.start, world.config.end
    run("statuses", tmp_path)  # posts predate the window: the first run walks the whole timeline
    run("engagements", tmp_path, since=since, until=until)
    run("ad_reports", tmp_path, since=since, until=until)

    for name in ("touchpoints", "spend"):
        got, want = fetched(tmp_path, name), truth(name)
        assert got.num_rows == want.num_rows > 0, name
        assert got.equals(want), name
    spend = fetched(tmp_path, "spend")
    assert pc.sum(spend.column("spend")).as_py() == pc.sum(truth("spend").column("spend")).as_py()
    assert set(spend.column("channel").to_pylist()) == {"paid", "kol"}

    materials = fetched(tmp_path, "materials")
    want = truth("materials")
    assert materials.drop_columns(["uri"]).equals(want.drop_columns(["uri"]))
    assert {m for m in materials.column("kol_id").to_pylist() if m} == {
        k.kol_id for k in world.catalog.kols if k.platform == "weibo"}
    for uri in materials.column("uri").to_pylist()[:2]:
        assert uri.startswith(sim.base_url + "/media/large/")
        response = httpx.get(uri)
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        assert response.content[:3] == b"\xff\xd8\xff" and len(response.content) > 5_000


def test_a_first_run_without_a_window_also_gives_the_whole_slice(run, truth: Table, fetched, tmp_path: Path) -> None:
    """The clock stands a day after the window; the default look-back reaches its first day."""
    for stream in ("engagements", "ad_reports"):
        run(stream, tmp_path)
    for name in ("touchpoints", "spend"):
        assert fetched(tmp_path, name).equals(truth(name)), name


def test_ids_above_2_53_stay_exact(run, sim: WeiboSimulator, truth: Table, fetched, tmp_path: Path) -> None:
    run("engagements", tmp_path)
    event_ids = fetched(tmp_path, "touchpoints").column("event_id").to_pylist()
    big = [e for e in event_ids if int(e.removeprefix("we"), 16) > 2**53]
    assert big, "the world should hold event ids above 2**53"
    assert set(big) <= set(truth("touchpoints").column("event_id").to_pylist())
    served = {c["id"] for comments in sim.view.comments.values() for c in comments}
    assert any(i > 2**53 for i in served)
    # The cursor keeps the newest post id (above 2**53) exact, as a string.
    result = run("statuses", tmp_path / "s")
    newest = max(s["id"] for s in sim.view.statuses)
    assert newest > 2**53 and result.cursor == {"since": {"timeline": str(newest)}, "walk": None}


def test_china_time_becomes_utc(run, sim: WeiboSimulator, fetched, tmp_path: Path) -> None:
    run("engagements", tmp_path)
    touches = {r["event_id"]: r for r in fetched(tmp_path, "touchpoints").to_pylist()}
    comment = next(c for comments in sim.view.comments.values() for c in comments)
    # e.g. 'Sat Oct 03 17:12:19 +0800 2026' -> 09:12:19 UTC
    wall = comment["created_at"].split()[3]
    got = touches[f"we{comment['id']:014x}"]["event_time"]
    assert got.utcoffset().total_seconds() == 0
    assert (got.hour + 8) % 24 == int(wall[:2]) and got.strftime("%M:%S") == wall[3:]
    interaction = sim.view.interactions[0]
    got = touches[f"we{interaction['id']:014x}"]["event_time"]
    assert got.strftime("%Y-%m-%d %H:%M:%S") != interaction["time"]  # the ads host's wall time is China time

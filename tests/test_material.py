"""Material fingerprinting through the hook: real media over HTTP and from files, rejects with reasons,
plugin overrides, and the resumable pipeline step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import omniplug
from omniplug.config import PipelineConfig
from omniplug.context import FetchContext
from omniplug.material import DefaultFingerprinter, fingerprint_materials, materials_of
from omniplug.media import MediaLimits, MediaReader
from omniplug.pipeline_assets import cached_thumbnails, run_fingerprint, run_match, with_asset_ids
from omniplug.plugins import PluginRegistry
from omniplug.state import StateStore
from omniplug.testing import SimulatorBase
from omniplug.testing.messages import SimRequest, SimResponse
from omniplug.world import World
from omniplug.world.media_server import MediaLibrary

PLATFORMS = ("douyin", "xiaohongshu", "tmall")


class MediaCdn(SimulatorBase):
    """A CDN on loopback serving the world's creatives as each platform re-edited them."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.libraries = {p: MediaLibrary(world, p) for p in PLATFORMS}

    def fallback(self, request: SimRequest) -> SimResponse | None:
        _, platform, name = request.path.split("/", 2)
        found = self.libraries[platform].find(name) if platform in self.libraries else None
        if found is None:
            return None
        return SimResponse.bytes(found.data, content_type=found.media_type)

    def uri(self, platform: str, material_id: str) -> str:
        return f"{self.base_url}/{platform}/{self.libraries[platform].file_name(material_id)}"


@pytest.fixture(scope="module")
def cdn(world: World) -> Iterator[MediaCdn]:
    with MediaCdn(world) as server:
        yield server


@pytest.fixture(scope="module")
def catalogue(world: World, cdn: MediaCdn) -> pa.Table:
    """Every image and video material of three platforms, with its CDN uri, and its creative."""
    rows = []
    for platform in PLATFORMS:
        library = cdn.libraries[platform]
        for material in world.slice(platform)["materials"].to_pylist():
            if material["material_id"] in library:
                rows.append({**material, "uri": cdn.uri(platform, material["material_id"])})
    return materials_of(rows)


def _bad_rows(cdn: MediaCdn, tmp_path: Path) -> list[dict[str, Any]]:
    jpeg = cdn.libraries["tmall"].get(next(iter(cdn.libraries["tmall"].sources))).data
    (tmp_path / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    (tmp_path / "notes.jpg").write_text("not an image at all")
    return [
        {"material_id": "no-uri", "platform": "tmall", "media_type": "image", "uri": None},
        {"material_id": "gone", "platform": "tmall", "media_type": "image", "uri": cdn.base_url + "/tmall/gone.jpg"},
        {"material_id": "truncated", "platform": "tmall", "media_type": "image",
         "uri": (tmp_path / "truncated.jpg").as_uri()},
        {"material_id": "text", "platform": "tmall", "media_type": "image", "uri": str(tmp_path / "notes.jpg")},
    ]


def test_every_material_is_hashed_or_rejected_with_its_reason(cdn: MediaCdn, catalogue: pa.Table,
                                                              tmp_path: Path) -> None:
    table = pa.concat_tables([catalogue, materials_of(_bad_rows(cdn, tmp_path))])
    result = fingerprint_materials(table, run_id="r1")
    fingerprints, rejects = result["material_fingerprints"], result["rejects"]
    hashed = set(zip(fingerprints.column("platform").to_pylist(), fingerprints.column("material_id").to_pylist(),
                     strict=True))
    assert hashed == set(zip(catalogue.column("platform").to_pylist(), catalogue.column("material_id").to_pylist(),
                             strict=True))
    reasons = {json.loads(r["row"])["material_id"]: r["reason"] for r in rejects.to_pylist()}
    assert set(reasons) == {"no-uri", "gone", "truncated", "text"}
    assert "no uri" in reasons["no-uri"] and "HTTP 404" in reasons["gone"]
    assert all(r.startswith("uri: ") for r in reasons.values())
    assert {r["stream"] for r in rejects.to_pylist()} == {"fingerprint"}
    assert set(rejects.column("run_id").to_pylist()) == {"r1"}
    # Videos give frame rows; images frame -1.
    kinds = dict(zip(catalogue.column("material_id").to_pylist(), catalogue.column("media_type").to_pylist(),
                     strict=True))
    for row in fingerprints.select(["material_id", "frame"]).to_pylist():
        assert (row["frame"] >= 0) == (kinds[row["material_id"]] == "video")


def test_size_limit_rejects_before_reading(cdn: MediaCdn, catalogue: pa.Table) -> None:
    with MediaReader(MediaLimits(max_image_bytes=100, max_video_bytes=100)) as reader:
        result = fingerprint_materials(catalogue.slice(0, 3), reader)
    assert result["material_fingerprints"].num_rows == 0
    assert all("over the limit" in r for r in result["rejects"].column("reason").to_pylist())


def test_re_edited_creatives_group_into_assets(catalogue: pa.Table, world: World) -> None:
    fingerprints = fingerprint_materials(catalogue)["material_fingerprints"]
    groups = omniplug.group_assets(fingerprints)
    creative = {(t["platform"], t["material_id"]): t["creative_id"]
                for t in world.truth["truth_materials"].to_pylist()}
    by_asset: dict[int, set[int]] = {}
    for row in groups.to_pylist():
        by_asset.setdefault(row["asset_id"], set()).add(creative[(row["platform"], row["material_id"])])
    assert all(len(creatives) == 1 for creatives in by_asset.values()), "an asset mixes two creatives"
    multi_platform = [a for a, _ in by_asset.items()
                      if len({r["platform"] for r in groups.to_pylist() if r["asset_id"] == a}) > 1]
    assert multi_platform, "no creative was recognised across platforms"


class ExpiringPreviews:
    """A plugin overriding fingerprinting for one platform: its uris need a fresh signature first."""

    def __init__(self, cdn: MediaCdn) -> None:
        self.cdn = cdn
        self.calls = 0

    @omniplug.hookimpl(tryfirst=True)
    def omniplug_fingerprint(self, platform: str, materials: pa.RecordBatch, ctx: FetchContext) -> Any:
        if platform != "douyin":
            return None
        self.calls += 1
        table = pa.table(materials)
        fresh = [self.cdn.uri(platform, m) for m in table.column("material_id").to_pylist()]
        table = table.set_column(table.column_names.index("uri"), "uri", pa.array(fresh, pa.string()))
        return fingerprint_materials(table, ctx.media, run_id=ctx.run_id)


def test_a_plugin_overrides_one_platform_and_the_default_answers_the_rest(
        cdn: MediaCdn, catalogue: pa.Table, tmp_path: Path) -> None:
    plugin = ExpiringPreviews(cdn)
    registry = PluginRegistry([plugin], load_entry_points=False)
    stale = catalogue.set_column(catalogue.column_names.index("uri"), "uri",
                                 pa.array(["http://127.0.0.1:9/expired"] * catalogue.num_rows))
    with StateStore.open(tmp_path) as state:
        for platform in ("douyin", "tmall"):
            rows = stale.filter(pa.compute.equal(stale.column("platform"), platform))
            ctx = FetchContext(platform=platform, stream="fingerprint", config=_bare(), state=state,
                               media=MediaReader(MediaLimits(attempts=1)))
            tables = registry.fingerprint(platform, rows, ctx)
            if platform == "douyin":
                assert tables["rejects"].num_rows == 0 and tables["material_fingerprints"].num_rows > 0
            else:
                assert tables["rejects"].num_rows == rows.num_rows  # the default tried the stale uri
    assert plugin.calls == 1
    assert any(isinstance(p, DefaultFingerprinter) for p in registry.pm.get_plugins())


def _bare() -> Any:
    from omniplug.config import PlatformConfig

    return PlatformConfig(base_url="https://localhost")


def _pipeline(out: Path) -> PipelineConfig:
    return PipelineConfig(output_dir=str(out), platforms={})


class _Crash(Exception):
    pass


class CrashAfter:
    """Lets ``n`` chunks through, then fails like a killed process would stop."""

    def __init__(self, n: int) -> None:
        self.left = n

    @omniplug.hookimpl(tryfirst=True)
    def omniplug_fingerprint(self, platform: str, materials: pa.RecordBatch, ctx: FetchContext) -> Any:
        if self.left == 0:
            raise _Crash
        self.left -= 1
        return None


def _step(out: Path, registry: PluginRegistry, run_id: str) -> dict[str, Any]:
    with StateStore.open(out) as state:
        done = run_fingerprint(out, _pipeline(out), registry, state, run_id=run_id)
    done["match"] = run_match(out, _pipeline(out), set(done["tables"]))
    return done


def test_the_pipeline_step_resumes_after_a_crash_without_loss_or_repeats(
        catalogue: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("omniplug.pipeline_assets.CHUNK", 8)
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    for out in (reference, crashed):
        out.mkdir()
        pq.write_table(catalogue, out / "materials.parquet")
    full = _step(reference, PluginRegistry(load_entry_points=False), "run1")
    assert full["fingerprinted"] == catalogue.num_rows and full["rejected"] == 0

    with pytest.raises(_Crash):
        _step(crashed, PluginRegistry([CrashAfter(2)], load_entry_points=False), "run1")
    resumed = _step(crashed, PluginRegistry(load_entry_points=False), "run2")
    assert resumed["fingerprinted"] == catalogue.num_rows - 16
    for name in ("material_fingerprints", "asset_groups"):
        assert pq.read_table(crashed / f"{name}.parquet").equals(pq.read_table(reference / f"{name}.parquet")), name

    # Every material read kept a small JPEG for the offline report.
    thumbs = cached_thumbnails(reference)
    for row in catalogue.select(["platform", "material_id"]).to_pylist():
        data = thumbs(row["platform"], row["material_id"])
        assert data is not None and data[:3] == b"\xff\xd8\xff", row
    assert thumbs("tmall", "never-seen") is None

    again = _step(crashed, PluginRegistry(load_entry_points=False), "run3")
    assert again["fingerprinted"] == 0 and again["tables"] == {} and again["match"] == {}


def test_asset_ids_join_onto_touches_and_spend() -> None:
    groups = pa.table({"material_id": ["m1", "m2", "x"], "platform": ["jd", "jd", "weibo"],
                       "asset_id": pa.array([7, 7, 9], pa.int64()), "distance": pa.array([0, 3, 0], pa.int32())})
    touches = pa.table({"platform": ["jd", "jd", "weibo", "jd"], "material_id": ["m2", None, "x", "m9"]})
    assert with_asset_ids(touches, groups).column("asset_id").to_pylist() == [7, None, 9, None]
    assert with_asset_ids(touches, None).column("asset_id").null_count == 4

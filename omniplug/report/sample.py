"""A report-ready output folder from the synthetic world, without starting any simulator.

``omniplug demo`` fetches the world over HTTP from the platform simulators;
fetch and normalise give back exactly the world's canonical tables (that is
the demo's ground-truth check). For the report's own tests, screenshots and
documentation that detour is not needed: :func:`write_sample_outputs`
writes the world's tables straight into an output folder, runs the same
engine steps as ``omniplug run`` (stitch, attribute, AIPL) and builds the
DuckDB database. It can also write each image material's media file into
``<out>/media/`` (with ``uri`` pointing at it, so thumbnails work) and an
``asset_groups.parquet`` taken from the world's truth (which materials are
edits of one creative: what the fingerprint matcher is expected to find).

:func:`world_media` gives :func:`omniplug.report.build_report` the media of
a world's materials, for a demo folder whose simulators have stopped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.config import PipelineConfig
from omniplug.outputs import write_database
from omniplug.pipeline_steps import ENGINE_OUTPUTS, run_aipl, run_attribution, run_stitch
from omniplug.report.thumbs import MediaSource
from omniplug.schema import OUTPUT_TABLES, TABLES
from omniplug.sync import write_parquet_atomic
from omniplug.world import World, WorldConfig, build_world

__all__ = ["HOSTILE_TEXTS", "add_awkward_rows", "truth_asset_groups", "world_media", "write_sample_outputs"]

#: Text that would run script or break the page if the report did not escape it (each sets ``window.__pwned``).
HOSTILE_TEXTS = (
    "<script>window.__pwned = 1</script>双十一主推",
    '"><img src=x onerror="window.__pwned = 2">',
    "</textarea></table><svg onload=\"window.__pwned = 3\">",
)


def world_media(world: World, *, video_fps: int = 2) -> MediaSource:
    """``(platform, material_id) -> bytes`` of the world's media files (rendered on demand, offline).

    ``video_fps`` keeps rendered videos short to draw (a thumbnail needs one frame).
    """
    from omniplug.world.media_server import MediaLibrary

    libraries: dict[str, MediaLibrary] = {}

    def media(platform: str, material_id: str) -> bytes | None:
        if platform not in libraries:
            libraries[platform] = MediaLibrary(world, platform, video_fps=video_fps)
        library = libraries[platform]
        return library.get(material_id).data if material_id in library else None

    return media


def truth_asset_groups(world: World) -> pa.Table:
    """``asset_groups`` as the world's truth has them: one asset per original creative, distance 0."""
    truth = world.truth["truth_materials"]
    return pa.table({
        "material_id": truth.column("material_id"),
        "platform": truth.column("platform"),
        "asset_id": truth.column("creative_id").cast(pa.int64()),
        "distance": pa.array([0] * truth.num_rows, pa.int32()),
    }, schema=OUTPUT_TABLES["asset_groups"])


def _with_media_files(world: World, out: Path, videos: bool) -> pa.Table:
    from omniplug.world.media_server import MediaLibrary

    materials = world.tables["materials"]
    uris: list[str | None] = []
    libraries: dict[str, MediaLibrary] = {}
    for row in materials.select(["platform", "material_id", "media_type"]).to_pylist():
        platform, material_id = row["platform"], row["material_id"]
        library = libraries.setdefault(platform, MediaLibrary(world, platform, video_fps=2))
        if material_id not in library or (row["media_type"] == "video" and not videos):
            uris.append(None)
            continue
        file = out / "media" / platform / library.file_name(material_id)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(library.get(material_id).data)
        uris.append(file.resolve().as_uri())
    return materials.set_column(materials.column_names.index("uri"), "uri", pa.array(uris, pa.string()))


def write_sample_outputs(
    out_dir: str | Path,
    *,
    scale: float = 0.2,
    seed: int = 7,
    asset_groups: bool = True,
    media_files: bool = True,
    videos: bool = False,
    awkward: bool = False,
    world: World | None = None,
) -> World:
    """Write the world's canonical tables and the engine outputs into ``out_dir``; return the world.

    Args:
        out_dir: the output folder (created).
        scale: multiplies the demo world's consumers.
        seed: the world's seed.
        asset_groups: also write ``asset_groups.parquet`` from the world's truth.
        media_files: write image materials' files under ``<out>/media/`` and point ``uri`` at them.
        videos: also render video materials' files (slower: each is an encoded MP4).
        awkward: add :func:`add_awkward_rows` before the engine steps run.
        world: use this world instead of building one from ``scale`` and ``seed``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = world or build_world(WorldConfig(seed=seed).scaled(scale))
    tables = dict(world.tables)
    if media_files:
        tables["materials"] = _with_media_files(world, out, videos)
    for name, table in tables.items():
        if table.num_rows or name in ("touchpoints", "orders"):
            write_parquet_atomic(table.cast(TABLES[name]), out / f"{name}.parquet")
    if asset_groups:
        groups = truth_asset_groups(world)
        keep = pc.is_in(groups.column("material_id"), value_set=tables["materials"].column("material_id"))
        write_parquet_atomic(groups.filter(keep), out / "asset_groups.parquet")
    if awkward:
        add_awkward_rows(out)
    config = PipelineConfig(output_dir=out)
    changed = set(tables)
    for step in (run_stitch, run_attribution, run_aipl):
        changed |= set(step(out, config, changed))
    write_database(out, [*TABLES, *ENGINE_OUTPUTS, "asset_groups"])
    return world


def _tiny_image(path: Path, colour: tuple[int, int, int], fmt: str) -> None:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (160, 120), colour)
    ImageDraw.Draw(img).ellipse((40, 20, 120, 100), fill=(255, 255, 255))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, fmt)


def add_awkward_rows(out_dir: str | Path) -> dict[str, str]:
    """Add what a real folder may hold and a report must survive; return the material id per media case.

    * :data:`HOSTILE_TEXTS` in a material title, a KOL id (a spend row) and
      reject reasons and stream names;
    * ``rejects.parquet`` with reasons of several shapes;
    * material ``uri`` values: a ``file://`` PNG, a plain-path JPEG, an
      ``http://`` URL (never fetched), a missing file and a corrupt file.

    The returned mapping names the material of each case (``file_uri``,
    ``plain_path``, ``http``, ``missing``, ``corrupt``).
    """
    import pyarrow.parquet as pq

    out = Path(out_dir)
    materials = pq.read_table(out / "materials.parquet")
    rows = materials.to_pylist()
    images = [i for i, r in enumerate(rows) if r["media_type"] == "image"]
    cases = ("file_uri", "plain_path", "http", "missing", "corrupt")
    picked = dict(zip(cases, images, strict=False))
    media = out / "awkward-media"
    for case, i in picked.items():
        if case == "file_uri":
            _tiny_image(media / "a.png", (220, 40, 60), "PNG")
            rows[i]["uri"] = (media / "a.png").resolve().as_uri()
        elif case == "plain_path":
            _tiny_image(media / "b.jpg", (30, 120, 200), "JPEG")
            rows[i]["uri"] = str((media / "b.jpg").resolve())
        elif case == "http":
            rows[i]["uri"] = "http://192.0.2.1/never-fetched.jpg"
        elif case == "missing":
            rows[i]["uri"] = str((media / "missing.jpg").resolve())
        else:
            (media / "corrupt.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
            rows[i]["uri"] = str((media / "corrupt.jpg").resolve())
    if images:
        rows[images[0]]["title"] = HOSTILE_TEXTS[0]
    write_parquet_atomic(pa.Table.from_pylist(rows, schema=materials.schema), out / "materials.parquet")
    spend = pq.read_table(out / "spend.parquet")
    extra: dict[str, Any] = dict.fromkeys(spend.column_names)
    extra.update({"date": spend.column("date")[0].as_py(), "platform": "douyin", "channel": "kol",
                  "kol_id": HOSTILE_TEXTS[1], "spend": spend.column("spend")[0].as_py(), "impressions": 10,
                  "clicks": 1})
    write_parquet_atomic(pa.concat_tables([spend, pa.Table.from_pylist([extra], schema=spend.schema)]),
                         out / "spend.parquet")
    reasons = [
        ("orders", "orders", "orders.amount: '12.345' has more than 2 decimals"),
        ("orders", "orders", "orders.amount: '99.999' has more than 2 decimals"),
        ("orders", "orders", "orders.status: 'shipped' is not a known order status (known: cancelled, paid)"),
        ("touchpoints", "events", "touchpoints.event_time: null in required column; "
                                  "touchpoints.channel: 'tv' is not a known channel (known: crm, kol)"),
        ("spend", "ads", "spend.impressions: -5 is negative"),
        ("orders", HOSTILE_TEXTS[2], f"{HOSTILE_TEXTS[0]}: plugin said so"),
    ]
    rejects = pa.Table.from_pylist(
        [{"platform": "tmall", "stream": stream, "table": table, "row": '{"raw": "record"}', "reason": reason,
          "run_id": "sample"} for table, stream, reason in reasons], schema=TABLES["rejects"])
    write_parquet_atomic(rejects, out / "rejects.parquet")
    return {case: rows[i]["material_id"] for case, i in picked.items()}

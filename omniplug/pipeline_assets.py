"""The material steps of ``omniplug run``: fingerprint new materials, then group them into assets.

Fingerprinting is incremental and resumable like fetching: materials are
hashed in chunks, and each chunk's fingerprints and rejects are written as
part files and recorded in the state database in one transaction (the same
machinery as :mod:`omniplug.sync`). A material is hashed once: later runs
skip every ``(platform, material_id)`` that already has fingerprints, so a
run killed in the middle resumes with the next chunk and nothing is hashed
twice. Materials that could not be read or decoded are tried again on the
next run (a CDN hiccup heals itself); their rejects rows are de-duplicated
on compaction.

Grouping (:func:`omniplug.group_assets`) is a full pass over all
fingerprints whenever they changed; it is fast (an exact multi-index
Hamming search) and its asset ids are derived from the group's
representative, so unchanged groups keep their ids.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from omniplug.assets import group_assets
from omniplug.config import PipelineConfig, PlatformConfig
from omniplug.context import FetchContext
from omniplug.material import FINGERPRINT_STREAM
from omniplug.media import MediaLimits, MediaReader
from omniplug.plugins import PluginRegistry
from omniplug.progress import NullProgress, Progress
from omniplug.state import PartRecord, StateStore
from omniplug.sync import PARTS_DIR, compact_tables, write_parquet_atomic
from omniplug.validate import validate_batch

__all__ = ["CHUNK", "THUMBNAILS_DIR", "cached_thumbnails", "run_fingerprint", "run_match", "with_asset_ids"]

#: Materials per committed chunk: small enough that a killed run loses little work.
CHUNK = 64
#: Folder of the output folder where each material's thumbnail is kept (for report.html,
#: which must open offline while material URIs point at CDNs).
THUMBNAILS_DIR = "thumbnails"


def _thumbnail_path(out: Path, platform: str, material_id: str) -> Path:
    return out / THUMBNAILS_DIR / quote(platform, safe="") / f"{quote(material_id, safe='')}.jpg"


def cached_thumbnails(out: Path) -> Callable[[str, str], bytes | None]:
    """The report's media source: the thumbnail fingerprinting kept of ``(platform, material_id)``, if any."""

    def read(platform: str, material_id: str) -> bytes | None:
        path = _thumbnail_path(out, platform, material_id)
        return path.read_bytes() if path.exists() else None

    return read


class _ThumbnailKeeper:
    """Writes a small JPEG of every media file the reader fetched, under the keys of the current chunk."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.keys: dict[str, list[tuple[str, str]]] = {}

    def __call__(self, uri: str, media_type: str, data: bytes) -> None:
        from omniplug.report.thumbs import thumbnail_bytes

        todo = [k for k in self.keys.get(uri, ()) if not _thumbnail_path(self.out, *k).exists()]
        if not todo:
            return
        uri_data = thumbnail_bytes(data, media_type=media_type)
        if uri_data is None:
            return
        jpeg = base64.b64decode(uri_data.partition(",")[2])
        for platform, material_id in todo:
            path = _thumbnail_path(self.out, platform, material_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(jpeg)
            tmp.replace(path)


def _done_keys(out: Path, state: StateStore) -> set[tuple[str, str]]:
    """``(platform, material_id)`` of every material with committed fingerprints."""
    done: set[tuple[str, str]] = set()
    for part in state.committed_parts(table="material_fingerprints"):
        keys = pq.read_table(out / part.path, columns=["platform", "material_id"])
        done.update(zip(keys.column("platform").to_pylist(), keys.column("material_id").to_pylist(), strict=True))
    return done


def _media_limits(config: PipelineConfig) -> MediaLimits:
    assets = config.assets
    return MediaLimits(max_image_bytes=assets.max_image_bytes, max_video_bytes=assets.max_video_bytes,
                       timeout=assets.media_timeout_seconds)


def run_fingerprint(
    out: Path, config: PipelineConfig, registry: PluginRegistry, state: StateStore, *, run_id: str,
    platforms: dict[str, PlatformConfig] | None = None, progress: Progress | None = None,
) -> dict[str, Any]:
    """Fingerprint every material of ``materials.parquet`` that has no fingerprints yet.

    Each platform's materials go through that platform's ``omniplug_fingerprint``
    (the framework's default unless a plugin overrides it), ``CHUNK`` at a time.
    ``platforms`` are the validated platform sections (the hook gets its
    platform's as ``ctx.config``; materials imported for a platform that is
    not configured get a bare config).

    Returns:
        ``{"fingerprinted": n, "rejected": n, "tables": {name: path}}`` (the
        compacted tables written, empty when nothing was new).
    """
    summary: dict[str, Any] = {"fingerprinted": 0, "rejected": 0, "tables": {}}
    source = out / "materials.parquet"
    if not source.exists():
        return summary
    materials = pq.read_table(source)
    done = _done_keys(out, state)
    keys = zip(materials.column("platform").to_pylist(), materials.column("material_id").to_pylist(), strict=True)
    todo = materials.filter(pa.array([k not in done for k in keys], pa.bool_()))
    if todo.num_rows == 0:
        return summary
    progress = progress or NullProgress()
    task = progress.task("materials fingerprinted", total=todo.num_rows, unit="materials")
    seq = 0
    keeper = _ThumbnailKeeper(out)
    with MediaReader(_media_limits(config), on_read=keeper) as reader:
        for platform in sorted(set(todo.column("platform").to_pylist())):
            rows = todo.filter(pc.equal(todo.column("platform"), platform))
            cfg = (platforms or {}).get(platform) or PlatformConfig(base_url="https://localhost")
            ctx = FetchContext(platform=platform, stream=FINGERPRINT_STREAM, config=cfg, run_id=run_id,
                               state=state, progress=progress, media=reader)
            try:
                for start in range(0, rows.num_rows, CHUNK):
                    chunk = rows.slice(start, CHUNK)
                    keeper.keys = {}
                    for row in chunk.select(["platform", "material_id", "uri"]).to_pylist():
                        keeper.keys.setdefault(row["uri"], []).append((row["platform"], row["material_id"]))
                    tables = registry.fingerprint(platform, chunk, ctx)
                    seq += 1
                    parts = _write_parts(out, platform, run_id, seq, tables)
                    state.commit_batch(platform, FINGERPRINT_STREAM, cursor={"run_id": run_id, "chunks": seq},
                                       parts=parts, run_id=run_id)
                    summary["fingerprinted"] += chunk.num_rows - tables["rejects"].num_rows
                    summary["rejected"] += tables["rejects"].num_rows
                    task.advance(chunk.num_rows)
            finally:
                ctx.close()
    task.finish()
    summary["tables"] = compact_tables(out, state, tables=["material_fingerprints", "rejects"])
    return summary


def _write_parts(out: Path, platform: str, run_id: str, seq: int, tables: dict[str, pa.Table]) -> list[PartRecord]:
    parts: list[PartRecord] = []
    for name in ("material_fingerprints", "rejects"):
        table = tables.get(name)
        if table is None or table.num_rows == 0:
            continue
        if name == "material_fingerprints":
            checked = validate_batch(name, table, platform=platform, stream=FINGERPRINT_STREAM, run_id=run_id)
            table = checked.valid
        rel = Path(PARTS_DIR) / name / f"{platform}.{FINGERPRINT_STREAM}.{run_id}.{seq:06d}.parquet"
        size, digest = write_parquet_atomic(table, out / rel)
        parts.append(PartRecord(table=name, path=rel.as_posix(), rows=table.num_rows, size=size, sha256=digest))
    return parts


def run_match(out: Path, config: PipelineConfig, changed: set[str]) -> dict[str, Path]:
    """Group ``material_fingerprints`` into ``asset_groups`` when the fingerprints changed (or it is missing)."""
    source, target = out / "material_fingerprints.parquet", out / "asset_groups.parquet"
    if not source.exists() or ("material_fingerprints" not in changed and target.exists()):
        return {}
    kwargs = {} if config.assets.max_distance is None else {"max_distance": config.assets.max_distance}
    groups = group_assets(pq.read_table(source), **kwargs)
    write_parquet_atomic(groups, target)
    return {"asset_groups": target}


def with_asset_ids(table: pa.Table, asset_groups: pa.Table | None) -> pa.Table:
    """``table`` (touchpoints, spend: anything with ``platform`` and ``material_id``) plus an ``asset_id`` column.

    The asset of each row's material, from ``asset_groups``; null where the
    row has no material or its material was never grouped. Row order is kept.
    """
    if asset_groups is None:
        return table.append_column("asset_id", pa.nulls(table.num_rows, pa.int64()))
    lookup = {(p, m): a for p, m, a in zip(asset_groups.column("platform").to_pylist(),
                                           asset_groups.column("material_id").to_pylist(),
                                           asset_groups.column("asset_id").to_pylist(), strict=True)}
    ids = [lookup.get(k) for k in zip(table.column("platform").to_pylist(), table.column("material_id").to_pylist(),
                                      strict=True)]
    return table.append_column("asset_id", pa.array(ids, pa.int64()))

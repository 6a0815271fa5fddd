"""The framework's default material fingerprinting: read each material's media, hash it in the Rust core.

:class:`DefaultFingerprinter` is registered in every
:class:`~omniplug.plugins.PluginRegistry` as a ``trylast`` implementation of
``omniplug_fingerprint``, so a plugin needs no code for materials whose
``uri`` can simply be downloaded; a plugin overrides the hook only when its
platform needs something special (signed preview URLs that expire, media
behind an API call).

:func:`fingerprint_materials` is the same work as a plain function over a
``materials`` table: media are read concurrently (downloads are I/O bound)
within :class:`~omniplug.media.MediaLimits`, images are hashed by
:func:`omniplug.fingerprint.fingerprint_images`, videos by
:func:`omniplug.fingerprint.fingerprint_video`, and every material that
cannot be read or decoded becomes a ``rejects`` row with its reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from omniplug import hookimpl
from omniplug.fingerprint import fingerprint_images
from omniplug.fingerprint_video import fingerprint_video
from omniplug.media import MediaError, MediaReader
from omniplug.schema import TABLES

if TYPE_CHECKING:
    from omniplug.context import FetchContext

__all__ = ["DefaultFingerprinter", "FINGERPRINT_STREAM", "fingerprint_materials"]

#: The ``stream`` of rejects rows and state records written by fingerprinting.
FINGERPRINT_STREAM = "fingerprint"

#: Downloads in flight at once (media reads wait on the network, not the CPU).
READ_CONCURRENCY = 8


def _reject(row: dict[str, Any], reason: str, run_id: str) -> dict[str, Any]:
    record = {"material_id": row.get("material_id"), "media_type": row.get("media_type"), "uri": row.get("uri")}
    return {"platform": row.get("platform"), "stream": FINGERPRINT_STREAM, "table": "material_fingerprints",
            "row": json.dumps(record, ensure_ascii=False), "reason": f"uri: {reason}", "run_id": run_id}


def fingerprint_materials(
    materials: pa.Table | pa.RecordBatch,
    reader: MediaReader | None = None,
    *,
    run_id: str = "",
) -> dict[str, pa.Table]:
    """Fingerprint every row of a ``materials`` table.

    Args:
        materials: rows with at least ``material_id``, ``platform``, ``uri``
            and ``media_type`` (``image`` or ``video``; missing means image).
        reader: how media are read (its limits bound every read); default a
            new :class:`~omniplug.media.MediaReader` with default limits.
        run_id: stamped on the rejects rows.

    Returns:
        ``{"material_fingerprints": ..., "rejects": ...}``: the hashes of every
        material that could be read and decoded, and one rejects row (with
        the reason: missing uri, HTTP error, over the size limit, not an image,
        corrupt, too many pixels ...) for every other.
    """
    table = pa.table(materials) if isinstance(materials, pa.RecordBatch) else materials
    rows = table.select([c for c in ("material_id", "platform", "media_type", "uri") if c in table.column_names]
                        ).to_pylist()
    own = reader is None
    reader = reader or MediaReader()
    try:
        media = _read_all(rows, reader)
    finally:
        if own:
            reader.close()
    rejects: list[dict[str, Any]] = []
    images: list[tuple[dict[str, Any], bytes]] = []
    videos: list[tuple[dict[str, Any], bytes]] = []
    for row, data in zip(rows, media, strict=True):
        if isinstance(data, MediaError):
            rejects.append(_reject(row, str(data), run_id))
        elif (row.get("media_type") or "image") == "video":
            videos.append((row, data))
        else:
            images.append((row, data))
    pieces: list[pa.Table] = []
    for hash_media, items in ((fingerprint_images, images), (fingerprint_video, videos)):
        if not items:
            continue
        result = hash_media(pa.table({
            "material_id": pa.array([r["material_id"] for r, _ in items], pa.string()),
            "platform": pa.array([r["platform"] for r, _ in items], pa.string()),
            "content": pa.array([d for _, d in items], pa.binary()),
        }))
        pieces.append(result.fingerprints)
        for bad in result.rejects.to_pylist():
            rejects.append(_reject(items[bad["row"]][0], bad["reason"], run_id))
    schema = TABLES["material_fingerprints"]
    fingerprints = pa.concat_tables([p.cast(schema) for p in pieces]) if pieces else schema.empty_table()
    return {"material_fingerprints": fingerprints,
            "rejects": pa.Table.from_pylist(rejects, schema=TABLES["rejects"])}


def _read_all(rows: list[dict[str, Any]], reader: MediaReader) -> list[bytes | MediaError]:
    def read(row: dict[str, Any]) -> bytes | MediaError:
        try:
            return reader.read(row.get("uri"), row.get("media_type") or "image")
        except MediaError as exc:
            return exc

    if len(rows) <= 1:
        return [read(r) for r in rows]
    with ThreadPoolExecutor(max_workers=min(READ_CONCURRENCY, len(rows))) as pool:
        return list(pool.map(read, rows))


class DefaultFingerprinter:
    """The framework's ``omniplug_fingerprint``: download each ``uri`` and hash it (``trylast``)."""

    name = "omniplug-default-fingerprint"

    @hookimpl(trylast=True)
    def omniplug_fingerprint(self, platform: str, materials: pa.RecordBatch,
                             ctx: FetchContext) -> dict[str, pa.Table]:
        """Fingerprint ``materials`` with :func:`fingerprint_materials`, reading with the context's limits."""
        reader = getattr(ctx, "media", None)
        return fingerprint_materials(materials, reader, run_id=ctx.run_id)


def materials_of(rows: Iterable[dict[str, Any]]) -> pa.Table:
    """A ``materials`` table from plain rows (missing columns null); a convenience for callers and tests."""
    return pa.Table.from_pylist(list(rows), schema=TABLES["materials"])

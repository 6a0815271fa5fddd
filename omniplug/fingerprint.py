"""Perceptual fingerprints of creatives: images in, ``material_fingerprints`` rows out.

:func:`fingerprint_images` hashes encoded images (JPEG, PNG, WebP) given as
bytes (a binary ``content`` column) or as files (a string ``uri`` column:
a local path or a ``file://`` URI) in the Rust core, in parallel, with the
GIL released. :func:`fingerprint_video` (in :mod:`omniplug.fingerprint_video`,
re-exported here) samples frames of videos; :func:`fingerprint_pixels`
hashes pixels decoded elsewhere.

Each image gets a bundle of hashes, one row per (algorithm, window):

* ``dhash64`` and ``phash64`` (64-bit, the ``imagehash`` package's dHash and
  pHash definitions) and ``pdq256`` (Meta's 256-bit PDQ);
* windows: the whole image (the bare algorithm name, ``dhash64``), and
  regions a platform edit usually keeps, as ``name@window``: the content
  after stripping pads and borders (``trim``), centre crops (``crop05`` ...
  ``crop30``), edge crops cutting 10 % or 20 % from one side only
  (``cutl10``, ``cutr10``, ``cutt10``, ``cutb10``, ``cutl20`` ... ``cutb20``:
  what a one-sided crop keeps), aspect cover crops (``cover1x1``,
  ``cover3x4``, ``cover9x16``, ``cover16x9``), and, for letterboxed or
  pillarboxed images only (content centred within 5 %), the same cover crops
  of the trimmed content (``tcover1x1`` ... ``tcover16x9``: a 9:16 video frame
  with a blurred letterbox around a square creative still matches that
  creative's 3:4 crop), each also mirrored (``dhash64@crop10_mirror``). PDQ is
  computed for ``full`` and ``trim`` only. Windows that coincide with an
  earlier one, or are nearly flat, are left out.
* ``quality`` 0-100: PDQ's gradient measure of the content; images with too
  little structure to hash reliably (a flat colour, a faint gradient, a small
  logo on white) get 0 on every row, and :func:`omniplug.group_assets` never
  matches them.

``hash`` holds the code as big-endian bytes (8 or 32): its hex is
``imagehash``'s / PDQ's text form. Still images have ``frame = -1``.

Bad inputs never fail the batch: a row that cannot be read or decoded
(corrupt, truncated, empty, not an image, above the size or pixel limits, a
missing file, a remote URL) is returned in ``rejects`` with the reason.

Example::

    import omniplug
    result = omniplug.fingerprint_images(materials)   # material_id, platform, content | uri
    result.fingerprints   # material_fingerprints rows
    result.rejects        # row, material_id, platform, reason
    fingerprints, rejects = result   # also unpacks
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omniplug import _core
from omniplug.errors import InvalidInputError
from omniplug.fingerprint_io import (
    ALGORITHMS,
    CORE_REJECTS_SCHEMA,
    DEFAULTS,
    REJECTS_SCHEMA,
    ROWS_SCHEMA,
    FingerprintResult,
    PixelFingerprints,
    attach_keys,
    concat,
    keyed_rejects,
    media_columns,
    options_json,
    pixel_buffer,
    source_table,
    uri_to_path,
)
from omniplug.fingerprint_video import fingerprint_video

__all__ = [
    "ALGORITHMS",
    "REJECTS_SCHEMA",
    "FingerprintResult",
    "PixelFingerprints",
    "fingerprint_images",
    "fingerprint_pixels",
    "fingerprint_video",
]

#: Rows handed to the core per call: bounds the memory of one call's results.
BATCH_ROWS = 2048


def fingerprint_images(
    table: Any,
    *,
    material_id: str | None = None,
    platform: str | None = None,
    algorithms: Sequence[str] = ALGORITHMS,
    windows: Literal["all", "full"] = "all",
    min_quality: int = DEFAULTS["min_quality"],
    max_bytes: int = DEFAULTS["max_input_bytes"],
    max_pixels: int = DEFAULTS["max_pixels"],
    max_side: int = DEFAULTS["max_side"],
    root: str | os.PathLike[str] | None = None,
) -> FingerprintResult:
    """Fingerprint the images of a table: ``material_fingerprints`` rows and rejects.

    Args:
        table: Arrow tabular data with ``material_id``, ``platform`` and either
            a binary ``content`` column (the encoded JPEG/PNG/WebP bytes) or a
            string ``uri`` column (a local path or ``file://`` URI). With both,
            ``content`` is used where it is not null and ``uri`` elsewhere.
            Other columns are ignored. Or one image: its ``bytes``, or its
            path / URI as ``str``, with ``material_id=`` and ``platform=``.
        material_id, platform: the keys of a single image.
        algorithms: any of ``dhash64``, ``phash64``, ``pdq256`` (default all;
            :func:`omniplug.group_assets` needs ``dhash64`` and ``phash64``).
        windows: ``"all"`` (the window set, for matching crops, pads and
            mirrors) or ``"full"`` (the whole image and its mirror only).
        min_quality: images whose PDQ quality is below this get quality 0 on
            every row (never matched). Default 10.
        max_bytes: larger inputs are rejected (default 64 MiB); a file's size
            is checked before it is read.
        max_pixels: images whose header declares more pixels are rejected
            before any pixel is decoded (default 50 megapixels).
        max_side: images with a wider or taller side are rejected (default 20,000).
        root: folder that relative paths in ``uri`` are relative to (default:
            the working directory).

    Returns:
        A :class:`FingerprintResult` (``.fingerprints``, ``.rejects``; unpacks
        as a pair). Every input row is in exactly one of them.

    Raises:
        InvalidInputError: the table lacks the columns, or a setting is invalid.
    """
    opts = options_json(algorithms, windows, min_quality, max_bytes, max_pixels, max_side)
    data = source_table(table, material_id, platform, "fingerprint_images")
    material_ids, platforms, content, uri = media_columns(data, "fingerprint_images table")
    pieces: list[pa.Table] = []
    rejects: list[pa.Table] = []
    for start in range(0, len(material_ids), BATCH_ROWS):
        rows = np.arange(start, min(start + BATCH_ROWS, len(material_ids)), dtype=np.int64)
        if content is None:
            by_content, by_uri = rows[:0], rows
        else:
            valid = content.slice(start, len(rows)).is_valid().to_numpy(zero_copy_only=False)
            by_content, by_uri = (rows[valid], rows[~valid]) if uri is not None else (rows, rows[:0])
        if len(by_content):
            idx = pa.array(by_content)
            _collect(_core.fingerprint_encoded(content.take(idx), opts), idx, pieces, rejects)  # type: ignore[union-attr]
        if len(by_uri):
            _hash_paths(uri, by_uri, root, opts, pieces, rejects)  # type: ignore[arg-type]
    rows_done = concat(pieces, ROWS_SCHEMA)
    if content is not None and uri is not None:
        # Content rows and path rows of a slice were hashed in two calls: back to input order
        # (the sort is stable, so each image keeps its window order).
        rows_done = rows_done.take(pc.sort_indices(rows_done.column("item")))
    fingerprints = attach_keys(rows_done, material_ids, platforms, -1)
    rejected = concat(rejects, CORE_REJECTS_SCHEMA).sort_by("item")
    return FingerprintResult(fingerprints, keyed_rejects(rejected, material_ids, platforms))


def _hash_paths(
    uri: pa.Array,
    rows: np.ndarray,
    root: str | os.PathLike[str] | None,
    opts: str,
    pieces: list[pa.Table],
    rejects: list[pa.Table],
) -> None:
    """Hash the files of ``rows``; URIs that are not local files are rejected here."""
    paths: list[str] = []
    kept: list[int] = []
    bad: dict[str, list[Any]] = {"item": [], "reason": []}
    for row, value in zip(rows.tolist(), uri.take(pa.array(rows)).to_pylist(), strict=True):
        try:
            if value is None:
                raise InvalidInputError("neither content nor uri is given")
            paths.append(uri_to_path(value, root))
            kept.append(row)
        except InvalidInputError as exc:
            bad["item"].append(row)
            bad["reason"].append(str(exc))
    if bad["item"]:
        rejects.append(pa.table(bad, schema=CORE_REJECTS_SCHEMA))
    if kept:
        idx = pa.array(kept, pa.int64())
        _collect(_core.fingerprint_files(pa.array(paths, pa.string()), opts), idx, pieces, rejects)


def _collect(
    result: tuple[pa.Table, pa.Table], idx: pa.Array, pieces: list[pa.Table], rejects: list[pa.Table]
) -> None:
    """Keep a core call's rows and rejects with ``item`` turned into the input row ``idx[item]``."""
    core_rows, core_rejects = result
    rows = core_rows.set_column(0, "item", idx.take(core_rows.column("item").combine_chunks()))
    pieces.append(rows.cast(ROWS_SCHEMA))
    if core_rejects.num_rows:
        items = idx.take(core_rejects.column("item").combine_chunks())
        rejects.append(core_rejects.set_column(0, "item", items).cast(CORE_REJECTS_SCHEMA))


def fingerprint_pixels(
    images: Sequence[Any],
    *,
    algorithms: Sequence[str] = ALGORITHMS,
    windows: Literal["all", "full"] = "all",
    min_quality: int = DEFAULTS["min_quality"],
    max_pixels: int = DEFAULTS["max_pixels"],
    max_side: int = DEFAULTS["max_side"],
) -> PixelFingerprints:
    """Fingerprint images decoded elsewhere (numpy arrays or PIL images), in parallel.

    Each image is a ``(height, width)`` ``uint8`` gray array, a ``(height,
    width, 3)`` ``uint8`` RGB array (luma = 0.299 R + 0.587 G + 0.114 B, as
    PIL and PDQ compute it) or a PIL image. A large image is box-reduced to
    the working size first (short side 64-127 px), as decoding does; an
    image whose short side is under 128 px is hashed at its own size, so its
    ``pdq256`` row is exactly PDQ of those pixels.

    Settings are those of :func:`fingerprint_images`.

    Returns:
        :class:`PixelFingerprints`: rows ``item, algorithm, hash, quality``
        (``item`` is the position in ``images``) and rejects ``item, reason``
        (e.g. an image above the pixel limits).
    """
    opts = options_json(algorithms, windows, min_quality, DEFAULTS["max_input_bytes"], max_pixels, max_side)
    rows, rejects = _core.fingerprint_pixels([pixel_buffer(im) for im in images], opts)
    return PixelFingerprints(
        rows.cast(rows.schema.set(0, pa.field("item", pa.int64()))),
        rejects.cast(CORE_REJECTS_SCHEMA),
    )

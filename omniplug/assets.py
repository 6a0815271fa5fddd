"""The material connection: exact Hamming search and grouping of re-edited creatives into assets.

:class:`HashIndex` answers "which indexed codes are within ``max_distance``
bits of each query" exactly (the same pairs as comparing every query with
every code) in sub-linear time (multi-index hashing in the Rust core),
queries in parallel with the GIL released.

:func:`group_assets` turns ``material_fingerprints`` into ``asset_groups``:
the same creative re-edited per platform (re-encoded, resized, cropped to
another aspect, padded, framed, mirrored, with a logo or a price band, a
frame of a video) becomes one asset. Two materials match when some window
dHash of one is within ``max_distance`` bits of some window dHash of the
other *and* the pHashes of the same two windows agree within
``confirm_max_distance`` bits; every frame of a video counts as the video's
(a cover still matches its video), but two videos must share most of their
sampled frames, not just a brand intro. One window pair is not enough: a
match needs ``min_window_pairs`` distinct window pairs, one of them close
(dHash <= 6 and pHash <= 12), unless one pair is a near-exact copy (dHash <= 3
and pHash <= 8), because one loose coincidence would otherwise merge two
whole assets. Matches are joined transitively
(connected components). Rows with quality below ``min_quality`` never match: a flat or
nearly blank image (quality 0) is its own asset.

Example::

    import omniplug
    fingerprints, rejects = omniplug.fingerprint_images(materials)
    groups = omniplug.group_assets(fingerprints)   # material_id, platform, asset_id, distance
"""

from __future__ import annotations

import json
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from omniplug import _core
from omniplug.errors import InvalidInputError
from omniplug.fingerprint_io import as_table
from omniplug.schema import schema_of

__all__ = ["DEFAULT_CONFIRM_DISTANCE", "DEFAULT_MAX_DISTANCE", "DEFAULT_MIN_WINDOW_PAIRS", "HashIndex", "group_assets"]

_GROUP_DEFAULTS: dict[str, Any] = json.loads(_core.default_group_options_json())
#: Default dHash radius of :func:`group_assets` (8 of 64 bits; measured, see the Rust core's docs).
DEFAULT_MAX_DISTANCE: int = _GROUP_DEFAULTS["max_distance"]
#: Default pHash radius confirming a dHash match (16 of 64 bits).
DEFAULT_CONFIRM_DISTANCE: int = _GROUP_DEFAULTS["confirm_max_distance"]
#: Default number of distinct window pairs that must support a match (2).
DEFAULT_MIN_WINDOW_PAIRS: int = _GROUP_DEFAULTS["min_window_pairs"]
_ALGORITHMS_64 = ("dhash64", "phash64")


def _codes(data: Any, bits: int, what: str) -> pa.Array:
    """Codes as one Arrow array the core reads: uint64/int64, or binary values of ``bits / 8`` bytes."""
    if isinstance(data, pa.Table | pa.RecordBatch):
        if "hash" in data.column_names:
            data = data.column("hash")
        elif data.num_columns == 1:
            data = data.column(0)
        else:
            raise InvalidInputError(f"{what}: a table needs a 'hash' column or exactly one column")
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks()
    elif isinstance(data, np.ndarray):
        if data.ndim == 2 and data.dtype == np.uint8:
            # One row of bytes per code.
            width = data.shape[1]
            data = pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(width), len(data), [None, pa.py_buffer(np.ascontiguousarray(data))]
            )
        elif data.ndim == 1 and data.dtype.kind in "iu" and data.dtype.itemsize == 8:
            data = pa.array(data)
        else:
            raise InvalidInputError(
                f"{what}: numpy codes must be a 1-D uint64 array or a 2-D uint8 array, got {data.dtype} {data.shape}"
            )
    elif not isinstance(data, pa.Array):
        if hasattr(data, "__arrow_c_array__"):
            data = pa.array(data)
        elif hasattr(data, "__arrow_c_stream__"):
            data = pa.chunked_array(data).combine_chunks()
        else:
            values = list(data)
            if values and all(isinstance(v, int) for v in values):
                if any(v < 0 for v in values):
                    raise InvalidInputError(f"{what}: integer codes must be non-negative")
                data = pa.array(values, pa.uint64())
            else:
                data = pa.array(values, pa.binary())
    if pa.types.is_null(data.type):
        data = data.cast(pa.binary())
    return data


class HashIndex:
    """An immutable index of 64-bit or 256-bit codes for exact Hamming-radius search.

    Args:
        hashes: the codes; row ``i`` of the index is ``hashes[i]``. An Arrow
            array (or chunked array, or a table with a ``hash`` column, e.g.
            ``material_fingerprints`` filtered to one algorithm) of binary /
            fixed-size binary values of ``bits / 8`` bytes (big-endian, the
            ``hash`` column's form), or, for 64 bits, of ``uint64`` (or
            ``int64`` bit patterns). Also a numpy ``uint64`` array, a 2-D
            ``uint8`` array of one row per code, or a list of ``int``/``bytes``.
        bits: 64 (dHash, pHash) or 256 (PDQ).

    Raises:
        InvalidInputError: a code is null or has the wrong width, or ``bits`` is not 64 or 256.

    Example::

        index = HashIndex(pdq_hashes, bits=256)
        pairs = index.search(queries, max_distance=31)   # query_row, match_row, distance
    """

    def __init__(self, hashes: Any, bits: Literal[64, 256] = 64) -> None:
        if bits not in (64, 256):
            raise InvalidInputError(f"bits must be 64 or 256, got {bits}")
        self._index = _core.HashIndex(_codes(hashes, bits, "hashes"), bits)

    @property
    def bits(self) -> int:
        """Code width: 64 or 256."""
        return int(self._index.bits)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"HashIndex({len(self)} codes of {self.bits} bits)"

    def search(self, queries: Any, max_distance: int) -> pa.Table:
        """Every (query, indexed code) pair within ``max_distance`` bits, exactly.

        Args:
            queries: codes of the index's width, in any form the constructor accepts.
            max_distance: largest Hamming distance reported, 0 to ``bits``.

        Returns:
            A table ``query_row`` (int64), ``match_row`` (int64), ``distance``
            (int32), ordered by query_row, then distance, then match_row; a
            query with no code in range has no row.
        """
        if isinstance(max_distance, bool) or not isinstance(max_distance, int | np.integer):
            raise InvalidInputError(f"max_distance must be an integer, got {max_distance!r}")
        if not 0 <= max_distance <= self.bits:
            raise InvalidInputError(f"max_distance {max_distance} must be 0-{self.bits}")
        return self._index.search(_codes(queries, self.bits, "queries"), int(max_distance))


#: Columns :func:`group_assets` reads, with the types the core wants; frame and quality are optional.
_GROUP_COLUMNS = {
    "material_id": pa.string(),
    "platform": pa.string(),
    "algorithm": pa.string(),
    "frame": pa.int32(),
    "hash": pa.binary(),
    "quality": pa.float32(),
}


def group_assets(
    fingerprints: Any,
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    confirm_max_distance: int = DEFAULT_CONFIRM_DISTANCE,
    algorithm: str = "dhash64",
    confirm_algorithm: str | None = "phash64",
    min_quality: float = 1.0,
    video_min_overlap: float = 0.5,
    representative: Literal["smallest", "first"] = "smallest",
    min_window_pairs: int = DEFAULT_MIN_WINDOW_PAIRS,
) -> pa.Table:
    """Group materials into assets from their fingerprints.

    Args:
        fingerprints: ``material_fingerprints`` rows (pyarrow, polars,
            DuckDB...): ``material_id, platform, algorithm, hash`` and
            optionally ``frame`` (codes of every frame of a video are the
            video's codes) and ``quality``. Rows of other algorithms (PDQ) are
            ignored.
        max_distance: largest dHash distance between two window codes that
            makes their materials one asset (default 8 of 64 bits: measured
            to join platform edits and keep different creatives apart).
        confirm_max_distance: largest pHash distance between the same two
            windows that confirms a dHash match (default 16); chance dHash
            collisions between unrelated images almost never pass it.
        algorithm: the primary 64-bit algorithm (``dhash64`` or ``phash64``).
        confirm_algorithm: the confirming algorithm, or ``None`` to join on
            the primary codes alone.
        min_quality: rows with a lower quality are ignored, so a material
            whose rows all have quality 0 (a near-blank image) is an asset of
            its own. A null quality counts as unknown, not bad.
        video_min_overlap: two *videos* (materials with rows of ``frame >= 0``)
            are one asset only when more than this fraction of the sampled
            frames of the shorter one match frames of the other, on both
            sides (default 0.5). Videos of one brand share intro and end
            cards; one or two shared frames must not merge them, while
            re-edits of a video share most frames. A still matches a video
            through any one frame (a cover).
        representative: which member represents an asset: ``"smallest"``
            (default) the smallest ``(platform, material_id)``, so the result
            does not depend on row order; ``"first"`` the member whose rows
            come first (list originals first to make them the representatives).
        min_window_pairs: distinct window pairs (a mirrored pair counts with
            its unmirrored one) that must match, one of them within dHash 6
            and pHash 12, for two materials (two frames of two videos) to
            match; one pair within dHash 3 and pHash 8 suffices alone
            (default 2). ``1``: any single confirmed window pair matches (the
            looser rule, which lets one coincidence merge two assets).

    Returns:
        An ``asset_groups`` table, one row per material: ``material_id``,
        ``platform``, ``asset_id`` (int64), ``distance`` (int32: the smallest
        dHash distance over all window pairs to the representative; 0 for it
        and for materials alone in their asset; a member joined through a
        chain of edits can be further than ``max_distance``). Rows come in
        representative order (sorted by platform, material_id with
        ``"smallest"``, input order with ``"first"``).

        ``asset_id`` is derived from the representative: the xxh3-64 hash of
        its ``platform``, a zero byte and its ``material_id``, shifted right
        by one bit (a non-negative int64). The same representative gives the
        same id on every run and machine.

    Raises:
        InvalidInputError: missing columns, a hash of the wrong width, a bad setting.
    """
    for name, value in (("max_distance", max_distance), ("confirm_max_distance", confirm_max_distance)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or not 0 <= value <= 64:
            raise InvalidInputError(f"{name} {value!r} must be an integer 0-64")
    if algorithm not in _ALGORITHMS_64 or confirm_algorithm not in (*_ALGORITHMS_64, None):
        raise InvalidInputError(
            f"algorithm {algorithm!r} and confirm_algorithm {confirm_algorithm!r} must be dhash64 or phash64"
        )
    if confirm_algorithm == algorithm:
        raise InvalidInputError("confirm_algorithm must differ from algorithm (or be None)")
    if not 0 <= video_min_overlap < 1:
        raise InvalidInputError(f"video_min_overlap {video_min_overlap} must be in [0, 1)")
    if isinstance(min_window_pairs, bool) or not isinstance(min_window_pairs, int | np.integer) or not (
        1 <= min_window_pairs <= 64
    ):
        raise InvalidInputError(f"min_window_pairs {min_window_pairs!r} must be an integer 1-64")
    if representative not in ("smallest", "first"):
        raise InvalidInputError(f"representative {representative!r} must be 'smallest' or 'first'")
    table = as_table(fingerprints, "fingerprints")
    missing = [c for c in ("material_id", "platform", "algorithm", "hash") if c not in table.column_names]
    if missing:
        raise InvalidInputError(f"fingerprints lack columns {missing} (have {table.column_names})")
    columns = {}
    for name, dtype in _GROUP_COLUMNS.items():
        if name in table.column_names:
            try:
                columns[name] = table.column(name).cast(dtype)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InvalidInputError(f"fingerprints.{name} must be {dtype}: {exc}") from exc
    selected = pa.table(columns).combine_chunks()
    options = json.dumps(
        {
            "algorithm": algorithm,
            "confirm_algorithm": confirm_algorithm,
            "max_distance": int(max_distance),
            "confirm_max_distance": int(confirm_max_distance),
            "min_quality": float(min_quality),
            "video_min_overlap": float(video_min_overlap),
            "representative": representative,
            "min_window_pairs": int(min_window_pairs),
        }
    )
    return _core.group_fingerprints(selected, options).cast(schema_of("asset_groups"))


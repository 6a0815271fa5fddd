"""Plumbing shared by image and video fingerprinting: settings, input tables, result tables.

The public entry points are :func:`omniplug.fingerprint.fingerprint_images`,
:func:`omniplug.fingerprint.fingerprint_pixels` and
:func:`omniplug.fingerprint_video.fingerprint_video`; this module holds what
they share: the settings sent to the Rust core, reading ``material_id`` /
``platform`` / ``content`` / ``uri`` from any Arrow table, turning the core's
item-keyed rows into ``material_fingerprints`` rows, and the result types.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import numpy as np
import pyarrow as pa

from omniplug import _core
from omniplug.errors import InvalidInputError
from omniplug.schema import schema_of

__all__ = [
    "ALGORITHMS",
    "CORE_REJECTS_SCHEMA",
    "DEFAULTS",
    "REJECTS_SCHEMA",
    "ROWS_SCHEMA",
    "FingerprintResult",
    "PixelFingerprints",
    "as_table",
    "attach_keys",
    "concat",
    "keyed_rejects",
    "media_columns",
    "options_json",
    "pixel_buffer",
    "source_table",
    "uri_to_path",
]

#: The algorithms computed by default (all of them).
ALGORITHMS: tuple[str, ...] = ("dhash64", "phash64", "pdq256")
#: Columns of the rejects table of :func:`fingerprint_images` and :func:`fingerprint_video`.
REJECTS_SCHEMA = pa.schema(
    [
        pa.field("row", pa.int64()),
        pa.field("material_id", pa.string()),
        pa.field("platform", pa.string()),
        pa.field("reason", pa.string()),
    ]
)
#: The core's default settings (limits, quality gate).
DEFAULTS: dict[str, Any] = json.loads(_core.default_fingerprint_options_json())


@dataclass(frozen=True)
class FingerprintResult:
    """What :func:`fingerprint_images` and :func:`fingerprint_video` return.

    Attributes:
        fingerprints: ``material_fingerprints`` rows (material_id, platform,
            algorithm, frame, hash, quality), in input row order, then frame,
            then window, then algorithm.
        rejects: one row per input row that gave no fingerprint: ``row`` (its
            position in the input), ``material_id``, ``platform``, ``reason``.

    Unpacks as ``fingerprints, rejects = result``.
    """

    fingerprints: pa.Table
    rejects: pa.Table

    def __iter__(self) -> Iterator[pa.Table]:
        yield self.fingerprints
        yield self.rejects


@dataclass(frozen=True)
class PixelFingerprints:
    """What :func:`fingerprint_pixels` returns.

    Attributes:
        fingerprints: ``item`` (position in the input list), ``algorithm``,
            ``hash``, ``quality``, ordered by item, then window, then algorithm.
        rejects: ``item``, ``reason`` for buffers that could not be hashed.
    """

    fingerprints: pa.Table
    rejects: pa.Table

    def __iter__(self) -> Iterator[pa.Table]:
        yield self.fingerprints
        yield self.rejects


def options_json(
    algorithms: Sequence[str] = ALGORITHMS,
    windows: Literal["all", "full"] = "all",
    min_quality: int = DEFAULTS["min_quality"],
    max_bytes: int = DEFAULTS["max_input_bytes"],
    max_pixels: int = DEFAULTS["max_pixels"],
    max_side: int = DEFAULTS["max_side"],
) -> str:
    """Validate the fingerprint settings and encode them for the core (shared by the video module)."""
    algorithms = [algorithms] if isinstance(algorithms, str) else list(algorithms)
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown or not algorithms:
        raise InvalidInputError(f"algorithms {algorithms!r} must be a non-empty subset of {list(ALGORITHMS)}")
    if windows not in ("all", "full"):
        raise InvalidInputError(f"windows {windows!r} must be 'all' or 'full'")
    if not 0 <= int(min_quality) <= 100:
        raise InvalidInputError(f"min_quality {min_quality} must be 0-100")
    for name, value in (("max_bytes", max_bytes), ("max_pixels", max_pixels), ("max_side", max_side)):
        if int(value) <= 0:
            raise InvalidInputError(f"{name} {value} must be positive")
    return json.dumps(
        {
            "algorithms": algorithms,
            "all_windows": windows == "all",
            "min_quality": int(min_quality),
            "max_input_bytes": int(max_bytes),
            "max_pixels": int(max_pixels),
            "max_side": int(min(int(max_side), 2**32 - 1)),
        }
    )


def as_table(data: Any, what: str) -> pa.Table:
    """Any Arrow tabular data (pyarrow, polars, DuckDB, a dict of columns) as a ``pyarrow.Table``."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    try:
        return pa.table(data)
    except (TypeError, ValueError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"{what} must be Arrow tabular data (pyarrow, polars, DuckDB): {exc}") from exc


def source_table(source: Any, material_id: str | None, platform: str | None, what: str) -> pa.Table:
    """The input table of :func:`fingerprint_images` / :func:`fingerprint_video`.

    ``source`` is tabular data, or one medium: ``bytes`` (the encoded file) or a
    ``str`` / path (a local path or ``file://`` URI), which then needs
    ``material_id`` and ``platform``.
    """
    single = isinstance(source, bytes | bytearray | memoryview | str | os.PathLike)
    if not single:
        if material_id is not None or platform is not None:
            raise InvalidInputError(f"{what}: material_id= and platform= go with a single medium, not a table")
        return as_table(source, f"{what} table")
    if material_id is None or platform is None:
        raise InvalidInputError(f"{what}: a single medium needs material_id= and platform=")
    column = (
        {"content": pa.array([bytes(source)], pa.binary())}
        if isinstance(source, bytes | bytearray | memoryview)
        else {"uri": pa.array([os.fspath(source)], pa.string())}
    )
    return pa.table({"material_id": [material_id], "platform": [platform], **column})


def media_columns(table: pa.Table, what: str) -> tuple[pa.Array, pa.Array, pa.Array | None, pa.Array | None]:
    """``material_id``, ``platform`` and the ``content`` / ``uri`` columns (either may be absent)."""
    names = table.column_names
    missing = [c for c in ("material_id", "platform") if c not in names]
    if missing or ("content" not in names and "uri" not in names):
        raise InvalidInputError(
            f"{what} needs material_id, platform and a binary 'content' or string 'uri' column (has {names})"
        )

    def column(name: str, types: tuple[pa.DataType, ...], target: pa.DataType) -> pa.Array | None:
        if name not in names:
            return None
        col = table.column(name)
        if col.type not in types and not pa.types.is_null(col.type):
            raise InvalidInputError(f"{what}.{name} must be {target}, got {col.type}")
        return col.cast(target).combine_chunks() if col.type != target else col.combine_chunks()

    strings = (pa.string(), pa.large_string(), pa.string_view())
    binaries = (pa.binary(), pa.large_binary(), pa.binary_view())
    content_type = pa.large_binary()
    material_id = column("material_id", strings, pa.string())
    platform = column("platform", strings, pa.string())
    assert material_id is not None and platform is not None
    content = None
    if "content" in names:
        col = table.column("content")
        if not (col.type in binaries or pa.types.is_fixed_size_binary(col.type) or pa.types.is_null(col.type)):
            raise InvalidInputError(f"{what}.content must be binary (the encoded media), got {col.type}")
        # large_binary: one slice of a batch may hold more than 2 GiB of media.
        content = col.cast(content_type).combine_chunks()
    uri = column("uri", strings, pa.string())
    return material_id, platform, content, uri


def uri_to_path(uri: str, root: str | os.PathLike[str] | None = None) -> str:
    """The local path of ``uri`` (a path or a ``file://`` URI); relative paths are taken from ``root``.

    Raises ``InvalidInputError`` for any other scheme (``https://``: download the media first and
    pass it as ``content``).
    """
    parts = urlsplit(uri)
    # A one-letter "scheme" is a Windows drive letter, not a scheme.
    if parts.scheme and len(parts.scheme) > 1:
        if parts.scheme.lower() != "file":
            raise InvalidInputError(
                f"unsupported URI scheme {parts.scheme!r}: only local paths and file:// URIs are read; "
                "download remote media first and pass it as content"
            )
        if parts.netloc not in ("", "localhost"):
            raise InvalidInputError(f"file URI {uri!r} names host {parts.netloc!r}; only local files are read")
        path = unquote(parts.path)
    else:
        path = uri
    if root is not None and not os.path.isabs(path):
        path = os.path.join(os.fspath(root), path)
    return str(Path(path))


def attach_keys(rows: pa.Table, material_id: pa.Array, platform: pa.Array, frame: int | np.ndarray) -> pa.Table:
    """Turn core rows whose ``item`` is the input row into ``material_fingerprints`` rows.

    ``frame`` is one value for every row (``-1`` for still images) or one value per row.
    """
    idx = rows.column("item").combine_chunks().cast(pa.int64())
    frames = np.full(rows.num_rows, frame, dtype=np.int32) if isinstance(frame, int) else frame
    return pa.Table.from_arrays(
        [
            material_id.take(idx),
            platform.take(idx),
            rows.column("algorithm"),
            pa.array(frames, pa.int32()),
            rows.column("hash"),
            rows.column("quality"),
        ],
        schema=schema_of("material_fingerprints"),
    )


def concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    """Concatenate result pieces (an empty table of ``schema`` when there are none)."""
    return pa.concat_tables(tables) if tables else schema.empty_table()


#: Core rows after their ``item`` became the input row (int64).
ROWS_SCHEMA = pa.schema(
    [("item", pa.int64()), ("algorithm", pa.string()), ("hash", pa.binary()), ("quality", pa.float32())]
)
#: Core rejects after their ``item`` became the input row.
CORE_REJECTS_SCHEMA = pa.schema([("item", pa.int64()), ("reason", pa.string())])


def keyed_rejects(rejects: pa.Table, material_id: pa.Array, platform: pa.Array) -> pa.Table:
    """Core rejects (``item`` = input row, ``reason``) as :data:`REJECTS_SCHEMA` rows."""
    idx = rejects.column("item").combine_chunks().cast(pa.int64())
    return pa.Table.from_arrays(
        [idx, material_id.take(idx), platform.take(idx), rejects.column("reason").combine_chunks()],
        schema=REJECTS_SCHEMA,
    )


def pixel_buffer(image: Any) -> tuple[bytes, int, int, str, int]:
    """One image as the core's ``(bytes, width, height, layout, stride)``.

    Accepts a 2-D ``uint8`` array (gray), an ``(h, w, 3)`` ``uint8`` array (RGB)
    or a PIL image (converted to RGB, or kept gray if it is mode ``L``).
    """
    if hasattr(image, "mode") and hasattr(image, "convert"):  # a PIL image, without importing PIL
        image = np.asarray(image if image.mode == "L" else image.convert("RGB"))
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise InvalidInputError(f"pixels must be uint8, got {arr.dtype} (scale and round to 0-255 first)")
    if arr.ndim == 2:
        layout = "gray"
    elif arr.ndim == 3 and arr.shape[2] == 3:
        layout = "rgb"
    else:
        raise InvalidInputError(f"pixels must be (height, width) gray or (height, width, 3) RGB, got {arr.shape}")
    h, w = arr.shape[:2]
    return np.ascontiguousarray(arr).tobytes(), w, h, layout, 0

"""Cursors carried on fetched batches.

A plugin's fetch attaches to each raw batch the cursor from which fetching
would resume *after* that batch (the page just done, the newest modification
time seen, Weibo's since_id). The framework saves it only once the batch's
rows are durably written, which is what makes a killed run resume without
losing or duplicating records. The cursor travels in the batch's schema
metadata as JSON, so it survives any Arrow hand-off.
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

__all__ = ["CURSOR_KEY", "with_cursor", "cursor_of"]

#: Schema-metadata key holding the JSON cursor.
CURSOR_KEY = b"omniplug.cursor"


def with_cursor(batch: pa.RecordBatch, cursor: dict[str, Any]) -> pa.RecordBatch:
    """Return ``batch`` (same buffers, no copy) carrying ``cursor``.

    ``cursor`` must be JSON-serialisable: strings, numbers, booleans, lists and
    dicts. Datetimes should be ISO strings with an offset.
    """
    try:
        text = json.dumps(cursor, sort_keys=True, ensure_ascii=False)
    except TypeError as exc:
        raise TypeError(f"cursor must be JSON-serialisable: {exc}") from exc
    metadata = dict(batch.schema.metadata or {})
    metadata[CURSOR_KEY] = text.encode("utf-8")
    return batch.replace_schema_metadata(metadata)


def cursor_of(batch: pa.RecordBatch | pa.Table) -> dict[str, Any] | None:
    """The cursor attached to ``batch`` by :func:`with_cursor`, or ``None``."""
    raw = (batch.schema.metadata or {}).get(CURSOR_KEY)
    if raw is None:
        return None
    value = json.loads(raw.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"cursor metadata must be a JSON object, got {type(value).__name__}")
    return value

"""Arrow plumbing the field helpers share: accept lists or arrays, recognise text types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

__all__ = ["ArrayLike", "as_array", "is_text"]

#: What the ``*_array`` helpers accept: an Arrow array, a chunked array, or a Python sequence.
ArrayLike = pa.Array | pa.ChunkedArray | Sequence[Any]


def is_text(t: pa.DataType) -> bool:
    """True for Arrow's string types (``string``, ``large_string``, ``string_view``)."""
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def as_array(values: ArrayLike, type_: pa.DataType | None = None) -> pa.Array:
    """One contiguous ``pa.Array`` from ``values``.

    A chunked array is combined; a Python sequence is converted (as ``type_``
    if given), falling back to strings when its values do not share a type.
    """
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    try:
        return pa.array(list(values), type=type_, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


"""Casting a normalised column to its canonical Arrow type, explaining every row that fails.

:func:`cast_column` is the casting step of :func:`omniplug.validate.validate_batch`.
A column whose *type* can never become the canonical one (floats for money
or ids, naive timestamps) is a plugin bug and raises
:class:`~omniplug.errors.SchemaError` with the fix; a *row* that does not
cast comes back as a :data:`CastFailure` whose rule text says why (no time
zone, more than 2 decimal places, out of range, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.errors import SchemaError

__all__ = ["CastFailure", "cast_column", "rows_mask"]

#: A row that did not cast: ``(row index, rule text, the value as Python)``.
CastFailure = tuple[int, str, Any]

_NO_TZ_HINT = ("give an offset such as '+08:00' or 'Z', or convert China time with "
               "omniplug.fields.china_times_to_utc_array in normalise")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _is_bytes(t: pa.DataType) -> bool:
    return (pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t)
            or pa.types.is_binary_view(t))


def _refusal(src: pa.DataType, dst: pa.DataType) -> str | None:
    """Why a whole column of type ``src`` cannot become ``dst`` (None: cast it, row by row if needed)."""
    if pa.types.is_null(src) or src == dst:
        return None
    if pa.types.is_string(dst):
        if pa.types.is_floating(src):
            return ("arrived as floating point and may have lost digits; ids must be strings or integers "
                    "(parse JSON with omniplug.fields.json_loads_exact, convert with omniplug.fields.exact_id)")
        ok = _is_text(src) or _is_bytes(src) or pa.types.is_integer(src)
    elif pa.types.is_timestamp(dst):
        if pa.types.is_timestamp(src) and src.tz is None:
            return f"is a timestamp without time zone; {_NO_TZ_HINT}"
        ok = pa.types.is_timestamp(src) or _is_text(src)
    elif pa.types.is_date(dst):
        ok = pa.types.is_date(src) or _is_text(src)
    elif pa.types.is_decimal(dst):
        if pa.types.is_floating(src):
            return ("arrived as floating point; money must be exact: convert it with "
                    "omniplug.fields.yuan_array (or fen_to_yuan_array) in normalise")
        ok = pa.types.is_decimal(src) or pa.types.is_integer(src) or _is_text(src)
    elif pa.types.is_integer(dst) or pa.types.is_floating(dst):
        ok = (pa.types.is_integer(src) or pa.types.is_floating(src) or pa.types.is_decimal(src)
              or _is_text(src))
    else:
        ok = _is_bytes(src)
    return None if ok else f"has type {src}, which cannot become {dst}"


def _cast(arr: pa.Array, dst: pa.DataType) -> pa.Array:
    # Timestamps are truncated to the canonical millisecond; floats to float32 may round (a score).
    lossy_ok = (pa.types.is_timestamp(dst) and pa.types.is_timestamp(arr.type)) or (
        pa.types.is_floating(dst) and not _is_text(arr.type))
    return pc.cast(arr, dst, safe=not lossy_ok)


def _failing_rows(arr: pa.Array, dst: pa.DataType, offset: int = 0) -> Iterator[int]:
    """Rows whose cast fails, by bisection: O(k log n) casts for k bad rows."""
    try:
        _cast(arr, dst)
    except pa.ArrowInvalid:
        if len(arr) == 1:
            yield offset
            return
        half = len(arr) // 2
        yield from _failing_rows(arr.slice(0, half), dst, offset)
        yield from _failing_rows(arr.slice(half), dst, offset + half)


def cast_column(table: str, fld: pa.Field, arr: pa.Array) -> tuple[pa.Array, list[CastFailure]]:
    """Cast column ``arr`` to the canonical type of ``fld``, row by row where it must.

    Returns the cast column, null in every row that could not be cast, and
    one :data:`CastFailure` per such row (in row order). A clean column costs
    one vectorised cast; otherwise the failing rows are found by bisection
    and each is explained (or rescued: ISO 8601 texts Arrow's cast refuses
    but Python parses).

    Raises:
        SchemaError: the column's type can never become the canonical type.
    """
    if (why := _refusal(arr.type, fld.type)) is not None:
        raise SchemaError(f"{table}.{fld.name} {why}")
    if arr.type == fld.type:
        return arr, []
    try:
        try:
            return _cast(arr, fld.type), []
        except pa.ArrowInvalid:
            pass
        bad = list(_failing_rows(arr, fld.type))
        cast = _cast(pc.if_else(rows_mask(bad, len(arr)), pa.scalar(None, arr.type), arr), fld.type)
    except pa.ArrowNotImplementedError as exc:
        raise SchemaError(f"{table}.{fld.name} has type {arr.type}, which cannot become {fld.type}: {exc}") from None
    failures: list[CastFailure] = []
    rescued: dict[int, Any] = {}
    for row in bad:
        value = arr[row].as_py()
        outcome = _explain(value, fld.type)
        if isinstance(outcome, str):
            failures.append((row, outcome, value))
        else:
            rescued[row] = outcome[0]
    if rescued:
        rows = sorted(rescued)
        cast = pc.replace_with_mask(cast, rows_mask(rows, len(arr)), pa.array([rescued[i] for i in rows], fld.type))
    return cast, failures


def rows_mask(rows: list[int], n: int) -> pa.Array:
    """A boolean array of length ``n``, true at ``rows``."""
    return pc.is_in(pa.array(range(n), pa.int64()), value_set=pa.array(rows, pa.int64()))


_DECIMAL_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)
_INT_TEXT = re.compile(r"[+-]?\d+", re.ASCII)


def _explain(value: Any, dst: pa.DataType) -> str | tuple[Any]:
    """Why ``value`` does not cast to ``dst`` (a rule text), or ``(converted,)`` when Python can rescue it."""
    if pa.types.is_timestamp(dst):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return f"is not an ISO 8601 timestamp (expected e.g. '2024-05-31T09:46:55Z'; {_NO_TZ_HINT})"
        if parsed.tzinfo is None:
            return f"timestamp without time zone ({_NO_TZ_HINT})"
        parsed = parsed.astimezone(UTC)
        return (parsed.replace(microsecond=parsed.microsecond // 1000 * 1000),)
    if pa.types.is_date(dst):
        return "is not a date (expected 'yyyy-MM-dd', the China calendar day)"
    if pa.types.is_decimal(dst):
        if isinstance(value, str) and not _DECIMAL_TEXT.fullmatch(value):
            return "is not a decimal number (decimal128(18,2), yuan)"
        number = Decimal(value)
        if abs(number) < 10**16 and number != number.quantize(Decimal("0.01"), rounding="ROUND_DOWN"):
            return "has more than 2 decimal places (decimal128(18,2), yuan)"
        return "is out of range for decimal128(18,2) (yuan)"
    if pa.types.is_integer(dst):
        if isinstance(value, str) and not _INT_TEXT.fullmatch(value):
            return f"is not an integer ({dst})"
        if isinstance(value, float) and (value != value or abs(value) == float("inf")):
            return f"is not a number ({dst})"
        if isinstance(value, (float, Decimal)) and value != int(value):
            return f"is not a whole number ({dst})"
        return f"is out of range for {dst}"
    if pa.types.is_floating(dst):
        return f"is not a number ({dst})"
    if pa.types.is_string(dst):
        return "is not valid UTF-8"
    return f"cannot be cast to {dst}"

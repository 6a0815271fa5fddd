"""Platform times to aware UTC at millisecond precision (DESIGN §4).

Chinese platforms send wall-clock China time (UTC+08:00, no daylight saving)
as ``'yyyy-MM-dd HH:mm:ss'``, sometimes with a fraction or an offset; Weibo
sends ``'Tue May 31 17:46:55 +0800 2011'``; some APIs send epoch seconds or
milliseconds. :func:`china_time_to_utc` reads one value,
:func:`china_times_to_utc_array` a whole column, :func:`epoch_to_utc` an
epoch in a named unit, :func:`parse_when` the CLI's ``--since``/``--until``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.errors import InvalidInputError
from omniplug.fields._arrow import ArrayLike, as_array, is_text
from omniplug.schema import TIMESTAMP

__all__ = ["CHINA_TZ", "china_time_to_utc", "epoch_to_utc", "china_times_to_utc_array", "parse_when", "whole_seconds"]

#: China Standard Time, a fixed UTC+08:00: China has had no daylight saving since 1991.
CHINA_TZ = timezone(timedelta(hours=8), "China Standard Time")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CHINA_OFFSET_MS = 8 * 3600 * 1000
# Epoch values outside this window are almost surely in the wrong unit.
_EPOCH_WINDOW = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
_WALL = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
                   r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
                   r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?", re.ASCII)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Weibo's created_at, e.g. 'Tue May 31 17:46:55 +0800 2011'. Parsed without
# strptime's %a/%b, which depend on the process locale.
_WEIBO = re.compile(rf"({'|'.join(_DAYS)}) ({'|'.join(_MONTHS)}) +(\d{{1,2}}) "
                    r"(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4}) (\d{4})", re.ASCII)
_NUMERIC = re.compile(r"[+-]?\d+(\.\d+)?", re.ASCII)
_EXPECTED_TIME = ("expected 'yyyy-MM-dd HH:mm:ss' (optionally '.fff' and an offset '+0800', '+08:00' or 'Z'), "
                  "'yyyy-MM-dd', Weibo's 'Tue May 31 17:46:55 +0800 2011', or a datetime")


def _to_ms(dt: datetime) -> datetime:
    """Aware UTC, truncated to the millisecond (the canonical precision)."""
    dt = dt.astimezone(UTC)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) > 2 else 0)
    return timezone(sign * timedelta(minutes=minutes))


def epoch_to_utc(value: int | str | Decimal | float, unit: Literal["s", "ms"] = "s") -> datetime:
    """Convert an epoch value (zone-free by definition) to an aware UTC datetime.

    ``unit`` is ``"s"`` (Xiaohongshu ``timestamp``, Weibo ``start_time``) or
    ``"ms"`` (Douyin ``extra.now``, Xiaohongshu order times); it is never
    guessed. Results outside 2000..2100 are refused because they almost
    always mean the wrong unit (seconds read as milliseconds land in 1970).
    Accepts int, Decimal, a numeric string, or a finite float (fractions of a
    second are fine; below the millisecond they are truncated).
    """
    if unit not in ("s", "ms"):
        raise InvalidInputError(f"epoch unit must be 's' or 'ms', got {unit!r}")
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal, float)):
        raise InvalidInputError(f"epoch value must be a number, got {type(value).__name__} {value!r}")
    text = value.strip() if isinstance(value, str) else repr(value) if isinstance(value, float) else str(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise InvalidInputError(f"epoch value {value!r} is not a finite number")
    millis = int((number * (1000 if unit == "s" else 1)).to_integral_value(rounding="ROUND_FLOOR"))
    other = "ms" if unit == "s" else "s"
    try:
        result = _EPOCH + timedelta(milliseconds=millis)
    except OverflowError:
        raise InvalidInputError(f"epoch {value!r} with unit={unit!r} is out of range; is it in {other}?") from None
    if not _EPOCH_WINDOW[0] <= result < _EPOCH_WINDOW[1]:
        raise InvalidInputError(f"epoch {value!r} with unit={unit!r} is {result.isoformat()}, outside 2000..2100; "
                                f"is it in {other} (unit={other!r})?")
    return result


def china_time_to_utc(value: str | datetime | date | int | float | Decimal,
                      *, unit: Literal["s", "ms"] | None = None) -> datetime:
    """Convert a platform time to an aware UTC ``datetime`` (millisecond precision).

    Accepted forms:

    * ``'2024-05-31 17:46:55'``, with optional ``'.fff'`` fraction and an
      optional offset ``'+0800'``, ``'+08:00'`` or ``'Z'`` (``T`` or space,
      ``-`` or ``/`` separators); without an offset it is China time;
    * ``'2024-05-31'``: midnight China time;
    * Weibo's ``'Tue May 31 17:46:55 +0800 2011'`` (the weekday is checked);
    * ``datetime``: naive means China time, aware is converted; ``date``:
      midnight China time;
    * epoch numbers (or numeric strings) only with ``unit='s'`` or
      ``unit='ms'`` (see :func:`epoch_to_utc`).

    Raises:
        InvalidInputError: anything else, naming the accepted forms.
    """
    if isinstance(value, datetime):
        return _to_ms(value if value.tzinfo else value.replace(tzinfo=CHINA_TZ))
    if isinstance(value, date):
        return _to_ms(datetime(value.year, value.month, value.day, tzinfo=CHINA_TZ))
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if unit is None:
            raise InvalidInputError(f"time {value!r} is a number: pass unit='s' or unit='ms' (or call epoch_to_utc)")
        return epoch_to_utc(value, unit)
    if not isinstance(value, str):
        raise InvalidInputError(f"time {value!r} ({type(value).__name__}): {_EXPECTED_TIME}")
    text = value.strip()
    if _NUMERIC.fullmatch(text):
        if unit is None:
            raise InvalidInputError(f"time {value!r} is a number: pass unit='s' or unit='ms'")
        return epoch_to_utc(text, unit)
    try:
        if m := _WALL.fullmatch(text):
            y, mo, d, h, mi, s, frac, off = m.groups()
            micro = int((frac or "0")[:6].ljust(6, "0"))
            tz = _offset(off) if off else CHINA_TZ
            dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro, tz)
            return _to_ms(dt)
        if m := _WEIBO.fullmatch(text):
            wd, mon, d, h, mi, s, off, y = m.groups()
            dt = datetime(int(y), _MONTHS.index(mon) + 1, int(d), int(h), int(mi), int(s), tzinfo=_offset(off))
            if _DAYS[dt.weekday()] != wd:
                raise InvalidInputError(f"time {value!r}: {d} {mon} {y} is a {_DAYS[dt.weekday()]}, not a {wd}")
            return _to_ms(dt)
    except ValueError as exc:  # datetime() refused the fields: 2024-02-30, 25:00, ...
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"time {value!r} is not a real date/time: {exc}") from None
    raise InvalidInputError(f"time {value!r}: {_EXPECTED_TIME}")


def whole_seconds(dt: datetime) -> datetime:
    """``dt`` without its fraction of a second.

    Platform APIs take times as ``yyyy-MM-dd HH:mm:ss``: a fetch window must be
    cut on whole seconds, or a window shorter than a second (a rerun right
    after the last run, on a real clock) is sent with its end before or at its
    start, which the platforms refuse.
    """
    return dt.replace(microsecond=0)


def parse_when(text: str) -> datetime:
    """Parse the CLI's ``--since``/``--until``: a date or datetime, China time unless it has an offset.

    ``'2024-05-01'`` is midnight China time (2024-04-30T16:00Z);
    ``'2024-05-01 08:00'``, ``'2024-05-01T08:00:00+00:00'`` and ``'...Z'``
    work as in :func:`china_time_to_utc`. Returns an aware UTC datetime.
    """
    if not isinstance(text, str) or _NUMERIC.fullmatch(text.strip()):
        raise InvalidInputError(f"{text!r} is not a date or datetime; expected e.g. 2024-05-01 or '2024-05-01 08:00'")
    return china_time_to_utc(text)


def _fill_failed(result: pa.Array, failed: pa.Array, originals: pa.Array,
                 convert: Callable[[Any], Any], errors: str, what: str) -> pa.Array:
    """Redo the rows the vectorised kernel could not handle with the scalar function."""
    rows = pc.indices_nonzero(failed).to_pylist()
    if not rows:
        return result
    fixed = []
    for row in rows:
        try:
            fixed.append(convert(originals[row].as_py()))
        except InvalidInputError as exc:
            if errors == "raise":
                raise InvalidInputError(f"{what} row {row}: {exc}") from None
            fixed.append(None)
    return pc.replace_with_mask(result, failed, pa.array(fixed, result.type))


def china_times_to_utc_array(values: ArrayLike, *, unit: Literal["s", "ms"] | None = None,
                             errors: Literal["raise", "null"] = "raise") -> pa.Array:
    """Vectorised :func:`china_time_to_utc`: returns ``timestamp[ms, tz=UTC]``, nulls preserved.

    Strings in the common ``'yyyy-MM-dd HH:mm:ss'`` form go through
    ``pyarrow.compute.strptime``; only the rows in another form (fractions,
    offsets, dates, Weibo's form) fall back to the scalar parser. Naive
    timestamp arrays are China time, aware ones are converted; integer
    arrays need ``unit``. ``errors='null'`` turns unparseable rows into
    nulls instead of raising (the message of a raise names the row).
    """
    arr = as_array(values)
    if pa.types.is_timestamp(arr.type):
        if arr.type.tz is None:
            arr = pc.assume_timezone(arr, "+08:00")
        return pc.cast(arr, TIMESTAMP, safe=False)  # safe=False: truncate below the ms, by convention
    if pa.types.is_integer(arr.type) and unit is not None:
        try:
            millis = pc.multiply_checked(pc.cast(arr, pa.int64()), 1000 if unit == "s" else 1)
        except pa.ArrowInvalid as exc:
            raise InvalidInputError(f"epoch values out of range for unit={unit!r}: {exc}") from None
        result = pc.cast(millis, TIMESTAMP)
        lo, hi = (pa.scalar(b, TIMESTAMP) for b in _EPOCH_WINDOW)
        outside = pc.fill_null(pc.or_(pc.less(result, lo), pc.greater_equal(result, hi)), False)
        return _fill_failed(result, outside, arr, lambda v: epoch_to_utc(v, unit), errors, "epoch")
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), TIMESTAMP)
    if not is_text(arr.type):
        raise InvalidInputError(f"expected strings, timestamps or (with unit=) integers, got {arr.type}")
    arr = pc.utf8_trim_whitespace(pc.cast(arr, pa.string()))
    wall = pc.strptime(arr, format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
    result = pc.cast(pc.subtract(pc.cast(wall, pa.int64()), _CHINA_OFFSET_MS), TIMESTAMP)
    failed = pc.and_(pc.is_valid(arr), pc.is_null(wall))
    return _fill_failed(result, failed, arr, lambda v: china_time_to_utc(v, unit=unit), errors, "time")

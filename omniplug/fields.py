"""Field conversions every plugin's ``normalise`` needs: time, phones, money, ids.

All functions are pure. Scalar forms take one Python value; the ``*_array``
forms take a ``pyarrow`` array (or a list) and run column-wise with
``pyarrow.compute`` so a 100k-row page costs milliseconds. Bad input raises
:class:`omniplug.errors.InvalidInputError` saying what was expected, except
the phone helpers, which answer ``None`` for "not a mainland mobile".

Conventions (DESIGN §4): timestamps become aware UTC at millisecond
precision (finer digits are truncated: milliseconds are the canonical unit);
money is ``Decimal`` / ``decimal128(18, 2)`` in yuan and is never rounded
unless the caller names a rounding mode; identifiers are strings, exact
beyond 2**53; phones and emails leave normalise only as hashes.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.errors import InvalidInputError
from omniplug.schema import MONEY, TIMESTAMP

__all__ = [
    "CHINA_TZ", "china_time_to_utc", "epoch_to_utc", "china_times_to_utc_array", "parse_when",
    "normalise_phone", "normalise_phones_array", "phone_sha256", "phone_md5", "hash_phones",
    "email_sha256", "looks_like_raw_phone", "looks_like_raw_email",
    "looks_like_raw_phone_array", "looks_like_raw_email_array",
    "yuan", "fen_to_yuan", "yuan_array", "fen_to_yuan_array", "exact_id", "json_loads_exact",
]

ArrayLike = pa.Array | pa.ChunkedArray | Sequence[Any]

# ---------------------------------------------------------------- time

#: China Standard Time, a fixed UTC+08:00: China has had no daylight saving since 1991.
CHINA_TZ = timezone(timedelta(hours=8), "China Standard Time")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_CHINA_OFFSET_MS = 8 * 3600 * 1000
# Epoch values outside this window are almost surely in the wrong unit.
_EPOCH_WINDOW = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2100, 1, 1, tzinfo=timezone.utc))
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
    dt = dt.astimezone(timezone.utc)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return timezone.utc
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


def parse_when(text: str) -> datetime:
    """Parse the CLI's ``--since``/``--until``: a date or datetime, China time unless it has an offset.

    ``'2024-05-01'`` is midnight China time (2024-04-30T16:00Z);
    ``'2024-05-01 08:00'``, ``'2024-05-01T08:00:00+00:00'`` and ``'...Z'``
    work as in :func:`china_time_to_utc`. Returns an aware UTC datetime.
    """
    if not isinstance(text, str) or _NUMERIC.fullmatch(text.strip()):
        raise InvalidInputError(f"{text!r} is not a date or datetime; expected e.g. 2024-05-01 or '2024-05-01 08:00'")
    return china_time_to_utc(text)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _as_array(values: ArrayLike, type_: pa.DataType | None = None) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    try:
        return pa.array(list(values), type=type_, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


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
    arr = _as_array(values)
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
    if not _is_text(arr.type):
        raise InvalidInputError(f"expected strings, timestamps or (with unit=) integers, got {arr.type}")
    arr = pc.utf8_trim_whitespace(pc.cast(arr, pa.string()))
    wall = pc.strptime(arr, format="%Y-%m-%d %H:%M:%S", unit="ms", error_is_null=True)
    result = pc.cast(pc.subtract(pc.cast(wall, pa.int64()), _CHINA_OFFSET_MS), TIMESTAMP)
    failed = pc.and_(pc.is_valid(arr), pc.is_null(wall))
    return _fill_failed(result, failed, arr, lambda v: china_time_to_utc(v, unit=unit), errors, "time")


# ---------------------------------------------------------------- phones and emails

# Separators people type inside phone numbers (after NFKC has folded full-width forms).
_PHONE_SEP = r"[ \t\n\r\f\x0b()\-]"
_PHONE_RE = r"^(?:\+86|0086|86)?(1[3-9][0-9]{9})$"
_PHONE_SEP_PY = re.compile(_PHONE_SEP)
_PHONE_PY = re.compile(_PHONE_RE, re.ASCII)
_EMAIL_RE = r"^[ \t\n\r\f\x0b]*[^@ \t\n\r\f\x0b]+@[^@ \t\n\r\f\x0b]+\.[^@ \t\n\r\f\x0b]+[ \t\n\r\f\x0b]*$"
_EMAIL_PY = re.compile(_EMAIL_RE)


def normalise_phone(raw: object) -> str | None:
    """Return the 11 digits of a mainland China mobile number, or ``None``.

    Strips spaces, dashes and parentheses, folds full-width characters
    (``１３８…``, ``＋８６``) and drops a ``+86``/``0086``/``86`` prefix; the
    result must match ``^1[3-9]\\d{9}$``. Ints and integral floats (Excel
    exports) are accepted. Never raises: anything else is ``None``.
    """
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (float, Decimal)):
        # Spreadsheet readers turn phone columns into floats; below 2**53 they are exact.
        finite = raw.is_finite() if isinstance(raw, Decimal) else raw == raw and abs(raw) != float("inf")
        if not (finite and abs(raw) < 2**53 and raw == int(raw)):
            return None
        raw = int(raw)
    if isinstance(raw, int):
        raw = str(raw)
    if not isinstance(raw, str):
        return None
    match = _PHONE_PY.match(_PHONE_SEP_PY.sub("", unicodedata.normalize("NFKC", raw)))
    return match.group(1) if match else None


def phone_sha256(raw: object) -> str | None:
    """Lower-case hex SHA-256 of the 11 digits of a mainland mobile, ``None`` when not one."""
    digits = normalise_phone(raw)
    return None if digits is None else hashlib.sha256(digits.encode("ascii")).hexdigest()


def phone_md5(raw: object) -> str | None:
    """Lower-case hex MD5 of the 11 digits of a mainland mobile, ``None`` when not one."""
    digits = normalise_phone(raw)
    # MD5 here is an identifier format platforms match on, not a security measure.
    return None if digits is None else hashlib.md5(digits.encode("ascii")).hexdigest()  # noqa: S324


def normalise_phones_array(values: ArrayLike) -> pa.Array:
    """Vectorised :func:`normalise_phone`: a string array of 11-digit numbers, null where invalid."""
    if not isinstance(values, (pa.Array, pa.ChunkedArray)):  # a Python list may mix ints, floats, strings
        return pa.array([normalise_phone(v) for v in values], pa.string())
    arr = _as_array(values)
    if pa.types.is_integer(arr.type) or pa.types.is_null(arr.type):
        arr = pc.cast(arr, pa.string())
    elif not _is_text(arr.type):
        return pa.array([normalise_phone(v) for v in arr.to_pylist()], pa.string())
    cleaned = pc.replace_substring_regex(pc.utf8_normalize(pc.cast(arr, pa.string()), "NFKC"), _PHONE_SEP, "")
    digits = pc.replace_substring_regex(cleaned, _PHONE_RE, r"\1")
    return pc.if_else(pc.match_substring_regex(digits, _PHONE_RE), digits, pa.scalar(None, pa.string()))


def hash_phones(values: ArrayLike) -> tuple[pa.Array, pa.Array]:
    """Vectorised :func:`phone_sha256` and :func:`phone_md5`: ``(sha256_array, md5_array)``.

    Each distinct number is hashed once; invalid numbers and nulls give nulls.
    """
    encoded = pc.dictionary_encode(normalise_phones_array(values))
    uniques = [v.encode("ascii") for v in encoded.dictionary.to_pylist()]
    sha = pa.array([hashlib.sha256(v).hexdigest() for v in uniques], pa.string())
    md5 = pa.array([hashlib.md5(v).hexdigest() for v in uniques], pa.string())  # noqa: S324
    return pc.take(sha, encoded.indices), pc.take(md5, encoded.indices)


def email_sha256(raw: object) -> str | None:
    """Lower-case hex SHA-256 of an email address after trimming and lower-casing.

    ``None`` when ``raw`` is not a string shaped like ``local@domain.tld``.
    """
    if not isinstance(raw, str) or not _EMAIL_PY.match(raw):
        return None
    return hashlib.sha256(raw.strip().lower().encode("utf-8")).hexdigest()


def looks_like_raw_phone(text: object) -> bool:
    """True when ``text`` is a mainland mobile number in any spelling :func:`normalise_phone` accepts."""
    return normalise_phone(text) is not None


def looks_like_raw_email(text: object) -> bool:
    """True when ``text`` is shaped like an email address (``local@domain.tld``)."""
    return isinstance(text, str) and _EMAIL_PY.match(text) is not None


def looks_like_raw_phone_array(values: ArrayLike) -> pa.Array:
    """Vectorised :func:`looks_like_raw_phone` (null in, false out)."""
    return pc.is_valid(normalise_phones_array(values))


def looks_like_raw_email_array(values: ArrayLike) -> pa.Array:
    """Vectorised :func:`looks_like_raw_email` over a string array (null in, false out)."""
    arr = pc.cast(_as_array(values, pa.string()), pa.string())
    return pc.fill_null(pc.match_substring_regex(arr, _EMAIL_RE), False)


# ---------------------------------------------------------------- money

_CENT = Decimal("0.01")
_MONEY_LIMIT = Decimal(10) ** 16  # decimal128(18, 2) holds up to 9999999999999999.99


def yuan(value: str | int | Decimal | float, *, rounding: str | None = None) -> Decimal:
    """An exact yuan amount as a ``Decimal`` with two places (fits ``decimal128(18, 2)``).

    Accepts ``str`` (``'200.07'``), ``int`` and ``Decimal`` exactly. A
    ``float`` (Ocean Engine reports) goes through its ``repr`` first, so
    ``12.34`` gives ``Decimal('12.34')`` and not the binary value
    ``12.339999…``; then the same rule as every other input applies.
    Amounts that need more than 2 decimal places raise (money is never
    rounded silently) unless ``rounding`` names a ``decimal`` rounding mode,
    e.g. ``decimal.ROUND_HALF_UP``.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal, float)):
        raise InvalidInputError(f"amount {value!r} must be a str, int, Decimal or float, not {type(value).__name__}")
    try:
        text = repr(value) if isinstance(value, float) else value.strip() if isinstance(value, str) else value
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidInputError(f"amount {value!r} is not a decimal number of yuan (expected e.g. '200.07')") from None
    if not number.is_finite():
        raise InvalidInputError(f"amount {value!r} is not a finite number")
    if abs(number) >= _MONEY_LIMIT:
        raise InvalidInputError(f"amount {value!r} is out of range for decimal128(18,2) (below 10**16 yuan)")
    exact = number.quantize(_CENT)
    if exact != number:
        if rounding is None:
            raise InvalidInputError(
                f"amount {value!r} has more than 2 decimal places (decimal128(18,2), yuan); "
                "pass rounding= to round it on purpose"
            )
        exact = number.quantize(_CENT, rounding=rounding)
    return exact + 0  # "+ 0" turns -0.00 into 0.00


def fen_to_yuan(fen: int | str) -> Decimal:
    """Convert an integer amount in fen (分, Xingtu) to exact yuan: ``12345 -> Decimal('123.45')``."""
    if isinstance(fen, bool) or not isinstance(fen, (int, str)):
        raise InvalidInputError(
            f"fen amount {fen!r} must be an int or a string of digits, not {type(fen).__name__} "
            "(a float may have lost digits)"
        )
    text = fen.strip() if isinstance(fen, str) else str(fen)
    if not re.fullmatch(r"[+-]?\d+", text, re.ASCII):
        raise InvalidInputError(f"fen amount {fen!r} is not a whole number of fen")
    if abs(int(text)) >= 10**18:
        raise InvalidInputError(f"fen amount {fen!r} is out of range for decimal128(18,2)")
    return Decimal(int(text)).scaleb(-2).quantize(_CENT) + 0


def fen_to_yuan_array(values: ArrayLike) -> pa.Array:
    """Vectorised :func:`fen_to_yuan`: integers or digit strings to ``decimal128(18, 2)``, nulls preserved."""
    arr = _as_array(values)
    if _is_text(arr.type):
        arr = pc.utf8_trim_whitespace(pc.cast(arr, pa.string()))
    elif not (pa.types.is_integer(arr.type) or pa.types.is_null(arr.type)):
        raise InvalidInputError(f"fen amounts must be integers or digit strings, got {arr.type}")
    try:
        fen = pc.cast(arr, pa.int64(), safe=True)
        # Multiplying by 0.01 in decimal is exact; the final safe cast checks the range.
        scaled = pc.multiply(pc.cast(fen, pa.decimal128(19, 0)), pa.scalar(_CENT, pa.decimal128(3, 2)))
        return pc.cast(scaled, MONEY, safe=True)
    except pa.ArrowInvalid:
        return pa.array(_each(arr.to_pylist(), fen_to_yuan), MONEY)


def _each(values: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    """Convert element by element (nulls kept) so that an error names its row."""
    out = []
    for index, value in enumerate(values):
        try:
            out.append(None if value is None else convert(value))
        except InvalidInputError as exc:
            raise InvalidInputError(f"row {index}: {exc}") from None
    return out


def yuan_array(values: ArrayLike, *, rounding: str | None = None) -> pa.Array:
    """Vectorised :func:`yuan`: strings, ints, decimals or floats to ``decimal128(18, 2)``.

    The same rules as :func:`yuan` (exact, or ``rounding`` given); the error
    names the first bad row. Nulls are preserved.
    """
    arr = _as_array(values)
    if rounding is None and not pa.types.is_null(arr.type):
        try:
            if _is_text(arr.type):
                return pc.cast(pc.utf8_trim_whitespace(pc.cast(arr, pa.string())), MONEY, safe=True)
            if pa.types.is_integer(arr.type) or pa.types.is_decimal(arr.type):
                return pc.cast(arr, MONEY, safe=True)
            if pa.types.is_floating(arr.type):
                # Arrow rounds floats to the scale; a float is exact-at-2-places
                # iff converting back gives the same float (its repr has <= 2 places).
                money = pc.cast(arr, MONEY, safe=True)
                if pc.all(pc.equal(pc.cast(money, pa.float64()), pc.cast(arr, pa.float64()))).as_py() is not False:
                    return money
        except pa.ArrowInvalid:
            pass  # some row is bad or needs rounding: the scalar path says which
    return pa.array(_each(arr.to_pylist(), lambda v: yuan(v, rounding=rounding)), MONEY)


# ---------------------------------------------------------------- identifiers


def exact_id(value: int | str | Decimal) -> str:
    """An identifier as an exact string: ints (also beyond 2**53), strings, integral Decimals.

    Floats are refused: a float id above 2**53 has already lost digits, and
    the fix is to parse the JSON with :func:`json_loads_exact` (or keep the
    field a string). Whitespace is stripped; empty ids are refused.
    """
    if isinstance(value, float):
        raise InvalidInputError(
            f"id {value!r} arrived as a float and may have lost digits; parse the JSON with "
            "omniplug.fields.json_loads_exact (or json.loads(..., parse_float=Decimal)) and pass an int or str"
        )
    if isinstance(value, bool) or not isinstance(value, (int, str, Decimal)):
        raise InvalidInputError(f"id {value!r} must be an int or a str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise InvalidInputError(f"id {value!r} is not a whole number")
        return str(int(value))
    text = str(value).strip()
    if not text:
        raise InvalidInputError("id is empty")
    return text


def _refuse_constant(name: str) -> Any:
    raise InvalidInputError(f"JSON constant {name} is not a number omniplug accepts")


def json_loads_exact(text: str | bytes) -> Any:
    """Parse JSON without losing digits: integers stay ``int`` (exact at any size), decimals become ``Decimal``.

    Use it for every platform response: ids above 2**53 (JD sku ids, Weibo
    status ids) and money such as ``200.07`` then arrive exact, ready for
    :func:`exact_id` and :func:`yuan`. ``NaN``/``Infinity`` are refused.
    """
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"invalid JSON: {exc}") from None

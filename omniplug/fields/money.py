"""Money as exact yuan: ``Decimal`` with two places, ``decimal128(18, 2)`` in columns.

Amounts are never rounded unless the caller names a rounding mode
(:func:`yuan`, :func:`yuan_array`); floats go through their ``repr`` so that
``12.34`` stays ``12.34``; amounts in fen (分) become yuan exactly
(:func:`fen_to_yuan`, :func:`fen_to_yuan_array`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.errors import InvalidInputError
from omniplug.fields._arrow import ArrayLike, as_array, is_text
from omniplug.schema import MONEY

__all__ = ["yuan", "fen_to_yuan", "yuan_array", "fen_to_yuan_array"]

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
    arr = as_array(values)
    if is_text(arr.type):
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
    arr = as_array(values)
    if rounding is None and not pa.types.is_null(arr.type):
        try:
            if is_text(arr.type):
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

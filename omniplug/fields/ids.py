"""Identifiers as exact strings, and JSON parsing that keeps every digit.

Platform ids exceed 2**53 (JD sku ids, Weibo status ids), where a float
loses digits: parse responses with :func:`json_loads_exact` and turn ids
into strings with :func:`exact_id`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from omniplug.errors import InvalidInputError

__all__ = ["exact_id", "json_loads_exact"]


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

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

The helpers live in :mod:`omniplug.fields.times`, :mod:`omniplug.fields.phones`,
:mod:`omniplug.fields.money` and :mod:`omniplug.fields.ids`; import them from
``omniplug.fields``.
"""

from __future__ import annotations

from omniplug.fields._arrow import ArrayLike as ArrayLike  # the type the *_array helpers take
from omniplug.fields.ids import exact_id, json_loads_exact
from omniplug.fields.money import fen_to_yuan, fen_to_yuan_array, yuan, yuan_array
from omniplug.fields.phones import (
    email_sha256,
    hash_phones,
    looks_like_raw_email,
    looks_like_raw_email_array,
    looks_like_raw_phone,
    looks_like_raw_phone_array,
    normalise_phone,
    normalise_phones_array,
    phone_md5,
    phone_sha256,
)
from omniplug.fields.times import (
    CHINA_TZ,
    china_time_to_utc,
    china_times_to_utc_array,
    epoch_to_utc,
    parse_when,
    whole_seconds,
)

__all__ = [
    "CHINA_TZ", "china_time_to_utc", "epoch_to_utc", "china_times_to_utc_array", "parse_when", "whole_seconds",
    "normalise_phone", "normalise_phones_array", "phone_sha256", "phone_md5", "hash_phones",
    "email_sha256", "looks_like_raw_phone", "looks_like_raw_email",
    "looks_like_raw_phone_array", "looks_like_raw_email_array",
    "yuan", "fen_to_yuan", "yuan_array", "fen_to_yuan_array", "exact_id", "json_loads_exact",
]

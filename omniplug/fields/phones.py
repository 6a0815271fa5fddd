"""Phone numbers and email addresses: normalise, hash, and recognise raw ones.

Personal data leaves a plugin's ``normalise`` only as hashes (DESIGN §4):
:func:`phone_sha256` / :func:`phone_md5` / :func:`hash_phones` hash the 11
digits of a mainland China mobile after :func:`normalise_phone`, and
:func:`email_sha256` a trimmed, lower-cased address. The ``looks_like_raw_*``
checks let validation catch raw values that slipped into identifier columns.
Unlike the other field helpers these never raise on bad input: "not a
mainland mobile" is ``None`` (or ``False``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.fields._arrow import ArrayLike, as_array, is_text

__all__ = [
    "normalise_phone", "normalise_phones_array", "phone_sha256", "phone_md5", "hash_phones",
    "email_sha256", "looks_like_raw_phone", "looks_like_raw_email",
    "looks_like_raw_phone_array", "looks_like_raw_email_array",
]

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
    arr = as_array(values)
    if pa.types.is_integer(arr.type) or pa.types.is_null(arr.type):
        arr = pc.cast(arr, pa.string())
    elif not is_text(arr.type):
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
    arr = pc.cast(as_array(values, pa.string()), pa.string())
    return pc.fill_null(pc.match_substring_regex(arr, _EMAIL_RE), False)

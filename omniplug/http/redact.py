"""Redaction: keep secrets out of logs, request logs and error messages.

Two complementary rules, both applied by :func:`redact`:

* **by name** - a query/form parameter, header or JSON key whose name looks
  like a secret (``sign``, ``access_token``, ``app_secret``, ``Authorization``,
  ``accessToken``, ``x-signature``, ...) has its value replaced by ``***``;
* **by value** - any literal secret the caller registered (the app secret,
  the current access and refresh tokens) is scrubbed wherever it appears, even
  inside an error message the platform echoed back.

Every module that writes something a human may read (the HTTP client, the
simulators, the pipeline's run log) should pass it through :func:`redact`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "MIN_SECRET_LENGTH", "SECRET_KEY_NAMES", "is_secret_key", "redact"]

#: What a secret is replaced with.
MASK = "***"

#: Registered secret values shorter than this are ignored: scrubbing "1" or
#: "ok" from every log line would destroy the log without protecting anything.
MIN_SECRET_LENGTH = 4

#: Parameter/header/key names (normalised to snake_case) whose values are secret.
SECRET_KEY_NAMES = frozenset(
    {
        "sign",
        "signature",
        "access_token",
        "session",
        "app_secret",
        "secret",
        "refresh_token",
        "client_secret",
        "password",
        "authorization",
        "token",
    }
)
# Suffixes catch the many platform spellings: event_sign, x_signature,
# app_access_token, client_token, partner_secret, ...
_SECRET_SUFFIXES = ("_sign", "_signature", "_token", "_secret", "_password")

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# A name followed by '=' (query strings, form bodies) or a JSON "name": "value".
_NAME = r"[A-Za-z][A-Za-z0-9_\-]*"
_KEY_VALUE = re.compile(rf"(?<![A-Za-z0-9_\-])({_NAME})=([^&\s\"']*)")
_JSON_STRING_FIELD = re.compile(rf'"({_NAME})"(\s*:\s*)"((?:[^"\\]|\\.)*)"')
# "Authorization: Bearer abc" as it appears in a dumped header block.
_HEADER_LINE = re.compile(rf"(?im)^({_NAME})(\s*:\s*)(.+)$")


def is_secret_key(name: str) -> bool:
    """True when a parameter, header or JSON key named ``name`` holds a secret.

    Names are compared case-insensitively after turning camelCase and
    dashes into snake_case, so ``accessToken``, ``Access-Token`` and
    ``access_token`` are all secret.
    """
    norm = _CAMEL_BOUNDARY.sub("_", name).lower().replace("-", "_")
    return norm in SECRET_KEY_NAMES or norm.endswith(_SECRET_SUFFIXES)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Return a copy of ``value`` with every secret masked as ``***``.

    ``value`` may be a string (a URL, a form body, JSON text, a message),
    ``bytes`` (decoded as UTF-8 with replacement, returned as ``str``), a
    mapping (keys kept, secret keys masked, other values redacted
    recursively), a list/tuple (returned as a list), or anything else
    (returned unchanged). ``secrets`` are literal values to scrub wherever
    they occur; values shorter than :data:`MIN_SECRET_LENGTH` are ignored.

    Guarantee: no registered secret of at least :data:`MIN_SECRET_LENGTH`
    characters occurs in the returned text.
    """
    pattern = _secret_pattern(secrets)
    return _redact(value, pattern)


def _secret_pattern(secrets: Iterable[str]) -> re.Pattern[str] | None:
    # Longest first, so a secret that contains another is removed whole.
    values = sorted(
        {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
    )
    if not values:
        return None
    return re.compile("|".join(re.escape(v) for v in values))


def _redact(value: Any, pattern: re.Pattern[str] | None) -> Any:
    if isinstance(value, str):
        return _redact_text(value, pattern)
    if isinstance(value, bytes | bytearray):
        return _redact_text(bytes(value).decode("utf-8", errors="replace"), pattern)
    if isinstance(value, Mapping):
        return {
            k: MASK if isinstance(k, str) and is_secret_key(k) else _redact(v, pattern)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v, pattern) for v in value]
    return value


def _mask_named(match: re.Match[str], value_group: int) -> str:
    if not is_secret_key(match.group(1)):
        return match.group(0)
    start, end = match.span(value_group)
    base = match.start(0)
    text = match.group(0)
    return text[: start - base] + MASK + text[end - base :]


def _redact_text(text: str, pattern: re.Pattern[str] | None) -> str:
    text = _KEY_VALUE.sub(lambda m: _mask_named(m, 2), text)
    text = _JSON_STRING_FIELD.sub(lambda m: _mask_named(m, 3), text)
    text = _HEADER_LINE.sub(lambda m: _mask_named(m, 3), text)
    if pattern is not None:
        # Masking can glue the pieces around a removed secret into another
        # registered secret (e.g. one that contains '*'); repeat until none is
        # left. Each pass shortens the text, so this ends.
        while pattern.search(text):
            text = pattern.sub(MASK, text)
    return text

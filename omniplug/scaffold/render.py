"""A tiny, safe template renderer: ``{{ name }}`` placeholders and nothing else.

Scaffold templates are plain text with placeholders; there are no
expressions, loops or includes, so rendering cannot run code, and a value is
inserted verbatim and never scanned again (a value that itself contains
``{{ x }}`` stays as it is). An unknown placeholder, or a ``{{`` left over
that is not a placeholder, is an error: a template bug must not ship as a
half-rendered file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from omniplug.errors import InvalidInputError

__all__ = ["PLACEHOLDER", "placeholders", "render"]

#: ``{{ name }}``: an identifier between double braces, spaces allowed inside.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def placeholders(text: str) -> set[str]:
    """The placeholder names used in ``text``."""
    return set(PLACEHOLDER.findall(text))


def render(text: str, context: Mapping[str, str], *, source: str = "<template>") -> str:
    """``text`` with every ``{{ name }}`` replaced by ``context[name]``.

    Args:
        text: the template.
        context: placeholder values (strings, inserted as they are).
        source: the template's name, for error messages.

    Raises:
        InvalidInputError: a placeholder has no value in ``context``, or a
            ``{{`` that is not a well-formed placeholder remains.
    """
    missing = sorted(placeholders(text) - set(context))
    if missing:
        raise InvalidInputError(f"{source}: no value for placeholder(s) {', '.join(missing)}")
    pieces: list[str] = []
    last = 0
    for match in PLACEHOLDER.finditer(text):
        literal = text[last:match.start()]
        _check_literal(literal, source, text, last)
        pieces.append(literal)
        pieces.append(context[match.group(1)])
        last = match.end()
    _check_literal(text[last:], source, text, last)
    pieces.append(text[last:])
    return "".join(pieces)


def _check_literal(literal: str, source: str, text: str, offset: int) -> None:
    """Refuse a stray ``{{`` between placeholders (a typo such as ``{{name}`` would ship otherwise)."""
    at = literal.find("{{")
    if at < 0:
        return
    line = text.count("\n", 0, offset + at) + 1
    raise InvalidInputError(f"{source}:{line}: '{{{{' that is not a {{{{ name }}}} placeholder")

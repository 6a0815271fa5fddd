"""Environment references in configuration values: ``${NAME}`` and ``${NAME:-default}``.

:func:`resolve_env` replaces references in every string of a parsed TOML
document (``$${`` is a literal ``${``); the default applies when the
variable is unset or empty. A platform table written with ``enabled = false``
may reference unset variables: they stay as written. :func:`with_templates`
puts the references back as written, so that a configuration's fingerprint
does not depend on secret values kept in the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from omniplug.config_errors import Loc, problem_line
from omniplug.errors import ConfigError

__all__ = ["resolve_env", "with_templates"]

_REF = re.compile(r"\$\$(?=\{)|\$\{([^}]*)\}")
_NAME_DEFAULT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)


def resolve_env(
    data: Any,
    *,
    env: Mapping[str, str] | None = None,
    source: str | os.PathLike[str] | None = None,
    templates: dict[Loc, str] | None = None,
) -> Any:
    """Replace ``${NAME}`` / ``${NAME:-default}`` in every string of ``data`` (tables, lists).

    Returns a new structure. ``templates``, if given, receives key path ->
    original string for every value that referenced the environment.

    Raises:
        ConfigError: a referenced variable is unset (and has no default), or a
            reference is malformed; one line per problem naming the key path.
    """
    environ = os.environ if env is None else env
    src = os.fspath(source) if source is not None else None
    problems: list[str] = []

    def substitute(text: str, loc: Loc, lenient: bool) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(1) is None:  # "$${" -> literal "${"
                return "$"
            parsed = _NAME_DEFAULT.fullmatch(match.group(1))
            if parsed is None:
                problems.append(problem_line(src, loc, f"malformed environment reference {match.group(0)!r}"))
                return match.group(0)
            name, default = parsed.groups()
            value = environ.get(name)
            if value is None or (value == "" and default is not None):
                if default is not None:
                    return default
                if lenient:
                    return match.group(0)
                problems.append(problem_line(src, loc, f"environment variable {name} is not set"))
                return match.group(0)
            return value

        resolved = _REF.sub(one, text)
        if templates is not None and resolved != text:
            templates[loc] = text
        return resolved

    def walk(value: Any, loc: Loc, lenient: bool) -> Any:
        if isinstance(value, str):
            return substitute(value, loc, lenient)
        if isinstance(value, dict):
            # A platform written with `enabled = false` may lack its credentials.
            lenient = lenient or (len(loc) == 2 and loc[0] == "platforms" and value.get("enabled") is False)
            return {k: walk(v, (*loc, k), lenient) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*loc, i), lenient) for i, v in enumerate(value)]
        return value

    result = walk(data, (), False)
    if problems:
        raise ConfigError("\n".join(problems))
    return result


def with_templates(value: Any, loc: Loc, templates: Mapping[Loc, str]) -> Any:
    """``value`` with every string that came from ``${...}`` put back as written.

    ``templates`` maps key paths (``loc`` is the path of ``value`` itself) to
    the original strings, as :func:`resolve_env` collects them.
    """
    if loc in templates:
        return templates[loc]
    if isinstance(value, dict):
        return {k: with_templates(v, (*loc, k), templates) for k, v in value.items()}
    if isinstance(value, list):
        return [with_templates(v, (*loc, i), templates) for i, v in enumerate(value)]
    return value

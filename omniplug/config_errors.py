"""Pydantic validation errors as one readable line per problem.

:func:`validation_problems` turns a ``pydantic.ValidationError`` into lines
such as ``pipeline.toml: platforms.tmall.app_key: field required (expected a
string)``: the file, the dotted key path, and what was expected in words a
pipeline author knows (a string, a table, true or false) rather than pydantic's
type names. Input values are shown only when they are numbers: strings may be
credentials that landed in the wrong key, and ``SecretStr`` fields never show
their value at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr, ValidationError

__all__ = ["Loc", "problem_line", "describe_value", "validation_problems"]

#: A key path into a configuration document: table keys and list indexes.
Loc = tuple[str | int, ...]


def _format_loc(loc: Loc) -> str:
    """``("platforms", "tmall", "streams", 0)`` -> ``platforms.tmall.streams[0]`` (odd keys quoted)."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part, ensure_ascii=False)
            out += f".{key}" if out else key
    return out


def problem_line(source: str | None, loc: Loc, message: str) -> str:
    """One problem as ``<source>: <key path>: <message>`` (source and path left out when empty)."""
    parts = [p for p in (source, _format_loc(loc)) if p]
    return ": ".join([*parts, message])


def _strip(annotation: Any) -> Any:
    """Drop ``Annotated`` and ``None`` members: what a value is expected to be."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not NoneType]
        return _strip(members[0]) if len(members) == 1 else Union[tuple(members)]  # noqa: UP007
    return annotation


def _annotation_at(model: type[BaseModel], loc: Loc) -> Any:
    annotation: Any = model
    for part in loc:
        annotation = _strip(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f for n, f in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[part].annotation
        elif get_origin(annotation) in (dict, Mapping) and get_args(annotation):
            annotation = get_args(annotation)[1]
        elif get_origin(annotation) in (list, tuple, set, frozenset) and get_args(annotation):
            annotation = get_args(annotation)[0]
        else:
            return None
    return annotation


_NAMES = {str: "a string", bool: "true or false", int: "an integer", float: "a number",
          date: "a date (YYYY-MM-DD)", Path: "a path (string)"}
_PLURALS = {str: "strings", bool: "booleans", int: "integers", float: "numbers"}


def _describe_type(annotation: Any) -> str:
    annotation = _strip(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is None:
        return "a valid value"
    if origin in (Union, UnionType):
        return " or ".join(_describe_type(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (list, tuple, set, frozenset):
        item = _strip(args[0]) if args else None
        return f"a list of {_PLURALS[item]}" if item in _PLURALS else "a list"
    if origin in (dict, Mapping) or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        value = _strip(args[1]) if len(args) == 2 else None
        return f"a table of {_PLURALS[value]}" if value in _PLURALS else "a table"
    if annotation is SecretStr:
        return "a string"
    return _NAMES.get(annotation, f"a {getattr(annotation, '__name__', annotation)}")


def describe_value(value: Any, secret: bool) -> str:
    """What ``value`` is, in words (``a string``, ``an integer (3)``); only numbers show the value.

    ``secret`` hides even numbers (the value of a ``SecretStr`` field).
    """
    kinds = [(bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
             (dict, "a table"), (list, "a list"), (date, "a date")]
    kind = next((name for cls, name in kinds if isinstance(value, cls)), type(value).__name__)
    if value is None:
        return "nothing"
    # Strings are never echoed: they may be credentials that landed in the wrong key.
    if secret or not isinstance(value, (bool, int, float)):
        return kind
    return f"{kind} ({json.dumps(value)})"


def _union_cut(data: Any, loc: Loc, kind: str) -> Loc | None:
    """Where ``loc`` leaves the input data: pydantic adds union member tags there."""
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        elif i == len(loc) - 1 and kind == "missing":
            return None
        else:
            return loc[:i]
    return None


def _lookup(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def validation_problems(exc: ValidationError, model: type[BaseModel], data: Any, prefix: Loc, source: str | None) -> list[str]:
    """The errors of validating ``data`` against ``model``, one line each, duplicates dropped.

    ``prefix`` is the key path of ``data`` in the whole document (e.g.
    ``("platforms", "tmall")``) and ``source`` the file name that starts each
    line (see :func:`problem_line`).
    """
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        loc: Loc = tuple(error["loc"])
        kind = error["type"]
        cut = _union_cut(data, loc, kind)
        if cut is not None:
            annotation = _annotation_at(model, cut)
            message = (
                f"expected {_describe_type(annotation)}, "
                f"got {describe_value(_lookup(data, cut), _strip(annotation) is SecretStr)}"
            )
            loc = cut
        else:
            annotation = _annotation_at(model, loc)
            secret = _strip(annotation) is SecretStr
            if kind == "missing":
                message = f"field required (expected {_describe_type(annotation)})"
            elif kind == "extra_forbidden":
                parent = _strip(_annotation_at(model, loc[:-1]))
                fields = getattr(parent, "model_fields", {})
                allowed = f" (allowed: {', '.join(f.alias or n for n, f in fields.items())})" if fields else ""
                message = f"unknown key {loc[-1]!r}{allowed}"
                loc = loc[:-1]
            elif kind.endswith(("_type", "_parsing")) or kind.startswith(("int_from", "date_from")):
                message = f"expected {_describe_type(annotation)}, got {describe_value(error['input'], secret)}"
            else:
                message = re.sub(r"^(Value error|Assertion failed), ", "", error["msg"])
                message = re.sub(r"^Input should", "should", message)
                value = error.get("input")
                if not secret and isinstance(value, (int, float)) and loc:
                    message += f" (got {json.dumps(value)})"
        problems.append(problem_line(source, (*prefix, *loc), message))
    return list(dict.fromkeys(problems))

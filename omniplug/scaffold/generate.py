"""Scaffold a platform plugin distribution from the templates shipped in this package.

:func:`generate` renders ``omniplug/scaffold/template/`` (package data, files
ending in ``.tmpl``) into a new folder: a distribution ``omniplug-<name>``
with the package ``omniplug_<name>`` (the template folder ``package/`` is
renamed to it) and its tests. Names are checked first, everything is
rendered in memory, and only then is anything written, so a refused name or
a template error leaves no half-made folder behind.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from omniplug.errors import InvalidInputError
from omniplug.scaffold.render import render

__all__ = [
    "MAX_NAME_LENGTH",
    "default_dest",
    "generate",
    "render_files",
    "template_context",
    "validate_display_name",
    "validate_name",
]

#: Longest accepted platform name (it becomes a package, a class and a TOML key).
MAX_NAME_LENGTH = 32
_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
_TEMPLATE_SUFFIX = ".tmpl"
#: The template folder renamed to ``omniplug_<name>``.
_PACKAGE_DIR = "package"
# A display name lands in TOML strings, Python docstrings and Markdown: keep it to one plain line.
_BAD_DISPLAY = re.compile(r'["\\{}\x00-\x1f\x7f]')


def validate_name(name: str) -> str:
    """Return ``name`` if it can name a platform plugin, else raise a one-line error saying what to use.

    A name is a lower-case identifier (``a-z``, digits, single ``_``, starting
    with a letter, not ending with ``_``) of at most :data:`MAX_NAME_LENGTH`
    characters: it must work as a TOML key, an entry-point name, part of a
    package name (``omniplug_<name>``) and of an environment variable name.
    """
    if not _NAME.match(name) or name.endswith("_") or "__" in name or len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"plugin name {name!r} is not valid: use a lower-case identifier (a-z, 0-9 and single '_', "
            f"starting with a letter, at most {MAX_NAME_LENGTH} characters), e.g. {_suggest(name)!r}"
        )
    return name


def _suggest(name: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    text = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")[:MAX_NAME_LENGTH].rstrip("_")
    if not text:
        return "my_platform"
    return text if text[0].isalpha() else f"p_{text}"[:MAX_NAME_LENGTH].rstrip("_")


def validate_display_name(display_name: str) -> str:
    """Return ``display_name`` (stripped) if it is one plain line, else raise a one-line error."""
    text = display_name.strip()
    if not text or len(text) > 60 or _BAD_DISPLAY.search(text):
        raise InvalidInputError(
            f"display name {display_name!r} is not valid: use one line of at most 60 characters without "
            "quotes, backslashes or braces, e.g. 'Acme Mall'"
        )
    return text


def template_context(name: str, display_name: str | None = None) -> dict[str, str]:
    """The placeholder values of the templates for platform ``name``.

    ``name`` ``acme_mall`` gives package ``omniplug_acme_mall``, distribution
    ``omniplug-acme-mall``, class prefix ``AcmeMall``, display name
    ``Acme Mall`` (unless given) and identifier type ``acme_mall_uid``.
    """
    validate_name(name)
    words = name.split("_")
    display = validate_display_name(display_name) if display_name is not None else " ".join(
        w.capitalize() for w in words)
    host = name.replace("_", "-")
    return {
        "name": name,
        "package": f"omniplug_{name}",
        "dist": f"omniplug-{host}",
        "host": host,
        "cls": "".join(w.capitalize() for w in words),
        "display": display,
        "upper": name.upper(),
        "id_type": f"{name}_uid",
    }


def default_dest(name: str) -> Path:
    """Where ``omniplug new-plugin NAME`` writes without ``--dest``: ``./omniplug-<name>``."""
    return Path(f"omniplug-{name.replace('_', '-')}")


def _templates() -> Iterator[tuple[PurePosixPath, Traversable]]:
    """``(relative path without .tmpl, file)`` of every template, in a stable order."""
    stack: list[tuple[PurePosixPath, Traversable]] = [(PurePosixPath(), resources.files(__package__) / "template")]
    while stack:
        prefix, folder = stack.pop()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_dir():
                if entry.name != "__pycache__":
                    stack.append((prefix / entry.name, entry))
            elif entry.name.endswith(_TEMPLATE_SUFFIX):
                yield prefix / entry.name[: -len(_TEMPLATE_SUFFIX)], entry


def render_files(name: str, display_name: str | None = None) -> dict[PurePosixPath, str]:
    """Every generated file for platform ``name``: relative path -> rendered text (nothing is written)."""
    context = template_context(name, display_name)
    files: dict[PurePosixPath, str] = {}
    for relative, template in _templates():
        parts = relative.parts
        target = PurePosixPath(context["package"], *parts[1:]) if parts[0] == _PACKAGE_DIR else relative
        files[target] = render(template.read_text(encoding="utf-8"), context, source=f"template/{relative}.tmpl")
    return dict(sorted(files.items()))


def _installed_owner(name: str) -> str | None:
    """Who already provides platform ``name`` or package ``omniplug_<name>`` here, if anyone."""
    from omniplug.plugins import load_registry

    spec = load_registry().platforms.get(name)
    if spec is not None:
        return f"plugin {spec.plugin or 'unknown'}"
    found = importlib.util.find_spec(f"omniplug_{name}")
    if found is not None:
        return f"package omniplug_{name} at {found.origin or 'a namespace package'}"
    return None


def _check_dest(dest: Path, force: bool) -> None:
    if dest.exists() and not dest.is_dir():
        raise InvalidInputError(f"{dest} exists and is not a folder; choose another with --dest")
    if dest.is_dir() and any(dest.iterdir()) and not force:
        raise InvalidInputError(
            f"{dest} already exists and is not empty; choose another folder with --dest, "
            "or use --force to overwrite the generated files in it"
        )


def generate(
    name: str,
    dest: str | os.PathLike[str] | None = None,
    *,
    display_name: str | None = None,
    force: bool = False,
) -> Path:
    """Write a new plugin distribution for platform ``name`` into ``dest`` and return its path.

    The result installs with ``pip install -e <dest>`` and passes its tests
    (omniplug's contract suite included) with ``pytest <dest>`` as generated.

    Args:
        name: the platform name (see :func:`validate_name`), e.g. ``acme_mall``.
        dest: the folder to create (default ``./omniplug-<name>``); it may
            exist if it is empty.
        display_name: how docs and messages name the platform (default: from ``name``).
        force: allow a ``name`` that an installed plugin already provides, and
            overwrite the generated files in a non-empty ``dest`` (other files
            there are left alone).

    Raises:
        InvalidInputError: a one-line message saying what to change.
    """
    validate_name(name)
    target = Path(dest) if dest is not None else default_dest(name)
    files = render_files(name, display_name)
    if not force:
        owner = _installed_owner(name)
        if owner is not None:
            raise InvalidInputError(
                f"a platform named {name!r} is already installed ({owner}); choose another name, "
                "or use --force to scaffold it anyway"
            )
    _check_dest(target, force)
    for relative, text in files.items():
        path = target.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target.resolve()

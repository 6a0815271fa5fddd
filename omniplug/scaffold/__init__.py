"""``omniplug new-plugin``: scaffold a platform plugin that passes the contract suite out of the box.

::

    from omniplug.scaffold import generate

    path = generate("acme_mall", "omniplug-acme-mall")   # then: pip install -e omniplug-acme-mall

The templates live in ``omniplug/scaffold/template/`` as package data
(``*.tmpl`` files with ``{{ name }}`` placeholders, rendered by the tiny
renderer of :mod:`omniplug.scaffold.render`; no template engine needed).
What the generated files do and what to change in each for a real platform
is in ``docs/plugin-guide.md`` and in the generated ``README.md``.
"""

from __future__ import annotations

from omniplug.scaffold.generate import (
    MAX_NAME_LENGTH,
    default_dest,
    generate,
    render_files,
    template_context,
    validate_display_name,
    validate_name,
)
from omniplug.scaffold.render import placeholders, render

__all__ = [
    "MAX_NAME_LENGTH",
    "default_dest",
    "generate",
    "placeholders",
    "render",
    "render_files",
    "template_context",
    "validate_display_name",
    "validate_name",
]

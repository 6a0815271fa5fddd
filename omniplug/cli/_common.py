"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["installed_plugins", "writable_dir"]


def installed_plugins() -> Any:
    """The plugins installed through the ``omniplug`` entry-point group."""
    from omniplug.plugins import load_registry

    return load_registry()


def writable_dir(path: Path) -> Path:
    """``path``, created, after checking it can be written (a one-line error otherwise)."""
    from omniplug.errors import ConfigError

    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".omniplug-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output folder {path} is not writable ({exc.strerror}); choose another with --out") from None
    return path

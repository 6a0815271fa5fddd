"""The records a :class:`~omniplug.state.StateStore` hands out, and its JSON rules.

:class:`PartRecord` (a committed part file), :class:`CursorRecord` (a saved
stream cursor), :class:`RunRecord` (a row of the run log) and
:class:`EventRecord` (one event of a run) are frozen dataclasses; all are
re-exported by :mod:`omniplug.state`. The JSON helpers here decide how
values are stored in the run log: secrets masked, dates as ISO 8601.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath, PurePosixPath
from typing import Any

from pydantic import SecretStr

from omniplug.errors import StateError

__all__ = ["PartRecord", "CursorRecord", "RunRecord", "EventRecord", "json_default", "dumps"]


@dataclass(frozen=True)
class PartRecord:
    """One durably written part file, as recorded by :meth:`StateStore.commit_batch`.

    Give ``table``, ``path`` (relative to the output folder, ``/``-separated),
    ``rows`` and at least one of ``sha256`` / ``size`` when committing; the
    store fills ``seq`` (commit order, strictly increasing, never reused),
    ``platform``, ``stream``, ``account``, ``run_id`` and ``committed_at``
    when reading records back.

    Raises:
        StateError: ``path`` is absolute, empty or climbs out with ``..``.
    """

    table: str
    path: str
    rows: int
    sha256: str | None = None
    size: int | None = None
    seq: int | None = None
    platform: str | None = None
    stream: str | None = None
    account: str | None = None
    run_id: str | None = None
    committed_at: datetime | None = None

    def __post_init__(self) -> None:
        # Normalise here so the UNIQUE(path) check sees one spelling per file.
        object.__setattr__(self, "path", _relative_posix(self.path))


@dataclass(frozen=True)
class CursorRecord:
    """A saved stream cursor with where it came from (the run and the time that saved it)."""

    platform: str
    stream: str
    account: str
    cursor: dict[str, Any]
    run_id: str | None
    updated_at: datetime


@dataclass(frozen=True)
class RunRecord:
    """One row of the run log: a command's run, its final status and summary.

    ``finished_at`` is ``None`` while the run is ``running``.
    """

    run_id: str
    command: str
    config_hash: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventRecord:
    """One event of a run, in logging order (``seq``)."""

    seq: int
    run_id: str
    at: datetime
    level: str
    step: str
    message: str
    data: dict[str, Any] | None


def _relative_posix(path: str | PurePath) -> str:
    text = str(path).replace("\\", "/") if isinstance(path, str) else PurePath(path).as_posix()
    pure = PurePosixPath(text)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or pure.parts == (".",):
        raise StateError(
            f"part path {text!r} must be a file path relative to the output folder, without '..'"
        )
    return pure.as_posix()


def json_default(value: Any) -> Any:
    """``json.dumps``' ``default=`` for stored values: secrets masked, dates ISO, the rest ``repr``."""
    # Secrets must never reach the run log: SecretStr renders as its mask.
    if isinstance(value, SecretStr):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def dumps(value: Any) -> str:
    """Stable JSON text of ``value`` for the run log (sorted keys, non-ASCII kept, see :func:`json_default`)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=json_default)

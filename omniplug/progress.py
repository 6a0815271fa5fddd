"""Progress reporting for long work (fetching pages, hashing media, stitching).

Code that does long work receives a :class:`Progress` and calls
``task = progress.task("tmall/orders", total=None)`` then ``task.advance(n)``.
The command line passes a :class:`RichProgress` (bars on a terminal, quiet
otherwise); library callers get :class:`NullProgress` unless they pass one.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Protocol

__all__ = ["ProgressTask", "Progress", "NullProgress", "RichProgress"]


class ProgressTask(Protocol):
    """One bar: a unit of work with an optional known total."""

    def advance(self, amount: float = 1) -> None:
        """Record ``amount`` more units done."""

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        """Change the total (once it becomes known) or the label."""

    def finish(self) -> None:
        """Mark the task complete."""


class Progress(Protocol):
    """A source of progress tasks."""

    def task(self, description: str, total: float | None = None, unit: str = "rows") -> ProgressTask:
        """Start a task and return its handle."""


class _NullTask:
    def advance(self, amount: float = 1) -> None:
        """Do nothing."""

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        """Do nothing."""

    def finish(self) -> None:
        """Do nothing."""


class NullProgress:
    """Progress that shows nothing (the default for library calls)."""

    def task(self, description: str, total: float | None = None, unit: str = "rows") -> ProgressTask:
        """Return a task that ignores every call."""
        return _NullTask()


class _RichTask:
    def __init__(self, progress: object, task_id: int) -> None:
        self._progress = progress
        self._id = task_id

    def advance(self, amount: float = 1) -> None:
        """Record ``amount`` more units done."""
        self._progress.advance(self._id, amount)  # type: ignore[attr-defined]

    def update(self, *, total: float | None = None, description: str | None = None) -> None:
        """Change total or label."""
        kwargs: dict[str, object] = {}
        if total is not None:
            kwargs["total"] = total
        if description is not None:
            kwargs["description"] = description
        self._progress.update(self._id, **kwargs)  # type: ignore[attr-defined]

    def finish(self) -> None:
        """Mark complete (a bar with no total gets its count as total)."""
        task = self._progress.tasks[self._id]  # type: ignore[attr-defined]
        total = task.total if task.total is not None else task.completed
        self._progress.update(self._id, total=total, completed=total)  # type: ignore[attr-defined]


class RichProgress:
    """Progress bars with ``rich`` on stderr; silent when stderr is not a terminal.

    Use as a context manager around the work::

        with RichProgress() as progress:
            sync_stream(..., progress=progress)
    """

    def __init__(self, *, enabled: bool | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import (
            Progress as _Progress,
        )

        console = Console(stderr=True)
        if enabled is None:
            enabled = sys.stderr.isatty()
        self._progress = _Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def task(self, description: str, total: float | None = None, unit: str = "rows") -> ProgressTask:
        """Start a bar."""
        task_id = self._progress.add_task(description, total=total, unit=unit)
        return _RichTask(self._progress, task_id)

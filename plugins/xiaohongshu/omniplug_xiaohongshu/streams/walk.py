"""Resumable walks over time windows: the fetch loop shared by the windowed streams.

Xiaohongshu's APIs only answer short time windows (Ark orders: 24 h by
creation time or 30 min by update time; Pugongying notes: 30 days; crowd
data: one day), so a 30-day fetch is a *walk* over many windows, each paged.
A run killed anywhere must resume inside that walk, at the window and page
where it stopped. The cursor attached to every batch says exactly that::

    {"walk_start": ..., "walk_end": ..., "step": 86400, "mode": "created",
     "window_start": "2026-10-07T16:00:00+00:00", "state": {"page": 3, "collected": 200}}

``state`` is whatever the stream's window fetcher needs to resume inside
the window (a page number, an opaque page cursor); ``None`` means "from the
window's first page". After the last window the cursor becomes a watermark,
``{"watermark": ..., "mode": ...}``, and the next run starts a new walk from it.
Empty windows yield no batch (re-asking for them after a crash costs one
request each, far less than a commit per empty window).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.cursor import with_cursor
from omniplug.fields import CHINA_TZ, whole_seconds
from omniplug.rowmap import records_batch

__all__ = [
    "Resume",
    "Walk",
    "WindowFetcher",
    "china_midnight",
    "next_china_midnight",
    "plan_walk",
    "run_walk",
]

#: ``fetch(window_start, window_end, state)`` yields ``(records, state_after)`` per page.
WindowFetcher = Callable[[datetime, datetime, Any], Iterator[tuple[list[dict[str, Any]], Any]]]


def china_midnight(dt: datetime) -> datetime:
    """The China-time midnight at or before ``dt`` (aware)."""
    local = dt.astimezone(CHINA_TZ)
    return datetime.combine(local.date(), time(0), CHINA_TZ)


def next_china_midnight(dt: datetime) -> datetime:
    """The China-time midnight at or after ``dt``."""
    floor = china_midnight(dt)
    return floor if floor == dt else floor + timedelta(days=1)


@dataclass(frozen=True)
class Walk:
    """A walk over ``[start, end)`` in windows of ``step``; ``mode`` tells the fetcher what to ask."""

    start: datetime
    end: datetime
    step: timedelta
    mode: str = ""

    def windows(self, first: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The windows from the one starting at ``first`` to the end of the walk."""
        ws = first
        while ws < self.end:
            we = min(ws + self.step, self.end)
            yield ws, we
            ws = we

    def cursor(self, window_start: datetime, state: Any) -> dict[str, Any]:
        """The cursor that resumes this walk at ``window_start`` with the fetcher's ``state``."""
        return {"walk_start": self.start.isoformat(), "walk_end": self.end.isoformat(),
                "step": self.step.total_seconds(), "mode": self.mode,
                "window_start": window_start.isoformat(), "state": state}


@dataclass(frozen=True)
class Resume:
    """Where a run starts: a walk, the window to start at and the state inside it."""

    walk: Walk
    window_start: datetime
    state: Any = None


def plan_walk(
    ctx: FetchContext,
    *,
    now: datetime,
    step: timedelta,
    initial_days: int,
    mode: str = "",
    by_day: bool = False,
    end_cap: datetime | None = None,
    lookback: timedelta = timedelta(0),
    incremental: tuple[str, timedelta] | None = None,
) -> Resume:
    """Decide the walk of this run from the context.

    * an explicit window (``ctx.since``/``ctx.until``) is walked in ``mode``;
    * a cursor saved inside a walk resumes that walk where it stopped;
    * a watermark starts a walk from it (minus ``lookback``) to ``now``, in
      the ``incremental`` ``(mode, step)`` if given (Ark switches to
      update-time windows), else in ``mode``;
    * otherwise the walk covers the last ``initial_days``.

    With ``by_day`` the walk is widened to whole China-time days (date-based
    APIs). ``end_cap`` bounds the end (data not ready yet, e.g. T+1 reports).
    """
    cursor = ctx.cursor or {}
    if ctx.since is None and "walk_end" in cursor:
        walk = Walk(datetime.fromisoformat(cursor["walk_start"]), datetime.fromisoformat(cursor["walk_end"]),
                    timedelta(seconds=float(cursor["step"])), str(cursor.get("mode", "")))
        return Resume(walk, datetime.fromisoformat(cursor["window_start"]), cursor.get("state"))
    if ctx.since is not None:
        start, end = ctx.since, ctx.until or now
    elif "watermark" in cursor:
        start, end = datetime.fromisoformat(cursor["watermark"]) - lookback, now
        if incremental is not None:
            mode, step = incremental
    else:
        start, end = now - timedelta(days=initial_days), now
    # Whole seconds: the APIs take ``HH:mm:ss``, and a walk shorter than a
    # second would be sent with its end at its start (refused).
    start, end = whole_seconds(start), whole_seconds(end)
    if by_day:
        start, end = china_midnight(start), next_china_midnight(end)
    if end_cap is not None:
        end = min(end, end_cap)
    end = max(start, end)
    return Resume(Walk(start, end, step, mode), start)


def run_walk(resume: Resume, fetch_window: WindowFetcher, ctx: FetchContext, label: str) -> Iterator[pa.RecordBatch]:
    """Walk the windows, yielding one batch per page with the cursor that resumes after it.

    After the last window the cursor becomes the walk's end as a watermark.
    """
    walk = resume.walk
    task = ctx.progress.task(label, unit="windows")
    for ws, we in walk.windows(resume.window_start):
        state = resume.state if ws == resume.window_start else None
        for items, after in fetch_window(ws, we, state):
            yield with_cursor(records_batch(items), walk.cursor(ws, after))
        task.advance()
    task.finish()
    yield with_cursor(records_batch([]), {"watermark": walk.end.isoformat(), "mode": walk.mode})

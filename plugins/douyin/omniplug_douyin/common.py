"""What every Douyin stream shares: windows, resumable page walks, raw batches.

A stream's fetch is a list of *phases* (a 30-day chunk of a report, the
images then the videos of the material library, the orders of one Xingtu
demand), each walked page by page. Every yielded batch carries a cursor
naming the window, the phase and the position inside it, so a run killed
between two pages resumes at the next page; a finished window leaves a
``watermark`` where the next run starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.cursor import with_cursor
from omniplug.fields import CHINA_TZ, whole_seconds
from omniplug.http import CursorPage, Page, paginate_cursor, paginate_pages
from omniplug.rowmap import records_batch

__all__ = [
    "PLATFORM",
    "Phase",
    "Window",
    "china_dates",
    "china_time",
    "cursor_phase",
    "date_chunks",
    "date_span",
    "now_of",
    "numbered_phase",
    "resume_window",
    "time_chunks",
    "utc_now",
    "walk_phases",
]

PLATFORM = "douyin"
#: Ocean Engine keeps report data from this day on; the material library is walked from here.
OCEAN_EPOCH = datetime(2016, 10, 26, tzinfo=CHINA_TZ)
#: The longest span one Ocean Engine report or touch query may cover.
MAX_SPAN_DAYS = 30

#: A phase: given the saved position inside it (``{}`` = from its start),
#: yields each page's records with the position to resume from after it.
Phase = Callable[[dict[str, Any]], Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]]


def utc_now() -> datetime:
    """The real current time, UTC."""
    return datetime.now(UTC)


def now_of(ctx: FetchContext) -> datetime:
    """The context's clock (a simulator's in tests), else the real time."""
    return (ctx.now or utc_now)()


def china_time(dt: datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in China time, as Ocean Engine and Doudian write times."""
    return dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Window:
    """A half-open span of time ``[start, end)``, both UTC-aware."""

    start: datetime
    end: datetime

    def cursor(self) -> dict[str, str]:
        """The window as cursor fields."""
        return {"window_start": self.start.isoformat(), "window_end": self.end.isoformat()}

    @property
    def empty(self) -> bool:
        """True when the window holds no instant."""
        return self.end <= self.start


def resume_window(ctx: FetchContext, *, initial_days: int, from_epoch: bool = False) -> tuple[Window, dict[str, Any]]:
    """The window to fetch and the saved position inside it (``{}``: from its start).

    An explicit ``--since`` wins (unless ``from_epoch``: streams whose
    records are not dated by the reporting window, like the material
    library, always start at the saved watermark or at Ocean Engine's first
    day). Otherwise an interrupted window is finished first, else the window
    runs from the last watermark (or ``initial_days`` ago) to now.
    """
    # Whole seconds: the APIs take ``HH:mm:ss``, and a window shorter than a
    # second would be sent with its end at its start (refused).
    now = whole_seconds(now_of(ctx))
    cursor = ctx.cursor or {}
    if ctx.since is not None and not from_epoch:
        return Window(whole_seconds(ctx.since), whole_seconds(ctx.until) if ctx.until else now), {}
    if "window_start" in cursor:
        window = Window(datetime.fromisoformat(cursor["window_start"]), datetime.fromisoformat(cursor["window_end"]))
        return window, dict(cursor.get("position") or {})
    if "watermark" in cursor:
        start = whole_seconds(datetime.fromisoformat(cursor["watermark"]))
    else:
        start = OCEAN_EPOCH if from_epoch else now - timedelta(days=initial_days)
    return Window(start, max(start, now)), {}


def date_span(window: Window) -> tuple[date, date]:
    """The first and last China calendar day a non-empty window touches."""
    last = window.end - timedelta(microseconds=1)
    return window.start.astimezone(CHINA_TZ).date(), last.astimezone(CHINA_TZ).date()


def china_dates(window: Window) -> list[date]:
    """The China calendar days the window touches, in order."""
    if window.empty:
        return []
    first, last = date_span(window)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def date_chunks(window: Window, max_days: int = MAX_SPAN_DAYS) -> list[tuple[date, date]]:
    """The window's China days as inclusive ``(start_date, end_date)`` spans of at most ``max_days``."""
    days = china_dates(window)
    return [(days[i], days[min(i + max_days, len(days)) - 1]) for i in range(0, len(days), max_days)]


def time_chunks(window: Window, max_days: int = MAX_SPAN_DAYS) -> list[Window]:
    """The window cut into consecutive windows of at most ``max_days``."""
    chunks: list[Window] = []
    start = window.start
    while start < window.end:
        end = min(window.end, start + timedelta(days=max_days))
        chunks.append(Window(start, end))
        start = end
    return chunks


def numbered_phase(fetch_page: Callable[[int], Page[dict[str, Any]]]) -> Phase:
    """A phase walking 1-based page numbers with :func:`omniplug.http.paginate_pages`."""

    def run(resume: dict[str, Any]) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        pages = paginate_pages(fetch_page, first_page=int(resume.get("page", 1)),
                               collected=int(resume.get("collected", 0)), platform=PLATFORM)
        for page in pages:
            yield page.items, {"page": page.next_page_no, "collected": page.collected}

    return run


def cursor_phase(fetch: Callable[[Any], CursorPage[dict[str, Any]]], start: Any = 0) -> Phase:
    """A phase following ``cursor``/``has_more`` with :func:`omniplug.http.paginate_cursor`."""

    def run(resume: dict[str, Any]) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
        for page in paginate_cursor(fetch, start=resume.get("cursor", start), platform=PLATFORM):
            yield page.items, {"cursor": page.next_cursor}

    return run


def walk_phases(
    phases: Iterable[tuple[str, Phase]],
    position: dict[str, Any],
    *,
    base: dict[str, Any],
    final: dict[str, Any],
) -> Iterator[pa.RecordBatch]:
    """Run the phases in order from the saved ``position``; one batch per page.

    Each batch carries ``{**base, "position": {"phase": i, "key": key, ...}}``;
    after the last phase an empty batch carries ``final``. A saved position
    whose phase key no longer matches (the list of phases changed) restarts
    from the first phase: pages are re-fetched, and primary keys make the
    repeat harmless.
    """
    phases = list(phases)
    start = int(position.get("phase", 0))
    if start >= len(phases) or (phases and phases[start][0] != position.get("key", phases[start][0])):
        start, position = 0, {}
    for index, (key, phase) in enumerate(phases):
        if index < start:
            continue
        resume = {k: v for k, v in position.items() if k not in ("phase", "key")} if index == start else {}
        for items, where in phase(resume):
            yield with_cursor(records_batch(items), {**base, "position": {"phase": index, "key": key, **where}})
    yield with_cursor(records_batch([]), final)

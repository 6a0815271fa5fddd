"""Time windows walked page by page, with a cursor after every page.

Most TOP list APIs take a time range and page numbers, and limit how wide
the range may be (``taobao.trades.sold.increment.get``: one day). A stream
splits its range ``[start, end)`` into windows of at most ``step``, walks
each window's pages, and attaches to every batch the cursor that resumes
right after it:

``{"mode": ..., "range_end": ..., "window_start": ..., "next_page": ...}``
    inside the range; a killed run finishes the same range from that page;
``{"mode": ..., "watermark": ...}``
    the range is complete; the next run starts a new range there.

:func:`walk_forward` pages from 1 upwards (stable data: creation-time
windows in the past, reports). :func:`walk_backward` pages from the last
page to the first, as TOP advises for modification-time windows: a record
modified while we page leaves its place (and the window), which shifts the
pages not yet read towards the ones already read, so nothing is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from omniplug.cursor import with_cursor
from omniplug.http import Page, paginate_pages
from omniplug.progress import ProgressTask
from omniplug.rowmap import records_batch
from omniplug_tmall.client import PLATFORM

__all__ = ["Range", "walk_backward", "walk_forward"]

Record = dict[str, Any]


@dataclass(frozen=True)
class Range:
    """The range ``[start, end)`` a stream covers in one run, split into windows of at most ``step``.

    ``resume`` is the saved in-range cursor (``None`` to start at ``start``).
    """

    mode: str
    start: datetime
    end: datetime
    step: timedelta
    resume: dict[str, Any] | None = None

    def cursor(self, window_start: datetime, **extra: Any) -> dict[str, Any]:
        """The cursor resuming inside this range at ``window_start``."""
        return {"mode": self.mode, "range_end": self.end.isoformat(), "window_start": window_start.isoformat(),
                **extra}

    def done(self) -> dict[str, Any]:
        """The cursor of a completed range: the next run starts at its end."""
        return {"mode": self.mode, "watermark": self.end.isoformat()}

    def first_window(self) -> datetime:
        """Where this run's walk starts."""
        if self.resume and "window_start" in self.resume:
            return datetime.fromisoformat(self.resume["window_start"])
        return self.start

    def window_end(self, window_start: datetime) -> datetime:
        """The end of the window starting at ``window_start``."""
        return min(window_start + self.step, self.end)


def walk_forward(
    rng: Range,
    fetch_page: Callable[[datetime, datetime, int], Page[Record]],
    task: ProgressTask,
) -> Iterator[pa.RecordBatch]:
    """Walk every window of ``rng`` from page 1 up (``paginate_pages`` checks the announced totals)."""
    window = rng.first_window()
    first_page = int((rng.resume or {}).get("next_page", 1))
    collected = int((rng.resume or {}).get("collected", 0))
    while window < rng.end:
        end = rng.window_end(window)

        def at(page_no: int, start: datetime = window, stop: datetime = end) -> Page[Record]:
            return fetch_page(start, stop, page_no)

        pages = paginate_pages(at, first_page=first_page, collected=collected, platform=PLATFORM)
        for page in pages:
            task.advance()
            yield with_cursor(records_batch(page.items),
                              rng.cursor(window, next_page=page.next_page_no, collected=page.collected))
        # No batch marks a window boundary (each costs a durable commit): a run
        # killed here resumes after the window's last page, finds it empty and
        # moves on; empty windows are cheap to ask for again.
        window, first_page, collected = end, 1, 0
    yield with_cursor(records_batch([]), rng.done())


def walk_backward(
    rng: Range,
    count: Callable[[datetime, datetime], int],
    fetch_page: Callable[[datetime, datetime, int], list[Record]],
    page_size: int,
    task: ProgressTask,
) -> Iterator[pa.RecordBatch]:
    """Walk every window of ``rng`` from its last page down to page 1.

    ``count(start, end)`` returns the window's total; ``fetch_page(start,
    end, page_no)`` one page of ``page_size`` records. A record seen twice
    (it moved while we paged) is harmless: tables keep one row per key.
    """
    window = rng.first_window()
    resume = rng.resume if rng.resume and "pages" in rng.resume else None
    while window < rng.end:
        end = rng.window_end(window)
        if resume is not None:
            pages, page_no = int(resume["pages"]), int(resume["next_page"])
            resume = None
        else:
            pages = math.ceil(count(window, end) / page_size)
            page_no = pages
        while page_no >= 1:
            items = fetch_page(window, end, page_no)
            task.advance()
            page_no -= 1
            yield with_cursor(records_batch(items), rng.cursor(window, pages=pages, next_page=page_no))
        window = end
    yield with_cursor(records_batch([]), rng.done())

"""The fetch loops of the JD streams: one raw batch per page, each with the cursor to resume after it.

Three paging shapes cover JD's APIs:

* :func:`windowed` - a time range cut into windows (order search allows at
  most one month per call), each walked by page number; the cursor names the
  range, the window and the next page, and once the range is done it becomes
  a ``watermark`` the next run starts from;
* :func:`full_scan` - page numbers over a whole list (skus, creatives),
  restarted from page 1 after a completed scan;
* :func:`scroll_scan` - JD's ``scroll_id`` cursor (member scan).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.cursor import with_cursor
from omniplug.fields import whole_seconds
from omniplug.http import CursorPage, Page, paginate_cursor, paginate_pages
from omniplug.rowmap import records_batch
from omniplug_jd.client import PLATFORM, add_month, utc_now

__all__ = ["batch", "full_scan", "month_windows", "scroll_scan", "windowed"]

Window = tuple[datetime, datetime]
PageFetcher = Callable[[datetime, datetime, int], Page[dict[str, Any]]]


def batch(items: list[dict[str, Any]]) -> pa.RecordBatch:
    """Raw records as one batch, JD's field names kept (mixed-type fields become text)."""
    return records_batch(items)


def month_windows(start: datetime, end: datetime) -> list[Window]:
    """``[start, end)`` cut into windows of at most one calendar month (China time)."""
    windows: list[Window] = []
    while start < end:
        stop = min(end, add_month(start))
        windows.append((start, stop))
        start = stop
    return windows


def _now(ctx: FetchContext) -> datetime:
    return (ctx.now or utc_now)()


def windowed(
    ctx: FetchContext,
    fetch_page: PageFetcher,
    *,
    initial_days: int,
    lookback: timedelta = timedelta(0),
    split: Callable[[datetime, datetime], list[Window]] = month_windows,
    label: str = "",
) -> Iterator[pa.RecordBatch]:
    """Walk a time range window by window and page by page.

    The range is ``ctx.since``..``ctx.until`` when given; else the saved
    range when a run was interrupted inside it; else from the saved
    watermark (minus ``lookback``, for reports that still change) or
    ``initial_days`` ago, up to now.
    """
    cursor: dict[str, Any] = ctx.cursor or {}
    now = _now(ctx)
    first_page, collected = 1, 0
    if ctx.since is not None:
        start = window_start = ctx.since
        end = ctx.until or now
    elif "range_end" in cursor:
        start, end = datetime.fromisoformat(cursor["range_start"]), datetime.fromisoformat(cursor["range_end"])
        window_start = datetime.fromisoformat(cursor["window_start"])
        first_page, collected = cursor["next_page"], cursor["collected"]
    else:
        watermark = cursor.get("watermark")
        start = datetime.fromisoformat(watermark) - lookback if watermark else now - timedelta(days=initial_days)
        window_start, end = start, now
    # Whole seconds on both sides: a range shorter than a second (a rerun right
    # after the last one) would otherwise be sent with its last second before
    # its first, which JD refuses; such a range is empty and waits for the next run.
    start, window_start, end = whole_seconds(start), whole_seconds(window_start), whole_seconds(end)
    end = max(start, end)
    span = {"range_start": start.isoformat(), "range_end": end.isoformat()}
    task = ctx.progress.task(f"{PLATFORM}/{label} pages", unit="pages")
    windows = split(window_start, end)
    for index, (lo, hi) in enumerate(windows):
        pages = paginate_pages(lambda n, lo=lo, hi=hi: fetch_page(lo, hi, n), first_page=first_page,
                               collected=collected, platform=PLATFORM)
        for page in pages:
            task.advance()
            yield with_cursor(batch(page.items), {**span, "window_start": lo.isoformat(),
                                                  "next_page": page.next_page_no, "collected": page.collected})
        first_page, collected = 1, 0
        if index + 1 < len(windows):
            # Window done: a run killed now resumes at the next window's first page.
            yield with_cursor(batch([]), {**span, "window_start": windows[index + 1][0].isoformat(),
                                          "next_page": 1, "collected": 0})
    task.finish()
    yield with_cursor(batch([]), {"watermark": end.isoformat()})


def full_scan(ctx: FetchContext, fetch_page: Callable[[int], Page[dict[str, Any]]], *, label: str = "") -> Iterator[
        pa.RecordBatch]:
    """Walk every page of a list; a completed scan starts again from page 1 on the next run."""
    cursor: dict[str, Any] = ctx.cursor or {}
    first_page, collected = cursor.get("next_page", 1), cursor.get("collected", 0)
    task = ctx.progress.task(f"{PLATFORM}/{label} pages", unit="pages")
    for page in paginate_pages(fetch_page, first_page=first_page, collected=collected, platform=PLATFORM):
        task.advance()
        yield with_cursor(batch(page.items), {"next_page": page.next_page_no, "collected": page.collected})
    task.finish()
    yield with_cursor(batch([]), {"scan_completed_at": _now(ctx).isoformat()})


def scroll_scan(ctx: FetchContext, fetch: Callable[[str | None], CursorPage[dict[str, Any]]], *,
                label: str = "") -> Iterator[pa.RecordBatch]:
    """Follow ``scroll_id`` to the end of a scan; a completed scan starts afresh on the next run.

    JD scroll ids may expire; a run resumed long after it was interrupted
    can be refused, and a fresh run (``--since`` or a reset cursor) rescans.
    """
    start = (ctx.cursor or {}).get("scroll_id")
    task = ctx.progress.task(f"{PLATFORM}/{label} pages", unit="pages")
    for page in paginate_cursor(fetch, start=start, platform=PLATFORM):
        task.advance()
        resume = {"scroll_id": page.next_cursor} if page.has_more else {"scan_completed_at": _now(ctx).isoformat()}
        yield with_cursor(batch(page.items), resume)
    task.finish()

"""What every Tmall stream's fetch shares: the run's clock, TOP calls, and the range to cover."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.cursor import with_cursor
from omniplug.fields import CHINA_TZ, whole_seconds
from omniplug.http import Page, paginate_pages
from omniplug.progress import ProgressTask
from omniplug.rowmap import records_batch
from omniplug_tmall import client
from omniplug_tmall.paging import Range

if TYPE_CHECKING:
    from omniplug_tmall.config import TmallConfig

__all__ = ["Env", "china_midnight", "walk_snapshot"]

Record = dict[str, Any]
#: TOP keeps trades (and most shop data) for three months.
HORIZON = timedelta(days=90)


def china_midnight(moment: datetime, *, ceil: bool = False) -> datetime:
    """Midnight China time starting the day of ``moment`` (or the next one, with ``ceil``, unless on midnight)."""
    local = moment.astimezone(CHINA_TZ)
    floor = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return floor + timedelta(days=1) if ceil and floor != local else floor


@dataclass
class Env:
    """One stream run: the context, the config and the time the run started."""

    ctx: FetchContext
    now: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.now = (self.ctx.now or client.utc_now)()

    @property
    def cfg(self) -> TmallConfig:
        """The validated ``[platforms.tmall]`` section."""
        return self.ctx.config  # type: ignore[return-value]

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a TOP method through the platform client (signed, retried, refreshed)."""
        return client.call(self.ctx.http, self.cfg.base_url, method, params)

    def task(self, stream: str) -> ProgressTask:
        """A progress task counting this stream's pages."""
        return self.ctx.progress.task(f"tmall/{stream} pages", unit="pages")

    def warn(self, message: str, *args: Any) -> None:
        """Log a warning on the platform's logger."""
        if self.ctx.logger is not None:
            self.ctx.logger.warning(message, *args)

    def plan(self, mode: str, step: timedelta, *, initial: timedelta, end: datetime | None = None,
             align: Callable[[datetime], datetime] | None = None,
             align_end: Callable[[datetime], datetime] | None = None, lookback: timedelta = timedelta(0)) -> Range:
        """The range this run covers, in ``mode``.

        An explicit ``--since``/``--until`` window wins; else a saved in-range
        cursor of the same mode resumes its range; else the range runs from
        the saved watermark (minus ``lookback``), or ``initial`` before now on
        a first run, to ``end`` (default: now). ``align`` and ``align_end``
        round the start and the end (whole report days).
        """
        cursor = self.ctx.cursor or {}
        # Whole seconds unless aligned: TOP takes ``HH:mm:ss``, and a range
        # shorter than a second would be sent with its end at its start.
        shape = align or whole_seconds
        shape_end = align_end or shape
        if self.ctx.since is not None:
            return Range(mode, shape(self.ctx.since), shape_end(self.ctx.until or self.now), step)
        if cursor.get("mode") == mode and "range_end" in cursor:
            return Range(mode, datetime.fromisoformat(cursor["window_start"]),
                         datetime.fromisoformat(cursor["range_end"]), step, resume=cursor)
        if "watermark" in cursor:
            start = shape(datetime.fromisoformat(cursor["watermark"]) - lookback)
        else:
            start = shape(self.now - initial)
        stop = shape_end(end or self.now)
        # Never move a watermark backwards (a lagging end before the last run's end).
        return Range(mode, start, max(start, stop), step)


def walk_snapshot(
    env: Env, stream: str, fetch_page: Callable[[int], Page[Record]],
    enrich: Callable[[list[Record]], list[Record]] | None = None,
) -> Iterator[pa.RecordBatch]:
    """A full listing (items, materials): every page from 1, resumable by page; no time range."""
    cursor = env.ctx.cursor or {}
    first_page, collected = (cursor["next_page"], cursor["collected"]) if "next_page" in cursor else (1, 0)
    task = env.task(stream)
    for page in paginate_pages(fetch_page, first_page=first_page, collected=collected, platform=client.PLATFORM):
        task.advance()
        items = enrich(page.items) if enrich else page.items
        yield with_cursor(records_batch(items), {"next_page": page.next_page_no, "collected": page.collected})
    # Listing complete: the next run lists everything again (changed prices replace old rows).
    yield with_cursor(records_batch([]), {"listed_at": env.now.isoformat()})

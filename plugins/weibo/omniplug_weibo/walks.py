"""Resumable since_id/max_id walks over several Weibo timelines, one batch per page.

Weibo lists newest first: a walk asks for the newest page, then for
``max_id = smallest id seen - 1`` (``max_id`` is inclusive) until it reaches
the ``since_id`` of the previous run. The cursor of a stream that walks
several timelines (the brand's posts; the comments and reposts of each post)
is::

    {"since": {"<timeline key>": "<newest id seen>", ...},
     "walk": {"key": ..., "since_id": ..., "next_max_id": ..., "newest_id": ...} | None}

``since`` moves for a timeline only once its walk has finished (the walk
goes backwards in time, so older records are still to come until then);
``walk`` is where an interrupted walk resumes. Ids travel as strings: they
are int64 and some exceed 2**53.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa

from omniplug.cursor import with_cursor
from omniplug.errors import InvalidInputError
from omniplug.fields import china_time_to_utc
from omniplug.http import paginate_id_window
from omniplug.rowmap import records_batch

__all__ = ["Timeline", "in_window", "walk_timelines"]

Record = dict[str, Any]


@dataclass(frozen=True)
class Timeline:
    """One newest-first list to walk.

    Attributes:
        key: its name in the cursor (``"timeline"``, ``"comments:<status id>"``...).
        fetch: ``fetch(since_id, max_id)`` -> one page of records, newest first.
        time_field: the record field holding its time (for explicit windows).
    """

    key: str
    fetch: Callable[[int, int | None], list[Record]]
    time_field: str = "created_at"


def in_window(record: Mapping[str, Any], field: str, since: datetime | None, until: datetime | None) -> bool:
    """Whether ``record``'s time lies in ``[since, until)``; an unreadable time is kept (normalise rejects it)."""
    if since is None and until is None:
        return True
    try:
        when = china_time_to_utc(record[field])
    except (InvalidInputError, KeyError, TypeError):
        return True
    return (since is None or when >= since) and (until is None or when < until)


def _record_id(record: Mapping[str, Any]) -> int:
    return int(record["id"])


def walk_timelines(
    timelines: Sequence[Timeline],
    cursor: Mapping[str, Any] | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    platform: str = "weibo",
) -> Iterator[pa.RecordBatch]:
    """Walk each timeline from its saved ``since_id``, yielding one batch per page with its cursor.

    An interrupted walk (``cursor["walk"]``) is finished first, from its
    ``next_max_id``. A finished walk moves its timeline's ``since`` in the
    cursor of the next batch; a last empty batch carries the final cursor.
    With an explicit window (``since``/``until``) every timeline is walked
    from the start and only records inside the window are kept.
    """
    state = dict(cursor or {})
    seen: dict[str, str] = {} if since is not None else dict(state.get("since") or {})
    pending = state.get("walk") if since is None else None
    ordered = sorted(timelines, key=lambda t: pending is None or t.key != pending.get("key"))
    unsaved = False  # a walk finished after the last batch yielded
    for timeline in ordered:
        resume = pending if pending is not None and pending.get("key") == timeline.key else None
        since_id = int(resume["since_id"]) if resume else int(seen.get(timeline.key, 0))
        newest = int(resume["newest_id"]) if resume else None
        pages = paginate_id_window(
            timeline.fetch, _record_id, since_id=since_id,
            max_id=int(resume["next_max_id"]) if resume else None, newest_id=newest, platform=platform,
        )
        windowed = since is not None or until is not None
        newest_kept: int | None = None
        for page in pages:
            newest = page.newest_id
            kept = [r for r in page.items if in_window(r, timeline.time_field, since, until)]
            if kept:
                newest_kept = max(newest_kept or 0, *(_record_id(r) for r in kept))
            walk = {"key": timeline.key, "since_id": str(since_id), "next_max_id": str(page.next_max_id),
                    "newest_id": str(newest)}
            yield with_cursor(records_batch(kept), {"since": seen, "walk": walk})
            unsaved = False
        # After a window, the next run starts after the newest record *inside* it: Weibo's ids grow
        # with time, so records after the window keep larger ids and are fetched then.
        last = newest_kept if windowed else newest
        if last is not None and last > since_id:
            seen[timeline.key] = str(last)
            unsaved = True
    if unsaved or pending is not None:
        yield with_cursor(records_batch([]), {"since": seen, "walk": None})

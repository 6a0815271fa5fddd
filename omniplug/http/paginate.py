"""Pagination that ends, or fails loudly.

Three generators cover the paging styles of the supported platforms. Each
yields one page at a time (so a stream can emit one batch per page together
with the cursor that resumes after it) and raises
:class:`~omniplug.errors.PaginationError` instead of looping forever or
silently returning less than the platform announced:

* :func:`paginate_pages` - page numbers (``page_no``/``page_size``: Tmall, JD, Ocean Engine);
* :func:`paginate_cursor` - opaque cursors with ``has_more`` (Douyin, Xiaohongshu);
* :func:`paginate_id_window` - newest-first id windows with ``since_id``/``max_id`` (Weibo).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from omniplug.errors import PaginationError

__all__ = [
    "CursorPage",
    "FetchedCursorPage",
    "FetchedIdPage",
    "FetchedPage",
    "Page",
    "paginate_cursor",
    "paginate_id_window",
    "paginate_pages",
]

T = TypeVar("T")

DEFAULT_MAX_PAGES = 100_000


@dataclass(frozen=True)
class Page(Generic[T]):
    """What a page-number fetch returns.

    Attributes:
        items: the records of the page.
        has_next: the platform's "more pages" flag, if it sends one.
        total: the total number of records the platform announced, if any.
    """

    items: list[T]
    has_next: bool | None = None
    total: int | None = None


@dataclass(frozen=True)
class FetchedPage(Generic[T]):
    """A page yielded by :func:`paginate_pages`; resume from ``page_no + 1``.

    ``collected`` counts the records of this page and every page before it.
    """

    items: list[T]
    page_no: int
    total: int | None
    collected: int = 0

    @property
    def next_page_no(self) -> int:
        """The page number to resume from once this page is stored."""
        return self.page_no + 1


@dataclass(frozen=True)
class CursorPage(Generic[T]):
    """What a cursor fetch returns.

    Attributes:
        items: the records of the page.
        next_cursor: the cursor of the following page (any hashable value:
            a number, a string).
        has_more: the platform's "more" flag; when ``None``, more pages exist
            while ``next_cursor`` is set and the page was not empty.
    """

    items: list[T]
    next_cursor: Any = None
    has_more: bool | None = None


@dataclass(frozen=True)
class FetchedCursorPage(Generic[T]):
    """A page yielded by :func:`paginate_cursor`; resume from ``next_cursor``."""

    items: list[T]
    cursor: Any
    next_cursor: Any
    has_more: bool


@dataclass(frozen=True)
class FetchedIdPage(Generic[T]):
    """A page yielded by :func:`paginate_id_window`.

    Attributes:
        items: the records of the page with ids in ``(since_id, max_id]``.
        since_id: the lower bound of the walk (exclusive).
        max_id: the ``max_id`` this page was fetched with (``None``: newest).
        next_max_id: the ``max_id`` of the next page; resume a walk here.
        newest_id: the largest id seen in the walk so far. Store it as the next
            run's ``since_id`` only when the walk has finished: the walk goes
            backwards in time, so older records are still to come.
    """

    items: list[T]
    since_id: int
    max_id: int | None
    next_max_id: int
    newest_id: int


def _fail(platform: str | None, message: str) -> PaginationError:
    prefix = f"{platform}: " if platform else ""
    return PaginationError(f"{prefix}{message}", platform=platform)


def paginate_pages(
    fetch_page: Callable[[int], Page[T]],
    *,
    first_page: int = 1,
    collected: int = 0,
    max_pages: int = DEFAULT_MAX_PAGES,
    platform: str | None = None,
) -> Generator[FetchedPage[T], None, None]:
    """Walk numbered pages from ``first_page`` until the platform says they end.

    Stops after a page with ``has_next=False``, on an empty page, or once the
    announced ``total`` has been collected. Raises
    :class:`~omniplug.errors.PaginationError` when the same non-empty page
    comes back twice in a row (the server ignores the page number), when
    more than ``max_pages`` pages would be fetched, or when paging stops
    having collected fewer records than the announced total.

    When resuming at ``first_page`` > 1, pass in ``collected`` the number of
    records the earlier pages held (``FetchedPage.collected`` of the last
    stored page), so the check against the announced total stays right.
    """
    total: int | None = None
    previous: list[T] | None = None
    page_no = first_page
    for _ in range(max_pages):
        page = fetch_page(page_no)
        if page.total is not None:
            total = page.total
        if not page.items:
            _check_total(collected, total, page_no, platform)
            return
        if page.items == previous:
            raise _fail(
                platform,
                f"page {page_no} repeats page {page_no - 1}: the server ignores the page "
                "number, paging would never end",
            )
        previous = page.items
        collected += len(page.items)
        yield FetchedPage(page.items, page_no, total, collected)
        if page.has_next is False:
            _check_total(collected, total, page_no, platform)
            return
        if total is not None and collected >= total:
            return
        page_no += 1
    raise _fail(platform, f"more than {max_pages} pages (max_pages); paging does not end")


def _check_total(collected: int, total: int | None, page_no: int, platform: str | None) -> None:
    if total is not None and collected < total:
        raise _fail(
            platform,
            f"paging stopped early at page {page_no}: got {collected} of {total} announced records",
        )


def paginate_cursor(
    fetch: Callable[[Any], CursorPage[T]],
    *,
    start: Any = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    platform: str | None = None,
) -> Generator[FetchedCursorPage[T], None, None]:
    """Follow cursors from ``start`` until ``has_more`` is false.

    Raises :class:`~omniplug.errors.PaginationError` when the platform says
    there is more but hands back no cursor or a cursor already used (it
    would loop forever), or when more than ``max_pages`` pages would be fetched.
    """
    cursor = start
    seen: set[Any] = set()
    for _ in range(max_pages):
        page = fetch(cursor)
        has_more = page.has_more
        if has_more is None:
            has_more = page.next_cursor is not None and bool(page.items)
        if has_more:
            nxt = page.next_cursor
            if nxt is None or nxt == cursor or nxt in seen:
                raise _fail(
                    platform,
                    f"the cursor does not advance (got {nxt!r} after {cursor!r}) while has_more "
                    "is set: paging would never end",
                )
        seen.add(cursor)
        yield FetchedCursorPage(page.items, cursor, page.next_cursor, has_more)
        if not has_more:
            return
        cursor = page.next_cursor
    raise _fail(platform, f"more than {max_pages} pages (max_pages); paging does not end")


def paginate_id_window(
    fetch: Callable[[int, int | None], list[T]],
    id_of: Callable[[T], int],
    *,
    since_id: int = 0,
    max_id: int | None = None,
    newest_id: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    platform: str | None = None,
) -> Generator[FetchedIdPage[T], None, None]:
    """Walk a newest-first timeline back to ``since_id`` (Weibo style).

    ``fetch(since_id, max_id)`` returns one page, newest first, of records
    with ``since_id < id <= max_id`` (``max_id`` is inclusive at Weibo;
    ``None`` asks for the newest). The next page asks for
    ``max_id = smallest id seen - 1``. Records outside the window (newer
    posts that arrived meanwhile, older ones a server failed to filter) are
    dropped. Stops on an empty page or on reaching ``since_id``. To resume an
    interrupted walk pass the last page's ``since_id``, ``next_max_id`` and
    ``newest_id``.

    Raises :class:`~omniplug.errors.PaginationError` when a page brings no
    record below the previous ``max_id`` (no progress) or when more than
    ``max_pages`` pages would be fetched.
    """
    newest = newest_id
    for _ in range(max_pages):
        raw = fetch(since_id, max_id)
        if not raw:
            return
        ids = [id_of(item) for item in raw]
        reached = any(i <= since_id for i in ids)
        window = [
            (i, item)
            for i, item in zip(ids, raw, strict=True)
            if i > since_id and (max_id is None or i <= max_id)
        ]
        if not window:
            if reached:
                return
            raise _fail(
                platform,
                f"no record older than max_id={max_id} came back: the server ignores max_id, "
                "paging would never end",
            )
        oldest = min(i for i, _ in window)
        top = max(i for i, _ in window)
        newest = top if newest is None else max(newest, top)
        next_max = oldest - 1
        yield FetchedIdPage([item for _, item in window], since_id, max_id, next_max, newest)
        if reached or next_max <= since_id:
            return
        max_id = next_max
    raise _fail(platform, f"more than {max_pages} pages (max_pages); paging does not end")

"""Paginators: they end, resume, and raise PaginationError instead of looping or losing records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniplug.errors import PaginationError
from omniplug.http import (
    CursorPage,
    Page,
    PlatformClient,
    RetryPolicy,
    paginate_cursor,
    paginate_id_window,
    paginate_pages,
)
from omniplug.testing.simulator import SimRequest, SimResponse, SimulatorBase, route

ORDERS = [{"tid": 1000 + i} for i in range(25)]


class OrdersSim(SimulatorBase):
    """``/trades?page_no=&page_size=`` over 25 orders; can ignore page_no or overstate the total."""

    def __init__(self, *, ignore_page_no: bool = False, announced_total: int | None = None) -> None:
        super().__init__()
        self.ignore_page_no = ignore_page_no
        self.announced_total = announced_total

    @route("GET", "/trades")
    def trades(self, req: SimRequest) -> SimResponse:
        page_no = 1 if self.ignore_page_no else int(req.query["page_no"])
        size = int(req.query["page_size"])
        rows = ORDERS[(page_no - 1) * size : page_no * size]
        total = self.announced_total if self.announced_total is not None else len(ORDERS)
        return SimResponse.json({"total_results": total, "trades": rows})


class VideosSim(SimulatorBase):
    """Douyin-style cursor paging; ``stuck`` hands back the same cursor forever."""

    def __init__(self, *, stuck: bool = False) -> None:
        super().__init__()
        self.stuck = stuck

    @route("GET", "/video/list/")
    def videos(self, req: SimRequest) -> SimResponse:
        cursor = int(req.query.get("cursor", "0"))
        rows = [{"item_id": f"v{i}"} for i in range(cursor, min(cursor + 4, 10))]
        next_cursor = cursor if self.stuck else cursor + len(rows)
        return SimResponse.json(
            {
                "data": {
                    "list": rows,
                    "cursor": next_cursor,
                    "has_more": next_cursor < 10 or self.stuck,
                }
            }
        )


class TimelineSim(SimulatorBase):
    """Weibo ``statuses/user_timeline``: newest first, since_id exclusive, max_id inclusive."""

    def __init__(self, ids: list[int], *, count: int = 3, ignore_max_id: bool = False) -> None:
        super().__init__()
        self.ids = sorted(ids, reverse=True)
        self.count = count
        self.ignore_max_id = ignore_max_id

    @route("GET", "/2/statuses/user_timeline.json")
    def timeline(self, req: SimRequest) -> SimResponse:
        since_id = int(req.query.get("since_id", "0"))
        max_id = int(req.query.get("max_id", "0"))
        rows = [
            i
            for i in self.ids
            if i > since_id and (max_id == 0 or self.ignore_max_id or i <= max_id)
        ]
        return SimResponse.json(
            {"statuses": [{"id": i, "idstr": str(i)} for i in rows[: self.count]]}
        )


@pytest.fixture
def client() -> Iterator[PlatformClient]:
    # The paginators are transport-agnostic; the client only supplies real HTTP.
    with PlatformClient("test", "http://unused.invalid", retry=RetryPolicy(max_attempts=1)) as http:
        yield http


def _pages_over_http(sim: SimulatorBase, client: PlatformClient) -> Any:
    def fetch(page_no: int) -> Page[dict[str, int]]:
        body = client.request_json(
            "GET", f"{sim.base_url}/trades", params={"page_no": page_no, "page_size": 10}
        )
        return Page(body["trades"], total=body["total_results"])

    return paginate_pages(fetch, platform="tmall")


# -- page numbers ----------------------------------------------------------------------


def test_pages_over_http_collect_everything_once(client: PlatformClient) -> None:
    with OrdersSim() as sim:
        pages = list(_pages_over_http(sim, client))
        assert [p.page_no for p in pages] == [1, 2, 3]
        assert [p.next_page_no for p in pages] == [2, 3, 4]
        assert [row for p in pages for row in p.items] == ORDERS
        # The total was reached on page 3: no request for an empty page 4.
        assert len(sim.requests) == 3


def test_server_ignoring_page_no_raises(client: PlatformClient) -> None:
    with (
        OrdersSim(ignore_page_no=True) as sim,
        pytest.raises(PaginationError, match="tmall: page 2 repeats page 1"),
    ):
        list(_pages_over_http(sim, client))


def test_stopping_before_the_announced_total_raises(client: PlatformClient) -> None:
    with (
        OrdersSim(announced_total=30) as sim,
        pytest.raises(PaginationError, match=r"stopped early .* got 25 of 30"),
    ):
        list(_pages_over_http(sim, client))


def test_has_next_false_ends_paging() -> None:
    pages = {1: Page([1, 2], has_next=True), 2: Page([3], has_next=False)}
    assert [p.items for p in paginate_pages(pages.__getitem__)] == [[1, 2], [3]]


def test_has_next_false_below_the_total_raises() -> None:
    pages = {1: Page([1, 2], has_next=True, total=5), 2: Page([3], has_next=False, total=5)}
    with pytest.raises(PaginationError, match="got 3 of 5"):
        list(paginate_pages(pages.__getitem__))


def test_empty_page_ends_paging_and_first_page_is_honoured() -> None:
    calls: list[int] = []

    def fetch(n: int) -> Page[int]:
        calls.append(n)
        return Page([n] if n < 3 else [])

    assert [p.items for p in paginate_pages(fetch, first_page=0)] == [[0], [1], [2]]
    assert calls == [0, 1, 2, 3]


def test_max_pages_is_enforced() -> None:
    with pytest.raises(PaginationError, match="more than 5 pages"):
        list(paginate_pages(lambda n: Page([n]), max_pages=5))


@given(n_items=st.integers(0, 60), page_size=st.integers(1, 12), use_total=st.booleans())
def test_pages_yield_every_item_exactly_once(n_items: int, page_size: int, use_total: bool) -> None:
    items = list(range(n_items))

    def fetch(n: int) -> Page[int]:
        chunk = items[(n - 1) * page_size : n * page_size]
        return Page(
            chunk,
            has_next=None if use_total else n * page_size < n_items,
            total=n_items if use_total else None,
        )

    assert [x for p in paginate_pages(fetch) for x in p.items] == items


# -- cursors -------------------------------------------------------------------------


def _cursor_pages(sim: SimulatorBase, client: PlatformClient) -> Any:
    def fetch(cursor: Any) -> CursorPage[dict[str, str]]:
        data = client.request_json(
            "GET", f"{sim.base_url}/video/list/", params={"cursor": cursor, "count": 4}
        )["data"]
        return CursorPage(data["list"], next_cursor=data["cursor"], has_more=data["has_more"])

    return paginate_cursor(fetch, start=0, platform="douyin")


def test_cursor_pages_over_http(client: PlatformClient) -> None:
    with VideosSim() as sim:
        pages = list(_cursor_pages(sim, client))
    assert [(p.cursor, p.next_cursor, p.has_more) for p in pages] == [
        (0, 4, True),
        (4, 8, True),
        (8, 10, False),
    ]
    assert [v["item_id"] for p in pages for v in p.items] == [f"v{i}" for i in range(10)]


def test_cursor_not_advancing_raises(client: PlatformClient) -> None:
    with (
        VideosSim(stuck=True) as sim,
        pytest.raises(PaginationError, match="douyin: the cursor does not advance"),
    ):
        list(_cursor_pages(sim, client))
    assert len(sim.requests) == 1


def test_cursor_cycle_and_missing_cursor_raise() -> None:
    cycle = {
        None: CursorPage([1], "a", True),
        "a": CursorPage([2], "b", True),
        "b": CursorPage([3], "a", True),
    }
    with pytest.raises(PaginationError, match="does not advance"):
        list(paginate_cursor(cycle.__getitem__))
    with pytest.raises(PaginationError, match="does not advance"):
        list(paginate_cursor(lambda c: CursorPage([1], None, has_more=True)))


def test_cursor_has_more_is_inferred_when_absent() -> None:
    pages = {None: CursorPage([1], "x"), "x": CursorPage([2], None)}
    assert [p.items for p in paginate_cursor(pages.__getitem__)] == [[1], [2]]


def test_cursor_max_pages() -> None:
    with pytest.raises(PaginationError, match="more than 3 pages"):
        list(paginate_cursor(lambda c: CursorPage([c], (c or 0) + 1, True), max_pages=3))


# -- id windows (Weibo) ------------------------------------------------------------------


def _timeline(sim: TimelineSim, client: PlatformClient) -> Any:
    def fetch(since_id: int, max_id: int | None) -> list[dict[str, int]]:
        params = {"since_id": since_id, "count": sim.count} | (
            {"max_id": max_id} if max_id is not None else {}
        )
        statuses: list[dict[str, int]] = client.request_json(
            "GET", f"{sim.base_url}/2/statuses/user_timeline.json", params=params
        )["statuses"]
        return statuses

    return fetch


def test_id_window_walks_back_to_since_id(client: PlatformClient) -> None:
    ids = [9007199254740993 + i * 7 for i in range(8)]  # beyond 2**53, as Weibo ids are
    with TimelineSim(ids, count=3) as sim:
        pages = list(
            paginate_id_window(
                _timeline(sim, client), lambda s: s["id"], since_id=ids[1], platform="weibo"
            )
        )
        assert [s["id"] for p in pages for s in p.items] == sorted(ids[2:], reverse=True)
        assert [p.max_id for p in pages] == [None, ids[5] - 1]
        assert [p.next_max_id for p in pages] == [ids[5] - 1, ids[2] - 1]
        assert all(p.newest_id == ids[-1] for p in pages)
        # max_id is inclusive: each next request starts just below the oldest id seen.
        assert sim.requests[1].query["max_id"] == str(ids[5] - 1)


def test_id_window_resumes_mid_walk(client: PlatformClient) -> None:
    ids = list(range(100, 110))
    with TimelineSim(ids, count=4) as sim:
        fetch = _timeline(sim, client)
        walk = paginate_id_window(fetch, lambda s: s["id"], since_id=101)
        first = next(walk)
        walk.close()  # the job crashed after storing page 1
        rest = list(
            paginate_id_window(
                fetch,
                lambda s: s["id"],
                since_id=first.since_id,
                max_id=first.next_max_id,
                newest_id=first.newest_id,
            )
        )
    got = [s["id"] for p in [first, *rest] for s in p.items]
    assert got == list(range(109, 101, -1))
    assert rest[-1].newest_id == 109


def test_id_window_server_ignoring_max_id_raises(client: PlatformClient) -> None:
    with (
        TimelineSim(list(range(1, 10)), count=3, ignore_max_id=True) as sim,
        pytest.raises(PaginationError, match="weibo: no record older than max_id=6"),
    ):
        list(paginate_id_window(_timeline(sim, client), lambda s: s["id"], platform="weibo"))


def test_id_window_drops_records_outside_the_window() -> None:
    pages = {None: [9, 8, 7], 6: [12, 6, 5, 1]}  # 12 arrived meanwhile; 1 is at/below since_id
    got = list(paginate_id_window(lambda s, m: pages[m], lambda i: i, since_id=1))
    assert [p.items for p in got] == [[9, 8, 7], [6, 5]]
    assert got[-1].newest_id == 9


@given(
    ids=st.sets(st.integers(1, 10**12), max_size=40),
    count=st.integers(1, 7),
    since=st.integers(0, 10**12),
)
def test_id_window_returns_exactly_the_ids_above_since(
    ids: set[int], count: int, since: int
) -> None:
    ordered = sorted(ids, reverse=True)

    def fetch(since_id: int, max_id: int | None) -> list[int]:
        return [i for i in ordered if i > since_id and (max_id is None or i <= max_id)][:count]

    got = [i for p in paginate_id_window(fetch, lambda i: i, since_id=since) for i in p.items]
    assert got == [i for i in ordered if i > since]

"""The since_id/max_id walk over several timelines: cursors, resumption, windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omniplug_weibo.sim_world import weibo_time
from omniplug_weibo.walks import Timeline, walk_timelines

from omniplug.cursor import cursor_of

START = datetime(2026, 10, 1, tzinfo=UTC)


def _timeline(key: str, ids: list[int], calls: list[tuple[int, int | None]], per_page: int = 2) -> Timeline:
    """A fake newest-first timeline; record ``i`` was created ``i`` hours after START."""
    records = [{"id": i, "created_at": weibo_time(START + timedelta(hours=i))} for i in sorted(ids, reverse=True)]

    def fetch(since_id: int, max_id: int | None) -> list[dict]:
        calls.append((since_id, max_id))
        chosen = [r for r in records if r["id"] > since_id and (max_id is None or r["id"] <= max_id)]
        return chosen[:per_page]

    return Timeline(key, fetch)


def _ids(batches: list) -> list[int]:
    return [i for b in batches if b.num_rows for i in b.column("id").to_pylist()]


def test_each_finished_walk_moves_its_since_in_the_next_cursor() -> None:
    calls: list[tuple[int, int | None]] = []
    batches = list(walk_timelines([_timeline("a", [1, 2, 3], calls), _timeline("b", [10, 11], calls)], None))
    assert _ids(batches) == [3, 2, 1, 11, 10]
    cursors = [cursor_of(b) for b in batches]
    assert cursors[2] == {"since": {"a": "3"}, "walk": {"key": "b", "since_id": "0", "next_max_id": "9",
                                                       "newest_id": "11"}}
    assert cursors[-1] == {"since": {"a": "3", "b": "11"}, "walk": None}
    # A second run from that cursor asks once per timeline and yields nothing.
    calls.clear()
    again = [_timeline("a", [1, 2, 3], calls), _timeline("b", [10, 11], calls)]
    assert list(walk_timelines(again, cursors[-1])) == []
    assert calls == [(3, None), (11, None)]


def test_an_interrupted_walk_resumes_at_its_next_max_id_first() -> None:
    calls: list[tuple[int, int | None]] = []
    cursor = {"since": {"a": "3"}, "walk": {"key": "b", "since_id": "0", "next_max_id": "10", "newest_id": "12"}}
    batches = list(walk_timelines([_timeline("a", [1, 2, 3, 4], calls), _timeline("b", [9, 10, 11, 12], calls)],
                                  cursor))
    assert calls[0] == (0, 10), "the interrupted walk goes first, from its max_id (inclusive)"
    assert _ids(batches) == [10, 9, 4]
    assert cursor_of(batches[-1]) == {"since": {"a": "4", "b": "12"}, "walk": None}


def test_a_window_keeps_its_records_and_starts_the_next_run_after_them() -> None:
    calls: list[tuple[int, int | None]] = []
    timeline = _timeline("a", [1, 2, 3, 4, 5, 6], calls)
    batches = list(walk_timelines([timeline], {"since": {"a": "6"}}, since=START + timedelta(hours=2),
                                  until=START + timedelta(hours=5)))
    assert calls[0] == (0, None), "an explicit window walks from the start"
    assert sorted(_ids(batches)) == [2, 3, 4]
    assert cursor_of(batches[-1]) == {"since": {"a": "4"}, "walk": None}

"""Compaction rules of the stream runner: newest version per primary key, deterministic order."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from omniplug.schema import TABLES
from omniplug.sync import _dedupe_last


def _links(rows: list[tuple[str, str, int]]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"platform": "jd", "left_type": "jd_pin", "left_value": left, "right_type": "phone_sha256",
          "right_value": right, "observed_at": datetime.fromtimestamp(ts, UTC)} for left, right, ts in rows],
        schema=TABLES["identity_links"],
    )


def test_last_committed_row_wins_without_version() -> None:
    orders = pa.table({"platform": ["jd", "jd", "jd"], "order_id": ["2", "1", "2"], "status": ["paid", "paid", "refunded"]})
    out = _dedupe_last(orders, ("platform", "order_id"))
    assert out.to_pylist() == [
        {"platform": "jd", "order_id": "1", "status": "paid"},
        {"platform": "jd", "order_id": "2", "status": "refunded"},
    ]


def test_newest_sighting_wins_with_a_version_column() -> None:
    # Committed newest first (a platform paging newest-first): the max observed_at must still win.
    table = _links([("a", "h", 300), ("a", "h", 100), ("b", "h", 50), ("a", "h", 200)])
    out = _dedupe_last(table, ("platform", "left_type", "left_value", "right_type", "right_value"), "observed_at")
    assert [(r["left_value"], r["observed_at"].timestamp()) for r in out.to_pylist()] == [("a", 300.0), ("b", 50.0)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abc"), st.sampled_from("xy"), st.integers(0, 5)), min_size=1, max_size=30))
def test_dedupe_matches_a_plain_python_model(rows: list[tuple[str, str, int]]) -> None:
    expected: dict[tuple[str, str], tuple[int, int]] = {}
    for i, (left, right, ts) in enumerate(rows):
        if (left, right) not in expected or (ts, i) >= expected[(left, right)]:
            expected[(left, right)] = (ts, i)
    out = _dedupe_last(_links(rows), ("platform", "left_type", "left_value", "right_type", "right_value"), "observed_at")
    got = {(r["left_value"], r["right_value"]): int(r["observed_at"].timestamp()) for r in out.to_pylist()}
    assert got == {k: v[0] for k, v in expected.items()}
    assert out.num_rows == len(expected)


def test_records_batch_keeps_fields_absent_from_the_first_record() -> None:
    from omniplug.rowmap import records_batch

    batch = records_batch([{"id": 1}, {"id": 2, "retweeted_status": {"id": 3}}])
    assert batch.column_names == ["id", "retweeted_status"]
    assert batch.column("retweeted_status").to_pylist() == [None, {"id": 3}]


def test_records_batch_turns_a_mixed_type_field_into_text() -> None:
    from omniplug.rowmap import records_batch

    batch = records_batch([{"ts": 1700000000000}, {"ts": "yesterday"}, {"ts": None}])
    assert batch.column("ts").to_pylist() == ["1700000000000", "yesterday", None]
    assert records_batch([]).num_rows == 0

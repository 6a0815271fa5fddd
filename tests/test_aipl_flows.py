"""AIPL flows between dates: hand-computed, plus the counting invariants on random stage tables."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniplug.aipl_flows import FLOWS_SCHEMA, aipl_flows, stage_flows
from omniplug.errors import InvalidInputError

TS = pa.timestamp("ms", tz="UTC")


def _touches(rows: list[tuple[str, datetime, str, str]]) -> pa.Table:
    """rows of (person, time, event_id, event_type)."""
    return pa.table({
        "event_id": [r[2] for r in rows], "id_type": ["tmall_ouid"] * len(rows), "id_value": [r[0] for r in rows],
        "event_time": pa.array([r[1] for r in rows], TS), "event_type": [r[3] for r in rows],
        "channel": ["paid"] * len(rows),
    })


def _orders(rows: list[tuple[str, datetime, str, float]]) -> pa.Table:
    """rows of (person, time, order_id, amount), all paid."""
    return pa.table({
        "order_id": [r[2] for r in rows], "id_type": ["tmall_ouid"] * len(rows), "id_value": [r[0] for r in rows],
        "order_time": pa.array([r[1] for r in rows], TS), "amount": [r[3] for r in rows],
        "status": ["paid"] * len(rows),
    })


PERSONS = pa.table({"id_type": ["tmall_ouid"] * 4, "id_value": ["x", "y", "z", "w"],
                    "person_id": pa.array([1, 2, 3, 4], pa.int64())})


def test_flows_over_three_dates_by_hand() -> None:
    t = _touches([("x", datetime(2026, 10, 10, tzinfo=UTC), "e1", "impression"),  # A on 15 Oct (5 days old)
                  ("x", datetime(2026, 10, 25, tzinfo=UTC), "e2", "click"),  # I on 31 Oct
                  ("y", datetime(2026, 10, 12, tzinfo=UTC), "e3", "click"),  # I on 15 Oct, > 15 days by 31 Oct
                  ("z", datetime(2026, 10, 14, tzinfo=UTC), "e4", "favorite")])  # I on 15 Oct
    o = _orders([("z", datetime(2026, 10, 20, tzinfo=UTC), "o1", 5.0),  # z: P after the 20th
                 ("z", datetime(2026, 10, 30, tzinfo=UTC), "o2", 5.0),  # z: repeat purchase -> L
                 ("w", datetime(2026, 10, 29, tzinfo=UTC), "o3", 5.0)])  # w: a new buyer
    flows = aipl_flows(t, o, persons=PERSONS, dates=[date(2026, 10, 15), date(2026, 10, 21), date(2026, 10, 31)])
    assert flows.schema == FLOWS_SCHEMA
    got = [(r["from_date"].day, r["to_date"].day, r["from_stage"], r["to_stage"], r["persons"])
           for r in flows.to_pylist()]
    # 15 -> 21 Oct: x stays A (6 days old), y stays I (9 days), z I -> P (bought on the 20th).
    # 21 -> 31 Oct: x A -> I (clicked on the 25th), y I -> none (19 days), z P -> L, w none -> P.
    assert got == [(15, 21, "A", "A", 1), (15, 21, "I", "I", 1), (15, 21, "I", "P", 1),
                   (21, 31, None, "P", 1), (21, 31, "A", "I", 1), (21, 31, "I", None, 1), (21, 31, "P", "L", 1)]


def test_stage_flows_of_two_snapshots_keys_on_identifiers_when_present() -> None:
    # Without persons, aipl numbers identifiers itself: (id_type, id_value) must match too.
    before = pa.table({"person_id": [0, 1], "id_type": ["a", "a"], "id_value": ["p", "q"], "stage": ["A", "I"]})
    after = pa.table({"person_id": [0, 1], "id_type": ["a", "a"], "id_value": ["q", "r"], "stage": ["P", "A"]})
    rows = [(r["from_stage"], r["to_stage"], r["persons"]) for r in stage_flows(before, after).to_pylist()]
    # p: A -> none; q: I -> P (code 1 before, 0 after); r: none -> A.
    assert rows == [(None, "A", 1), ("A", None, 1), ("I", "P", 1)]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(0, 30), st.sampled_from("AIPL"), max_size=25),
       st.dictionaries(st.integers(0, 30), st.sampled_from("AIPL"), max_size=25))
def test_flows_add_up_to_each_side(before: dict[int, str], after: dict[int, str]) -> None:
    def table(stages: dict[int, str]) -> pa.Table:
        return pa.table({"person_id": pa.array(list(stages), pa.int64()), "stage": pa.array(list(stages.values()),
                                                                                             pa.string())})

    flows = stage_flows(table(before), table(after)).to_pylist()
    # Every person of either side is counted exactly once ...
    assert sum(r["persons"] for r in flows) == len(set(before) | set(after))
    # ... and the flows out of each stage add up to that stage's head count on each side.
    out_of, into = Counter(), Counter()
    for r in flows:
        out_of[r["from_stage"]] += r["persons"]
        into[r["to_stage"]] += r["persons"]
    assert {k: v for k, v in out_of.items() if k is not None} == Counter(before.values())
    assert {k: v for k, v in into.items() if k is not None} == Counter(after.values())
    assert all(r["persons"] > 0 for r in flows)


def test_bad_input_is_named() -> None:
    ok = pa.table({"person_id": [1], "stage": ["A"]})
    with pytest.raises(InvalidInputError, match="lack columns"):
        stage_flows(pa.table({"person_id": [1]}), ok)
    with pytest.raises(InvalidInputError, match="more than once"):
        stage_flows(pa.table({"person_id": [1, 1], "stage": ["A", "I"]}), ok)
    with pytest.raises(InvalidInputError, match="differently"):
        stage_flows(pa.table({"person_id": [1], "id_type": ["a"], "id_value": ["v"], "stage": ["A"]}), ok)
    with pytest.raises(InvalidInputError, match="Arrow table"):
        stage_flows([1, 2], ok)
    t, o = _touches([]), _orders([])
    with pytest.raises(InvalidInputError, match="at least two"):
        aipl_flows(t, o, dates=[date(2026, 1, 1)])
    with pytest.raises(InvalidInputError, match="ascending"):
        aipl_flows(t, o, dates=[date(2026, 1, 2), date(2026, 1, 1)])


def test_aipl_command_writes_flows_since_an_earlier_date(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from omniplug.cli import cli

    t = _touches([("x", datetime(2026, 10, 10, tzinfo=UTC), "e1", "impression"),  # A on the 15th, I on the 31st
                  ("x", datetime(2026, 10, 25, tzinfo=UTC), "e2", "click")])
    o = _orders([("w", datetime(2026, 10, 29, tzinfo=UTC), "o1", 5.0)])  # a new buyer
    pq.write_table(t, tmp_path / "t.parquet")
    pq.write_table(o, tmp_path / "o.parquet")
    args = ["aipl", "--touchpoints", str(tmp_path / "t.parquet"), "--orders", str(tmp_path / "o.parquet"),
            "--as-of", "2026-10-31", "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, [*args, "--compare-to", "2026-10-15"])
    assert result.exit_code == 0, result.output
    assert "2 persons changed stage since 2026-10-15" in result.output
    flows = pq.read_table(tmp_path / "out" / "aipl_flows.parquet").to_pylist()
    assert [(r["from_stage"], r["to_stage"], r["persons"]) for r in flows] == [(None, "P", 1), ("A", "I", 1)]
    late = CliRunner().invoke(cli, [*args, "--compare-to", "2026-11-01"])
    assert late.exit_code == 2 and "not before --as-of" in late.output


def test_pipeline_outputs_and_report_show_the_weeks_moves(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pyarrow.parquet as pq

    from omniplug.report import build_report
    from omniplug.report.sample import write_sample_outputs

    write_sample_outputs(tmp_path, media_files=False)  # runs the pipeline's engine steps, [aipl] defaults
    flows = pq.read_table(tmp_path / "aipl_flows.parquet").to_pylist()
    stages = pq.read_table(tmp_path / "aipl.parquet")
    # The flows' "after" side is exactly today's funnel, a week after the "before" side (flow_days = 7).
    into = Counter()
    for r in flows:
        if r["to_stage"] is not None:
            into[r["to_stage"]] += r["persons"]
    assert into == Counter(stages.column("stage").to_pylist())
    assert {(r["to_date"] - r["from_date"]).days for r in flows} == {7}
    html = build_report(tmp_path).read_text(encoding="utf-8")
    assert "Moves between stages" in html
    biggest = max((r for r in flows if r["from_stage"] != r["to_stage"]), key=lambda r: r["persons"])
    assert f"{biggest['persons']:,}" in html.split("Moves between stages", 1)[1]

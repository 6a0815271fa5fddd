"""Streamed identity stitching: the same output as the in-memory ``stitch``, batch by batch."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniplug import _core
from omniplug.errors import InvalidInputError
from omniplug.identity import StitchResult, stitch
from omniplug.identity_stream import stitch_batches, stitch_parquet

TYPES = ("phone_sha256", "oaid", "jd_pin", "member_id")
# Values that exercise the guards: nulls, empty strings, blocked placeholders.
ODD_VALUES = (None, "", "unknown", "00000000-0000-0000-0000-000000000000", "shared")

value = st.one_of(
    st.integers(0, 30).map(lambda n: f"v{n:03d}"),
    st.sampled_from(ODD_VALUES),
)
side = st.tuples(st.one_of(st.sampled_from(TYPES), st.none()), value)
rows_strategy = st.lists(st.tuples(side, side, st.one_of(st.none(), st.integers(0, 50))), max_size=80)
SETTINGS: list[dict[str, Any]] = [
    {"guardrails": False},
    {},
    {"hub_degree": 4, "max_component_size": 6, "max_ids_per_type": {"oaid": 2}},
    {"hub_degree": 4, "max_component_size": 6, "cap_order": "arrival"},
]


def _links(rows: list[Any], with_time: bool = True) -> pa.Table:
    columns: dict[str, Any] = {
        "left_type": pa.array([r[0][0] for r in rows], pa.string()),
        "left_value": pa.array([r[0][1] for r in rows], pa.string()),
        "right_type": pa.array([r[1][0] for r in rows], pa.string()),
        "right_value": pa.array([r[1][1] for r in rows], pa.string()),
    }
    if with_time:
        columns["observed_at"] = pa.array([r[2] for r in rows], pa.timestamp("ms", tz="UTC"))
    return pa.table(columns)


def _chunks(table: pa.Table, sizes: list[int]) -> list[pa.RecordBatch]:
    """``table`` as consecutive batches of the given sizes (cycled)."""
    out, at, i = [], 0, 0
    while at < table.num_rows:
        n = min(sizes[i % len(sizes)], table.num_rows - at)
        out.extend(table.slice(at, n).to_batches())
        at, i = at + n, i + 1
    return out


def _assert_same(expected: StitchResult, got: StitchResult) -> None:
    assert got.persons.schema == expected.persons.schema
    assert got.persons.equals(expected.persons)
    assert got.merges.equals(expected.merges)
    assert got.splits.equals(expected.splits)
    assert got.cuts.equals(expected.cuts)
    assert got.report == expected.report


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, st.lists(st.integers(1, 9), min_size=1, max_size=4), st.sampled_from(range(len(SETTINGS))))
def test_stream_equals_in_memory_for_any_chunking(rows: list[Any], sizes: list[int], which: int) -> None:
    links = _links(rows)
    expected = stitch(links, **SETTINGS[which])
    got = stitch_batches(_chunks(links, sizes), batch_rows=3, **SETTINGS[which]).to_result()
    _assert_same(expected, got)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows_strategy, rows_strategy, st.sampled_from(range(len(SETTINGS))), st.sampled_from(["incremental", "rebuild"]))
def test_stream_equals_in_memory_with_previous_persons(day1: list[Any], day2: list[Any], which: int, mode: str) -> None:
    first = stitch(_links(day1), **SETTINGS[which])
    kwargs = dict(SETTINGS[which], mode=mode, next_person_id=first.report["next_person_id"])
    expected = stitch(_links(day2), previous=first.persons, previous_cuts=first.cuts, **kwargs)
    got = stitch_batches(
        _chunks(_links(day2), [1]), previous=_chunks(first.persons, [2]), previous_cuts=first.cuts, **kwargs
    ).to_result()
    _assert_same(expected, got)


def test_batch_boundaries_of_one_row_and_links_without_observed_at() -> None:
    rows = [(("oaid", f"d{i % 7}"), ("jd_pin", f"p{i % 5}"), None) for i in range(40)]
    links = _links(rows, with_time=False)
    expected = stitch(links)
    got = stitch_batches(iter(_chunks(links, [1])), batch_rows=1)
    assert got.num_persons_rows == expected.persons.num_rows
    batches = list(got.iter_persons())
    assert all(b.num_rows == 1 for b in batches)
    _assert_same(expected, got.to_result())


def test_mixed_string_layouts_give_the_same_persons() -> None:
    rows = [(("oaid", f"d{i % 9}"), ("phone_sha256", f"h{i % 4}"), i) for i in range(30)]
    links = _links(rows)
    expected = stitch(links, guardrails=False)

    def strings_as(t: pa.DataType) -> pa.Schema:
        return pa.schema([f.with_type(t) if f.type == pa.string() else f for f in links.schema])

    tail = links.slice(20, 10)
    layouts = [
        links.slice(0, 10).cast(strings_as(pa.large_string())),
        links.slice(10, 10).cast(strings_as(pa.string_view())),
        pa.table({c: tail[c] if c == "observed_at" else tail[c].dictionary_encode() for c in tail.column_names}),
    ]
    _assert_same(expected, stitch_batches(layouts, guardrails=False).to_result())


def test_bad_inputs_raise_invalid_input_errors() -> None:
    good = _links([(("oaid", "a"), ("jd_pin", "b"), 1)])
    with pytest.raises(InvalidInputError, match="left_type"):
        stitch_batches([good.set_column(0, "left_type", pa.array([1], pa.int64()))])
    with pytest.raises(InvalidInputError, match="right_value"):
        stitch_batches([good.drop_columns(["right_value"])])
    with pytest.raises(InvalidInputError, match="observed_at"):
        stitch_batches([good.set_column(4, "observed_at", pa.array(["x"]))])
    with pytest.raises(InvalidInputError, match="bogus"):
        stitch_batches([_links([(("bogus", "a"), ("oaid", "b"), 1)])], allowed_types=["oaid"])
    with pytest.raises(InvalidInputError, match="person_id"):
        stitch_batches([good], previous=pa.table({"id_type": ["oaid"], "id_value": ["a"], "person_id": ["x"]}))
    with pytest.raises(InvalidInputError):
        stitch_batches(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="batch_rows"):
        stitch_batches([good], batch_rows=0)


def test_a_finished_stitcher_cannot_be_reused() -> None:
    s = _core.StreamStitcher("{}")
    s.push_links(_links([(("oaid", "a"), ("jd_pin", "b"), 1)]))
    assert (s.n_links(), s.n_values(), s.value_bytes()) == (1, 2, 2)
    s.finish()
    with pytest.raises(InvalidInputError, match="finish"):
        s.push_links(_links([]))
    with pytest.raises(InvalidInputError, match="finish"):
        s.finish()


def _reference_partition(rows: list[Any]) -> set[frozenset[tuple[str, str]]]:
    """Plain union-find over valid (typed, non-empty) sides, independent of the core."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for a, b, _ in rows:
        valid = [s for s in (a, b) if s[0] is not None and s[1]]
        for s in valid:
            find(s)
        if len(valid) == 2:
            parent[find(valid[0])] = find(valid[1])
    groups: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for x in list(parent):
        groups[find(x)].add(x)
    return {frozenset(g) for g in groups.values()}


def test_parquet_round_trip_matches_a_reference_and_keeps_ids_next_day(tmp_path: Path) -> None:
    rows = [(("oaid", f"d{i % 23}"), ("jd_pin", f"p{(i * 7) % 31}"), i) for i in range(200)]
    rows += [(("member_id", None), ("oaid", "d1"), 5), (("member_id", ""), ("oaid", "d2"), 6)]
    pq.write_table(_links(rows), tmp_path / "links.parquet", row_group_size=17)
    report = stitch_parquet(tmp_path / "links.parquet", tmp_path / "day1", batch_rows=10, guardrails=False)
    persons = pq.read_table(tmp_path / "day1" / "persons.parquet")
    assert pq.ParquetFile(tmp_path / "day1" / "persons.parquet").metadata.num_row_groups > 1
    groups: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for r in persons.to_pylist():
        groups[r["person_id"]].add((r["id_type"], r["id_value"]))
    assert {frozenset(g) for g in groups.values()} == _reference_partition(rows)
    assert json.loads((tmp_path / "day1" / "stitch_report.json").read_text()) == report
    assert persons.equals(stitch(_links(rows), guardrails=False).persons)
    for name in ("merges", "splits", "cuts"):
        assert (tmp_path / "day1" / f"{name}.parquet").exists()

    pq.write_table(_links([(("oaid", "d1"), ("jd_pin", "new"), 999)]), tmp_path / "today.parquet")
    stitch_parquet(
        tmp_path / "today.parquet", tmp_path / "day2", previous=tmp_path / "day1" / "persons.parquet",
        guardrails=False, next_person_id=report["next_person_id"],
    )

    def ids(table: pa.Table) -> dict[tuple[str, str], int]:
        return {(r["id_type"], r["id_value"]): r["person_id"] for r in table.to_pylist()}

    day1, day2 = ids(persons), ids(pq.read_table(tmp_path / "day2" / "persons.parquet"))
    assert all(day2[k] == v for k, v in day1.items())
    assert day2[("jd_pin", "new")] == day1[("oaid", "d1")]


def test_stitch_parquet_reports_missing_files_and_columns(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        stitch_parquet(tmp_path / "nope.parquet", tmp_path / "out")
    pq.write_table(pa.table({"left_type": ["oaid"]}), tmp_path / "bad.parquet")
    with pytest.raises(InvalidInputError, match="right_value"):
        stitch_parquet(tmp_path / "bad.parquet", tmp_path / "out")


def test_stitch_command_with_stream_writes_what_the_in_memory_command_writes(tmp_path: Path) -> None:
    """``omniplug stitch --stream`` over two days (hub carry, arrival order) equals the plain command."""
    from click.testing import CliRunner

    from omniplug.cli import cli

    day1 = [(("phone_sha256", "hub"), ("member_id", f"m{i}"), i) for i in range(8)]  # a hub at degree 4
    day1 += [(("oaid", f"d{i % 5}"), ("jd_pin", f"p{i}"), 10 + i) for i in range(12)]
    day2 = [(("phone_sha256", "hub"), ("member_id", "late"), 50), (("oaid", "d1"), ("jd_pin", "q"), 51)]
    pq.write_table(_links(day1), tmp_path / "day1.parquet", row_group_size=5)
    pq.write_table(_links(day2), tmp_path / "day2.parquet")
    common = ["--hub-degree", "4", "--cap-order", "arrival"]
    for flag, folder in (([], "mem"), (["--stream"], "stream")):
        first = CliRunner().invoke(cli, ["stitch", str(tmp_path / "day1.parquet"), *common, *flag,
                                         "--out", str(tmp_path / folder / "d1")])
        assert first.exit_code == 0, first.output
        second = CliRunner().invoke(cli, ["stitch", str(tmp_path / "day2.parquet"), *common, *flag,
                                          "--previous", str(tmp_path / folder / "d1" / "persons.parquet"),
                                          "--out", str(tmp_path / folder / "d2")])
        assert second.exit_code == 0, second.output
        assert "hubs carried" in second.output
    for day in ("d1", "d2"):
        for name in ("persons", "merges", "splits", "cuts"):
            mem, streamed = (pq.read_table(tmp_path / f / day / f"{name}.parquet") for f in ("mem", "stream"))
            assert streamed.equals(mem), (day, name)
    persons = pq.read_table(tmp_path / "stream" / "d2" / "persons.parquet").to_pylist()
    assert ("phone_sha256", "hub") not in {(r["id_type"], r["id_value"]) for r in persons}
    assert not list((tmp_path / "stream").rglob("*.tmp"))

"""attribute_stream: bit-identical to attribute, from any batch source, leaving no spill behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omniplug.attribution import attribute
from omniplug.attribution_stream import attribute_stream
from omniplug.errors import InvalidInputError, LimitExceededError

TS = pa.timestamp("ms", tz="UTC")
T0 = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
DAY = 86_400_000
RULE_MODELS = ["last_touch", "first_touch", "linear", "time_decay", "position_based", "weighted", "shapley"]
CHANNELS = ["paid", "kol", "organic", None]
EVENTS = ["impression", "click", "add_to_cart", "video_view"]


def make_data(seed: int, n_touch: int, n_order: int, n_person: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Touchpoints, orders and persons over ``n_person`` identifiers, with person_id and id pairs."""
    rng = np.random.default_rng(seed)
    t_person = rng.integers(0, n_person, n_touch)
    o_person = rng.integers(0, n_person, n_order)
    id_type = np.array(["tmall_ouid", "jd_pin"])

    def ids(person: np.ndarray) -> dict[str, pa.Array]:
        kind = id_type[person % 2]
        return {"person_id": pa.array(person // 3, pa.int64()), "id_type": pa.array(kind),
                "id_value": pa.array([f"u{p}" for p in person])}

    touches = pa.table({
        "event_id": pa.array([f"e{i % (n_touch // 2 + 1):06d}" for i in range(n_touch)]),  # repeated ids tie
        "event_time": pa.array(T0 + rng.integers(0, 40, n_touch) * DAY // 4, TS),
        "event_type": pa.array(rng.choice(EVENTS, n_touch)),
        "platform": pa.array(rng.choice(["tmall", "jd", "douyin"], n_touch)),
        "channel": pa.array([CHANNELS[i] for i in rng.integers(0, 4, n_touch)], pa.string()),
        **ids(t_person),
    })
    orders = pa.table({
        "order_id": pa.array([f"o{i:05d}" for i in range(n_order)]),
        "order_time": pa.array(T0 + rng.integers(0, 50, n_order) * DAY // 4, TS),
        "amount": pa.array(rng.random(n_order) * 500 + 0.01, pa.float64()),
        "status": pa.array(rng.choice(["paid", "paid", "paid", "refunded", "cancelled"], n_order)),
        **ids(o_person),
    })
    # Link every third identifier to a person; the rest stand alone.
    linked = np.arange(0, n_person, 3)
    persons = pa.table({"person_id": pa.array(linked // 2 + 100, pa.int64()),
                        "id_type": pa.array(id_type[linked % 2]), "id_value": pa.array([f"u{p}" for p in linked])})
    return touches, orders, persons


def without(table: pa.Table, *columns: str) -> pa.Table:
    return table.drop_columns([c for c in columns if c in table.column_names])


def spend_table() -> pa.Table:
    return pa.table({"platform": ["tmall", "jd", "weibo", "tmall"], "channel": ["paid", None, "paid", "kol"],
                     "spend": [100.0, 50.0, 10.0, 0.0]})


COMMON = {"model": RULE_MODELS, "weights": "beauty", "channel": "channel",
          "lookback_days": {"impression": 2, "default": 7}}


@pytest.mark.parametrize("mode", ["person_id", "pairs", "persons"])
def test_streamed_equals_in_memory_bit_for_bit(mode: str) -> None:
    touches, orders, persons = make_data(7, 6000, 1500, 2500)
    extra: dict[str, object] = {}
    if mode != "person_id":
        touches, orders = without(touches, "person_id"), without(orders, "person_id")
    if mode == "persons":
        extra["persons"] = persons
    for group_by in (["platform", "channel"], ["channel"], ["event_id"]):
        expected = attribute(touches, orders, group_by=group_by, spend=spend_table(), **COMMON, **extra)
        got = attribute_stream(touches, orders, group_by=group_by, spend=spend_table(), batch_rows=997,
                               **COMMON, **extra)
        assert got.equals(expected), (mode, group_by)
    no_spend = attribute(touches, orders, **COMMON, **extra)
    assert attribute_stream(touches, orders, batch_rows=4096, **COMMON, **extra).equals(no_spend)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_touch=st.integers(0, 120), n_order=st.integers(0, 40),
       n_person=st.integers(1, 30), batch_rows=st.sampled_from([1, 2, 7, 64, 10_000]),
       mode=st.sampled_from(["person_id", "pairs", "persons"]))
def test_streamed_equals_in_memory_on_random_data(seed: int, n_touch: int, n_order: int, n_person: int,
                                                  batch_rows: int, mode: str) -> None:
    touches, orders, persons = make_data(seed, n_touch, n_order, n_person)
    extra: dict[str, object] = {"persons": persons} if mode == "persons" else {}
    if mode != "person_id":
        touches, orders = without(touches, "person_id"), without(orders, "person_id")
    try:
        expected = attribute(touches, orders, spend=spend_table(), **COMMON, **extra)
    except InvalidInputError as exc:  # e.g. no shared identifier type: both must refuse
        with pytest.raises(InvalidInputError, match=str(exc).split(" (")[0]):
            attribute_stream(touches, orders, spend=spend_table(), batch_rows=batch_rows, **COMMON, **extra)
        return
    got = attribute_stream(touches, orders, spend=spend_table(), batch_rows=batch_rows, **COMMON, **extra)
    assert got.equals(expected)
    # Conservation: per model, credited plus unattributed orders are the paid orders.
    paid = pc.sum(pc.equal(orders.column("status"), "paid")).as_py() or 0
    for name in set(got.column("model").to_pylist()):
        rows = got.filter(pc.equal(got.column("model"), name))
        assert pc.sum(rows.column("conversions")).as_py() == pytest.approx(paid, abs=1e-9)


def test_sources_parquet_files_folder_reader_and_iterables(tmp_path: Path) -> None:
    touches, orders, _ = make_data(3, 3000, 700, 900)
    expected = attribute(touches, orders, **COMMON)
    t_files, o_files = [], []
    for i, (t, o) in enumerate(zip(touches.to_batches(1000), orders.to_batches(250), strict=False)):
        t_files.append(tmp_path / f"t{i}.parquet")
        o_files.append(tmp_path / f"o{i}.parquet")
        pq.write_table(pa.Table.from_batches([t]), t_files[-1], row_group_size=300)
        pq.write_table(pa.Table.from_batches([o]), o_files[-1])
    pq.write_table(touches, tmp_path / "touches.parquet", row_group_size=512)
    pq.write_table(orders, tmp_path / "orders.parquet")
    assert attribute_stream(str(tmp_path / "touches.parquet"), tmp_path / "orders.parquet",
                            batch_rows=333, **COMMON).equals(expected)
    assert attribute_stream(t_files, o_files, **COMMON).equals(expected)
    folder = tmp_path / "touches"
    folder.mkdir()
    for i, f in enumerate(t_files):
        Path(f).rename(folder / f"part-{i:03d}.parquet")
    assert attribute_stream(folder, o_files, batch_rows=128, **COMMON).equals(expected)
    reader = pa.RecordBatchReader.from_batches(touches.schema, touches.to_batches(111))
    assert attribute_stream(reader, iter(orders.to_batches(50)), **COMMON).equals(expected)
    # Dictionary-encoded and large strings in some batches only.
    mixed = [touches.slice(0, 1000), touches.slice(1000).cast(
        touches.schema.set(touches.schema.get_field_index("channel"), pa.field("channel", pa.large_string())))]
    assert attribute_stream(mixed, orders, **COMMON).equals(expected)


def test_no_orders_and_no_touches() -> None:
    touches, orders, _ = make_data(5, 50, 10, 20)
    for kw in (COMMON, {"model": ["markov_2", "shapley_exact", "linear"]}):
        for t, o in ((touches, orders.slice(0, 0)), (touches.slice(0, 0), orders)):
            assert attribute_stream(t, o, **kw).equals(attribute(t, o, **kw))


def test_bad_input_is_refused() -> None:
    touches, orders, _ = make_data(1, 40, 10, 10)
    # Too many channels for the exact game: refused as in memory.
    many = touches.set_column(touches.column_names.index("channel"), "channel",
                              pa.array([f"c{i}" for i in range(touches.num_rows)]))
    with pytest.raises(LimitExceededError, match="max_exact_shapley_channels"):
        attribute(many, orders, model="shapley_exact", channel="channel")
    with pytest.raises(LimitExceededError, match="max_exact_shapley_channels"):
        attribute_stream(many, orders, model="shapley_exact", channel="channel")
    with pytest.raises(InvalidInputError, match="batch_rows"):
        attribute_stream(touches, orders, batch_rows=0)
    with pytest.raises(InvalidInputError, match="lacks columns"):
        attribute_stream(touches.drop_columns(["event_type"]), orders)
    with pytest.raises(InvalidInputError, match="must be Parquet path"):
        attribute_stream(42, orders)
    with pytest.raises(InvalidInputError, match="no time zone"):
        attribute_stream(touches.set_column(1, "event_time", touches.column("event_time").cast(pa.timestamp("ms"))),
                         orders)
    with pytest.raises(InvalidInputError, match="unknown attribution model"):
        attribute_stream(touches, orders, model="nope")
    with pytest.raises(InvalidInputError, match="negative"):
        attribute_stream(touches, orders, lookback_days=-1)


def test_failed_runs_leave_no_spill_files() -> None:
    touches, orders, _ = make_data(2, 500, 100, 50)
    bad_amount = orders.set_column(orders.column_names.index("amount"), "amount",
                                   pa.array([float("nan")] * orders.num_rows))
    bad_late = [touches.slice(0, 300), touches.slice(300).set_column(
        1, "event_time", touches.slice(300).column("event_time").cast(pa.timestamp("ms")))]
    with tempfile.TemporaryDirectory() as spill:
        # Fails while attributing (the engine rejects a paid NaN amount) ...
        with pytest.raises(InvalidInputError, match="finite amount"):
            attribute_stream(without(touches, "person_id"), without(bad_amount, "person_id"),
                             spill_dir=spill, batch_rows=64)
        # ... and while spilling (a late batch without time zone).
        with pytest.raises(InvalidInputError, match="no time zone"):
            attribute_stream(bad_late, orders, spill_dir=spill, batch_rows=64)
        # ... and when the source itself breaks off mid-stream (an interrupted read).
        def interrupted() -> Iterator[pa.RecordBatch]:
            yield from touches.to_batches(100)[:2]
            raise KeyboardInterrupt
        with pytest.raises(KeyboardInterrupt):
            attribute_stream(interrupted(), orders, spill_dir=spill, batch_rows=64)
        attribute_stream(touches, orders, spill_dir=spill, batch_rows=64)
        assert os.listdir(spill) == []


def test_same_result_at_any_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    touches, orders, _ = make_data(11, 4000, 1000, 1500)
    expected = attribute(touches, orders, spend=spend_table(), **COMMON)
    monkeypatch.setenv("OMNIPLUG_NUM_THREADS", "1")
    assert attribute_stream(touches, orders, spend=spend_table(), batch_rows=500, **COMMON).equals(expected)


def test_attribute_command_streams_to_the_same_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``omniplug attribute --stream`` writes what the in-memory command writes, and --help teaches it."""
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from omniplug.cli import cli

    touches, orders, _ = make_data(11, 300, 80, 60)
    pq.write_table(touches, tmp_path / "t.parquet", row_group_size=17)
    pq.write_table(orders, tmp_path / "o.parquet", row_group_size=5)
    base = ["attribute", "--touchpoints", str(tmp_path / "t.parquet"), "--orders", str(tmp_path / "o.parquet"),
            "--model", "last_touch", "--model", "linear", "--group-by", "platform,channel"]
    for flag, out in (([], "mem"), (["--stream", "--spill-dir", str(tmp_path)], "stream")):
        result = CliRunner().invoke(cli, [*base, *flag, "--out", str(tmp_path / out)])
        assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "stream" / "attribution.parquet").equals(
        pq.read_table(tmp_path / "mem" / "attribution.parquet"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("omniplug-attribution-")]
    assert "--stream" in CliRunner().invoke(cli, ["attribute", "--help"]).output


PATH_MODELS = ["markov", "markov_2", "markov_3", "shapley_exact"]


@pytest.mark.parametrize("mode", ["person_id", "pairs", "persons"])
def test_path_models_stream_bit_for_bit(mode: str) -> None:
    """markov orders 1-3 and shapley_exact, mixed with rule models, learn the in-memory weights."""
    touches, orders, persons = make_data(13, 5000, 1200, 2000)
    extra: dict[str, object] = {"persons": persons} if mode == "persons" else {}
    if mode != "person_id":
        touches, orders = without(touches, "person_id"), without(orders, "person_id")
    models = [*PATH_MODELS[:2], "linear", *PATH_MODELS[2:], "last_touch"]
    for group_by, channel in ((["platform", "channel"], "channel"), (["channel", "platform"], None),
                              (["event_type"], "platform")):
        kw = {"model": models, "group_by": group_by, "channel": channel, "lookback_days": 5, **extra}
        expected = attribute(touches, orders, **kw)
        got = attribute_stream(touches, orders, batch_rows=701, **kw)
        assert got.equals(expected), (mode, group_by, channel)
        # The weights are actually data-driven: not every markov row is the linear one.
        by_model = {m: got.filter(pc.equal(got.column("model"), m)).column("conversions").to_pylist()
                    for m in ("markov", "linear")}
        assert by_model["markov"] != by_model["linear"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_touch=st.integers(0, 120), n_order=st.integers(0, 40),
       n_person=st.integers(1, 30), batch_rows=st.sampled_from([1, 3, 64, 10_000]),
       mode=st.sampled_from(["person_id", "pairs", "persons"]))
def test_path_models_stream_on_random_data(seed: int, n_touch: int, n_order: int, n_person: int,
                                           batch_rows: int, mode: str) -> None:
    touches, orders, persons = make_data(seed, n_touch, n_order, n_person)
    extra: dict[str, object] = {"persons": persons} if mode == "persons" else {}
    if mode != "person_id":
        touches, orders = without(touches, "person_id"), without(orders, "person_id")
    kw = {"model": [*PATH_MODELS, "first_touch", "shapley"], "channel": "channel", **extra}
    try:
        expected = attribute(touches, orders, **kw)
    except InvalidInputError as exc:
        with pytest.raises(InvalidInputError, match=str(exc).split(" (")[0]):
            attribute_stream(touches, orders, batch_rows=batch_rows, **kw)
        return
    assert attribute_stream(touches, orders, batch_rows=batch_rows, **kw).equals(expected)


def test_learnt_weights_equal_an_independent_markov_solve() -> None:
    """The streamed learning pass solves the chain of the whole input: one channel, all paths convert."""
    n = 40
    touches = pa.table({"event_id": [f"e{i}" for i in range(n)], "event_time": pa.array([T0] * n, TS),
                        "event_type": ["click"] * n, "platform": ["tmall"] * n,
                        "channel": ["paid" if i % 2 else None for i in range(n)],
                        "person_id": pa.array(range(n), pa.int64())})
    orders = pa.table({"order_id": [f"o{i}" for i in range(n)], "order_time": pa.array([T0 + DAY] * n, TS),
                       "amount": [10.0] * n, "status": ["paid"] * n, "person_id": pa.array(range(n), pa.int64())})
    got = attribute_stream(touches, orders, model=["markov", "shapley_exact"], group_by=["channel"], batch_rows=1)
    assert got.equals(attribute(touches, orders, model=["markov", "shapley_exact"], group_by=["channel"]))
    # Two channels (paid and null) each on half the converting paths: equal removal effects (1 each) and
    # equal Shapley values, so each channel gets its own orders in full.
    for m in ("markov", "shapley_exact"):
        rows = got.filter(pc.and_(pc.equal(got.column("model"), m), got.column("attributed")))
        assert sorted(rows.column("conversions").to_pylist()) == [20.0, 20.0]

"""Exact Markov removal effects from distinct paths, against a plain numpy absorbing-chain solve."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omniplug
from omniplug.errors import InvalidInputError
from omniplug.markov_paths import markov_removal_effects

CHANNELS = ("kol", "live", "paid", "search")


# -- the reference: the absorbing chain, written out with numpy ------------------------------------


def collapse(path: list[str]) -> list[str]:
    """Drop consecutive repeats (``a a b`` is ``a b``)."""
    return [c for i, c in enumerate(path) if i == 0 or path[i - 1] != c]


def reference_effects(rows: list[tuple[list[str], float, float]], order: int) -> dict[str, float]:
    """Removal effects of every channel of ``rows`` = (path, conversions, nulls), by dense numpy solves."""
    index: dict[tuple[str, ...], int] = {(): 0}
    weight: dict[tuple[int, int | str], float] = defaultdict(float)
    for raw, conv, null in rows:
        path = collapse(raw)
        if conv + null <= 0:
            continue
        prev = 0
        for i in range(len(path)):
            state = index.setdefault(tuple(path[max(0, i + 1 - order):i + 1]), len(index))
            weight[(prev, state)] += conv + null
            prev = state
        weight[(prev, "conv")] += conv
        weight[(prev, "null")] += null
    n = len(index)
    out = np.zeros(n)
    for (a, _), w in weight.items():
        out[a] += w
    q, r = np.zeros((n, n)), np.zeros(n)
    for (a, b), w in weight.items():
        if b == "conv":
            r[a] += w / out[a]
        elif b != "null":
            q[a, b] += w / out[a]
    system = np.eye(n) - q
    p = float(np.linalg.solve(system, r)[0])
    effects = {}
    for channel in sorted({c for path, _, _ in rows for c in path}):
        gone = np.array([channel in s for s in index])
        a, b = system.copy(), r.copy()
        a[gone], b[gone] = 0.0, 0.0
        a[gone, gone] = 1.0  # a removed state is null: its conversion probability is 0
        effects[channel] = max(0.0, (p - float(np.linalg.solve(a, b)[0])) / p) if p > 0 else 0.0
    return effects


def reference_path_credit(rows: list[tuple[list[str], float, float]], effects: dict[str, float]) -> dict[str, float]:
    """Each path's conversions over its distinct channels by removal effect (equally when all are 0)."""
    credit: dict[str, float] = defaultdict(float)
    for path, conv, _ in rows:
        distinct = sorted(set(path))
        total = sum(effects[c] for c in distinct)
        for c in distinct:
            credit[c] += conv * (effects[c] / total if total > 0 else 1 / len(distinct))
    return credit


def as_table(rows: list[tuple[list[str], float, float]], *, strings: bool = True) -> pa.Table:
    return pa.table({
        "path": [" > ".join(p) for p, _, _ in rows] if strings else pa.array([p for p, _, _ in rows],
                                                                             pa.list_(pa.string())),
        "total_conversions": [c for _, c, _ in rows], "total_null": [z for _, _, z in rows],
        "value": [10.0 * c for _, c, _ in rows],
    })


# -- against the reference ------------------------------------------------------------------------

count = st.one_of(st.integers(0, 6).map(float), st.floats(0.0, 5.0, allow_nan=False, allow_infinity=False))
row = st.tuples(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=6), count, count)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=25), order=st.integers(1, 3), strings=st.booleans())
def test_equals_a_numpy_absorbing_chain_solve(rows: list[tuple[list[str], float, float]], order: int,
                                              strings: bool) -> None:
    got = markov_removal_effects(as_table(rows, strings=strings), order=order, value_column="value").to_pylist()
    effects = reference_effects(rows, order)
    assert [r["channel"] for r in got] == sorted(effects)
    credit = reference_path_credit(rows, effects)
    total_conv = sum(c for _, c, _ in rows)
    effect_sum = sum(effects.values())
    for r in got:
        assert r["removal_effect"] >= 0.0
        assert r["removal_effect"] == pytest.approx(effects[r["channel"]], abs=1e-9)
        assert r["path_conversions"] == pytest.approx(credit[r["channel"]], abs=1e-9)
        assert r["path_conversion_value"] == pytest.approx(10.0 * credit[r["channel"]], abs=1e-8)
        share = effects[r["channel"]] / effect_sum if effect_sum > 0 else 0.0
        assert r["share"] == pytest.approx(share, abs=1e-9)
        assert r["conversions"] == pytest.approx(share * total_conv, abs=1e-9)
    assert sum(r["path_conversions"] for r in got) == pytest.approx(total_conv, abs=1e-9)


def test_two_and_three_path_cases_by_hand() -> None:
    # a>b: 1 conversion, 1 null; b: 2 conversions; a>c>a: 3 nulls. From start: a 5/7, b 2/7; from a:
    # b 2/8, c 3/8, null 3/8; b converts 3/4; c goes back to a. x_a = 3/10, P = 3/7.
    rows = [(["a", "b"], 1, 1), (["b"], 2, 0), (["a", "c", "a"], 0, 3)]
    got = {r["channel"]: r for r in markov_removal_effects(as_table(rows), value_column="value").to_pylist()}
    # without a: P = (2/7)(3/4); without b: 0; without c: x_a = 3/16, P = 39/112.
    assert got["a"]["removal_effect"] == pytest.approx(0.5, abs=1e-15)
    assert got["b"]["removal_effect"] == pytest.approx(1.0, abs=1e-15)
    assert got["c"]["removal_effect"] == pytest.approx(9 / 48, abs=1e-15)
    assert got["b"]["share"] == pytest.approx(1 / (1.5 + 9 / 48), abs=1e-15)
    # path split: a>b converts once, split a:b = 0.5:1; b alone keeps its 2.
    assert got["a"]["path_conversions"] == pytest.approx(1 / 3, abs=1e-15)
    assert got["b"]["path_conversions"] == pytest.approx(2 + 2 / 3, abs=1e-15)
    assert got["c"]["path_conversions"] == 0.0
    assert got["b"]["path_conversion_value"] == pytest.approx(10 * (2 + 2 / 3), abs=1e-12)
    # two paths, order 2: x y converts, y x does not; each channel is needed to convert.
    two = markov_removal_effects(pa.table({"path": ["x>y", "y>x"], "total_conversions": [1, 0],
                                           "total_null": [0, 1]}), order=2, separator=">").to_pylist()
    assert [(r["channel"], r["removal_effect"], r["conversions"]) for r in two] == [("x", 1.0, 0.5), ("y", 1.0, 0.5)]


def test_repeats_whitespace_and_formats_give_one_chain() -> None:
    a = markov_removal_effects(pa.table({"path": ["a > a > b", " b>c "], "total_conversions": [2, 1],
                                         "total_null": [1, 4]}), separator=">", order=2)
    b = markov_removal_effects(pa.table({"path": pa.array([["a", "b"], ["b", "c"]], pa.large_list(pa.string())),
                                         "total_conversions": pa.array([2.0, 1.0]),
                                         "total_null": pa.array([1, 4], pa.int8())}), order=2)
    assert a.equals(b)


def test_nothing_converts_gives_zero_effects() -> None:
    got = markov_removal_effects(pa.table({"path": ["a > b", "b"], "total_conversions": [0, 0],
                                           "total_null": [3, 1]})).to_pylist()
    assert [(r["channel"], r["removal_effect"], r["share"], r["path_conversions"]) for r in got] == [
        ("a", 0.0, 0.0, 0.0), ("b", 0.0, 0.0, 0.0)]


# -- against omniplug.attribute on the touchpoints the paths come from ------------------------------

T0 = datetime(2026, 10, 1, tzinfo=UTC)
TS = pa.timestamp("ms", tz="UTC")


def random_journeys(seed: int) -> tuple[pa.Table, pa.Table]:
    """Touchpoints and orders of a few persons; order times fall between touches and beyond the lookback."""
    rng = random.Random(seed)
    touches, orders = [], []
    for person in range(30):
        for k in range(rng.randint(1, 9)):
            touches.append((f"p{person}", T0 + timedelta(days=rng.randint(0, 90)), f"e{person:03d}-{k}",
                            rng.choice(CHANNELS[: rng.randint(2, 4)])))
        for k in range(rng.randint(0, 3)):
            orders.append((f"p{person}", T0 + timedelta(days=rng.randint(0, 100), hours=12), f"o{person}-{k}",
                           round(rng.uniform(5, 500), 2), rng.choice(["paid", "paid", "paid", "refunded"])))
    text = pa.string()
    t = pa.table({"event_id": pa.array([r[2] for r in touches], text), "id_type": ["tmall_ouid"] * len(touches),
                  "id_value": [r[0] for r in touches], "event_time": pa.array([r[1] for r in touches], TS),
                  "event_type": ["click"] * len(touches), "channel": [r[3] for r in touches]})
    o = pa.table({"order_id": [r[2] for r in orders], "id_type": ["tmall_ouid"] * len(orders),
                  "id_value": [r[0] for r in orders], "order_time": pa.array([r[1] for r in orders], TS),
                  "amount": pa.array([r[3] for r in orders], pa.float64()), "status": [r[4] for r in orders]})
    return t, o


def distinct_paths(t: pa.Table, o: pa.Table, lookback: timedelta) -> pa.Table:
    """The paths of DESIGN §5 by hand: per paid order its eligible touches (converting), per person the
    touches eligible for no paid order (not converting); grouped into distinct paths."""
    by_person: dict[str, list[dict]] = defaultdict(list)
    for r in t.to_pylist():
        by_person[r["id_value"]].append(r)
    agg: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    used: set[str] = set()
    for r in o.to_pylist():
        if r["status"] != "paid":
            continue
        eligible = sorted((x for x in by_person[r["id_value"]]
                           if r["order_time"] - lookback <= x["event_time"] <= r["order_time"]),
                          key=lambda x: (x["event_time"], x["event_id"]))
        if eligible:
            used.update(x["event_id"] for x in eligible)
            entry = agg[tuple(collapse([x["channel"] for x in eligible]))]
            entry[0] += 1
            entry[2] += r["amount"]
    for rows in by_person.values():
        rest = sorted((x for x in rows if x["event_id"] not in used), key=lambda x: (x["event_time"], x["event_id"]))
        if rest:
            agg[tuple(collapse([x["channel"] for x in rest]))][1] += 1
    keys = sorted(agg)
    return pa.table({"path": pa.array([list(k) for k in keys], pa.list_(pa.string())),
                     "total_conversions": [agg[k][0] for k in keys], "total_null": [agg[k][1] for k in keys],
                     "total_conversion_value": [agg[k][2] for k in keys]})


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_equals_attribute_on_the_same_touchpoints(seed: int, order: int) -> None:
    t, o = random_journeys(seed)
    model = "markov" if order == 1 else f"markov_{order}"
    result = omniplug.attribute(t, o, model=model, group_by=["channel"], lookback_days=30)
    expected = {r["channel"]: (r["conversions"], r["revenue"]) for r in result.to_pylist() if r["attributed"]}
    paths = distinct_paths(t, o, timedelta(days=30))
    got = markov_removal_effects(paths, order=order, value_column="total_conversion_value").to_pylist()
    assert sum(paths.column("total_conversions").to_pylist()) > 0
    for r in got:
        conv, revenue = expected.get(r["channel"], (0.0, 0.0))
        assert r["path_conversions"] == pytest.approx(conv, rel=1e-9, abs=1e-9)
        assert r["path_conversion_value"] == pytest.approx(revenue, rel=1e-9, abs=1e-9)
    assert {r["channel"] for r in got if r["path_conversions"] > 0} == {k for k, v in expected.items() if v[0] > 0}
    rows = [(p, c, z) for p, c, z in zip(paths.column("path").to_pylist(),
                                         paths.column("total_conversions").to_pylist(),
                                         paths.column("total_null").to_pylist(), strict=True)]
    effects = reference_effects(rows, order)
    assert all(math.isclose(r["removal_effect"], effects[r["channel"]], abs_tol=1e-9) for r in got)


# -- bad input ------------------------------------------------------------------------------------


def good() -> dict[str, list]:
    return {"path": ["a > b", "b"], "total_conversions": [1, 2], "total_null": [0, 1]}


@pytest.mark.parametrize(("change", "kwargs", "message"), [
    ({"path": ["a > b", ""]}, {}, "'path' row 1: empty"),
    ({"path": ["a >  > b", "b"]}, {}, "'path' row 0: empty channel"),
    ({"path": pa.array([["a"], []], pa.list_(pa.string()))}, {}, "'path' row 1: empty path"),
    ({"path": ["a", None]}, {}, "'path' row 1: null"),
    ({"total_conversions": [1, -1]}, {}, "'total_conversions' row 1"),
    ({"total_null": [0.0, float("nan")]}, {}, "'total_null' row 1"),
    ({"total_null": [0, None]}, {}, "'total_null' row 1: null"),
    ({}, {"order": 4}, "order must be 1, 2 or 3"),
    ({}, {"order": 0}, "order must be 1, 2 or 3"),
    ({}, {"value_column": "revenue"}, "'revenue'"),
    ({}, {"null_column": "nulls"}, "'nulls'"),
    ({"total_conversions": ["1", "2"]}, {}, "'total_conversions' must be numeric"),
    ({"path": [1, 2]}, {}, "'path' must be a string"),
    ({"path": pa.array([[1], [2]], pa.list_(pa.int64()))}, {}, "'path' must be a string"),
    ({}, {"separator": ""}, "separator"),
])
def test_bad_input_names_the_column_and_row(change: dict, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(")):
        markov_removal_effects(pa.table({**good(), **change}), **kwargs)


def test_state_cap() -> None:
    from omniplug.errors import LimitExceededError

    with pytest.raises(LimitExceededError, match="max_states"):
        markov_removal_effects(pa.table(good()), order=2, max_states=2)


@pytest.mark.parametrize("order", [1, 3])
def test_many_channels_equal_the_reference(order: int) -> None:
    # 40 channels: past the small-dictionary scan, and at order 3 past the dense transition table.
    rng = random.Random(order)
    names = [f"ch{i:02d}" for i in range(40)]
    rows = [([rng.choice(names) for _ in range(rng.randint(1, 5))], float(rng.randint(0, 3)), float(rng.randint(0, 3)))
            for _ in range(150)]
    got = markov_removal_effects(as_table(rows), order=order).to_pylist()
    effects = reference_effects(rows, order)
    assert [r["channel"] for r in got] == sorted(effects)
    assert all(math.isclose(r["removal_effect"], effects[r["channel"]], abs_tol=1e-9) for r in got)


def test_batches_chunks_and_path_types_give_the_same_result_bit_for_bit() -> None:
    # 40 000 rows: several counting chunks of 16 384 rows; batches of uneven sizes so that a chunk spans
    # batches; string and list paths; and a long name and a padded one, read the general way.
    rng = random.Random(5)
    names = ["paid", "kol", "organic", "crm", "a-rather-long-channel-name", " live "]
    paths = [">".join(rng.choice(names) for _ in range(rng.randint(1, 9))) for _ in range(40_000)]
    conv = [rng.randint(0, 3) for _ in paths]
    null = [rng.randint(0 if c else 1, 4) for c in conv]
    value = [c * 12.25 + rng.random() for c in conv]
    whole = pa.table({"path": paths, "total_conversions": conv, "total_null": null, "value": value})
    batches = pa.Table.from_batches([whole.slice(0, 10_000).to_batches()[0], whole.slice(10_000, 17_000).to_batches()[0],
                                     whole.slice(27_000).to_batches()[0]])
    lists = whole.set_column(0, "path", pa.array([[c.strip() for c in p.split(">")] for p in paths]))
    for order in (1, 2, 3):
        want = markov_removal_effects(whole, order=order, separator=">", value_column="value")
        assert want.column("channel").to_pylist() == sorted(n.strip() for n in names)
        for other in (batches, lists):
            got = markov_removal_effects(other, order=order, separator=">", value_column="value")
            assert got.equals(want), order
        # The credit of all conversions adds up whichever route the table took.
        assert math.isclose(sum(want.column("path_conversions").to_pylist()), sum(conv), rel_tol=1e-12)

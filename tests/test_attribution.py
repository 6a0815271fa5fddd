"""Attribution and AIPL through the public API, against a plain-Python reference."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omniplug
from omniplug.errors import InvalidInputError

T0 = datetime(2026, 10, 1, tzinfo=UTC)
DAY = timedelta(days=1)
TS = pa.timestamp("ms", tz="UTC")


def touches(rows: list[tuple[str, datetime, str, str, str]]) -> pa.Table:
    """rows of (person, time, event_id, event_type, channel)."""
    text = pa.string()
    return pa.table({
        "event_id": pa.array([r[2] for r in rows], text), "platform": pa.array(["tmall"] * len(rows), text),
        "id_type": pa.array(["tmall_ouid"] * len(rows), text), "id_value": pa.array([r[0] for r in rows], text),
        "event_time": pa.array([r[1] for r in rows], TS), "event_type": pa.array([r[3] for r in rows], text),
        "channel": pa.array([r[4] for r in rows], text),
    })


def orders(rows: list[tuple[str, datetime, str, float, str]]) -> pa.Table:
    """rows of (person, time, order_id, amount, status)."""
    text = pa.string()
    return pa.table({
        "order_id": pa.array([r[2] for r in rows], text), "platform": pa.array(["tmall"] * len(rows), text),
        "id_type": pa.array(["tmall_ouid"] * len(rows), text), "id_value": pa.array([r[0] for r in rows], text),
        "order_time": pa.array([r[1] for r in rows], TS), "amount": pa.array([r[3] for r in rows], pa.float64()),
        "currency": pa.array(["CNY"] * len(rows), text), "status": pa.array([r[4] for r in rows], text),
    })


def credited(table: pa.Table, model: str, key: str = "channel") -> dict[str | None, tuple[float, float]]:
    """{group key: (conversions, revenue)} of one model; the unattributed row only when non-empty."""
    out = {}
    for row in table.to_pylist():
        if row["model"] != model or (not row["attributed"] and row["conversions"] == 0):
            continue
        out[row[key] if row["attributed"] else "<unattributed>"] = (row["conversions"], row["revenue"])
    return out


# -- hand-computed cases -------------------------------------------------------------------------


def test_lookback_boundary_is_inclusive_and_touches_after_the_order_do_not_count() -> None:
    t = touches([
        ("p", T0 - 30 * DAY, "e1", "click", "paid"),  # exactly at the boundary: counts
        ("p", T0 - 30 * DAY - timedelta(milliseconds=1), "e0", "click", "search"),  # 1 ms too early
        ("p", T0, "e2", "click", "kol"),  # at the order's own time: counts
        ("p", T0 + timedelta(milliseconds=1), "e3", "click", "organic"),  # after: never
    ])
    o = orders([("p", T0, "o1", 100.0, "paid")])
    result = omniplug.attribute(t, o, model=["first_touch", "last_touch", "linear"], group_by=["channel"])
    assert credited(result, "first_touch") == {"paid": (1.0, 100.0)}
    assert credited(result, "last_touch") == {"kol": (1.0, 100.0)}
    assert credited(result, "linear") == {"paid": (0.5, 50.0), "kol": (0.5, 50.0)}


def test_ties_in_time_are_broken_by_event_id() -> None:
    t = touches([("p", T0 - DAY, "b", "click", "second"), ("p", T0 - DAY, "a", "click", "first")])
    o = orders([("p", T0, "o1", 10.0, "paid")])
    result = omniplug.attribute(t, o, model=["first_touch", "last_touch"], group_by=["channel"])
    assert credited(result, "first_touch") == {"first": (1.0, 10.0)}
    assert credited(result, "last_touch") == {"second": (1.0, 10.0)}


def test_orders_share_touches_refunds_are_excluded_and_lonely_orders_are_unattributed() -> None:
    t = touches([("p", T0 - 2 * DAY, "e1", "click", "paid")])
    o = orders([
        ("p", T0, "o1", 10.0, "paid"), ("p", T0 + DAY, "o2", 0.0, "paid"),  # share e1; zero revenue counts
        ("p", T0 + DAY, "o3", 99.0, "refunded"), ("p", T0, "o4", 5.0, "cancelled"),
        ("q", T0, "o5", 7.0, "paid"),  # a person without touches
    ])
    result = omniplug.attribute(t, o, model="last_touch", group_by=["channel"])
    assert credited(result, "last_touch") == {"paid": (2.0, 10.0), "<unattributed>": (1.0, 7.0)}


def test_position_based_and_time_decay_by_hand() -> None:
    t = touches([("p", T0 - 14 * DAY, "e1", "click", "a"), ("p", T0 - 7 * DAY, "e2", "click", "b"),
                 ("p", T0, "e3", "click", "c")])
    o = orders([("p", T0, "o1", 100.0, "paid")])
    result = omniplug.attribute(t, o, model=["position_based", "time_decay"], group_by=["channel"])
    pb = credited(result, "position_based")
    assert {k: pytest.approx(v) for k, v in pb.items()} == {"a": (0.4, 40.0), "b": (0.2, 20.0), "c": (0.4, 40.0)}
    # Weights 2^-2, 2^-1, 2^0 over a 7-day half-life.
    total = 0.25 + 0.5 + 1.0
    td = credited(result, "time_decay")
    assert {k: pytest.approx(v) for k, v in td.items()} == {
        "a": (0.25 / total, 25 / total), "b": (0.5 / total, 50 / total), "c": (1 / total, 100 / total)}


def test_lookback_by_event_type() -> None:
    t = touches([("p", T0 - 3 * DAY, "e1", "impression", "view"), ("p", T0 - 3 * DAY, "e2", "click", "click")])
    o = orders([("p", T0, "o1", 1.0, "paid")])
    result = omniplug.attribute(t, o, model="linear", lookback_days={"impression": 1, "default": 30},
                                group_by=["channel"])
    assert credited(result, "linear") == {"click": (1.0, 1.0)}


def test_persons_join_touches_and_orders_across_identifiers() -> None:
    t = pa.table({"event_id": ["e1"], "platform": ["douyin"], "id_type": ["douyin_openid"], "id_value": ["op-1"],
                  "event_time": pa.array([T0 - DAY], TS), "event_type": ["click"], "channel": ["kol"]})
    o = orders([("ou-1", T0, "o1", 50.0, "paid")])
    persons = pa.table({"id_type": ["douyin_openid", "tmall_ouid"], "id_value": ["op-1", "ou-1"],
                        "person_id": pa.array([7, 7], pa.int64())})
    result = omniplug.attribute(t, o, persons=persons, group_by=["channel"])
    assert credited(result, "last_touch") == {"kol": (1.0, 50.0)}
    with pytest.raises(InvalidInputError, match="share no identifier type"):
        omniplug.attribute(t, o, group_by=["channel"])


def test_identifiers_no_person_holds_never_join_each_other() -> None:
    # A Weibo touch and a JD order by two unknown identifiers are two people, not one.
    t = pa.table({"event_id": ["e1"], "platform": ["weibo"], "id_type": ["weibo_uid"], "id_value": ["W"],
                  "event_time": pa.array([T0 - DAY], TS), "event_type": ["click"], "channel": ["organic"]})
    o = orders([("J", T0, "o1", 30.0, "paid")])
    persons = pa.table({"id_type": ["tmall_ouid"], "id_value": ["someone-else"],
                        "person_id": pa.array([1], pa.int64())})
    result = omniplug.attribute(t, o, persons=persons, group_by=["channel"])
    assert credited(result, "last_touch") == {"<unattributed>": (1.0, 30.0)}
    # ...while one unknown identifier on both sides is still one person.
    known = t.set_column(2, "id_type", pa.array(["tmall_ouid"])).set_column(3, "id_value", pa.array(["J"]))
    same = omniplug.attribute(known, o, persons=persons, group_by=["channel"])
    assert credited(same, "last_touch") == {"organic": (1.0, 30.0)}


def test_polars_frames_give_the_same_result_as_pyarrow() -> None:
    import polars as pl

    t = pa.table({"event_id": ["e1", "e2"], "platform": ["douyin", "jd"], "id_type": ["tmall_ouid"] * 2,
                  "id_value": ["p1", "p1"], "event_time": pa.array([T0 - 2 * DAY, T0 - DAY], TS),
                  "event_type": ["click", "impression"], "channel": ["kol", "paid"]})
    o = orders([("p1", T0, "o1", 80.0, "paid")])
    # polars exports text as string views: the engine must read them like plain strings.
    assert pa.types.is_string_view(pa.table(pl.from_arrow(t)).schema.field("id_value").type)
    expected = omniplug.attribute(t, o, model=["linear", "last_touch"], group_by=["channel"])
    got = omniplug.attribute(pl.from_arrow(t), pl.from_arrow(o), model=["linear", "last_touch"], group_by=["channel"])
    assert got.equals(expected) and credited(got, "linear") == {"kol": (0.5, 40.0), "paid": (0.5, 40.0)}


def test_spend_joins_into_roi_and_spend_without_credit_appears() -> None:
    t = touches([("p", T0 - DAY, "e1", "click", "paid")])
    o = orders([("p", T0, "o1", 300.0, "paid")])
    spend = pa.table({"date": pa.array([date(2026, 9, 30)] * 2, pa.date32()), "platform": ["tmall", "tmall"],
                      "channel": ["paid", "kol"], "spend": pa.array([100, 50], pa.decimal128(18, 2))})
    result = omniplug.attribute(t, o, spend=spend, group_by=["platform", "channel"]).to_pylist()
    rows = {(r["channel"], r["attributed"]): r for r in result}
    assert rows[("paid", True)]["spend"] == 100.0 and rows[("paid", True)]["roi"] == 3.0
    assert rows[("kol", True)]["revenue"] == 0.0 and rows[("kol", True)]["spend"] == 50.0
    by_event = omniplug.attribute(t, o, spend=spend, group_by=["event_id"])
    assert by_event.column("spend").null_count == by_event.num_rows  # spend has no event_id


def test_bad_input_gives_clear_errors() -> None:
    t = touches([("p", T0 - DAY, "e1", "click", "paid")])
    o = orders([("p", T0, "o1", 1.0, "paid")])
    with pytest.raises(InvalidInputError, match="unknown attribution model 'u_shape'"):
        omniplug.attribute(t, o, model="u_shape")
    with pytest.raises(InvalidInputError, match="finite, non-negative"):
        omniplug.attribute(t, o, lookback_days=-1)
    naive = t.set_column(t.column_names.index("event_time"), "event_time",
                         pa.array([datetime(2026, 9, 30)], pa.timestamp("ms")))
    with pytest.raises(InvalidInputError, match="no time zone"):
        omniplug.attribute(naive, o)
    with pytest.raises(InvalidInputError, match="weights="):
        omniplug.attribute(t, o, model="weighted")
    with pytest.raises(InvalidInputError, match="lacks columns"):
        omniplug.attribute(t.drop_columns(["event_type"]), o)


# -- against a plain-Python reference ------------------------------------------------------------


def reference(t: pa.Table, o: pa.Table, lookback: float) -> dict[str, dict[str, list[float]]]:
    """Rule-based models, written independently of the Rust engine."""
    by_person = defaultdict(list)
    for row in t.to_pylist():
        by_person[row["id_value"]].append(row)
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    for order in o.to_pylist():
        if order["status"] != "paid":
            continue
        eligible = sorted((x for x in by_person[order["id_value"]]
                           if order["order_time"] - timedelta(days=lookback) <= x["event_time"] <= order["order_time"]),
                          key=lambda x: (x["event_time"], x["event_id"]))
        n = len(eligible)
        if n == 0:
            for model in ("last_touch", "first_touch", "linear", "time_decay", "position_based"):
                out[model]["<unattributed>"][0] += 1
                out[model]["<unattributed>"][1] += order["amount"]
            continue
        decay = [2 ** (-(order["order_time"] - x["event_time"]).total_seconds() / (7 * 86400)) for x in eligible]
        if n == 1:
            position = [1.0]
        elif n == 2:
            position = [0.5, 0.5]
        else:
            position = [0.4] + [0.2 / (n - 2)] * (n - 2) + [0.4]
        shares = {
            "last_touch": [0.0] * (n - 1) + [1.0], "first_touch": [1.0] + [0.0] * (n - 1),
            "linear": [1 / n] * n, "time_decay": [d / sum(decay) for d in decay], "position_based": position,
        }
        for model, weights in shares.items():
            for x, w in zip(eligible, weights, strict=True):
                out[model][x["channel"]][0] += w
                out[model][x["channel"]][1] += w * order["amount"]
    return out


person = st.sampled_from(["a", "b", "c", "d"])
moment = st.integers(-40 * 24, 5 * 24).map(lambda h: T0 + timedelta(hours=h))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(person, moment, st.sampled_from(["paid", "kol", "search"])), max_size=25),
    st.lists(st.tuples(person, moment, st.integers(0, 500), st.sampled_from(["paid", "paid", "refunded"])),
             max_size=10),
    st.sampled_from([1, 7, 30]),
)
def test_rule_based_models_equal_the_reference_and_conserve_orders(
    touch_rows: list, order_rows: list, lookback: int
) -> None:
    t = touches([(p, at, f"e{i:03d}", "click", ch) for i, (p, at, ch) in enumerate(touch_rows)])
    o = orders([(p, at, f"o{i}", float(amount), status) for i, (p, at, amount, status) in enumerate(order_rows)])
    models = ["last_touch", "first_touch", "linear", "time_decay", "position_based"]
    result = omniplug.attribute(t, o, model=models, lookback_days=lookback, group_by=["channel"])
    want = reference(t, o, lookback)
    paid = [r for r in order_rows if r[3] == "paid"]
    for model in models:
        got = credited(result, model)
        assert {k for k, v in got.items() if v[0] > 1e-12} == {k for k, v in want[model].items() if v[0] > 1e-12}
        for key, (conv, rev) in got.items():
            assert math.isclose(conv, want[model][key][0], abs_tol=1e-9)
            assert math.isclose(rev, want[model][key][1], rel_tol=1e-9, abs_tol=1e-6)
        # Conservation: credited plus unattributed equals the paid orders.
        assert math.isclose(sum(c for c, _ in got.values()), len(paid), abs_tol=1e-9)
        assert math.isclose(sum(r for _, r in got.values()), float(sum(r[2] for r in paid)), abs_tol=1e-6)


def test_results_do_not_depend_on_the_thread_count() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import omniplug, pyarrow as pa\n"
        "from omniplug.world import build_world, WorldConfig\n"
        "w = build_world(WorldConfig(seed=9, persons=400))\n"
        "p = omniplug.stitch(w.tables['identity_links']).persons\n"
        "r = omniplug.attribute(w.tables['touchpoints'], w.tables['orders'], persons=p,"
        " model=['last_touch','linear','time_decay','position_based','markov'], group_by=['platform','channel'])\n"
        "print(r.to_pylist())\n"
    )
    outs = {n: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "OMNIPLUG_NUM_THREADS": n}).stdout for n in ("1", "2")}
    assert outs["1"] == outs["2"] and outs["1"].startswith("[")


# -- AIPL ---------------------------------------------------------------------------------------


def test_aipl_stages_by_hand() -> None:
    as_of = date(2026, 10, 31)
    end = datetime(2026, 10, 31, 12, tzinfo=UTC)
    t = touches([("aware", end - 3 * DAY, "e1", "impression", "paid"),
                 ("interested", end - 3 * DAY, "e2", "add_to_cart", "paid"),
                 ("stale", end - 40 * DAY, "e3", "click", "paid")])
    o = orders([("buyer", end - 100 * DAY, "o1", 10.0, "paid"),
                ("loyal", end - 100 * DAY, "o2", 10.0, "paid"), ("loyal", end - 10 * DAY, "o3", 10.0, "paid"),
                ("refunder", end - DAY, "o4", 10.0, "refunded")])
    keys = {(r["id_type"], r["id_value"]) for r in t.to_pylist()} | {(r["id_type"], r["id_value"]) for r in o.to_pylist()}
    persons = pa.table({"id_type": [k[0] for k in sorted(keys)], "id_value": [k[1] for k in sorted(keys)],
                        "person_id": pa.array(range(1, len(keys) + 1), pa.int64())})
    name = {r["person_id"]: r["id_value"] for r in persons.to_pylist()}
    stages = {name[r["person_id"]]: r["stage"]
              for r in omniplug.aipl(t, o, persons=persons, as_of=as_of).to_pylist()}
    assert stages == {"aware": "A", "interested": "I", "buyer": "P", "loyal": "L"}
    shorter = omniplug.aipl(t, o, persons=persons, as_of=as_of, rules={"purchase_days": 30, "loyalty_days": 30})
    assert {name[r["person_id"]]: r["stage"] for r in shorter.to_pylist()} == {
        "aware": "A", "interested": "I", "loyal": "P"}


def test_attribute_and_aipl_commands(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    import pyarrow.parquet as pq

    t = touches([("p", T0 - DAY, "e1", "click", "paid"), ("q", T0 - DAY, "e2", "impression", "kol")])
    o = orders([("p", T0, "o1", 30.0, "paid")])
    pq.write_table(t, tmp_path / "t.parquet")
    pq.write_table(o, tmp_path / "o.parquet")
    cmd = [sys.executable, "-m", "omniplug.cli"]
    subprocess.run([*cmd, "attribute", "--touchpoints", str(tmp_path / "t.parquet"), "--orders",
                    str(tmp_path / "o.parquet"), "--model", "last_touch", "--model", "linear",
                    "--group-by", "channel", "--lookback-days", "impression=1,default=7", "--out", str(tmp_path)],
                   check=True, capture_output=True)
    table = pq.read_table(tmp_path / "attribution.parquet")
    assert credited(table, "linear") == {"paid": (1.0, 30.0)}
    subprocess.run([*cmd, "aipl", "--touchpoints", str(tmp_path / "t.parquet"), "--orders", str(tmp_path / "o.parquet"),
                    "--as-of", "2026-10-01", "--out", str(tmp_path)], check=True, capture_output=True)
    assert sorted(pq.read_table(tmp_path / "aipl.parquet").column("stage").to_pylist()) == ["A", "P"]
    bad = subprocess.run([*cmd, "attribute", "--touchpoints", str(tmp_path / "t.parquet"), "--orders",
                          str(tmp_path / "o.parquet"), "--model", "u_shape", "--out", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown attribution model 'u_shape'" in bad.stderr

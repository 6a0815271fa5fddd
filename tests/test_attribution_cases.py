"""Attribution per model, hand-computed, plus a plain-Python reference of every model.

Each scenario below lists, for every model of :data:`MODELS`, the credit the
rules of DESIGN §5 give, worked out by hand in the comments. The second half
checks the engine against an independent reference on random data (all
eight models, the Markov chain solved with numpy), conservation of orders
and revenue, bad input, and AIPL stages.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import omniplug
from omniplug.errors import InvalidInputError

T0 = datetime(2026, 10, 1, tzinfo=UTC)
DAY = timedelta(days=1)
MS = timedelta(milliseconds=1)
TS = pa.timestamp("ms", tz="UTC")
#: The eight models of the issue (markov of order 1, simplified shapley).
MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "weighted", "markov", "shapley")
#: Weights of the ``weighted`` model in every test; unlisted types weigh 1.
WEIGHTS = {"impression": 1.0, "click": 2.0, "add_to_cart": 4.0}
UNATTRIBUTED = "<unattributed>"

Credit = dict[Any, tuple[float, float]]


def touches(rows: list[tuple[str, datetime, str, str, str | None]], platform: list[str | None] | None = None
            ) -> pa.Table:
    """rows of (person, time, event_id, event_type, channel)."""
    text = pa.string()
    return pa.table({
        "event_id": pa.array([r[2] for r in rows], text),
        "platform": pa.array(platform if platform is not None else ["tmall"] * len(rows), text),
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


def run(t: pa.Table, o: pa.Table, **kw: Any) -> pa.Table:
    """All eight models in one call."""
    kw.setdefault("group_by", ["channel"])
    return omniplug.attribute(t, o, model=list(MODELS), weights=WEIGHTS, **kw)


def credit(table: pa.Table, model: str, keys: tuple[str, ...] = ("channel",)) -> Credit:
    """{group key: (conversions, revenue)} of one model, zero rows dropped; unattributed under its own key."""
    out: Credit = {}
    for row in table.to_pylist():
        if row["model"] != model or (row["conversions"] == 0 and row["revenue"] == 0):
            continue
        key = tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]
        out[key if row["attributed"] else UNATTRIBUTED] = (row["conversions"], row["revenue"])
    return out


def check(result: pa.Table, expected: dict[str, Credit], keys: tuple[str, ...] = ("channel",)) -> None:
    """Every model's credit equals the hand-computed one (to 1e-9)."""
    assert set(expected) == set(MODELS)
    for model, want in expected.items():
        got = credit(result, model, keys)
        assert set(got) == set(want), (model, got, want)
        for k, (conv, rev) in want.items():
            assert got[k] == (pytest.approx(conv, abs=1e-9), pytest.approx(rev, abs=1e-7)), (model, k, got[k])


def same_for_all(credit_: Credit) -> dict[str, Credit]:
    return {m: credit_ for m in MODELS}


# -- hand-computed cases, per model ----------------------------------------------------------------


def test_lookback_boundary_touches_after_the_order_and_at_its_timestamp() -> None:
    t = touches([
        ("p", T0 - 30 * DAY - MS, "e0", "click", "early"),  # 1 ms before the window: never counts
        ("p", T0 - 30 * DAY, "e1", "impression", "edge"),  # exactly order_time - 30 days: counts
        ("p", T0, "e2", "click", "same"),  # at the order's own timestamp: counts
        ("p", T0 + MS, "e3", "click", "after"),  # after the order: never counts
    ])
    o = orders([("p", T0, "o1", 100.0, "paid")])
    # Eligible path: edge (30 days before), same (0 days before).
    w = 2 ** (-30 / 7)  # time_decay weight of edge; same weighs 2^0 = 1
    check(run(t, o, lookback_days=30), {
        "last_touch": {"same": (1, 100)},
        "first_touch": {"edge": (1, 100)},
        "linear": {"edge": (0.5, 50), "same": (0.5, 50)},
        "time_decay": {"edge": (w / (1 + w), 100 * w / (1 + w)), "same": (1 / (1 + w), 100 / (1 + w))},
        # Two touches split first:last = 0.4:0.4, i.e. 50/50.
        "position_based": {"edge": (0.5, 50), "same": (0.5, 50)},
        # impression 1, click 2: 1/3 and 2/3.
        "weighted": {"edge": (1 / 3, 100 / 3), "same": (2 / 3, 200 / 3)},
        # Paths: converting edge->same; non-converting early->after (e0, e3 serve no order).
        # start->edge->same->conv and start->early->after->null: P = 1/2; without edge or
        # without same P = 0, so both removal effects are 1: an even split.
        "markov": {"edge": (0.5, 50), "same": (0.5, 50)},
        # Two distinct channels: half each.
        "shapley": {"edge": (0.5, 50), "same": (0.5, 50)},
    })


def test_only_touches_after_the_order_leave_it_unattributed_and_one_at_its_timestamp_takes_all() -> None:
    t = touches([("q", T0 + MS, "e1", "click", "after"), ("r", T0, "e2", "click", "at")])
    o = orders([("q", T0, "o1", 40.0, "paid"), ("r", T0, "o2", 60.0, "paid")])
    # q's only touch is 1 ms late: o1 is unattributed (1 order, 40 yuan), never spread.
    # r's only touch is at the order's time: 100 % of o2 in every model (markov: the
    # converting path is just "at", removal effect 1; q's "after" is a null path).
    check(run(t, o), same_for_all({"at": (1, 60), UNATTRIBUTED: (1, 40)}))


def test_zero_lookback_keeps_only_touches_at_the_order_time() -> None:
    t = touches([("p", T0 - MS, "e1", "click", "before"), ("p", T0, "e2", "click", "at")])
    o = orders([("p", T0, "o1", 10.0, "paid")])
    # Window [T0 - 0, T0]: only "at".
    check(run(t, o, lookback_days=0), same_for_all({"at": (1, 10)}))


def test_ties_in_time_are_ordered_by_event_id_not_by_row() -> None:
    # Rows on purpose in the reverse of event_id order: "b" before "a".
    t = touches([
        ("p", T0 - DAY, "b", "click", "B"),
        ("p", T0 - DAY, "a", "impression", "A"),
        ("p", T0 - 2 * DAY, "c", "click", "C"),
    ])
    o = orders([("p", T0, "o1", 100.0, "paid")])
    # Order of the path: C (2 days), then the tie A ("a") before B ("b").
    wc, wab = 2 ** (-2 / 7), 2 ** (-1 / 7)
    total = wc + 2 * wab
    check(run(t, o), {
        "last_touch": {"B": (1, 100)},
        "first_touch": {"C": (1, 100)},
        "linear": {c: (1 / 3, 100 / 3) for c in "ABC"},
        "time_decay": {"C": (wc / total, 100 * wc / total), "A": (wab / total, 100 * wab / total),
                       "B": (wab / total, 100 * wab / total)},
        # 40 % first (C), 40 % last (B), the 20 % middle to A.
        "position_based": {"C": (0.4, 40), "A": (0.2, 20), "B": (0.4, 40)},
        # click 2 + impression 1 + click 2 = 5.
        "weighted": {"C": (0.4, 40), "A": (0.2, 20), "B": (0.4, 40)},
        # One converting path C->A->B: every removal effect 1, even split.
        "markov": {c: (1 / 3, 100 / 3) for c in "ABC"},
        "shapley": {c: (1 / 3, 100 / 3) for c in "ABC"},
    })


def test_two_orders_sharing_touches_each_look_back_on_their_own() -> None:
    t = touches([("p", T0 - 10 * DAY, "t1", "click", "X"), ("p", T0 - 5 * DAY, "t2", "impression", "Y")])
    o = orders([("p", T0 - 7 * DAY, "o1", 50.0, "paid"), ("p", T0, "o2", 100.0, "paid")])
    # o1 (7 days before T0) sees only t1; o2 sees t1 and t2. t1 serves both.
    s = 2 ** (-10 / 7) / (2 ** (-10 / 7) + 2 ** (-5 / 7))  # time_decay share of t1 in o2
    check(run(t, o), {
        "last_touch": {"X": (1, 50), "Y": (1, 100)},
        "first_touch": {"X": (2, 150)},
        # o1: X 1; o2: X 1/2, Y 1/2.
        "linear": {"X": (1.5, 100), "Y": (0.5, 50)},
        "time_decay": {"X": (1 + s, 50 + 100 * s), "Y": (1 - s, 100 * (1 - s))},
        "position_based": {"X": (1.5, 100), "Y": (0.5, 50)},
        # o2: click 2 vs impression 1: X 2/3, Y 1/3.
        "weighted": {"X": (1 + 2 / 3, 50 + 200 / 3), "Y": (1 / 3, 100 / 3)},
        # Paths X->conv and X->Y->conv, no null path. start->X 2; X->conv 1, X->Y 1; Y->conv 1.
        # P = 1. Without X: 0 (RE 1). Without Y: X->Y goes to null, P = 1/2 (RE 1/2).
        # o1: all X; o2: X 1/(1 + 1/2) = 2/3, Y 1/3.
        "markov": {"X": (1 + 2 / 3, 50 + 200 / 3), "Y": (1 / 3, 100 / 3)},
        "shapley": {"X": (1.5, 100), "Y": (0.5, 50)},
    })


def test_zero_revenue_refunded_cancelled_and_touchless() -> None:
    t = touches([("p", T0 - DAY, "e1", "click", "X"), ("s", T0 - DAY, "e2", "click", "Z")])
    o = orders([
        ("p", T0, "o1", 0.0, "paid"),  # zero revenue: a conversion worth 0 yuan
        ("p", T0, "o2", 99.0, "refunded"),  # excluded
        ("p", T0, "o3", 55.0, "cancelled"),  # excluded
        ("s", T0, "o4", 30.0, "refunded"),  # s's only order is refunded: Z gets nothing
        ("q", T0, "o5", 7.0, "paid"),  # q has no touch: unattributed
    ])
    # Paid orders: o1 (0 yuan, path X) and o5 (7 yuan, no path).
    # markov: s's Z serves no paid order, so it is a null path; X keeps removal effect 1.
    check(run(t, o), same_for_all({"X": (1, 0), UNATTRIBUTED: (1, 7)}))


def test_persons_without_touches_and_orders_without_persons() -> None:
    t = touches([("p", T0 - DAY, "e1", "click", "X")])  # p never buys
    o = orders([("q", T0, "o1", 12.5, "paid"), ("r", T0, "o2", 7.5, "paid")])
    # Nobody who bought was touched: both orders unattributed in every model, X gets nothing.
    check(run(t, o), same_for_all({UNATTRIBUTED: (2, 20)}))


def test_null_keys_in_group_by_columns_are_their_own_group() -> None:
    t = touches([("p", T0 - 2 * DAY, "e1", "impression", "kol"), ("p", T0 - DAY, "e2", "click", None)],
                platform=[None, "tmall"])
    o = orders([("p", T0, "o1", 10.0, "paid")])
    a, b = (None, "kol"), ("tmall", None)  # (platform, channel) of e1 and e2
    w1, w2 = 2 ** (-2 / 7), 2 ** (-1 / 7)
    # markov and shapley read the first group-by column, platform: channels None and "tmall".
    expected = {
        "last_touch": {b: (1, 10)},
        "first_touch": {a: (1, 10)},
        "linear": {a: (0.5, 5), b: (0.5, 5)},
        "time_decay": {a: (w1 / (w1 + w2), 10 * w1 / (w1 + w2)), b: (w2 / (w1 + w2), 10 * w2 / (w1 + w2))},
        "position_based": {a: (0.5, 5), b: (0.5, 5)},
        "weighted": {a: (1 / 3, 10 / 3), b: (2 / 3, 20 / 3)},  # impression 1, click 2
        "markov": {a: (0.5, 5), b: (0.5, 5)},  # one converting path None->tmall
        "shapley": {a: (0.5, 5), b: (0.5, 5)},
    }
    result = run(t, o, group_by=["platform", "channel"])
    check(result, expected, keys=("platform", "channel"))
    # The unattributed row (also null keys) stays apart: attributed=false, zero here.
    unattributed = [r for r in result.to_pylist() if not r["attributed"]]
    assert len(unattributed) == len(MODELS) and all(r["conversions"] == 0 for r in unattributed)
    # Spend with a null channel joins the null-channel group, not the unattributed row.
    spend = pa.table({"date": pa.array([date(2026, 9, 30)], pa.date32()), "platform": ["tmall"],
                      "channel": pa.array([None], pa.string()), "spend": [5.0]})
    rows = omniplug.attribute(t, o, spend=spend, model="last_touch", group_by=["platform", "channel"]).to_pylist()
    joined = [r for r in rows if r["attributed"] and r["platform"] == "tmall"]
    assert joined == [{"model": "last_touch", "platform": "tmall", "channel": None, "conversions": 1.0,
                       "revenue": 10.0, "spend": 5.0, "roi": 2.0, "attributed": True}]


def test_markov_removal_effects_by_hand() -> None:
    t = touches([
        ("p1", T0 - 3 * DAY, "e1", "click", "a"), ("p1", T0 - 2 * DAY, "e2", "click", "b"),
        ("p2", T0 - DAY, "e3", "click", "b"),
        ("p3", T0 - DAY, "e4", "click", "a"),  # p3 never buys: a null path
    ])
    o = orders([("p1", T0, "o1", 100.0, "paid"), ("p2", T0, "o2", 50.0, "paid")])
    # Paths: a->b->conv, b->conv, a->null.
    # start->a 2/3, start->b 1/3; a->b 1/2, a->null 1/2; b->conv 1.
    # P = 2/3 * 1/2 + 1/3 = 2/3. Without a: P = 1/3, RE_a = (2/3 - 1/3)/(2/3) = 1/2.
    # Without b: P = 0, RE_b = 1. o1 splits a : b = 1/2 : 1 -> a 1/3, b 2/3; o2 all b.
    s = 2 ** (-3 / 7) / (2 ** (-3 / 7) + 2 ** (-2 / 7))  # time_decay share of a in o1
    check(run(t, o), {
        "last_touch": {"b": (2, 150)},
        "first_touch": {"a": (1, 100), "b": (1, 50)},
        "linear": {"a": (0.5, 50), "b": (1.5, 100)},
        "time_decay": {"a": (s, 100 * s), "b": (2 - s, 100 * (1 - s) + 50)},
        "position_based": {"a": (0.5, 50), "b": (1.5, 100)},
        "weighted": {"a": (0.5, 50), "b": (1.5, 100)},  # all clicks: like linear
        "markov": {"a": (1 / 3, 100 / 3), "b": (5 / 3, 200 / 3 + 50)},
        "shapley": {"a": (0.5, 50), "b": (1.5, 100)},
    })


def test_shapley_splits_over_distinct_channels_then_touches() -> None:
    t = touches([("p", T0 - 3 * DAY, "e1", "click", "a"), ("p", T0 - 2 * DAY, "e2", "click", "a"),
                 ("p", T0 - DAY, "e3", "add_to_cart", "b")])
    o = orders([("p", T0, "o1", 90.0, "paid")])
    w = [2 ** (-3 / 7), 2 ** (-2 / 7), 2 ** (-1 / 7)]
    check(run(t, o), {
        "last_touch": {"b": (1, 90)},
        "first_touch": {"a": (1, 90)},
        "linear": {"a": (2 / 3, 60), "b": (1 / 3, 30)},
        "time_decay": {"a": ((w[0] + w[1]) / sum(w), 90 * (w[0] + w[1]) / sum(w)),
                       "b": (w[2] / sum(w), 90 * w[2] / sum(w))},
        "position_based": {"a": (0.6, 54), "b": (0.4, 36)},  # 0.4 first + 0.2 middle, 0.4 last
        "weighted": {"a": (4 / 8, 45), "b": (4 / 8, 45)},  # click 2 + click 2 vs add_to_cart 4
        "markov": {"a": (0.5, 45), "b": (0.5, 45)},  # a a b collapses to a b: both RE 1
        "shapley": {"a": (0.5, 45), "b": (0.5, 45)},  # two distinct channels
    })


def test_lookback_days_as_a_mapping_from_event_type() -> None:
    t = touches([
        ("p", T0 - DAY - MS, "e1", "impression", "imp_late"),  # impression window 1 day: out
        ("p", T0 - DAY, "e2", "impression", "imp_edge"),  # exactly 1 day: in
        ("p", T0 - 7 * DAY, "e3", "click", "clk_edge"),  # default 7 days: exactly at the edge, in
        ("p", T0 - 7 * DAY - MS, "e4", "add_to_cart", "cart_late"),  # out
    ])
    o = orders([("p", T0, "o1", 60.0, "paid")])
    # Path: clk_edge (7 days), imp_edge (1 day).
    w1, w2 = 2 ** (-7 / 7), 2 ** (-1 / 7)
    check(run(t, o, lookback_days={"impression": 1, "default": 7}), {
        "last_touch": {"imp_edge": (1, 60)},
        "first_touch": {"clk_edge": (1, 60)},
        "linear": {"imp_edge": (0.5, 30), "clk_edge": (0.5, 30)},
        "time_decay": {"clk_edge": (w1 / (w1 + w2), 60 * w1 / (w1 + w2)),
                       "imp_edge": (w2 / (w1 + w2), 60 * w2 / (w1 + w2))},
        "position_based": {"imp_edge": (0.5, 30), "clk_edge": (0.5, 30)},
        "weighted": {"imp_edge": (1 / 3, 20), "clk_edge": (2 / 3, 40)},
        "markov": {"imp_edge": (0.5, 30), "clk_edge": (0.5, 30)},
        "shapley": {"imp_edge": (0.5, 30), "clk_edge": (0.5, 30)},
    })


# -- against a plain-Python reference of all eight models ----------------------------------------


def _window_ms(event_type: str, lookback: dict[str, float]) -> float:
    return lookback.get(event_type, lookback["default"]) * 86_400_000


_NOTHING = ("<nothing>",)  # no channel removed (None is a channel: a null channel value)


def _solve_conversion(transitions: dict[tuple[Any, Any], int], removed: Any = _NOTHING) -> float:
    """Probability of reaching conversion from start in the first-order chain, ``removed`` sent to null."""
    conv, null = ("<conv>",), ("<null>",)
    states = ["<start>", *sorted({s for s, _ in transitions if s != "<start>"} | {
        d for _, d in transitions if d not in (conv, null)}, key=repr)]
    index = {s: i for i, s in enumerate(states)}
    out_total: dict[Any, int] = defaultdict(int)
    for (s, _), n in transitions.items():
        out_total[s] += n
    q = np.zeros((len(states), len(states)))
    r = np.zeros(len(states))
    for (s, d), n in transitions.items():
        if s == removed:
            continue  # the removed channel's state leads to null only
        p = n / out_total[s]
        if d == conv:
            r[index[s]] += p
        elif d != null and d != removed:
            q[index[s], index[d]] += p
    return float(np.linalg.solve(np.eye(len(states)) - q, r)[0])


def _markov_weights(paths: list[tuple[list[Any], bool]]) -> dict[Any, float]:
    """Removal effect of every channel, order 1, repeats collapsed."""
    transitions: dict[tuple[Any, Any], int] = defaultdict(int)
    for channels, converted in paths:
        collapsed = [c for i, c in enumerate(channels) if i == 0 or channels[i - 1] != c]
        prev: Any = "<start>"
        for c in collapsed:
            transitions[(prev, c)] += 1
            prev = c
        transitions[(prev, ("<conv>",) if converted else ("<null>",))] += 1
    full = _solve_conversion(transitions)
    channels = {c for path, _ in paths for c in path}
    return {c: max(0.0, (full - _solve_conversion(transitions, c)) / full) if full > 0 else 0.0 for c in channels}


def _channel_split(path: list[dict], weight: Callable[[Any], float]) -> list[float]:
    """Split over distinct channels by ``weight`` (equally if all zero), then equally within a channel."""
    channels = list(dict.fromkeys(x["channel"] for x in path))
    total = sum(weight(c) for c in channels)
    share = {c: (weight(c) / total if total > 0 else 1 / len(channels)) for c in channels}
    count = defaultdict(int)
    for x in path:
        count[x["channel"]] += 1
    return [share[x["channel"]] / count[x["channel"]] for x in path]


def reference(t_rows: list[dict], o_rows: list[dict], lookback: dict[str, float],
              weights_by_type: dict[str, float]) -> dict[str, Credit]:
    """Credit per model and channel (plus UNATTRIBUTED), written from DESIGN §5 alone."""
    by_person: dict[str, list[dict]] = defaultdict(list)
    for x in t_rows:
        by_person[x["person"]].append(x)
    paid = [o for o in o_rows if o["status"] == "paid"]
    paths: list[tuple[dict, list[dict]]] = []
    used: set[str] = set()
    for o in paid:
        path = sorted((x for x in by_person[o["person"]]
                       if o["time"] - _window_ms(x["event_type"], lookback) <= x["time"] <= o["time"]),
                      key=lambda x: (x["time"], x["event_id"]))
        used |= {x["event_id"] for x in path}
        paths.append((o, path))
    chains = [([x["channel"] for x in path], True) for _, path in paths if path]
    for rows in by_person.values():
        rest = sorted((x for x in rows if x["event_id"] not in used), key=lambda x: (x["time"], x["event_id"]))
        if rest:
            chains.append(([x["channel"] for x in rest], False))
    removal = _markov_weights(chains) if chains else {}

    out: dict[str, dict[Any, list[float]]] = {m: defaultdict(lambda: [0.0, 0.0]) for m in MODELS}
    for o, path in paths:
        n = len(path)
        shares: dict[str, list[float] | None] = {}
        if n:
            decay = [2 ** (-(o["time"] - x["time"]) / (7 * 86_400_000)) for x in path]
            weights = [weights_by_type.get(x["event_type"], 1.0) for x in path]
            shares = {
                "last_touch": [0.0] * (n - 1) + [1.0], "first_touch": [1.0] + [0.0] * (n - 1),
                "linear": [1 / n] * n, "time_decay": [d / sum(decay) for d in decay],
                "position_based": [1.0] if n == 1 else [0.5, 0.5] if n == 2 else [0.4] + [0.2 / (n - 2)] * (n - 2)
                + [0.4],
                # All weights zero: the model says no touch deserves credit: unattributed.
                "weighted": [w / sum(weights) for w in weights] if sum(weights) > 0 else None,
                "markov": _channel_split(path, lambda c: removal[c]),
                "shapley": _channel_split(path, lambda c: 1.0),
            }
        for model in MODELS:
            split = shares.get(model)
            if not split:
                out[model][UNATTRIBUTED][0] += 1
                out[model][UNATTRIBUTED][1] += o["amount"]
                continue
            for x, s in zip(path, split, strict=True):
                out[model][x["channel"]][0] += s
                out[model][x["channel"]][1] += s * o["amount"]
    return {m: {k: (v[0], v[1]) for k, v in credits.items() if v[0] > 1e-12 or v[1] > 1e-9}
            for m, credits in out.items()}


def _tables(touch_rows: list, order_rows: list) -> tuple[list[dict], list[dict], pa.Table, pa.Table]:
    t_rows = [{"person": p, "time": h * 3_600_000, "event_id": f"e{i:03d}", "event_type": kind, "channel": ch}
              for i, (p, h, kind, ch) in enumerate(touch_rows)]
    o_rows = [{"person": p, "time": h * 3_600_000, "order_id": f"o{i}", "amount": float(a), "status": s}
              for i, (p, h, a, s) in enumerate(order_rows)]
    t = touches([(x["person"], T0 + timedelta(milliseconds=x["time"]), x["event_id"], x["event_type"], x["channel"])
                 for x in t_rows])
    o = orders([(x["person"], T0 + timedelta(milliseconds=x["time"]), x["order_id"], x["amount"], x["status"])
                for x in o_rows])
    return t_rows, o_rows, t, o


person = st.sampled_from(["a", "b", "c", "d", "e"])
hour = st.integers(-30 * 24, 3 * 24)
kinds = st.sampled_from(["click", "impression", "add_to_cart", "like", "share"])
channels = st.sampled_from(["paid", "kol", "search", "live", None])
status = st.sampled_from(["paid", "paid", "paid", "refunded", "cancelled"])
touch_list = st.lists(st.tuples(person, hour, kinds, channels), max_size=30)
order_list = st.lists(st.tuples(person, hour, st.integers(0, 500), status), max_size=12)


@settings(max_examples=60, deadline=None)
@given(touch_list, order_list, st.sampled_from([{"default": 30}, {"default": 7}, {"impression": 1, "default": 14},
                                                {"click": 2, "share": 0, "default": 10}]))
def test_every_model_equals_the_plain_python_reference(touch_rows: list, order_rows: list,
                                                       lookback: dict[str, float]) -> None:
    # "like" weighs 0: an order whose eligible touches are all likes is unattributed under weighted.
    weights = {**WEIGHTS, "like": 0.0}
    t_rows, o_rows, t, o = _tables(touch_rows, order_rows)
    result = omniplug.attribute(t, o, model=list(MODELS), weights=weights, lookback_days=lookback,
                                group_by=["channel"])
    want = reference(t_rows, o_rows, lookback, weights)
    for model in MODELS:
        got = credit(result, model)
        assert set(got) == set(want[model]), (model, got, want[model])
        for key, (conv, rev) in want[model].items():
            assert math.isclose(got[key][0], conv, rel_tol=1e-9, abs_tol=1e-9), (model, key, got[key], conv)
            assert math.isclose(got[key][1], rev, rel_tol=1e-9, abs_tol=1e-6), (model, key, got[key], rev)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([f"p{i}" for i in range(12)]), hour, kinds, channels), max_size=80),
       st.lists(st.tuples(st.sampled_from([f"p{i}" for i in range(14)]), hour, st.integers(0, 10_000), status),
                max_size=30))
def test_conservation_of_orders_and_revenue_for_every_model(touch_rows: list, order_rows: list) -> None:
    _, o_rows, t, o = _tables(touch_rows, order_rows)
    every = list(omniplug.attribution.MODELS)  # markov_2/3 and shapley_exact too
    result = omniplug.attribute(t, o, model=every, weights={**WEIGHTS, "like": 0.0}, group_by=["channel"])
    paid = [x for x in o_rows if x["status"] == "paid"]
    for model in every:
        rows = [r for r in result.to_pylist() if r["model"] == model]
        assert all(r["conversions"] >= -1e-12 and r["revenue"] >= -1e-9 for r in rows), model
        assert sum(not r["attributed"] for r in rows) == 1, model
        # Credited conversions plus the unattributed ones equal the paid orders; likewise revenue.
        assert math.isclose(sum(r["conversions"] for r in rows), len(paid), abs_tol=1e-9), model
        assert math.isclose(sum(r["revenue"] for r in rows), sum(x["amount"] for x in paid), rel_tol=1e-12,
                            abs_tol=1e-6), model


# -- bad input ---------------------------------------------------------------------------------------


def _small() -> tuple[pa.Table, pa.Table]:
    return touches([("p", T0 - DAY, "e1", "click", "paid")]), orders([("p", T0, "o1", 1.0, "paid")])


@pytest.mark.parametrize("model", ["u_shape", "Last_Touch", "", {"name": "u_shape"}, ["linear", "nope"], 5])
def test_unknown_model_is_a_clear_error(model: Any) -> None:
    t, o = _small()
    with pytest.raises(InvalidInputError, match="(?i)model"):
        omniplug.attribute(t, o, model=model)


@pytest.mark.parametrize("lookback", [-1, -0.001, {"click": -1}, {"default": -5}, float("nan"), float("inf")])
def test_negative_or_non_finite_lookback_is_a_clear_error(lookback: Any) -> None:
    t, o = _small()
    with pytest.raises(InvalidInputError, match="lookback"):
        omniplug.attribute(t, o, lookback_days=lookback)


def test_touch_and_order_tables_with_mismatched_id_types_are_clear_errors() -> None:
    t, o = _small()
    # id_value of the touches is an integer, of the orders a string.
    numeric = t.set_column(t.column_names.index("id_value"), "id_value", pa.array([1]))
    with pytest.raises(InvalidInputError, match="touchpoints.id_value must be a string"):
        omniplug.attribute(numeric, o)
    with pytest.raises(InvalidInputError, match="orders.id_value must be a string"):
        omniplug.attribute(t, o.set_column(o.column_names.index("id_value"), "id_value", pa.array([1.5])))
    # Identifier types with nothing in common, without persons to join them.
    other = t.set_column(t.column_names.index("id_type"), "id_type", pa.array(["jd_pin"]))
    with pytest.raises(InvalidInputError, match="share no identifier type"):
        omniplug.attribute(other, o)


def test_person_id_columns_of_mismatched_types_are_clear_errors() -> None:
    t, o = _small()
    # person_id an integer on one side and text on the other.
    with pytest.raises(InvalidInputError, match="person_id"):
        omniplug.attribute(t.append_column("person_id", pa.array([1])),
                           o.append_column("person_id", pa.array(["person-1"])))


def test_persons_with_a_text_person_id_is_a_clear_error() -> None:
    t, o = _small()
    persons = pa.table({"id_type": ["tmall_ouid"], "id_value": ["p"], "person_id": ["one"]})
    with pytest.raises(InvalidInputError, match="person_id"):
        omniplug.attribute(t, o, persons=persons)


def test_timestamps_without_time_zone_are_clear_errors() -> None:
    t, o = _small()
    naive = pa.timestamp("ms")
    naive_t = t.set_column(t.column_names.index("event_time"), "event_time", pa.array([datetime(2026, 9, 30)], naive))
    naive_o = o.set_column(o.column_names.index("order_time"), "order_time", pa.array([datetime(2026, 10, 1)], naive))
    for tt, oo, where in ((naive_t, o, "touchpoints.event_time"), (t, naive_o, "orders.order_time"),
                          (naive_t, naive_o, "touchpoints.event_time")):
        with pytest.raises(InvalidInputError, match=f"{where} has no time zone"):
            omniplug.attribute(tt, oo)
        with pytest.raises(InvalidInputError, match="no time zone"):
            omniplug.aipl(tt, oo, as_of=date(2026, 10, 1))
    # A time zone other than UTC is fine: the instant is what counts.
    shanghai = o.set_column(o.column_names.index("order_time"), "order_time",
                            pa.array([T0], pa.timestamp("us", tz="Asia/Shanghai")))
    assert credit(omniplug.attribute(t, shanghai), "last_touch", ("platform", "channel")) == {("tmall", "paid"): (1, 1)}


def test_non_arrow_input_is_a_clear_error() -> None:
    t, o = _small()
    for bad in ([1, 2, 3], "touchpoints.parquet", None):
        with pytest.raises(InvalidInputError, match="Arrow"):
            omniplug.attribute(bad, o)
        with pytest.raises(InvalidInputError, match="Arrow"):
            omniplug.attribute(t, bad)


# -- AIPL ----------------------------------------------------------------------------------------------


AS_OF = date(2026, 10, 31)
#: The last millisecond of 31 October, China time (UTC+8): 15:59:59.999 UTC.
END = datetime(2026, 10, 31, 16, tzinfo=UTC) - MS


def _stages(t: pa.Table, o: pa.Table, as_of: date, **kw: Any) -> dict[str, str]:
    keys = sorted({(r["id_type"], r["id_value"]) for r in t.to_pylist()}
                  | {(r["id_type"], r["id_value"]) for r in o.to_pylist()})
    persons = pa.table({"id_type": [k[0] for k in keys], "id_value": [k[1] for k in keys],
                        "person_id": pa.array(range(1, len(keys) + 1), pa.int64())})
    name = {r["person_id"]: r["id_value"] for r in persons.to_pylist()}
    staged = omniplug.aipl(t, o, as_of=as_of, persons=persons, **kw).to_pylist()
    return {name[r["person_id"]]: r["stage"] for r in staged}


def test_aipl_default_rules_windows_and_highest_stage_by_hand() -> None:
    t = touches([
        ("a_edge", END - 15 * DAY, "e01", "impression", "paid"),  # exactly 15 days: A
        ("gone", END - 15 * DAY - MS, "e02", "impression", "paid"),  # 1 ms too old: nothing
        ("a_search", END - DAY, "e03", "search", "search"),  # passive: A
        ("a_video", END, "e04", "video_view", "kol"),  # at the very end of the day: A
        ("future", END + MS, "e05", "click", "paid"),  # after as_of: ignored
        ("i_click", END - DAY, "e06", "click", "paid"), ("i_click", END - DAY, "e07", "impression", "paid"),
        ("i_edge", END - 15 * DAY, "e08", "note_read", "kol"),  # active, exactly 15 days: I
        ("p_edge", END - DAY, "e09", "add_to_cart", "paid"),  # I, but the purchase below wins
        ("l_share", END - 10 * DAY, "e10", "share", "kol"),  # share at the purchase time: L
        ("p_share_before", END - 11 * DAY, "e11", "share", "kol"),  # share before buying: not loyalty
        ("p_comment", END - 5 * DAY, "e12", "comment", "kol"),  # comment is not a loyalty event
    ])
    o = orders([
        ("p_edge", END - 365 * DAY, "o01", 10.0, "paid"),  # exactly 365 days: P
        ("p_old", END - 365 * DAY - MS, "o02", 10.0, "paid"),  # too old: nothing
        ("l_repeat", END - 300 * DAY, "o03", 10.0, "paid"), ("l_repeat", END - DAY, "o04", 0.0, "paid"),
        ("l_share", END - 10 * DAY, "o05", 10.0, "paid"),
        ("p_share_before", END - 10 * DAY, "o06", 10.0, "paid"),
        ("p_comment", END - 10 * DAY, "o07", 10.0, "paid"),
        ("p_refund", END - 10 * DAY, "o08", 10.0, "paid"), ("p_refund", END - 5 * DAY, "o09", 10.0, "refunded"),
        ("refund_only", END - 5 * DAY, "o10", 10.0, "refunded"), ("refund_only", END - 4 * DAY, "o11", 9.0,
                                                                    "cancelled"),
        ("p_one_recent", END - 400 * DAY, "o12", 10.0, "paid"), ("p_one_recent", END - DAY, "o13", 10.0, "paid"),
        ("future_buyer", END + MS, "o14", 10.0, "paid"),
    ])
    assert _stages(t, o, AS_OF) == {
        "a_edge": "A", "a_search": "A", "a_video": "A", "i_click": "I", "i_edge": "I",
        "p_edge": "P", "l_repeat": "L", "l_share": "L", "p_share_before": "P", "p_comment": "P",
        "p_refund": "P", "p_one_recent": "P",
    }


def test_aipl_flows_between_two_dates_by_hand() -> None:
    # Stage transitions between 15 and 31 October, from two as_of dates.
    t = touches([("x", datetime(2026, 10, 10, tzinfo=UTC), "e1", "impression", "paid"),  # A on the 15th
                 ("x", datetime(2026, 10, 25, tzinfo=UTC), "e2", "click", "paid"),  # I on the 31st
                 ("y", datetime(2026, 10, 12, tzinfo=UTC), "e3", "click", "kol"),  # I, then too old: gone
                 ("z", datetime(2026, 10, 14, tzinfo=UTC), "e4", "favorite", "kol")])  # I, then P, then L
    o = orders([("z", datetime(2026, 10, 20, tzinfo=UTC), "o1", 5.0, "paid"),
                ("z", datetime(2026, 10, 30, tzinfo=UTC), "o2", 5.0, "paid"),
                ("w", datetime(2026, 10, 29, tzinfo=UTC), "o3", 5.0, "paid")])  # new buyer
    before, after = _stages(t, o, date(2026, 10, 15)), _stages(t, o, date(2026, 10, 31))
    assert before == {"x": "A", "y": "I", "z": "I"}
    assert after == {"x": "I", "z": "L", "w": "P"}
    flows = {(before.get(p), after.get(p)) for p in set(before) | set(after)}
    assert flows == {("A", "I"), ("I", None), ("I", "L"), (None, "P")}


def test_aipl_without_persons_says_which_identifier_each_code_is() -> None:
    # The aipl docstring: "plus id_type, id_value when no person resolution was possible".
    t = touches([("p", END - DAY, "e1", "click", "paid")])
    o = orders([("q", END - DAY, "o1", 1.0, "paid")])
    rows = omniplug.aipl(t, o, as_of=AS_OF).to_pylist()
    assert {(r["id_value"], r["stage"]) for r in rows} == {("p", "I"), ("q", "P")}


@pytest.mark.parametrize("status", ["PAID", "shipped", None])
def test_unknown_order_status_is_a_clear_error_naming_the_row(status: str | None) -> None:
    # An unknown status would otherwise silently count as "not paid".
    t, o = _small()
    o = pa.concat_tables([o, o])
    o = o.set_column(o.column_names.index("status"), "status", pa.array(["paid", status], pa.string()))
    with pytest.raises(InvalidInputError, match=r"orders.status of row 1 is .*statuses are \['cancelled', 'paid'"):
        omniplug.attribute(t, o)
    with pytest.raises(InvalidInputError, match=r"status of row 1 is"):
        omniplug.attribute_stream(t, o)

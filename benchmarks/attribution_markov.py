"""Markov attribution engines: omniplug's exact solve, a plain numpy solve, ChannelAttribution.

All three work on the same paths, defined as omniplug defines them (DESIGN
§5 and ``core_rs/src/attribution/markov.rs``) over the ``channel`` column:
each paid order with eligible touches gives the channels of those touches
in (event_time, event_id) order, ending in *conversion*; each person's
touches eligible for no paid order give one path ending in *null*.
Consecutive repeats are collapsed (``a a b`` is ``a b``).

* ``duckdb-paths`` (:func:`build_paths`) extracts those paths with DuckDB
  SQL, independently of omniplug, and writes the distinct ones with their
  conversions, nulls and revenue (the input ChannelAttribution takes);
* ``numpy-markov-K``: transition frequencies of order K (a state is the
  last K channels), the absorbing system ``(I - Q) x = r`` solved densely
  with :func:`numpy.linalg.solve`, and again for every channel with the
  states holding it sent to null; removal effect ``max(0, (P - P_c) / P)``;
  each order split over the distinct channels of its path in proportion to
  their removal effects (equally when all are 0);
* ``omniplug-markov-K``: :func:`omniplug.attribute` with ``markov`` (order
  K), grouped by channel;
* ``omniplug-paths-K``: :func:`omniplug.markov_paths.markov_removal_effects`
  (order K) on exactly the distinct paths ChannelAttribution gets: the
  like-for-like comparison with ChannelAttribution (no touch/order join);
  its credit is the per-path split (``path_conversions``) numpy computes;
* ``ca-markov-K``: ``ChannelAttribution.markov_model`` (Monte-Carlo
  simulation, seed 0, 2 threads) on the distinct paths. Its removal effects
  are estimates, reported next to the exact ones, not asserted equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from attribution_peers import LOOKBACK_DAYS, Job

__all__ = ["MARKOV_ENGINES", "build_paths", "load_markov_input", "exact_markov", "credit_from_paths",
           "compare_credit", "compare_effects", "effects_deviation", "load_path_tables", "CREDIT_SCHEMA"]

_SEP = ">"
#: What every Markov engine writes: credit per channel (plus removal effects in the job counts).
CREDIT_SCHEMA = pa.schema([("channel", pa.string()), ("conversions", pa.float64()), ("revenue", pa.float64())])

_PATHS_SQL = f"""
WITH paid AS (
    SELECT order_id, person_id, order_time, amount::DOUBLE AS amount FROM orders WHERE status = 'paid'),
pairs AS (
    SELECT p.order_id, p.amount, t.event_id, t.event_time, t.channel
    FROM paid p JOIN touchpoints t ON t.person_id = p.person_id
     AND t.event_time >= p.order_time - INTERVAL {LOOKBACK_DAYS} DAY AND t.event_time <= p.order_time),
conv AS (
    SELECT order_id, any_value(amount) AS amount,
           string_agg(channel, '{_SEP}' ORDER BY event_time, event_id) AS path
    FROM (SELECT *, lag(channel) OVER (PARTITION BY order_id ORDER BY event_time, event_id) AS prev FROM pairs)
    WHERE prev IS NULL OR prev <> channel GROUP BY order_id),
rest AS (
    SELECT t.person_id, t.event_id, t.event_time, t.channel
    FROM touchpoints t ANTI JOIN (SELECT DISTINCT event_id FROM pairs) u USING (event_id)),
lost AS (
    SELECT person_id, string_agg(channel, '{_SEP}' ORDER BY event_time, event_id) AS path
    FROM (SELECT *, lag(channel) OVER (PARTITION BY person_id ORDER BY event_time, event_id) AS prev FROM rest)
    WHERE prev IS NULL OR prev <> channel GROUP BY person_id)
SELECT path, sum(conversions)::BIGINT AS total_conversions, sum(nulls)::BIGINT AS total_null,
       sum(revenue) AS total_conversion_value
FROM (SELECT path, 1 AS conversions, 0 AS nulls, amount AS revenue FROM conv
      UNION ALL SELECT path, 0, 1, 0.0 FROM lost)
GROUP BY path ORDER BY path
"""


def load_path_tables(touchpoints: str, orders: str) -> Any:
    """A DuckDB in-memory database holding the columns :func:`build_paths` reads."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")  # interval arithmetic on timestamptz without DST
    con.execute("CREATE TABLE touchpoints AS SELECT person_id, event_id, event_time, channel FROM read_parquet($p)",
                {"p": touchpoints})
    con.execute("CREATE TABLE orders AS SELECT * FROM read_parquet($p)", {"p": orders})
    return con


def build_paths(con: Any, out: str) -> dict[str, Any]:
    """Write the distinct collapsed paths (see the module docstring) of the
    tables in ``con`` (from :func:`load_path_tables`) to ``out``."""
    table = con.sql(_PATHS_SQL).to_arrow_table()
    pq.write_table(table, out)
    conv = np.asarray(table.column("total_conversions"))
    return {"distinct_paths": table.num_rows, "converting_paths": int(conv.sum()),
            "null_paths": int(np.asarray(table.column("total_null")).sum())}


def _split(paths: pa.Table) -> list[list[str]]:
    return [p.split(_SEP) for p in paths.column("path").to_pylist()]


def exact_markov(paths: pa.Table, order: int) -> dict[str, float]:
    """Removal effect of every channel by dense numpy solves (see the module docstring)."""
    seqs = _split(paths)
    conv = np.asarray(paths.column("total_conversions"), dtype=np.int64)
    null = np.asarray(paths.column("total_null"), dtype=np.int64)
    index: dict[tuple[str, ...], int] = {(): 0}
    counts: dict[tuple[int, int], int] = {}
    CONV, NULL = -1, -2  # noqa: N806 - the two absorbing states
    for seq, c, z in zip(seqs, conv, null, strict=True):
        prev = 0
        for i in range(len(seq)):
            state = index.setdefault(tuple(seq[max(0, i + 1 - order):i + 1]), len(index))
            counts[(prev, state)] = counts.get((prev, state), 0) + int(c + z)
            prev = state
        for end, k in ((CONV, c), (NULL, z)):
            if k:
                counts[(prev, end)] = counts.get((prev, end), 0) + int(k)
    n = len(index)
    out_total = np.zeros(n)
    for (a, _), k in counts.items():
        out_total[a] += k
    q = np.zeros((n, n))
    r = np.zeros(n)
    for (a, b), k in counts.items():
        if b == CONV:
            r[a] += k / out_total[a]
        elif b >= 0:
            q[a, b] += k / out_total[a]
    system = np.eye(n) - q
    p = float(np.linalg.solve(system, r)[0])
    states = list(index)
    effects = {}
    for channel in sorted({c for s in seqs for c in s}):
        gone = np.array([channel in s for s in states])
        a, b = system.copy(), r.copy()
        a[gone] = 0.0
        a[gone, gone] = 1.0  # a removed state leads to null at once: x = 0 there
        b[gone] = 0.0
        pc = float(np.linalg.solve(a, b)[0])
        effects[channel] = max(0.0, (p - pc) / p) if p > 0 else 0.0
    return effects


def credit_from_paths(paths: pa.Table, effects: dict[str, float]) -> pa.Table:
    """Conversions and revenue per channel: each converting path split over its
    distinct channels in proportion to ``effects`` (equally when they are all 0)."""
    conv = np.asarray(paths.column("total_conversions"), dtype=np.float64)
    revenue = np.asarray(paths.column("total_conversion_value"), dtype=np.float64)
    credit: dict[str, list[float]] = {c: [0.0, 0.0] for c in effects}
    for seq, c, v in zip(_split(paths), conv, revenue, strict=True):
        if not c:
            continue
        distinct = sorted(set(seq))
        total = sum(effects.get(ch, 0.0) for ch in distinct)
        for ch in distinct:
            share = effects.get(ch, 0.0) / total if total > 0 else 1.0 / len(distinct)
            credit.setdefault(ch, [0.0, 0.0])
            credit[ch][0] += share * c
            credit[ch][1] += share * v
    names = sorted(credit)
    return pa.table({"channel": names, "conversions": [credit[k][0] for k in names],
                     "revenue": [credit[k][1] for k in names]}, schema=CREDIT_SCHEMA)


def load_markov_input(engine: str, paths: dict[str, str]) -> Any:
    """``omniplug-markov``: touchpoints and orders as pyarrow tables; ``duckdb-paths``: a
    DuckDB database of them; ``numpy`` and ``omniplug-paths``: the distinct paths; ``ca``:
    the same as pandas."""
    if engine == "duckdb-paths":
        return load_path_tables(paths["touchpoints"], paths["orders"])
    if engine.startswith("omniplug-paths"):
        import omniplug.markov_paths  # noqa: F401 - imported before anything is timed

        return pq.read_table(paths["paths"]).combine_chunks()
    if engine.startswith("omniplug"):
        return {name: pq.read_table(paths[name]).combine_chunks() for name in ("touchpoints", "orders")}
    table = pq.read_table(paths["paths"])
    if engine.startswith("ca"):
        return table.to_pandas()
    return table


def _order(engine: str) -> int:
    return int(engine.rsplit("-", 1)[1])


def _omniplug(data: dict[str, pa.Table], job: Job) -> None:
    import omniplug

    k = _order(job.engine)
    result = omniplug.attribute(data["touchpoints"], data["orders"], model="markov" if k == 1 else f"markov_{k}",
                                lookback_days=LOOKBACK_DAYS, group_by=["channel"], channel="channel")
    credited = result.filter(result.column("attributed")).select(CREDIT_SCHEMA.names).cast(CREDIT_SCHEMA)
    pq.write_table(credited.sort_by("channel"), job.out)
    job.counts["channels"] = credited.num_rows


def _omniplug_paths(paths: pa.Table, job: Job) -> None:
    from omniplug.markov_paths import markov_removal_effects

    result = markov_removal_effects(paths, order=_order(job.engine), value_column="total_conversion_value",
                                    separator=_SEP)
    credit = pa.table({"channel": result.column("channel"), "conversions": result.column("path_conversions"),
                       "revenue": result.column("path_conversion_value")}, schema=CREDIT_SCHEMA)
    pq.write_table(credit, job.out)
    job.counts["removal_effects"] = dict(zip(result.column("channel").to_pylist(),
                                             result.column("removal_effect").to_pylist(), strict=True))


def _numpy(paths: pa.Table, job: Job) -> None:
    effects = exact_markov(paths, _order(job.engine))
    pq.write_table(credit_from_paths(paths, effects), job.out)
    job.counts["removal_effects"] = effects


def _ca(frame: Any, job: Job) -> None:
    import contextlib
    import io

    import ChannelAttribution  # noqa: N813 - the package's own name

    with contextlib.redirect_stdout(io.StringIO()):  # it prints progress and a banner
        res = ChannelAttribution.markov_model(
            frame, "path", "total_conversions", var_value="total_conversion_value", var_null="total_null",
            order=_order(job.engine), sep=_SEP, ncore=2, seed=0, out_more=True, verbose=False, flg_pro=False)
    result, effects = res["result"], res["removal_effects"]
    table = pa.table({"channel": [str(c) for c in result["channel_name"]],
                      "conversions": np.asarray(result["total_conversions"], dtype=np.float64),
                      "revenue": np.asarray(result["total_conversion_value"], dtype=np.float64)},
                     schema=CREDIT_SCHEMA)
    pq.write_table(table.sort_by("channel"), job.out)
    job.counts["removal_effects"] = {str(c): float(v) for c, v in zip(
        effects["channel_name"], effects["removal_effects_conversion"], strict=True)}


#: Markov engine name -> function(loaded input, job); K is the chain order.
MARKOV_ENGINES: dict[str, Callable[[Any, Job], None]] = {
    "duckdb-paths": lambda con, job: job.counts.update(build_paths(con, job.out)),
    **{f"omniplug-markov-{k}": _omniplug for k in (1, 2, 3)},
    **{f"omniplug-paths-{k}": _omniplug_paths for k in (1, 2, 3)},
    **{f"numpy-markov-{k}": _numpy for k in (1, 2, 3)},
    **{f"ca-markov-{k}": _ca for k in (1, 2, 3)},
}


def compare_credit(a_path: str | Path, b_path: str | Path) -> dict[str, Any]:
    """Largest absolute and relative difference of per-channel conversions and revenue."""
    a, b = pq.read_table(a_path).to_pylist(), pq.read_table(b_path).to_pylist()
    av, bv = {r["channel"]: r for r in a}, {r["channel"]: r for r in b}
    worst_abs, worst_rel = 0.0, 0.0
    for ch in set(av) & set(bv):
        for col in ("conversions", "revenue"):
            x, y = av[ch][col], bv[ch][col]
            worst_abs = max(worst_abs, abs(x - y))
            worst_rel = max(worst_rel, abs(x - y) / max(abs(x), abs(y)) if max(abs(x), abs(y)) else 0.0)
    return {"channels_a": sorted(av), "channels_b": sorted(bv), "max_abs_diff": worst_abs, "max_rel_diff": worst_rel,
            "same_channels": set(av) == set(bv)}


def compare_effects(exact: dict[str, float], other: dict[str, float]) -> dict[str, Any]:
    """Largest absolute difference of two sets of removal effects (both must name the same channels)."""
    return {"same_channels": set(exact) == set(other),
            "max_abs_diff": max((abs(exact[k] - other[k]) for k in set(exact) & set(other)), default=0.0)}


def effects_deviation(exact: dict[str, float], other: dict[str, float]) -> float:
    """Largest difference of removal effects normalised to sum 1 (how far a simulation is from the exact shares)."""
    def norm(d: dict[str, float]) -> dict[str, float]:
        total = sum(d.values())
        return {k: v / total if total else 0.0 for k, v in d.items()}

    e, o = norm(exact), norm(other)
    return max((abs(e.get(k, 0.0) - o.get(k, 0.0)) for k in set(e) | set(o)), default=0.0)


if __name__ == "__main__":
    import sys

    from attribution_workloads import attribution_workload

    w = attribution_workload(sys.argv[1] if len(sys.argv) > 1 else "200k")
    db = load_path_tables(str(w.path("touchpoints")), str(w.path("orders")))
    print(json.dumps(build_paths(db, str(w.folder / "paths.parquet"))))

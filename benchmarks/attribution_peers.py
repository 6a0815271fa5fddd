"""The attribution engines compared by the benchmarks.

Rule-based (the five models at once: last_touch, first_touch, linear,
time_decay with a 7-day half-life, position_based 40/20/40; 30-day
lookback; credit summed by (platform, channel, campaign_id, kol_id,
material_id) and joined with spend), each producing the ``attribution``
table of DESIGN §4/§5 with exactly omniplug's rows:

* ``omniplug``: :func:`omniplug.attribute` (Rust);
* ``duckdb``: one SQL statement (hash join on person, window functions per
  order, ``GROUP BY``, full outer join with spend);
* ``polars``: the same plan as a polars lazy query.

Markov (exact removal effects, orders 1-3), in :mod:`attribution_markov`:
``omniplug-markov-K``, ``numpy-markov-K`` (plain dense solve) and
``ca-markov-K`` (ChannelAttribution's simulation) on the same paths.

Every engine takes its input already in its own in-memory form (loaded
before the timer: pyarrow tables, a DuckDB in-memory database, polars
frames), so the figures compare the attribution work, and memory "beyond
the input" is measured from there (see :mod:`attribution_worker`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from attribution_workloads import GROUP_BY

__all__ = ["RULE_MODELS", "LOOKBACK_DAYS", "HALF_LIFE_DAYS", "Job", "RULE_ENGINES", "load_rule_input",
           "compare_tables", "RESULT_SCHEMA"]

RULE_MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based")
LOOKBACK_DAYS = 30
HALF_LIFE_DAYS = 7.0
_HALF_LIFE_MS = HALF_LIFE_DAYS * 86_400_000
_KEYS = list(GROUP_BY)
#: The ``attribution`` table every rule-based engine writes.
RESULT_SCHEMA = pa.schema([("model", pa.string()), *((k, pa.string()) for k in _KEYS),
                           ("conversions", pa.float64()), ("revenue", pa.float64()), ("spend", pa.float64()),
                           ("roi", pa.float64()), ("attributed", pa.bool_())])


@dataclass
class Job:
    """One timed run.

    Attributes:
        engine: a key of :data:`RULE_ENGINES` or :data:`attribution_markov.MARKOV_ENGINES`.
        out: where the engine writes its result (Parquet).
        counts: filled by the engine (rows, orders, distinct paths...).
    """

    engine: str
    out: str
    counts: dict[str, Any] = field(default_factory=dict)


# -- inputs, in each engine's own form ---------------------------------------------------------------


def load_rule_input(engine: str, paths: dict[str, str]) -> Any:
    """Load ``touchpoints``, ``orders`` and ``spend`` the way ``engine`` holds data."""
    if engine == "duckdb":
        import duckdb

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")  # interval arithmetic on timestamptz without DST
        for name, path in paths.items():
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet($p)", {"p": path})
        return con
    if engine == "polars":
        import polars as pl

        return {name: pl.read_parquet(path) for name, path in paths.items()}
    # One contiguous chunk per column: attribute()'s own combine_chunks is then free.
    return {name: pq.read_table(path).combine_chunks() for name, path in paths.items()}


# -- omniplug ------------------------------------------------------------------------------------------


def _omniplug(data: dict[str, pa.Table], job: Job) -> None:
    import omniplug

    result = omniplug.attribute(data["touchpoints"], data["orders"], spend=data["spend"], model=list(RULE_MODELS),
                                lookback_days=LOOKBACK_DAYS, half_life_days=HALF_LIFE_DAYS, group_by=_KEYS)
    pq.write_table(result.select(RESULT_SCHEMA.names).cast(RESULT_SCHEMA), job.out)
    job.counts["rows"] = result.num_rows


# -- DuckDB ------------------------------------------------------------------------------------------------

_KEY_LIST = ", ".join(_KEYS)
_NULL_SAFE = " AND ".join(f"c.{k} IS NOT DISTINCT FROM s.{k}" for k in _KEYS)
_SHARES = {
    "last_touch": "CASE WHEN pos = n THEN 1.0 ELSE 0.0 END",
    "first_touch": "CASE WHEN pos = 1 THEN 1.0 ELSE 0.0 END",
    "linear": "1.0 / n",
    "time_decay": "dw / sum(dw) OVER (PARTITION BY order_id)",
    # The middle share as omniplug computes it: (1 - first - last) / (n - 2).
    "position_based": "CASE WHEN n = 1 THEN 1.0 WHEN n = 2 THEN 0.5 WHEN pos = 1 OR pos = n THEN 0.4 "
                      "ELSE (1.0 - 0.4 - 0.4) / (n - 2) END",
}
DUCKDB_SQL = f"""
WITH paid AS (
    SELECT order_id, person_id, order_time, amount::DOUBLE AS amount FROM orders WHERE status = 'paid'),
pairs AS (
    SELECT p.order_id, p.amount, t.event_time, t.event_id, epoch_ms(t.event_time) AS t_ms,
           {", ".join(f"t.{k}" for k in _KEYS)}
    FROM paid p JOIN touchpoints t ON t.person_id = p.person_id
     AND t.event_time >= p.order_time - INTERVAL {LOOKBACK_DAYS} DAY AND t.event_time <= p.order_time),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY order_id ORDER BY event_time, event_id) AS pos,
           count(*) OVER (PARTITION BY order_id) AS n,
           pow(2.0, -(max(t_ms) OVER (PARTITION BY order_id) - t_ms) / {_HALF_LIFE_MS!r}) AS dw
    FROM pairs),
shares AS (
    SELECT {_KEY_LIST}, amount, {", ".join(f"{sql} AS {m}" for m, sql in _SHARES.items())} FROM ranked),
summed AS (
    SELECT {_KEY_LIST}, {", ".join(f"sum({m}) AS c_{m}, sum({m} * amount) AS r_{m}" for m in RULE_MODELS)}
    FROM shares GROUP BY ALL),
credit AS (
    {" UNION ALL ".join(f"SELECT '{m}' AS model, {_KEY_LIST}, c_{m} AS conversions, r_{m} AS revenue FROM summed "
                        f"WHERE c_{m} > 0" for m in RULE_MODELS)}),
sp AS (
    SELECT m.model, s.* FROM (SELECT {_KEY_LIST}, sum(spend::DOUBLE) AS spend FROM spend GROUP BY ALL) s
    CROSS JOIN (VALUES {", ".join(f"('{m}')" for m in RULE_MODELS)}) m(model)),
joined AS (
    SELECT coalesce(c.model, s.model) AS model, {", ".join(f"coalesce(c.{k}, s.{k}) AS {k}" for k in _KEYS)},
           coalesce(c.conversions, 0.0) AS conversions, coalesce(c.revenue, 0.0) AS revenue, s.spend,
           CASE WHEN s.spend > 0 THEN coalesce(c.revenue, 0.0) / s.spend END AS roi, true AS attributed
    FROM credit c FULL OUTER JOIN sp s ON c.model = s.model AND {_NULL_SAFE}),
lonely AS (
    SELECT count(*)::DOUBLE AS conversions, coalesce(sum(amount), 0.0) AS revenue
    FROM paid ANTI JOIN (SELECT DISTINCT order_id FROM pairs) USING (order_id))
SELECT * FROM joined
UNION ALL
SELECT m.model, {", ".join(f"NULL AS {k}" for k in _KEYS)}, l.conversions, l.revenue, NULL, NULL, false
FROM lonely l CROSS JOIN (VALUES {", ".join(f"('{m}')" for m in RULE_MODELS)}) m(model)
"""


def _duckdb(con: Any, job: Job) -> None:
    table = con.sql(DUCKDB_SQL).to_arrow_table()
    pq.write_table(table.select(RESULT_SCHEMA.names).cast(RESULT_SCHEMA), job.out)
    job.counts["rows"] = table.num_rows


# -- polars ------------------------------------------------------------------------------------------------


def _polars(data: dict[str, Any], job: Job) -> None:
    import polars as pl

    paid = data["orders"].lazy().filter(pl.col("status") == "paid").select(
        "order_id", "person_id", "order_time", pl.col("amount").cast(pl.Float64))
    touches = data["touchpoints"].lazy().select("person_id", "event_time", "event_id", *_KEYS)
    pairs = (paid.join(touches, on="person_id")
             .filter((pl.col("event_time") >= pl.col("order_time") - pl.duration(days=LOOKBACK_DAYS))
                     & (pl.col("event_time") <= pl.col("order_time")))
             .sort("order_id", "event_time", "event_id")
             .with_columns(t_ms=pl.col("event_time").dt.epoch("ms")))
    per_order = pl.col("order_id")
    ranked = pairs.with_columns(
        pos=pl.int_range(1, pl.len() + 1).over(per_order), n=pl.len().over(per_order),
        dw=pl.lit(2.0).pow(-(pl.col("t_ms").max().over(per_order) - pl.col("t_ms")) / _HALF_LIFE_MS))
    pos, n = pl.col("pos"), pl.col("n")
    shares = ranked.with_columns(
        last_touch=pl.when(pos == n).then(1.0).otherwise(0.0),
        first_touch=pl.when(pos == 1).then(1.0).otherwise(0.0),
        linear=1.0 / n,
        time_decay=pl.col("dw") / pl.col("dw").sum().over(per_order),
        position_based=pl.when(n == 1).then(1.0).when(n == 2).then(0.5)
        .when((pos == 1) | (pos == n)).then(0.4).otherwise((1.0 - 0.4 - 0.4) / (n - 2)))
    summed = shares.group_by(_KEYS).agg(
        *(pl.col(m).sum().alias(f"c_{m}") for m in RULE_MODELS),
        *((pl.col(m) * pl.col("amount")).sum().alias(f"r_{m}") for m in RULE_MODELS))
    credit = pl.concat([summed.filter(pl.col(f"c_{m}") > 0).select(
        pl.lit(m).alias("model"), *_KEYS, pl.col(f"c_{m}").alias("conversions"),
        pl.col(f"r_{m}").alias("revenue")) for m in RULE_MODELS])
    models = pl.LazyFrame({"model": list(RULE_MODELS)})
    sp = (data["spend"].lazy().group_by(_KEYS).agg(pl.col("spend").cast(pl.Float64).sum())
          .join(models, how="cross"))
    joined = credit.join(sp, on=["model", *_KEYS], how="full", nulls_equal=True, coalesce=True).with_columns(
        pl.col("conversions").fill_null(0.0), pl.col("revenue").fill_null(0.0)).with_columns(
        roi=pl.when(pl.col("spend") > 0).then(pl.col("revenue") / pl.col("spend")), attributed=pl.lit(True))
    lonely = paid.join(pairs.select("order_id").unique(), on="order_id", how="anti").select(
        conversions=pl.len().cast(pl.Float64), revenue=pl.col("amount").sum().fill_null(0.0))
    unattributed = lonely.join(models, how="cross").select(
        "model", *(pl.lit(None, pl.String).alias(k) for k in _KEYS), "conversions", "revenue",
        spend=pl.lit(None, pl.Float64), roi=pl.lit(None, pl.Float64), attributed=pl.lit(False))
    out = pl.concat([joined.select(RESULT_SCHEMA.names), unattributed.select(RESULT_SCHEMA.names)]).collect()
    pq.write_table(out.to_arrow().cast(RESULT_SCHEMA), job.out)
    job.counts["rows"] = out.height


#: Rule-based engine name -> function(loaded input, job).
RULE_ENGINES: dict[str, Callable[[Any, Job], None]] = {"omniplug": _omniplug, "duckdb": _duckdb, "polars": _polars}


# -- comparison --------------------------------------------------------------------------------------------


def _keyed(table: pa.Table) -> dict[tuple[Any, ...], tuple[float, float, float | None, float | None]]:
    rows = {}
    cols = [table.column(c).to_pylist() for c in ("model", *_KEYS, "attributed")]
    values = [table.column(c).to_numpy(zero_copy_only=False) for c in ("conversions", "revenue", "spend", "roi")]
    for i, key in enumerate(zip(*cols, strict=True)):
        rows[key] = tuple(None if v[i] is None or v[i] != v[i] else float(v[i]) for v in values)
    return rows


def compare_tables(a_path: str | Path, b_path: str | Path, *, rel: float = 1e-9) -> dict[str, Any]:
    """Row-by-row comparison of two ``attribution`` results.

    Rows are matched on (model, key columns, attributed); every number must
    agree within ``rel`` relative (1e-9 absolute near zero for conversions,
    1e-6 yuan for money, which sums differently ordered additions). Returns
    counts, the largest relative differences and ``equal``.
    """
    a, b = _keyed(pq.read_table(a_path)), _keyed(pq.read_table(b_path))
    only_a, only_b = sorted(set(a) - set(b), key=str), sorted(set(b) - set(a), key=str)
    worst = {"conversions": 0.0, "revenue": 0.0, "spend": 0.0, "roi": 0.0}
    bad = []
    for key in set(a) & set(b):
        for i, name in enumerate(worst):
            x, y = a[key][i], b[key][i]
            if x is None or y is None:
                if (x is None) != (y is None):
                    bad.append((key, name, x, y))
                continue
            scale = max(abs(x), abs(y))
            diff = abs(x - y) / scale if scale else 0.0
            worst[name] = max(worst[name], diff)
            floor = 1e-9 if name == "conversions" else 1e-6
            if abs(x - y) > max(rel * scale, floor):
                bad.append((key, name, x, y))
    totals = {m: float(np.sum([v[0] for k, v in a.items() if k[0] == m])) for m in {k[0] for k in a}}
    return {"rows_a": len(a), "rows_b": len(b), "only_a": [str(k) for k in only_a[:5]], "n_only_a": len(only_a),
            "only_b": [str(k) for k in only_b[:5]], "n_only_b": len(only_b), "mismatches": len(bad),
            "mismatch_examples": [str(x) for x in bad[:5]], "max_rel_diff": worst, "conversions_by_model": totals,
            "equal": not only_a and not only_b and not bad}


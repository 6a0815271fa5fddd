"""AIPL flows: how many persons moved from one stage to another between two dates.

A brand counts its consumer assets by AIPL stage (:func:`omniplug.aipl`);
what it steers by is the *movement*: how many Aware persons became
Interested this week, how many buyers became loyal, how many fell out of
every stage. :func:`stage_flows` compares two stage tables (e.g. yesterday's
and today's ``aipl.parquet``); :func:`aipl_flows` computes the stages for a
series of dates from one set of touchpoints and orders and compares each date
with the next.

A person with no stage on a date (never seen, or every contact too old) is
counted with a null stage on that side: ``(null, "P")`` are new buyers,
``("I", null)`` interested persons who went quiet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.errors import InvalidInputError
from omniplug.schema import OUTPUT_TABLES

__all__ = ["FLOWS_SCHEMA", "STAGES", "aipl_flows", "stage_flows"]

#: The stages from lowest to highest (the order flows are listed in; null first).
STAGES = ("A", "I", "P", "L")

#: Columns of a flows table: one row per (from_stage, to_stage) pair that occurs.
FLOWS_SCHEMA = OUTPUT_TABLES["aipl_flows"]

_RANK = {None: 0, **{s: i + 1 for i, s in enumerate(STAGES)}}


def _keys(table: pa.Table, what: str) -> list[str]:
    """The columns naming a person: ``id_type, id_value`` when present, else ``person_id``.

    :func:`omniplug.aipl` without ``persons`` numbers identifiers itself, per
    call; the identifier columns then say who each code is, and the codes of
    two calls need not agree.
    """
    missing = [c for c in ("person_id", "stage") if c not in table.column_names]
    if missing:
        raise InvalidInputError(f"{what} stages lack columns {missing}; pass the output of omniplug.aipl()")
    if {"id_type", "id_value"} <= set(table.column_names):
        return ["id_type", "id_value"]
    return ["person_id"]


def _as_of(table: pa.Table, what: str) -> date | None:
    if "as_of" not in table.column_names or table.num_rows == 0:
        return None
    days = pc.unique(table.column("as_of")).to_pylist()
    if len(days) != 1:
        raise InvalidInputError(f"{what} stages hold {len(days)} as_of dates; pass one date's stages per side")
    return days[0]


def stage_flows(before: Any, after: Any) -> pa.Table:
    """Count persons by (stage before, stage after) between two AIPL stage tables.

    Args:
        before: the earlier output of :func:`omniplug.aipl` (``person_id,
            stage, as_of``; any Arrow table).
        after: the later one, computed with the same person resolution.

    Returns:
        A :data:`FLOWS_SCHEMA` table: one row per stage pair that occurs,
        persons staying in their stage included, ordered by from_stage then
        to_stage (null, A, I, P, L). ``from_date``/``to_date`` are the tables'
        ``as_of`` (null if a table is empty).

    Raises:
        InvalidInputError: a table without ``person_id``/``stage``, a person
            listed twice on one side, or one side holding several dates.
    """
    tables = []
    for data, what in ((before, "before"), (after, "after")):
        try:
            table = data if isinstance(data, pa.Table) else pa.table(data)
        except (TypeError, ValueError, pa.ArrowInvalid) as exc:
            raise InvalidInputError(f"{what} stages must be an Arrow table: {exc}") from None
        tables.append(table)
    keys_before, keys_after = _keys(tables[0], "before"), _keys(tables[1], "after")
    if keys_before != keys_after:
        raise InvalidInputError(
            f"the two stage tables name persons differently ({keys_before} vs {keys_after}); "
            "compute both with the same persons table"
        )
    sides = []
    for table, what in zip(tables, ("before", "after"), strict=True):
        side = table.select([*keys_before, "stage"])
        if side.group_by(keys_before).aggregate([]).num_rows != side.num_rows:
            raise InvalidInputError(f"{what} stages list a person more than once; pass one date's stages per side")
        sides.append(side)
    joined = sides[0].rename_columns([*keys_before, "from_stage"]).join(
        sides[1].rename_columns([*keys_before, "to_stage"]), keys=keys_before, join_type="full outer")
    counts = joined.group_by(["from_stage", "to_stage"], use_threads=False).aggregate([([], "count_all")])
    rows = sorted(counts.to_pylist(), key=lambda r: (_RANK[r["from_stage"]], _RANK[r["to_stage"]]))
    from_day, to_day = _as_of(tables[0], "before"), _as_of(tables[1], "after")
    return pa.table({
        "from_date": [from_day] * len(rows),
        "to_date": [to_day] * len(rows),
        "from_stage": [r["from_stage"] for r in rows],
        "to_stage": [r["to_stage"] for r in rows],
        "persons": [r["count_all"] for r in rows],
    }, schema=FLOWS_SCHEMA)


def aipl_flows(
    touchpoints: Any,
    orders: Any,
    *,
    dates: Sequence[date | datetime],
    persons: Any = None,
    rules: Mapping[str, Any] | None = None,
) -> pa.Table:
    """AIPL stages on each of ``dates`` and the flows from each date to the next.

    Args:
        touchpoints, orders, persons, rules: as for :func:`omniplug.aipl`.
        dates: two or more dates (China time), ascending, e.g. the last two
            Mondays for a weekly funnel review.

    Returns:
        The :func:`stage_flows` of every consecutive pair of dates, one after
        the other (``from_date``/``to_date`` say which pair a row belongs to).

    Raises:
        InvalidInputError: fewer than two dates, or dates not strictly ascending;
            any error of :func:`omniplug.aipl`.
    """
    from omniplug.attribution import aipl

    days = [d.date() if isinstance(d, datetime) else d for d in dates]
    if len(days) < 2:
        raise InvalidInputError(f"aipl_flows needs at least two dates to compare, got {len(days)}")
    if any(b <= a for a, b in zip(days, days[1:], strict=False)):
        raise InvalidInputError(f"aipl_flows dates must be strictly ascending, got {[d.isoformat() for d in days]}")
    stages = [aipl(touchpoints, orders, persons=persons, as_of=d, rules=rules) for d in days]
    flows = [stage_flows(a, b) for a, b in zip(stages, stages[1:], strict=False)]
    # An empty side has no as_of of its own: the requested dates say which pair it is.
    fixed = [f.set_column(0, "from_date", pa.array([a] * f.num_rows, pa.date32()))
              .set_column(1, "to_date", pa.array([b] * f.num_rows, pa.date32()))
             for f, a, b in zip(flows, days, days[1:], strict=False)]
    return pa.concat_tables(fixed)

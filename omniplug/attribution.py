"""The effect connection: multi-touch attribution, ROI and AIPL stages.

:func:`attribute` credits each paid order to the touches that preceded it,
under any number of models at once, in the Rust core (one parallel sweep per
person, bit-identical at any thread count), sums credited conversions and
revenue by the requested touchpoint columns, and joins spend for ROI.
:func:`aipl` puts every person in an AIPL stage as of a date.

The rules (DESIGN §5): a touch counts for an order of the same person when
``order_time - lookback <= event_time <= order_time``; touches are ordered by
``(event_time, event_id)``; each order looks back on its own; refunded and
cancelled orders are excluded; a paid order without an eligible touch is
reported unattributed (one ``attributed = false`` row per model), never spread.

Who is "the same person": a ``person_id`` column on both tables when
present, else ``persons`` (the output of :func:`omniplug.stitch`) joined on
``(id_type, id_value)``, else ``(id_type, id_value)`` itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from omniplug import _core
from omniplug.errors import InvalidInputError
from omniplug.fields import CHINA_TZ
from omniplug.schema import ORDER_STATUSES

__all__ = ["MODELS", "INDUSTRY_PRESETS", "attribute", "aipl"]

#: Model names :func:`attribute` accepts (``markov_2``/``markov_3`` for higher orders).
MODELS = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "weighted",
          "markov", "markov_2", "markov_3", "shapley", "shapley_exact")
#: Presets of the ``weighted`` model: starting points by industry, not platform truths.
INDUSTRY_PRESETS = ("beauty", "apparel", "3c", "fmcg")

_SEP = "\x1f"  # joins id_type and id_value into one key; cannot occur in either
_NULL_KEY = "\x00null"  # stands for a null group key while joining spend


def _table(data: Any, what: str) -> pa.Table:
    try:
        table = data if isinstance(data, pa.Table) else pa.table(data)
    except (TypeError, ValueError) as exc:  # ArrowInvalid is a ValueError
        raise InvalidInputError(f"{what} must be an Arrow table (pyarrow, polars, DuckDB): {exc}") from None
    if not any(pa.types.is_string_view(t) or pa.types.is_large_string(t) for t in table.schema.types):
        return table
    # polars exports text as string views (and large strings); the engine reads plain utf8.
    return pa.Table.from_arrays(
        [c.cast(pa.string()) if pa.types.is_string_view(c.type) or pa.types.is_large_string(c.type) else c
         for c in table.columns], names=table.column_names)


def _require(table: pa.Table, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInputError(f"{what} lacks columns {missing} (has {table.column_names})")


def _check_time(table: pa.Table, column: str, what: str) -> pa.Array:
    arr = table.column(column)
    if not pa.types.is_timestamp(arr.type):
        raise InvalidInputError(f"{what}.{column} must be a timestamp, got {arr.type}")
    if arr.type.tz is None:
        raise InvalidInputError(
            f"{what}.{column} has no time zone; canonical tables hold UTC (timestamp[ms, tz=UTC]) — "
            f"convert China wall time with omniplug.fields.china_times_to_utc_array"
        )
    return arr.cast(pa.timestamp("ms", tz="UTC"))


def _id_keys(table: pa.Table, what: str) -> pa.ChunkedArray:
    _require(table, ("id_type", "id_value"), what)
    columns = []
    for col in ("id_type", "id_value"):
        kind = table.column(col).type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
            raise InvalidInputError(f"{what}.{col} must be a string column, got {kind}")
        columns.append(table.column(col).cast(pa.string()))
    return pc.binary_join_element_wise(*columns, _SEP)


def _person_ids(column: pa.ChunkedArray | pa.Array, what: str) -> pa.ChunkedArray | pa.Array:
    """A ``person_id`` column as int64; text ids are an error, never parsed ("1" would join person 1)."""
    if not (pa.types.is_integer(column.type) or pa.types.is_null(column.type)):
        raise InvalidInputError(
            f"{what}.person_id must be an integer column (int64, as omniplug.stitch writes it), got {column.type}")
    try:
        return column.cast(pa.int64())
    except pa.ArrowInvalid as exc:  # uint64 beyond int64
        raise InvalidInputError(f"{what}.person_id does not fit int64: {exc}") from None


def _check_status(column: pa.ChunkedArray | pa.Array, what: str, offset: int = 0) -> None:
    """Order statuses must be canonical: an unknown one (``"PAID"``) would silently count as not paid."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
            or pa.types.is_string_view(column.type) or pa.types.is_dictionary(column.type)):
        raise InvalidInputError(f"{what}.status must be a string column, got {column.type}")
    known = pa.array(sorted(ORDER_STATUSES), pa.string())
    bad = pc.invert(pc.fill_null(pc.is_in(column.cast(pa.string()), value_set=known), False))
    if pc.any(bad).as_py():
        row = pc.index(bad, True).as_py()
        raise InvalidInputError(
            f"{what}.status of row {offset + row} is {column[row].as_py()!r}; statuses are {sorted(ORDER_STATUSES)} "
            f"(map the platform's own status at normalise time; rows that cannot be mapped belong in rejects)")


def _resolve_persons(touches: pa.Table, orders: pa.Table, persons: Any) -> tuple[pa.Array, pa.Array]:
    """int64 person of every touch and every order (see the module docstring)."""
    if "person_id" in touches.column_names and "person_id" in orders.column_names and persons is None:
        return (_person_ids(touches.column("person_id"), "touchpoints").combine_chunks(),
                _person_ids(orders.column("person_id"), "orders").combine_chunks())
    t_keys, o_keys = _id_keys(touches, "touchpoints"), _id_keys(orders, "orders")
    if persons is None:
        t_types = set(pc.unique(touches.column("id_type")).to_pylist())
        o_types = set(pc.unique(orders.column("id_type")).to_pylist())
        if touches.num_rows and orders.num_rows and not t_types & o_types:
            raise InvalidInputError(
                f"touchpoints and orders share no identifier type (touchpoints: {sorted(t_types)}, "
                f"orders: {sorted(o_types)}); pass persons=omniplug.stitch(identity_links).persons to join them"
            )
        codes = pa.chunked_array(t_keys.chunks + o_keys.chunks, pa.string()).dictionary_encode().combine_chunks()
        ids = codes.indices.cast(pa.int64())
        return ids.slice(0, touches.num_rows), ids.slice(touches.num_rows)
    people = _table(persons, "persons")
    _require(people, ("id_type", "id_value", "person_id"), "persons")
    lookup = pa.table({"k": _id_keys(people, "persons"), "p": _person_ids(people.column("person_id"), "persons")})
    # Identifiers no person holds (blocked, hubs, never linked) stand alone:
    # ids below every real person id, one per distinct identifier.
    floor = (pc.min(lookup.column("p")).as_py() or 0) - 1

    # Touches and orders are resolved together: a stand-alone identifier must
    # get the same id in both tables, and two different ones never the same.
    keys = pa.chunked_array(t_keys.chunks + o_keys.chunks, pa.string())
    joined = pa.table({"k": keys, "i": pa.array(range(len(keys)), pa.int64())}).join(
        lookup, "k", join_type="left outer").sort_by("i")
    found = joined.column("p").combine_chunks()
    if found.null_count:
        alone = pc.dictionary_encode(joined.column("k")).combine_chunks().indices.cast(pa.int64())
        found = pc.if_else(pc.is_null(found), pc.subtract(floor, alone), found)
    return found.slice(0, touches.num_rows), found.slice(touches.num_rows)


def _single_batch(table: pa.Table) -> pa.Table:
    combined = table.combine_chunks()
    if combined.num_rows == 0:
        return pa.Table.from_batches([pa.RecordBatch.from_pylist([], schema=combined.schema)])
    return pa.Table.from_batches(combined.to_batches(max_chunksize=combined.num_rows))


def _model_spec(model: Any, *, half_life_days: float, position: tuple[float, float],
                weights: str | Mapping[str, float] | None) -> dict[str, Any]:
    if isinstance(model, Mapping):
        return dict(model)
    if not isinstance(model, str) or model not in MODELS:
        raise InvalidInputError(f"unknown attribution model {model!r}; known models: {', '.join(MODELS)}")
    if model.startswith("markov"):
        return {"name": "markov", "order": int(model.split("_")[1]) if "_" in model else 1}
    spec: dict[str, Any] = {"name": model}
    if model == "time_decay":
        spec["half_life_days"] = half_life_days
    elif model == "position_based":
        spec["first"], spec["last"] = position
    elif model == "weighted":
        if weights is None:
            raise InvalidInputError(
                f"the weighted model needs weights=: an industry preset ({', '.join(INDUSTRY_PRESETS)}) "
                f"or a mapping from event type to weight")
        if isinstance(weights, str):
            spec["preset"] = weights
        else:
            spec["weights"] = dict(weights)
    return spec


def _specs(model: Any, *, half_life_days: float, position: tuple[float, float],
           weights: str | Mapping[str, float] | None) -> list[dict[str, Any]]:
    """The core's model specs for ``model`` (one name or spec, or a list of them)."""
    models = [model] if isinstance(model, (str, Mapping)) else model
    if not isinstance(models, (list, tuple)) or not models:
        raise InvalidInputError(
            f"model must be a model name, a spec dict or a non-empty list of them, got {model!r}; "
            f"known models: {', '.join(MODELS)}")
    return [_model_spec(m, half_life_days=half_life_days, position=position, weights=weights) for m in models]


def _lookback(lookback_days: float | Mapping[str, float]) -> dict[str, Any]:
    """The core's lookback settings; days must be finite and not negative."""
    if isinstance(lookback_days, Mapping):
        by_type = {k: v for k, v in lookback_days.items() if k != "default"}
        settings = {"lookback_days": lookback_days.get("default", 30), "lookback_by_event_type": by_type}
    else:
        settings = {"lookback_days": lookback_days}
    days = [settings["lookback_days"], *settings.get("lookback_by_event_type", {}).values()]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
               for v in days):
        raise InvalidInputError(
            f"lookback_days must be a finite, non-negative number of days (or a mapping of them), "
            f"got {lookback_days!r}")
    return settings


def attribute(
    touchpoints: Any,
    orders: Any,
    *,
    persons: Any = None,
    spend: Any = None,
    model: str | Mapping[str, Any] | Sequence[str | Mapping[str, Any]] = "last_touch",
    lookback_days: float | Mapping[str, float] = 30,
    group_by: Sequence[str] = ("platform", "channel"),
    channel: str | None = None,
    half_life_days: float = 7.0,
    position: tuple[float, float] = (0.4, 0.4),
    weights: str | Mapping[str, float] | None = None,
) -> pa.Table:
    """Credit paid orders to touches and sum by ``group_by``, with spend and ROI.

    Args:
        touchpoints: canonical ``touchpoints`` (any Arrow producer).
        orders: canonical ``orders``.
        persons: ``persons`` from :func:`omniplug.stitch`, to join touches and
            orders across identifiers (optional; see the module docstring).
        spend: canonical ``spend``; joined on the group-by columns it has.
        model: one model name or several (all computed in one pass):
            ``last_touch, first_touch, linear, time_decay, position_based,
            weighted, markov, markov_2, markov_3, shapley, shapley_exact``,
            or a dict such as ``{"name": "time_decay", "half_life_days": 3}``.
        lookback_days: days a touch counts before an order; or a mapping
            from event type to days (key ``"default"`` for the rest), e.g.
            ``{"impression": 1, "default": 30}``.
        group_by: touchpoint columns to aggregate by (any, ``event_id`` included).
        channel: the column whose values are the channels of ``markov`` and
            ``shapley`` (default: the first group-by column).
        half_life_days: of ``time_decay``.
        position: first and last shares of ``position_based``.
        weights: of ``weighted``: an industry preset name or ``{event_type: weight}``.

    Returns:
        A table: ``model``, the group-by columns, ``conversions``, ``revenue``,
        ``spend`` (null where spend cannot be joined), ``roi`` (revenue / spend)
        and ``attributed``. Per model, one row with ``attributed = false``
        carries the unattributed orders and revenue; spend rows with no credit
        appear with zero conversions and revenue.

    Raises:
        InvalidInputError: unknown model, negative lookback, missing columns,
            timestamps without time zone, touchpoints and orders sharing no
            identifier type without ``persons``.
    """
    touches, order_table = _table(touchpoints, "touchpoints"), _table(orders, "orders")
    group_by = list(group_by)
    if not group_by:
        raise InvalidInputError("group_by needs at least one touchpoint column")
    _require(touches, ["event_time", "event_id", "event_type", *group_by, *([channel] if channel else [])],
             "touchpoints")
    _require(order_table, ["order_id", "order_time", "amount", "status"], "orders")
    specs = _specs(model, half_life_days=half_life_days, position=position, weights=weights)
    lookback = _lookback(lookback_days)
    _check_status(order_table.column("status"), "orders")
    t_person, o_person = _resolve_persons(touches, order_table, persons)
    key_columns = list(dict.fromkeys([*group_by, *([channel] if channel else [])]))
    t_in = pa.table({
        "person": t_person, "event_time": _check_time(touches, "event_time", "touchpoints"),
        "event_id": touches.column("event_id").cast(pa.string()), "event_type": touches.column("event_type"),
        **{c: touches.column(c).cast(pa.string()) for c in key_columns},
    })
    o_in = pa.table({
        "person": o_person, "order_time": _check_time(order_table, "order_time", "orders"),
        "order_id": order_table.column("order_id").cast(pa.string()),
        "amount": order_table.column("amount"), "status": order_table.column("status"),
    })
    result = _core.attribute_tables(_single_batch(t_in), _single_batch(o_in), group_by, channel,
                                    json.dumps({"models": specs, **lookback}))
    return _join_spend(result, spend, group_by)


def _fill(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    for c in columns:
        i = table.column_names.index(c)
        table = table.set_column(i, c, pc.fill_null(table.column(c).cast(pa.string()), _NULL_KEY))
    return table


def _unfill(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    for c in columns:
        i = table.column_names.index(c)
        col = table.column(c)
        table = table.set_column(i, c, pc.if_else(pc.equal(col, _NULL_KEY), pa.scalar(None, pa.string()), col))
    return table


def _output_schema(group_by: Sequence[str]) -> pa.Schema:
    return pa.schema([("model", pa.string()), *((c, pa.string()) for c in group_by), ("conversions", pa.float64()),
                      ("revenue", pa.float64()), ("spend", pa.float64()), ("roi", pa.float64()),
                      ("attributed", pa.bool_())])


def _join_spend(result: pa.Table, spend: Any, group_by: list[str]) -> pa.Table:
    nulls = pa.nulls(result.num_rows, pa.float64())
    spend_table = None if spend is None else _table(spend, "spend")
    if spend_table is None or not set(group_by) <= set(spend_table.column_names):
        # No spend, or grouped by something spend does not have (event_type, event_id...).
        schema = _output_schema(group_by)
        return result.append_column("spend", nulls).append_column("roi", nulls).select(schema.names).cast(schema)
    money = spend_table.select([*group_by, "spend"])
    money = money.set_column(len(group_by), "spend", money.column("spend").cast(pa.float64()))
    # One thread: a threaded hash aggregation adds in a varying order, and the
    # spend sums would then differ in the last bits from run to run.
    totals = _fill(money, group_by).group_by(group_by, use_threads=False).aggregate(
        [("spend", "sum")]).rename_columns([*group_by, "spend"])
    attributed = _fill(result.filter(result.column("attributed")), group_by)
    unattributed = result.filter(pc.invert(result.column("attributed")))
    pieces = []
    for name in pc.unique(result.column("model")).to_pylist():
        rows = attributed.filter(pc.equal(attributed.column("model"), name))
        joined = rows.join(totals, group_by, join_type="full outer")
        joined = joined.set_column(joined.column_names.index("model"), "model",
                                   pc.fill_null(joined.column("model"), name))
        for col in ("conversions", "revenue"):
            joined = joined.set_column(joined.column_names.index(col), col, pc.fill_null(joined.column(col), 0.0))
        joined = joined.set_column(joined.column_names.index("attributed"), "attributed",
                                   pc.fill_null(joined.column("attributed"), True))
        pieces.append(joined)
    credited = _unfill(pa.concat_tables(pieces), group_by) if pieces else attributed
    spend_col = credited.column("spend")
    roi = pc.if_else(pc.greater(spend_col, 0), pc.divide(credited.column("revenue"), spend_col),
                     pa.scalar(None, pa.float64()))
    credited = credited.append_column("roi", roi)
    unattributed = unattributed.append_column("spend", pa.nulls(unattributed.num_rows, pa.float64())) \
        .append_column("roi", pa.nulls(unattributed.num_rows, pa.float64()))
    schema = _output_schema(group_by)
    out = pa.concat_tables([credited.select(schema.names).cast(schema), unattributed.select(schema.names).cast(schema)])
    return out.sort_by([("model", "ascending"), ("attributed", "descending"),
                        *((c, "ascending") for c in group_by)])


def aipl(
    touchpoints: Any,
    orders: Any,
    *,
    as_of: date | datetime,
    persons: Any = None,
    rules: Mapping[str, Any] | None = None,
) -> pa.Table:
    """AIPL stage of every person as of a date (the end of that day, China time).

    Default rules (after the publicly described Brand DataBank / Quick Audience
    ones; change any with ``rules``): A = a passive contact (``impression``,
    category ``search``, ``video_view``) within 15 days; I = an active contact
    (click, product_view, follow, favorite, add_to_cart, comment, share, like,
    store_visit, live_view, note_read) within 15 days; P = a paid order within
    365 days; L = a repeat purchase (2 paid orders) or a share/review after a
    purchase within 365 days. A person meeting several is in the highest.

    ``rules`` keys: ``aware_events``, ``interest_events``, ``loyalty_events``
    (lists), ``aware_days``, ``interest_days``, ``purchase_days``,
    ``loyalty_days``, ``repeat_orders``.

    Returns:
        ``person_id, stage, as_of`` (plus ``id_type, id_value`` when no
        person resolution was possible and ``person_id`` is a per-identifier code).
    """
    touches, order_table = _table(touchpoints, "touchpoints"), _table(orders, "orders")
    _require(touches, ["event_time", "event_type"], "touchpoints")
    _require(order_table, ["order_time", "amount", "status"], "orders")
    day = as_of.date() if isinstance(as_of, datetime) else as_of
    end = datetime.combine(day + timedelta(days=1), time(), CHINA_TZ)
    as_of_ms = int(end.timestamp() * 1000) - 1
    t_person, o_person = _resolve_persons(touches, order_table, persons)
    t_in = pa.table({"person": t_person, "event_time": _check_time(touches, "event_time", "touchpoints"),
                     "event_id": pa.nulls(touches.num_rows, pa.string()) if "event_id" not in touches.column_names
                     else touches.column("event_id").cast(pa.string()),
                     "event_type": touches.column("event_type")})
    o_in = pa.table({"person": o_person, "order_time": _check_time(order_table, "order_time", "orders"),
                     "order_id": pa.nulls(order_table.num_rows, pa.string()) if "order_id" not in
                     order_table.column_names else order_table.column("order_id").cast(pa.string()),
                     "amount": order_table.column("amount"), "status": order_table.column("status")})
    stages = _core.aipl_tables(_single_batch(t_in), _single_batch(o_in), as_of_ms, json.dumps(dict(rules or {})))
    stages = stages.append_column("as_of", pa.array([day] * stages.num_rows, pa.date32()))
    if persons is not None or {"person_id"} <= set(touches.column_names) & set(order_table.column_names):
        return stages
    # No persons: each person_id is a code of this call for one identifier; say which.
    keys = pa.chunked_array(_id_keys(touches, "touchpoints").chunks + _id_keys(order_table, "orders").chunks,
                            pa.string())
    names = keys.dictionary_encode().combine_chunks().dictionary
    parts = pc.split_pattern(pc.take(names, stages.column("person_id")), _SEP, max_splits=1)
    return stages.append_column("id_type", pc.list_element(parts, 0)).append_column(
        "id_value", pc.list_element(parts, 1))

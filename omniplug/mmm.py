"""Marketing-mix hand-off: the daily media and outcome table Robyn and Meridian take.

A marketing-mix model (MMM) explains a brand's daily (or weekly) sales by
its media: how much it spent, how many people saw and clicked, per channel.
:func:`mmm_input` builds that table from the same canonical data the rest
of omniplug uses, one row per day, platform and channel:

``date, platform, channel, spend, impressions, clicks, touches, conversions, revenue``

* ``spend``, ``impressions``, ``clicks``: sums of the ``spend`` table
  (dated by the platform's report day);
* ``touches``: touchpoints that day (organic and CRM channels have touches
  but no spend; MMM tools take them as organic variables);
* ``conversions``, ``revenue``: paid orders credited to that day's touches
  by an attribution model (:func:`omniplug.attribute`, ``last_touch`` by
  default), dated by the touch, like spend and impressions: an order on the
  10th credited to a click on the 3rd counts on the 3rd.

:func:`mmm_outcome` gives the dependent variable: every paid order (credited
or not) per day. Days are China calendar days (DESIGN §4: platforms report
in China time); ``period="week"`` sums Monday-to-Sunday weeks, dated by
their Monday. The writers for Robyn and Meridian are in :mod:`omniplug.mmm_writers`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.attribution import attribute
from omniplug.errors import InvalidInputError

__all__ = ["DAILY_SCHEMA", "OUTCOME_SCHEMA", "mmm_input", "mmm_outcome", "china_day"]

#: The columns of :func:`mmm_input`.
DAILY_SCHEMA = pa.schema([("date", pa.date32()), ("platform", pa.string()), ("channel", pa.string()),
                          ("spend", pa.float64()), ("impressions", pa.int64()), ("clicks", pa.int64()),
                          ("touches", pa.int64()), ("conversions", pa.float64()), ("revenue", pa.float64())])
#: The columns of :func:`mmm_outcome`.
OUTCOME_SCHEMA = pa.schema([("date", pa.date32()), ("conversions", pa.int64()), ("revenue", pa.float64())])
_KEYS = ["date", "platform", "channel"]
_NULL = "\x00null"  # stands for a null key while joining (a touch without a channel)
Period = Literal["day", "week"]


def _table(data: Any, what: str) -> pa.Table:
    try:
        return data if isinstance(data, pa.Table) else pa.table(data)
    except (TypeError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"{what} must be an Arrow table (pyarrow, polars, DuckDB): {exc}") from None


def _require(table: pa.Table, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInputError(f"{what} lacks columns {missing} (has {table.column_names})")


def china_day(times: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The China calendar day (UTC+8, no daylight saving) of UTC timestamps, as ``date32``."""
    if not pa.types.is_timestamp(times.type) or times.type.tz is None:
        raise InvalidInputError(f"expected UTC timestamps (timestamp[ms, tz=UTC]), got {times.type}")
    ms = pc.cast(pc.cast(times, pa.timestamp("ms", tz="UTC")), pa.int64())
    days = pc.floor(pc.divide(pc.add(pc.cast(ms, pa.float64()), 8 * 3_600_000.0), 86_400_000.0))
    return pc.cast(pc.cast(days, pa.int32()), pa.date32())


def _period(days: pa.Array | pa.ChunkedArray, period: Period) -> pa.Array:
    if period == "day":
        return days
    if period != "week":
        raise InvalidInputError(f"period must be 'day' or 'week', got {period!r}")
    return pc.floor_temporal(days, unit="week", week_starts_monday=True)


def _keyed(table: pa.Table) -> pa.Table:
    for c in ("platform", "channel"):
        i = table.column_names.index(c)
        table = table.set_column(i, c, pc.fill_null(table.column(c).cast(pa.string()), _NULL))
    return table


def _spend_part(spend: Any, period: Period) -> pa.Table:
    table = _table(spend, "spend")
    _require(table, ["date", "platform", "channel", "spend"], "spend")
    day = table.column("date")
    if not pa.types.is_date(day.type):
        raise InvalidInputError(f"spend.date must be a date (date32), got {day.type}")
    part = pa.table({
        "date": _period(day.cast(pa.date32()), period), "platform": table.column("platform"),
        "channel": table.column("channel"), "spend": table.column("spend").cast(pa.float64()),
        **{c: (table.column(c).cast(pa.int64()) if c in table.column_names else pa.nulls(table.num_rows, pa.int64()))
           for c in ("impressions", "clicks")},
    })
    return _keyed(part).group_by(_KEYS).aggregate([("spend", "sum"), ("impressions", "sum"), ("clicks", "sum")]) \
        .rename_columns([*_KEYS, "spend", "impressions", "clicks"])


def _touch_part(touches: pa.Table, period: Period) -> pa.Table:
    part = pa.table({"date": _period(china_day(touches.column("event_time")), period),
                     "platform": touches.column("platform"), "channel": touches.column("channel")})
    return _keyed(part).group_by(_KEYS).aggregate([([], "count_all")]).rename_columns([*_KEYS, "touches"])


def _credit_part(touches: pa.Table, orders: Any, persons: Any, model: Any, period: Period,
                 options: Mapping[str, Any]) -> pa.Table:
    day = _period(china_day(touches.column("event_time")), period)
    # attribute() groups by touchpoint columns: the touch's period becomes one.
    dated = touches.append_column("mmm_date", pc.cast(day, pa.string()))
    credit = attribute(dated, orders, persons=persons, model=model, group_by=["mmm_date", "platform", "channel"],
                       channel="channel", **options)
    names = set(credit.column("model").to_pylist())
    if len(names) != 1:
        raise InvalidInputError(f"mmm_input takes one attribution model, got {sorted(names)}")
    credit = credit.filter(credit.column("attributed"))
    part = pa.table({"date": pc.cast(pc.cast(credit.column("mmm_date"), pa.date32()), pa.date32()),
                     "platform": credit.column("platform"), "channel": credit.column("channel"),
                     "conversions": credit.column("conversions"), "revenue": credit.column("revenue")})
    return _keyed(part).group_by(_KEYS).aggregate([("conversions", "sum"), ("revenue", "sum")]) \
        .rename_columns([*_KEYS, "conversions", "revenue"])


def mmm_input(spend: Any, touchpoints: Any, orders: Any, *, persons: Any = None,
              model: str | Mapping[str, Any] = "last_touch", period: Period = "day",
              **attribute_options: Any) -> pa.Table:
    """The media table of a marketing-mix model, per day (or week), platform and channel.

    Args:
        spend: canonical ``spend`` (``date, platform, channel, spend``;
            ``impressions`` and ``clicks`` when the platform reports them).
        touchpoints: canonical ``touchpoints``.
        orders: canonical ``orders``.
        persons: ``persons`` from :func:`omniplug.stitch`, to join touches and
            orders across identifiers (as :func:`omniplug.attribute`).
        model: the one attribution model that credits conversions
            (a name or a dict, as :func:`omniplug.attribute` takes).
        period: ``"day"`` (China calendar days) or ``"week"`` (Monday to
            Sunday, dated by the Monday).
        **attribute_options: more :func:`omniplug.attribute` settings
            (``lookback_days``, ``half_life_days``, ``weights``...).

    Returns:
        :data:`DAILY_SCHEMA`: one row per (date, platform, channel) that had
        spend, touches or credit; zeros where one of them had nothing;
        sorted by date, platform, channel.

    Raises:
        InvalidInputError: missing columns, wrong types, several models.
    """
    touches = _table(touchpoints, "touchpoints")
    _require(touches, ["event_time", "platform", "channel"], "touchpoints")
    if "group_by" in attribute_options or "channel" in attribute_options:
        raise InvalidInputError("mmm_input groups by date, platform and channel itself; drop group_by/channel")
    if not isinstance(model, (str, Mapping)):
        raise InvalidInputError(f"mmm_input takes one attribution model, got {model!r}")
    parts = [_spend_part(spend, period), _touch_part(touches, period),
             _credit_part(touches, orders, persons, model, period, attribute_options)]
    joined = parts[0].join(parts[1], _KEYS, join_type="full outer").join(parts[2], _KEYS, join_type="full outer")
    columns = {}
    for f in DAILY_SCHEMA:
        col = joined.column(f.name).cast(f.type)
        if f.name in ("platform", "channel"):
            col = pc.if_else(pc.equal(col, _NULL), pa.scalar(None, pa.string()), col)
        elif f.name != "date":
            col = pc.fill_null(col, pa.scalar(0, f.type))
        columns[f.name] = col
    table = pa.table(columns, schema=DAILY_SCHEMA)
    return table.sort_by([("date", "ascending"), ("platform", "ascending"), ("channel", "ascending")])


def mmm_outcome(orders: Any, *, period: Period = "day", start: Any = None, end: Any = None) -> pa.Table:
    """The dependent variable: paid orders and their revenue per day (or week), China time.

    Every paid order counts, credited to a touch or not (refunded and
    cancelled orders do not). With ``start``/``end`` (dates, inclusive), every
    period in between has a row, zeros where nothing sold.

    Returns:
        :data:`OUTCOME_SCHEMA`, sorted by date.
    """
    table = _table(orders, "orders")
    _require(table, ["order_time", "amount", "status"], "orders")
    paid = table.filter(pc.equal(table.column("status"), "paid"))
    part = pa.table({"date": _period(china_day(paid.column("order_time")), period),
                     "amount": paid.column("amount").cast(pa.float64())})
    summed = part.group_by(["date"]).aggregate([([], "count_all"), ("amount", "sum")]) \
        .rename_columns(["date", "conversions", "revenue"])
    if start is not None and end is not None:
        first, last = (_period(pa.array([d], pa.date32()), period)[0].as_py() for d in (start, end))
        step = 7 if period == "week" else 1
        every = pa.table({"date": pa.array([first + timedelta(days=i) for i in
                                            range(0, (last - first).days + 1, step)], pa.date32())})
        summed = every.join(summed, "date", join_type="left outer")
    out = pa.table({"date": summed.column("date"),
                    "conversions": pc.fill_null(summed.column("conversions"), 0).cast(pa.int64()),
                    "revenue": pc.fill_null(summed.column("revenue").cast(pa.float64()), 0.0)}, schema=OUTCOME_SCHEMA)
    return out.sort_by("date")

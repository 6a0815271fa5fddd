"""Write the marketing-mix table in the shapes Robyn and Meridian read.

Both tools take one *wide* table: one row per period (per geo for
Meridian), one column per medium and metric. A medium is one (platform,
channel) pair, named ``<platform>_<channel>`` (``douyin_kol``); a medium
with spend is *paid*, one with touches but never any spend (organic, CRM)
is *organic*. Every period between the first and the last has a row
(zeros where nothing happened): both tools need a gapless series.

**Robyn** (Meta's MMM, R; ``robyn_inputs(dt_input = ...)`` as in its
``demo.R`` over ``dt_simulated_weekly``): ``robyn_input.csv`` with ``DATE``
(``yyyy-mm-dd``), the dependent variables ``revenue`` and ``conversions``,
per paid medium ``<m>_S`` (spend, for ``paid_media_spends``), ``<m>_I``
(impressions, for ``paid_media_vars``; the spend column stands in where a
medium reports no impressions) and ``<m>_C`` (clicks), per organic medium
``<m>_T`` (touches, for ``organic_vars``); plus ``robyn_inputs.R`` calling
``robyn_inputs`` with those names and ``robyn_spec.json`` listing them.

**Meridian** (Google's MMM, Python; ``load.CsvDataLoader`` with
``CoordToColumns``): ``meridian_input.csv`` with ``geo`` (``national``: the
data has no region), ``time`` (``yyyy-mm-dd``), ``conversions`` (the KPI),
``revenue_per_conversion``, ``population`` (1), per paid medium
``<m>_impression`` (``media``) and ``<m>_spend`` (``media_spend``), per
organic medium ``<m>_touches`` (``organic_media``); plus
``meridian_load.py`` building the loader and ``meridian_spec.json``.

Credited conversions per medium stay out of both model tables (they are
derived from the outcome the model explains); they are in
``mmm_daily.csv``, written next to them, to compare a fitted model's
decomposition with attribution.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from omniplug.errors import InvalidInputError
from omniplug.mmm import DAILY_SCHEMA, OUTCOME_SCHEMA, Period

__all__ = ["Medium", "MmmFiles", "media_of", "wide_table", "write_robyn", "write_meridian", "write_daily_csv"]


@dataclass(frozen=True)
class Medium:
    """One (platform, channel) medium of the wide table.

    Attributes:
        name: column prefix, ``<platform>_<channel>`` in ``[a-z0-9_]``.
        platform: the platform (``None`` when the rows had none).
        channel: the channel.
        paid: whether it ever had spend.
        has_impressions: whether it ever reported impressions.
    """

    name: str
    platform: str | None
    channel: str | None
    paid: bool
    has_impressions: bool


@dataclass(frozen=True)
class MmmFiles:
    """What a writer produced: the model table, its spec and loader, and the long daily table."""

    table: Path
    spec: Path
    script: Path
    daily: Path


def _name(platform: str | None, channel: str | None) -> str:
    raw = f"{platform or 'unknown'}_{channel or 'unknown'}".lower()
    return re.sub(r"[^a-z0-9_]", "_", raw)


def media_of(daily: pa.Table) -> list[Medium]:
    """The media of a :func:`omniplug.mmm.mmm_input` table, paid first, each by name."""
    totals: dict[tuple[Any, Any], list[float]] = {}
    for row in daily.select(["platform", "channel", "spend", "impressions", "touches"]).to_pylist():
        t = totals.setdefault((row["platform"], row["channel"]), [0.0, 0.0, 0.0])
        t[0] += row["spend"] or 0.0
        t[1] += row["impressions"] or 0
        t[2] += row["touches"] or 0
    media = [Medium(_name(p, c), p, c, paid=s > 0, has_impressions=i > 0) for (p, c), (s, i, n) in totals.items()
             if s > 0 or n > 0]
    names = [m.name for m in media]
    clash = sorted({n for n in names if names.count(n) > 1})
    if clash:
        raise InvalidInputError(f"platform/channel pairs collide as column names {clash}; rename the channels")
    return sorted(media, key=lambda m: (not m.paid, m.name))


def _periods(daily: pa.Table, outcome: pa.Table, period: Period) -> list[date]:
    days = [d for t in (daily, outcome) for d in t.column("date").to_pylist() if d is not None]
    if not days:
        raise InvalidInputError("no dates: the spend, touchpoints and orders are empty")
    step = 7 if period == "week" else 1
    first, last = min(days), max(days)
    return [first + timedelta(days=i) for i in range(0, (last - first).days + 1, step)]


def wide_table(daily: pa.Table, outcome: pa.Table, period: Period = "day") -> tuple[list[date], list[Medium],
                                                                                   dict[str, list[float]]]:
    """Dates, media and per-(medium, metric) series of the wide table.

    Series keys are ``(<medium>, <metric>)`` flattened as ``<medium>|<metric>``
    for ``spend, impressions, clicks, touches``, plus ``|revenue`` and
    ``|conversions`` for the outcome; every series has one value per date.
    """
    if daily.schema.names != DAILY_SCHEMA.names or outcome.schema.names != OUTCOME_SCHEMA.names:
        raise InvalidInputError("expected the tables of omniplug.mmm.mmm_input and mmm_outcome")
    if period == "week":
        _check_period(daily)
        _check_period(outcome)
    dates = _periods(daily, outcome, period)
    at = {d: i for i, d in enumerate(dates)}
    media = media_of(daily)
    series: dict[str, list[float]] = {f"|{k}": [0.0] * len(dates) for k in ("revenue", "conversions")}
    for m in media:
        for metric in ("spend", "impressions", "clicks", "touches"):
            series[f"{m.name}|{metric}"] = [0.0] * len(dates)
    for row in daily.to_pylist():
        name = _name(row["platform"], row["channel"])
        for metric in ("spend", "impressions", "clicks", "touches"):
            key = f"{name}|{metric}"
            if key in series and row["date"] in at:
                series[key][at[row["date"]]] += row[metric] or 0
    for row in outcome.to_pylist():
        if row["date"] in at:
            series["|revenue"][at[row["date"]]] += row["revenue"]
            series["|conversions"][at[row["date"]]] += row["conversions"]
    return dates, media, series


def _number(x: float) -> str:
    # Counts print as integers, money with the cents it has; no exponent notation.
    return str(int(x)) if float(x).is_integer() else f"{x:.6f}".rstrip("0").rstrip(".")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_daily_csv(daily: pa.Table, path: Path) -> Path:
    """The long :func:`omniplug.mmm.mmm_input` table as CSV (``date`` as ``yyyy-mm-dd``)."""
    rows = [[r["date"].isoformat(), r["platform"] or "", r["channel"] or "",
             *(_number(r[c]) for c in ("spend", "impressions", "clicks", "touches", "conversions", "revenue"))]
            for r in daily.to_pylist()]
    _write_csv(path, DAILY_SCHEMA.names, rows)
    return path


def _r_vector(names: list[str]) -> str:
    return "c(" + ", ".join(f'"{n}"' for n in names) + ")" if names else "NULL"


def write_robyn(daily: pa.Table, outcome: pa.Table, out_dir: str | Path, *, period: Period = "day",
                dep_var: str = "revenue", prophet_country: str = "CN") -> MmmFiles:
    """Write ``robyn_input.csv``, ``robyn_spec.json``, ``robyn_inputs.R`` and ``mmm_daily.csv``.

    Args:
        daily: from :func:`omniplug.mmm.mmm_input`.
        outcome: from :func:`omniplug.mmm.mmm_outcome` (same ``period``).
        out_dir: folder to write into (created).
        period: the tables' period (``day`` or ``week``).
        dep_var: ``revenue`` (``dep_var_type = "revenue"``) or ``conversions``.
        prophet_country: holidays country code for Robyn's Prophet step.
    """
    if dep_var not in ("revenue", "conversions"):
        raise InvalidInputError(f"dep_var must be 'revenue' or 'conversions', got {dep_var!r}")
    dates, media, series = wide_table(daily, outcome, period)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    columns: list[tuple[str, str]] = [("revenue", "|revenue"), ("conversions", "|conversions")]
    spends, exposures, organic = [], [], []
    for m in media:
        if m.paid:
            columns += [(f"{m.name}_S", f"{m.name}|spend"), (f"{m.name}_I", f"{m.name}|impressions"),
                        (f"{m.name}_C", f"{m.name}|clicks")]
            spends.append(f"{m.name}_S")
            exposures.append(f"{m.name}_I" if m.has_impressions else f"{m.name}_S")
        else:
            columns.append((f"{m.name}_T", f"{m.name}|touches"))
            organic.append(f"{m.name}_T")
    _write_csv(out / "robyn_input.csv", ["DATE", *(c for c, _ in columns)],
               [[d.isoformat(), *(_number(series[k][i]) for _, k in columns)] for i, d in enumerate(dates)])
    spec = {"date_var": "DATE", "dep_var": dep_var, "dep_var_type": "revenue" if dep_var == "revenue" else "conversion",
            "paid_media_spends": spends, "paid_media_vars": exposures, "organic_vars": organic,
            "prophet_vars": ["trend", "season", "holiday"], "prophet_country": prophet_country,
            "window_start": dates[0].isoformat(), "window_end": dates[-1].isoformat(), "interval": period}
    (out / "robyn_spec.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    script = f"""# Generated by omniplug (`omniplug mmm --format robyn`): Robyn inputs for {dates[0]} .. {dates[-1]}.
# Run from this folder in R with Robyn installed; then set hyperparameters, robyn_run() and
# robyn_outputs() as in Robyn's demo.R.
library(Robyn)
data("dt_prophet_holidays")
dt_input <- read.csv("robyn_input.csv", stringsAsFactors = FALSE)
InputCollect <- robyn_inputs(
  dt_input = dt_input,
  dt_holidays = dt_prophet_holidays,
  date_var = "DATE",
  dep_var = "{dep_var}",
  dep_var_type = "{spec['dep_var_type']}",
  prophet_vars = c("trend", "season", "holiday"),
  prophet_country = "{prophet_country}",
  paid_media_spends = {_r_vector(spends)},
  paid_media_vars = {_r_vector(exposures)},
  organic_vars = {_r_vector(organic)},
  window_start = "{spec['window_start']}",
  window_end = "{spec['window_end']}",
  adstock = "geometric"
)
print(InputCollect)
"""
    (out / "robyn_inputs.R").write_text(script, encoding="utf-8")
    return MmmFiles(out / "robyn_input.csv", out / "robyn_spec.json", out / "robyn_inputs.R",
                    write_daily_csv(daily, out / "mmm_daily.csv"))


def write_meridian(daily: pa.Table, outcome: pa.Table, out_dir: str | Path, *, period: Period = "week",
                   kpi: str = "conversions") -> MmmFiles:
    """Write ``meridian_input.csv``, ``meridian_spec.json``, ``meridian_load.py`` and ``mmm_daily.csv``.

    Args:
        daily: from :func:`omniplug.mmm.mmm_input`.
        outcome: from :func:`omniplug.mmm.mmm_outcome` (same ``period``;
            Meridian's documentation recommends weekly data).
        out_dir: folder to write into (created).
        period: the tables' period.
        kpi: ``conversions`` (``kpi_type="non-revenue"`` with
            ``revenue_per_conversion``) or ``revenue`` (``kpi_type="revenue"``).
    """
    if kpi not in ("conversions", "revenue"):
        raise InvalidInputError(f"kpi must be 'conversions' or 'revenue', got {kpi!r}")
    dates, media, series = wide_table(daily, outcome, period)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paid = [m for m in media if m.paid]
    if not paid:
        raise InvalidInputError("Meridian needs at least one medium with spend; the spend table has none")
    per_conv = [r / c if c else 0.0 for r, c in zip(series["|revenue"], series["|conversions"], strict=True)]
    columns: list[tuple[str, list[float]]] = [(kpi, series[f"|{kpi}"])]
    if kpi == "conversions":
        columns.append(("revenue_per_conversion", per_conv))
    media_cols = {f"{m.name}_impression": m for m in paid}
    spend_cols = {f"{m.name}_spend": m for m in paid}
    organic_cols = {f"{m.name}_touches": m for m in media if not m.paid}
    for col, m in media_cols.items():
        columns.append((col, series[f"{m.name}|impressions" if m.has_impressions else f"{m.name}|spend"]))
    columns += [(col, series[f"{m.name}|spend"]) for col, m in spend_cols.items()]
    columns += [(col, series[f"{m.name}|touches"]) for col, m in organic_cols.items()]
    _write_csv(out / "meridian_input.csv", ["geo", "time", "population", *(c for c, _ in columns)],
               [["national", d.isoformat(), "1", *(_number(v[i]) for _, v in columns)] for i, d in enumerate(dates)])
    spec = {"kpi_type": "non-revenue" if kpi == "conversions" else "revenue", "kpi": kpi,
            "revenue_per_kpi": "revenue_per_conversion" if kpi == "conversions" else None,
            "media": list(media_cols), "media_spend": list(spend_cols), "organic_media": list(organic_cols),
            "media_to_channel": {c: m.name for c, m in media_cols.items()},
            "media_spend_to_channel": {c: m.name for c, m in spend_cols.items()},
            "media_is_spend": [c for c, m in media_cols.items() if not m.has_impressions], "interval": period}
    (out / "meridian_spec.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    revenue_arg = '\n    revenue_per_kpi="revenue_per_conversion",' if kpi == "conversions" else ""
    organic_arg = f"\n    organic_media={list(organic_cols)!r}," if organic_cols else ""
    script = f'''"""Generated by omniplug (`omniplug mmm --format meridian`): load meridian_input.csv into Meridian.

{dates[0]} .. {dates[-1]}, one national geo. organic_media needs Meridian 1.1 or later; with an
older version drop that line (or pass those columns as controls).
"""

from meridian.data import load

coord_to_columns = load.CoordToColumns(
    time="time",
    geo="geo",
    population="population",
    kpi="{kpi}",{revenue_arg}
    media={list(media_cols)!r},
    media_spend={list(spend_cols)!r},{organic_arg}
)
loader = load.CsvDataLoader(
    csv_path="meridian_input.csv",
    kpi_type="{spec['kpi_type']}",
    coord_to_columns=coord_to_columns,
    media_to_channel={spec['media_to_channel']!r},
    media_spend_to_channel={spec['media_spend_to_channel']!r},
)
data = loader.load()
'''
    (out / "meridian_load.py").write_text(script, encoding="utf-8")
    return MmmFiles(out / "meridian_input.csv", out / "meridian_spec.json", out / "meridian_load.py",
                    write_daily_csv(daily, out / "mmm_daily.csv"))


def _check_period(table: pa.Table) -> None:
    """Reject a table whose dates are not all Mondays when a weekly writer is asked for."""
    days = table.column("date")
    if len(days) and not pc.all(pc.equal(pc.day_of_week(days), 0)).as_py():
        raise InvalidInputError("weekly tables must be dated by Mondays: build them with period='week'")

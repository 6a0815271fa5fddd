"""Credited revenue for the report: by platform and channel, by KOL, by material, by day.

``attribution.parquet`` holds credit at the grain the pipeline was asked for
(``[attribution] group_by``; by default platform, channel, campaign, KOL,
material and asset, the finest level spend is reported at). Credit is
additive over groups, so every coarser view is a ``SUM ... GROUP BY`` over
it, and that is where the report takes ROI by channel, KOL revenue and
creative revenue from whenever the file has the columns.

The daily trend needs the day of each credited touch, which no output
holds, and a file grouped more coarsely lacks the KOL or material. For
those the report runs :func:`omniplug.attribute` once more over the
folder's touchpoints, orders and persons with the same models, grouped by
platform, channel, KOL, material and China day of the touch (the
*breakdown*), and checks that it rolls up to ``attribution.parquet``: when it
does not (the run used settings the report was not given), the page says so.

Spend always comes from ``spend.parquet`` (summed by DuckDB), and ROI is
credited revenue divided by spend, exactly as the engine defines it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from omniplug.config import AttributionConfig
from omniplug.errors import OmniplugError
from omniplug.report.data import OutputFolder, china_day, ordered_models, with_china_day

__all__ = ["GRAIN", "TREND_DAYS", "attribution_models", "attribution_section", "credit_breakdown", "credited",
           "kol_section", "ratio"]

log = logging.getLogger(__name__)

#: The touchpoint columns of the breakdown (``day``: China day number of the touch).
GRAIN = ("platform", "channel", "kol_id", "material_id", "day")
#: Days compared by the KOL trend (the last N days against the N before).
TREND_DAYS = 7


def ratio(num: float | None, den: float | None) -> float | None:
    """``num / den``, or ``None`` when the denominator is missing or not positive (ROI without spend)."""
    if num is None or den is None or den <= 0:
        return None
    return num / den


def attribution_models(folder: OutputFolder, settings: AttributionConfig | None) -> list[str]:
    """The models to show: those in ``attribution.parquet``, else the configured (or default) ones."""
    preferred = settings.models if settings is not None else []
    found = [r["model"] for r in folder.rows('SELECT DISTINCT model FROM "attribution"')] \
        if "model" in folder.columns("attribution") else []
    return ordered_models(found or preferred or AttributionConfig().models, preferred)


def _markov_channel(folder: OutputFolder, settings: AttributionConfig | None) -> str:
    """The column whose values are the channels of Markov and Shapley: what the pipeline used."""
    touch_columns = folder.columns("touchpoints")
    if settings is not None and settings.group_by:
        first = settings.group_by[0]
    else:
        cols = folder.columns("attribution")
        groups = cols[1:cols.index("conversions")] if "model" in cols and "conversions" in cols else []
        first = groups[0] if groups else "platform"
    return first if first in touch_columns else "platform"


def credit_breakdown(folder: OutputFolder, models: list[str], settings: AttributionConfig | None) -> str | None:
    """Run the breakdown and register it as view ``credit`` (attributed rows) and ``credit_all``.

    Returns ``None`` on success, else a sentence saying why there is no breakdown.
    """
    if not folder.has("touchpoints", "orders"):
        return "touchpoints.parquet and orders.parquet are needed to credit revenue"
    from omniplug.attribution import attribute

    cfg = settings or AttributionConfig(models=models)
    try:
        table = attribute(
            with_china_day(folder.arrow("touchpoints"), "event_time"), folder.arrow("orders"),
            persons=folder.arrow("persons") if folder.has("persons") else None,
            model=models, lookback_days=cfg.lookback_days, group_by=list(GRAIN),
            channel=_markov_channel(folder, settings), half_life_days=cfg.half_life_days,
            weights=cfg.weights if cfg.weights is not None else ("beauty" if "weighted" in models else None),
        )
    except OmniplugError as exc:
        log.warning("report: cannot credit revenue: %s", exc)
        return f"revenue could not be credited: {exc}"
    folder.register("credit_all", table)
    folder.db.execute(
        "CREATE OR REPLACE VIEW credit AS SELECT model, platform, channel, kol_id, material_id, "
        "CAST(day AS BIGINT) AS day, conversions, revenue FROM credit_all WHERE attributed")
    folder.tables.add("credit")
    return None


def credited(folder: OutputFolder, keys: tuple[str, ...], breakdown_error: str | None) -> tuple[
        list[dict[str, Any]], str | None]:
    """Credited conversions and revenue by model, platform and ``keys``, and where they came from.

    From ``attribution.parquet`` when it has the columns (summed over its
    finer groups), else from the breakdown; ``([], None)`` when neither exists.
    """
    columns = ", ".join(("model", "platform", *keys))
    if {"model", "platform", "attributed", "revenue", *keys} <= set(folder.columns("attribution")):
        source, where = "attribution.parquet", "FROM attribution WHERE attributed"
    elif breakdown_error is None:
        source, where = "recomputed", "FROM credit"
    else:
        return [], None
    rows = folder.rows(f"SELECT {columns}, sum(conversions) AS conversions, sum(revenue) AS revenue {where} "
                       f"GROUP BY ALL")
    return rows, source


def _spend_by(folder: OutputFolder, columns: tuple[str, ...]) -> dict[tuple[Any, ...], dict[str, float]]:
    if not folder.has("spend"):
        return {}
    cols = ", ".join(columns)
    rows = folder.rows(f"SELECT {cols}, CAST(sum(spend) AS DOUBLE) AS spend, sum(impressions) AS impressions, "
                       f"sum(clicks) AS clicks FROM spend GROUP BY ALL")
    return {tuple(r[c] for c in columns): r for r in rows}


def attribution_section(folder: OutputFolder, models: list[str], breakdown_error: str | None) -> dict[str, Any]:
    """Credited conversions, revenue, spend and ROI by model, platform and channel.

    Returns a dict: ``source`` (``attribution.parquet`` or ``recomputed``,
    ``None`` when neither is possible), ``models``, ``rows`` (one per model,
    platform and channel: conversions, revenue, spend, roi), ``platforms``
    (the same by model and platform), ``unattributed`` (per model: orders and
    revenue no touch explains), ``mismatch`` (largest difference between the
    breakdown and ``attribution.parquet``, when both exist) and ``note``.
    """
    section: dict[str, Any] = {"models": models, "rows": [], "platforms": [], "unattributed": {}, "mismatch": None,
                               "note": None, "source": None}
    credit, source = credited(folder, ("channel",), breakdown_error)
    if source is None:
        section["note"] = breakdown_error
        return section
    if source == "recomputed":
        section["note"] = ("attribution.parquet is missing or not grouped by platform and channel: "
                           "the figures below were credited by the report with the same engine")
    section["source"] = source
    table = "attribution" if source == "attribution.parquet" else "credit_all"
    for r in folder.rows(f"SELECT model, sum(conversions) AS orders, sum(revenue) AS revenue FROM {table} "
                         f"WHERE NOT attributed GROUP BY ALL"):
        section["unattributed"][r["model"]] = {"orders": r["orders"] or 0.0, "revenue": r["revenue"] or 0.0}
    spend = _spend_by(folder, ("platform", "channel"))
    keyed = {(r["model"], r["platform"], r["channel"]): r for r in credit}
    # Every platform and channel under every model (zero where a model credits nothing), so models line up.
    keys = sorted({k[1:] for k in keyed} | set(spend), key=lambda k: (str(k[0]), str(k[1])))
    for model in models:
        for key in keys:
            got = keyed.get((model, *key), {})
            cost = spend.get(key, {}).get("spend")
            revenue = float(got.get("revenue") or 0.0)
            section["rows"].append({"model": model, "platform": key[0], "channel": key[1],
                                    "conversions": float(got.get("conversions") or 0.0), "revenue": revenue,
                                    "spend": cost, "roi": ratio(revenue, cost)})
    by_platform: dict[tuple[str, str], dict[str, Any]] = {}
    for r in section["rows"]:
        agg = by_platform.setdefault((r["model"], r["platform"]), {"model": r["model"], "platform": r["platform"],
                                                                   "conversions": 0.0, "revenue": 0.0, "spend": None})
        agg["conversions"] += r["conversions"]
        agg["revenue"] += r["revenue"]
        if r["spend"] is not None:
            agg["spend"] = (agg["spend"] or 0.0) + r["spend"]
    section["platforms"] = [{**a, "roi": ratio(a["revenue"], a["spend"])} for a in by_platform.values()]
    if source == "attribution.parquet" and breakdown_error is None:
        diff = folder.scalar(
            "SELECT max(abs(coalesce(a.revenue, 0) - coalesce(c.revenue, 0))) FROM "
            "(SELECT model, platform, channel, sum(revenue) AS revenue FROM attribution WHERE attributed "
            " GROUP BY ALL) a FULL OUTER JOIN "
            "(SELECT model, platform, channel, sum(revenue) AS revenue FROM credit GROUP BY ALL) c "
            "ON a.model = c.model AND a.platform IS NOT DISTINCT FROM c.platform "
            "AND a.channel IS NOT DISTINCT FROM c.channel")
        section["mismatch"] = float(diff or 0.0)
    return section


def _day_axis(folder: OutputFolder) -> list[int]:
    bounds = folder.rows("SELECT min(day) AS lo, max(day) AS hi FROM credit")[0]
    if bounds["lo"] is None:
        return []
    return list(range(int(bounds["lo"]), int(bounds["hi"]) + 1))


def kol_section(folder: OutputFolder, models: list[str], breakdown_error: str | None) -> dict[str, Any]:
    """One row per KOL (platform and ``kol_id``): cost, posts, touches, credited revenue and ROI per model, trend.

    ``trend`` is the KOL's credited revenue under the first model per China
    day of the credited touches (``days`` gives the dates); ``change`` is the
    last :data:`TREND_DAYS` days against the :data:`TREND_DAYS` before
    (``None`` when the earlier window had no credit).
    """
    section: dict[str, Any] = {"models": models, "rows": [], "days": [], "note": breakdown_error, "source": None}
    keys: set[tuple[str, str]] = set()
    spend: dict[tuple[Any, ...], dict[str, Any]] = {}
    if folder.has("spend"):
        spend = {k: v for k, v in _spend_by(folder, ("platform", "kol_id")).items() if k[1] is not None}
        keys |= set(spend)
    touches: dict[tuple[str, str], int] = {}
    if folder.has("touchpoints"):
        touches = {(r["platform"], r["kol_id"]): int(r["n"]) for r in folder.rows(
            "SELECT platform, kol_id, count(*) AS n FROM touchpoints WHERE kol_id IS NOT NULL GROUP BY ALL")}
        keys |= set(touches)
    posts: dict[tuple[str, str], int] = {}
    if folder.has("materials"):
        posts = {(r["platform"], r["kol_id"]): int(r["n"]) for r in folder.rows(
            "SELECT platform, kol_id, count(DISTINCT material_id) AS n FROM materials "
            "WHERE kol_id IS NOT NULL GROUP BY ALL")}
        keys |= set(posts)
    rows, section["source"] = credited(folder, ("kol_id",), breakdown_error)
    revenue = {(r["model"], r["platform"], r["kol_id"]): float(r["revenue"] or 0.0) for r in rows
               if r["kol_id"] is not None}
    daily: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    axis = _day_axis(folder) if breakdown_error is None else []
    if axis and models:
        for r in folder.rows("SELECT platform, kol_id, day, sum(revenue) AS revenue FROM credit "
                             "WHERE kol_id IS NOT NULL AND model = ? GROUP BY ALL", [models[0]]):
            daily[(r["platform"], r["kol_id"])][int(r["day"])] = float(r["revenue"] or 0.0)
    section["days"] = [china_day(d).isoformat() for d in axis]
    for key in keys:
        platform, kol = key
        cost = spend.get(key, {}).get("spend")
        credit = {m: revenue.get((m, platform, kol), 0.0) for m in models}
        trend = [daily[key].get(d, 0.0) for d in axis]
        recent, before = sum(trend[-TREND_DAYS:]), sum(trend[-2 * TREND_DAYS:-TREND_DAYS])
        section["rows"].append({
            "platform": platform, "kol_id": kol, "cost": cost,
            "impressions": spend.get(key, {}).get("impressions"), "posts": posts.get(key, 0),
            "touches": touches.get(key, 0), "revenue": credit,
            "roi": {m: ratio(v, cost) for m, v in credit.items()},
            "trend": trend, "change": ratio(recent - before, before) if before > 0 else None,
        })
    first = models[0] if models else None
    section["rows"].sort(key=lambda r: (-(r["revenue"].get(first, 0.0) if first else 0.0), -(r["cost"] or 0.0),
                                        str(r["platform"]), str(r["kol_id"])))
    return section

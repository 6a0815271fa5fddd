"""Headline figures and data quality: what came in, what was rejected and why.

Rejected rows keep a ``reason`` that names the offending value
(``orders.amount: '12.345' has more than 2 decimals``), so counting raw
reasons would give one bar per bad value. :func:`reason_kind` strips the
value and keeps the table, column and rule (``orders.amount: has more than
2 decimals``); a row with several problems counts once under each, as the
validator's own ``reasons()`` does. The rejected records themselves are
never copied into the report: they are raw platform records and may hold
personal data.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from omniplug.report.data import OutputFolder, china_day, china_day_sql
from omniplug.report.data_credit import ratio
from omniplug.schema import TABLES

__all__ = ["MAX_REASONS", "overview_section", "quality_section", "reason_kind"]

#: Reject reasons shown in the chart (the rest are summed as "other").
MAX_REASONS = 15

_WHERE = re.compile(r"^\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?):\s*(.*)$", re.S)
_QUOTED = re.compile(r"""^(?:b?'(?:[^'\\]|\\.)*'|b?"(?:[^"\\]|\\.)*")\s*""", re.S)
_SCALAR = re.compile(r"^[-+]?[\d][\d.:+\-TZ]*\s+")


def reason_kind(reason: str | None) -> list[str]:
    """The rules a reject ``reason`` names, without the offending values (one per ``'; '``-separated problem)."""
    kinds = []
    for part in (reason or "unknown").split("; "):
        match = _WHERE.match(part)
        if match is None:
            kinds.append(part.strip()[:80] or "unknown")
            continue
        where, rest = match.groups()
        rest = _SCALAR.sub("", _QUOTED.sub("", rest, count=1), count=1)
        rule = rest.split(" (", 1)[0].strip()[:80]
        kinds.append(f"{where}: {rule}" if rule else where)
    return kinds


def quality_section(folder: OutputFolder) -> dict[str, Any]:
    """Rows kept and rejected per table and platform, and rejects by reason.

    Returns a dict: ``tables`` (``{"table", "platform", "rows", "rejects"}``
    for every canonical table with a file or with rejects), ``reasons``
    (``{"reason", "rejects"}``, most frequent first, at most
    :data:`MAX_REASONS` plus ``other``), ``rejects`` (total rejected rows),
    ``streams`` (rejects per platform and stream) and ``note``.
    """
    section: dict[str, Any] = {"tables": [], "reasons": [], "rejects": 0, "streams": [], "note": None}
    kept: dict[tuple[str, str], int] = {}
    for table in TABLES:
        if table != "rejects" and folder.has(table) and "platform" in folder.columns(table):
            for r in folder.rows(f'SELECT platform, count(*) AS n FROM "{table}" GROUP BY 1'):
                kept[(table, r["platform"])] = int(r["n"])
    rejected: dict[tuple[str, str], int] = {}
    if folder.has("rejects"):
        for r in folder.rows('SELECT "table" AS t, platform, count(*) AS n FROM rejects GROUP BY ALL'):
            rejected[(r["t"], r["platform"])] = int(r["n"])
        counter: Counter[str] = Counter()
        for r in folder.rows("SELECT reason, count(*) AS n FROM rejects GROUP BY 1"):
            for kind in set(reason_kind(r["reason"])):
                counter[kind] += int(r["n"])
        top = counter.most_common(MAX_REASONS)
        other = sum(counter.values()) - sum(n for _, n in top)
        section["reasons"] = [{"reason": k, "rejects": n} for k, n in top] + (
            [{"reason": "other", "rejects": other}] if other else [])
        section["rejects"] = folder.count("rejects")
        section["streams"] = folder.rows(
            'SELECT platform, stream, "table", count(*) AS rejects FROM rejects GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3')
    else:
        section["note"] = "no rejects.parquet: every fetched row conformed to the canonical schemas"
    for key in sorted(set(kept) | set(rejected), key=lambda k: (str(k[0]), str(k[1]))):
        section["tables"].append({"table": key[0], "platform": key[1], "rows": kept.get(key, 0),
                                  "rejects": rejected.get(key, 0)})
    return section


def overview_section(folder: OutputFolder) -> dict[str, Any]:
    """Headline figures: paid revenue and orders, spend, blended ROI, platforms and the data window.

    Returns a dict: ``paid_revenue``, ``paid_orders``, ``refunded_orders``,
    ``cancelled_orders``, ``spend``, ``impressions``, ``clicks``, ``roi``
    (paid revenue / spend), ``platforms`` and ``first_day`` / ``last_day``
    (China dates of the earliest and latest touch or order).
    """
    out: dict[str, Any] = {"paid_revenue": None, "paid_orders": 0, "refunded_orders": 0, "cancelled_orders": 0,
                           "spend": None, "impressions": None, "clicks": None, "roi": None, "platforms": [],
                           "first_day": None, "last_day": None}
    if folder.has("orders"):
        for r in folder.rows("SELECT status, count(*) AS n, CAST(sum(amount) AS DOUBLE) AS amount "
                             "FROM orders GROUP BY 1"):
            if r["status"] in ("paid", "refunded", "cancelled"):
                out[f"{r['status']}_orders"] = int(r["n"])
            if r["status"] == "paid":
                out["paid_revenue"] = float(r["amount"] or 0.0)
    if folder.has("spend"):
        r = folder.rows("SELECT CAST(sum(spend) AS DOUBLE) AS s, sum(impressions) AS i, sum(clicks) AS c FROM spend")[0]
        out["spend"], out["impressions"], out["clicks"] = r["s"], r["i"], r["c"]
    out["roi"] = ratio(out["paid_revenue"], out["spend"])
    platforms: set[str] = set()
    days: list[int] = []
    for table, column in (("touchpoints", "event_time"), ("orders", "order_time"), ("spend", None)):
        if not folder.has(table):
            continue
        platforms |= {r["platform"] for r in folder.rows(f"SELECT DISTINCT platform FROM {table}")}
        if column:
            r = folder.rows(f"SELECT min({china_day_sql(column)}) AS lo, max({china_day_sql(column)}) AS hi "
                            f"FROM {table}")[0]
            days += [int(d) for d in (r["lo"], r["hi"]) if d is not None]
    out["platforms"] = sorted(p for p in platforms if p is not None)
    if days:
        out["first_day"], out["last_day"] = china_day(min(days)).isoformat(), china_day(max(days)).isoformat()
    return out

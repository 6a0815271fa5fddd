"""People in the report: the AIPL funnel and the identity-stitching statistics.

AIPL across platforms is ``aipl.parquet`` as the run wrote it: one stage per
stitched person. AIPL *per platform* asks how far each person got on that
platform alone, so the report runs :func:`omniplug.aipl` on each platform's
slice of touchpoints and orders with the same persons and the same
``as_of`` date. A person can be Aware on Weibo, Interested on Xiaohongshu
and a Purchaser on Tmall: the per-platform funnels count them once on each
platform, the cross-platform funnel once, at the highest stage.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import pyarrow.compute as pc

from omniplug.errors import OmniplugError
from omniplug.report.data import OutputFolder, china_day, china_day_sql

__all__ = ["STAGES", "aipl_section", "stitching_section", "IDS_PER_PERSON_CAP"]

log = logging.getLogger(__name__)

#: AIPL stages in funnel order.
STAGES = ("A", "I", "P", "L")
#: Identifiers per person from this many on are one bucket of the histogram.
IDS_PER_PERSON_CAP = 8


def _as_of(folder: OutputFolder) -> date | None:
    if folder.has("aipl") and "as_of" in folder.columns("aipl"):
        found = folder.scalar("SELECT max(as_of) FROM aipl")
        if found is not None:
            return found if isinstance(found, date) else date.fromisoformat(str(found))
    latest = []
    for table, column in (("touchpoints", "event_time"), ("orders", "order_time")):
        if folder.has(table):
            latest.append(folder.scalar(f"SELECT max({china_day_sql(column)}) FROM {table}"))
    latest = [d for d in latest if d is not None]
    return china_day(max(latest)) if latest else None


def _counts(stages: list[Any]) -> dict[str, int]:
    counts = dict.fromkeys(STAGES, 0)
    for stage in stages:
        if stage in counts:
            counts[stage] += 1
    return counts


def aipl_section(folder: OutputFolder) -> dict[str, Any]:
    """Persons per AIPL stage across platforms and per platform.

    Returns a dict: ``as_of`` (ISO date), ``funnels`` (a list of
    ``{"scope": "all platforms" | platform, "counts": {stage: persons}}``,
    the cross-platform one first), ``flows`` (the rows of ``aipl_flows``
    where the stage changed, largest first) and ``notes``.
    """
    section: dict[str, Any] = {"as_of": None, "funnels": [], "flows": [], "notes": []}
    as_of = _as_of(folder)
    section["as_of"] = as_of.isoformat() if as_of else None
    if folder.has("aipl"):
        counts = {r["stage"]: int(r["n"]) for r in folder.rows("SELECT stage, count(*) AS n FROM aipl GROUP BY 1")}
        section["funnels"].append({"scope": "all platforms", "counts": {s: counts.get(s, 0) for s in STAGES}})
        if folder.has("aipl_flows"):
            # Moves only: persons who kept their stage are the funnel itself.
            section["flows"] = [
                {"from_date": r["from_date"].isoformat(), "to_date": r["to_date"].isoformat(),
                 "from_stage": r["from_stage"], "to_stage": r["to_stage"], "persons": int(r["persons"])}
                for r in folder.rows("SELECT * FROM aipl_flows WHERE from_stage IS DISTINCT FROM to_stage "
                                     "ORDER BY persons DESC, from_stage NULLS FIRST, to_stage NULLS FIRST")]
    else:
        section["notes"].append("aipl.parquet not found: the cross-platform funnel needs `omniplug run` to finish")
    if not folder.has("touchpoints", "orders") or as_of is None:
        return section
    from omniplug.attribution import aipl

    touches, orders = folder.arrow("touchpoints"), folder.arrow("orders")
    persons = folder.arrow("persons") if folder.has("persons") else None
    platforms = sorted((set(pc.unique(touches.column("platform")).to_pylist())
                        | set(pc.unique(orders.column("platform")).to_pylist())) - {None})
    for platform in platforms:
        try:
            stages = aipl(touches.filter(pc.equal(touches.column("platform"), platform)),
                          orders.filter(pc.equal(orders.column("platform"), platform)),
                          persons=persons, as_of=as_of)
        except OmniplugError as exc:
            log.warning("report: AIPL of %s failed: %s", platform, exc)
            section["notes"].append(f"AIPL of {platform} could not be computed: {exc}")
            continue
        section["funnels"].append({"scope": platform, "counts": _counts(stages.column("stage").to_pylist())})
    return section


def stitching_section(folder: OutputFolder) -> dict[str, Any]:
    """Persons, identifiers per person, platforms per person, identifier types and guardrail cuts.

    Returns a dict: ``report`` (``stitch_report.json``, may be ``None``),
    ``persons``, ``identifiers``, ``ids_per_person`` (histogram rows
    ``{"ids": "1".."8+", "persons": n}``), ``platforms_per_person`` (persons
    by the number of platforms where they touched or ordered), ``id_types``,
    ``cuts`` (links cut per guardrail rule, from the report), ``cut_rows``
    (``cuts.parquet`` summed by rule) and ``note``.
    """
    section: dict[str, Any] = {"report": folder.stitch_report(), "persons": None, "identifiers": None,
                               "ids_per_person": [], "platforms_per_person": [], "id_types": [], "cuts": [],
                               "cut_rows": [], "note": None}
    if not folder.has("persons"):
        section["note"] = "persons.parquet not found: run `omniplug stitch` or `omniplug run`"
    else:
        section["persons"] = int(folder.scalar("SELECT count(DISTINCT person_id) FROM persons") or 0)
        section["identifiers"] = folder.count("persons")
        cap = IDS_PER_PERSON_CAP
        hist = {int(r["k"]): int(r["n"]) for r in folder.rows(
            f"SELECT least(n, {cap}) AS k, count(*) AS n FROM "
            f"(SELECT person_id, count(*) AS n FROM persons GROUP BY 1) GROUP BY 1")}
        section["ids_per_person"] = [{"ids": f"{k}+" if k == cap else str(k), "persons": hist.get(k, 0)}
                                     for k in range(min(hist, default=1), max(hist, default=1) + 1)]
        section["id_types"] = folder.rows(
            "SELECT id_type, count(*) AS identifiers, count(DISTINCT person_id) AS persons FROM persons "
            "GROUP BY 1 ORDER BY 2 DESC, 1")
        seen = [f"SELECT DISTINCT platform, id_type, id_value FROM {t}" for t in ("touchpoints", "orders")
                if folder.has(t)]
        if seen:
            rows = folder.rows(
                f"SELECT k, count(*) AS n FROM (SELECT p.person_id, count(DISTINCT s.platform) AS k "
                f"FROM ({' UNION '.join(seen)}) s JOIN persons p USING (id_type, id_value) GROUP BY 1) GROUP BY 1 "
                f"ORDER BY 1")
            section["platforms_per_person"] = [{"platforms": int(r["k"]), "persons": int(r["n"])} for r in rows]
    report = section["report"] or {}
    cut = report.get("links_cut")
    if isinstance(cut, dict):
        section["cuts"] = [{"rule": str(k), "links": int(v)} for k, v in cut.items() if isinstance(v, (int, float))]
    if folder.has("cuts") and {"rule", "links"} <= set(folder.columns("cuts")):
        merge = "sum(would_merge_persons)" if "would_merge_persons" in folder.columns("cuts") else "NULL"
        section["cut_rows"] = folder.rows(
            f"SELECT rule, count(*) AS cuts, sum(links) AS links, {merge} AS would_merge_persons "
            f"FROM cuts GROUP BY 1 ORDER BY 3 DESC, 1")
    return section

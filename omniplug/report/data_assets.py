"""The cross-platform creative reuse matrix: which creative ran where, and what it did in total.

A *creative* is an asset group of ``asset_groups.parquet`` (the materials the
perceptual-hash matcher found to be edits of one original: a Douyin cover,
its Xiaohongshu crop and its Tmall banner with a price band). Without that
file each ``material_id`` is its own creative, and the section says so.
Per creative and platform: the materials, their touches, spend, and the
revenue credited to them (:func:`omniplug.report.data_credit.credited`: from
``attribution.parquet`` by material when it has the column); per creative,
the combined spend, credited revenue and ROI across platforms.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from omniplug.report.data import OutputFolder
from omniplug.report.data_credit import credited, ratio
from omniplug.report.thumbs import MediaSource, thumbnail

__all__ = ["MAX_CREATIVES", "material_section"]

#: Creatives shown in the matrix (the rest are counted in a note).
MAX_CREATIVES = 40


def _groups(folder: OutputFolder) -> tuple[str, dict[tuple[str, str], tuple[str, int]]]:
    """``(grouping, {(platform, material_id): (creative key, distance)})``."""
    if folder.has("asset_groups") and {"asset_id", "material_id", "platform"} <= set(folder.columns("asset_groups")):
        dist = "distance" if "distance" in folder.columns("asset_groups") else "0"
        rows = folder.rows(f"SELECT platform, material_id, asset_id, {dist} AS distance FROM asset_groups")
        return "asset_groups", {(r["platform"], r["material_id"]): (f"asset {r['asset_id']}", int(r["distance"] or 0))
                                for r in rows}
    return "material_id", {}


def material_section(folder: OutputFolder, models: list[str], breakdown_error: str | None,
                     media: MediaSource | None = None) -> dict[str, Any]:
    """The reuse matrix.

    Returns a dict: ``grouping`` (``asset_groups`` or ``material_id``),
    ``platforms``, ``creatives`` (sorted by credited revenue under the
    first model; each with ``key``, ``title``, ``media_type``, ``thumb``
    (a ``data:`` URI or ``None``), ``cells`` per platform (materials,
    touches, spend, revenue), and combined ``spend``, ``revenue`` and
    ``roi`` per model), ``total`` creatives, ``multi_platform`` (creatives
    on two platforms or more), ``thumbs`` (how many have a picture) and ``note``.
    """
    section: dict[str, Any] = {"grouping": None, "platforms": [], "creatives": [], "total": 0, "multi_platform": 0,
                               "thumbs": 0, "models": models, "note": None, "source": None}
    if not folder.has("materials"):
        section["note"] = "materials.parquet not found: no creative to show"
        return section
    grouping, groups = _groups(folder)
    section["grouping"] = grouping
    materials = folder.rows("SELECT material_id, platform, media_type, uri, title FROM materials "
                            "ORDER BY platform, material_id")
    touches: dict[tuple[str, str], int] = {}
    if folder.has("touchpoints"):
        touches = {(r["platform"], r["material_id"]): int(r["n"]) for r in folder.rows(
            "SELECT platform, material_id, count(*) AS n FROM touchpoints WHERE material_id IS NOT NULL GROUP BY ALL")}
    spend: dict[tuple[str, str], float] = {}
    if folder.has("spend"):
        spend = {(r["platform"], r["material_id"]): float(r["s"] or 0.0) for r in folder.rows(
            "SELECT platform, material_id, CAST(sum(spend) AS DOUBLE) AS s FROM spend "
            "WHERE material_id IS NOT NULL GROUP BY ALL")}
    rows, section["source"] = credited(folder, ("material_id",), breakdown_error)
    credit = {(r["model"], r["platform"], r["material_id"]): float(r["revenue"] or 0.0) for r in rows
              if r["material_id"] is not None}
    creatives: dict[str, dict[str, Any]] = {}
    members: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for m in materials:
        key, distance = groups.get((m["platform"], m["material_id"]), (f"material {m['material_id']}", 0))
        members[key].append((distance, m))
        c = creatives.setdefault(key, {"key": key, "cells": {}, "spend": 0.0, "has_spend": False,
                                       "revenue": dict.fromkeys(models, 0.0), "materials": 0})
        cell = c["cells"].setdefault(m["platform"], {"materials": 0, "touches": 0, "spend": 0.0,
                                                     "revenue": dict.fromkeys(models, 0.0)})
        ident = (m["platform"], m["material_id"])
        cell["materials"] += 1
        cell["touches"] += touches.get(ident, 0)
        cell["spend"] += spend.get(ident, 0.0)
        c["has_spend"] |= ident in spend
        c["spend"] += spend.get(ident, 0.0)
        c["materials"] += 1
        for model in models:
            got = credit.get((model, *ident), 0.0)
            cell["revenue"][model] += got
            c["revenue"][model] += got
    first = models[0] if models else None
    ordered = sorted(creatives.values(), key=lambda c: (-(c["revenue"].get(first, 0.0) if first else 0.0),
                                                        -c["spend"], c["key"]))
    section["platforms"] = sorted({m["platform"] for m in materials})
    section["total"] = len(ordered)
    section["multi_platform"] = sum(1 for c in ordered if len(c["cells"]) > 1)
    for c in ordered[:MAX_CREATIVES]:
        # The representative: closest to the group's reference, then a still image before a video.
        group = sorted(members[c["key"]], key=lambda dm: (dm[0], dm[1]["media_type"] != "image",
                                                           dm[1]["platform"], dm[1]["material_id"]))
        rep = group[0][1]
        c["title"] = rep["title"] or rep["material_id"]
        c["media_type"] = rep["media_type"]
        c["thumb"] = None
        for _, m in group:
            c["thumb"] = thumbnail(m["platform"], m["material_id"], m["uri"], m["media_type"], media)
            if c["thumb"]:
                break
        c["spend"] = c["spend"] if c["has_spend"] else None
        c["roi"] = {m: ratio(v, c["spend"]) for m, v in c["revenue"].items()}
        section["creatives"].append(c)
    section["thumbs"] = sum(1 for c in section["creatives"] if c["thumb"])
    return section

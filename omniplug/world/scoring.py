"""How close omniplug's results come to the world's truth (the demo's report card).

* :func:`stitching_scores`: precision and recall of same-person identifier
  pairs. Recall counts the pairs the *genuine* links reveal (links between
  identifiers of one true person; the planted test-phone links are not
  genuine), since no stitcher can find a pair no data connects.
* :func:`asset_scores`: precision and recall of same-creative material
  pairs: two materials are the same asset when the world cut them from the
  same creative (whatever each platform's edit did to it).
* :func:`attribution_agreement`: per model, how much of the credited revenue
  by (platform, channel) agrees with the revenue the world's behaviour model
  generated (each order's revenue on the touch that led to it):
  ``1 - (L1 distance of the two revenue shares) / 2``, from 0 to 1.
"""

from __future__ import annotations

import itertools
from collections import defaultdict

import pyarrow as pa

__all__ = ["asset_scores", "stitching_scores", "attribution_agreement"]

Ident = tuple[str, str]


def _components(pairs: list[tuple[Ident, Ident]]) -> list[set[Ident]]:
    parent: dict[Ident, Ident] = {}

    def find(x: Ident) -> Ident:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[Ident, set[Ident]] = defaultdict(set)
    for x in list(parent):
        groups[find(x)].add(x)
    return list(groups.values())


def _pairs(groups: list[set[Ident]]) -> set[frozenset[Ident]]:
    return {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}


def stitching_scores(links: pa.Table, persons: pa.Table, truth_identities: pa.Table) -> tuple[float, float]:
    """(precision, recall) of the same-person pairs in ``persons`` against the truth."""
    truth = {(r["id_type"], r["id_value"]): r["person_id"] for r in truth_identities.to_pylist()}
    found: dict[int, set[Ident]] = defaultdict(set)
    for row in persons.to_pylist():
        found[row["person_id"]].add((row["id_type"], row["id_value"]))
    predicted = _pairs(list(found.values()))
    genuine = [((r["left_type"], r["left_value"]), (r["right_type"], r["right_value"])) for r in links.to_pylist()]
    genuine = [(a, b) for a, b in genuine if a in truth and b in truth and truth[a] == truth[b]]
    revealed = _pairs(_components(genuine))
    precision = sum(1 for p in predicted if len({truth.get(i) for i in p}) == 1) / len(predicted) if predicted else 1.0
    recall = len(revealed & predicted) / len(revealed) if revealed else 1.0
    return precision, recall


def asset_scores(asset_groups: pa.Table, truth_materials: pa.Table) -> tuple[float, float]:
    """(precision, recall) of the same-asset material pairs in ``asset_groups`` against the world's creatives.

    Materials missing from ``asset_groups`` (never fingerprinted, or rejected)
    count as unmatched: they lower recall, never precision.
    """
    creative = {(r["platform"], r["material_id"]): r["creative_id"] for r in truth_materials.to_pylist()}
    found: dict[int, set[Ident]] = defaultdict(set)
    for row in asset_groups.to_pylist():
        found[row["asset_id"]].add((row["platform"], row["material_id"]))
    predicted = _pairs(list(found.values()))
    by_creative: dict[int, set[Ident]] = defaultdict(set)
    for key, creative_id in creative.items():
        by_creative[creative_id].add(key)
    truth = _pairs(list(by_creative.values()))
    correct = sum(1 for p in predicted if len({creative.get(i) for i in p}) == 1 and None not in
                  {creative.get(i) for i in p})
    precision = correct / len(predicted) if predicted else 1.0
    recall = len(truth & predicted) / len(truth) if truth else 1.0
    return precision, recall


def attribution_agreement(attribution: pa.Table, world_tables: dict[str, pa.Table],
                          order_touches: pa.Table) -> dict[str, float]:
    """Per model, agreement (0-1) of credited revenue shares by (platform, channel) with the truth."""
    touches = {(r["platform"], r["event_id"]): (r["platform"], r["channel"])
               for r in world_tables["touchpoints"].select(["platform", "event_id", "channel"]).to_pylist()}
    orders = {(r["platform"], r["order_id"]): (r["status"], float(r["amount"]))
              for r in world_tables["orders"].select(["platform", "order_id", "status", "amount"]).to_pylist()}
    truth: dict[tuple[str, str], float] = defaultdict(float)
    for row in order_touches.to_pylist():
        status, amount = orders[(row["platform"], row["order_id"])]
        if status == "paid":
            truth[touches[(row["event_platform"], row["event_id"])]] += amount
    scores = {}
    names = attribution.column_names
    if not {"platform", "channel"} <= set(names):
        return scores
    for model in sorted(set(attribution.column("model").to_pylist())):
        credited: dict[tuple[str, str], float] = defaultdict(float)
        for row in attribution.to_pylist():
            if row["model"] == model and row["attributed"]:
                credited[(row["platform"], row["channel"])] += row["revenue"]
        total_t, total_c = sum(truth.values()), sum(credited.values())
        if not total_t or not total_c:
            continue
        keys = set(truth) | set(credited)
        distance = sum(abs(truth[k] / total_t - credited[k] / total_c) for k in keys)
        scores[model] = 1 - distance / 2
    return scores

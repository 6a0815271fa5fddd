"""The engine steps of ``omniplug run``, after fetching: stitch, attribute, AIPL.

Each step reads the compacted canonical tables of the output folder, calls
the public function (:func:`omniplug.stitch`, :func:`omniplug.attribute`,
:func:`omniplug.aipl`) and writes its outputs atomically. A step runs only
when one of its inputs changed this run (or its output is missing), so a
run with nothing new rewrites nothing.

Stitching is a full rebuild over the compacted ``identity_links`` (the whole
history) that takes its ids from the previous ``persons.parquet``: ids stay
stable, merges and splits are recorded, and ``next_person_id`` is carried in
``stitch_report.json`` so a vanished id is never issued again.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from omniplug.aipl_flows import stage_flows
from omniplug.attribution import aipl, attribute
from omniplug.config import PipelineConfig
from omniplug.fields import CHINA_TZ
from omniplug.identity import stitch
from omniplug.pipeline_assets import with_asset_ids
from omniplug.sync import write_parquet_atomic

__all__ = ["ENGINE_OUTPUTS", "run_stitch", "run_attribution", "run_aipl"]

#: Tables the engine steps write (also loaded into the DuckDB database).
ENGINE_OUTPUTS = ("asset_groups", "persons", "merges", "splits", "cuts", "attribution", "aipl", "aipl_flows")


def _stale(out: Path, inputs: tuple[str, ...], outputs: tuple[str, ...], changed: set[str]) -> bool:
    if not all((out / f"{name}.parquet").exists() for name in inputs):
        return False
    return bool(changed & set(inputs)) or not all((out / f"{name}.parquet").exists() for name in outputs)


def run_stitch(out: Path, config: PipelineConfig, changed: set[str]) -> dict[str, Path]:
    """Stitch ``identity_links`` into ``persons`` (and merges, splits, cuts, stitch_report.json)."""
    if not _stale(out, ("identity_links",), ("persons",), changed):
        return {}
    settings = config.stitch
    report_path = out / "stitch_report.json"
    previous = pq.read_table(out / "persons.parquet") if (out / "persons.parquet").exists() else None
    next_id = json.loads(report_path.read_text())["next_person_id"] if report_path.exists() else None
    result = stitch(
        pq.read_table(out / "identity_links.parquet"), previous=previous, mode="rebuild", next_person_id=next_id,
        max_component_size=settings.max_component_size, max_ids_per_type=settings.max_ids_per_type,
        type_priority=settings.type_priority, hub_degree=settings.hub_degree,
        hub_degree_per_type=settings.hub_degree_per_type, blocked_values=settings.blocked_values,
        cap_order=settings.cap_order,
    )
    written = {}
    for name in ("persons", "merges", "splits", "cuts"):
        write_parquet_atomic(getattr(result, name), out / f"{name}.parquet")
        written[name] = out / f"{name}.parquet"
    tmp = report_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result.report, indent=2), encoding="utf-8")
    tmp.replace(report_path)
    return written


def run_attribution(out: Path, config: PipelineConfig, changed: set[str]) -> dict[str, Path]:
    """Attribute ``orders`` to ``touchpoints`` with every configured model; spend joined for ROI."""
    inputs = ("touchpoints", "orders", "persons")
    also = ({"persons"} if "identity_links" in changed else set()) | (
        {"touchpoints"} if "asset_groups" in changed else set())
    if not _stale(out, inputs, ("attribution",), changed | also):
        return {}
    settings = config.attribution
    # Touches and spend carry the asset of their material, so results can be
    # read per cross-platform creative (group_by = [..., "asset_id"]).
    groups = pq.read_table(out / "asset_groups.parquet") if (out / "asset_groups.parquet").exists() else None
    spend = pq.read_table(out / "spend.parquet") if (out / "spend.parquet").exists() else None
    spend = with_asset_ids(spend, groups) if spend is not None else None
    table = attribute(
        with_asset_ids(pq.read_table(out / "touchpoints.parquet"), groups), pq.read_table(out / "orders.parquet"),
        persons=pq.read_table(out / "persons.parquet"), spend=spend, model=settings.models,
        lookback_days=settings.lookback_days, group_by=settings.group_by,
        half_life_days=settings.half_life_days, weights=settings.weights,
    )
    write_parquet_atomic(table, out / "attribution.parquet")
    return {"attribution": out / "attribution.parquet"}


def _last_day(tables: list[pa.Table], columns: list[str]) -> date:
    latest = max((pc.max(t.column(c)).as_py() for t, c in zip(tables, columns, strict=True) if t.num_rows),
                 default=None)
    if latest is None:
        return datetime.now(CHINA_TZ).date()
    return (latest.astimezone(CHINA_TZ)).date()


def run_aipl(out: Path, config: PipelineConfig, changed: set[str]) -> dict[str, Path]:
    """AIPL stage of every person as of ``[aipl] as_of`` (default: the data's last day)."""
    outputs = ("aipl", "aipl_flows") if config.aipl.flow_days else ("aipl",)
    if not _stale(out, ("touchpoints", "orders", "persons"), outputs,
                  changed | ({"persons"} if "identity_links" in changed else set())):
        return {}
    touches, orders = pq.read_table(out / "touchpoints.parquet"), pq.read_table(out / "orders.parquet")
    as_of = config.aipl.as_of or _last_day([touches, orders], ["event_time", "order_time"])
    persons = pq.read_table(out / "persons.parquet")
    table = aipl(touches, orders, persons=persons, as_of=as_of)
    write_parquet_atomic(table, out / "aipl.parquet")
    written = {"aipl": out / "aipl.parquet"}
    if config.aipl.flow_days:
        earlier = aipl(touches, orders, persons=persons, as_of=as_of - timedelta(days=config.aipl.flow_days))
        write_parquet_atomic(stage_flows(earlier, table), out / "aipl_flows.parquet")
        written["aipl_flows"] = out / "aipl_flows.parquet"
    return written

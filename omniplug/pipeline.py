"""``omniplug run``: every configured platform and stream, then the outputs.

The pipeline is a thin composition of the steps that exist as functions of
their own (DESIGN §5-6):

1. **fetch**: each enabled ``[platforms.<name>]`` section, every stream it
   asks for (all by default), through :func:`omniplug.sync.sync_stream`;
   platforms run in parallel threads (each platform's streams in order,
   sharing its rate limiter);
2. **compact**: the tables that received new rows are merged into
   ``<out>/<table>.parquet`` (newest version of each primary key);
3. **stitch, attribute, aipl** (:mod:`omniplug.pipeline_steps`): persons,
   attribution by every configured model with spend and ROI, AIPL stages,
   each recomputed only when its inputs changed;
4. **database**: ``<out>/omniplug.duckdb`` is rebuilt when a table changed.

A second run with nothing new fetches from the saved cursors, finds
nothing, and rewrites nothing. A run killed at any point resumes from the
saved cursors when started again, with the same final outputs.
Fingerprinting, asset matching and the report join here as they land.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from omniplug.config import PipelineConfig, PlatformConfig, config_fingerprint, validate_platform_config
from omniplug.errors import ConfigError, OmniplugError, PluginError
from omniplug.outputs import DATABASE_FILENAME, write_database
from omniplug.pipeline_assets import cached_thumbnails, run_fingerprint, run_match
from omniplug.pipeline_steps import ENGINE_OUTPUTS, run_aipl, run_attribution, run_stitch
from omniplug.plugins import PluginRegistry
from omniplug.progress import NullProgress, Progress
from omniplug.report import REPORT_FILENAME, build_report
from omniplug.schema import TABLES
from omniplug.state import StateStore
from omniplug.sync import PARTS_DIR, StreamResult, compact_tables, sync_stream

__all__ = ["RunSummary", "run_pipeline", "PlatformClock"]

#: ``(now, sleep)`` to run one platform on a simulated clock (the demo's simulators).
PlatformClock = tuple[Callable[[], datetime], Callable[[float], Any]]


@dataclass
class RunSummary:
    """What a pipeline run did.

    Attributes:
        run_id: id of the run in the run log.
        out_dir: the output folder.
        streams: per ``platform/stream``, its result.
        tables: the output files whose content changed this run (only those are rewritten).
        rows: rows fetched this run per table (snapshot streams such as
            product lists re-read everything; only changes reach the outputs).
        rejects: rejected rows this run per reason.
        materials: materials fingerprinted and rejected this run.
        seconds: wall time per step.
        database: the DuckDB database, when it was (re)built.
        report: ``report.html``, when it was (re)built.
    """

    run_id: str
    out_dir: Path
    streams: dict[str, StreamResult] = field(default_factory=dict)
    tables: dict[str, Path] = field(default_factory=dict)
    rows: Counter[str] = field(default_factory=Counter)
    rejects: Counter[str] = field(default_factory=Counter)
    materials: dict[str, int] = field(default_factory=lambda: {"fingerprinted": 0, "rejected": 0})
    seconds: dict[str, float] = field(default_factory=dict)
    database: Path | None = None
    report: Path | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-able summary for ``--json`` and the run log."""
        return {
            "run_id": self.run_id,
            "out_dir": str(self.out_dir),
            "rows": dict(self.rows),
            "rejects": dict(self.rejects),
            "materials": dict(self.materials),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "tables": {k: str(v) for k, v in self.tables.items()},
            "database": str(self.database) if self.database else None,
            "report": str(self.report) if self.report else None,
            "streams": {k: {"rows": dict(v.rows), "rejects": dict(v.rejects), "batches": v.batches}
                        for k, v in self.streams.items()},
        }


def _platform_configs(config: PipelineConfig, registry: PluginRegistry) -> dict[str, PlatformConfig]:
    source = config.source or "pipeline"
    validated: dict[str, PlatformConfig] = {}
    for name, raw in config.platforms.items():
        try:
            spec = registry.platform(name)
        except PluginError:
            known = ", ".join(sorted(registry.platforms)) or "none installed"
            raise ConfigError(f"{source}: platforms.{name}: unknown platform (installed: {known})") from None
        platform = validate_platform_config(name, raw, spec.config_model, source=config.source,
                                            known_streams=[s.name for s in spec.streams])
        if platform.enabled:
            validated[name] = platform
    if not validated:
        raise ConfigError(f"{source}: no enabled [platforms.<name>] section; add one per platform to fetch")
    return validated


def _fetch_platform(
    registry: PluginRegistry, name: str, cfg: PlatformConfig, *, out: Path, state: StateStore, run_id: str,
    progress: Progress, clock: PlatformClock | None,
) -> dict[str, StreamResult]:
    spec = registry.platform(name)
    streams = cfg.streams or [s.name for s in spec.streams]
    now, sleep = clock if clock is not None else (None, None)
    results = {}
    for stream in streams:
        results[f"{name}/{stream}"] = sync_stream(
            registry, name, stream, config=cfg, out_dir=out, state=state, run_id=run_id, progress=progress,
            compact=False, cleanup=False, now=now, sleep=sleep,
        )
    return results


def run_pipeline(
    config: PipelineConfig,
    registry: PluginRegistry,
    *,
    progress: Progress | None = None,
    clocks: dict[str, PlatformClock] | None = None,
    max_parallel_platforms: int = 4,
) -> RunSummary:
    """Run every configured platform and stream, then write the outputs.

    Args:
        config: the validated pipeline file.
        registry: the loaded plugins.
        progress: where to show progress.
        clocks: per platform, a simulated ``(now, sleep)`` (for simulators).
        max_parallel_platforms: platforms fetched at the same time.

    Raises:
        ConfigError: unknown platform, missing credential, nothing enabled.
        OmniplugError: a platform failed (the run is logged as failed; what
            was committed stays, and the next run resumes from there).
    """
    progress = progress or NullProgress()
    platforms = _platform_configs(config, registry)
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    with StateStore.open(out) as state:
        run_id = state.start_run("run", config_fingerprint(config, platforms))
        summary = RunSummary(run_id, out)
        try:
            # Once, before any stream runs: parts a killed run wrote but never committed.
            state.forget_uncommitted(PARTS_DIR, out_dir=out)
            _fetch_all(registry, platforms, summary, state, progress, clocks or {}, max_parallel_platforms)
            _write_outputs(summary, state, config, registry, platforms, progress)
        except BaseException as exc:
            state.finish_run(run_id, "failed", {**summary.to_json(), "error": str(exc)})
            raise
        state.finish_run(run_id, "succeeded", summary.to_json())
    return summary


def _fetch_all(
    registry: PluginRegistry, platforms: dict[str, PlatformConfig], summary: RunSummary, state: StateStore,
    progress: Progress, clocks: dict[str, PlatformClock], max_parallel: int,
) -> None:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, min(max_parallel, len(platforms)))) as pool:
        futures = {
            name: pool.submit(_fetch_platform, registry, name, cfg, out=summary.out_dir, state=state,
                              run_id=summary.run_id, progress=progress, clock=clocks.get(name))
            for name, cfg in platforms.items()
        }
        errors: list[str] = []
        for name, future in futures.items():
            try:
                summary.streams.update(future.result())
            except OmniplugError as exc:
                text = str(exc)
                errors.append(text if text.startswith(f"{name}:") else f"{name}: {text}")
    for result in summary.streams.values():
        summary.rows.update(result.rows)
        summary.rejects.update(result.rejects)
    summary.seconds["fetch"] = time.perf_counter() - started
    if errors:
        raise OmniplugError("; ".join(errors))


def _write_outputs(summary: RunSummary, state: StateStore, config: PipelineConfig, registry: PluginRegistry,
                   platforms: dict[str, PlatformConfig], progress: Progress) -> None:
    started = time.perf_counter()
    changed = {table for table, n in summary.rows.items() if n} | ({"rejects"} if summary.rejects else set())
    missing = {t for t in TABLES if state.committed_parts(table=t) and not (summary.out_dir / f"{t}.parquet").exists()}
    to_compact: Iterable[str] = sorted(changed | missing)
    summary.tables.update(compact_tables(summary.out_dir, state, tables=to_compact))
    summary.seconds["compact"] = time.perf_counter() - started
    modified = set(summary.tables)
    if config.assets.enabled:
        started = time.perf_counter()
        done = run_fingerprint(summary.out_dir, config, registry, state, run_id=summary.run_id,
                               platforms=platforms, progress=progress)
        summary.materials = {"fingerprinted": done["fingerprinted"], "rejected": done["rejected"]}
        summary.tables.update(done["tables"])
        modified |= set(done["tables"])
        summary.seconds["fingerprint"] = time.perf_counter() - started
        started = time.perf_counter()
        written = run_match(summary.out_dir, config, modified)
        summary.tables.update(written)
        modified |= set(written)
        summary.seconds["match"] = time.perf_counter() - started
    for step, run in (("stitch", run_stitch), ("attribute", run_attribution), ("aipl", run_aipl)):
        started = time.perf_counter()
        written = run(summary.out_dir, config, modified)
        summary.tables.update(written)
        modified |= set(written)
        summary.seconds[step] = time.perf_counter() - started
    started = time.perf_counter()
    if summary.tables or not (summary.out_dir / DATABASE_FILENAME).exists():
        summary.database = write_database(summary.out_dir, [*TABLES, *ENGINE_OUTPUTS])
    summary.seconds["database"] = time.perf_counter() - started
    started = time.perf_counter()
    if summary.tables or not (summary.out_dir / REPORT_FILENAME).exists():
        summary.report = build_report(summary.out_dir, settings=config.attribution,
                                      media=cached_thumbnails(summary.out_dir))
    summary.seconds["report"] = time.perf_counter() - started

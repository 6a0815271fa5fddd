"""``omniplug demo``: a seeded brand world, served by the platform simulators, fetched for real.

The demo builds the synthetic world (:mod:`omniplug.world`), starts the
simulator of every installed platform plugin on loopback, serving that
world, points the plugin at it and runs every stream over real HTTP into an
output folder. It then compares what was fetched with the world's truth.

It grows with the project: the steps that exist run; stitching, asset
matching, attribution and the report join as they land.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from omniplug.config import PipelineConfig
from omniplug.errors import ConfigError
from omniplug.pipeline import RunSummary, run_pipeline
from omniplug.plugins import PluginRegistry
from omniplug.progress import NullProgress, Progress
from omniplug.sync import StreamResult
from omniplug.world import PLATFORMS, World, WorldConfig, build_world
from omniplug.world.scoring import asset_scores, attribution_agreement, stitching_scores

__all__ = ["DemoResult", "run_demo"]


@dataclass
class DemoResult:
    """What the demo did and how it compares with the truth.

    Attributes:
        out_dir: where the outputs are.
        platforms: the platforms that took part (installed and simulated).
        missing: world platforms whose plugin is not installed.
        streams: per ``platform/stream``, the stream result.
        comparison: per ``platform/table``: (rows fetched, rows in the world).
        seconds: wall time per step.
        run: the pipeline run's summary.
        stitching: (precision, recall) of same-person pairs against the truth.
        assets: (precision, recall) of same-creative material pairs (asset
            grouping) against the world's creatives.
        attribution: per model, agreement (0-1) of credited revenue by
            platform and channel with the revenue the world's behaviour model generated.
    """

    out_dir: Path
    platforms: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    streams: dict[str, StreamResult] = field(default_factory=dict)
    comparison: dict[str, tuple[int, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    run: RunSummary | None = None
    stitching: tuple[float, float] | None = None
    assets: tuple[float, float] | None = None
    attribution: dict[str, float] = field(default_factory=dict)

    @property
    def matches_truth(self) -> bool:
        """True when every fetched table has exactly the world's row count."""
        return all(got == want for got, want in self.comparison.values())

    def throughput(self) -> dict[str, tuple[int, float]]:
        """Per step, ``(rows it worked on, rows per second)``: what ``--scale`` benchmark runs report.

        fetch: canonical rows fetched; fingerprint: materials; stitch:
        identity links; attribute and aipl: touchpoints plus orders.
        """
        def rows(*tables: str) -> int:
            return sum(pq.ParquetFile(p).metadata.num_rows for t in tables
                       if (p := self.out_dir / f"{t}.parquet").exists())

        work = {
            "fetch": sum(self.run.rows.values()) if self.run else 0,
            "fingerprint": self.run.materials["fingerprinted"] if self.run else 0,
            "stitch": rows("identity_links"),
            "attribute": rows("touchpoints", "orders"),
            "aipl": rows("touchpoints", "orders"),
        }
        return {step: (n, n / self.seconds[step]) for step, n in work.items()
                if n and self.seconds.get(step, 0) > 0}


@contextlib.contextmanager
def _simulators(registry: PluginRegistry, world: World, platforms: list[str]) -> Iterator[dict[str, Any]]:
    started: dict[str, Any] = {}
    try:
        for name in platforms:
            factory = registry.platform(name).simulator
            assert factory is not None
            started[name] = factory(world=world, seed=world.config.seed).start()
        yield started
    finally:
        for sim in started.values():
            sim.stop()


#: Marks a folder as the demo's own, so a later demo may empty it.
DEMO_MARKER = ".omniplug-demo"


def _fresh_demo_folder(out: Path) -> Path:
    if out.exists() and any(out.iterdir()):
        if not (out / DEMO_MARKER).exists():
            raise ConfigError(f"{out} is not empty and was not written by omniplug demo; "
                              "choose an empty or new folder with --out")
        for child in out.iterdir():
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text("written by omniplug demo; the next demo run empties this folder\n",
                                   encoding="utf-8")
    return out


def run_demo(
    registry: PluginRegistry,
    out_dir: str | Path,
    *,
    scale: float = 1.0,
    seed: int = 7,
    progress: Progress | None = None,
) -> DemoResult:
    """Build the world, serve it, fetch every stream of every installed platform, compare.

    Args:
        registry: loaded plugins; platforms of the world without an
            installed plugin (or without a simulator) are reported as missing.
        out_dir: output folder (created). A folder a previous demo wrote is
            emptied first: its saved tokens and cursors belong to simulators
            that are gone. Any other non-empty folder is refused.
        scale: multiplies the number of consumers of the default world.
        seed: seed of the world.
        progress: progress reporter.

    Raises:
        ConfigError: ``out_dir`` holds files that a demo did not write.
    """
    out = _fresh_demo_folder(Path(out_dir))
    progress = progress or NullProgress()
    result = DemoResult(out)
    clock = time.perf_counter()
    world = build_world(WorldConfig(seed=seed).scaled(scale))
    result.seconds["world"] = time.perf_counter() - clock
    for name in PLATFORMS:
        spec = registry.platforms.get(name)
        (result.platforms if spec is not None and spec.simulator is not None else result.missing).append(name)
    with _simulators(registry, world, result.platforms) as sims:
        config = PipelineConfig(
            output_dir=out, platforms={name: sim.pipeline_section() for name, sim in sims.items()}
        )
        summary = run_pipeline(config, registry, progress=progress,
                               clocks={name: (sim.clock.now, sim.clock.sleep) for name, sim in sims.items()})
    result.run = summary
    result.streams = summary.streams
    result.seconds.update(summary.seconds)
    _compare(result, world)
    _score(result, world)
    return result


def _score(result: DemoResult, world: World) -> None:
    out = result.out_dir
    if (out / "persons.parquet").exists():
        result.stitching = stitching_scores(pq.read_table(out / "identity_links.parquet"),
                                            pq.read_table(out / "persons.parquet"), world.truth["truth_identities"])
    if (out / "asset_groups.parquet").exists():
        result.assets = asset_scores(pq.read_table(out / "asset_groups.parquet"), world.truth["truth_materials"])
    if (out / "attribution.parquet").exists():
        result.attribution = attribution_agreement(pq.read_table(out / "attribution.parquet"), world.tables,
                                                   world.truth["truth_order_touches"])


def _compare(result: DemoResult, world: World) -> None:
    for name in result.platforms:
        truth = world.slice(name)
        for table in sorted({t for key, r in result.streams.items() if key.startswith(f"{name}/") for t in r.rows}):
            path = result.out_dir / f"{table}.parquet"
            fetched = pq.read_table(path, filters=[("platform", "=", name)]).num_rows if path.exists() else 0
            result.comparison[f"{name}/{table}"] = (fetched, truth[table].num_rows if table in truth else 0)

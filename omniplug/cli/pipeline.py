"""Commands that run everything: ``run`` (a pipeline file) and ``demo`` (a simulated brand world)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from omniplug.cli import cli
from omniplug.cli._common import installed_plugins, writable_dir
from omniplug.errors import OmniplugError


@cli.command("run")
@click.argument("pipeline", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary (for ETL jobs).")
def run_cmd(pipeline: Path, as_json: bool) -> None:
    """Run the PIPELINE file: every configured platform and stream, then the outputs.

    Platforms are fetched in parallel; each table lands in OUT/<table>.parquet.
    Then new materials are fingerprinted and grouped into assets
    (asset_groups), identifiers are stitched into persons, orders are
    attributed under every configured model (attribution, with spend and ROI)
    and persons get their AIPL stage (aipl, and aipl_flows: who moved). Everything is also in the DuckDB
    database OUT/omniplug.duckdb (`duckdb OUT/omniplug.duckdb "select ..."`)
    and summarised in OUT/report.html. Run it again to fetch only what is
    new (steps whose inputs did not change are skipped); a run killed at any
    point resumes from its saved cursors.

    
    Optional sections (defaults shown):
      [assets]       enabled = true, max_distance = 8 (of 64 bits)
      [stitch]       max_component_size = 200, hub_degree = 100, blocked_values = [],
                     cap_order = "trust" (or "arrival": first come, first served)
      [attribution]  models = ["last_touch", "linear"], lookback_days = 30,
                     group_by = ["platform", "channel", "campaign_id", "kol_id", "material_id", "asset_id"]
      [aipl]         as_of = the last day of the data, flow_days = 7 (aipl_flows.parquet:
                     who moved between stages since as_of - flow_days; 0 = off)

    \b
    Example pipeline.toml:
      output_dir = "out"
      [platforms.tmall]
      app_key = "12345678"
      app_secret = "${TMALL_APP_SECRET}"
      session = "${TMALL_SESSION}"
    """
    from omniplug.config import load_pipeline
    from omniplug.pipeline import run_pipeline
    from omniplug.progress import RichProgress

    config = load_pipeline(pipeline)
    writable_dir(config.output_dir)
    registry = installed_plugins()
    with RichProgress() as progress:
        summary = run_pipeline(config, registry, progress=progress)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"run {summary.run_id}: outputs in {summary.out_dir}")
    if not summary.tables:
        click.echo("  nothing changed")
    for table, rows in sorted(summary.rows.items()):
        state = "updated" if table in summary.tables else "unchanged"
        click.echo(f"  {table:<22} {rows:>10} rows fetched   {state}")
    for reason, count in summary.rejects.most_common(10):
        click.echo(f"  rejects {count:>8} x {reason}")
    if any(summary.materials.values()):
        click.echo(f"  materials: {summary.materials['fingerprinted']} fingerprinted, "
                   f"{summary.materials['rejected']} rejected (see rejects, stream 'fingerprint')")
    if summary.database:
        click.echo(f"  database: {summary.database}")
    if summary.report:
        click.echo(f"  report: {summary.report}")
    click.echo("  time: " + ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items()))


@cli.command("demo")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo-out"),
              show_default=True, help="Output folder.")
@click.option("--scale", type=float, default=1.0, show_default=True,
              help="Multiply the number of consumers of the demo world (for batch benchmarks).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed of the demo world.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def demo_cmd(out_dir: Path, scale: float, seed: int, as_json: bool) -> None:
    """Run omniplug end to end on a seeded brand world served by local platform simulators.

    Builds a synthetic brand world (consumers on several platforms, campaigns,
    KOLs, creatives re-edited per platform as real image and video files,
    touches, orders, spend), starts the simulator of every installed platform
    on loopback and runs the whole pipeline against them over real HTTP into
    OUT (fetch, fingerprint, stitch, match, attribute, AIPL, DuckDB,
    report.html). Then it compares the results with the world's truth: rows
    per table, stitching and asset-grouping precision/recall, attribution
    agreement; and prints time and rows per second per step.

    \b
    Examples:
      omniplug demo                       the default world (about a minute on 2 cores)
      omniplug demo --scale 10 --json     a 10x world, machine-readable figures per step
    """
    from omniplug.demo import run_demo
    from omniplug.progress import RichProgress

    with RichProgress() as progress:
        result = run_demo(installed_plugins(), writable_dir(out_dir), scale=scale, seed=seed, progress=progress)
    if as_json:
        click.echo(json.dumps({
            "out_dir": str(result.out_dir), "platforms": result.platforms, "missing": result.missing,
            "comparison": {k: {"fetched": a, "truth": b} for k, (a, b) in result.comparison.items()},
            "seconds": result.seconds, "matches_truth": result.matches_truth,
            "stitching": result.stitching, "assets": result.assets, "attribution_agreement": result.attribution,
            "throughput": {k: {"rows": n, "rows_per_second": rate} for k, (n, rate) in result.throughput().items()},
        }, indent=2))
    else:
        click.echo(f"omniplug demo: outputs in {result.out_dir}/")
        if not result.platforms:
            click.echo("  no platform plugin with a simulator is installed (install plugins/<platform>)")
        for key, (fetched, truth) in sorted(result.comparison.items()):
            mark = "ok" if fetched == truth else "MISMATCH"
            click.echo(f"  {key:<36} fetched {fetched:>7}   truth {truth:>7}   {mark}")
        if result.missing:
            click.echo(f"  not installed: {', '.join(result.missing)}")
        if result.stitching:
            precision, recall = result.stitching
            click.echo(f"  stitching vs truth: precision {precision:.4f}, recall {recall:.4f} (same-person pairs)")
        if result.assets:
            precision, recall = result.assets
            click.echo(f"  asset grouping vs truth: precision {precision:.4f}, recall {recall:.4f} "
                       "(same-creative material pairs)")
        for model, agreement in result.attribution.items():
            click.echo(f"  attribution vs the world's behaviour model: {model:<14} revenue agreement {agreement:.3f}")
        click.echo(f"  query it: duckdb {result.out_dir}/omniplug.duckdb \"select * from attribution\"")
        if result.run is not None and result.run.report is not None:
            click.echo(f"  read it: {result.run.report}")
        click.echo("  time: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items()))
        click.echo("  rows/s: " + ", ".join(f"{k} {rate:,.0f} ({n:,} rows)"
                                           for k, (n, rate) in result.throughput().items()))
    if not result.matches_truth:
        raise OmniplugError("the fetched tables do not match the world's truth (see the table above)")

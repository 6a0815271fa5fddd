"""The ``omniplug`` command line.

Every command is a thin layer over a Python function of the same name, so
what the CLI does an ETL job can do from Python. Errors omniplug raises on
purpose print as one line saying what to fix (exit status 2); ``--debug``
shows the traceback.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from omniplug import __version__
from omniplug.errors import OmniplugError

__all__ = ["main", "cli"]

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class _Cli(click.Group):
    """Turns omniplug's own errors into one-line messages unless --debug is on."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OmniplugError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"omniplug: error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Cli, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="omniplug")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs (secrets stay redacted).")
@click.option("-v", "--verbose", count=True, help="Log retries and waits (-v) or every request (-vv).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int) -> None:
    """omniplug: connect Tmall, JD, Douyin, Xiaohongshu and Weibo into one brand-side view.

    \b
    Typical flow:
      omniplug plugins                          what platforms and streams are installed
      omniplug simulate tmall --port 8801       a local Tmall (TOP) simulator to try things on
      omniplug fetch tmall orders --config pipeline.toml --out out/
      omniplug import tmall orders export.csv --out out/
      omniplug run pipeline.toml                every platform and stream, Parquet + DuckDB
      omniplug demo                             the whole thing on a simulated brand world

    Each command's --help explains its options. Configuration lives in a
    pipeline TOML file; secrets are read from environment variables with
    ${NAME} references and are never logged.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    level = logging.DEBUG if debug else {0: logging.ERROR, 1: logging.WARNING}.get(verbose, logging.INFO)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _registry() -> Any:
    from omniplug.plugins import load_registry

    return load_registry()


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins, their platforms, streams and the tables each stream yields.

    Plugins are found through the 'omniplug' entry-point group. Limit which
    load with OMNIPLUG_LOAD_PLUGINS=name1,name2; make a broken plugin fatal
    with OMNIPLUG_STRICT_PLUGINS=1.
    """
    registry = _registry()
    platforms = registry.platforms
    if as_json:
        payload = {
            "platforms": [
                {
                    "name": spec.name,
                    "plugin": spec.plugin,
                    "description": spec.description,
                    "identifier_types": list(spec.identifier_types),
                    "streams": [
                        {
                            "name": s.name,
                            "tables": list(s.tables),
                            "cursor": s.cursor,
                            "import": s.read_export is not None,
                            "description": s.description,
                        }
                        for s in spec.streams
                    ],
                }
                for spec in sorted(platforms.values(), key=lambda p: p.name)
            ],
            "broken": [vars(b) for b in registry.broken],
        }
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    if not platforms:
        click.echo("No platform plugins installed. Install one, e.g. `pip install -e plugins/tmall`.")
    for spec in sorted(platforms.values(), key=lambda p: p.name):
        title = f"{spec.name}  (plugin: {spec.plugin})"
        click.echo(click.style(title, bold=True))
        if spec.description:
            click.echo(f"  {spec.description}")
        for s in spec.streams:
            extra = "  [import]" if s.read_export is not None else ""
            click.echo(f"  - {s.name:<16} -> {', '.join(s.tables):<45} cursor: {s.cursor}{extra}")
    for broken in registry.broken:
        click.echo(f"skipped broken plugin {broken.name} ({broken.distribution}): {broken.error}", err=True)


def _parse_when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    from omniplug.fields import parse_when

    try:
        return parse_when(value)
    except OmniplugError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _platform_config(registry: Any, platform: str, config_path: Path) -> tuple[Any, Any]:
    from omniplug.config import load_pipeline, validate_platform_config
    from omniplug.errors import ConfigError

    spec = registry.platform(platform)
    pipeline = load_pipeline(config_path)
    raw = pipeline.platforms.get(platform)
    if raw is None:
        raise ConfigError(
            f"{config_path}: no [platforms.{platform}] section; add one with its credentials "
            f"(see the {platform} plugin's README)"
        )
    return pipeline, validate_platform_config(platform, raw, spec.config_model, source=config_path)


def _print_result(result: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.summary(), indent=2, ensure_ascii=False, default=str))
        return
    for table, rows in sorted(result.rows.items()):
        click.echo(f"{table:<22} {rows:>10} rows -> {result.tables.get(table, '')}")
    if result.rejects:
        click.echo(f"{'rejects':<22} {result.n_rejects:>10} rows -> {result.tables.get('rejects', '')}")
        for reason, count in result.rejects.most_common(10):
            click.echo(f"    {count:>8} x {reason}")
    if not result.rows and not result.rejects:
        click.echo("nothing new to fetch")


@cli.command("fetch")
@click.argument("platform")
@click.argument("stream")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="Pipeline TOML with a [platforms.PLATFORM] section.")
@click.option("--since", help="Start of the window (inclusive): a date or datetime, China time "
              "unless it carries an offset. Without it the stream resumes from its saved cursor.")
@click.option("--until", help="End of the window (exclusive), same format as --since.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Output folder (default: output_dir of the pipeline file).")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def fetch_cmd(platform: str, stream: str, config_path: Path, since: str | None, until: str | None,
              out_dir: Path | None, as_json: bool) -> None:
    """Fetch one STREAM of one PLATFORM and write its canonical tables.

    Each table lands in OUT/<table>.parquet; rows that fail validation land in
    OUT/rejects.parquet with the reason. Interrupt it at any point and run the
    same command again: it resumes from the saved cursor, without losing or
    duplicating records.

    \b
    Example:
      omniplug fetch tmall orders --config pipeline.toml --since 2026-11-01 --until 2026-11-08 --out out/
    """
    from omniplug.progress import RichProgress
    from omniplug.sync import sync_stream

    registry = _registry()
    pipeline, config = _platform_config(registry, platform, config_path)
    out = _writable_dir(out_dir or pipeline.output_dir)
    with RichProgress() as progress:
        result = sync_stream(
            registry, platform, stream, config=config, out_dir=out,
            since=_parse_when(since, "--since"), until=_parse_when(until, "--until"),
            progress=progress,
        )
    _print_result(result, as_json)


@cli.command("import")
@click.argument("platform")
@click.argument("stream")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
def import_cmd(platform: str, stream: str, file: Path, out_dir: Path, as_json: bool) -> None:
    """Import a back-office export FILE (CSV/XLSX as the platform writes it) of PLATFORM's STREAM.

    The file goes through the same normalise and validation as fetched data;
    `omniplug plugins` marks streams that accept an import with [import].
    """
    from omniplug.progress import RichProgress
    from omniplug.sync import import_file

    registry = _registry()
    with RichProgress() as progress:
        result = import_file(registry, platform, stream, file, out_dir=_writable_dir(out_dir), progress=progress)
    _print_result(result, as_json)


@cli.command("simulate")
@click.argument("platform")
@click.option("--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0 picks a free one).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulated world.")
def simulate_cmd(platform: str, port: int, seed: int) -> None:
    """Run PLATFORM's simulator in the foreground until Ctrl-C.

    Point a pipeline at it by setting base_url in [platforms.PLATFORM] to the
    printed address. The simulator checks what the real platform checks
    (signatures, tokens, paging limits, throttling).
    """
    registry = _registry()
    spec = registry.platform(platform)
    if spec.simulator is None:
        raise OmniplugError(f"the {platform} plugin ships no simulator")
    from omniplug.testing.clock import Clock

    # Real time: clients in other processes stamp and sign requests with the real clock.
    sim = spec.simulator(seed=seed, port=port, clock=Clock())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sim:
        click.echo(f"{platform} simulator listening on {sim.base_url} (seed {seed}); Ctrl-C to stop")
        for line in getattr(sim, "describe", lambda: [])():
            click.echo(f"  {line}")
        sys.stdout.flush()
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass


@cli.command("stitch")
@click.argument("links", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--previous", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Yesterday's persons.parquet: person ids stay stable (a merge keeps the oldest id).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder.")
@click.option("--max-component-size", type=int, help="Most identifiers per person (default 200).")
@click.option("--max-ids", "max_ids", multiple=True, metavar="TYPE=N",
              help="Cap of identifiers of one type per person, e.g. --max-ids phone_sha256=3 (repeatable).")
@click.option("--hub-degree", type=int, help="Distinct partners above which an identifier is a hub (default 100).")
@click.option("--block", "blocked", multiple=True, metavar="VALUE", help="A value that never links (repeatable).")
@click.option("--rebuild", is_flag=True, help="LINKS hold the whole history (not only what is new since --previous).")
def stitch_cmd(links: Path, previous: Path | None, out_dir: Path, max_component_size: int | None,
               max_ids: tuple[str, ...], hub_degree: int | None, blocked: tuple[str, ...], rebuild: bool) -> None:
    """Stitch the identifier pairs of LINKS (identity_links.parquet) into persons.

    Writes OUT/persons.parquet (id_type, id_value, person_id),
    OUT/stitch_report.json (counts, largest person, cuts by rule),
    OUT/cuts.parquet (every identifier or link a guardrail cut, and why),
    OUT/merges.parquet (old id -> surviving id) and OUT/splits.parquet.

    \b
    Example, a daily run keeping ids stable:
      omniplug stitch out/identity_links.parquet --previous stitched/persons.parquet --out stitched/
    """
    import pyarrow.parquet as pq

    from omniplug.identity import stitch
    from omniplug.sync import write_parquet_atomic

    caps = {}
    for item in max_ids:
        name, _, value = item.partition("=")
        if not value.isdigit():
            raise click.BadParameter(f"expected TYPE=N, got {item!r}", param_hint="--max-ids")
        caps[name] = int(value)
    out = _writable_dir(out_dir)
    prev = pq.read_table(previous) if previous else None
    next_id = None
    report_path = (previous.parent / "stitch_report.json") if previous else None
    if report_path is not None and report_path.exists():
        next_id = json.loads(report_path.read_text()).get("next_person_id")
    result = stitch(pq.read_table(links), previous=prev, max_component_size=max_component_size,
                    max_ids_per_type=caps or None, hub_degree=hub_degree, blocked_values=list(blocked),
                    mode="rebuild" if rebuild else "incremental", next_person_id=next_id)
    for name in ("persons", "merges", "splits", "cuts"):
        write_parquet_atomic(getattr(result, name), out / f"{name}.parquet")
    (out / "stitch_report.json").write_text(json.dumps(result.report, indent=2), encoding="utf-8")
    r = result.report
    click.echo(f"{r['identifiers']} identifiers -> {r['components']} persons (largest {r['largest_component']}); "
               f"cut: {r['cuts_by_rule'] or 'nothing'}; outputs in {out}")


@cli.command("run")
@click.argument("pipeline", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary (for ETL jobs).")
def run_cmd(pipeline: Path, as_json: bool) -> None:
    """Run the PIPELINE file: every configured platform and stream, then the outputs.

    Platforms are fetched in parallel; each table lands in OUT/<table>.parquet
    and in the DuckDB database OUT/omniplug.duckdb (query it with
    `duckdb OUT/omniplug.duckdb "select ..."`). Run it again to fetch only
    what is new; a run killed at any point resumes from its saved cursors.

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
    _writable_dir(config.output_dir)
    registry = _registry()
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
    if summary.database:
        click.echo(f"  database: {summary.database}")
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
    KOLs, creatives, touches, orders, spend), starts the simulator of every
    installed platform on loopback, fetches every stream over real HTTP into
    OUT and compares the fetched tables with the world's truth.
    """
    from omniplug.demo import run_demo
    from omniplug.progress import RichProgress

    with RichProgress() as progress:
        result = run_demo(_registry(), _writable_dir(out_dir), scale=scale, seed=seed, progress=progress)
    if as_json:
        click.echo(json.dumps({
            "out_dir": str(result.out_dir), "platforms": result.platforms, "missing": result.missing,
            "comparison": {k: {"fetched": a, "truth": b} for k, (a, b) in result.comparison.items()},
            "seconds": result.seconds, "matches_truth": result.matches_truth,
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
        click.echo("  time: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items()))
    if not result.matches_truth:
        raise OmniplugError("the fetched tables do not match the world's truth (see the table above)")


def _writable_dir(path: Path) -> Path:
    from omniplug.errors import ConfigError

    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".omniplug-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"output folder {path} is not writable ({exc.strerror}); choose another with --out") from None
    return path


def main() -> None:
    """Entry point of the ``omniplug`` console script."""
    cli(obj={})


if __name__ == "__main__":
    main()

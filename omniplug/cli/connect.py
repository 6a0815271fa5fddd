"""Commands that talk to platforms: ``plugins``, ``fetch``, ``import``, ``simulate``."""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from omniplug.cli import cli
from omniplug.cli._common import installed_plugins, writable_dir
from omniplug.errors import OmniplugError


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins, their platforms, streams and the tables each stream yields.

    Plugins are found through the 'omniplug' entry-point group. Limit which
    load with OMNIPLUG_LOAD_PLUGINS=name1,name2; make a broken plugin fatal
    with OMNIPLUG_STRICT_PLUGINS=1.
    """
    registry = installed_plugins()
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

    registry = installed_plugins()
    pipeline, config = _platform_config(registry, platform, config_path)
    out = writable_dir(out_dir or pipeline.output_dir)
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

    registry = installed_plugins()
    with RichProgress() as progress:
        result = import_file(registry, platform, stream, file, out_dir=writable_dir(out_dir), progress=progress)
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
    registry = installed_plugins()
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

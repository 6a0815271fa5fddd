"""The ``omniplug`` command line.

Commands live in modules by concern: :mod:`omniplug.cli.connect` (plugins,
fetch, import, simulate), :mod:`omniplug.cli.engine` (stitch and the other
core engines), :mod:`omniplug.cli.material` (match), :mod:`omniplug.cli.pipeline` (run, demo),
:mod:`omniplug.cli.audience` (audience, mmm),
:mod:`omniplug.cli.report` (report), :mod:`omniplug.cli.scaffold` (new-plugin).

Every command is a thin layer over a Python function of the same name, so
what the CLI does an ETL job can do from Python. Errors omniplug raises on
purpose print as one line saying what to fix (exit status 2); ``--debug``
shows the traceback.
"""

from __future__ import annotations

import logging
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
      omniplug match out/materials.parquet --out assets/   one asset per re-edited creative
      omniplug run pipeline.toml                every platform and stream, Parquet + DuckDB
      omniplug report out/                      out/report.html: ROI, KOLs, AIPL, material reuse
      omniplug audience out/ --platform douyin --stage I   re-targeting files per AIPL stage
      omniplug mmm out/ --format robyn          daily spend and credited conversions for an MMM
      omniplug demo                             the whole thing on a simulated brand world
      omniplug new-plugin acme_mall             scaffold a plugin for a new platform

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


# The commands register themselves on `cli` when their modules are imported.
from omniplug.cli import audience, connect, engine, material, pipeline, report, scaffold  # noqa: E402,F401


def main() -> None:
    """Entry point of the ``omniplug`` console script."""
    cli(obj={})

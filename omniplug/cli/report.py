"""``omniplug report``: the HTML report of an output folder."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import click

from omniplug.cli import cli


@cli.command("report")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the page (default OUT_DIR/report.html).")
@click.option("--pipeline", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The pipeline file of the run: its [attribution] settings (lookback, half-life, weights) "
                   "are used for the KOL, creative and trend breakdowns.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the default web browser.")
def report_cmd(out_dir: Path, output: Path | None, pipeline: Path | None, open_page: bool) -> None:
    """Write report.html for OUT_DIR, the output folder of `omniplug run` or `omniplug demo`.

    One self-contained page (no network needed to open it: send it by mail,
    put it on a shared drive) with:

    \b
      ROI         credited revenue, spend and ROI by platform and channel,
                  every attribution model side by side
      KOLs        cost, credited revenue, ROI and daily trend per KOL account
      AIPL        the Aware-Interest-Purchase-Loyalty funnel across platforms
                  (stitched persons) and per platform
      Creatives   which creative ran on which platform (asset groups from
                  `omniplug match`), with thumbnails and combined effect
      Stitching   persons, identifiers per person, links cut by guardrail
      Quality     rows kept per table and platform, rejects by reason

    Every number comes from the Parquet files in OUT_DIR; docs/report.md
    says how each is computed. `omniplug run` writes the report at the end
    of each run; use this command after running steps by hand.

    \b
    Examples:
      omniplug report out/
      omniplug report out/ --pipeline pipeline.toml -o /tmp/brand-report.html --open
    """
    from omniplug.report import build_report

    settings = None
    if pipeline is not None:
        from omniplug.config import load_pipeline

        settings = load_pipeline(pipeline).attribution
    path = build_report(out_dir, output, settings=settings)
    click.echo(f"report: {path}")
    if open_page:
        webbrowser.open(path.resolve().as_uri())

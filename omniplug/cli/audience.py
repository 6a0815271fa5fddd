"""Commands that hand the pipeline's results to other tools: ``audience`` (DMP uploads) and ``mmm`` (Robyn, Meridian).

Both read the output folder of ``omniplug run`` (``aipl.parquet``,
``persons.parquet``, ``touchpoints.parquet``, ``orders.parquet``,
``spend.parquet``) and write next to it unless told otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, cast

import click

from omniplug.audience import STAGES
from omniplug.audience_formats import FORMATS
from omniplug.cli import cli
from omniplug.cli._common import writable_dir


def _read(out_dir: Path, table: str, *, required: bool = True, hint: str = "run `omniplug run` first") -> Any:
    import pyarrow.parquet as pq

    from omniplug.errors import InvalidInputError

    path = out_dir / f"{table}.parquet"
    if not path.exists():
        if required:
            raise InvalidInputError(f"{out_dir} has no {table}.parquet: {hint}")
        return None
    return pq.read_table(path)


def _segment_sql(out_dir: Path, sql: str) -> Any:
    """Run a saved filter: SQL over the folder's tables (each ``<name>.parquet`` as view ``<name>``)."""
    import duckdb

    from omniplug.errors import InvalidInputError

    text = Path(sql[1:]).read_text(encoding="utf-8") if sql.startswith("@") else sql
    con = duckdb.connect()
    try:
        for parquet in sorted(out_dir.glob("*.parquet")):
            escaped = str(parquet).replace("'", "''")
            con.execute(f'CREATE VIEW "{parquet.stem}" AS SELECT * FROM read_parquet(\'{escaped}\')')
        try:
            table = con.sql(text).to_arrow_table()
        except duckdb.Error as exc:
            raise InvalidInputError(f"--sql failed: {exc}") from None
    finally:
        con.close()
    if "person_id" not in table.column_names:
        raise InvalidInputError(f"--sql must return a person_id column (it returned {table.column_names})")
    return table


def _segment_file(path: Path) -> Any:
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    return pcsv.read_csv(path) if path.suffix.lower() == ".csv" else pq.read_table(path)


@cli.command("audience")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--platform", "platforms", multiple=True, required=True, type=click.Choice(sorted(FORMATS)),
              help="Platform to write an upload for (repeatable).")
@click.option("--stage", "stages", multiple=True, type=click.Choice(STAGES),
              help="AIPL stage to export (repeatable): A aware, I interested, P purchased, L loyal.")
@click.option("--sql", help="A saved filter: SQL over OUT_DIR's tables returning person_id, or @file.sql.")
@click.option("--segment", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A Parquet or CSV file with a person_id column (a segment made elsewhere).")
@click.option("--name", help="Audience name (default aipl-<stages> or segment).")
@click.option("--to", "to_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where audiences go (default OUT_DIR/audiences).")
@click.option("--max-lines", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Most identifiers per text file (more are split into -partN files).")
def audience_cmd(out_dir: Path, platforms: tuple[str, ...], stages: tuple[str, ...], sql: str | None,
                 segment: Path | None, name: str | None, to_dir: Path | None, max_lines: int) -> None:
    """Write re-targeting audiences: the hashed identifiers a platform's DMP upload accepts.

    Picks persons by AIPL stage (OUT_DIR/aipl.parquet) and/or a saved
    filter (--sql, --segment), finds every identifier each holds
    (OUT_DIR/persons.parquet), and writes per platform the files its
    audience upload takes: one lower-case hex hash per line per id type,
    and for Douyin also Ocean Engine's API zip (base64 protobuf lines).
    A manifest.json lists counts and each file's MD5. Raw phones are never
    written: only SHA-256/MD5 digests.

    \b
    Examples:
      omniplug audience out/ --platform douyin --stage I
      omniplug audience out/ --platform tmall --platform jd --stage P --stage L
      omniplug audience out/ --platform xiaohongshu --name big-spenders \\
          --sql "select person_id from aipl where stage = 'P'"
    """
    from omniplug.audience import export_audiences
    from omniplug.errors import InvalidInputError

    if not stages and sql is None and segment is None:
        raise click.UsageError("choose people with --stage, --sql or --segment")
    if sql is not None and segment is not None:
        raise click.UsageError("--sql and --segment are two ways to give a segment: use one")
    people = _segment_sql(out_dir, sql) if sql is not None else _segment_file(segment) if segment else None
    aipl = _read(out_dir, "aipl", required=bool(stages), hint="run `omniplug run` (or `omniplug aipl`) first")
    persons = _read(out_dir, "persons", hint="run `omniplug run` (or `omniplug stitch`) first")
    if people is None and aipl is None:
        raise InvalidInputError(f"{out_dir} has no aipl.parquet")
    target = writable_dir(to_dir or out_dir / "audiences")
    extra = {"sql": sql} if sql else {"segment": str(segment)} if segment else None
    for platform in platforms:
        result = export_audiences(aipl if stages else None, persons, platform=platform, out_dir=target,
                                  stages=list(stages) or None, segment=people, name=name, max_lines=max_lines,
                                  extra=extra)
        counts = ", ".join(f"{f.upload_type} {f.ids}" for f in result.files if f.path.suffix == ".txt") or "no ids"
        click.echo(f"{platform}: {result.reached} of {result.persons} persons reachable ({counts}) -> {result.folder}")


@cli.command("mmm")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["robyn", "meridian", "table"]), default="robyn",
              show_default=True, help="robyn (R), meridian (Python), or table (the long daily table only).")
@click.option("--period", type=click.Choice(["day", "week"]),
              help="Rows per day or per Monday-Sunday week (default: day; week for meridian).")
@click.option("--model", default="last_touch", show_default=True,
              help="Attribution model crediting conversions to channels (see `omniplug attribute --help`).")
@click.option("--lookback-days", type=float, default=30, show_default=True, help="Days a touch counts before an order.")
@click.option("--outcome", type=click.Choice(["revenue", "conversions"]),
              help="The dependent variable (default: revenue for robyn, conversions for meridian).")
@click.option("--to", "to_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the files go (default OUT_DIR/mmm/<format>).")
def mmm_cmd(out_dir: Path, fmt: str, period: str | None, model: str, lookback_days: float, outcome: str | None,
            to_dir: Path | None) -> None:
    """Hand the brand's media data to a marketing-mix model (Robyn or Meridian).

    Builds one row per day (or week), platform and channel: spend,
    impressions, clicks (OUT_DIR/spend.parquet), touches, and conversions
    and revenue credited by an attribution model; and the outcome: all
    paid orders and revenue per day. Writes them in the wide shape the
    tool reads, with a ready loader script:

    \b
      robyn:    robyn_input.csv, robyn_inputs.R (robyn_inputs() call), robyn_spec.json
      meridian: meridian_input.csv, meridian_load.py (CsvDataLoader), meridian_spec.json
      table:    mmm_daily.parquet, mmm_outcome.parquet
    plus mmm_daily.csv, the long table, to compare the model with attribution.

    \b
    Examples:
      omniplug mmm out/                            Robyn, daily
      omniplug mmm out/ --format meridian          Meridian, weekly
      omniplug mmm out/ --format table --model linear
    """
    from omniplug.mmm import mmm_input, mmm_outcome
    from omniplug.mmm_writers import write_daily_csv, write_meridian, write_robyn
    from omniplug.sync import write_parquet_atomic

    every = cast(Literal["day", "week"], period or ("week" if fmt == "meridian" else "day"))
    daily = mmm_input(_read(out_dir, "spend"), _read(out_dir, "touchpoints"), _read(out_dir, "orders"),
                      persons=_read(out_dir, "persons", required=False), model=model, period=every,
                      lookback_days=lookback_days)
    dates = daily.column("date")
    first = min(dates.to_pylist(), default=None)
    last = max(dates.to_pylist(), default=None)
    result = mmm_outcome(_read(out_dir, "orders"), period=every, start=first, end=last)
    target = writable_dir(to_dir or out_dir / "mmm" / fmt)
    if fmt == "robyn":
        files = write_robyn(daily, result, target, period=every, dep_var=outcome or "revenue")
        written = [files.table, files.script, files.spec, files.daily]
    elif fmt == "meridian":
        files = write_meridian(daily, result, target, period=every, kpi=outcome or "conversions")
        written = [files.table, files.script, files.spec, files.daily]
    else:
        write_parquet_atomic(daily, target / "mmm_daily.parquet")
        write_parquet_atomic(result, target / "mmm_outcome.parquet")
        written = [target / "mmm_daily.parquet", target / "mmm_outcome.parquet",
                   write_daily_csv(daily, target / "mmm_daily.csv")]
    media = sorted({f"{r['platform']}_{r['channel']}" for r in daily.select(["platform", "channel"]).to_pylist()})
    click.echo(f"{len(result)} {every}s x {len(media)} platform/channel pairs ({model} credit) -> "
               + ", ".join(str(p) for p in written))

"""``omniplug match``: fingerprint materials and group the re-edited copies of one creative into assets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from omniplug.cli import cli
from omniplug.cli._common import writable_dir

if TYPE_CHECKING:
    import pyarrow as pa

    from omniplug.media import MediaReader


@cli.command("match")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Output folder.")
@click.option("--max-distance", type=click.IntRange(0, 32),
              help="Largest Hamming distance (of 64 bits) between window hashes of one asset "
                   "(default: the core's tuned value).")
@click.option("--max-image-mb", type=click.IntRange(1), default=32, show_default=True,
              help="Images larger than this are rejected unread.")
@click.option("--max-video-mb", type=click.IntRange(1), default=512, show_default=True,
              help="Videos larger than this are rejected unread.")
@click.option("--progress/--no-progress", "show_progress", default=True, help="Progress bar while reading media.")
def match_cmd(source: Path, out_dir: Path, max_distance: int | None, max_image_mb: int, max_video_mb: int,
              show_progress: bool) -> None:
    """Group materials that are the same creative, re-edited per platform, into assets.

    SOURCE is either a materials table (materials.parquet: material_id,
    platform, media_type, uri) - each uri (http, https, file or a local path)
    is read and hashed - or a material_fingerprints.parquet from an earlier
    run, which is grouped without reading any media.

    \b
    Writes:
      OUT/asset_groups.parquet           material_id, platform, asset_id, distance
      OUT/material_fingerprints.parquet  (from a materials table) every hash
      OUT/rejects.parquet                (from a materials table) materials that
                                         could not be read or decoded, and why

    Materials with the same asset_id are one creative: resized, cropped,
    padded, mirrored, re-encoded or watermarked copies, and video covers and
    frames. distance is the Hamming distance to the asset's representative.

    \b
    Examples:
      omniplug match out/materials.parquet --out assets/
      omniplug match assets/material_fingerprints.parquet --out assets/ --max-distance 8
    """
    import pyarrow.parquet as pq

    from omniplug.assets import group_assets
    from omniplug.media import MIB, MediaLimits, MediaReader
    from omniplug.sync import write_parquet_atomic

    out = writable_dir(out_dir)
    table = pq.read_table(source)
    if "hash" in table.column_names:
        fingerprints = table
    else:
        missing = {"material_id", "platform", "uri"} - set(table.column_names)
        if missing:
            raise click.BadParameter(f"{source} has neither a hash column (fingerprints) nor the materials "
                                     f"columns {sorted(missing)}", param_hint="SOURCE")
        limits = MediaLimits(max_image_bytes=max_image_mb * MIB, max_video_bytes=max_video_mb * MIB)
        with MediaReader(limits) as reader:
            tables = _fingerprint_in_chunks(table, reader, show_progress)
        fingerprints = tables["material_fingerprints"]
        write_parquet_atomic(fingerprints, out / "material_fingerprints.parquet")
        write_parquet_atomic(tables["rejects"], out / "rejects.parquet")
        if tables["rejects"].num_rows:
            click.echo(f"{tables['rejects'].num_rows} materials rejected (see {out / 'rejects.parquet'})", err=True)
    groups = group_assets(fingerprints, **({} if max_distance is None else {"max_distance": max_distance}))
    write_parquet_atomic(groups, out / "asset_groups.parquet")
    assets = len(set(groups.column("asset_id").to_pylist()))
    click.echo(f"{groups.num_rows} materials -> {assets} assets; written to {out / 'asset_groups.parquet'}")


def _fingerprint_in_chunks(table: pa.Table, reader: MediaReader, show_progress: bool) -> dict[str, pa.Table]:
    """Fingerprint ``table`` 256 rows at a time, with a progress bar."""
    import pyarrow as pa

    from omniplug.material import fingerprint_materials
    from omniplug.progress import RichProgress
    from omniplug.schema import TABLES

    fingerprints, rejects = [], []
    with RichProgress(enabled=None if show_progress else False) as progress:
        task = progress.task("materials fingerprinted", total=table.num_rows, unit="materials")
        for start in range(0, table.num_rows, 256):
            chunk = table.slice(start, 256)
            done = fingerprint_materials(chunk, reader)
            fingerprints.append(done["material_fingerprints"])
            rejects.append(done["rejects"])
            task.advance(chunk.num_rows)
        task.finish()
    return {"material_fingerprints": pa.concat_tables(fingerprints) if fingerprints
            else TABLES["material_fingerprints"].empty_table(),
            "rejects": pa.concat_tables(rejects) if rejects else TABLES["rejects"].empty_table()}

"""Commands of the core engines on files: ``stitch`` (and, as they land, ``match``, ``attribute``, ``aipl``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from omniplug.cli import cli
from omniplug.cli._common import writable_dir

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
    out = writable_dir(out_dir)
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

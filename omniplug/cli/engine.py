"""Commands of the core engines on files: ``stitch``, ``attribute``, ``aipl`` (``match``: cli.material)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def _read(path: Path | None) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(path) if path is not None else None


@cli.command("attribute")
@click.option("--touchpoints", "touchpoints", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True, help="touchpoints.parquet")
@click.option("--orders", "orders", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="orders.parquet")
@click.option("--persons", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="persons.parquet from `omniplug stitch`: joins touches and orders across identifiers.")
@click.option("--spend", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="spend.parquet: adds spend and ROI where the group-by columns allow.")
@click.option("--model", "models", multiple=True, default=("last_touch",), show_default=True,
              help="last_touch, first_touch, linear, time_decay, position_based, weighted, markov, markov_2, "
                   "markov_3, shapley, shapley_exact (repeatable; all run in one pass).")
@click.option("--group-by", default="platform,channel", show_default=True,
              help="Comma-separated touchpoint columns, e.g. platform,channel,campaign_id,kol_id,material_id.")
@click.option("--lookback-days", default="30", show_default=True,
              help="Days a touch counts, or per event type: impression=1,default=30.")
@click.option("--half-life-days", type=float, default=7.0, show_default=True, help="Of time_decay.")
@click.option("--weights", help="Of weighted: a preset (beauty, apparel, 3c, fmcg) or click=2,impression=0.5.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def attribute_cmd(touchpoints: Path, orders: Path, persons: Path | None, spend: Path | None, models: tuple[str, ...],
                  group_by: str, lookback_days: str, half_life_days: float, weights: str | None,
                  out_dir: Path) -> None:
    """Credit paid orders to the touches before them; write OUT/attribution.parquet.

    One row per model and group-by key with conversions, revenue, spend and
    ROI, and per model one row (attributed = false) with the orders no touch
    led to.

    \\b
    Example:
      omniplug attribute --touchpoints out/touchpoints.parquet --orders out/orders.parquet \\
          --persons stitched/persons.parquet --spend out/spend.parquet \\
          --model last_touch --model linear --model markov --group-by platform,channel --out effect/
    """
    from omniplug.attribution import attribute
    from omniplug.sync import write_parquet_atomic

    lookback: Any = _pairs(lookback_days, "--lookback-days") if "=" in lookback_days else float(lookback_days)
    weight_spec: Any = _pairs(weights, "--weights") if weights and "=" in weights else weights
    table = attribute(_read(touchpoints), _read(orders), persons=_read(persons), spend=_read(spend),
                      model=list(models), lookback_days=lookback, group_by=[g for g in group_by.split(",") if g],
                      half_life_days=half_life_days, weights=weight_spec)
    out = writable_dir(out_dir)
    write_parquet_atomic(table, out / "attribution.parquet")
    click.echo(f"{table.num_rows} rows -> {out / 'attribution.parquet'}")


@cli.command("aipl")
@click.option("--touchpoints", "touchpoints", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              required=True)
@click.option("--orders", "orders", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--persons", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="persons.parquet from `omniplug stitch`.")
@click.option("--as-of", "as_of", required=True, help="The date (China time) the stages are computed for.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def aipl_cmd(touchpoints: Path, orders: Path, persons: Path | None, as_of: str, out_dir: Path) -> None:
    """Put every person in an AIPL stage as of a date; write OUT/aipl.parquet.

    A = passive contact within 15 days, I = active contact within 15 days,
    P = a purchase within 365 days, L = a repeat purchase or a share after a
    purchase within 365 days; the highest stage wins.
    """
    from datetime import date

    from omniplug.attribution import aipl
    from omniplug.sync import write_parquet_atomic

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2026-10-31, got {as_of!r}", param_hint="--as-of") from None
    table = aipl(_read(touchpoints), _read(orders), persons=_read(persons), as_of=day)
    out = writable_dir(out_dir)
    write_parquet_atomic(table, out / "aipl.parquet")
    counts = {r["stage"]: r["person_id_count"] for r in table.group_by("stage").aggregate(
        [("person_id", "count")]).to_pylist()}
    click.echo(f"as of {day}: " + ", ".join(f"{s} {counts.get(s, 0)}" for s in "AIPL") + f" -> {out / 'aipl.parquet'}")


def _pairs(text: str, option: str) -> dict[str, float]:
    pairs = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        try:
            pairs[key.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"expected NAME=NUMBER pairs, got {item!r}", param_hint=option) from None
    return pairs

"""Commands of the core engines on files: ``stitch``, ``attribute``, ``aipl`` (``match``: cli.material)."""

from __future__ import annotations

import json
from datetime import date
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
@click.option("--cap-order", type=click.Choice(["trust", "arrival"]), default="trust", show_default=True,
              help="Which links a cap keeps: 'trust' the most trusted and recent, 'arrival' the first observed. "
                   "Use 'arrival' for daily runs that must equal a rebuild.")
@click.option("--carry-hubs/--no-carry-hubs", default=True, show_default=True,
              help="Keep cutting the hubs of the previous run, read from cuts.parquet next to --previous "
                   "(a hub's degree in a daily run counts only that day's links). Not with --rebuild.")
@click.option("--stream", is_flag=True,
              help="Read LINKS batch by batch into compact storage and write persons in row groups: for "
                   "link files near the machine's memory (same outputs, about a quarter less peak memory, "
                   "slower).")
def stitch_cmd(links: Path, previous: Path | None, out_dir: Path, max_component_size: int | None,
               max_ids: tuple[str, ...], hub_degree: int | None, blocked: tuple[str, ...], rebuild: bool,
               cap_order: str, carry_hubs: bool, stream: bool) -> None:
    """Stitch the identifier pairs of LINKS (identity_links.parquet) into persons.

    Writes OUT/persons.parquet (id_type, id_value, person_id),
    OUT/stitch_report.json (counts, largest person, cuts by rule),
    OUT/cuts.parquet (every identifier or link a guardrail cut, and why),
    OUT/merges.parquet (old id -> surviving id) and OUT/splits.parquet.

    With --previous (and without --rebuild), the hubs of that run (the
    `hub` rows of the cuts.parquet next to it) stay cut unless
    --no-carry-hubs. A daily run with --cap-order arrival, the previous
    folder's outputs and links newer than all earlier ones gives the same
    persons and ids as --rebuild over all links so far, as long as hubs
    show up within one day (see `omniplug.stitch` for the exact conditions).

    \b
    Example, a daily run keeping ids stable:
      omniplug stitch out/identity_links.parquet --previous stitched/persons.parquet --out stitched/
    \b
    Example, daily runs that equal a rebuild, each day in its own folder:
      omniplug stitch day2_links.parquet --previous day1/persons.parquet --cap-order arrival --out day2/
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
    next_id = None
    report_path = (previous.parent / "stitch_report.json") if previous else None
    if report_path is not None and report_path.exists():
        next_id = json.loads(report_path.read_text()).get("next_person_id")
    # Read before writing: --out may be the --previous folder itself.
    # A rebuild sees every link, so it finds the hubs itself.
    cuts_path = (previous.parent / "cuts.parquet") if previous and carry_hubs and not rebuild else None
    prev_cuts = pq.read_table(cuts_path) if cuts_path is not None and cuts_path.exists() else None
    settings: dict[str, Any] = dict(
        max_component_size=max_component_size, max_ids_per_type=caps or None, hub_degree=hub_degree,
        blocked_values=list(blocked), mode="rebuild" if rebuild else "incremental", next_person_id=next_id,
        cap_order="arrival" if cap_order == "arrival" else "trust", previous_cuts=prev_cuts)
    if stream:
        from omniplug.identity_stream import stitch_parquet

        r = stitch_parquet(links, out, previous=previous, **settings)
    else:
        prev = pq.read_table(previous) if previous else None
        result = stitch(pq.read_table(links), previous=prev, **settings)
        for name in ("persons", "merges", "splits", "cuts"):
            write_parquet_atomic(getattr(result, name), out / f"{name}.parquet")
        (out / "stitch_report.json").write_text(json.dumps(result.report, indent=2), encoding="utf-8")
        r = result.report
    click.echo(f"{r['identifiers']} identifiers -> {r['components']} persons (largest {r['largest_component']}); "
               f"cut: {r['cuts_by_rule'] or 'nothing'}"
               + (f"; hubs carried from {cuts_path}: {r['hubs_carried']}" if prev_cuts is not None else "")
               + f"; outputs in {out}")


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
@click.option("--stream", is_flag=True,
              help="Read touchpoints and orders batch by batch: memory about 1/64 of the input, spilled to "
                   "a temporary folder (every model; markov* and shapley_exact read the spill twice to learn "
                   "their channel weights first; same result, bit for bit).")
@click.option("--spill-dir", type=click.Path(file_okay=False, path_type=Path),
              help="With --stream: where the temporary spill folder goes (default: the system's).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def attribute_cmd(touchpoints: Path, orders: Path, persons: Path | None, spend: Path | None, models: tuple[str, ...],
                  group_by: str, lookback_days: str, half_life_days: float, weights: str | None,
                  stream: bool, spill_dir: Path | None, out_dir: Path) -> None:
    """Credit paid orders to the touches before them; write OUT/attribution.parquet.

    One row per model and group-by key with conversions, revenue, spend and
    ROI, and per model one row (attributed = false) with the orders no touch
    led to.

    \\b
    Example:
      omniplug attribute --touchpoints out/touchpoints.parquet --orders out/orders.parquet \\
          --persons stitched/persons.parquet --spend out/spend.parquet \\
          --model last_touch --model linear --model markov --group-by platform,channel --out effect/

    \b
    Inputs larger than memory (a year of touchpoints): add --stream, e.g.
      omniplug attribute --touchpoints year/touchpoints.parquet --orders year/orders.parquet \\
          --model last_touch --model linear --stream --spill-dir /scratch --out effect/
    """
    from omniplug.attribution import attribute
    from omniplug.sync import write_parquet_atomic

    lookback: Any = _pairs(lookback_days, "--lookback-days") if "=" in lookback_days else float(lookback_days)
    weight_spec: Any = _pairs(weights, "--weights") if weights and "=" in weights else weights
    settings: dict[str, Any] = dict(
        persons=_read(persons), spend=_read(spend), model=list(models), lookback_days=lookback,
        group_by=[g for g in group_by.split(",") if g], half_life_days=half_life_days, weights=weight_spec)
    if stream:
        from omniplug.attribution_stream import attribute_stream

        table = attribute_stream(touchpoints, orders, spill_dir=spill_dir, **settings)
    else:
        table = attribute(_read(touchpoints), _read(orders), **settings)
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
@click.option("--compare-to", "compare_to", default=None, metavar="DATE",
              help="An earlier date: also write OUT/aipl_flows.parquet, the persons moving between stages "
                   "from that date to --as-of (e.g. a week before, for a weekly funnel review).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def aipl_cmd(touchpoints: Path, orders: Path, persons: Path | None, as_of: str, compare_to: str | None,
             out_dir: Path) -> None:
    """Put every person in an AIPL stage as of a date; write OUT/aipl.parquet.

    A = passive contact within 15 days, I = active contact within 15 days,
    P = a purchase within 365 days, L = a repeat purchase or a share after a
    purchase within 365 days; the highest stage wins.

    \b
    Example (stages on 31 Oct, and who moved since the 24th):
      omniplug aipl --touchpoints out/touchpoints.parquet --orders out/orders.parquet \\
          --persons stitched/persons.parquet --as-of 2026-10-31 --compare-to 2026-10-24 --out funnel/
    """
    from omniplug.aipl_flows import stage_flows
    from omniplug.attribution import aipl
    from omniplug.sync import write_parquet_atomic

    day = _date(as_of, "--as-of")
    earlier = None if compare_to is None else _date(compare_to, "--compare-to")
    if earlier is not None and earlier >= day:
        raise click.BadParameter(f"{compare_to} is not before --as-of {as_of}", param_hint="--compare-to")
    tables = (_read(touchpoints), _read(orders), _read(persons))
    table = aipl(tables[0], tables[1], persons=tables[2], as_of=day)
    out = writable_dir(out_dir)
    write_parquet_atomic(table, out / "aipl.parquet")
    counts = {r["stage"]: r["person_id_count"] for r in table.group_by("stage").aggregate(
        [("person_id", "count")]).to_pylist()}
    click.echo(f"as of {day}: " + ", ".join(f"{s} {counts.get(s, 0)}" for s in "AIPL") + f" -> {out / 'aipl.parquet'}")
    if earlier is not None:
        flows = stage_flows(aipl(tables[0], tables[1], persons=tables[2], as_of=earlier), table)
        write_parquet_atomic(flows, out / "aipl_flows.parquet")
        moved = sum(r["persons"] for r in flows.to_pylist() if r["from_stage"] != r["to_stage"])
        click.echo(f"{moved} persons changed stage since {earlier} -> {out / 'aipl_flows.parquet'}")


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"expected a date like 2026-10-31, got {text!r}", param_hint=option) from None


def _pairs(text: str, option: str) -> dict[str, float]:
    pairs = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        try:
            pairs[key.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(f"expected NAME=NUMBER pairs, got {item!r}", param_hint=option) from None
    return pairs

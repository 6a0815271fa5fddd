"""The attribution summary: omniplug against DuckDB, polars and ChannelAttribution, as ratios.

:func:`render` turns the rows recorded by ``test_attribution_bench.py`` into
the Markdown printed at the end of ``make bench`` and written to
``benchmarks/results/attribution.md``. The issue's goals are reported as
reached or not; nothing is asserted on timings.
"""

from __future__ import annotations

from typing import Any

from attribution_workloads import SIZES
from stitch_report import machine

__all__ = ["render", "GOALS"]

#: The issue's targets (reported, never asserted). Memory in MiB (0.6 GB).
GOALS: dict[str, Any] = {"rules_vs_peers": 10.0, "rules_beyond_input_mib": 0.6e9 / 2**20,
                         "markov_vs_ca": {1: 18.0, 3: 29.0}}


def _best(row: dict[str, Any] | None, key: str) -> float:
    return min(row[key]) if row and row.get(key) else float("nan")


def _ratio(peer: float, ours: float) -> str:
    return f"{peer / ours:.1f}x" if ours and ours == ours and peer == peer else "-"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _rules_table(size: str, rows: list[dict[str, Any]]) -> list[str]:
    first = rows[0]
    ours = next((r for r in rows if r["engine"] == "omniplug"), None)
    out = [f"### Rule-based, {size}: {first['touchpoints']:,} touchpoints, {first['orders']:,} orders "
           f"(five models at once, by platform/channel/campaign/KOL/material, with spend)", "",
           "| engine | wall s (best of n) | CPU s | input MiB | peak beyond input MiB | omniplug faster by (wall) "
           "| (CPU) | same result as omniplug | largest relative difference |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        wall, cpu = _best(r, "wall_s"), _best(r, "cpu_s")
        vs = _ratio(wall, _best(ours, "wall_s")) if ours and r is not ours else "-"
        vs_cpu = _ratio(cpu, _best(ours, "cpu_s")) if ours and r is not ours else "-"
        same = {True: "yes", False: "NO", None: "-"}[r.get("equal")]
        diff = r.get("max_rel_diff")
        worst = f"{max(diff.values()):.1e}" if diff else "-"
        out.append(f"| {r['engine']} | {wall:.2f} (n={len(r['wall_s'])}) | {cpu:.2f} | {_mib(r.get('input_mib'))} "
                   f"| {_mib(r.get('beyond_input_mib'))} | {vs} | {vs_cpu} | {same} | {worst} |")
    return out


def _markov_table(size: str, rows: list[dict[str, Any]], paths: dict[str, Any] | None) -> list[str]:
    def find(engine: str) -> dict[str, Any] | None:
        return next((r for r in rows if r["engine"] == engine), None)

    build = _best(paths, "wall_s") if paths else float("nan")
    counts = (paths or {}).get("counts", {})
    out = [f"### Markov (exact removal effects), {size}: {counts.get('distinct_paths', 0):,} distinct paths "
           f"({counts.get('converting_paths', 0):,} converting, {counts.get('null_paths', 0):,} not)", "",
           f"Path extraction for ChannelAttribution and numpy (DuckDB SQL): {build:.2f} s.", "",
           "| order | omniplug s (touchpoints -> credit) | omniplug s (paths -> credit) | numpy exact s (paths -> "
           "credit) | ChannelAttribution s (paths -> credit) | omniplug paths faster than CA (like for like) "
           "| omniplug touchpoints faster than CA | than DuckDB paths + CA | omniplug vs numpy, largest relative "
           "difference | CA removal effects vs exact (largest share difference) |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for k in (1, 2, 3):
        ours, ref, ca = find(f"omniplug-markov-{k}"), find(f"numpy-markov-{k}"), find(f"ca-markov-{k}")
        on_paths = find(f"omniplug-paths-{k}")
        if not (ours or ref or ca or on_paths):
            continue
        o, n, c = _best(ours, "wall_s"), _best(ref, "wall_s"), _best(ca, "wall_s")
        p = _best(on_paths, "wall_s")
        diffs = [r["vs_numpy"]["max_rel_diff"] for r in (ours, on_paths) if r and r.get("vs_numpy")]
        diff = max(diffs) if diffs else None
        dev = ca.get("effects_deviation") if ca else None
        out.append(f"| {k} | {o:.3f} | {p:.3f} | {n:.3f} | {c:.3f} | {_ratio(c, p)} | {_ratio(c, o)} "
                   f"| {_ratio(c + build, o)} | {'-' if diff is None else f'{diff:.1e}'} "
                   f"| {'-' if dev is None else f'{dev:.4f}'} |")
    return out


def _goals(rules: list[dict[str, Any]], markov: list[dict[str, Any]]) -> list[str]:
    lines = ["### Goals of the issue (reported, not asserted)", ""]

    def goal(text: str, value: float | None, target: float, higher: bool = True) -> None:
        if value is None or value != value:
            lines.append(f"- {text}: not measured in this run")
            return
        ok = value >= target if higher else value <= target
        lines.append(f"- {text}: {value:.1f} (target {'>=' if higher else '<='} {target:.0f}) -> "
                     f"{'reached' if ok else 'NOT reached'}")

    # The largest size measured is the one the goals speak of.
    size = max((r["size"] for r in rules), key=list(SIZES).index, default="-")
    pick = {r["engine"]: r for r in rules if r["size"] == size}
    ours = pick.get("omniplug")
    for peer in ("duckdb", "polars"):
        value = _best(pick[peer], "wall_s") / _best(ours, "wall_s") if ours and peer in pick else None
        goal(f"five rule-based models at {size}, vs {peer} (x faster, wall)", value, GOALS["rules_vs_peers"])
    goal(f"omniplug peak memory beyond the input at {size}, MiB", ours.get("beyond_input_mib") if ours else None,
         GOALS["rules_beyond_input_mib"], higher=False)
    for k, target in GOALS["markov_vs_ca"].items():
        for engine, what in ((f"omniplug-paths-{k}", "from the same distinct paths"),
                             (f"omniplug-markov-{k}", "from touchpoints")):
            for r in (r for r in markov if r["engine"] == engine):
                ca = next((c for c in markov if c["engine"] == f"ca-markov-{k}" and c["size"] == r["size"]), None)
                value = _best(ca, "wall_s") / _best(r, "wall_s") if ca else None
                goal(f"exact Markov order {k} at {r['size']} {what} vs ChannelAttribution (x faster)", value, target)
    exact = [r["vs_numpy"]["max_rel_diff"] for r in markov if r.get("vs_numpy")]
    if exact:
        lines.append(f"- exact Markov within 1e-9 of a plain numpy solve: largest relative difference "
                     f"{max(exact):.1e} -> {'reached' if max(exact) <= 1e-9 else 'NOT reached'}")
    return lines


def render(rows: list[dict[str, Any]]) -> str:
    """Markdown summary of the recorded attribution rows."""
    rules = [r for r in rows if r.get("kind") == "rules"]
    markov = [r for r in rows if r.get("kind") == "markov"]
    paths = {r["size"]: r for r in markov if r["engine"] == "duckdb-paths"}
    m = machine()
    loads = [r["loadavg"][0] for r in rows if r.get("loadavg")]
    lines = ["## Attribution: omniplug against DuckDB SQL, polars and ChannelAttribution", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; 1-minute load average during the "
             f"runs {min(loads, default=0):.1f}-{max(loads, default=0):.1f}. Each engine runs in its own process "
             "with its input already loaded in its own form; wall and CPU are the best of n rounds; memory is the "
             "peak of a run above the process's memory after loading.", ""]
    for size in dict.fromkeys(r["size"] for r in rules):
        lines += _rules_table(size, [r for r in rules if r["size"] == size]) + [""]
    for size in dict.fromkeys(r["size"] for r in markov):
        lines += _markov_table(size, [r for r in markov if r["size"] == size], paths.get(size)) + [""]
    lines += _goals(rules, [r for r in markov if r["engine"] != "duckdb-paths"])
    return "\n".join(lines)

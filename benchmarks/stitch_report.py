"""The identity-stitching summary: omniplug against its peers, as ratios.

:func:`render` turns the rows recorded by ``test_stitch_bench.py`` into the
Markdown printed at the end of ``make bench`` and written to
``benchmarks/results/stitch.md``. The issue's goals are reported here as
reached or not; nothing is asserted on timings.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["render", "machine", "GOALS"]

#: The issue's targets (reported, never asserted).
GOALS = {"vs_scipy_10m": 10.0, "vs_duckdb_lp": 100.0, "peak_mib_10m": 1.2 * 1024, "incremental_speedup": 50.0}


def machine() -> dict[str, Any]:
    """CPU model, cores, RAM and load average of this machine (what a figure depends on)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = 0.0
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {"cpu": model, "cores": os.cpu_count(), "ram_gib": round(ram, 1), "loadavg": [round(x, 2) for x in load]}


def _best(row: dict[str, Any], key: str) -> float:
    return min(row[key]) if row.get(key) else float("nan")


def _ratio(peer: float, ours: float) -> str:
    return f"{peer / ours:.1f}x" if ours and ours == ours and peer == peer else "-"


def _size_table(size: str, rows: list[dict[str, Any]]) -> list[str]:
    pairs = rows[0]["pairs"]
    ours = next((r for r in rows if r["engine"] == "omniplug"), None)
    guarded = next((r for r in rows if r["engine"] == "omniplug-guarded"), None)
    out = [f"### {size}: {pairs:,} pairs, {rows[0].get('identifiers', 0):,} identifiers", "",
           "| engine | guardrails | wall s (best of n) | CPU s | peak RSS MiB | persons | largest "
           "| omniplug faster by (wall) | (CPU) | guarded faster by | same partition |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        wall, cpu = _best(r, "wall_s"), _best(r, "cpu_s")
        vs = _ratio(wall, _best(ours, "wall_s")) if ours and r is not ours else "-"
        vs_cpu = _ratio(cpu, _best(ours, "cpu_s")) if ours and r is not ours else "-"
        vs_g = _ratio(wall, _best(guarded, "wall_s")) if guarded and r is not guarded else "-"
        same = {True: "yes", False: "NO", None: "-"}[r.get("partition_matches")]
        out.append(f"| {r['engine']} | {'on' if r.get('guardrails') else 'off'} | {wall:.2f} (n={len(r['wall_s'])}) "
                   f"| {cpu:.2f} | {r['peak_rss_mib']:.0f} | {r.get('persons', 0):,} | {r.get('largest', 0):,} "
                   f"| {vs} | {vs_cpu} | {vs_g} | {same} |")
    return out


def _daily_table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["### Daily run: 1 % new pairs with yesterday's persons, against a full rebuild", "",
           "| size | guardrails | incremental wall s | CPU s | peak MiB | rebuild wall s | CPU s | peak MiB | speed-up "
           "| same partition | same table | untouched persons keep ids | byte-identical reruns |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    yes = {True: "yes", False: "NO", None: "-"}
    for r in rows:
        inc, full = r["incremental"], r["rebuild"]
        guard = "on" if r.get("guardrails") else "off"
        out.append(
            f"| {r['size']} | {guard} | {_best(inc, 'wall_s'):.2f} | {_best(inc, 'cpu_s'):.2f} "
            f"| {inc['peak_rss_mib']:.0f} "
            f"| {_best(full, 'wall_s'):.2f} | {_best(full, 'cpu_s'):.2f} | {full['peak_rss_mib']:.0f} "
            f"| {_ratio(_best(full, 'wall_s'), _best(inc, 'wall_s'))} | {yes[r.get('same_partition')]} "
            f"| {yes[r.get('same_table')]} | {r.get('untouched_kept', '-')} | {yes[r.get('byte_identical')]} |")
    return out


def _goals(engines: list[dict[str, Any]], daily: list[dict[str, Any]]) -> list[str]:
    def find(size: str, engine: str) -> dict[str, Any] | None:
        return next((r for r in engines if r["size"] == size and r["engine"] == engine), None)

    lines = ["### Goals of the issue (reported, not asserted)", ""]

    def goal(text: str, value: float | None, target: float, higher: bool = True) -> None:
        if value is None:
            lines.append(f"- {text}: not measured in this run")
            return
        ok = value >= target if higher else value <= target
        lines.append(f"- {text}: {value:.1f} (target {'>=' if higher else '<='} {target:g}) -> "
                     f"{'reached' if ok else 'NOT reached'}")

    def ratio(size: str, peer: str, ours: str) -> float | None:
        p, o = find(size, peer), find(size, ours)
        return _best(p, "wall_s") / _best(o, "wall_s") if p and o else None

    goal("10M end to end, guardrails on, vs scipy + pyarrow (x faster)", ratio("10m", "scipy", "omniplug-guarded"),
         GOALS["vs_scipy_10m"])
    for size in ("10m", "1m", "100k"):
        if find(size, "duckdb-lp"):
            goal(f"{size} end to end, guardrails on, vs DuckDB label propagation (x faster)",
                 ratio(size, "duckdb-lp", "omniplug-guarded"), GOALS["vs_duckdb_lp"])
            break
    g10 = find("10m", "omniplug-guarded")
    goal("10M peak RSS with guardrails, MiB", g10["peak_rss_mib"] if g10 else None, GOALS["peak_mib_10m"], False)
    for r in daily:
        goal(f"{r['size']} incremental (1 % new pairs, guardrails {'on' if r.get('guardrails') else 'off'}) "
             "vs full rebuild (x faster)",
             _best(r["rebuild"], "wall_s") / _best(r["incremental"], "wall_s"), GOALS["incremental_speedup"])
    huge = [r for r in engines if r["size"] not in ("100k", "1m", "10m")]
    for r in huge:
        lines.append(f"- {r['pairs']:,} pairs (target 100M), {r['engine']}: completed in {_best(r, 'wall_s'):.0f} s, "
                     f"peak RSS {r['peak_rss_mib'] / 1024:.1f} GiB")
    if not huge:
        lines.append("- 100M pairs: not run (set OMNIPLUG_BENCH_HUGE=1, or =50m for 50M)")
    return lines


def render(rows: list[dict[str, Any]]) -> str:
    """Markdown summary of the recorded stitching rows."""
    engines = [r for r in rows if r.get("kind") == "engine"]
    daily = [r for r in rows if r.get("kind") == "daily"]
    m = machine()
    loads = [r["loadavg"][0] for r in rows if r.get("loadavg")]
    lines = ["## Identity stitching: end to end (Parquet in, persons Parquet out)", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; 1-minute load average during the "
             f"runs {min(loads, default=0):.1f}-{max(loads, default=0):.1f}. Each engine runs in its own process "
             "(peak RSS is that process's, imports included); wall and CPU are the best of n rounds.", ""]
    for size in dict.fromkeys(r["size"] for r in engines):
        lines += _size_table(size, [r for r in engines if r["size"] == size]) + [""]
    if daily:
        lines += _daily_table(daily) + [""]
    lines += _goals(engines, daily)
    diffs = [r for r in daily if r.get("partition_diff")]
    for r in diffs:
        d = r["partition_diff"]
        lines.append(f"- {r['size']} daily run, guardrails {'on' if r.get('guardrails') else 'off'}: incremental and "
                     f"rebuild differ: {d['only_a']} identifiers only in the incremental output (e.g. "
                     f"{d['only_a_examples'][:2]}), {d['only_b']} only in the rebuild, {d['a_persons_split_in_b']} "
                     f"incremental persons split in the rebuild, {d['b_persons_split_in_a']} the other way")
    return "\n".join(lines)

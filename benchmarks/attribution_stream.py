"""Streamed attribution (``attribute_stream``) against in-memory ``attribute``: time and memory.

Each run happens in its own process. In-memory: the Parquet input is loaded
first (its resident memory is "the input"), then the peak-RSS mark is reset
and :func:`omniplug.attribute` runs; reported: wall, CPU (all threads), peak
beyond the input. Streamed: :func:`omniplug.attribution_stream.attribute_stream`
reads the Parquet files itself, so the input is on disk and the figure is
the process's total peak RSS (interpreter and libraries included). Both use
the rule-based benchmark job of ``attribution_peers`` (five models, by
platform/channel/campaign/KOL/material, with spend), and the two results
are compared for exact equality.

Usage (from ``benchmarks/``)::

    python attribution_stream.py compare 20m           # a workload of attribution_workloads
    python attribution_stream.py big 100000000 --parts 20   # generate in parts, then stream

``big`` generates the touchpoints and orders in ``--parts`` Parquet files,
one part in memory at a time (persons span the parts), under
``benchmarks/.data/``, then streams them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["run_measured", "compare", "generate_parts", "stream_parts", "render"]

_HERE = Path(__file__).resolve().parent


def _status_mib(field: str) -> float:
    """A ``/proc/self/status`` memory field in MiB (0 without /proc)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _child(mode: str, paths: dict[str, Any], out: str) -> dict[str, Any]:
    """One measured run in this process (see the module docstring)."""
    from attribution_peers import _KEYS as KEYS
    from attribution_peers import HALF_LIFE_DAYS, LOOKBACK_DAYS, RULE_MODELS

    import omniplug
    from omniplug.attribution_stream import attribute_stream

    spend = pq.read_table(paths["spend"])
    args: dict[str, Any] = {"spend": spend, "model": list(RULE_MODELS), "lookback_days": LOOKBACK_DAYS,
                            "half_life_days": HALF_LIFE_DAYS, "group_by": list(KEYS)}
    if mode == "memory":
        touches = pq.read_table(paths["touchpoints"]).combine_chunks()
        orders = pq.read_table(paths["orders"]).combine_chunks()
    input_mib = _status_mib("VmRSS")
    _reset_peak()
    wall, cpu = time.perf_counter(), time.process_time()
    if mode == "memory":
        result = omniplug.attribute(touches, orders, **args)
    else:
        result = attribute_stream(paths["touchpoints"], paths["orders"],
                                  spill_dir=paths.get("spill_dir"), **args)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _status_mib("VmHWM")
    pq.write_table(result, out)
    return {"mode": mode, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "input_rss_mib": round(input_mib),
            "peak_rss_mib": round(peak), "peak_beyond_input_mib": round(peak - input_mib), "rows": result.num_rows}


def run_measured(mode: str, paths: dict[str, Any], out: str) -> dict[str, Any]:
    """Run ``mode`` (``memory`` or ``stream``) in a fresh process; its JSON figures."""
    done = subprocess.run([sys.executable, __file__, "_child", mode, json.dumps(paths), out],
                          check=True, capture_output=True, text=True, cwd=_HERE)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def compare(size: str) -> dict[str, Any]:
    """In-memory vs streamed on workload ``size``; figures, load and whether the results are equal."""
    from attribution_workloads import attribution_workload

    w = attribution_workload(size)
    paths = {t: str(w.path(t)) for t in ("touchpoints", "orders", "spend")}
    with tempfile.TemporaryDirectory() as tmp:
        load_before = _load()
        memory = run_measured("memory", paths, f"{tmp}/memory.parquet")
        stream = run_measured("stream", paths, f"{tmp}/stream.parquet")
        equal = pq.read_table(f"{tmp}/memory.parquet").equals(pq.read_table(f"{tmp}/stream.parquet"))
    return {"size": size, "touchpoints": w.touchpoints, "orders": w.orders, "memory": memory, "stream": stream,
            "identical": equal, "load_before": load_before, "load_after": _load()}


def generate_parts(n: int, parts: int, folder: Path, seed: int = 20251122) -> dict[str, list[str]]:
    """``n`` touchpoints and ``n / 20`` orders in ``parts`` Parquet files each, one part in memory at a time.

    Persons (``n / 10``, log-normal activity) span all parts; the columns are
    those of ``attribution_workloads``. Existing complete output is reused.
    """
    from attribution_workloads import CHANNELS, EVENT_TYPES, PLATFORMS, _key_columns, _keys, _strings

    folder.mkdir(parents=True, exist_ok=True)
    names = {"touchpoints": [str(folder / f"touchpoints-{p:03d}.parquet") for p in range(parts)],
             "orders": [str(folder / f"orders-{p:03d}.parquet") for p in range(parts)]}
    if (folder / "done.json").exists():
        return names
    rng = np.random.default_rng(seed)
    persons = n // 10
    weight = rng.lognormal(0.0, 1.0, persons)
    cdf = np.cumsum(weight / weight.sum())
    centre = rng.uniform(0, 180 * 86_400_000, persons)
    t0 = 1_767_225_600_000
    per = n // parts
    for p in range(parts):
        r = np.random.default_rng([seed, p])
        who = np.minimum(np.searchsorted(cdf, r.random(per)), persons - 1)
        t = t0 + np.abs(centre[who] + 10 * 86_400_000 * r.standard_normal(per)).astype(np.int64)
        platform = r.integers(0, len(PLATFORMS), per).astype(np.int8)
        channel = r.integers(0, len(CHANNELS), per).astype(np.int8)
        etype = r.integers(0, len(EVENT_TYPES), per)
        campaign, kol, material = _keys(platform, channel, r)
        pq.write_table(pa.table({
            "event_id": _strings("e", np.arange(p * per, (p + 1) * per, dtype=np.int64), 10),
            "person_id": pa.array(who.astype(np.int64)),
            "event_time": pa.array(t, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            "event_type": pa.array(np.array(EVENT_TYPES, dtype=object)[etype], pa.string()),
            **_key_columns(platform, channel, campaign, kol, material),
        }), names["touchpoints"][p], row_group_size=1_000_000)
        m = per // 20
        buyer = np.minimum(np.searchsorted(cdf, r.random(m)), persons - 1)
        ot = t0 + np.abs(centre[buyer] + 3 * 86_400_000 + 10 * 86_400_000 * r.standard_normal(m)).astype(np.int64)
        pq.write_table(pa.table({
            "order_id": _strings("o", np.arange(p * m, (p + 1) * m, dtype=np.int64), 10),
            "person_id": pa.array(buyer.astype(np.int64)),
            "order_time": pa.array(ot, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
            "amount": pa.array(np.round(r.lognormal(np.log(200.0), 0.8, m), 2)),
            "status": pa.array(np.array(["paid", "refunded", "cancelled"], dtype=object)[
                r.choice(3, size=m, p=[0.9, 0.06, 0.04])], pa.string()),
        }), names["orders"][p])
    (folder / "done.json").write_text(json.dumps({"touchpoints": per * parts, "parts": parts}))
    return names


def stream_parts(n: int, parts: int, spend: str) -> dict[str, Any]:
    """Generate (or reuse) ``n`` touchpoints in parts and stream them; figures and load."""
    folder = _HERE / ".data" / f"attribution-stream-{n}-p{parts}"
    started = time.perf_counter()
    names = generate_parts(n, parts, folder)
    generated_s = round(time.perf_counter() - started, 1)
    with tempfile.TemporaryDirectory() as tmp:
        load_before = _load()
        figures = run_measured("stream", {**names, "spend": spend}, f"{tmp}/stream.parquet")
    return {"touchpoints": n, "parts": parts, "generate_s": generated_s, "stream": figures,
            "load_before": load_before, "load_after": _load()}


def render(rows: list[dict[str, Any]]) -> str:
    """Markdown of ``compare`` / ``stream_parts`` results (the rows of the ``attribution_stream`` summary)."""
    lines = ["## Attribution: streamed (attribute_stream, from Parquet) vs in-memory (attribute)", "",
             "Five rule-based models by platform/channel/campaign/KOL/material with spend. In-memory peak is "
             "above the loaded input; streamed peak is the whole process (input on disk).", "",
             "| touchpoints | run | wall s | CPU s | peak MiB | identical to in-memory | load (1/5/15 min) |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        n = f"{r['touchpoints']:,}"
        if "memory" in r:
            m = r["memory"]
            lines.append(f"| {n} | in-memory | {m['wall_s']} | {m['cpu_s']} | {m['peak_beyond_input_mib']} beyond "
                         f"{m['input_rss_mib']} input | - | {r['load_before']} |")
        s = r["stream"]
        same = "yes" if r.get("identical") else ("no" if "identical" in r else "-")
        lines.append(f"| {n} | streamed | {s['wall_s']} | {s['cpu_s']} | {s['peak_rss_mib']} total | {same} | "
                     f"{r['load_before']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Command line (see the module docstring)."""
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        sys.path.insert(0, str(_HERE))
        print(json.dumps(_child(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4])))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("compare").add_argument("size")
    big = sub.add_parser("big")
    big.add_argument("touchpoints", type=int)
    big.add_argument("--parts", type=int, default=20)
    args = parser.parse_args()
    if args.cmd == "compare":
        print(json.dumps(compare(args.size), indent=2))
    else:
        from attribution_workloads import attribution_workload
        spend = str(attribution_workload("2m").path("spend"))
        print(json.dumps(stream_parts(args.touchpoints, args.parts, spend), indent=2))


if __name__ == "__main__":
    main()

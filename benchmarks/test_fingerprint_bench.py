"""Material fingerprinting benchmarks: robustness to platform edits, hashing speed, Hamming search speed.

* ``test_robustness``: recall per edit family, all-pairs precision and the
  negatives (flat images, one template for different photos, two shots of
  one scene) of omniplug's ``group_assets`` against imagehash pHash / dHash
  and pdqhash at their usual thresholds (:mod:`fingerprint_eval`). The
  table is printed at the end of the run with the issue's goals marked.
* ``test_hash_speed``: images per second from decoded pixels and from JPEG
  bytes, omniplug against imagehash, pdqhash and the JPEG decode floor
  (:mod:`fingerprint_speed`).
* ``test_index_speed``: 1 M codes, 10 k queries, 64 bits at radius 8 and
  256 bits at radius 31: omniplug ``HashIndex`` against faiss's exact binary
  indexes; every engine must find exactly the same pairs (asserted).

No timing and no goal is asserted: figures go to the summary
(``benchmarks/results/fingerprint.md`` / ``.json``).

Sizes:

* default: 10 photos x 83 edits (+ distractors and negatives), 200 JPEGs
  for hashing speed, 1 M codes / 10 k queries (~3 min on 2 cores);
* ``OMNIPLUG_BENCH_FP_PHOTOS=all`` (or a number up to 18): more originals;
* ``OMNIPLUG_BENCH_QUICK=1``: 3 photos, 40 JPEGs, 100 k codes / 1 k queries;
* ``OMNIPLUG_BENCH_FP_THREADS=N``: threads per engine (default 1, per core).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import fingerprint_dataset as fds
import fingerprint_eval as ev
import fingerprint_peers as fp
import fingerprint_speed as sp
import numpy as np
import pytest

if TYPE_CHECKING:
    from conftest import BenchRows

QUICK = os.environ.get("OMNIPLUG_BENCH_QUICK", "") not in ("", "0")
JPEGS = 40 if QUICK else 200
CODES, QUERIES = (100_000, 1_000) if QUICK else (1_000_000, 10_000)
ROUNDS = 3


@pytest.fixture(scope="module", autouse=True)
def _summary(bench_rows: BenchRows) -> None:
    """Register the renderer of the "fingerprint" rows with the session summaries of conftest.py
    (found through the fixture's own module: pytest imports conftest under its package name)."""
    sys.modules[type(bench_rows).__module__].SUMMARIES.setdefault("fingerprint", sp.render)


@pytest.fixture(scope="module")
def jpegs() -> list[bytes]:
    """The speed workload: 0.46 Mpx JPEGs from the bundled photos."""
    return sp.jpeg_workload(JPEGS)


@pytest.fixture(scope="module")
def codes() -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per code width, the indexed codes and the queries."""
    return {64: sp.code_workload(CODES, QUERIES, 64, 8), 256: sp.code_workload(CODES, QUERIES, 256, 31)}


@pytest.fixture(scope="module")
def reference_pairs() -> dict[int, tuple[str, np.ndarray]]:
    """Per code width, the first engine that ran and the pairs it found (all must agree)."""
    return {}


@pytest.mark.timeout(3600)
def test_robustness(benchmark: Any, bench_rows: BenchRows) -> None:
    """Every matcher on the same edits; the table goes to the summary."""
    ds = fds.dataset(photos=3 if QUICK else None)
    summary = ev.dataset_summary(ds)
    scores: list[ev.Score] = []
    benchmark.pedantic(lambda: scores.extend(ev.evaluate(ds)), rounds=1, iterations=1)
    text = ev.render(scores, summary)
    ev.write(scores, text, summary)
    benchmark.group = "fingerprint robustness"
    ours = scores[0]
    benchmark.extra_info.update(dataset=summary, recall=ours.overall, precision=ours.precision)
    bench_rows.add("fingerprint", {"kind": "robustness", "text": text, "dataset": summary,
                                   "scores": [{k: v for k, v in vars(s).items() if k != "missed"} for s in scores]})
    # Sanity, not goals: every variant was scored, and every hash survives plain re-encoding and
    # resizing (what all of them are built for), which a wrongly packed code would not.
    assert ours.matcher == "omniplug" and ours.overall[1] == summary["variant"]
    for s in scores:
        hits, total = s.family["resize_reencode_colour"]
        assert hits >= 0.9 * total, f"{s.matcher} matched {hits} of {total} re-encoded variants: check its codes"


def _rate_row(kind: str, engine: str, images: int, times: list[tuple[float, float]], threads: int) -> dict[str, Any]:
    wall, cpu = [t[0] for t in times], [t[1] for t in times]
    return {"kind": kind, "engine": engine, "images": images, "rate": images / min(cpu),
            "wall_rate": images / min(wall), "wall_s": [round(t, 4) for t in wall],
            "cpu_s": [round(t, 4) for t in cpu], "threads": threads, "loadavg": list(os.getloadavg())}


def _slug(name: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in name).split())


PIXEL_ENGINES = ["omniplug bundle (working luma)", "omniplug bundle (full-res RGB)", "imagehash-phash",
                 "imagehash-dhash", "pdqhash"]
BYTES_ENGINES = ["omniplug bundle", "omniplug dhash64 of the full image only", "decode floor (Pillow DCT-scaled)",
                 "imagehash-phash", "imagehash-dhash", "pdqhash"]
SPEED_RUNS = [("pixels", e) for e in PIXEL_ENGINES] + [("bytes", e) for e in BYTES_ENGINES]
INDEX_RUNS = [(64, e) for e in ("omniplug HashIndex", "faiss IndexBinaryMultiHash(3, 21)", "faiss IndexBinaryFlat")]
INDEX_RUNS += [(256, e) for e in ("omniplug HashIndex", "faiss IndexBinaryFlat")]


@pytest.fixture(scope="module")
def speed_calls(jpegs: list[bytes]) -> dict[str, dict[str, Any]]:
    """Per kind, engine name -> call over every image (pixels decoded beforehand)."""
    return {"pixels": sp.pixel_engines(jpegs), "bytes": sp.bytes_engines(jpegs)}


@pytest.mark.timeout(1800)
@pytest.mark.parametrize(("kind", "engine"), SPEED_RUNS, ids=[f"{k}-{_slug(e)}" for k, e in SPEED_RUNS])
def test_hash_speed(benchmark: Any, bench_rows: BenchRows, jpegs: list[bytes],
                    speed_calls: dict[str, dict[str, Any]], kind: str, engine: str) -> None:
    """Images per second from decoded pixels or JPEG bytes; every engine on the same images."""
    call = speed_calls[kind][engine]
    threads = sp.threads()
    times: list[tuple[float, float]] = []
    with sp.omniplug_threads(threads):
        out = call()  # warm-up: imports, caches, the core's pool
        benchmark.pedantic(lambda: times.append(sp.timed(call)), rounds=ROUNDS, iterations=1)
    row = _rate_row(kind, engine, len(jpegs), times, threads)
    benchmark.group = f"fingerprint speed from {kind} ({len(jpegs)} images)"
    benchmark.extra_info.update(images_per_cpu_s=round(row["rate"]), images_per_s=round(row["wall_rate"]),
                                threads=threads)
    bench_rows.add("fingerprint", row)
    assert _items_done(out) == len(jpegs)


def _items_done(out: Any) -> int:
    """Images an engine's call produced something for (omniplug returns tables, the peers a list)."""
    if hasattr(out, "fingerprints"):
        table = out.fingerprints
        return len(set(table.column("item" if "item" in table.column_names else "material_id").to_pylist()))
    return len(out)


@pytest.mark.timeout(3600)
@pytest.mark.parametrize(("bits", "engine"), INDEX_RUNS, ids=[f"{b}-{_slug(e)}" for b, e in INDEX_RUNS])
def test_index_speed(benchmark: Any, bench_rows: BenchRows, codes: dict[int, tuple[np.ndarray, np.ndarray]],
                     reference_pairs: dict[int, tuple[str, np.ndarray]], bits: int, engine: str) -> None:
    """Build + exact radius search; every engine must find the same pairs as the first one that ran."""
    db, queries = codes[bits]
    radius = 8 if bits == 64 else 31
    threads = sp.threads()
    fp.set_threads(threads)
    search = sp.index_engines(bits)[engine]
    builds: list[float] = []
    searches: list[float] = []
    cpus: list[float] = []
    found: list[np.ndarray] = []

    def once() -> None:
        run = search(db, queries, radius)
        builds.append(run.build_s)
        searches.append(run.search_s)
        cpus.append(run.search_cpu_s)
        found[:] = [run.pairs]

    with sp.omniplug_threads(threads):
        benchmark.pedantic(once, rounds=1 if "Flat" in engine and not QUICK else 2, iterations=1)
    pairs = found[0]
    first, reference = reference_pairs.setdefault(bits, (engine, pairs))
    row = {"kind": "index", "bits": bits, "engine": engine, "codes": len(db), "queries": len(queries),
           "radius": radius, "threads": threads, "build_s": [round(t, 4) for t in builds],
           "search_s": [round(t, 4) for t in searches], "search_cpu_s": [round(t, 4) for t in cpus],
           "pairs": len(pairs),
           "same_pairs": bool(np.array_equal(pairs, reference)), "loadavg": list(os.getloadavg())}
    bench_rows.add("fingerprint", row)
    benchmark.group = f"fingerprint index {bits} bits ({len(queries):,} queries, {len(db):,} codes, radius {radius})"
    benchmark.extra_info.update(build_s=min(builds), search_s=min(searches), pairs=len(pairs), threads=threads)
    # Exactness is correctness: near-duplicate queries were planted, so there is something to find.
    assert len(pairs) >= len(queries) // 2
    assert row["same_pairs"], f"{engine} found {len(pairs)} pairs, {first} {len(reference)}"

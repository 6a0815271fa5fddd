"""Speed of material fingerprinting and of Hamming search, against the peers in the same run.

Workloads (seeded):

* :func:`jpeg_workload`: JPEGs of 784 x 588 (0.46 Mpx, q 85, 4:2:0) cut
  from the bundled scikit-image photos at random scales, positions and
  mirrorings: the size of a typical creative.
* :func:`code_workload`: ``n`` random codes of 64 or 256 bits, and queries
  of which half are indexed codes with up to ``radius`` random bit flips
  (near duplicates, which must be found) and half random codes.

Measurements (best of ``rounds``, on ``threads`` threads: omniplug through
``OMNIPLUG_NUM_THREADS``, faiss through OpenMP; imagehash and pdqhash are
single-threaded):

* **pixels**: decoded pixels in, every hash out: omniplug's whole bundle
  (``fingerprint_pixels``: dHash + pHash of every window, PDQ, quality) from
  full-resolution RGB and from working-size luma (what a DCT-scaled decoder
  hands over), ``imagehash.phash`` / ``dhash`` from a decoded Pillow image,
  ``pdqhash.compute`` from an RGB array;
* **bytes**: encoded JPEG in, hashes out: omniplug ``fingerprint_images``;
  imagehash and pdqhash after a full Pillow decode; and the decode floor
  (Pillow's DCT-scaled decode alone, :func:`fingerprint_peers.decode_floor`);
* **index**: build, then every query's codes within the radius, exact:
  omniplug ``HashIndex`` against faiss ``IndexBinaryMultiHash`` and
  ``IndexBinaryFlat``; the found pairs must be identical.
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from PIL import Image

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fingerprint_dataset as fds  # noqa: E402
import fingerprint_draw as fd  # noqa: E402
import fingerprint_peers as fp  # noqa: E402

__all__ = ["SPEED_W", "SPEED_H", "jpeg_workload", "code_workload", "threads", "timed", "pixel_engines",
           "bytes_engines", "index_engines", "omniplug_threads", "omniplug_search", "render", "GOALS"]

SPEED_W, SPEED_H = 784, 588


def jpeg_workload(n: int, seed: int = 20251122) -> list[bytes]:
    """``n`` JPEGs of 784 x 588 cut from the bundled photos (seeded)."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for i in range(n):
        photo = fds.load_photo(fds.PHOTOS[i % len(fds.PHOTOS)])
        scale = max(SPEED_W / photo.width, SPEED_H / photo.height) * rng.uniform(1.0, 1.6)
        big = fd.resize_to(photo, (round(photo.width * scale) + 1, round(photo.height * scale) + 1))
        x, y = rng.randint(0, big.width - SPEED_W), rng.randint(0, big.height - SPEED_H)
        img = big.crop((x, y, x + SPEED_W, y + SPEED_H))
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        out.append(fd.encode(img, "JPEG", 85))
    return out


def code_workload(n: int, queries: int, bits: int, radius: int, seed: int = 20251122) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, queries)`` as ``uint64`` arrays of shape ``(n, bits // 64)``: half the queries are
    indexed codes with 0..``radius`` random bits flipped, half random."""
    rng = np.random.default_rng(seed)
    words = bits // 64
    db = rng.integers(0, 2**64, (n, words), dtype=np.uint64, endpoint=False)
    q = rng.integers(0, 2**64, (queries, words), dtype=np.uint64, endpoint=False)
    near = queries // 2
    q[:near] = db[rng.integers(0, n, near)]
    for k in range(near):
        for bit in rng.choice(bits, int(rng.integers(0, radius + 1)), replace=False):
            q[k, bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
    return db, q


def threads() -> int:
    """Threads per engine: ``OMNIPLUG_BENCH_FP_THREADS`` (default 1: per-core figures)."""
    return int(os.environ.get("OMNIPLUG_BENCH_FP_THREADS", "1"))


@contextmanager
def omniplug_threads(n: int) -> Iterator[None]:
    """Cap omniplug's core at ``n`` threads (the core reads ``OMNIPLUG_NUM_THREADS`` at each call)."""
    old = os.environ.get("OMNIPLUG_NUM_THREADS")
    os.environ["OMNIPLUG_NUM_THREADS"] = str(n)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("OMNIPLUG_NUM_THREADS", None)
        else:
            os.environ["OMNIPLUG_NUM_THREADS"] = old


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """Run ``fn`` once: (wall seconds, CPU seconds of this process, every thread).

    On a shared machine CPU seconds are the steadier measure of per-core cost:
    waiting for a core counts in wall time only.
    """
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def _working_luma(content: bytes) -> np.ndarray:
    """What a DCT-scaled decoder hands the hasher: luma at 1/8 (short side >= 64)."""
    img = Image.open(io.BytesIO(content))
    img.draft("L", (img.width // 8, img.height // 8))
    return np.asarray(img.convert("L"))


def pixel_engines(jpegs: Sequence[bytes]) -> dict[str, Callable[[], Any]]:
    """Engine name -> a call hashing every image from decoded pixels (decoding done beforehand)."""
    from omniplug.fingerprint import fingerprint_pixels

    rgb = [np.asarray(fp.decode(j).convert("RGB")) for j in jpegs]
    pil = [Image.fromarray(a) for a in rgb]
    luma = [_working_luma(j) for j in jpegs]
    ih, pdq = fp.HASHERS["imagehash-phash"], fp.HASHERS["pdqhash"]
    return {
        "omniplug bundle (full-res RGB)": lambda: fingerprint_pixels(rgb),
        "omniplug bundle (working luma)": lambda: fingerprint_pixels(luma),
        "imagehash-phash": lambda: [ih.of_image(p) for p in pil],
        "imagehash-dhash": lambda: [fp.HASHERS["imagehash-dhash"].of_image(p) for p in pil],
        "pdqhash": lambda: [pdq.of_image(p) for p in pil],
    }


def bytes_engines(jpegs: Sequence[bytes]) -> dict[str, Callable[[], Any]]:
    """Engine name -> a call hashing every image from its JPEG bytes, decoding included."""
    from omniplug.fingerprint import fingerprint_images

    table = pa.table({"material_id": [str(i) for i in range(len(jpegs))], "platform": ["bench"] * len(jpegs),
                      "content": pa.array(list(jpegs), pa.binary())})
    ih, dh, pdq = fp.HASHERS["imagehash-phash"], fp.HASHERS["imagehash-dhash"], fp.HASHERS["pdqhash"]
    return {
        "omniplug bundle": lambda: fingerprint_images(table),
        # The least omniplug can do from bytes: decode + one hash (how much of the bundle's cost is decoding).
        "omniplug dhash64 of the full image only": lambda: fingerprint_images(table, algorithms=["dhash64"],
                                                                              windows="full"),
        "decode floor (Pillow DCT-scaled)": lambda: [fp.decode_floor(j) for j in jpegs],
        "imagehash-phash": lambda: [ih.of_image(fp.decode(j)) for j in jpegs],
        "imagehash-dhash": lambda: [dh.of_image(fp.decode(j)) for j in jpegs],
        "pdqhash": lambda: [pdq.of_image(fp.decode(j)) for j in jpegs],
    }


def omniplug_search(db: np.ndarray, queries: np.ndarray, radius: int) -> fp.SearchRun:
    """omniplug ``HashIndex``: build over ``db``, then every query's codes within ``radius``."""
    from omniplug.assets import HashIndex

    bits = db.shape[1] * 64

    def form(codes: np.ndarray) -> np.ndarray:
        return codes[:, 0] if bits == 64 else codes.astype(">u8").view(np.uint8).reshape(len(codes), -1)

    xb, xq = form(db), form(queries)
    t0 = time.perf_counter()
    index = HashIndex(xb, bits=bits)  # type: ignore[arg-type]
    t1, c1 = time.perf_counter(), time.process_time()
    found = index.search(xq, radius)
    t2, c2 = time.perf_counter(), time.process_time()
    return fp.SearchRun(t1 - t0, t2 - t1, c2 - c1,
                        fp.sorted_pairs(*(found.column(c).to_numpy() for c in ("query_row", "match_row", "distance"))))


def index_engines(bits: int) -> dict[str, Callable[[np.ndarray, np.ndarray, int], fp.SearchRun]]:
    """Engine name -> search function for ``bits``-bit codes (the faiss indexes the issue names)."""
    engines: dict[str, Callable[[np.ndarray, np.ndarray, int], fp.SearchRun]] = {
        "omniplug HashIndex": omniplug_search,
        "faiss IndexBinaryFlat": lambda db, q, r: fp.faiss_range_search("flat", db, q, r),
    }
    if bits == 64:
        engines["faiss IndexBinaryMultiHash(3, 21)"] = lambda db, q, r: fp.faiss_range_search("multihash", db, q, r)
    return engines


#: The issue's speed goals (reported, never asserted).
GOALS = {"pixels_rate": 5000.0, "pixels_vs_phash": 12.0, "pixels_vs_pdq": 40.0, "bytes_vs_floor": 0.9,
         "bytes_vs_phash": 2.3, "bytes_vs_pdq": 5.7, "index_vs_faiss": 5.0}


def _rate_table(kind: str, rows: list[dict[str, Any]], ours: str) -> list[str]:
    base = next((r for r in rows if r["engine"] == ours), None)
    title = {"pixels": "decoded pixels -> hashes", "bytes": "JPEG bytes -> hashes (decoding included)"}[kind]
    out = [f"### {title}: {rows[0]['images']} images of {SPEED_W}x{SPEED_H}, {rows[0]['threads']} thread(s)", "",
           "| engine | images per CPU-second (best of n) | CPU ms per image | images/s wall | omniplug faster by (CPU) "
           "| (wall) |", "|---|---|---|---|---|---|"]
    for r in rows:
        vs = f"{base['rate'] / r['rate']:.1f}x" if base and r is not base else "-"
        vw = f"{base['wall_rate'] / r['wall_rate']:.1f}x" if base and r is not base else "-"
        out.append(f"| {r['engine']} | {r['rate']:,.0f} (n={len(r['cpu_s'])}) | {1000 / r['rate']:.3f} "
                   f"| {r['wall_rate']:,.0f} | {vs} | {vw} |")
    return out


def _index_table(rows: list[dict[str, Any]]) -> list[str]:
    r0 = rows[0]
    ours = next((r for r in rows if r["engine"].startswith("omniplug")), None)
    out = [f"### Index: {r0['queries']:,} queries against {r0['codes']:,} codes of {r0['bits']} bits, radius "
           f"{r0['radius']}, exact, {r0['threads']} thread(s)", "",
           "| engine | build s | search s | search CPU s | pairs found | same pairs | omniplug search faster by "
           "(wall) | (CPU) | omniplug build faster by |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        vs = f"{min(r['search_s']) / min(ours['search_s']):.1f}x" if ours and r is not ours else "-"
        vc = f"{min(r['search_cpu_s']) / min(ours['search_cpu_s']):.1f}x" if ours and r is not ours else "-"
        vb = f"{min(r['build_s']) / min(ours['build_s']):.2f}x" if ours and r is not ours else "-"
        same = "yes" if r.get("same_pairs") else "NO"
        out.append(f"| {r['engine']} | {min(r['build_s']):.3f} | {min(r['search_s']):.3f} "
                   f"| {min(r['search_cpu_s']):.3f} | {r['pairs']:,} | {same} | {vs} | {vc} | {vb} |")
    return out


def _goal_lines(rows: list[dict[str, Any]]) -> list[str]:
    def rate(kind: str, engine: str) -> float | None:
        r = next((r for r in rows if r["kind"] == kind and r["engine"] == engine), None)
        return r["rate"] if r else None

    lines = ["### Speed goals of the issue (reported, not asserted; rates per CPU-second)", ""]

    def goal(text: str, value: float | None, target: float) -> None:
        if value is None:
            lines.append(f"- {text}: not measured in this run")
        else:
            lines.append(f"- {text}: {value:,.2f} (target >= {target:g}) -> "
                         f"{'reached' if value >= target else 'NOT reached'}")

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    for form in ("working luma", "full-res RGB"):
        ours = rate("pixels", f"omniplug bundle ({form})")
        goal(f"pixels ({form}) -> every hash, images/s per thread", ours, GOALS["pixels_rate"])
        goal("  vs imagehash pHash (x)", ratio(ours, rate("pixels", "imagehash-phash")), GOALS["pixels_vs_phash"])
        goal("  vs pdqhash (x)", ratio(ours, rate("pixels", "pdqhash")), GOALS["pixels_vs_pdq"])
    ours = rate("bytes", "omniplug bundle")
    goal("JPEG bytes -> every hash, share of the decode floor's rate", ratio(ours,
         rate("bytes", "decode floor (Pillow DCT-scaled)")), GOALS["bytes_vs_floor"])
    goal("  vs imagehash pHash end to end (x)", ratio(ours, rate("bytes", "imagehash-phash")), GOALS["bytes_vs_phash"])
    goal("  vs pdqhash end to end (x)", ratio(ours, rate("bytes", "pdqhash")), GOALS["bytes_vs_pdq"])
    for bits, best in ((64, "faiss IndexBinaryMultiHash(3, 21)"), (256, "faiss IndexBinaryFlat")):
        idx = [r for r in rows if r["kind"] == "index" and r["bits"] == bits]
        ours_r = next((r for r in idx if r["engine"].startswith("omniplug")), None)
        peer = next((r for r in idx if r["engine"] == best), None)
        if ours_r and peer:
            goal(f"{bits}-bit search vs {best} (x, CPU time)",
                 min(peer["search_cpu_s"]) / min(ours_r["search_cpu_s"]), GOALS["index_vs_faiss"])
            goal(f"{bits}-bit build vs {best} (x, >= 1 means no slower)",
                 min(peer["build_s"]) / min(ours_r["build_s"]), 1.0)
        else:
            lines.append(f"- {bits}-bit index: not measured in this run")
    return lines


def render(rows: list[dict[str, Any]]) -> str:
    """The fingerprinting summary of a benchmark session: robustness table, speed tables, goals."""
    from stitch_report import machine

    m = machine()
    out = ["## Material fingerprinting", "",
           f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, load average {m['loadavg']}.", ""]
    for r in rows:
        if r["kind"] == "robustness":
            out += [r["text"].replace("## Material fingerprinting: robustness", "### Robustness"), ""]
    for kind, ours in (("pixels", "omniplug bundle (working luma)"), ("bytes", "omniplug bundle")):
        part = [r for r in rows if r["kind"] == kind]
        if part:
            out += _rate_table(kind, part, ours) + [""]
    for bits in (64, 256):
        part = [r for r in rows if r["kind"] == "index" and r["bits"] == bits]
        if part:
            out += _index_table(part) + [""]
    if any(r["kind"] != "robustness" for r in rows):
        out += _goal_lines(rows)
    return "\n".join(out)

"""The peers of omniplug's fingerprinting: imagehash, pdqhash and faiss-cpu.

* Hashers (:data:`HASHERS`): ``imagehash.phash`` and ``imagehash.dhash``
  (64 bits, matched at Hamming distance <= 10, the usual threshold) and
  ``pdqhash.compute`` (Meta's PDQ, 256 bits, matched at <= 31, the
  reference's threshold), each from encoded bytes decoded by Pillow, the
  way people use them.
* Hamming range search (:func:`faiss_range_search`): faiss's exact binary
  indexes, ``IndexBinaryFlat`` (brute force) and ``IndexBinaryMultiHash``
  (multi-index hashing, exact with ``nflip = radius // nhash``: see
  :func:`multihash_is_exact`).

Codes are numpy ``uint64`` arrays of shape ``(n, bits // 64)`` whose
big-endian bytes are the usual hex forms (imagehash's ``str()``, PDQ's hex).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

__all__ = ["Hasher", "HASHERS", "decode", "decode_floor", "hash_all", "pack_bits", "faiss_range_search",
           "multihash_is_exact", "set_threads", "pairs_within", "SearchRun", "sorted_pairs"]


@dataclass(frozen=True)
class Hasher:
    """A peer hash: ``of_image`` hashes a decoded Pillow image into a bool bit array."""

    name: str
    bits: int
    threshold: int
    of_image: Callable[[Image.Image], np.ndarray]


# The peers are imported where used, so that this module (and the metrics built on it)
# imports without them.
def _phash(img: Image.Image) -> np.ndarray:
    import imagehash

    return imagehash.phash(img).hash.ravel()


def _dhash(img: Image.Image) -> np.ndarray:
    import imagehash

    return imagehash.dhash(img).hash.ravel()


def _pdq(img: Image.Image) -> np.ndarray:
    import pdqhash

    bits, _quality = pdqhash.compute(np.asarray(img.convert("RGB")))
    # pdqhash returns bit k at position k; the reference hex writes bit 255 first.
    return bits[::-1].astype(bool)


#: The peers at their usual thresholds.
HASHERS: dict[str, Hasher] = {
    "imagehash-phash": Hasher("imagehash-phash", 64, 10, _phash),
    "imagehash-dhash": Hasher("imagehash-dhash", 64, 10, _dhash),
    "pdqhash": Hasher("pdqhash", 256, 31, _pdq),
}


def decode(content: bytes) -> Image.Image:
    """Full decode with Pillow (what imagehash and pdqhash users do)."""
    img = Image.open(io.BytesIO(content))
    img.load()
    return img


def decode_floor(content: bytes, min_side: int = 64) -> int:
    """The JPEG decode floor: Pillow's DCT-scaled luma decode (libjpeg-turbo ``draft``)
    down to the smallest scale keeping ``min_side`` pixels, i.e. the least work any
    hasher reading these bytes must do. Returns the decoded width."""
    img = Image.open(io.BytesIO(content))
    w, h = img.size
    scale = max(1, min(8, min(w, h) // min_side))
    img.draft("L", (w // scale, h // scale))
    img.load()
    return img.width


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Bool bits (``(n, bits)``, most significant first) -> ``uint64`` words ``(n, bits // 64)``."""
    packed = np.packbits(np.asarray(bits, dtype=bool), axis=-1)
    return packed.view(">u8").astype(np.uint64)


def hash_all(contents: Sequence[bytes], names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Every peer hash of every encoded image: name -> ``(n, bits // 64)`` uint64 codes."""
    names = list(names or HASHERS)
    out: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for content in contents:
        img = decode(content)
        for n in names:
            out[n].append(HASHERS[n].of_image(img))
    return {n: pack_bits(np.stack(v)) for n, v in out.items()}


def pairs_within(codes: np.ndarray, threshold: int, rows: np.ndarray | None = None) -> np.ndarray:
    """All pairs ``(i, j)``, ``i < j``, of ``rows`` (default: all) whose codes are within ``threshold``.

    A blockwise all-pairs popcount: ~1 s for 2 000 x 2 000 256-bit codes.
    """
    rows = np.arange(len(codes)) if rows is None else np.asarray(rows)
    sub = codes[rows]
    found: list[np.ndarray] = []
    block = 512
    for start in range(0, len(sub), block):
        a = sub[start:start + block]
        dist = np.zeros((len(a), len(sub)), np.int32)
        for w in range(sub.shape[1]):
            dist += np.bitwise_count(a[:, w, None] ^ sub[None, :, w]).astype(np.int32)
        i, j = np.nonzero(dist <= threshold)
        i = i + start
        keep = i < j
        found.append(np.stack([rows[i[keep]], rows[j[keep]]], axis=1))
    return np.concatenate(found) if found else np.empty((0, 2), np.int64)


def set_threads(n: int) -> None:
    """Cap faiss's OpenMP threads."""
    import faiss

    faiss.omp_set_num_threads(n)


def multihash_is_exact(bits: int, nhash: int, b: int, nflip: int, radius: int) -> bool:
    """Whether ``IndexBinaryMultiHash(bits, nhash, b)`` with ``nflip`` finds every code within ``radius``.

    The tables see ``nhash * b`` bits; a pair within ``radius`` differs in at
    most ``radius`` of them, so some table differs in at most
    ``radius // nhash`` bits (pigeonhole), which ``nflip`` must reach.
    """
    return nhash * b <= bits and nflip >= radius // nhash


def _to_faiss(codes: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(codes.astype(">u8").view(np.uint8).reshape(len(codes), -1))


@dataclass(frozen=True)
class SearchRun:
    """One build + search: wall seconds of each, CPU seconds of the search, and the sorted
    ``(m, 3)`` int64 rows ``(query, match, distance)`` found."""

    build_s: float
    search_s: float
    search_cpu_s: float
    pairs: np.ndarray


def sorted_pairs(query: np.ndarray, match: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """``(query, match, distance)`` rows as int64, sorted by query then match."""
    rows = np.stack([np.asarray(c).astype(np.int64) for c in (query, match, distance)], axis=1)
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def faiss_range_search(kind: str, db: np.ndarray, queries: np.ndarray, radius: int, nhash: int = 3,
                       b: int = 21) -> SearchRun:
    """Build a faiss binary index over ``db`` and find every query's codes within ``radius``.

    ``kind``: ``flat`` (``IndexBinaryFlat``) or ``multihash``
    (``IndexBinaryMultiHash(bits, nhash, b)`` with ``nflip = radius // nhash``).
    """
    import faiss

    bits = db.shape[1] * 64
    xb, xq = _to_faiss(db), _to_faiss(queries)
    t0 = time.perf_counter()
    if kind == "flat":
        index = faiss.IndexBinaryFlat(bits)
    elif kind == "multihash":
        index = faiss.IndexBinaryMultiHash(bits, nhash, b)
        index.nflip = radius // nhash
        if not multihash_is_exact(bits, nhash, b, index.nflip, radius):
            raise ValueError(f"IndexBinaryMultiHash({bits}, {nhash}, {b}) is not exact at radius {radius}")
    else:
        raise ValueError(f"unknown faiss index {kind!r}")
    index.add(xb)
    t1, c1 = time.perf_counter(), time.process_time()
    # faiss's binary range search keeps distances strictly below the radius.
    lims, dist, ids = index.range_search(xq, radius + 1)
    t2, c2 = time.perf_counter(), time.process_time()
    q = np.repeat(np.arange(len(xq), dtype=np.int64), np.diff(lims.astype(np.int64)))
    return SearchRun(t1 - t0, t2 - t1, c2 - c1, sorted_pairs(q, ids, dist))

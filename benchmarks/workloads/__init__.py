"""Seeded ``identity_links`` workloads for the stitching benchmarks.

A workload is a Parquet file of identifier pairs (``left_type, left_value,
right_type, right_value, observed_at``) with string ids shaped like the
platforms' (see :mod:`workloads.shapes`), a heavy-tailed component-size
distribution, rotating-device chains of diameter 50 and planted hubs (see
:mod:`workloads.links`), plus a 1 % "new pairs" increment for the
incremental run: new persons, new identifiers of known persons, links
merging two known persons, and repeats of known links.

Files are generated once, streamed one row group at a time (100 M pairs
never sit in memory), and cached under ``benchmarks/.data/`` keyed by size,
seed and generator version::

    python -m workloads 10m          # from benchmarks/: generate (or find) 10 M pairs
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .links import EXPECTED_LINKS_PER_PERSON, LINKS_SCHEMA, T0_MS, BlockBuilder, links_batch
from .shapes import SHAPES, TYPE_WEIGHTS

__all__ = ["SIZES", "Workload", "workload", "DATA_DIR", "GENERATOR_VERSION"]

#: Bump when the generated data changes, so stale cached files are not reused.
GENERATOR_VERSION = 1
DATA_DIR = Path(__file__).resolve().parent.parent / ".data"
#: Workload names and their number of identifier pairs.
SIZES: dict[str, int] = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000, "30m": 30_000_000,
                         "50m": 50_000_000, "100m": 100_000_000}
_BLOCK_PAIRS = 1_000_000  # one block = one Parquet row group
_HUB_PERSONS = 10_000
_INCREMENT_SHARE = 0.01
_DAY_MS = 86_400_000


@dataclass(frozen=True)
class Workload:
    """A generated workload on disk.

    Attributes:
        name: a key of :data:`SIZES` (``100k`` ... ``100m``).
        pairs: rows of ``links``.
        links: the base ``identity_links`` Parquet file.
        increment: the 1 % new pairs (observed the day after the base ends).
        increment_pairs: rows of ``increment``.
        seed: the generator seed.
    """

    name: str
    pairs: int
    links: Path
    increment: Path
    increment_pairs: int
    seed: int


def workload(name: str, *, seed: int = 20251122, data_dir: Path | None = None) -> Workload:
    """The workload ``name`` (a key of :data:`SIZES`), generated on first use.

    Args:
        name: the size.
        seed: generator seed; same seed, byte-identical files.
        data_dir: cache folder (default ``benchmarks/.data``).

    Returns:
        The :class:`Workload`, its files complete on disk.
    """
    if name not in SIZES:
        raise ValueError(f"unknown workload {name!r}; sizes are {sorted(SIZES)}")
    folder = data_dir or DATA_DIR
    stem = folder / f"identity_links-{name}-s{seed}-g{GENERATOR_VERSION}"
    meta_path = stem.with_suffix(".json")
    if not meta_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _generate(SIZES[name], seed, stem)
    meta = json.loads(meta_path.read_text())
    return Workload(name, meta["pairs"], stem.with_suffix(".parquet"), Path(f"{stem}-increment.parquet"),
                    meta["increment_pairs"], seed)


def _generate(pairs: int, seed: int, stem: Path) -> None:
    """Write the base file and its increment; the JSON sidecar last marks both complete."""
    started = time.perf_counter()
    expected_persons = max(1, int(pairs / EXPECTED_LINKS_PER_PERSON))
    builder = BlockBuilder(seed, min(_HUB_PERSONS, expected_persons // 10), expected_persons)
    inc_pairs = max(1, int(pairs * _INCREMENT_SHARE))
    # Known links to draw the increment from: 0.6 of it reuses known identifiers.
    sample_share = 0.6 * inc_pairs / pairs
    samples: list[np.ndarray] = []
    base_tmp = stem.with_suffix(".parquet.tmp")
    written, index = 0, 0
    with pq.ParquetWriter(base_tmp, LINKS_SCHEMA) as writer:
        while written < pairs:
            # A little over the pairs still needed, so the last block is trimmed, not cut in half.
            want = min(_BLOCK_PAIRS, pairs - written) * 1.03
            block = builder.block(index, math.ceil(want / EXPECTED_LINKS_PER_PERSON))
            keep = min(len(block), pairs - written)
            cols = [c[:keep] for c in (block.left_k, block.left_t, block.right_k, block.right_t, block.observed_ms)]
            writer.write_batch(links_batch(cols[0], cols[1], cols[2], cols[3], cols[4], seed), row_group_size=keep)
            regular = np.flatnonzero((cols[0] >= 0) & (cols[2] >= 0))
            rng = np.random.default_rng([seed, index, 7])
            take = rng.choice(regular, size=min(len(regular), math.ceil(keep * sample_share) + 1), replace=False)
            samples.append(np.stack([cols[0][take], cols[1][take], cols[2][take], cols[3][take]]))
            written += keep
            index += 1
    inc_tmp = Path(f"{stem}-increment.parquet.tmp")
    pq.write_table(_increment(builder, np.concatenate(samples, axis=1), inc_pairs, seed), inc_tmp)
    os.replace(base_tmp, stem.with_suffix(".parquet"))
    os.replace(inc_tmp, Path(f"{stem}-increment.parquet"))
    meta = {"pairs": pairs, "increment_pairs": inc_pairs, "seed": seed, "generator_version": GENERATOR_VERSION,
            "generation_seconds": round(time.perf_counter() - started, 2)}
    stem.with_suffix(".json").write_text(json.dumps(meta, indent=2))


def _increment(builder: BlockBuilder, known: np.ndarray, pairs: int, seed: int) -> pa.Table:
    """The day after: 50 % new persons, 30 % new identifiers of known persons,
    10 % links merging two known persons, 10 % repeats of known links."""
    rng = np.random.default_rng([seed, 999_999])
    known = known[:, rng.permutation(known.shape[1])]
    n_new = pairs // 2
    n_attach, n_merge = (pairs * 3) // 10, pairs // 10
    n_repeat = pairs - n_new - n_attach - n_merge
    parts: list[tuple[np.ndarray, ...]] = []
    got, index = 0, 1_000_000
    while got < n_new:
        b = builder.block(index, max(1, math.ceil((n_new - got) / EXPECTED_LINKS_PER_PERSON)))
        k = min(len(b), n_new - got)
        parts.append((b.left_k[:k], b.left_t[:k], b.right_k[:k], b.right_t[:k]))
        got, index = got + k, index + 1
    # New identifiers seen with a known one.
    fresh = np.arange(builder.next_k, builder.next_k + n_attach, dtype=np.int64)
    builder.next_k += n_attach
    fresh_t = rng.choice(len(SHAPES), size=n_attach, p=TYPE_WEIGHTS).astype(np.int16)
    att = known[:, :n_attach]
    parts.append((att[0], att[1].astype(np.int16), fresh, fresh_t))
    # Two known identifiers (of different persons, almost surely) seen together.
    m1, m2 = known[:, n_attach:n_attach + n_merge], known[:, n_attach + n_merge:n_attach + 2 * n_merge]
    parts.append((m1[0], m1[1].astype(np.int16), m2[2], m2[3].astype(np.int16)))
    rep = known[:, n_attach + 2 * n_merge:n_attach + 2 * n_merge + n_repeat]
    parts.append((rep[2], rep[3].astype(np.int16), rep[0], rep[1].astype(np.int16)))
    cols = [np.concatenate([p[i] for p in parts]) for i in range(4)]
    n = len(cols[0])
    observed = T0_MS + 365 * _DAY_MS + rng.integers(0, _DAY_MS, n)
    order = rng.permutation(n)
    batch = links_batch(cols[0][order], cols[1][order], cols[2][order], cols[3][order], observed[order], seed)
    return pa.Table.from_batches([batch])

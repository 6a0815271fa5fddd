"""Long chains against stars: does stitching slow down with component diameter?

Issue 4: "Components must not slow down on long chains (rotating device ids
give components of diameter 50)". Both shapes have the same identifiers,
the same number of links and the same component sizes (51 identifiers, 50
links each); only the diameter differs: 50 for a chain (a device id rotated
50 times, each new OAID seen with the previous one), 2 for a star (one
account linked to 50 devices). Links are shuffled, so no engine gets them
in chain order. Iterative SQL engines need one round per step of diameter;
a union-find should not care.

In-process pytest-benchmark groups per size (``stitch chains 1m``): compare
``omniplug-chains`` with ``omniplug-stars`` (and scipy on each). Asserted,
never timed: every engine finds the planted components.

Size: ``OMNIPLUG_BENCH_CHAINS`` pairs (default 1 000 000).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from omniplug.identity import stitch

PAIRS = int(os.environ.get("OMNIPLUG_BENCH_CHAINS", "1000000"))
LINKS_PER_COMPONENT = 50


def _links(shape: str, pairs: int, seed: int = 20251122) -> pa.Table:
    """``pairs`` links in components of 51 OAIDs shaped as chains or stars, shuffled."""
    components = pairs // LINKS_PER_COMPONENT
    base = np.arange(components, dtype=np.int64)[:, None] * (LINKS_PER_COMPONENT + 1)
    step = np.arange(LINKS_PER_COMPONENT, dtype=np.int64)[None, :]
    # A chain links k to k+1, a star links 0 to k+1.
    left = base + (step if shape == "chains" else np.zeros_like(step))
    right = base + step + 1
    order = np.random.default_rng(seed).permutation(left.size)
    left, right = left.ravel()[order], right.ravel()[order]

    def names(ids: np.ndarray) -> pa.Array:
        return pa.array(np.char.add("oaid-", ids.astype(str)).tolist(), pa.string())

    n = left.size
    return pa.table({"left_type": pa.array(["oaid"] * n), "left_value": names(left),
                     "right_type": pa.array(["oaid"] * n), "right_value": names(right)})


def _scipy(links: pa.Table) -> int:
    """Connected components with pyarrow factorisation + scipy (the issue's baseline)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    both = pa.chunked_array(links.column("left_value").chunks + links.column("right_value").chunks)
    codes = both.dictionary_encode().combine_chunks()
    idx = codes.indices.to_numpy()
    n, m = len(codes.dictionary), links.num_rows
    graph = coo_matrix((np.ones(m, np.int8), (idx[:m], idx[m:])), shape=(n, n))
    return int(connected_components(graph, directed=False)[0])


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    """Both shapes, generated once."""
    return {shape: _links(shape, PAIRS) for shape in ("chains", "stars")}


@pytest.mark.parametrize("engine", ["omniplug", "scipy"])
@pytest.mark.parametrize("shape", ["chains", "stars"])
def test_stitch_chains_against_stars(benchmark: Any, tables: dict[str, pa.Table], shape: str, engine: str) -> None:
    """One engine on one shape; both must find every planted component."""
    links = tables[shape]
    benchmark.group = f"stitch chains {PAIRS:,} pairs (components of 51, diameter 50 vs 2)"
    benchmark.name = f"{engine}-{shape}"
    if engine == "omniplug":
        result = benchmark.pedantic(stitch, args=(links,), kwargs={"guardrails": False}, rounds=3, iterations=1)
        components = result.report["components"]
        assert result.report["largest_component"] == LINKS_PER_COMPONENT + 1
    else:
        components = benchmark.pedantic(_scipy, args=(links,), rounds=3, iterations=1)
    assert components == PAIRS // LINKS_PER_COMPONENT

"""Streamed attribution benchmark: attribute_stream from Parquet vs in-memory attribute.

Asserted (never timings): the streamed result equals the in-memory one
exactly. Recorded in the ``attribution_stream`` summary: wall, CPU and peak
memory of both (see ``attribution_stream.py``).

Sizes: ``OMNIPLUG_BENCH_ATTRIBUTION_STREAM`` (default ``2m``; ``20m`` is the
issue's size); ``OMNIPLUG_BENCH_QUICK=1`` runs 200 k only.
``OMNIPLUG_BENCH_STREAM_BIG=100000000`` also generates that many touchpoints
in parts and streams them (long: tens of minutes, ~15 GB of disk).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import attribution_stream
import pytest
from attribution_workloads import SIZES, attribution_workload

if TYPE_CHECKING:
    from conftest import BenchRows


@pytest.fixture(scope="module", autouse=True)
def _summary(bench_rows: BenchRows) -> None:
    """Register the renderer of the "attribution_stream" rows with conftest's session summaries."""
    sys.modules[type(bench_rows).__module__].SUMMARIES.setdefault("attribution_stream", attribution_stream.render)


def _sizes() -> list[str]:
    if os.environ.get("OMNIPLUG_BENCH_QUICK", "") not in ("", "0"):
        return ["200k"]
    sizes = [s.strip() for s in os.environ.get("OMNIPLUG_BENCH_ATTRIBUTION_STREAM", "2m").split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise ValueError(f"OMNIPLUG_BENCH_ATTRIBUTION_STREAM={unknown}: use sizes among {sorted(SIZES)}")
    return sizes


@pytest.mark.parametrize("size", _sizes())
def test_streamed_equals_in_memory(benchmark: Any, size: str, bench_rows: BenchRows) -> None:
    """Both runs on the workload; the tables must be equal bit for bit.

    One round through ``benchmark.pedantic`` so ``make bench`` (``--benchmark-only``)
    runs it; the figures that matter are the summary's (both runs, each in its
    own process), not pytest-benchmark's timing of the pair.
    """
    benchmark.group = f"attribution stream {size}"
    result = benchmark.pedantic(attribution_stream.compare, args=(size,), rounds=1, iterations=1)
    bench_rows.add("attribution_stream", result)
    assert result["identical"]
    assert result["stream"]["rows"] == result["memory"]["rows"]


if os.environ.get("OMNIPLUG_BENCH_STREAM_BIG"):  # collected only when asked for: it is long

    def test_big_stream(benchmark: Any, bench_rows: BenchRows) -> None:
        """Generate ``OMNIPLUG_BENCH_STREAM_BIG`` touchpoints in parts and stream them."""
        n = int(os.environ["OMNIPLUG_BENCH_STREAM_BIG"])
        benchmark.group = f"attribution stream {n:,}"
        result = benchmark.pedantic(attribution_stream.stream_parts, rounds=1, iterations=1, args=(
            n, max(1, n // 5_000_000), str(attribution_workload("2m").path("spend"))))
        bench_rows.add("attribution_stream", result)
        assert result["stream"]["rows"] > 0

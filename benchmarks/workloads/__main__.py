"""``python -m workloads SIZE [SIZE...]`` (from ``benchmarks/``): generate or find workloads."""

from __future__ import annotations

import argparse
import json

import pyarrow.parquet as pq

from . import SIZES, workload


def main() -> None:
    """Generate the named workloads (cached) and print where they are."""
    parser = argparse.ArgumentParser(prog="python -m workloads", description=__doc__)
    parser.add_argument("sizes", nargs="+", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=20251122)
    args = parser.parse_args()
    for name in args.sizes:
        w = workload(name, seed=args.seed)
        meta = pq.ParquetFile(w.links).metadata
        print(json.dumps({"name": w.name, "pairs": w.pairs, "row_groups": meta.num_row_groups,
                          "links": str(w.links), "increment": str(w.increment),
                          "increment_pairs": w.increment_pairs}))


if __name__ == "__main__":
    main()

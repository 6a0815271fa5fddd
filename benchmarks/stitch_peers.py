"""Run one stitching engine in its own process and report time, CPU and peak memory.

One process per engine keeps peak memory figures apart (a process's peak
RSS never goes down, so engines sharing one would see each other's peaks).

One-shot, printing a JSON line::

    python benchmarks/stitch_peers.py scipy 1m
    python benchmarks/stitch_peers.py omniplug 10m --rounds 3

As a worker for the pytest benchmarks (:class:`Worker`): the process
imports the engine's libraries once, then serves JSON requests on stdin,
one per line, answering each on stdout, so the timed call pays neither
interpreter start nor imports:

* ``{"cmd": "run", "engine": ..., "job": {...}}`` runs the job and answers
  ``wall_s``, ``cpu_s`` (user + system, all threads), ``peak_rss_mib`` (the
  process's peak so far) and the engine's counts;
* ``{"cmd": "verify", "path": ...}`` answers the partition digest of a
  written ``persons`` file (:func:`partition_digest`); run it after the
  timed rounds, it costs memory of its own;
* ``{"cmd": "untouched", "before": ..., "after": ..., "links": [...]}``
  answers :func:`untouched_persons`;
* ``{"cmd": "diff", "a": ..., "b": ...}`` answers :func:`partition_diff`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from stitch_engines import ENGINES, Job, run_engine

__all__ = ["Worker", "partition_digest", "partition_diff", "untouched_persons", "peak_rss_mib", "rss_mib"]

_HERE = Path(__file__).resolve().parent


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mib() -> float:
    """Current resident memory of this process in MiB (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def partition_digest(path: str) -> dict[str, Any]:
    """A fingerprint of the partition in a ``persons`` Parquet, independent of
    how the engine numbers its persons and orders its rows.

    Rows are sorted by ``(id_type, id_value)``; each row then gets the
    position of the first row of its person. Two files describe the same
    partition exactly when their sorted keys and these positions are equal,
    so the SHA-256 of both is compared.
    """
    table = pq.read_table(path, columns=["id_type", "id_value", "person_id"])
    order = pc.sort_indices(table, sort_keys=[("id_type", "ascending"), ("id_value", "ascending")])
    sha = hashlib.sha256()
    for name in ("id_type", "id_value"):
        # large_string: 100 M identifiers hold more than the 2 GiB utf8 offsets address.
        col = table[name].cast(pa.large_string()).take(order)
        col = col.combine_chunks() if col.num_chunks else pa.array([], pa.large_string())
        offsets = np.frombuffer(col.buffers()[1], dtype=np.int64)[col.offset:col.offset + len(col) + 1]
        data = np.frombuffer(col.buffers()[2], dtype=np.uint8) if len(col) else np.zeros(0, np.uint8)
        rel = offsets - offsets[0] if len(offsets) else offsets
        # Hashed as int32 whenever they fit, so digests stay those of earlier runs.
        sha.update((rel.astype(np.int32) if len(rel) and rel[-1] < 2**31 else rel).tobytes())
        sha.update(data[offsets[0]:offsets[-1]].tobytes() if len(offsets) else b"")
    labels = table["person_id"].take(order).to_numpy()
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    sha.update(first[inverse].astype(np.int64).tobytes())
    sizes = np.bincount(inverse) if len(labels) else np.zeros(1, np.int64)
    return {"digest": sha.hexdigest(), "identifiers": int(len(labels)), "persons": int(len(first)),
            "largest": int(sizes.max())}


def untouched_persons(before: str, after: str, links: list[str]) -> dict[str, Any]:
    """How many of yesterday's persons that today's ``links`` do not touch kept their id.

    A person is touched when one of its identifiers appears in ``links``.
    Every identifier of an untouched person must keep the person's id in
    ``after``; the answer counts the persons and identifiers checked and
    the identifiers whose id changed (or that vanished).
    """
    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute("""
            WITH today AS (
                SELECT left_type AS t, left_value AS v FROM read_parquet($links)
                UNION SELECT right_type, right_value FROM read_parquet($links)),
            touched AS (
                SELECT DISTINCT p.person_id FROM read_parquet($before) p
                JOIN today ON today.t = p.id_type AND today.v = p.id_value),
            kept AS (
                SELECT * FROM read_parquet($before) WHERE person_id NOT IN (SELECT person_id FROM touched))
            SELECT count(DISTINCT k.person_id), count(*),
                   count(*) FILTER (WHERE a.person_id IS DISTINCT FROM k.person_id),
                   (SELECT count(*) FROM touched)
            FROM kept k LEFT JOIN read_parquet($after) a USING (id_type, id_value)""",
            {"links": links, "before": before, "after": after}).fetchone()
    finally:
        con.close()
    assert row is not None
    return {"untouched_persons": int(row[0]), "untouched_identifiers": int(row[1]),
            "changed_identifiers": int(row[2]), "touched_persons": int(row[3])}


def partition_diff(a: str, b: str) -> dict[str, Any]:
    """Where two ``persons`` files disagree: identifiers only in one of them,
    persons of ``a`` spread over several persons of ``b`` and the reverse,
    and a few identifiers of each kind as examples."""
    import duckdb

    con = duckdb.connect()
    try:
        for name, path in (("a", a), ("b", b)):
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet($p)", {"p": path})
        only_a = con.execute("SELECT id_type, id_value FROM a ANTI JOIN b USING (id_type, id_value) "
                             "ORDER BY ALL").fetchall()
        only_b = con.execute("SELECT id_type, id_value FROM b ANTI JOIN a USING (id_type, id_value) "
                             "ORDER BY ALL").fetchall()
        con.execute("CREATE TABLE j AS SELECT a.person_id AS pa, b.person_id AS pb "
                    "FROM a JOIN b USING (id_type, id_value)")
        split = "SELECT count(*) FROM (SELECT {0} FROM j GROUP BY {0} HAVING count(DISTINCT {1}) > 1)"
        split_a = con.execute(split.format("pa", "pb")).fetchone()
        split_b = con.execute(split.format("pb", "pa")).fetchone()
    finally:
        con.close()
    assert split_a is not None and split_b is not None
    return {"only_a": len(only_a), "only_b": len(only_b), "only_a_examples": only_a[:5],
            "only_b_examples": only_b[:5], "a_persons_split_in_b": int(split_a[0]),
            "b_persons_split_in_a": int(split_b[0])}


def _run(engine: str, job: dict[str, Any]) -> dict[str, Any]:
    j = Job(**job)
    wall, cpu = time.perf_counter(), _cpu_seconds()
    run_engine(engine, j)
    return {"engine": engine, "wall_s": time.perf_counter() - wall, "cpu_s": _cpu_seconds() - cpu,
            "peak_rss_mib": peak_rss_mib(), "counts": j.counts}


def _preload(engine: str) -> None:
    """Import what ``engine`` uses before the first timed request."""
    modules = {"omniplug": ["omniplug.identity", "omniplug.identity_stream"], "scipy": ["scipy.sparse.csgraph"],
               "igraph": ["igraph"], "duckdb": ["duckdb", "stitch_sql"]}
    for prefix, names in modules.items():
        if engine.startswith(prefix):
            for name in names:
                __import__(name)


#: Worker commands: name -> (engine, request) -> answer.
_COMMANDS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "run": lambda engine, req: _run(engine, req["job"]),
    "verify": lambda _, req: partition_digest(req["path"]),
    "diff": lambda _, req: partition_diff(req["a"], req["b"]),
    "untouched": lambda _, req: untouched_persons(req["before"], req["after"], req["links"]),
}


def serve(engine: str, requests: IO[str], replies: IO[str]) -> None:
    """Answer the JSON requests of :class:`Worker` until stdin closes."""
    _preload(engine)
    replies.write(json.dumps({"ready": True, "rss_mib": rss_mib()}) + "\n")
    replies.flush()
    for line in requests:
        req = json.loads(line)
        command = _COMMANDS.get(req.get("cmd"))
        try:
            answer = command(engine, req) if command else {"error": f"unknown command {req.get('cmd')!r}"}
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        replies.write(json.dumps(answer) + "\n")
        replies.flush()


class Worker:
    """A child process running one engine (see the module docstring).

    Args:
        engine: a key of :data:`stitch_engines.ENGINES`.
        env: extra environment (e.g. ``RAYON_NUM_THREADS``).
    """

    def __init__(self, engine: str, env: dict[str, str] | None = None) -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}")
        self.engine = engine
        self._proc = subprocess.Popen(
            [sys.executable, str(_HERE / "stitch_peers.py"), "--serve", engine],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=_HERE,
            env={**os.environ, **(env or {})})
        self.baseline_rss_mib = float(self._read()["rss_mib"])

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.engine} worker exited with {self._proc.wait()}")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.engine}: {answer['error']}")
        return answer

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        return self._read()

    def run(self, job: Job) -> dict[str, Any]:
        """Run ``job`` end to end in the worker; its measurements and counts."""
        return self._ask({"cmd": "run", "engine": self.engine, "job": asdict(job)})

    def verify(self, path: str) -> dict[str, Any]:
        """:func:`partition_digest` of ``path``, computed in the worker."""
        return self._ask({"cmd": "verify", "path": path})

    def untouched(self, before: str, after: str, links: list[str]) -> dict[str, Any]:
        """:func:`untouched_persons`, computed in the worker."""
        return self._ask({"cmd": "untouched", "before": before, "after": after, "links": links})

    def diff(self, a: str, b: str) -> dict[str, Any]:
        """:func:`partition_diff`, computed in the worker."""
        return self._ask({"cmd": "diff", "a": a, "b": b})

    def close(self) -> None:
        """End the worker (closing its stdin ends its loop)."""
        if self._proc.stdin:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def main() -> None:
    """Command line: one engine on one workload, a JSON line per round."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("engine", choices=sorted(ENGINES))
    parser.add_argument("size", nargs="?", help="workload: 100k, 1m, 10m, 100m")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--verify", action="store_true", help="also print the partition digest")
    parser.add_argument("--serve", action="store_true", help="worker mode (used by the benchmarks)")
    args = parser.parse_args()
    if args.serve:
        # Replies own the real stdout; anything an engine prints goes to stderr.
        replies = os.fdopen(os.dup(sys.stdout.fileno()), "w")
        sys.stdout = sys.stderr
        serve(args.engine, sys.stdin, replies)
        return
    if not args.size:
        parser.error("size is required")
    if args.engine in ("omniplug-incremental", "omniplug-rebuild"):
        parser.error("the daily-run engines need yesterday's persons; run test_stitch_bench.py for them")
    from workloads import workload

    w = workload(args.size)
    _preload(args.engine)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "persons.parquet")
        for _ in range(args.rounds):
            print(json.dumps({"size": args.size, "pairs": w.pairs,
                              **_run(args.engine, {"inputs": [str(w.links)], "out": out})}), flush=True)
        if args.verify:
            print(json.dumps(partition_digest(out)), flush=True)


if __name__ == "__main__":
    main()

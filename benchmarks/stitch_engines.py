"""The stitching engines compared by the benchmarks, end to end.

Every engine does the same job a user's nightly run does: read the
``identity_links`` Parquet file(s), put every identifier (``id_type,
id_value``) into a person, and write ``persons`` (``id_type, id_value,
person_id``) to Parquet. Only the work in between differs:

* ``omniplug``: :func:`omniplug.identity.stitch` with ``guardrails=False``
  (plain connected components, comparable with the peers);
* ``omniplug-guarded``: the same with the default guardrails (blocked values,
  hubs, caps), which is what users run; its partition differs on purpose;
* ``omniplug-stream``: :func:`omniplug.identity_stream.stitch_parquet`
  with the default guardrails: the links are read row group by row group
  into the core's compact store and the persons written batch by batch, so
  neither the input nor the output table is ever in memory whole; same
  persons as ``omniplug-guarded``;
* ``omniplug-incremental`` / ``omniplug-rebuild``: the daily run with
  yesterday's persons, either the 1 % new links only or the whole history;
* ``scipy``: strings factorised with pyarrow (dictionary encoding) and numpy,
  then ``scipy.sparse.csgraph.connected_components``;
* ``igraph``: the same factorisation, then python-igraph's components;
* ``duckdb-lp`` / ``duckdb-star``: SQL in DuckDB, min-label propagation or
  large-star/small-star (see :mod:`stitch_sql`).

Peers have no guardrails, so they are compared with ``omniplug``; the
guarded run is reported next to them. All engines read the type columns as
dictionaries where their reader allows it (Parquet stores them so).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["Job", "ENGINES", "PEERS", "run_engine"]

_LINK_COLUMNS = ["left_type", "left_value", "right_type", "right_value"]
_TYPE_COLUMNS = ["left_type", "right_type"]


@dataclass
class Job:
    """One end-to-end run.

    Attributes:
        inputs: ``identity_links`` Parquet files (their rows together are the links).
        out: where ``persons`` is written.
        previous: yesterday's ``persons`` Parquet (omniplug's daily runs only).
        next_person_id: the previous run's ``next_person_id``.
        guardrails: for the daily-run engines, whether the guardrails apply
            (they do unless this is ``False``); other engines ignore it.
        counts: filled by the engine (identifiers, persons, cuts...).
    """

    inputs: list[str]
    out: str
    previous: str | None = None
    next_person_id: int | None = None
    guardrails: bool | None = None
    #: ``cap_order`` of the guarded engines (None: the default, "trust").
    cap_order: str | None = None
    #: the previous run's ``cuts`` Parquet, whose hubs an incremental run carries.
    previous_cuts: str | None = None
    #: where to write this run's ``cuts`` (for the next day's carry).
    cuts_out: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)


def _read_links(job: Job, columns: list[str]) -> pa.Table:
    tables = [pq.read_table(p, columns=columns, read_dictionary=_TYPE_COLUMNS) for p in job.inputs]
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")


def _omniplug(job: Job, *, guardrails: bool, mode: str = "rebuild") -> None:
    from omniplug.identity import stitch

    # Recency matters only to the caps, which only the guardrails apply.
    links = _read_links(job, _LINK_COLUMNS + (["observed_at"] if guardrails else []))
    previous = pq.read_table(job.previous) if job.previous else None
    cuts = pq.read_table(job.previous_cuts) if job.previous_cuts and mode == "incremental" else None
    result = stitch(links, guardrails=guardrails, previous=previous, mode=mode,  # type: ignore[arg-type]
                    next_person_id=job.next_person_id, cap_order=job.cap_order or "trust",  # type: ignore[arg-type]
                    previous_cuts=cuts)
    pq.write_table(result.persons, job.out)
    if job.cuts_out:
        pq.write_table(result.cuts, job.cuts_out)
    r = result.report
    job.counts.update(identifiers=r["identifiers"], components=r["components"], largest=r["largest_component"],
                      hubs=r.get("hubs"), cuts_by_rule=r.get("cuts_by_rule"), next_person_id=r["next_person_id"],
                      persons_kept=r.get("persons_kept"), persons_new=r.get("persons_new"),
                      persons_merged=r.get("persons_merged"), persons_split=r.get("persons_split"))


def _omniplug_stream(job: Job) -> None:
    from omniplug.identity_stream import stitch_batches

    def reader(path: str) -> pq.ParquetFile:
        # No pre-buffering: the default keeps the file's column chunks alive.
        return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)

    def links() -> Any:
        for path in job.inputs:
            f = reader(path)
            columns = _LINK_COLUMNS + (["observed_at"] if "observed_at" in f.schema_arrow.names else [])
            yield from f.iter_batches(batch_size=1 << 18, columns=columns)

    previous = reader(job.previous).iter_batches(batch_size=1 << 18) if job.previous else None
    result = stitch_batches(links(), previous=previous, next_person_id=job.next_person_id)
    with pq.ParquetWriter(job.out, result.persons_schema) as writer:
        for batch in result.iter_persons():
            writer.write_batch(batch)
    r = result.report
    job.counts.update(identifiers=r["identifiers"], components=r["components"], largest=r["largest_component"],
                      hubs=r.get("hubs"), cuts_by_rule=r.get("cuts_by_rule"), next_person_id=r["next_person_id"])


@dataclass
class Factorised:
    """Links as dense integer node ids, and each node's (type, value)."""

    src: np.ndarray
    dst: np.ndarray
    id_type: pa.Array
    id_value: pa.Array

    @property
    def nodes(self) -> int:
        """Number of distinct identifiers."""
        return len(self.id_value)


def factorise(links: pa.Table) -> Factorised:
    """Dense node ids for ``(type, value)``: dictionary-encode the values of
    both sides in one pass (one hash table), combine with the type code, and
    dictionary-encode that integer key once more."""
    n = links.num_rows
    values = pa.chunked_array(links["left_value"].chunks + links["right_value"].chunks).dictionary_encode()
    vcode = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in values.chunks]).astype(np.int64)
    types = pa.chunked_array(links["left_type"].chunks + links["right_type"].chunks)
    if not pa.types.is_dictionary(types.type):
        types = types.dictionary_encode()
    types = types.unify_dictionaries()
    type_names = types.chunks[0].dictionary if types.num_chunks else pa.array([], pa.string())
    tcode = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in types.chunks]).astype(np.int64)
    key = pa.array(vcode * max(1, len(type_names)) + tcode).dictionary_encode()
    node = key.indices.to_numpy()
    uniq = key.dictionary.to_numpy()
    value_dict = values.chunks[-1].dictionary
    return Factorised(node[:n], node[n:], type_names.take(pa.array(uniq % max(1, len(type_names)))),
                      value_dict.take(pa.array(uniq // max(1, len(type_names)))))


def _write_labels(job: Job, f: Factorised, labels: np.ndarray) -> None:
    persons = pa.table({"id_type": f.id_type, "id_value": f.id_value, "person_id": pa.array(labels, pa.int64())})
    pq.write_table(persons, job.out)
    job.counts.update(identifiers=f.nodes)


def _scipy(job: Job) -> None:
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    f = factorise(_read_links(job, _LINK_COLUMNS))
    graph = coo_array((np.ones(len(f.src), dtype=np.float32), (f.src, f.dst)), shape=(f.nodes, f.nodes)).tocsr()
    count, labels = connected_components(graph, directed=False)
    job.counts.update(components=int(count))
    _write_labels(job, f, labels)


def _igraph(job: Job) -> None:
    import igraph

    f = factorise(_read_links(job, _LINK_COLUMNS))
    graph = igraph.Graph(n=f.nodes, edges=np.column_stack([f.src, f.dst]))
    membership = np.asarray(graph.connected_components().membership, dtype=np.int64)
    job.counts.update(components=int(membership.max()) + 1 if len(membership) else 0)
    _write_labels(job, f, membership)


def _duckdb(job: Job, *, algorithm: str) -> None:
    from stitch_sql import duckdb_components

    job.counts.update(duckdb_components(job.inputs, job.out, algorithm))


#: Engine name -> function running a :class:`Job` end to end.
ENGINES: dict[str, Callable[[Job], None]] = {
    "omniplug": lambda job: _omniplug(job, guardrails=False),
    "omniplug-guarded": lambda job: _omniplug(job, guardrails=True),
    "omniplug-stream": _omniplug_stream,
    "omniplug-incremental": lambda job: _omniplug(job, guardrails=job.guardrails is not False, mode="incremental"),
    "omniplug-rebuild": lambda job: _omniplug(job, guardrails=job.guardrails is not False, mode="rebuild"),
    "scipy": _scipy,
    "igraph": _igraph,
    "duckdb-lp": lambda job: _duckdb(job, algorithm="label_propagation"),
    "duckdb-star": lambda job: _duckdb(job, algorithm="large_small_star"),
}
#: Engines computing plain connected components (their partitions must be identical).
PEERS = ("omniplug", "scipy", "igraph", "duckdb-lp", "duckdb-star")


def run_engine(name: str, job: Job) -> Job:
    """Run engine ``name`` on ``job``; ``job.counts`` gets what it reports."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; engines are {sorted(ENGINES)}")
    ENGINES[name](job)
    Path(job.out).stat()  # every engine must have written its output
    return job

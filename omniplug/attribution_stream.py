"""Attribution over input that arrives as a stream of batches.

:func:`attribute_stream` takes the same parameters as
:func:`omniplug.attribute` and returns the same table, bit for bit, but never
holds the touchpoints or orders whole. It runs in two phases:

1. **Spill.** Batches are read one at a time (``batch_rows`` rows at most).
   Each batch's persons are resolved exactly as :func:`~omniplug.attribute`
   resolves them, its group-by values enter global dictionaries, and its
   rows are written to one of 64 spill partitions (Arrow IPC files in a
   temporary directory) chosen by the person's reduction chunk in the Rust
   engine, so one person's rows always land in one partition.
2. **Attribute.** Each partition is read back and attributed alone by the
   engine; the partition outputs are added in partition order, the order in
   which the in-memory engine merges its chunks, so every sum is the same.

Memory: the largest spill partition (about 1/64 of the input, one person
never split), one input batch, the identifier dictionary (distinct
``(id_type, id_value)`` pairs; none with a ``person_id`` column), the
group-by dictionaries and the output groups. Disk: about the size of the
projected input in Arrow IPC; the spill directory is removed when the call
returns or fails.

``markov*`` and ``shapley_exact`` learn channel weights from every path
(converting or not) before crediting any order, so for them phase 2 reads
the partitions twice: a first pass collects each partition's path statistics
(transition and coalition counts, channels numbered by one global channel
dictionary filled while spilling), merges them and solves the chains and the
game once, giving the weights :func:`~omniplug.attribute` learns; the second
pass attributes each partition with those weights. Extra memory: the
distinct channel values and the path statistics, as in memory.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from omniplug import _core
from omniplug.attribution import (
    _check_status,
    _check_time,
    _id_keys,
    _join_spend,
    _lookback,
    _person_ids,
    _require,
    _single_batch,
    _specs,
    _table,
)
from omniplug.errors import InvalidInputError

__all__ = ["attribute_stream"]


class _Source:
    """Batches of one input with its schema known before the first is read."""

    def __init__(self, data: Any, what: str, columns: Sequence[str] | None, batch_rows: int) -> None:
        self.what, self.batch_rows = what, batch_rows
        self._wanted = columns
        self.schema, self._batches = self._open(data)

    def _open(self, data: Any) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        if isinstance(data, (str, os.PathLike)) or (
                isinstance(data, (list, tuple)) and data and all(isinstance(d, (str, os.PathLike)) for d in data)):
            return self._parquet([data] if isinstance(data, (str, os.PathLike)) else list(data))
        if isinstance(data, ds.Dataset):
            cols = self._project(data.schema)
            return data.schema, data.to_batches(columns=cols, batch_size=self.batch_rows)
        if isinstance(data, pa.Table):
            return data.schema, iter(data.to_batches(max_chunksize=self.batch_rows))
        if isinstance(data, pa.RecordBatch):
            return data.schema, iter([data])
        if isinstance(data, pa.RecordBatchReader):
            return data.schema, iter(data)
        if hasattr(data, "__arrow_c_stream__"):
            reader = pa.RecordBatchReader.from_stream(data)
            return reader.schema, iter(reader)
        if isinstance(data, Iterable) and not isinstance(data, (bytes, Mapping)):
            it = iter(data)
            first = next(it, None)
            if first is None:
                raise InvalidInputError(f"{self.what}: the batch iterable is empty (no schema to read)")
            first = _table(first, self.what) if not isinstance(first, pa.RecordBatch) else first
            return first.schema, itertools.chain([first], it)
        raise InvalidInputError(
            f"{self.what} must be Parquet path(s), a pyarrow dataset, table, RecordBatchReader, an Arrow "
            f"stream producer or an iterable of record batches, got {type(data).__name__}")

    def require(self, columns: Sequence[str]) -> None:
        """Fail unless the schema has every column of ``columns``."""
        _require(self.schema.empty_table(), columns, self.what)

    def _project(self, schema: pa.Schema) -> list[str] | None:
        return None if self._wanted is None else [c for c in self._wanted if c in schema.names]

    def _parquet(self, paths: list[str | os.PathLike[str]]) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
        # Without pre-buffering, reading holds one column chunk at a time, not
        # whole row groups read ahead (at 20 M rows: 250 instead of 640 MiB).
        if len(paths) == 1 and Path(paths[0]).is_dir():
            dataset = ds.dataset(paths[0], format=ds.ParquetFileFormat(
                default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False)))
            return dataset.schema, dataset.to_batches(columns=self._project(dataset.schema),
                                                      batch_size=self.batch_rows, batch_readahead=1,
                                                      fragment_readahead=1)
        try:
            files = [pq.ParquetFile(p, pre_buffer=False, buffer_size=1 << 20) for p in paths]
        except (OSError, pa.ArrowInvalid) as exc:
            raise InvalidInputError(f"{self.what}: cannot read Parquet: {exc}") from None
        schema = files[0].schema_arrow

        def read() -> Iterator[pa.RecordBatch]:
            for f in files:
                yield from f.iter_batches(batch_size=self.batch_rows, columns=self._project(f.schema_arrow))
        return schema, read()

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for item in self._batches:
            for batch in (item.to_batches(max_chunksize=self.batch_rows) if isinstance(item, pa.Table)
                          else [item] if isinstance(item, pa.RecordBatch)
                          else _table(item, self.what).to_batches(max_chunksize=self.batch_rows)):
                for start in range(0, max(batch.num_rows, 1), self.batch_rows):
                    yield batch.slice(start, self.batch_rows)


def _utf8(arr: pa.Array) -> pa.Array:
    """String-like columns as plain utf8 (one schema for every spilled batch)."""
    kind = arr.type
    if pa.types.is_dictionary(kind):
        arr, kind = arr.cast(kind.value_type), kind.value_type
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        arr = arr.cast(pa.string())
    return arr


class _Spill:
    """One Arrow IPC file per (table, spill partition), written in input order."""

    def __init__(self, folder: str, partitions: int) -> None:
        self.folder, self.partitions = Path(folder), partitions
        self._writers: dict[tuple[str, int], pa.ipc.RecordBatchFileWriter] = {}
        self.schemas: dict[str, pa.Schema] = {}

    def path(self, table: str, part: int) -> Path:
        return self.folder / f"{table}-{part:02d}.arrow"

    def write(self, table: str, batch: pa.RecordBatch, rows: pa.Array, offsets: Sequence[int]) -> None:
        schema = self.schemas.setdefault(table, batch.schema)
        if batch.schema != schema:
            try:
                batch = batch.cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise InvalidInputError(f"{table}: a batch does not match the first one's schema: {exc}") from None
        ordered = batch.take(rows)
        for part in range(self.partitions):
            start, end = offsets[part], offsets[part + 1]
            if end > start:
                writer = self._writers.get((table, part))
                if writer is None:
                    writer = self._writers[(table, part)] = pa.ipc.new_file(self.path(table, part), schema)
                writer.write_batch(ordered.slice(start, end - start))

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def read(self, table: str, part: int, schema: pa.Schema, keep: bool = False) -> pa.Table:
        """The partition's rows as one batch (empty with ``schema`` when none); the file is
        removed unless ``keep`` (a learning pass reads it again)."""
        path = self.path(table, part)
        if not path.exists():
            return _single_batch(schema.empty_table())
        with pa.OSFile(str(path)) as source:
            rows = _single_batch(pa.ipc.open_file(source).read_all())
        if not keep:
            path.unlink()
        return rows


def _person_lookup(persons: Any) -> pa.Table:
    people = _table(persons, "persons")
    _require(people, ("id_type", "id_value", "person_id"), "persons")
    return pa.table({"k": _id_keys(people, "persons").combine_chunks(),
                     "p": _person_ids(people.column("person_id"), "persons").combine_chunks()})


def attribute_stream(
    touchpoints: Any,
    orders: Any,
    *,
    persons: Any = None,
    spend: Any = None,
    model: str | Mapping[str, Any] | Sequence[str | Mapping[str, Any]] = "last_touch",
    lookback_days: float | Mapping[str, float] = 30,
    group_by: Sequence[str] = ("platform", "channel"),
    channel: str | None = None,
    half_life_days: float = 7.0,
    position: tuple[float, float] = (0.4, 0.4),
    weights: str | Mapping[str, float] | None = None,
    spill_dir: str | os.PathLike[str] | None = None,
    batch_rows: int = 1 << 18,
) -> pa.Table:
    """:func:`omniplug.attribute` over inputs read batch by batch, with bounded memory.

    Same parameters, rules and output as :func:`omniplug.attribute` (the
    result is bit-identical, row order included), plus:

    Args:
        touchpoints: canonical ``touchpoints`` as a Parquet file path (or a
            list of paths, or a folder), a ``pyarrow.dataset.Dataset``, a
            ``RecordBatchReader`` or any Arrow stream producer, a table, or
            an iterable of record batches / tables. Batches must share one
            schema and are read in order.
        orders: canonical ``orders``, in any of the same forms.
        persons: ``persons`` from :func:`omniplug.stitch` (held in memory).
        spend: canonical ``spend`` (held in memory; it is small).
        spill_dir: where the temporary spill folder goes (default: the
            system temporary folder). It needs about the size of the
            projected input; it is deleted on return and on failure.
        batch_rows: the most rows read and spilled at once.

    Memory stays near one input batch plus the largest of 64 spill
    partitions (see the module docstring), not the whole input. ``markov*``
    and ``shapley_exact`` read the spilled partitions twice (a learning pass
    over every path, then the crediting pass) and also hold the channel
    dictionary and the path statistics.

    Raises:
        InvalidInputError: as :func:`omniplug.attribute`; also for
            unreadable sources, batches whose schema differs from the first one's, and
            ``batch_rows < 1``.
    """
    if batch_rows < 1:
        raise InvalidInputError(f"batch_rows must be at least 1, got {batch_rows}")
    group_by = list(group_by)
    if not group_by:
        raise InvalidInputError("group_by needs at least one touchpoint column")
    specs = _specs(model, half_life_days=half_life_days, position=position, weights=weights)
    lookback = _lookback(lookback_days)
    config_json = json.dumps({"models": specs, **lookback})
    key_columns = list(dict.fromkeys([*group_by, *([channel] if channel else [])]))
    ids = ["person_id", "id_type", "id_value"]
    t_src = _Source(touchpoints, "touchpoints",
                    ["event_time", "event_id", "event_type", *key_columns, *ids], batch_rows)
    o_src = _Source(orders, "orders", ["order_id", "order_time", "amount", "status", *ids], batch_rows)
    t_src.require(["event_time", "event_id", "event_type", *key_columns])
    o_src.require(["order_id", "order_time", "amount", "status"])
    by_person_id = persons is None and "person_id" in t_src.schema.names and "person_id" in o_src.schema.names
    if not by_person_id:
        t_src.require(["id_type", "id_value"])
        o_src.require(["id_type", "id_value"])
    lookup = None if persons is None else _person_lookup(persons)
    stream = _core.AttributionStream(group_by, config_json, lookup)
    id_types: dict[str, set[Any]] = {"touchpoints": set(), "orders": set()}
    counts = {"touchpoints": 0, "orders": 0}

    def person_of(batch: pa.RecordBatch, what: str) -> pa.Array:
        counts[what] += batch.num_rows
        if by_person_id:
            return _person_ids(batch.column("person_id"), what)
        id_types[what].update(pc.unique(batch.column("id_type")).to_pylist())
        return stream.resolve(_id_keys(batch, what)).column(0).combine_chunks()

    with tempfile.TemporaryDirectory(prefix="omniplug-attribution-", dir=spill_dir) as folder:
        spill = _Spill(folder, _core.AttributionStream.partitions())
        try:
            for batch in t_src:
                keys = {c: _utf8(batch.column(c)).cast(pa.string()) for c in key_columns}
                stream.observe(pa.table({f"g{i}": keys[c] for i, c in enumerate(group_by)}))
                if stream.needs_paths:
                    stream.observe_channel(keys[channel or group_by[0]])
                person = person_of(batch, "touchpoints")
                rows = pa.RecordBatch.from_pydict({
                    "person": person, "event_time": _check_time(batch, "event_time", "touchpoints"),
                    "event_id": batch.column("event_id").cast(pa.string()),
                    "event_type": _utf8(batch.column("event_type")), **keys})
                spill.write("t", rows, *_split(stream, person))
            for batch in o_src:
                _check_status(batch.column("status"), "orders", offset=counts["orders"])
                person = person_of(batch, "orders")
                rows = pa.RecordBatch.from_pydict({
                    "person": person, "order_time": _check_time(batch, "order_time", "orders"),
                    "order_id": batch.column("order_id").cast(pa.string()),
                    "amount": batch.column("amount"), "status": _utf8(batch.column("status"))})
                spill.write("o", rows, *_split(stream, person))
        finally:
            spill.close()
        if (persons is None and not by_person_id and counts["touchpoints"] and counts["orders"]
                and not id_types["touchpoints"] & id_types["orders"]):
            raise InvalidInputError(
                f"touchpoints and orders share no identifier type (touchpoints: {sorted(id_types['touchpoints'])}, "
                f"orders: {sorted(id_types['orders'])}); "
                f"pass persons=omniplug.stitch(identity_links).persons to join them")
        t_schema = spill.schemas.get("t") or _empty_touch_schema(key_columns)
        o_schema = spill.schemas.get("o") or _EMPTY_ORDER_SCHEMA
        if stream.needs_paths:
            # Even without orders: the in-memory engine solves (and may refuse) the models then too.
            _learn(stream, spill, t_schema, o_schema, channel)
        for part in range(spill.partitions):
            # A partition without orders credits nothing: its sums would all be +0.0.
            if spill.path("o", part).exists():
                order_rows, touch_rows = spill.read("o", part, o_schema), spill.read("t", part, t_schema)
                stream.add(stream.attribute(touch_rows, order_rows, channel))
                del order_rows, touch_rows
        result = stream.finish()
    return _join_spend(result, spend, group_by)


def _learn(stream: Any, spill: _Spill, t_schema: pa.Schema, o_schema: pa.Schema, channel: str | None) -> None:
    """The learning pass of ``markov*`` / ``shapley_exact``: every partition's paths, then one solve."""
    for part in range(spill.partitions):
        # Touches of persons without orders still give non-converting paths.
        if spill.path("t", part).exists():
            stream.collect_paths(spill.read("t", part, t_schema, keep=True),
                                 spill.read("o", part, o_schema, keep=True), channel)
    stream.learn()


def _split(stream: Any, person: pa.Array) -> tuple[pa.Array, list[int]]:
    rows, offsets = stream.split(person)
    return rows.column(0).combine_chunks(), offsets


_EMPTY_ORDER_SCHEMA = pa.schema([("person", pa.int64()), ("order_time", pa.timestamp("ms", tz="UTC")),
                                 ("order_id", pa.string()), ("amount", pa.float64()), ("status", pa.string())])


def _empty_touch_schema(key_columns: Sequence[str]) -> pa.Schema:
    return pa.schema([("person", pa.int64()), ("event_time", pa.timestamp("ms", tz="UTC")),
                      ("event_id", pa.string()), ("event_type", pa.string()),
                      *((c, pa.string()) for c in key_columns)])

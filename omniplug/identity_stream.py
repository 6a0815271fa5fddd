"""Identity stitching over streamed input, for link tables larger than memory.

:func:`omniplug.identity.stitch` takes a whole Arrow table and the core reads
identifier text straight from its buffers, so the input stays in memory for
the whole run. Here the links arrive batch by batch (a Parquet file read row
group by row group, or any iterable of Arrow batches); the core copies each
batch into compact storage (every distinct identifier value once, each link
as four small integer keys plus its ``observed_at``) and the batch can be
freed at once. The persons come back in batches too, so
:func:`stitch_parquet` writes ``persons.parquet`` row group by row group.

The result is exactly :func:`omniplug.identity.stitch`'s for the same rows in
the same order and the same settings: same persons, person ids, merges,
splits, cuts and report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from omniplug import _core
from omniplug import identity as _identity
from omniplug.errors import InvalidInputError
from omniplug.identity import LINK_COLUMNS, PERSON_COLUMNS, StitchResult
from omniplug.sync import write_parquet_atomic

__all__ = ["StreamedStitch", "stitch_batches", "stitch_parquet", "DEFAULT_BATCH_ROWS"]

#: Rows per batch read from Parquet and per persons batch handed back.
DEFAULT_BATCH_ROWS = 1 << 18

#: Bytes per Parquet read (buffered reads, see :func:`_parquet_batches`).
_READ_BUFFER = 1 << 20

#: Files :func:`stitch_parquet` writes into ``out_dir``.
OUTPUT_FILES = ("persons.parquet", "merges.parquet", "splits.parquet", "cuts.parquet", "stitch_report.json")


@dataclass
class StreamedStitch:
    """The outcome of :func:`stitch_batches`, with the persons still in batches.

    Attributes:
        merges: ``old_person_id, surviving_person_id`` (as in :class:`~omniplug.identity.StitchResult`).
        splits: ``old_person_id, new_person_id``.
        cuts: one row per cut (same columns as :func:`omniplug.identity.stitch`).
        report: counts (same keys as :func:`omniplug.identity.stitch`).
    """

    _persons: pa.Table
    merges: pa.Table
    splits: pa.Table
    cuts: pa.Table
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def persons_schema(self) -> pa.Schema:
        """Schema of the persons batches: ``id_type, id_value`` (utf8), ``person_id`` (int64)."""
        return _utf8_schema(self._persons.schema)

    @property
    def num_persons_rows(self) -> int:
        """Number of persons rows (one per identifier)."""
        return self._persons.num_rows

    def iter_persons(self) -> Iterator[pa.RecordBatch]:
        """The persons rows, in order (person_id, id_type, id_value), batch by batch.

        Each batch is converted to the canonical ``utf8`` layout as it is
        yielded, so only one converted batch exists at a time.
        """
        schema = self.persons_schema
        for batch in self._persons.to_batches():
            yield batch if batch.schema == schema else batch.cast(schema)

    def to_result(self) -> StitchResult:
        """Everything as one :class:`~omniplug.identity.StitchResult` (the persons in memory at once)."""
        persons = pa.Table.from_batches(list(self.iter_persons()), schema=self.persons_schema)
        return StitchResult(persons, self.merges, self.splits, self.cuts, self.report)


def _utf8_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with ``utf8_view`` fields as plain ``utf8`` (the canonical persons layout)."""
    return pa.schema([f.with_type(pa.string()) if f.type == pa.string_view() else f for f in schema])


def _batches(data: Any, what: str) -> Iterator[Any]:
    """The batches of ``data``: an Arrow table or batch, or an iterable of them."""
    if data is None:
        return iter(())
    if isinstance(data, (pa.Table, pa.RecordBatch)) or hasattr(data, "__arrow_c_stream__"):
        return iter([data])
    if isinstance(data, Iterable):
        return iter(data)
    raise InvalidInputError(
        f"{what} must be an Arrow table, a record batch or an iterable of them, not {type(data).__name__}"
    )


def _link_columns(table: pa.Table) -> tuple[str, ...]:
    """The columns the core reads from one links batch (``observed_at`` when present)."""
    return LINK_COLUMNS + (("observed_at",) if "observed_at" in table.column_names else ())


def stitch_batches(
    batches: Iterable[Any],
    *,
    previous: Any = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    max_component_size: int | None = None,
    max_ids_per_type: dict[str, int] | None = None,
    type_priority: list[str] | None = None,
    hub_degree: int | None = None,
    hub_degree_per_type: dict[str, int] | None = None,
    blocked_values: list[str] | tuple[str, ...] = (),
    allowed_types: list[str] | None = None,
    mode: Literal["incremental", "rebuild"] = "incremental",
    next_person_id: int | None = None,
    guardrails: bool = True,
    cap_order: Literal["trust", "arrival"] = "trust",
    previous_cuts: Any = None,
) -> StreamedStitch:
    """Stitch links that arrive batch by batch; same result as :func:`omniplug.identity.stitch`.

    Each batch is copied into the core's compact store and released before
    the next one is pulled from ``batches``, so a generator reading Parquet
    row groups never holds more than one batch of input.

    Args:
        batches: Arrow record batches or tables (pyarrow, polars, DuckDB...)
            with ``left_type, left_value, right_type, right_value`` and
            optionally ``observed_at``; other columns are ignored.
        previous: yesterday's ``persons`` (``id_type, id_value, person_id``):
            an Arrow table, a batch, or an iterable of batches.
        batch_rows: rows per persons batch of :meth:`StreamedStitch.iter_persons`.
        max_component_size, max_ids_per_type, type_priority, hub_degree,
        hub_degree_per_type, blocked_values, allowed_types, mode,
        next_person_id, guardrails, cap_order, previous_cuts: as in
            :func:`omniplug.identity.stitch`.

    Returns:
        A :class:`StreamedStitch`.

    Raises:
        InvalidInputError: a batch lacking a column or with a non-string id
            column (the message names it), an unknown identifier type (with
            ``allowed_types``), a bad setting, ``batch_rows`` below 1.
    """
    if batch_rows < 1:
        raise InvalidInputError(f"batch_rows must be at least 1, not {batch_rows}")
    config = json.loads(
        _identity._config_json(
            guardrails=guardrails, mode=mode, cap_order=cap_order, previous_cuts=previous_cuts,
            max_component_size=max_component_size, max_ids_per_type=max_ids_per_type,
            type_priority=type_priority, hub_degree=hub_degree, hub_degree_per_type=hub_degree_per_type,
            blocked_values=blocked_values, allowed_types=allowed_types, next_person_id=next_person_id,
        )
    )
    # Views into the core's value store avoid copying the text into the
    # persons table; the fast daily path (previous persons, incremental)
    # builds utf8 itself, and copies only what today's links touch.
    daily = previous is not None and mode == "incremental"
    config["output_strings"] = "utf8" if daily else "view"
    stitcher = _core.StreamStitcher(json.dumps(config))
    for batch in _batches(previous, "previous"):
        stitcher.push_previous(_identity._select(batch, PERSON_COLUMNS, "previous persons"))
    for batch in _batches(batches, "batches"):
        table = _identity._arrow(batch, "links batch")
        stitcher.push_links(_identity._select(table, _link_columns(table), "links"))
        del batch, table
    persons, merges, splits, cuts, report_json = stitcher.finish(batch_rows)
    report = json.loads(report_json)
    if previous_cuts is not None:
        carried = _identity._hub_values(previous_cuts)
        cuts = _identity._with_carried_hubs(cuts, carried)
        report["hubs_carried"] = len(carried)
    return StreamedStitch(persons, merges, splits, cuts, report)


def _parquet_batches(
    path: str | Path, columns: tuple[str, ...], optional: tuple[str, ...], batch_rows: int, what: str
) -> Iterator[pa.RecordBatch]:
    """Batches of the Parquet file at ``path``, only ``columns`` (and ``optional`` ones present)."""
    try:
        # Without pre-buffering and with a small read buffer only the row
        # group being decoded is held; the default pre-buffers column
        # chunks and kept ~0.6 GB of a 10 M-pair file alive.
        pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=_READ_BUFFER)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"{what}: cannot read Parquet file {path}: {exc}") from None
    names = pf.schema_arrow.names
    missing = [c for c in columns if c not in names]
    if missing:
        raise InvalidInputError(f"{what} lacks columns {missing}; it needs {list(columns)} (has {names})")
    wanted = list(columns) + [c for c in optional if c in names]
    return pf.iter_batches(batch_size=batch_rows, columns=wanted)


def stitch_parquet(
    links_path: str | Path,
    out_dir: str | Path,
    *,
    previous: str | Path | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    **settings: Any,
) -> dict[str, Any]:
    """Stitch an ``identity_links`` Parquet file into ``persons.parquet`` and friends, streaming.

    Reads ``links_path`` ``batch_rows`` rows at a time (only the columns
    stitching needs), and writes into ``out_dir`` (created if missing):
    ``persons.parquet`` (one row group per persons batch), ``merges.parquet``,
    ``splits.parquet``, ``cuts.parquet`` and ``stitch_report.json``. The
    tables hold what :func:`omniplug.identity.stitch` would return.

    Args:
        links_path: ``identity_links`` Parquet file (``left_type, left_value,
            right_type, right_value``, optionally ``observed_at``).
        out_dir: directory for the outputs.
        previous: yesterday's ``persons.parquet``, for stable person ids.
        batch_rows: rows per batch read and per persons row group written.
        **settings: the keyword settings of :func:`stitch_batches` (same as
            :func:`omniplug.identity.stitch`: ``guardrails``, ``mode``,
            ``max_component_size``, ``previous_cuts``, ...).

    Returns:
        The report (also written to ``stitch_report.json``).

    Raises:
        InvalidInputError: an unreadable file or a missing column, and every
            error of :func:`stitch_batches`.
    """
    if batch_rows < 1:
        raise InvalidInputError(f"batch_rows must be at least 1, not {batch_rows}")
    links = _parquet_batches(links_path, LINK_COLUMNS, ("observed_at",), batch_rows, "links")
    prev = None
    if previous is not None:
        prev = _parquet_batches(previous, PERSON_COLUMNS, (), batch_rows, "previous persons")
    result = stitch_batches(links, previous=prev, batch_rows=batch_rows, **settings)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # Every file is written under a temporary name and renamed: a crash never
    # leaves a half-written persons.parquet where tomorrow's run would read it.
    tmp = out / "persons.parquet.tmp"
    try:
        with pq.ParquetWriter(tmp, result.persons_schema) as writer:
            for batch in result.iter_persons():
                writer.write_batch(batch)
        os.replace(tmp, out / "persons.parquet")
    finally:
        tmp.unlink(missing_ok=True)
    for name in ("merges", "splits", "cuts"):
        write_parquet_atomic(getattr(result, name), out / f"{name}.parquet")
    report = out / "stitch_report.json.tmp"
    report.write_text(json.dumps(result.report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(report, out / "stitch_report.json")
    return result.report

"""Run one stream: fetch → normalise → validate → write durably → move the cursor.

This is the loop every ``omniplug fetch`` and every stream of ``omniplug run``
goes through, and the place where the resume guarantee is kept:

1. each raw batch from the plugin is normalised and validated; failing rows
   go to ``rejects`` with their reason (nothing is dropped);
2. the batch's rows are written as part files under ``<out>/.parts/<table>/``
   (temporary file, fsync, atomic rename);
3. only then does one state transaction record those parts and move the
   stream's cursor to the one the plugin attached to the batch.

A run killed anywhere leaves at most part files that no record mentions;
they are deleted when the next run starts, which resumes from the last
cursor. :func:`compact_tables` then merges every committed part of a table
into ``<out>/<table>.parquet``, keeping the last version of each primary key,
so a re-fetched record replaces its earlier copy instead of duplicating it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from omniplug.config import PlatformConfig
from omniplug.context import FetchContext
from omniplug.cursor import cursor_of
from omniplug.errors import InvalidInputError, OmniplugError
from omniplug.plugins import PluginRegistry
from omniplug.progress import NullProgress, Progress
from omniplug.schema import PRIMARY_KEYS, TABLES, VERSION_COLUMNS
from omniplug.state import PartRecord, StateStore
from omniplug.validate import validate_batch

__all__ = ["PARTS_DIR", "StreamResult", "sync_stream", "import_file", "compact_tables", "write_parquet_atomic"]

#: Folder (inside the output folder) holding committed part files.
PARTS_DIR = ".parts"


@dataclass
class StreamResult:
    """What one stream run did.

    Attributes:
        rows: valid rows written this run, per canonical table.
        rejects: rejected rows written this run, by reason.
        tables: the compacted ``<table>.parquet`` files this stream contributes to.
        batches: raw batches processed.
        cursor: the stream's cursor after the run.
    """

    platform: str
    stream: str
    run_id: str
    rows: Counter[str] = field(default_factory=Counter)
    rejects: Counter[str] = field(default_factory=Counter)
    tables: dict[str, Path] = field(default_factory=dict)
    batches: int = 0
    cursor: dict[str, Any] | None = None

    @property
    def n_rejects(self) -> int:
        """Total rejected rows this run."""
        return sum(self.rejects.values())

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary (for ``--json`` output and the run log)."""
        return {
            "platform": self.platform,
            "stream": self.stream,
            "run_id": self.run_id,
            "batches": self.batches,
            "rows": dict(self.rows),
            "rejects": dict(self.rejects),
            "tables": {name: str(path) for name, path in self.tables.items()},
            "cursor": self.cursor,
        }


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus randomness."""
    return datetime.utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def write_parquet_atomic(table: pa.Table, path: Path) -> tuple[int, str]:
    """Write ``table`` to ``path`` so the file is either complete or absent.

    Writes a temporary sibling, fsyncs it, renames it into place and fsyncs
    the folder. Returns ``(size_in_bytes, sha256_hex)``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            pq.write_table(table, fh, compression="zstd")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return path.stat().st_size, digest


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _as_table(data: pa.RecordBatch | pa.Table) -> pa.Table:
    return data if isinstance(data, pa.Table) else pa.Table.from_batches([data])


def _rejects_table(data: pa.RecordBatch | pa.Table, run_id: str) -> pa.Table:
    """Rejects a plugin emitted itself, checked against the rejects schema, with the run id set."""
    table = _as_table(data)
    schema = TABLES["rejects"]
    missing = [name for name in schema.names if name not in table.column_names and name != "run_id"]
    if missing:
        raise InvalidInputError(f"rejects emitted by normalise lack columns {missing}")
    columns = [table.column(name).cast(pa.string()) for name in schema.names if name != "run_id"]
    columns.append(pa.array([run_id] * table.num_rows, pa.string()))
    return pa.Table.from_arrays(columns, schema=schema)


class _StreamWriter:
    """Validates normalised batches and commits them with their cursor."""

    def __init__(
        self,
        registry: PluginRegistry,
        platform: str,
        stream: str,
        *,
        out_dir: Path,
        state: StateStore,
        run_id: str,
        account: str,
        state_stream: str | None = None,
    ) -> None:
        self.registry = registry
        self.platform = platform
        self.stream = stream
        # Name under which parts and the cursor are recorded in the state database.
        self.state_stream = state_stream or stream
        self.out_dir = out_dir
        self.state = state
        self.run_id = run_id
        self.account = account
        self.result = StreamResult(platform, stream, run_id)
        self._seq = 0

    def process(self, raw: pa.RecordBatch, cursor: dict[str, Any] | None) -> None:
        """Normalise, validate and durably write one raw batch, then move the cursor."""
        tables = self.registry.normalise(self.platform, self.stream, raw)
        outputs: dict[str, list[pa.Table]] = {}
        for name, data in tables.items():
            if name == "rejects":
                outputs.setdefault("rejects", []).append(_rejects_table(data, self.run_id))
                continue
            checked = validate_batch(
                name, data, platform=self.platform, stream=self.stream, run_id=self.run_id
            )
            outputs.setdefault(name, []).append(checked.valid)
            if checked.rejects.num_rows:
                outputs.setdefault("rejects", []).append(checked.rejects)
        parts: list[PartRecord] = []
        for name, pieces in outputs.items():
            table = pa.concat_tables(pieces)
            if table.num_rows == 0:
                continue
            parts.append(self._write_part(name, table))
            if name == "rejects":
                reasons = table.column("reason").to_pylist()
                self.result.rejects.update(str(r).split(":", 1)[0] for r in reasons)
            else:
                self.result.rows[name] += table.num_rows
        if cursor is None:
            cursor = dict(self.result.cursor or {})
        self.state.commit_batch(
            self.platform, self.state_stream, cursor=cursor, parts=parts,
            run_id=self.run_id, account=self.account,
        )
        self.result.cursor = cursor
        self.result.batches += 1

    def _write_part(self, table_name: str, table: pa.Table) -> PartRecord:
        self._seq += 1
        name = f"{self.platform}.{self.stream}.{self.account}.{self.run_id}.{self._seq:06d}.parquet"
        rel = Path(PARTS_DIR) / table_name / name
        size, digest = write_parquet_atomic(table, self.out_dir / rel)
        return PartRecord(table=table_name, path=rel.as_posix(), rows=table.num_rows, size=size, sha256=digest)


def _drive(
    writer: _StreamWriter, batches: Iterable[pa.RecordBatch], progress: Progress, label: str
) -> StreamResult:
    task = progress.task(label, unit="rows")
    for raw in batches:
        if not isinstance(raw, pa.RecordBatch):
            raise InvalidInputError(
                f"{writer.platform}/{writer.stream}: fetch must yield pyarrow.RecordBatch, "
                f"got {type(raw).__name__}"
            )
        writer.process(raw, cursor_of(raw))
        task.advance(raw.num_rows)
    task.finish()
    return writer.result


def sync_stream(
    registry: PluginRegistry,
    platform: str,
    stream: str,
    *,
    config: PlatformConfig,
    out_dir: str | os.PathLike[str],
    since: datetime | None = None,
    until: datetime | None = None,
    state: StateStore | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
    compact: bool = True,
    cleanup: bool = True,
    now: Any = None,
    sleep: Any = None,
) -> StreamResult:
    """Fetch one stream of one platform into ``out_dir``, resumably.

    Args:
        registry: the loaded plugins.
        platform: platform name.
        stream: stream name.
        config: the platform's validated config.
        out_dir: output folder; canonical tables land in ``<out_dir>/<table>.parquet``.
        since: start of an explicit window (UTC, inclusive); with ``None``
            the plugin resumes from the saved cursor.
        until: end of the window (UTC, exclusive).
        state: an open state database (default: the one in ``out_dir``).
        run_id: id for the run log and rejects (default: a new one).
        progress: where to report progress.
        compact: merge committed parts into ``<table>.parquet`` at the end.
        cleanup: delete part files left uncommitted by a crashed run first
            (turn off when other streams write to the same folder concurrently).
        now: a clock for the context (simulated time in tests).
        sleep: how the HTTP clients wait before retries (a simulator clock's
            ``sleep`` in tests).

    Returns:
        A :class:`StreamResult`.
    """
    out = Path(out_dir)
    own_state = state is None
    state = state or StateStore.open(out)
    spec = registry.platform(platform)
    spec.stream(stream)
    run_id = run_id or new_run_id()
    progress = progress or NullProgress()
    if cleanup:
        state.forget_uncommitted(PARTS_DIR, out_dir=out)
    cursor = None if since is not None else state.get_cursor(platform, stream, config.account)
    ctx = FetchContext(
        platform=platform, stream=stream, config=config, cursor=cursor, since=since,
        until=until, run_id=run_id, tokens=state, state=state, progress=progress,
        now=now, sleep=sleep, spec=spec,
    )
    writer = _StreamWriter(
        registry, platform, stream, out_dir=out, state=state, run_id=run_id, account=config.account
    )
    writer.result.cursor = cursor
    try:
        result = _drive(writer, registry.fetch(platform, stream, ctx), progress, f"{platform}/{stream}")
        if compact:
            tables = [*spec.stream(stream).tables, "rejects"]
            compact_tables(out, state, tables=tables)
            result.tables = {t: out / f"{t}.parquet" for t in tables if (out / f"{t}.parquet").exists()}
        return result
    finally:
        ctx.close()
        if own_state:
            state.close()


def import_file(
    registry: PluginRegistry,
    platform: str,
    stream: str,
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    state: StateStore | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> StreamResult:
    """Normalise a back-office export file through the same path as fetched data.

    The stream's ``read_export`` reads the file into raw batches; the stream's
    cursor is not touched (imports are not incremental).
    """
    out = Path(out_dir)
    own_state = state is None
    state = state or StateStore.open(out)
    spec = registry.platform(platform)
    reader = spec.stream(stream).read_export
    if reader is None:
        raise OmniplugError(
            f"{platform}/{stream} has no back-office export format; fetch it with "
            f"`omniplug fetch {platform} {stream}` instead"
        )
    run_id = run_id or new_run_id()
    # Imports record their parts under a pseudo-stream so they never move the
    # fetch cursor of the real stream.
    writer = _StreamWriter(
        registry, platform, stream, out_dir=out, state=state, run_id=run_id,
        account="default", state_stream=f"{stream}@import",
    )
    try:
        state.forget_uncommitted(PARTS_DIR, out_dir=out)
        result = _drive(writer, reader(Path(path)), progress or NullProgress(), f"import {platform}/{stream}")
        tables = [*spec.stream(stream).tables, "rejects"]
        compact_tables(out, state, tables=tables)
        result.tables = {t: out / f"{t}.parquet" for t in tables if (out / f"{t}.parquet").exists()}
        return result
    finally:
        if own_state:
            state.close()


def _dedupe_last(table: pa.Table, keys: tuple[str, ...], version: str | None = None) -> pa.Table:
    """Keep the newest row of each primary key, sorted by key.

    Rows arrive in commit order. Without a ``version`` column the last
    committed row wins; with one, the row with the greatest version wins
    (ties: the last committed).
    """
    n = table.num_rows
    if n == 0:
        return table
    commit_order = pa.array(range(n), pa.int64())
    if version is None:
        by_rank = commit_order  # rank -> row
        rank = commit_order  # row -> rank
    else:
        by_rank = pc.sort_indices(
            pa.table({"v": table.column(version), "i": commit_order}),
            sort_keys=[("v", "ascending", "at_start"), ("i", "ascending")],  # a null version is oldest
        )
        rank = pc.sort_indices(by_rank)  # the inverse permutation
    ranked = table.select(list(keys)).append_column("__rank", rank)
    newest = ranked.group_by(list(keys), use_threads=False).aggregate([("__rank", "max")])
    rows = pc.take(by_rank, newest.column("__rank_max"))
    return table.take(rows).sort_by([(k, "ascending") for k in keys])


def compact_tables(
    out_dir: str | os.PathLike[str],
    state: StateStore,
    tables: Iterable[str] | None = None,
) -> dict[str, Path]:
    """Merge every committed part of each table into ``<out_dir>/<table>.parquet``.

    Rows are de-duplicated by the table's primary key (the most recently
    committed version wins) and sorted by it, so the file's content depends
    only on what was fetched, not on the order or number of runs. Rejects
    are de-duplicated on their whole content. A file whose content would
    not change is not rewritten (a re-fetched snapshot stream changes
    nothing on disk).

    Returns:
        The files that were written, by table.
    """
    out = Path(out_dir)
    written: dict[str, Path] = {}
    names = list(tables) if tables is not None else list(TABLES)
    for name in dict.fromkeys(names):
        parts = state.committed_parts(table=name)
        if not parts:
            continue
        pieces = [pq.read_table(out / p.path) for p in parts]
        table = pa.concat_tables(pieces).cast(TABLES[name])
        keys = PRIMARY_KEYS.get(name, tuple(n for n in TABLES[name].names if n != "run_id"))
        table = _dedupe_last(table, keys, VERSION_COLUMNS.get(name))
        target = out / f"{name}.parquet"
        if target.exists() and pq.read_table(target).equals(table):
            continue
        write_parquet_atomic(table, target)
        written[name] = target
    return written

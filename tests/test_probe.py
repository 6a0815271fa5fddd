"""``committed_parts``: reading the state database of an output folder that another writer holds open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from omniplug.state import STATE_FILENAME, StateStore
from omniplug.state_records import PartRecord
from omniplug.testing import committed_parts


def _commit(store: StateStore, n: int) -> None:
    parts = [PartRecord(table="orders", path=f"parts/orders/{n}-{i}.parquet", rows=1, size=10) for i in range(2)]
    store.commit_batch("example", "orders", cursor={"page": n}, parts=parts, run_id="r1")


def test_no_folder_or_no_database_is_zero_and_creates_nothing(tmp_path: Path) -> None:
    assert committed_parts(tmp_path / "missing") == 0
    assert committed_parts(tmp_path) == 0
    assert not (tmp_path / STATE_FILENAME).exists()


def test_counts_parts_while_the_writer_keeps_the_database_open(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        assert committed_parts(tmp_path) == 0
        _commit(store, 1)
        assert committed_parts(tmp_path) == 2
        _commit(store, 2)
        assert committed_parts(tmp_path) == 4
    assert committed_parts(tmp_path) == 4  # and after the writer closed it


def test_a_database_without_tables_or_not_sqlite_is_zero(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / STATE_FILENAME).close()  # created, layout not written yet
    assert committed_parts(tmp_path) == 0
    (tmp_path / STATE_FILENAME).write_bytes(b"not a database at all" * 10)
    assert committed_parts(tmp_path) == 0


def test_a_write_lock_held_by_another_connection_does_not_block_the_count(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as store:
        _commit(store, 1)
    writer = sqlite3.connect(tmp_path / STATE_FILENAME, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO parts (platform, stream, account, tbl, path, rows, size, run_id, committed_at)"
                       " VALUES ('x', 'y', 'default', 'orders', 'p/q.parquet', 1, 1, 'r', '2026-01-01')")
        assert committed_parts(tmp_path) == 2  # WAL: the reader sees the last commit, not the open transaction
        writer.execute("COMMIT")
        assert committed_parts(tmp_path) == 3
    finally:
        writer.close()

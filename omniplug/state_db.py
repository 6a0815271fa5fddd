"""The SQLite file under a :class:`~omniplug.state.StateStore`: opening, layout, transactions.

:class:`StateDatabase` owns the connection: it opens (or creates) the file in
WAL mode with ``synchronous=FULL``, creates or checks the table layout
(refusing files of another program or of a newer omniplug), and gives its
subclass the write transaction (:meth:`StateDatabase._tx`) and read query
(:meth:`StateDatabase._query`) helpers, serialised behind one lock so the
store may be shared between threads. What is stored, and the rules about
it, are in :mod:`omniplug.state`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from omniplug.errors import StateError

__all__ = ["STATE_FILENAME", "SCHEMA_VERSION", "StateDatabase"]

#: File name of the state database inside an output folder.
STATE_FILENAME = "omniplug_state.sqlite"
#: Version of the database layout this omniplug writes and understands.
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (
    platform TEXT NOT NULL, stream TEXT NOT NULL, account TEXT NOT NULL,
    cursor TEXT NOT NULL, run_id TEXT, updated_at TEXT NOT NULL,
    PRIMARY KEY (platform, stream, account));
CREATE TABLE IF NOT EXISTS parts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    platform TEXT NOT NULL, stream TEXT NOT NULL, account TEXT NOT NULL,
    tbl TEXT NOT NULL, path TEXT NOT NULL UNIQUE, rows INTEGER NOT NULL,
    sha256 TEXT, size INTEGER, run_id TEXT, committed_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS parts_by_stream ON parts (platform, stream, account);
CREATE TABLE IF NOT EXISTS tokens (
    platform TEXT NOT NULL, account TEXT NOT NULL, data TEXT NOT NULL,
    updated_at TEXT NOT NULL, PRIMARY KEY (platform, account));
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, command TEXT NOT NULL, config_hash TEXT,
    status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
    summary TEXT, pid INTEGER, host TEXT);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, at TEXT NOT NULL,
    level TEXT NOT NULL, step TEXT NOT NULL, message TEXT NOT NULL, data TEXT);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, seq);
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StateDatabase:
    """An open omniplug state database file; :class:`~omniplug.state.StateStore` builds on it.

    ``StateDatabase(path)`` opens or creates the file at ``path`` (its folder
    must exist; :meth:`open` creates it). ``clock`` returns the current UTC
    time and exists for tests. Use as a context manager or call :meth:`close`.

    Raises:
        StateError: the folder is missing, or the file is not a readable
            omniplug state database, or was written by a newer omniplug (the
            message says what to do).
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = Path(path)
        self._clock = clock or _utc_now
        self._lock = threading.RLock()
        if not self.path.parent.is_dir():
            raise StateError(
                f"{self.path}: folder {self.path.parent} does not exist "
                "(StateStore.open(out_dir) creates it)"
            )
        try:
            # One connection shared under self._lock: check_same_thread is off
            # because the lock, not thread affinity, serialises its use.
            self._conn: sqlite3.Connection | None = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise StateError(f"{self.path}: cannot open the state database: {exc}") from exc
        try:
            self._conn.execute("PRAGMA busy_timeout = 30000")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            self._conn = None
            raise StateError(
                f"{self.path}: not a readable omniplug state database ({exc}); move the file "
                "aside to start over (saved cursors and tokens are then lost: streams "
                "re-fetch from the beginning and platforms need re-authorising)"
            ) from exc
        except BaseException:
            self._conn.close()
            self._conn = None
            raise

    @classmethod
    def open(cls, out_dir: str | os.PathLike[str], *, clock: Callable[[], datetime] | None = None) -> Self:
        """Open (creating the folder and the file if needed) ``<out_dir>/omniplug_state.sqlite``."""
        folder = Path(out_dir)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(f"{folder}: cannot create the output folder: {exc}") from exc
        return cls(folder / STATE_FILENAME, clock=clock)

    def close(self) -> None:
        """Close the database. Safe to call twice."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    # -- plumbing -----------------------------------------------------------

    def _init_schema(self) -> None:
        assert self._conn is not None
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if names and "meta" not in names:
                raise StateError(
                    f"{self.path}: this SQLite file is not an omniplug state database; "
                    "choose another output folder or move the file aside"
                )
            row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() if names else None
            if row is None:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
            else:
                try:
                    version = int(row[0])
                except ValueError:
                    raise StateError(f"{self.path}: corrupt schema version {row[0]!r}") from None
                if version > SCHEMA_VERSION:
                    raise StateError(
                        f"{self.path}: written by a newer omniplug (state schema {version}; this "
                        f"version understands up to {SCHEMA_VERSION}): upgrade omniplug, or use "
                        "another output folder"
                    )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError(f"{self.path}: the state store is closed")
        return self._conn

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StateError(f"{self.path}: {action} failed: {exc}") from exc

    @contextmanager
    def _tx(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed (and on disk) or none."""
        with self._lock, self._errors(action):
            conn = self._connection()
            # IMMEDIATE takes the write lock up front, so two writers never
            # deadlock upgrading read locks; the other one waits (busy_timeout).
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _query(self, action: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock, self._errors(action):
            return self._connection().execute(sql, params).fetchall()

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat()

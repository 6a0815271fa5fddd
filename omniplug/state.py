"""The state database: stream cursors, committed part files, tokens and the run log.

One SQLite file per output folder (``<output dir>/omniplug_state.sqlite``), in
WAL mode with ``synchronous=FULL`` so that whatever a method has written is on
disk when it returns. A :class:`StateStore` is safe to share between the
threads of a ``ThreadPoolExecutor`` (one connection behind a lock), and
several processes may open the same file (SQLite's own locking, with a busy
timeout).

The resume rule (DESIGN §6): a stream's cursor moves only in the same
transaction that records the part files holding the data it covers
(:meth:`StateStore.commit_batch`). A crash between writing a part file and
committing it leaves a file no record mentions; :meth:`StateStore.uncommitted_files`
finds such files and :meth:`StateStore.forget_uncommitted` deletes them, after
which the stream resumes from its last cursor without loss or duplicates.

The file itself (opening, layout, transactions) is :mod:`omniplug.state_db`;
the records handed out are :mod:`omniplug.state_records`. Both are
re-exported here: import everything from ``omniplug.state``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from omniplug.errors import StateError
from omniplug.state_db import SCHEMA_VERSION, STATE_FILENAME, StateDatabase
from omniplug.state_records import (
    CursorRecord,
    EventRecord,
    PartRecord,
    RunRecord,
)
from omniplug.state_records import dumps as _dumps
from omniplug.state_records import json_default as _json_default
from omniplug.tokens import TokenSet

__all__ = [
    "STATE_FILENAME", "SCHEMA_VERSION", "RUN_STATUSES", "EVENT_LEVELS", "StateStore",
    "PartRecord", "CursorRecord", "RunRecord", "EventRecord",
]

#: Statuses of a run: ``running`` until :meth:`StateStore.finish_run`; a run never
#: finished becomes ``interrupted`` when the next run starts.
RUN_STATUSES = ("running", "succeeded", "partial", "failed", "interrupted")
#: Levels accepted by :meth:`StateStore.log_event`.
EVENT_LEVELS = ("debug", "info", "warning", "error")


class StateStore(StateDatabase):
    """The state database of one output folder (cursors, parts, tokens, run log).

    ``StateStore(path)`` opens or creates the database file at ``path`` (its
    folder must exist; :meth:`open` creates it). ``clock`` returns the current
    UTC time and exists for tests. Use as a context manager or call
    :meth:`close`. Implements :class:`omniplug.tokens.TokenStore`. Opening,
    closing and transactions come from :class:`omniplug.state_db.StateDatabase`.

    Raises:
        StateError: the folder is missing, or the file is not a readable omniplug state database, or was
            written by a newer omniplug (the message says what to do).
    """

    # -- cursors and parts --------------------------------------------------

    def get_cursor(self, platform: str, stream: str, account: str = "default") -> dict[str, Any] | None:
        """The saved cursor of a stream, or ``None`` if the stream never committed a batch."""
        rows = self._query(
            "reading a cursor",
            "SELECT cursor FROM cursors WHERE platform=? AND stream=? AND account=?",
            (platform, stream, account),
        )
        return json.loads(rows[0][0]) if rows else None

    def cursors(self, platform: str | None = None) -> list[CursorRecord]:
        """All saved cursors (of one platform if given), ordered by platform, stream, account."""
        rows = self._query(
            "listing cursors",
            "SELECT platform, stream, account, cursor, run_id, updated_at FROM cursors"
            " WHERE ?1 IS NULL OR platform=?1 ORDER BY platform, stream, account",
            (platform,),
        )
        return [
            CursorRecord(p, s, a, json.loads(c), r, datetime.fromisoformat(u)) for p, s, a, c, r, u in rows
        ]

    def commit_batch(
        self,
        platform: str,
        stream: str,
        *,
        cursor: dict[str, Any],
        parts: list[PartRecord],
        run_id: str | None,
        account: str = "default",
    ) -> list[PartRecord]:
        """Record durably written ``parts`` and move the stream's cursor, in one transaction.

        Call it only after the part files are on disk (written, flushed, fsynced
        and renamed into place). Either everything is recorded or nothing is:
        if this raises, the cursor has not moved and no part is recorded.
        ``parts`` may be empty (a page that held no rows still moves the cursor).

        Returns:
            The recorded parts with ``seq`` and the stream fields filled in.

        Raises:
            StateError: the cursor is not JSON-able, a part lacks both ``sha256``
                and ``size``, a path was already committed, or the write failed.
        """
        try:
            cursor_json = json.dumps(cursor, sort_keys=True, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise StateError(f"cursor of {platform}/{stream} is not JSON-able: {exc}") from exc
        for part in parts:
            if part.sha256 is None and part.size is None:
                raise StateError(f"part {part.path}: give its sha256 or its size")
            if part.rows < 0:
                raise StateError(f"part {part.path}: negative row count {part.rows}")
        now = self._now()
        recorded: list[PartRecord] = []
        with self._tx(f"committing a batch of {platform}/{stream}") as conn:
            for part in parts:
                try:
                    seq = conn.execute(
                        "INSERT INTO parts (platform, stream, account, tbl, path, rows, sha256, size,"
                        " run_id, committed_at) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING seq",
                        (platform, stream, account, part.table, part.path, part.rows,
                         part.sha256, part.size, run_id, now),
                    ).fetchone()[0]
                except sqlite3.IntegrityError:
                    raise StateError(f"part {part.path} is already committed") from None
                recorded.append(self._part_from_row(
                    (seq, platform, stream, account, part.table, part.path, part.rows,
                     part.sha256, part.size, run_id, now)
                ))
            self._write_cursor(conn, platform, stream, account, cursor_json, run_id, now)
        return recorded

    @staticmethod
    def _write_cursor(
        conn: sqlite3.Connection, platform: str, stream: str, account: str,
        cursor_json: str, run_id: str | None, now: str,
    ) -> None:
        conn.execute(
            "INSERT INTO cursors (platform, stream, account, cursor, run_id, updated_at)"
            " VALUES (?,?,?,?,?,?) ON CONFLICT (platform, stream, account) DO UPDATE SET"
            " cursor=excluded.cursor, run_id=excluded.run_id, updated_at=excluded.updated_at",
            (platform, stream, account, cursor_json, run_id, now),
        )

    @staticmethod
    def _part_from_row(row: tuple[Any, ...]) -> PartRecord:
        seq, platform, stream, account, tbl, path, rows, sha, size, run_id, at = row
        return PartRecord(tbl, path, rows, sha, size, seq, platform, stream, account, run_id,
                          datetime.fromisoformat(at))

    def committed_parts(
        self, platform: str | None = None, stream: str | None = None, table: str | None = None
    ) -> list[PartRecord]:
        """Committed parts, optionally filtered, in commit order (increasing ``seq``)."""
        rows = self._query(
            "listing parts",
            "SELECT seq, platform, stream, account, tbl, path, rows, sha256, size, run_id,"
            " committed_at FROM parts WHERE (?1 IS NULL OR platform=?1)"
            " AND (?2 IS NULL OR stream=?2) AND (?3 IS NULL OR tbl=?3) ORDER BY seq",
            (platform, stream, table),
        )
        return [self._part_from_row(row) for row in rows]

    def reset_stream(self, platform: str, stream: str, account: str | None = None) -> list[PartRecord]:
        """Drop a stream's cursor and its part records (of every account if ``account`` is None).

        The next fetch starts from the beginning. The part files are not
        deleted: the returned records say which files the caller should remove.
        """
        where = " WHERE platform=?1 AND stream=?2 AND (?3 IS NULL OR account=?3)"
        params = (platform, stream, account)
        # Read and delete in one transaction, so a concurrent commit is either
        # returned here or survives the reset.
        with self._tx(f"resetting {platform}/{stream}") as conn:
            rows = conn.execute(
                "SELECT seq, platform, stream, account, tbl, path, rows, sha256, size, run_id,"
                f" committed_at FROM parts{where} ORDER BY seq", params,
            ).fetchall()
            conn.execute(f"DELETE FROM parts{where}", params)
            conn.execute(f"DELETE FROM cursors{where}", params)
        return [self._part_from_row(row) for row in rows]

    def uncommitted_files(
        self, parts_dir: str | os.PathLike[str], *, out_dir: str | os.PathLike[str] | None = None
    ) -> list[Path]:
        """Files under ``parts_dir`` that no committed part record mentions, sorted.

        These are what a crash between writing a part and committing it leaves
        behind (including half-written temporary files). ``parts_dir`` is
        relative to ``out_dir``, which defaults to the database's folder.
        """
        base = Path(out_dir) if out_dir is not None else self.path.parent
        folder = base / parts_dir
        if not folder.is_dir():
            return []
        known = {r[0] for r in self._query("listing part paths", "SELECT path FROM parts")}
        found = []
        for file in folder.rglob("*"):
            if not file.is_file() or file.name.startswith(STATE_FILENAME):
                continue
            try:
                rel = file.relative_to(base).as_posix()
            except ValueError:
                raise StateError(f"{folder} is not inside the output folder {base}") from None
            if rel not in known:
                found.append(file)
        return sorted(found)

    def forget_uncommitted(
        self, parts_dir: str | os.PathLike[str], *, out_dir: str | os.PathLike[str] | None = None
    ) -> list[Path]:
        """Delete the files :meth:`uncommitted_files` finds and return them (run before resuming)."""
        removed = self.uncommitted_files(parts_dir, out_dir=out_dir)
        for file in removed:
            file.unlink(missing_ok=True)
        return removed

    # -- tokens (omniplug.tokens.TokenStore) ---------------------------------

    def get_token(self, platform: str, account: str = "default") -> TokenSet | None:
        """The saved token set of ``(platform, account)``, or ``None``."""
        rows = self._query(
            "reading a token", "SELECT data FROM tokens WHERE platform=? AND account=?", (platform, account)
        )
        if not rows:
            return None
        try:
            return TokenSet.from_storage(json.loads(rows[0][0]))
        except ValueError:
            # The validation error would quote the stored secrets: do not chain it.
            raise StateError(
                f"{self.path}: the saved token of {platform}/{account} is unreadable; re-authorise"
            ) from None

    def put_token(self, platform: str, token: TokenSet, account: str = "default") -> None:
        """Save ``token`` for ``(platform, account)``; it is on disk when this returns."""
        data = json.dumps(token.to_storage(), sort_keys=True, default=_json_default)
        with self._tx(f"saving the token of {platform}/{account}") as conn:
            conn.execute(
                "INSERT INTO tokens (platform, account, data, updated_at) VALUES (?,?,?,?)"
                " ON CONFLICT (platform, account) DO UPDATE SET data=excluded.data,"
                " updated_at=excluded.updated_at",
                (platform, account, data, self._now()),
            )

    # -- run log ------------------------------------------------------------

    def start_run(self, command: str, config_hash: str | None = None) -> str:
        """Start a run and return its id (sortable by start time, unique).

        Runs still marked ``running`` (their process died without
        :meth:`finish_run`) become ``interrupted`` first.
        """
        now = self._clock().astimezone(UTC)
        run_id = f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"
        with self._tx("starting a run") as conn:
            conn.execute(
                "UPDATE runs SET status='interrupted', finished_at=? WHERE status='running'",
                (now.isoformat(),),
            )
            conn.execute(
                "INSERT INTO runs (run_id, command, config_hash, status, started_at, pid, host)"
                " VALUES (?,?,?,'running',?,?,?)",
                (run_id, command, config_hash, now.isoformat(), os.getpid(), socket.gethostname()),
            )
        return run_id

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any] | None = None) -> None:
        """Close a run with a final ``status`` (succeeded, partial, failed, interrupted) and summary."""
        if status not in RUN_STATUSES or status == "running":
            raise StateError(f"unknown final run status {status!r} (allowed: {', '.join(RUN_STATUSES[1:])})")
        with self._tx("finishing a run") as conn:
            updated = conn.execute(
                "UPDATE runs SET status=?, finished_at=?, summary=? WHERE run_id=?",
                (status, self._now(), _dumps(summary or {}), run_id),
            ).rowcount
        if updated == 0:
            raise StateError(f"no run {run_id!r} in {self.path}")

    def log_event(
        self, run_id: str, level: str, step: str, message: str, data: dict[str, Any] | None = None
    ) -> None:
        """Append an event to a run's log. ``SecretStr`` values in ``data`` are stored masked."""
        level = level.lower()
        if level not in EVENT_LEVELS:
            raise StateError(f"unknown event level {level!r} (allowed: {', '.join(EVENT_LEVELS)})")
        with self._tx("logging an event") as conn:
            conn.execute(
                "INSERT INTO events (run_id, at, level, step, message, data) VALUES (?,?,?,?,?,?)",
                (run_id, self._now(), level, step, message, None if data is None else _dumps(data)),
            )

    def runs(self) -> list[RunRecord]:
        """Every run, oldest first."""
        rows = self._query(
            "listing runs",
            "SELECT run_id, command, config_hash, status, started_at, finished_at, summary"
            " FROM runs ORDER BY started_at, rowid",
        )
        return [
            RunRecord(r, c, h, s, datetime.fromisoformat(a),
                      datetime.fromisoformat(f) if f else None, json.loads(m) if m else {})
            for r, c, h, s, a, f, m in rows
        ]

    def events(self, run_id: str) -> list[EventRecord]:
        """The events of one run, in logging order."""
        rows = self._query(
            "listing events",
            "SELECT seq, run_id, at, level, step, message, data FROM events WHERE run_id=? ORDER BY seq",
            (run_id,),
        )
        return [
            EventRecord(q, r, datetime.fromisoformat(a), lv, st, m, json.loads(d) if d else None)
            for q, r, a, lv, st, m, d in rows
        ]

"""Look into an output folder while another process is writing it (crash and resume tests).

A test that kills ``omniplug fetch`` with ``SIGKILL`` waits until the run
has committed some pages, then kills it::

    proc = subprocess.Popen([sys.executable, "-m", "omniplug.cli", "fetch", ...])
    while committed_parts(out) == 0 and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)

The probe opens the state database read-only, so it never creates the file,
changes its layout or takes a write lock the fetch would wait on.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from omniplug.state_db import STATE_FILENAME

__all__ = ["committed_parts"]


def committed_parts(out_dir: str | os.PathLike[str]) -> int:
    """How many parts the state database of ``out_dir`` records as committed.

    ``0`` while there is nothing to read yet: no database, a database whose
    tables are not created yet, or one locked by the writer for longer than
    a second. Safe to call in a polling loop while another process writes.
    """
    db = Path(out_dir) / STATE_FILENAME
    if not db.exists():
        return 0
    try:
        # mode=ro: reading must not create the file or block the writer's commits.
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)) as conn:
            return int(conn.execute("SELECT count(*) FROM parts").fetchone()[0])
    except sqlite3.DatabaseError:  # not created yet, locked, or half-initialised
        return 0

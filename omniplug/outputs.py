"""The output folder's database: every canonical table, queryable with DuckDB.

After a run, ``<out>/omniplug.duckdb`` holds the same tables as the Parquet
files, so ``duckdb out/omniplug.duckdb "select platform, sum(amount) from
orders group by 1"`` works. The database is rebuilt from the Parquet files
into a temporary file and renamed into place, so a reader never sees a
half-written database and a crash leaves the previous one intact.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from pathlib import Path

__all__ = ["DATABASE_FILENAME", "write_database"]

#: File name of the DuckDB database inside an output folder.
DATABASE_FILENAME = "omniplug.duckdb"


def write_database(out_dir: str | os.PathLike[str], tables: Iterable[str]) -> Path:
    """(Re)build ``<out_dir>/omniplug.duckdb`` with one table per ``<table>.parquet`` present.

    Returns the database path.
    """
    import duckdb

    out = Path(out_dir)
    target = out / DATABASE_FILENAME
    tmp = out / f".{DATABASE_FILENAME}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        with duckdb.connect(str(tmp)) as db:
            for name in sorted(set(tables)):
                parquet = out / f"{name}.parquet"
                if parquet.exists():
                    # The path is ours (no user input reaches it); quote it for DuckDB.
                    escaped = str(parquet).replace("'", "''")
                    db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet(\'{escaped}\')')
            db.execute("CHECKPOINT")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return target

"""An output folder opened for the report: DuckDB views over its Parquet files.

Every number in ``report.html`` comes from a query over the files a run
leaves in its output folder (``orders.parquet``, ``attribution.parquet``,
``persons.parquet``, ...). :class:`OutputFolder` opens an in-memory DuckDB
database with one view per file that exists, so a section whose input is
missing can say so instead of failing, and hands back plain Python values
(rows as dicts), never DuckDB or Arrow objects, to the chart code.

Times are turned into China calendar days with a fixed +08:00 offset (China
has no daylight saving time), so no time-zone database is needed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from omniplug.errors import InvalidInputError
from omniplug.schema import OUTPUT_TABLES, TABLES

__all__ = [
    "KNOWN_TABLES", "OutputFolder", "china_day", "china_day_sql", "day_number", "ordered_models", "with_china_day",
]

log = logging.getLogger(__name__)

#: Every file name (without ``.parquet``) the report knows how to read.
KNOWN_TABLES: tuple[str, ...] = (*TABLES, *OUTPUT_TABLES, "attribution", "merges", "splits", "cuts")

_EPOCH = date(1970, 1, 1)
_CHINA_OFFSET_MS = 8 * 3600 * 1000
_DAY_MS = 86_400_000

# The order models are shown in (the order of omniplug.attribution.MODELS), unknown names last.
_MODEL_ORDER = ("last_touch", "first_touch", "linear", "time_decay", "position_based", "weighted",
                "markov", "markov_2", "markov_3", "shapley", "shapley_exact")


def china_day(day_number: int) -> date:
    """The calendar date of a China day number (days since 1970-01-01, China time)."""
    return _EPOCH + timedelta(days=int(day_number))


def day_number(day: date) -> int:
    """Days since 1970-01-01 of ``day`` (the inverse of :func:`china_day`)."""
    return (day - _EPOCH).days


def china_day_sql(column: str) -> str:
    """SQL for the China day number of a ``TIMESTAMPTZ`` column (``column`` is ours, never user input)."""
    return f"CAST(floor((epoch_ms({column}) + {_CHINA_OFFSET_MS}) / {_DAY_MS}) AS BIGINT)"


def ordered_models(models: Sequence[str], preferred: Sequence[str] | None = None) -> list[str]:
    """``models`` without duplicates, in ``preferred`` order first, then the engine's order, then by name."""
    first = [m for m in (preferred or []) if m in models]
    rest = sorted(set(models) - set(first),
                  key=lambda m: (_MODEL_ORDER.index(m) if m in _MODEL_ORDER else len(_MODEL_ORDER), m))
    return list(dict.fromkeys([*first, *rest]))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class OutputFolder:
    """The Parquet files of an ``omniplug run`` output folder, queryable with DuckDB.

    Args:
        path: the output folder (``orders.parquet``, ``attribution.parquet``, ... inside).

    Raises:
        InvalidInputError: ``path`` is not a folder, or holds none of the
            files a run writes.
    """

    def __init__(self, path: str | Path) -> None:
        import duckdb

        self.path = Path(path)
        if not self.path.is_dir():
            raise InvalidInputError(f"{self.path} is not a folder; pass the output folder of `omniplug run`")
        # One thread: GROUP BY without ORDER BY then returns groups in the same
        # order every time, so the same folder gives the same bytes (the
        # report's tables are small; parallelism buys nothing here).
        self.db = duckdb.connect(config={"threads": 1})
        self.tables: set[str] = set()
        self._arrow: dict[str, pa.Table] = {}
        for name in KNOWN_TABLES:
            file = self.path / f"{name}.parquet"
            if file.is_file():
                # The view name is one of ours and the path is quoted: no user text reaches the SQL.
                self.db.execute(f'CREATE VIEW "{name}" AS SELECT * FROM read_parquet({_literal(str(file))})')
                self.tables.add(name)
        if not self.tables:
            raise InvalidInputError(
                f"{self.path} holds no omniplug outputs (none of {', '.join(f'{t}.parquet' for t in KNOWN_TABLES[:4])}"
                f", ...); run `omniplug run PIPELINE.toml` or `omniplug demo --out {self.path}` first")

    def close(self) -> None:
        """Close the DuckDB connection."""
        self.db.close()

    def has(self, *names: str) -> bool:
        """True when every named table has a Parquet file in the folder."""
        return all(name in self.tables for name in names)

    def columns(self, name: str) -> list[str]:
        """Column names of table ``name`` (empty when the file is missing)."""
        if name not in self.tables:
            return []
        return [row[0] for row in self.db.execute(f'DESCRIBE "{name}"').fetchall()]

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a query as dicts (select only plain types: numbers, text, dates)."""
        cursor = self.db.execute(sql, list(params))
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first value of the first row of a query (``None`` for no row)."""
        row = self.db.execute(sql, list(params)).fetchone()
        return None if row is None else row[0]

    def count(self, name: str) -> int:
        """Rows of table ``name`` (0 when missing)."""
        return int(self.scalar(f'SELECT count(*) FROM "{name}"')) if name in self.tables else 0

    def arrow(self, name: str) -> pa.Table:
        """Table ``name`` read with pyarrow (cached: the engines take Arrow input)."""
        if name not in self._arrow:
            self._arrow[name] = pq.read_table(self.path / f"{name}.parquet")
        return self._arrow[name]

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable as ``name`` (e.g. a recomputed credit breakdown)."""
        self.db.register(name, table)
        self.tables.add(name)

    def stitch_report(self) -> dict[str, Any] | None:
        """``stitch_report.json`` as a dict, or ``None`` when absent or unreadable."""
        file = self.path / "stitch_report.json"
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            if file.exists():
                log.warning("report: cannot read %s (%s)", file, exc)
            return None
        return data if isinstance(data, dict) else None


def with_china_day(table: pa.Table, column: str, name: str = "day") -> pa.Table:
    """``table`` with a ``name`` column: the China day number (int64) of timestamp ``column``."""
    ms = table.column(column).cast(pa.timestamp("ms", tz="UTC")).cast(pa.int64())
    days = pc.floor(pc.divide(pc.add(ms, _CHINA_OFFSET_MS).cast(pa.float64()), float(_DAY_MS))).cast(pa.int64())
    return table.append_column(name, days)

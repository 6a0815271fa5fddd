"""Shared benchmark plumbing: import path, result rows, end-of-run summaries.

Benchmarks run only through ``make bench`` (or ``pytest benchmarks``); the
default ``pytest`` run collects ``tests`` and ``plugins`` only.

A benchmark records one row per measured run with the ``bench_rows``
fixture (``bench_rows.add("stitch", {...})``); at the end of the session
every table that got rows is printed as a summary and written to
``benchmarks/results/<table>.md`` and ``.json`` by the renderer registered in
:data:`SUMMARIES`.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
# The benchmark helpers (workloads, stitch_peers, ...) are plain modules next
# to this file, and the worker processes run them as scripts from here.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import stitch_report  # noqa: E402  (needs the path above)

RESULTS_DIR = HERE / "results"
#: Table name -> renderer of its rows as Markdown.
SUMMARIES: dict[str, Callable[[list[dict[str, Any]]], str]] = {"stitch": stitch_report.render}
_ROWS = pytest.StashKey[dict[str, list[dict[str, Any]]]]()


class BenchRows:
    """Rows recorded during the session, per summary table."""

    def __init__(self, store: dict[str, list[dict[str, Any]]]) -> None:
        self._store = store

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Record ``row`` in summary ``table``."""
        self._store[table].append(row)

    def rows(self, table: str) -> list[dict[str, Any]]:
        """The rows of ``table`` so far."""
        return list(self._store[table])


def pytest_configure(config: pytest.Config) -> None:
    """Give the session an empty row store."""
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    config.stash[_ROWS] = rows


@pytest.fixture(scope="session")
def bench_rows(request: pytest.FixtureRequest) -> BenchRows:
    """The session's :class:`BenchRows`."""
    return BenchRows(request.config.stash[_ROWS])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print each summary table and write it under ``benchmarks/results/``."""
    store = config.stash.get(_ROWS, {})
    for table, rows in store.items():
        if not rows or table not in SUMMARIES:
            continue
        text = SUMMARIES[table](rows)
        terminalreporter.write_sep("=", f"{table} benchmark summary")
        terminalreporter.write_line(text)
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        (RESULTS_DIR / f"{table}.md").write_text(text + "\n", encoding="utf-8")
        (RESULTS_DIR / f"{table}.json").write_text(json.dumps(rows, indent=2, default=str) + "\n", encoding="utf-8")
        terminalreporter.write_line(f"written to {RESULTS_DIR / (table + '.md')}")

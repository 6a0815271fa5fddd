"""Type stubs of the compiled Rust core (``core_rs``, built by maturin).

Users call the documented wrappers in :mod:`omniplug`; these are the raw
bindings. Arrow arguments accept anything with the Arrow PyCapsule interface
(pyarrow, polars, DuckDB relations); results are ``pyarrow`` objects.
"""

from typing import Any

import pyarrow as pa

__version__: str

def echo_table(table: Any) -> pa.Table:
    """Return ``table`` as a ``pyarrow.Table`` after a round trip through Rust, without copying."""

def buffer_addresses(table: Any) -> list[tuple[str, int, int, int]]:
    """``(column, chunk, buffer_index, address)`` of every data buffer as Rust sees it."""

def build_profile() -> str:
    """``"release"`` or ``"debug"``."""

def num_threads() -> int:
    """Threads the next heavy call will use."""

def stitch_links(
    links: Any, previous: Any | None = None, config_json: str = "{}"
) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table, str]:
    """Identity stitching: ``(persons, merges, splits, cuts, report_json)``; see :func:`omniplug.stitch`."""

def default_stitch_config_json() -> str:
    """The core's default stitching settings (recommended guardrails) as JSON."""

def attribute_tables(
    touchpoints: Any, orders: Any, group_by: list[str], channel: str | None = None, config_json: str = "{}"
) -> pa.Table:
    """Attribution over person-resolved single-batch tables; see :func:`omniplug.attribute`."""

def aipl_tables(touchpoints: Any, orders: Any, as_of_ms: int, rules_json: str = "{}") -> pa.Table:
    """AIPL stages ``(person_id, stage)``; see :func:`omniplug.aipl`."""

def _after_fork_in_child() -> None: ...
def _raise_core_error(kind: str, message: str) -> None: ...

"""Exact Markov removal effects from a table of distinct paths.

:func:`omniplug.attribute` builds its ``markov`` chains from touchpoints and
orders. Tools such as ChannelAttribution start one step later, from a table
of *distinct paths*: one row per channel sequence with how often it ended in
a conversion and how often it did not. :func:`markov_removal_effects` takes
that table and solves the same chain exactly (no simulation, no sampling
error), in the Rust core with the GIL released.

The chain (the same as ``attribute``'s, DESIGN §5):

* consecutive repeats of a channel are collapsed (``a > a > b`` is
  ``a > b``): a repeat is more of the same channel, not a move;
* a state is the last ``order`` channels (1 to 3); every path starts in a
  ``start`` state and ends in *conversion* (``conversions`` times) or
  *null* (``null`` times): non-converting paths are part of the chain;
* transition probabilities are the observed frequencies, each path weighted
  by its number of occurrences;
* ``P`` is the probability of reaching conversion from ``start`` (an exact
  solve of the absorbing chain); the removal effect of channel ``c`` is
  ``max(0, (P - P_c) / P)`` where ``P_c`` sends every state containing
  ``c`` to null. It is never negative; all effects are 0 when nothing
  converts.

A table holding each paid order's path once (converting) and each person's
non-converting path once, as ``attribute`` defines them, gives exactly the
removal effects and ``path_conversions`` credit of
``attribute(model="markov", group_by=["channel"])``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from omniplug import _core
from omniplug.errors import InvalidInputError

__all__ = ["markov_removal_effects", "MAX_STATES"]

#: Default cap on the transient states of the chain (the solve is dense: n^2 memory).
MAX_STATES = 2000


def _table(paths: Any) -> pa.Table:
    if isinstance(paths, pa.Table):
        return paths
    if isinstance(paths, pa.RecordBatch):
        return pa.Table.from_batches([paths])
    try:
        return pa.table(paths)
    except (TypeError, ValueError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"paths must be an Arrow table (pyarrow, polars, DuckDB, pandas): {exc}") from None


def _path_column(table: pa.Table, name: str) -> pa.ChunkedArray:
    """The path column as ``utf8`` or ``list<utf8>`` (what the core reads)."""
    col = table.column(name)
    t = col.type
    if pa.types.is_string(t):
        return col
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return col.cast(pa.string())
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t) \
            or pa.types.is_large_list_view(t):
        v = t.value_type
        if pa.types.is_string(v) or pa.types.is_large_string(v) or pa.types.is_string_view(v):
            return col.cast(pa.list_(pa.string()))
    raise InvalidInputError(f"column {name!r} must be a string of channels joined by the separator or a list of "
                            f"strings, got {t}")


def _number_column(table: pa.Table, name: str) -> pa.ChunkedArray:
    col = table.column(name)
    t = col.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
        raise InvalidInputError(f"column {name!r} must be numeric (integer or float), got {t}")
    return col.cast(pa.float64())


def markov_removal_effects(
    paths: Any,
    *,
    order: int = 1,
    path_column: str = "path",
    conversions_column: str = "total_conversions",
    null_column: str = "total_null",
    value_column: str | None = None,
    separator: str = " > ",
    max_states: int = MAX_STATES,
) -> pa.Table:
    """Exact Markov removal effects and credit per channel from distinct paths.

    Args:
        paths: a table (any Arrow producer, or a pandas frame) with one row
            per distinct path, ChannelAttribution's input shape.
        order: the chain order, 1, 2 or 3 (a state is the last ``order``
            channels).
        path_column: the channels of each path, either one string joined by
            ``separator`` (``"paid > kol > search"``) or a list of strings.
            Whitespace around each channel name is ignored.
        conversions_column: how many times the path converted (integer or
            float, >= 0).
        null_column: how many times the path ended without converting
            (integer or float, >= 0).
        value_column: optional total conversion value of the path (revenue).
        separator: what joins the channels of a string path (default
            ``" > "``; ChannelAttribution's ``sep=">"`` tables read the same
            with ``">"`` since spaces around names are trimmed).
        max_states: cap on the chain's transient states.

    Returns:
        One row per channel, by ascending name: ``channel``,
        ``removal_effect`` (``max(0, (P - P_c) / P)``), ``share`` (removal
        effects scaled to sum to 1), ``conversions`` (all conversions times
        the share: ChannelAttribution's ``total_conversions``),
        ``conversion_value`` (the same for the value; only with
        ``value_column``), ``path_conversions`` (each path's conversions
        split over its distinct channels in proportion to their removal
        effects, equally when all are 0: the credit of
        :func:`omniplug.attribute`'s ``markov`` models) and
        ``path_conversion_value`` (the same for the value; only with
        ``value_column``).

    Raises:
        InvalidInputError: an order other than 1-3, a missing column, a
            column of the wrong type, or a bad row (null, empty path or
            channel name, negative or non-finite count); the message names
            the column and row.
        LimitExceededError: the chain has more than ``max_states`` states.
    """
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= 3:
        raise InvalidInputError(f"markov order must be 1, 2 or 3, got {order!r}")
    if not isinstance(max_states, int) or max_states < 1:
        raise InvalidInputError(f"max_states must be a positive integer, got {max_states!r}")
    if not separator:
        raise InvalidInputError("separator must not be empty")
    table = _table(paths)
    wanted = [path_column, conversions_column, null_column, *([value_column] if value_column else [])]
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise InvalidInputError(f"paths: missing column(s) {', '.join(map(repr, missing))}; "
                                f"it has {table.column_names}")
    columns = {path_column: _path_column(table, path_column),
               **{c: _number_column(table, c) for c in wanted[1:]}}
    core_input = pa.table(list(columns.values()), names=list(columns))
    return _core.markov_paths_table(core_input, order, path_column, conversions_column, null_column,
                                    value_column, separator, max_states)

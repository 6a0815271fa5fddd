"""Split a normalised batch into conforming rows and rejects (DESIGN §4).

:func:`validate_batch` runs over every batch a plugin's ``normalise``
returns. Problems of the *batch* (unknown table, a required column missing,
an extra column, a column whose type cannot become the canonical type) are
plugin bugs and raise :class:`omniplug.errors.SchemaError`. Problems of a
*row* (a value that does not cast, a null in a required column, an unknown
vocabulary word, a raw phone number, ...) send that row to ``rejects`` with a
reason naming the table, the column, the value and the rule; nothing is
dropped silently: ``n_valid + n_rejected == len(input)``.

Work is column-wise with ``pyarrow.compute``; Python touches individual rows
only in columns whose cast failed (found by bisection) and in the rows that
are rejected, so a clean batch costs a few vectorised passes. Casting and
its row-level explanations are in :mod:`omniplug.validate_cast`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from omniplug import schema as S
from omniplug.errors import SchemaError
from omniplug.fields import looks_like_raw_email_array, looks_like_raw_phone_array, normalise_phone
from omniplug.validate_cast import cast_column, rows_mask

__all__ = ["Validated", "validate_batch"]


@dataclass(frozen=True)
class Problem:
    """One broken rule of one row: ``text`` names the value, ``summary`` does not (for counting)."""

    text: str
    summary: str
    column: str | None = None


@dataclass(frozen=True)
class Validated:
    """The outcome of :func:`validate_batch`.

    Attributes:
        valid: the conforming rows, in input order, with exactly the canonical
            schema ``omniplug.schema.schema_of(table)`` (absent optional
            columns added as nulls).
        rejects: one row per rejected input row, schema ``TABLES['rejects']``;
            ``row`` is the record as it arrived as JSON text (decimals and ints
            beyond 2**53 as strings, times ISO 8601, bytes hex; a raw phone or
            email found in an identifier column is masked), ``reason`` lists
            every problem of that row separated by ``'; '``.
        problems: per reject, its problems (structured form of ``reason``).
        superseded: valid rows dropped because a later row of the same batch
            has the same primary key (the same record seen twice, e.g. one
            identity link observed in two orders): the later version wins,
            exactly as it would across batches when tables are compacted.
    """

    valid: pa.Table
    rejects: pa.Table
    problems: tuple[tuple[Problem, ...], ...] = field(default=(), repr=False)
    superseded: int = 0

    @property
    def n_valid(self) -> int:
        """Number of conforming rows."""
        return self.valid.num_rows

    @property
    def n_rejected(self) -> int:
        """Number of rejected rows."""
        return self.rejects.num_rows

    def reasons(self) -> Counter[str]:
        """How often each rule was broken, keyed without the offending values (for logs and reports).

        A row with two problems counts once under each.
        """
        return Counter(p.summary for row in self.problems for p in row)


# Vocabulary columns: name -> (the set, its name in messages, how to extend it).
def _vocabularies() -> dict[str, tuple[set[str] | frozenset[str], str, str]]:
    ids = (S.IDENTIFIER_TYPES, "identifier type", "; plugins add types with omniplug.schema.register_identifier_type")
    return {
        "id_type": ids, "left_type": ids, "right_type": ids,
        "event_type": (S.EVENT_TYPES, "event type", "; plugins add types with omniplug.schema.register_event_type"),
        "channel": (S.CHANNELS, "channel", ""),
        "status": (S.ORDER_STATUSES, "order status", ""),
        "media_type": (S.MEDIA_TYPES, "media type", ""),
    }


_HASH_FORMATS = {"phone_sha256": (64, r"^[0-9a-f]{64}$"), "email_sha256": (64, r"^[0-9a-f]{64}$"),
                 "phone_md5": (32, r"^[0-9a-f]{32}$")}
_ID_PAIRS = (("id_type", "id_value"), ("left_type", "left_value"), ("right_type", "right_value"))
_NON_NEGATIVE = ("quantity", "impressions", "clicks")


def validate_batch(table: str, data: pa.RecordBatch | pa.Table, *, platform: str, stream: str,
                   run_id: str | None = None,
                   extra_columns: Literal["error", "drop"] = "error") -> Validated:
    """Validate one normalised batch of canonical ``table`` from ``platform``/``stream``.

    ``data`` is a ``pyarrow.RecordBatch`` or ``Table`` (or anything exporting
    the Arrow PyCapsule stream interface, e.g. a polars DataFrame).
    Columns are cast to the canonical types per column; row rules: values
    that do not cast (string timestamps need an offset, money at most 2
    decimals, integers in range), nulls and empty strings in required columns,
    the vocabularies (identifier types, event types, channels, order statuses,
    media types), ``platform`` equal to the argument, ``phone_sha256`` /
    ``email_sha256`` as 64 and ``phone_md5`` as 32 lower-case hex digits, no
    raw phone or email in ``id_value``/``left_value``/``right_value``, no
    negative quantity/impressions/clicks, ``currency`` as three upper-case
    letters, ``frame >= -1``, non-empty ``hash``. Of valid rows sharing a
    primary key the last is kept and the earlier ones are counted in
    ``superseded`` (they are earlier versions of the same record, not errors).

    Extra columns are a plugin bug and raise by default (a misspelt optional
    column would otherwise vanish silently); ``extra_columns='drop'`` ignores
    them (they still appear in rejected rows' JSON).

    Raises:
        SchemaError: unknown table, duplicate or missing required or extra
            column, or a column type that cannot become the canonical type.
    """
    if table not in S.TABLES or table == "rejects":
        known = ", ".join(sorted(set(S.TABLES) - {"rejects"}))
        raise SchemaError(f"unknown canonical table {table!r}; known tables: {known}")
    if extra_columns not in ("error", "drop"):
        raise ValueError(f"extra_columns must be 'error' or 'drop', not {extra_columns!r}")
    target = S.schema_of(table)
    raw = _as_table(data, table)
    _check_columns(table, target, raw, extra_columns)
    n = raw.num_rows
    problems: dict[int, list[Problem]] = {}
    columns: dict[str, pa.Array] = {}
    for fld in target:
        if fld.name not in raw.column_names:
            columns[fld.name] = pa.nulls(n, fld.type)
            continue
        original = _decoded(raw.column(fld.name))
        columns[fld.name], failures = cast_column(table, fld, original)
        for row, rule, value in failures:
            _add(problems, row, f"{table}.{fld.name}", rule, _show(value))
        _check_column(table, fld, original, columns[fld.name], platform, problems)
    masked = _pii_rules(table, columns, problems)
    valid_mask, superseded = _latest_versions(table, columns, n, problems)
    valid = pa.Table.from_arrays([columns[f.name] for f in target], schema=target)
    if problems or superseded:
        valid = valid.filter(valid_mask)
    return Validated(valid, *_rejects(table, raw, problems, masked, platform, stream, run_id),
                     superseded=superseded)


def _as_table(data: Any, table: str) -> pa.Table:
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    elif not isinstance(data, pa.Table):
        if not (hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__")):
            raise SchemaError(f"{table}: expected a pyarrow RecordBatch or Table, got {type(data).__name__}")
        data = pa.table(data)
    if not any(pa.types.is_string_view(t) or pa.types.is_binary_view(t) for t in data.schema.types):
        return data
    return pa.Table.from_arrays([_plain(c) for c in data.columns], names=data.column_names)


def _decoded(col: pa.ChunkedArray) -> pa.Array:
    arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return arr.dictionary_decode() if pa.types.is_dictionary(arr.type) else arr


def _plain(col: pa.ChunkedArray) -> pa.ChunkedArray:
    # Arrow has fewer kernels (cast, take) for the view layouts that polars exports.
    if pa.types.is_string_view(col.type):
        return col.cast(pa.string())
    if pa.types.is_binary_view(col.type):
        return col.cast(pa.binary())
    return col


def _check_columns(table: str, target: pa.Schema, raw: pa.Table, extra: str) -> None:
    names = raw.column_names
    if dupes := sorted({c for c in names if names.count(c) > 1}):
        raise SchemaError(f"{table}: column(s) {', '.join(dupes)} appear more than once")
    if missing := [c for c in target.names if c in S.REQUIRED[table] and c not in names]:
        raise SchemaError(f"{table}: required column(s) {', '.join(missing)} missing; "
                          f"the canonical columns are {', '.join(target.names)}")
    if extra == "error" and (extras := [c for c in names if c not in target.names]):
        raise SchemaError(f"{table}: column(s) {', '.join(extras)} are not in the canonical schema "
                          f"({', '.join(target.names)}); drop them in normalise or pass extra_columns='drop'")



def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, (str, bytes)) else value.isoformat() if isinstance(
        value, (date, datetime, time)) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _add(problems: dict[int, list[Problem]], row: int, where: str, rule: str, value: str | None = None) -> None:
    text = f"{where}: {value} {rule}" if value is not None else f"{where}: {rule}"
    problems.setdefault(row, []).append(Problem(text, f"{where}: {rule}", where.split(".", 1)[1]))


def _flag(problems: dict[int, list[Problem]], mask: pa.Array, values: pa.Array | None, where: str,
          rule: str) -> None:
    """Record ``rule`` for every row where ``mask`` is true (nulls in the mask count as false)."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return
    for row in pc.indices_nonzero(mask).to_pylist():
        value = None if values is None else values[row].as_py()
        _add(problems, row, where, rule, None if values is None else _show(value))


def _check_column(table: str, fld: pa.Field, original: pa.Array, cast: pa.Array, platform: str,
                  problems: dict[int, list[Problem]]) -> None:
    name, where = fld.name, f"{table}.{fld.name}"
    if name in S.REQUIRED[table]:
        _flag(problems, pc.is_null(original), None, where, "null in required column")
        if pa.types.is_string(fld.type):
            empty = pc.equal(pc.utf8_trim_whitespace(cast), "")
            _flag(problems, empty, None, where, "empty string in required column")
    if name in (vocab := _vocabularies()):
        words, what, hint = vocab[name]
        known = ", ".join(sorted(words))
        unknown = pc.and_(pc.is_valid(cast), pc.invert(pc.is_in(cast, value_set=pa.array(sorted(words), pa.string()))))
        _flag(problems, unknown, cast, where, f"is not a known {what} (known: {known}{hint})")
    if name == "platform":
        _flag(problems, pc.not_equal(cast, platform), cast, where,
              f"is not the platform of this stream ({platform!r})")
    if name in _NON_NEGATIVE:
        _flag(problems, pc.less(cast, 0), cast, where, "is negative")
    if name == "currency":
        code = pc.invert(pc.match_substring_regex(cast, r"^[A-Z]{3}$"))
        _flag(problems, code, cast, where, "is not an ISO 4217 currency code (three upper-case letters, e.g. CNY)")
    if table == "material_fingerprints" and name == "frame":
        _flag(problems, pc.less(cast, -1), cast, where, "is below -1 (frame numbers start at 0; -1 is a still image)")
    if table == "material_fingerprints" and name == "hash":
        _flag(problems, pc.equal(pc.binary_length(cast), 0), None, where, "hash is empty")


def _pii_rules(table: str, columns: dict[str, pa.Array], problems: dict[int, list[Problem]]) -> dict[str, pa.Array]:
    """Raw phones/emails and malformed hashes in identifier values; returns the PII masks per column."""
    masked: dict[str, pa.Array] = {}
    for type_col, value_col in _ID_PAIRS:
        if value_col not in columns:
            continue
        values, where = columns[value_col], f"{table}.{value_col}"
        phone = looks_like_raw_phone_array(values)
        email = looks_like_raw_email_array(values)
        _flag(problems, phone, None, where,
              "looks like a raw phone number; hash it with omniplug.fields.phone_sha256 in normalise")
        _flag(problems, email, None, where,
              "looks like a raw email address; hash it with omniplug.fields.email_sha256 in normalise")
        pii = pc.or_(phone, email)
        masked[value_col] = pii
        for id_type, (digits, pattern) in _HASH_FORMATS.items():
            wrong = pc.and_(pc.equal(columns[type_col], id_type), pc.invert(pc.match_substring_regex(values, pattern)))
            _flag(problems, pc.and_(wrong, pc.invert(pii)), values, where,
                  f"is not a valid {id_type} ({digits} lower-case hex digits)")
    return masked


def _latest_versions(
    table: str, columns: dict[str, pa.Array], n: int, problems: dict[int, list[Problem]]
) -> tuple[pa.Array, int]:
    """Mask of the rows to keep: no problem, and the last valid row of their primary key.

    Returns the mask and how many valid rows a later row of the same key superseded.
    """
    ok = pc.invert(rows_mask(sorted(problems), n))
    keys = S.PRIMARY_KEYS[table]
    version = S.VERSION_COLUMNS.get(table)
    # Rank rows by (version, position): the greatest rank of a key is its newest sighting.
    ranking = {"__v": columns[version]} if version else {}
    ranked = pa.table({**{k: columns[k] for k in keys}, **ranking, "__row": pa.array(range(n), pa.int64())}).filter(ok)
    if version:
        ranked = ranked.take(pc.sort_indices(
            ranked, sort_keys=[("__v", "ascending", "at_start"), ("__row", "ascending")]))
    ranked = ranked.append_column("__rank", pa.array(range(ranked.num_rows), pa.int64()))
    grouped = ranked.group_by(list(keys)).aggregate([("__rank", "max")])
    superseded = ranked.num_rows - grouped.num_rows
    if superseded == 0:
        return ok, 0
    newest = pc.take(ranked.column("__row"), grouped.column("__rank_max"))
    keep = pc.is_in(pa.array(range(n), pa.int64()), value_set=newest.combine_chunks())
    return keep, superseded


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else str(value)  # JSON readers lose digits past 2**53
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)  # Decimal, timedelta, anything else: exact text


def _mask_pii(value: Any) -> Any:
    if (digits := normalise_phone(value)) is not None:
        return f"{digits[:3]}****{digits[-4:]}"
    if isinstance(value, str) and "@" in value:
        return "***@" + value.strip().rsplit("@", 1)[1]
    return value


def _rejects(table: str, raw: pa.Table, problems: dict[int, list[Problem]], masked: dict[str, pa.Array],
             platform: str, stream: str, run_id: str | None) -> tuple[pa.Table, tuple[tuple[Problem, ...], ...]]:
    rows = sorted(problems)
    picked = pa.array(rows, pa.int64())
    records: list[dict[str, Any]] = [{} for _ in rows]
    for name in raw.column_names:
        col = raw.column(name).take(picked)
        try:
            values = col.to_pylist()
        except (ValueError, OverflowError, pa.ArrowException):  # e.g. a timestamp beyond year 9999
            values = pc.cast(col, pa.string(), safe=False).to_pylist()
        pii = pc.take(masked[name], picked).to_pylist() if name in masked else None
        for i, value in enumerate(values):
            records[i][name] = _jsonable(_mask_pii(value) if pii and pii[i] else value)
    # Problems in canonical column order (the PII and duplicate rules run last), batch-level last.
    order = {name: i for i, name in enumerate(S.TABLES[table].names)}
    for row in rows:
        problems[row].sort(key=lambda p: order.get(p.column, len(order)) if p.column else len(order))
    k = len(rows)
    rejects = pa.Table.from_pydict({
        "platform": [platform] * k, "stream": [stream] * k, "table": [table] * k,
        "row": [json.dumps(r, ensure_ascii=False) for r in records],
        "reason": ["; ".join(p.text for p in problems[row]) for row in rows],
        "run_id": [run_id] * k,
    }, schema=S.TABLES["rejects"])
    return rejects, tuple(tuple(problems[row]) for row in rows)

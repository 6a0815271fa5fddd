"""Map raw records to canonical rows one by one, sending failures to rejects.

Most platforms hand back nested JSON records, and one malformed record (a
date that does not parse, a price with three decimals) must not sink its
whole page. :func:`map_records` runs a plugin's per-record mapping function
and turns an :class:`~omniplug.errors.InvalidInputError` raised for one
record into a ``rejects`` row carrying that record and the reason, while the
page's other records land::

    def map_order(rec: dict) -> dict[str, list[dict]]:
        return {
            "orders": [{"order_id": exact_id(rec["tid"]), ...}],
            "order_items": [...],
        }

    def normalise(self, stream, batch):
        return map_records(batch, map_order, platform="tmall", stream=stream)

The raw record stored in a reject has every value that looks like a raw
phone number or email replaced by a mask, so personal data is not kept even
for rows that fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.fields import looks_like_raw_email, looks_like_raw_phone
from omniplug.schema import TABLES, schema_of

__all__ = ["RecordMapper", "map_records", "records_batch", "scrub_personal_data", "record_json"]

#: Per-record mapping: raw record -> {table name: [canonical row dicts]}.
RecordMapper = Callable[[dict[str, Any]], Mapping[str, Iterable[Mapping[str, Any]]]]

_MASK = "<redacted personal data>"


def scrub_personal_data(value: Any) -> Any:
    """``value`` with every string that looks like a raw phone number or email masked."""
    if isinstance(value, str):
        return _MASK if looks_like_raw_phone(value) or looks_like_raw_email(value) else value
    if isinstance(value, int) and not isinstance(value, bool) and looks_like_raw_phone(str(value)):
        return _MASK
    if isinstance(value, Mapping):
        return {k: scrub_personal_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_personal_data(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, bytes)):
        return str(value) if isinstance(value, Decimal) else value.hex()
    return str(value)


def record_json(record: Mapping[str, Any]) -> str:
    """JSON text of a raw record for the rejects table, personal data masked, big ints exact."""
    return json.dumps(scrub_personal_data(record), ensure_ascii=False, sort_keys=True, default=_json_default)


def records_batch(records: Sequence[Mapping[str, Any]]) -> pa.RecordBatch:
    """Platform JSON records as one raw Arrow batch, field names kept.

    Types are inferred per field (nested objects become structs, big ids
    stay exact int64). A field whose values do not share one type across
    the records (one malformed record sending ``"yesterday"`` where the
    others send epoch numbers) becomes a string column holding each value's
    text, so the batch still forms and the malformed record is rejected by
    normalise instead of sinking its page.
    """
    if not records:
        return pa.RecordBatch.from_pydict({})
    try:
        # Inferred over every record: a field missing from the first record still counts.
        return pa.RecordBatch.from_struct_array(pa.array([dict(r) for r in records]))
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    names = list(dict.fromkeys(key for r in records for key in r))
    arrays = []
    for name in names:
        values = [r.get(name) for r in records]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays.append(pa.array([_as_text(v) for v in values], pa.string()))
    return pa.RecordBatch.from_arrays(arrays, names=names)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def map_records(
    batch: pa.RecordBatch | pa.Table,
    mapper: RecordMapper,
    *,
    platform: str,
    stream: str,
    tables: Iterable[str] = (),
) -> dict[str, pa.Table]:
    """Apply ``mapper`` to every record of ``batch`` and build canonical tables.

    Args:
        batch: raw records (one row per platform record; nested fields allowed).
        mapper: returns, for one raw record, the canonical rows it yields per
            table. Raise :class:`~omniplug.errors.InvalidInputError` (e.g. from
            :mod:`omniplug.fields` conversions) for a record that cannot be mapped.
        platform: platform name, recorded in rejects.
        stream: stream name, recorded in rejects.
        tables: tables to emit even when empty (so downstream sees the schema).

    Returns:
        ``{table: pyarrow.Table}`` in canonical column order (missing optional
        columns are null), plus ``"rejects"`` when some record failed.
        Values are not validated here; the framework's validator does that.
    """
    rows: dict[str, list[Mapping[str, Any]]] = {name: [] for name in tables}
    rejects: list[dict[str, Any]] = []
    for index, record in enumerate(batch.to_pylist()):
        try:
            produced = {name: list(items) for name, items in mapper(record).items()}
        except InvalidInputError as exc:
            rejects.append(
                {"platform": platform, "stream": stream, "table": stream,
                 "row": record_json(record), "reason": f"{stream}: unmappable record: {exc} (record {index} of its page)",
                 "run_id": None}
            )
            continue
        except (KeyError, TypeError, ValueError) as exc:
            # A missing or mistyped field in one record: the platform sent
            # something unexpected. Keep the record, say which field.
            what = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
            rejects.append(
                {"platform": platform, "stream": stream, "table": stream, "row": record_json(record),
                 "reason": f"{stream}: unmappable record: {what} (record {index} of its page)", "run_id": None}
            )
            continue
        for name, items in produced.items():
            rows.setdefault(name, []).extend(items)
    out: dict[str, pa.Table] = {}
    for name, items in rows.items():
        out[name], failed = _to_table(name, items, platform=platform, stream=stream)
        rejects.extend(failed)
    if rejects:
        out["rejects"] = pa.Table.from_pylist(rejects, schema=TABLES["rejects"])
    return out


def _to_table(
    name: str, rows: list[Mapping[str, Any]], *, platform: str, stream: str
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Rows -> Arrow table; rows whose values do not fit the schema become rejects."""
    schema = schema_of(name)
    unknown = {key for row in rows for key in row} - set(schema.names)
    if unknown:
        # A mapper bug, not bad data: fail loudly.
        raise InvalidInputError(f"mapper produced unknown columns {sorted(unknown)} for table {name!r}")
    try:
        return pa.Table.from_pylist([dict(row) for row in rows], schema=schema), []
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    # Slow path, only for a batch holding a bad value: find the rows at fault.
    good: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for row in rows:
        try:
            pa.Table.from_pylist([dict(row)], schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            failed.append(
                {"platform": platform, "stream": stream, "table": name, "row": record_json(row),
                 "reason": f"{name}: value does not fit the canonical type: {exc}", "run_id": None}
            )
        else:
            good.append(dict(row))
    return pa.Table.from_pylist(good, schema=schema), failed

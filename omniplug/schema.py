"""Canonical tables (DESIGN §4): the Arrow schemas every plugin normalises into.

This module is the single source of truth for table names, column names and
types, primary keys (used to de-duplicate on resume), and the vocabularies
(identifier types, event types, channels, order statuses). Plugins extend the
open vocabularies through :func:`register_identifier_type` and
:func:`register_event_type` (or by declaring them in ``omniplug_platforms``).

Conventions, binding for every plugin:

* timestamps are ``timestamp[ms, tz=UTC]``; platforms report China time and
  normalise converts (see :func:`omniplug.fields.china_time_to_utc`);
* money is ``decimal128(18, 2)`` in yuan;
* identifier values are strings (ids above 2**53 stay exact);
* raw phone numbers and emails never appear: only ``phone_sha256``,
  ``phone_md5`` and ``email_sha256``.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = [
    "TIMESTAMP",
    "MONEY",
    "TABLES",
    "OUTPUT_TABLES",
    "PRIMARY_KEYS",
    "VERSION_COLUMNS",
    "REQUIRED",
    "IDENTIFIER_TYPES",
    "EVENT_TYPES",
    "CHANNELS",
    "ORDER_STATUSES",
    "MEDIA_TYPES",
    "schema_of",
    "empty_table",
    "register_identifier_type",
    "register_event_type",
]

#: The one timestamp type of every canonical table.
TIMESTAMP = pa.timestamp("ms", tz="UTC")
#: Money in yuan, exact to the fen.
MONEY = pa.decimal128(18, 2)


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, dtype) for name, dtype in fields])


#: Canonical input tables, produced by plugins' normalise hooks.
TABLES: dict[str, pa.Schema] = {
    "identity_links": _schema(
        ("platform", pa.string()),
        ("left_type", pa.string()),
        ("left_value", pa.string()),
        ("right_type", pa.string()),
        ("right_value", pa.string()),
        ("observed_at", TIMESTAMP),
    ),
    "touchpoints": _schema(
        ("event_id", pa.string()),
        ("platform", pa.string()),
        ("id_type", pa.string()),
        ("id_value", pa.string()),
        ("event_time", TIMESTAMP),
        ("event_type", pa.string()),
        ("channel", pa.string()),
        ("campaign_id", pa.string()),
        ("kol_id", pa.string()),
        ("material_id", pa.string()),
        ("product_id", pa.string()),
    ),
    "orders": _schema(
        ("order_id", pa.string()),
        ("platform", pa.string()),
        ("id_type", pa.string()),
        ("id_value", pa.string()),
        ("order_time", TIMESTAMP),
        ("amount", MONEY),
        ("currency", pa.string()),
        ("status", pa.string()),
    ),
    "order_items": _schema(
        ("order_id", pa.string()),
        ("platform", pa.string()),
        ("line_id", pa.string()),
        ("product_id", pa.string()),
        ("quantity", pa.int64()),
        ("amount", MONEY),
    ),
    "materials": _schema(
        ("material_id", pa.string()),
        ("platform", pa.string()),
        ("media_type", pa.string()),
        ("uri", pa.string()),
        ("title", pa.string()),
        ("campaign_id", pa.string()),
        ("kol_id", pa.string()),
        ("created_at", TIMESTAMP),
    ),
    "material_fingerprints": _schema(
        ("material_id", pa.string()),
        ("platform", pa.string()),
        ("algorithm", pa.string()),
        ("frame", pa.int32()),
        ("hash", pa.binary()),
        ("quality", pa.float32()),
    ),
    "spend": _schema(
        ("date", pa.date32()),
        ("platform", pa.string()),
        ("channel", pa.string()),
        ("campaign_id", pa.string()),
        ("kol_id", pa.string()),
        ("material_id", pa.string()),
        ("spend", MONEY),
        ("impressions", pa.int64()),
        ("clicks", pa.int64()),
    ),
    "products": _schema(
        ("product_id", pa.string()),
        ("platform", pa.string()),
        ("sku", pa.string()),
        ("title", pa.string()),
        ("brand", pa.string()),
        ("category", pa.string()),
        ("price", MONEY),
    ),
    "rejects": _schema(
        ("platform", pa.string()),
        ("stream", pa.string()),
        ("table", pa.string()),
        ("row", pa.string()),
        ("reason", pa.string()),
        ("run_id", pa.string()),
    ),
}

#: Tables the core engine produces.
OUTPUT_TABLES: dict[str, pa.Schema] = {
    "persons": _schema(
        ("id_type", pa.string()),
        ("id_value", pa.string()),
        ("person_id", pa.int64()),
    ),
    "asset_groups": _schema(
        ("material_id", pa.string()),
        ("platform", pa.string()),
        ("asset_id", pa.int64()),
        ("distance", pa.int32()),
    ),
    "aipl": _schema(
        ("person_id", pa.int64()),
        ("stage", pa.string()),
        ("as_of", pa.date32()),
    ),
    # Persons moving between AIPL stages (null: no stage on that date).
    "aipl_flows": _schema(
        ("from_date", pa.date32()),
        ("to_date", pa.date32()),
        ("from_stage", pa.string()),
        ("to_stage", pa.string()),
        ("persons", pa.int64()),
    ),
}

#: Columns that identify a row. A later row with the same key replaces an
#: earlier one (an order whose status changed), so re-fetching a window after
#: a crash never duplicates records.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "identity_links": ("platform", "left_type", "left_value", "right_type", "right_value"),
    "touchpoints": ("platform", "event_id"),
    "orders": ("platform", "order_id"),
    "order_items": ("platform", "order_id", "line_id"),
    "materials": ("platform", "material_id"),
    "material_fingerprints": ("platform", "material_id", "algorithm", "frame"),
    "spend": ("date", "platform", "channel", "campaign_id", "kol_id", "material_id"),
    "products": ("platform", "product_id"),
}

#: Where one record is seen several times, the column that says which sighting
#: is newest. De-duplication keeps the row with the greatest value of it (ties:
#: the one committed last). Tables not listed keep the last committed row.
VERSION_COLUMNS: dict[str, str] = {
    "identity_links": "observed_at",
}

#: Columns that may not be null, per table (everything else is optional).
REQUIRED: dict[str, frozenset[str]] = {
    "identity_links": frozenset(TABLES["identity_links"].names) - {"observed_at"},
    "touchpoints": frozenset(
        {"event_id", "platform", "id_type", "id_value", "event_time", "event_type", "channel"}
    ),
    "orders": frozenset(
        {"order_id", "platform", "id_type", "id_value", "order_time", "amount", "currency", "status"}
    ),
    "order_items": frozenset({"order_id", "platform", "line_id", "quantity", "amount"}),
    "materials": frozenset({"material_id", "platform", "media_type"}),
    "material_fingerprints": frozenset(
        {"material_id", "platform", "algorithm", "frame", "hash"}
    ),
    "spend": frozenset({"date", "platform", "channel", "spend"}),
    "products": frozenset({"product_id", "platform"}),
    "rejects": frozenset({"platform", "stream", "table", "row", "reason"}),
}

#: Identifier types. Open: plugins add their own with register_identifier_type.
IDENTIFIER_TYPES: set[str] = {
    "phone_sha256",
    "phone_md5",
    "email_sha256",
    "oaid",
    "idfa",
    "member_id",
    "tmall_ouid",
    "tmall_omid",
    "tmall_buyer_open_uid",
    "jd_pin",
    "douyin_openid",
    "douyin_unionid",
    "xhs_user_id",
    "weibo_uid",
    "wechat_openid",
    "wechat_unionid",
}

#: Event types of touchpoints. Open: see register_event_type.
EVENT_TYPES: set[str] = {
    "impression",
    "click",
    "video_view",
    "like",
    "comment",
    "share",
    "favorite",
    "follow",
    "search",
    "product_view",
    "add_to_cart",
    "store_visit",
    "live_view",
    "note_read",
}

#: Channels (closed vocabulary).
CHANNELS: frozenset[str] = frozenset({"paid", "kol", "organic", "live", "search", "crm"})
#: Order statuses (closed vocabulary).
ORDER_STATUSES: frozenset[str] = frozenset({"paid", "refunded", "cancelled"})
#: Media types of materials (closed vocabulary).
MEDIA_TYPES: frozenset[str] = frozenset({"image", "video"})


def schema_of(table: str) -> pa.Schema:
    """Return the Arrow schema of a canonical or output table.

    Raises:
        KeyError: with the list of known tables, when ``table`` is unknown.
    """
    if table in TABLES:
        return TABLES[table]
    if table in OUTPUT_TABLES:
        return OUTPUT_TABLES[table]
    known = ", ".join(sorted([*TABLES, *OUTPUT_TABLES]))
    raise KeyError(f"unknown canonical table {table!r}; known tables: {known}")


def empty_table(table: str) -> pa.Table:
    """An empty ``pyarrow.Table`` with the schema of ``table``."""
    return schema_of(table).empty_table()


def register_identifier_type(name: str) -> None:
    """Add an identifier type (lower-case snake case, e.g. ``kuaishou_openid``)."""
    _check_vocabulary_name(name, "identifier type")
    IDENTIFIER_TYPES.add(name)


def register_event_type(name: str) -> None:
    """Add a touchpoint event type (lower-case snake case, e.g. ``live_gift``)."""
    _check_vocabulary_name(name, "event type")
    EVENT_TYPES.add(name)


def _check_vocabulary_name(name: str, what: str) -> None:
    if not name or not name.replace("_", "").isalnum() or name.lower() != name:
        raise ValueError(f"{what} {name!r} must be lower-case letters, digits and underscores")

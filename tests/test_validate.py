"""Tests of omniplug.validate: conforming rows, rejects with exact reasons, schema errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniplug import schema as S
from omniplug.errors import SchemaError
from omniplug.fields import phone_md5, phone_sha256
from omniplug.validate import Validated, validate_batch

UTC = UTC
SHA = phone_sha256("13800138000")
MD5 = phone_md5("13800138000")
EVENT_TYPES_HINT = "; plugins add types with omniplug.schema.register_event_type"
NO_TZ = ("give an offset such as '+08:00' or 'Z', or convert China time with "
         "omniplug.fields.china_times_to_utc_array in normalise")


def orders(**overrides: list) -> pa.Table:
    base = {
        "order_id": ["o1", "o2"],
        "platform": ["tmall", "tmall"],
        "id_type": ["phone_sha256", "tmall_ouid"],
        "id_value": [SHA, "ouid-9"],
        "order_time": ["2024-05-31T09:46:55Z", "2024-05-31T17:46:55.250+08:00"],
        "amount": ["200.07", "12"],
        "currency": ["CNY", "CNY"],
        "status": ["paid", "refunded"],
    }
    base.update(overrides)
    return pa.table(base)


def run(table: str, data: pa.Table, platform: str = "tmall") -> Validated:
    return validate_batch(table, data, platform=platform, stream="trades", run_id="run-1")


def test_good_rows_are_cast_to_the_canonical_schema() -> None:
    result = run("orders", orders())
    assert result.n_rejected == 0 and result.n_valid == 2
    assert result.valid.schema == S.schema_of("orders")
    assert result.valid.column("order_time").to_pylist() == [
        datetime(2024, 5, 31, 9, 46, 55, tzinfo=UTC), datetime(2024, 5, 31, 9, 46, 55, 250000, tzinfo=UTC)]
    assert result.valid.column("amount").to_pylist() == [Decimal("200.07"), Decimal("12.00")]
    assert result.rejects.schema == S.TABLES["rejects"]
    assert result.reasons() == {}


def test_clean_canonical_batch_passes_unchanged() -> None:
    clean = run("orders", orders()).valid
    again = validate_batch("orders", clean.to_batches()[0], platform="tmall", stream="s")
    assert again.valid.equals(clean)
    assert again.n_rejected == 0


def test_mixed_batch_exact_rejects() -> None:
    data = pa.table({
        "event_id": ["e1", "e2", "e3", "e4", "e5", "e6"],
        "platform": ["douyin", "douyin", "douyin", "jd", "douyin", "douyin"],
        "id_type": ["douyin_openid", "phone_sha256", "phone_md5", "douyin_openid", "douyin_openid", "weibo_uid"],
        "id_value": ["op-1", SHA.upper(), MD5, "op-4", "+86 138 0013 8000", "li@example.com"],
        "event_time": ["2024-05-31T09:46:55Z", "2024-05-31T09:46:55Z", "2024-05-31 17:46:55",
                       "2024-05-31T09:46:55Z", "not a time", None],
        "event_type": ["click", "click", "video_view", "clik", "like", "share"],
        "channel": ["paid", "kol", "organic", "paid", "tv", "live"],
        "kol_id": ["k1", None, None, None, None, None],
    })
    result = validate_batch("touchpoints", data, platform="douyin", stream="events", run_id="run-7")
    assert result.valid.column("event_id").to_pylist() == ["e1"]
    assert result.valid.column("kol_id").to_pylist() == ["k1"]
    assert result.valid.column("campaign_id").null_count == 1  # absent optional column added as nulls
    assert result.valid.schema == S.schema_of("touchpoints")
    known_events = ", ".join(sorted(S.EVENT_TYPES))
    assert result.rejects.column("reason").to_pylist() == [
        f"touchpoints.id_value: '{SHA.upper()}' is not a valid phone_sha256 (64 lower-case hex digits)",
        f"touchpoints.event_time: '2024-05-31 17:46:55' timestamp without time zone ({NO_TZ})",
        "touchpoints.platform: 'jd' is not the platform of this stream ('douyin'); "
        f"touchpoints.event_type: 'clik' is not a known event type (known: {known_events}{EVENT_TYPES_HINT})",
        "touchpoints.id_value: looks like a raw phone number; hash it with omniplug.fields.phone_sha256 in normalise; "
        "touchpoints.event_time: 'not a time' is not an ISO 8601 timestamp "
        f"(expected e.g. '2024-05-31T09:46:55Z'; {NO_TZ}); "
        "touchpoints.channel: 'tv' is not a known channel (known: crm, kol, live, organic, paid, search)",
        "touchpoints.id_value: looks like a raw email address; hash it with omniplug.fields.email_sha256 in normalise; "
        "touchpoints.event_time: null in required column",
    ]
    rejects = result.rejects.to_pylist()
    assert {r["platform"] for r in rejects} == {"douyin"} and {r["stream"] for r in rejects} == {"events"}
    assert {r["table"] for r in rejects} == {"touchpoints"} and {r["run_id"] for r in rejects} == {"run-7"}
    assert json.loads(rejects[1]["row"]) == {
        "event_id": "e3", "platform": "douyin", "id_type": "phone_md5", "id_value": MD5,
        "event_time": "2024-05-31 17:46:55", "event_type": "video_view", "channel": "organic", "kol_id": None}
    # Raw personal data found in identifier values is masked in the stored row.
    assert json.loads(rejects[3]["row"])["id_value"] == "138****8000"
    assert json.loads(rejects[4]["row"])["id_value"] == "***@example.com"
    assert "13800138000" not in "".join(r["row"] + r["reason"] for r in rejects)
    assert result.reasons()["touchpoints.platform: is not the platform of this stream ('douyin')"] == 1
    assert sum(result.reasons().values()) == 9


def test_money_and_integer_rules() -> None:
    items = pa.table({
        "order_id": ["o1", "o1", "o1", "o1", "o1"],
        "platform": ["jd"] * 5,
        "line_id": ["1", "2", "3", "4", "5"],
        "quantity": ["2", "-1", "1.5", "99999999999999999999", "1"],
        "amount": [Decimal("1.50"), Decimal("12.345"), Decimal("1"), Decimal("1"), Decimal("99999999999999999")],
    })
    result = run("order_items", items, platform="jd")
    assert result.valid.column("line_id").to_pylist() == ["1"]
    assert result.rejects.column("reason").to_pylist() == [
        "order_items.quantity: -1 is negative; "
        "order_items.amount: 12.345 has more than 2 decimal places (decimal128(18,2), yuan)",
        "order_items.quantity: '1.5' is not an integer (int64)",
        "order_items.quantity: '99999999999999999999' is out of range for int64",
        "order_items.amount: 99999999999999999.000 is out of range for decimal128(18,2) (yuan)",
    ]
    assert json.loads(result.rejects.column("row")[0].as_py())["amount"] == "12.345"


def test_orders_amount_string_with_three_places() -> None:
    result = run("orders", orders(amount=["12.345", "1.5"], order_time=[None, "2024-05-31T00:00:00Z"]))
    assert result.rejects.column("reason").to_pylist() == [
        "orders.order_time: null in required column; "
        "orders.amount: '12.345' has more than 2 decimal places (decimal128(18,2), yuan)"]
    assert result.valid.column("amount").to_pylist() == [Decimal("1.50")]


def test_identity_links_types_and_values() -> None:
    links = pa.table({
        "platform": ["weibo"] * 4,
        "left_type": ["weibo_uid", "weibo_uid", "qq_number", "weibo_uid"],
        "left_value": ["1234567890", "1234567890", "10001", "1234567891"],
        "right_type": ["phone_sha256", "phone_md5", "phone_sha256", "phone_md5"],
        "right_value": [SHA, MD5 + "0", SHA, " "],
    })
    result = run("identity_links", links, platform="weibo")
    assert result.valid.column("left_value").to_pylist() == ["1234567890"]
    assert result.valid.column("observed_at").null_count == 1  # optional, absent: added as nulls
    known = ", ".join(sorted(S.IDENTIFIER_TYPES))
    hint = "; plugins add types with omniplug.schema.register_identifier_type"
    assert result.rejects.column("reason").to_pylist() == [
        f"identity_links.right_value: '{MD5}0' is not a valid phone_md5 (32 lower-case hex digits)",
        f"identity_links.left_type: 'qq_number' is not a known identifier type (known: {known}{hint})",
        "identity_links.right_value: empty string in required column; "
        "identity_links.right_value: ' ' is not a valid phone_md5 (32 lower-case hex digits)",
    ]


def test_registered_event_type_is_accepted() -> None:
    data = pa.table({
        "event_id": ["e1"], "platform": ["douyin"], "id_type": ["douyin_openid"], "id_value": ["op"],
        "event_time": pa.array([datetime(2024, 5, 31, tzinfo=UTC)], S.TIMESTAMP),
        "event_type": ["live_gift_test"], "channel": ["live"],
    })
    assert run("touchpoints", data, platform="douyin").n_rejected == 1
    S.register_event_type("live_gift_test")
    try:
        assert run("touchpoints", data, platform="douyin").n_valid == 1
    finally:
        S.EVENT_TYPES.discard("live_gift_test")


def test_fingerprint_rules() -> None:
    data = pa.table({
        "material_id": ["m1", "m2", "m3"], "platform": ["xiaohongshu"] * 3, "algorithm": ["phash64"] * 3,
        "frame": pa.array([-1, -2, 3], pa.int64()),
        "hash": pa.array([b"\x01" * 8, b"\x02" * 8, b""], pa.binary()),
        "quality": [0.5, 1.0, None],
    })
    result = run("material_fingerprints", data, platform="xiaohongshu")
    assert result.valid.column("material_id").to_pylist() == ["m1"]
    assert result.valid.schema.field("frame").type == pa.int32()
    assert result.rejects.column("reason").to_pylist() == [
        "material_fingerprints.frame: -2 is below -1 (frame numbers start at 0; -1 is a still image)",
        "material_fingerprints.hash: hash is empty",
    ]
    assert json.loads(result.rejects.column("row")[0].as_py())["hash"] == "02" * 8  # bytes as hex


def test_duplicate_primary_keys_keep_the_last() -> None:
    data = orders(order_id=["o1", "o1", "o1"], platform=["tmall"] * 3, id_type=["tmall_ouid"] * 3,
                  id_value=["a", "b", "c"], order_time=["2024-05-31T00:00:00Z"] * 3,
                  amount=["1", "2", "3"], currency=["CNY"] * 3, status=["paid", "paid", "refunded"])
    result = run("orders", data)
    assert result.valid.column("id_value").to_pylist() == ["c"]
    # Earlier versions of the same record are superseded, not rejected.
    assert result.n_rejected == 0
    assert result.superseded == 2


def test_duplicate_of_a_rejected_row_is_not_a_duplicate() -> None:
    data = orders(order_id=["o1", "o1"], status=["paid", "lost"])
    result = run("orders", data)
    assert result.valid.column("status").to_pylist() == ["paid"]
    assert result.rejects.column("reason").to_pylist() == [
        "orders.status: 'lost' is not a known order status (known: cancelled, paid, refunded)"]


def test_rejected_rows_keep_the_raw_record_json_safe() -> None:
    big = 2**63 - 5
    data = pa.table({
        "date": ["2024-05-31", "2024-02-30"],
        "platform": ["jd", "jd"],
        "channel": ["paid", "paid"],
        "campaign_id": pa.array([big, big - 1], pa.uint64()),
        "spend": pa.array([Decimal("10.50"), Decimal("-3.25")], pa.decimal128(10, 2)),
        "impressions": [100, -5],
        "clicks": [3, 1],
    })
    result = run("spend", data, platform="jd")
    assert result.valid.column("campaign_id").to_pylist() == [str(big)]
    assert result.rejects.column("reason").to_pylist() == [
        "spend.date: '2024-02-30' is not a date (expected 'yyyy-MM-dd', the China calendar day); "
        "spend.impressions: -5 is negative"]
    assert json.loads(result.rejects.column("row")[0].as_py()) == {
        "date": "2024-02-30", "platform": "jd", "channel": "paid", "campaign_id": str(big - 1),
        "spend": "-3.25", "impressions": -5, "clicks": 1}


def test_timestamps_json_and_precision() -> None:
    when = datetime(2024, 5, 31, 9, 46, 55, 123456, tzinfo=UTC)
    data = orders(order_time=pa.array([when, when], pa.timestamp("us", tz="Asia/Shanghai")),
                  status=["paid", "bogus"])
    result = run("orders", data)
    assert result.valid.column("order_time").to_pylist() == [when.replace(microsecond=123000)]
    row = json.loads(result.rejects.column("row")[0].as_py())
    assert row["order_time"] == "2024-05-31T17:46:55.123456+08:00"


@pytest.mark.parametrize(
    ("table", "data", "match"),
    [
        ("orders", orders().drop_columns(["order_time"]), r"orders: required column\(s\) order_time missing"),
        ("order", orders(), "unknown canonical table 'order'"),
        ("rejects", orders(), "unknown canonical table 'rejects'"),
        ("orders", orders().append_column("buyer_nick", pa.array(["x", "y"])),
         r"orders: column\(s\) buyer_nick are not in the canonical schema"),
        ("orders", orders(order_id=[1.0e18, 2.0]), "orders.order_id arrived as floating point and may have lost"),
        ("orders", orders(amount=[1.5, 2.0]), "orders.amount arrived as floating point; money must be exact"),
        ("orders", orders(order_time=pa.array([datetime(2024, 1, 1)] * 2)),
         "orders.order_time is a timestamp without time zone"),
        ("orders", orders(status=[["paid"], ["paid"]]), r"orders.status has type list<item: string>"),
        ("material_fingerprints", pa.table({
            "material_id": ["m"], "platform": ["p"], "algorithm": ["a"], "frame": [1], "hash": ["ab"]}),
         "material_fingerprints.hash has type string, which cannot become binary"),
    ],
)
def test_batch_level_problems_raise_schema_error(table: str, data: pa.Table, match: str) -> None:
    with pytest.raises(SchemaError, match=match):
        run(table, data)


def test_extra_columns_can_be_dropped_on_request() -> None:
    data = orders().append_column("buyer_nick", pa.array(["x", "y"]))
    result = validate_batch("orders", data, platform="tmall", stream="s", extra_columns="drop")
    assert result.valid.schema == S.schema_of("orders") and result.n_valid == 2


def test_other_arrow_inputs() -> None:
    import polars as pl

    batch = orders().to_batches()[0]
    assert run("orders", batch).n_valid == 2
    dictionary = orders().set_column(7, "status", pa.array(["paid", "nope"]).dictionary_encode())
    assert run("orders", dictionary).n_rejected == 1
    assert run("orders", pl.from_arrow(orders())).n_valid == 2
    with pytest.raises(SchemaError, match="expected a pyarrow RecordBatch or Table"):
        run("orders", [{"order_id": "o1"}])  # type: ignore[arg-type]


def test_empty_batch() -> None:
    result = run("orders", S.empty_table("orders"))
    assert result.n_valid == 0 and result.n_rejected == 0


_good_or_bad_text = st.sampled_from(["o1", "o2", "o3", "", " ", "13800138000", "a@b.cn"]) | st.none()
_times = st.sampled_from(["2024-05-31T09:46:55Z", "2024-05-31 09:46:55", "2024-13-01T00:00:00Z",
                          "2024-05-31T09:46:55.1234567+08:00", "x"]) | st.none()
_amounts = st.sampled_from(["1", "1.5", "1.555", "-2.00", "1e20", "abc", "9999999999999999.99"]) | st.none()
_rows = st.fixed_dictionaries({
    "order_id": _good_or_bad_text,
    "platform": st.sampled_from(["tmall", "jd", None]),
    "id_type": st.sampled_from(["tmall_ouid", "phone_sha256", "phone_md5", "nope", None]),
    "id_value": _good_or_bad_text | st.sampled_from([SHA, MD5]),
    "order_time": _times,
    "amount": _amounts,
    "currency": st.sampled_from(["CNY", "cny", None]),
    "status": st.sampled_from(["paid", "refunded", "cancelled", "bogus", None]),
})


@settings(max_examples=150, deadline=None)
@given(st.lists(_rows, max_size=12))
def test_nothing_is_dropped_silently(rows: list[dict]) -> None:
    # An extra, dropped column carries each row's position into the rejects' JSON.
    numbered = [{**row, "n": i} for i, row in enumerate(rows)]
    types = pa.schema([*((name, pa.string()) for name in S.TABLES["orders"].names), ("n", pa.int64())])
    data = pa.Table.from_pylist(numbered, schema=types)
    result = validate_batch("orders", data, platform="tmall", stream="s", extra_columns="drop")
    assert result.n_valid + result.n_rejected + result.superseded == len(rows)
    assert result.valid.schema == S.schema_of("orders")
    assert all(result.rejects.column("reason").to_pylist())
    rejected = [json.loads(text) for text in result.rejects.column("row").to_pylist()]
    positions = [r["n"] for r in rejected]
    assert positions == sorted(set(positions))
    for record in rejected:  # the raw record as it arrived (identifier values may be masked)
        original = numbered[record["n"]]
        assert {k: v for k, v in record.items() if k != "id_value"} == {
            k: v for k, v in original.items() if k != "id_value"}
    survivors = [i for i in range(len(rows)) if i not in set(positions)]
    # Of valid rows sharing a primary key only the last is kept (the others are superseded).
    last = {(numbered[i]["platform"], numbered[i]["order_id"]): i for i in survivors}
    kept = [numbered[i]["order_id"] for i in survivors if last[(numbered[i]["platform"], numbered[i]["order_id"])] == i]
    assert result.superseded == len(survivors) - len(kept)
    assert result.valid.column("order_id").to_pylist() == kept
    again = run("orders", result.valid)  # what passed once passes again, unchanged
    assert again.n_rejected == 0 and again.valid.equals(result.valid)


def test_newest_sighting_of_a_link_wins_within_a_batch() -> None:
    # Newest first, as platforms paging newest-first deliver them.
    data = pa.table({
        "platform": ["jd"] * 3, "left_type": ["jd_pin"] * 3, "left_value": ["a", "a", "b"],
        "right_type": ["phone_sha256"] * 3, "right_value": ["f" * 64] * 3,
        "observed_at": pa.array([3_000, 1_000, 2_000], pa.timestamp("ms", tz="UTC")),
    })
    result = validate_batch("identity_links", data, platform="jd", stream="members")
    assert result.superseded == 1
    kept = {(r["left_value"], r["observed_at"].timestamp()) for r in result.valid.to_pylist()}
    assert kept == {("a", 3.0), ("b", 2.0)}

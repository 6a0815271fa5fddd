"""Tests of omniplug.fields: China time, phones and emails, money, exact ids."""

from __future__ import annotations

import decimal
import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniplug import fields as F
from omniplug.errors import InvalidInputError
from omniplug.schema import MONEY, TIMESTAMP

UTC = UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ------------------------------------------------------------------ time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-31 17:46:55", utc(2024, 5, 31, 9, 46, 55)),
        ("2024-05-31 17:46:55.123", utc(2024, 5, 31, 9, 46, 55, 123000)),
        ("2024-05-31 17:46:55.123987", utc(2024, 5, 31, 9, 46, 55, 123000)),  # truncated to ms
        ("2021-05-07 09:20:39.683+0800", utc(2021, 5, 7, 1, 20, 39, 683000)),  # JD's timestamp form
        ("2024-05-31T17:46:55+08:00", utc(2024, 5, 31, 9, 46, 55)),
        ("2024-05-31T09:46:55Z", utc(2024, 5, 31, 9, 46, 55)),
        ("2024-05-31 09:46:55 -0130", utc(2024, 5, 31, 11, 16, 55)),
        ("2024-05-31", utc(2024, 5, 30, 16, 0, 0)),
        ("2024/05/31 00:00", utc(2024, 5, 30, 16, 0, 0)),
        ("  2024-01-01 00:00:00 ", utc(2023, 12, 31, 16, 0, 0)),
        ("Tue May 31 17:46:55 +0800 2011", utc(2011, 5, 31, 9, 46, 55)),
        ("Sat Jan  1 00:00:00 +0000 2022", utc(2022, 1, 1, 0, 0, 0)),
    ],
)
def test_china_time_strings(text: str, expected: datetime) -> None:
    result = F.china_time_to_utc(text)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


def test_china_time_datetimes_and_dates() -> None:
    assert F.china_time_to_utc(datetime(2024, 5, 31, 8, 0)) == utc(2024, 5, 31, 0, 0)
    aware = datetime(2024, 5, 31, 8, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert F.china_time_to_utc(aware) == utc(2024, 5, 31, 13, 0)
    assert F.china_time_to_utc(date(2024, 1, 1)) == utc(2023, 12, 31, 16, 0)


@pytest.mark.parametrize("day", [date(2024, m, d) for m in range(1, 13) for d in (1, 15)]
                         + [date(2024, 3, 10), date(2024, 3, 31), date(2024, 10, 27), date(2024, 11, 3)])
def test_china_has_no_daylight_saving(day: date) -> None:
    # Always exactly 8 hours, including the days the US and EU switch clocks.
    local = datetime(day.year, day.month, day.day, 2, 30)
    assert F.china_time_to_utc(local) == local.replace(tzinfo=UTC) - timedelta(hours=8)
    assert F.CHINA_TZ.utcoffset(local) == timedelta(hours=8)
    assert F.CHINA_TZ.dst(local) is None


@pytest.mark.parametrize(
    "bad",
    ["", "yesterday", "2024-02-30 00:00:00", "2024-05-31 25:00:00", "Mon May 31 17:46:55 +0800 2011",
     "2024-05-31T17:46:55+0800Z", b"2024-05-31", None, [2024]],
)
def test_china_time_refuses_bad_input(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="time|expected|Tue"):
        F.china_time_to_utc(bad)  # type: ignore[arg-type]


def test_weibo_weekday_is_checked() -> None:
    with pytest.raises(InvalidInputError, match="is a Tue, not a Mon"):
        F.china_time_to_utc("Mon May 31 17:46:55 +0800 2011")


def test_numbers_need_an_explicit_unit() -> None:
    with pytest.raises(InvalidInputError, match="unit='s' or unit='ms'"):
        F.china_time_to_utc(1612518379)
    with pytest.raises(InvalidInputError, match="unit="):
        F.china_time_to_utc("1612518379")
    assert F.china_time_to_utc(1612518379, unit="s") == utc(2021, 2, 5, 9, 46, 19)
    assert F.china_time_to_utc("1612518379683", unit="ms") == utc(2021, 2, 5, 9, 46, 19, 683000)


def test_epoch_to_utc() -> None:
    assert F.epoch_to_utc(1612518379) == utc(2021, 2, 5, 9, 46, 19)
    assert F.epoch_to_utc(1612518379683, unit="ms") == utc(2021, 2, 5, 9, 46, 19, 683000)
    assert F.epoch_to_utc(1612518379.5) == utc(2021, 2, 5, 9, 46, 19, 500000)
    assert F.epoch_to_utc(Decimal("1612518379.6839")) == utc(2021, 2, 5, 9, 46, 19, 683000)
    with pytest.raises(InvalidInputError, match=r"outside 2000\.\.2100; is it in s"):
        F.epoch_to_utc(1612518379, unit="ms")
    with pytest.raises(InvalidInputError, match="is it in ms"):
        F.epoch_to_utc(1612518379683, unit="s")
    with pytest.raises(InvalidInputError, match="unit must be"):
        F.epoch_to_utc(1, unit="us")  # type: ignore[arg-type]
    for bad in (True, float("nan"), "soon", None):
        with pytest.raises(InvalidInputError):
            F.epoch_to_utc(bad)  # type: ignore[arg-type]


def test_times_array_matches_scalar_and_keeps_nulls() -> None:
    values = ["2024-05-31 17:46:55", None, "2024-05-31T09:46:55.5Z", "2024-05-31",
              "Tue May 31 17:46:55 +0800 2011", " 2024-01-01 00:00:00"]
    result = F.china_times_to_utc_array(values)
    assert result.type == TIMESTAMP
    assert result.to_pylist() == [None if v is None else F.china_time_to_utc(v) for v in values]
    chunked = pa.chunked_array([pa.array(values[:3]), pa.array(values[3:])])
    assert F.china_times_to_utc_array(chunked).equals(result)


def test_times_array_errors_name_the_row() -> None:
    with pytest.raises(InvalidInputError, match="row 1: time 'nope'"):
        F.china_times_to_utc_array(["2024-05-31 17:46:55", "nope"])
    nulled = F.china_times_to_utc_array(["2024-05-31 17:46:55", "nope", None], errors="null")
    assert nulled.to_pylist() == [utc(2024, 5, 31, 9, 46, 55), None, None]
    with pytest.raises(InvalidInputError, match="expected strings"):
        F.china_times_to_utc_array(pa.array([1.5]))


def test_times_array_from_timestamps_and_epochs() -> None:
    naive = pa.array([datetime(2024, 5, 31, 17, 46, 55), None], pa.timestamp("us"))
    assert F.china_times_to_utc_array(naive).to_pylist() == [utc(2024, 5, 31, 9, 46, 55), None]
    aware = pa.array([utc(2024, 5, 31, 9, 46, 55, 999)], pa.timestamp("us", tz="UTC"))
    assert F.china_times_to_utc_array(aware).to_pylist() == [utc(2024, 5, 31, 9, 46, 55)]
    epochs = pa.array([1612518379683, None], pa.int64())
    assert F.china_times_to_utc_array(epochs, unit="ms").to_pylist() == [utc(2021, 2, 5, 9, 46, 19, 683000), None]
    with pytest.raises(InvalidInputError, match="is it in s"):
        F.china_times_to_utc_array(pa.array([1612518379]), unit="ms")


@settings(max_examples=150, deadline=None)
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31)))
def test_times_array_property(moment: datetime) -> None:
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    expected = moment.replace(microsecond=0, tzinfo=UTC) - timedelta(hours=8)
    assert F.china_times_to_utc_array([text]).to_pylist() == [expected]
    assert F.china_time_to_utc(text) == expected


def test_parse_when() -> None:
    assert F.parse_when("2024-05-01") == utc(2024, 4, 30, 16, 0)
    assert F.parse_when("2024-05-01 08:00") == utc(2024, 5, 1, 0, 0)
    assert F.parse_when("2024-05-01T08:00:00+00:00") == utc(2024, 5, 1, 8, 0)
    with pytest.raises(InvalidInputError, match="not a date or datetime"):
        F.parse_when("1714521600")


# ------------------------------------------------------------------ phones and emails

PHONE = "13800138000"
PHONE_SHA = hashlib.sha256(PHONE.encode()).hexdigest()
PHONE_MD5 = hashlib.md5(PHONE.encode()).hexdigest()


@pytest.mark.parametrize(
    "raw",
    [PHONE, " 138 0013 8000 ", "138-0013-8000", "(138)00138000", "+86 138 0013 8000", "+8613800138000",
     "0086-13800138000", "8613800138000", "138\t0013\t8000\n", "１３８００１３８０００",
     "＋８６ １３８－００１３－８０００", 13800138000, 13800138000.0, Decimal("13800138000")],
)
def test_normalise_phone_accepts_spellings(raw: object) -> None:
    assert F.normalise_phone(raw) == PHONE
    assert F.phone_sha256(raw) == PHONE_SHA
    assert F.phone_md5(raw) == PHONE_MD5
    assert F.looks_like_raw_phone(raw)


@pytest.mark.parametrize(
    "raw",
    [None, "", "12800138000", "1380013800", "138001380001", "+1 13800138000", "010-12345678",
     "13800138000x", "138.0013.8000", 13800138000.5, True, b"13800138000", "861380013800",
     float("nan"), Decimal("NaN"), Decimal("sNaN")],
)
def test_normalise_phone_rejects_non_mobiles(raw: object) -> None:
    assert F.normalise_phone(raw) is None
    assert F.phone_sha256(raw) is None
    assert F.phone_md5(raw) is None
    assert not F.looks_like_raw_phone(raw)


def test_hash_phones_vectorised() -> None:
    values = pa.array(["+86 138 0013 8000", None, "123", "15912345678"])
    sha, md5 = F.hash_phones(values)
    assert sha.to_pylist() == [PHONE_SHA, None, None, hashlib.sha256(b"15912345678").hexdigest()]
    assert md5.to_pylist() == [PHONE_MD5, None, None, hashlib.md5(b"15912345678").hexdigest()]
    sha_int, _ = F.hash_phones(pa.array([13800138000, None], pa.int64()))
    assert sha_int.to_pylist() == [PHONE_SHA, None]


_phoneish = st.text(alphabet="0123456789１３８+-() \t86", max_size=20) | st.builds(
    lambda prefix, digits, sep: prefix + sep.join([digits[:3], digits[3:7], digits[7:]]),
    st.sampled_from(["", "+86", "0086", "86", "+86 ", "＋８６"]),
    st.from_regex(r"1[0-9]{10}", fullmatch=True),
    st.sampled_from(["", " ", "-"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_phoneish | st.none(), max_size=8))
def test_hash_phones_matches_scalar(values: list[str | None]) -> None:
    sha, md5 = F.hash_phones(pa.array(values, pa.string()))
    assert sha.to_pylist() == [F.phone_sha256(v) for v in values]
    assert md5.to_pylist() == [F.phone_md5(v) for v in values]
    assert F.looks_like_raw_phone_array(pa.array(values, pa.string())).to_pylist() == [
        F.looks_like_raw_phone(v) for v in values]


def test_emails() -> None:
    expected = hashlib.sha256(b"li.lei@example.com").hexdigest()
    assert F.email_sha256("  Li.Lei@Example.COM ") == expected
    assert F.email_sha256("not an email") is None
    assert F.email_sha256(None) is None
    assert F.looks_like_raw_email(" li.lei@example.com")
    assert not F.looks_like_raw_email("weibo@uid")
    flags = F.looks_like_raw_email_array(pa.array(["a@b.cn", None, "ab.cn", "x@y@z.cn"]))
    assert flags.to_pylist() == [True, False, False, False]


# ------------------------------------------------------------------ money


@pytest.mark.parametrize(
    ("value", "expected"),
    [("200.07", "200.07"), (" 12 ", "12.00"), ("12.340", "12.34"), (5, "5.00"), (Decimal("0.1"), "0.10"),
     (12.34, "12.34"), (0.1, "0.10"), ("-0", "0.00"), ("1e3", "1000.00"),
     ("9999999999999999.99", "9999999999999999.99")],
)
def test_yuan_exact(value: object, expected: str) -> None:
    result = F.yuan(value)  # type: ignore[arg-type]
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [("12.345", "more than 2 decimal places"), (0.1 + 0.2, "more than 2 decimal places"),
     ("1,234.00", "not a decimal number"), ("NaN", "not a finite"), (float("inf"), "not a finite"),
     ("10000000000000000", "out of range"), (True, "must be"), (None, "must be")],
)
def test_yuan_refuses(value: object, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        F.yuan(value)  # type: ignore[arg-type]


def test_yuan_rounds_only_when_asked() -> None:
    assert F.yuan("12.345", rounding=decimal.ROUND_HALF_UP) == Decimal("12.35")
    assert F.yuan("12.345", rounding=decimal.ROUND_DOWN) == Decimal("12.34")
    assert F.yuan_array(["12.345", None], rounding=decimal.ROUND_HALF_EVEN).to_pylist() == [Decimal("12.34"), None]


def test_fen_to_yuan() -> None:
    assert F.fen_to_yuan(12345) == Decimal("123.45")
    assert F.fen_to_yuan("-7") == Decimal("-0.07")
    assert F.fen_to_yuan(0) == Decimal("0.00")
    big = 999_999_999_999_999_999
    assert F.fen_to_yuan(big) == Decimal("9999999999999999.99")
    for bad, match in ((12.5, "float"), ("12.5", "whole number"), (10**18, "out of range"), (True, "must be")):
        with pytest.raises(InvalidInputError, match=match):
            F.fen_to_yuan(bad)  # type: ignore[arg-type]


def test_money_arrays() -> None:
    arr = F.fen_to_yuan_array(pa.array([12345, None, -1], pa.int64()))
    assert arr.type == MONEY
    assert arr.to_pylist() == [Decimal("123.45"), None, Decimal("-0.01")]
    assert F.fen_to_yuan_array([" 100 ", None]).to_pylist() == [Decimal("1.00"), None]
    with pytest.raises(InvalidInputError, match="row 1: fen amount '1.5'"):
        F.fen_to_yuan_array(["1", "1.5"])
    with pytest.raises(InvalidInputError, match="integers or digit strings"):
        F.fen_to_yuan_array(pa.array([1.0]))
    assert F.yuan_array(["200.07", " 1 ", None]).to_pylist() == [Decimal("200.07"), Decimal("1.00"), None]
    assert F.yuan_array(pa.array([12.34, 0.1, None])).to_pylist() == [Decimal("12.34"), Decimal("0.10"), None]
    assert F.yuan_array(pa.array([Decimal("1.5")])).type == MONEY
    assert F.yuan_array(pa.array([7], pa.int32())).to_pylist() == [Decimal("7.00")]
    with pytest.raises(InvalidInputError, match="row 2: amount 12.345 has more than 2"):
        F.yuan_array(pa.array([1.0, 2.5, 12.345]))
    with pytest.raises(InvalidInputError, match="row 0: amount '1.234'"):
        F.yuan_array(["1.234"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1) | st.none(), max_size=10))
def test_fen_array_property(fens: list[int | None]) -> None:
    result = F.fen_to_yuan_array(pa.array(fens, pa.int64())).to_pylist()
    assert result == [None if f is None else Decimal(f) / 100 for f in fens]
    assert result == [None if f is None else F.fen_to_yuan(f) for f in fens]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=-(10**13), max_value=10**13, places=2, allow_nan=False), max_size=10))
def test_yuan_array_property(amounts: list[Decimal]) -> None:
    texts = [str(a) for a in amounts]
    assert F.yuan_array(texts).to_pylist() == [F.yuan(t) for t in texts] == amounts
    floats = [float(a) for a in amounts]
    assert F.yuan_array(pa.array(floats, pa.float64())).to_pylist() == amounts


# ------------------------------------------------------------------ identifiers


def test_exact_id() -> None:
    big = 2**63 - 1
    assert F.exact_id(big) == "9223372036854775807"
    assert F.exact_id(2**53 + 1) == "9007199254740993"
    assert F.exact_id(" abc-1 ") == "abc-1"
    assert F.exact_id(Decimal("12345678901234567890")) == "12345678901234567890"
    with pytest.raises(InvalidInputError) as info:
        F.exact_id(1234567890123456789.0)
    assert str(info.value).startswith(
        "id 1.2345678901234568e+18 arrived as a float and may have lost digits; parse the JSON with ")
    for bad in ("", "   ", None, True, Decimal("1.5")):
        with pytest.raises(InvalidInputError):
            F.exact_id(bad)  # type: ignore[arg-type]


def test_json_loads_exact_keeps_digits() -> None:
    text = '{"sku_id": 10023456789012345678, "status_id": 4977362853463871, "price": 200.07, "n": [1.10]}'
    data = F.json_loads_exact(text)
    assert data["sku_id"] == 10023456789012345678
    assert F.exact_id(data["sku_id"]) == "10023456789012345678"
    assert data["price"] == Decimal("200.07") and F.yuan(data["price"]) == Decimal("200.07")
    assert data["n"] == [Decimal("1.10")]
    assert F.json_loads_exact(b'{"a": 1}') == {"a": 1}
    with pytest.raises(InvalidInputError, match="NaN"):
        F.json_loads_exact('{"a": NaN}')
    with pytest.raises(InvalidInputError, match="invalid JSON"):
        F.json_loads_exact("{")

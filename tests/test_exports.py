"""Back-office export files: CSV in UTF-8 or GB18030, XLSX, Excel guards, header search, cell conversions."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from omniplug.errors import InvalidInputError
from omniplug.exports import (
    HEADER_SEARCH_ROWS,
    china_epoch,
    clean_cell,
    day_text,
    decode_label,
    export_batches,
    group_lines,
    or_text,
    read_cells,
    read_export_rows,
    whole_number,
    write_export_file,
    yuan_to_fen,
)

HEADERS = {"订单编号": "tid", "订单状态": "status", "实付金额": "payment", "备注": "memo"}
ROWS = [["4071080000000000123", "交易成功", "12.30", "第一单"], ["4071080000000000456", "等待买家付款", "0.50", None]]


def _rows(path: Path, **kwargs: Any) -> list[dict[str, Any]]:
    return list(read_export_rows(path, headers=HEADERS, **kwargs))


def _xlsx(path: Path, table: list[list[Any]], *, sheet: str = "Sheet") -> Path:
    book = Workbook()
    book.active.title = sheet
    for cells in table:
        book.active.append(cells)
    book.save(path)
    return path


WANT = [{"tid": "4071080000000000123", "status": "交易成功", "payment": "12.30", "memo": "第一单"},
        {"tid": "4071080000000000456", "status": "等待买家付款", "payment": "0.50", "memo": None}]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_every_back_office_encoding_gives_the_same_rows(tmp_path: Path, encoding: str) -> None:
    path = write_export_file(tmp_path / "orders.csv", list(HEADERS), ROWS, encoding=encoding)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    assert _rows(path) == WANT


def test_xlsx_gives_the_same_rows_with_dates_as_china_wall_time(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "orders.xlsx", [list(HEADERS) + ["下单时间"],
                                            [*ROWS[0], datetime(2026, 10, 1, 8, 30, 5)],
                                            [*ROWS[1], date(2026, 10, 2)]])
    rows = list(read_export_rows(path, headers={**HEADERS, "下单时间": "created"}))
    assert [{k: v for k, v in r.items() if k != "created"} for r in rows] == WANT
    # A date cell comes back from XLSX as midnight (day_text gives the day).
    assert [r["created"] for r in rows] == ["2026-10-01 08:30:05", "2026-10-02 00:00:00"]


def test_xlsx_sheet_by_name_and_an_unknown_sheet_is_named(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["说明"])
    data = book.create_sheet("明细")
    for cells in [list(HEADERS), *ROWS]:
        data.append(cells)
    book.save(tmp_path / "two.xlsx")
    assert _rows(tmp_path / "two.xlsx", sheet="明细") == WANT
    with pytest.raises(InvalidInputError, match="two.xlsx has no sheet '汇总'.*明细"):
        _rows(tmp_path / "two.xlsx", sheet="汇总")


def test_excel_guards_blanks_and_spaces_are_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "guarded.csv"
    path.write_text('订单编号,订单状态,实付金额,备注\n="4071080000000000123", 交易成功 ,\t12.30, 第一单\n'
                    "'4071080000000000456,等待买家付款,0.50,  \n", encoding="utf-8")
    assert _rows(path) == WANT
    written = write_export_file(tmp_path / "w.csv", ["id"], [[4071080000000000123], [12]], guard_long_numbers=True)
    assert written.read_text(encoding="utf-8-sig") == 'id\n"=""4071080000000000123"""\n12\n'
    assert _rows(write_export_file(tmp_path / "w.csv", list(HEADERS),
                                   [[4071080000000000123, "交易成功", "12.30", "第一单"]], guard_long_numbers=True)) \
        == WANT[:1]


@pytest.mark.parametrize("value, cleaned", [
    ('="00123"', "00123"), ("\t42", "42"), ("'42", "42"), ("  ", None), ("", None), (None, None), (7, 7),
    (1.5, 1.5), (True, True), (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02 03:04:05"), (date(2026, 1, 2), "2026-01-02"),
])
def test_clean_cell(value: Any, cleaned: Any) -> None:
    assert clean_cell(value) == cleaned


def test_the_header_row_is_found_below_title_lines_and_blank_rows(tmp_path: Path) -> None:
    path = write_export_file(tmp_path / "report.csv", list(HEADERS), [ROWS[0], [None] * 4, ROWS[1]],
                             title="聚光平台 创意数据报表（分天）")
    text = path.read_text(encoding="utf-8-sig")
    path.write_text("\n" + text, encoding="utf-8-sig")  # and a blank line above the title
    assert _rows(path) == WANT


def test_columns_are_found_by_name_extra_ones_ignored_optional_ones_none(tmp_path: Path) -> None:
    path = tmp_path / "shuffled.csv"
    path.write_text("实付金额,其他,订单编号,订单状态\n12.30,x,4071080000000000123,交易成功\n5\n", encoding="utf-8")
    rows = _rows(path, required={"订单编号", "订单状态"})
    assert rows[0] == {"tid": "4071080000000000123", "status": "交易成功", "payment": "12.30", "memo": None}
    assert rows[1] == {"tid": None, "status": None, "payment": "5", "memo": None}  # a short row is padded


def test_a_file_that_is_not_the_export_names_the_file_and_the_missing_headers(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("说明\n订单编号,状态\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        _rows(path, kind="a 千牛 order report")
    message = str(caught.value)
    assert message.startswith("wrong.csv is not a 千牛 order report: missing columns 订单状态, 实付金额, 备注")
    assert "订单编号, 订单状态, 实付金额, 备注" in message  # what it looked for


def test_the_header_must_be_near_the_top(tmp_path: Path) -> None:
    path = write_export_file(tmp_path / "deep.csv", ["x"], [["note"]] * HEADER_SEARCH_ROWS + [list(HEADERS)])
    with pytest.raises(InvalidInputError, match="in the first 10 rows"):
        _rows(path)


@pytest.mark.parametrize("name, content, message", [
    ("binary.csv", b"\xff\xfe\x00\x81\x30\x00\xff", "neither UTF-8 nor GB18030"),
    ("broken.xlsx", b"PK not really a zip", "not a readable XLSX workbook"),
    ("old.xls", b"\xd0\xcf\x11\xe0", "old Excel format"),
])
def test_unreadable_files_are_refused_by_name(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(InvalidInputError, match=f"{name}: {message}"):
        list(read_cells(tmp_path / name))


def test_group_lines_regroups_an_order_line_report() -> None:
    rows = [{"tid": "1", "status": "a", "line.oid": "11", "line.num": "2"},
            {"tid": "2", "status": "b", "line.oid": "21", "line.num": "1"},
            {"tid": "1", "status": "ignored", "line.oid": "12", "line.num": "5"},
            {"tid": "3", "status": "c", "line.oid": None, "line.num": None}]
    assert group_lines(rows, key="tid", line_prefix="line.", lines="items") == [
        {"tid": "1", "status": "a", "items": [{"oid": "11", "num": "2"}, {"oid": "12", "num": "5"}]},
        {"tid": "2", "status": "b", "items": [{"oid": "21", "num": "1"}]},
        {"tid": "3", "status": "c", "items": []},
    ]


def test_export_batches_chunks_and_infers_every_field() -> None:
    records = [{"a": i} if i % 2 else {"a": i, "b": "x"} for i in range(5)]
    batches = list(export_batches(records, batch_size=2))
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert batches[0].schema.names == ["a", "b"]  # b is missing from the second record, still a column
    assert [r for b in batches for r in b.to_pylist()][1] == {"a": 1, "b": None}
    assert list(export_batches([])) == []
    with pytest.raises(InvalidInputError):
        list(export_batches(records, batch_size=0))


def test_cell_conversions() -> None:
    assert yuan_to_fen("12.30") == 1230 and yuan_to_fen(12.3) == 1230 and yuan_to_fen(7) == 700
    assert whole_number("12") == 12 and whole_number(3.0) == 3
    assert china_epoch("2026-10-01 08:00:00") == 1790812800
    assert china_epoch("2026-10-01 08:00:00.123", "ms") == 1790812800123
    assert china_epoch(None) is None
    for bad in ("12.345", "abc", None, True):
        with pytest.raises(InvalidInputError):
            yuan_to_fen(bad)
    with pytest.raises(InvalidInputError):
        whole_number("1.5")
    with pytest.raises(InvalidInputError):
        china_epoch(1790812800)  # a number is not a wall-clock time
    assert or_text(yuan_to_fen, "1.00") == 100
    assert or_text(yuan_to_fen, 12.345) == "12.345" and or_text(yuan_to_fen, "abc") == "abc"
    assert or_text(yuan_to_fen, None) is None
    assert day_text("2026-10-01 00:00:00") == "2026-10-01" and day_text("2026-10-01") == "2026-10-01"
    assert day_text("2026/10/01 00:00") == "2026/10/01"
    assert day_text("yesterday") == "yesterday" and day_text(None) is None
    assert decode_label({"交易成功": "TRADE_FINISHED"}, "交易成功") == "TRADE_FINISHED"
    assert decode_label({"交易成功": "TRADE_FINISHED"}, "未知") == "未知" and decode_label({}, 3) == 3

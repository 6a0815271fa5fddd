"""Back-office export files: CSV or XLSX with Chinese headers, read as raw API records.

Brands often download reports and order lists from a platform's back
office by hand instead of calling its API. A plugin's ``read_export`` turns
such a file into the same raw records its API fetch gives, so one
``normalise`` handles both. This module does the part every platform
shares::

    HEADERS = {"日期": "date", "计划ID": "campaign_id", "消耗(元)": "cost"}

    def read_ad_reports(path: Path) -> Iterator[pa.RecordBatch]:
        rows = read_export_rows(path, headers=HEADERS, kind="a 粉丝通 report")
        return export_batches({**row, "cost": or_text(yuan_to_fen, row["cost"])} for row in rows)

What it handles:

* CSV in UTF-8 (with or without BOM) or GB18030, which Excel on a Chinese
  Windows and several back offices write; XLSX through ``openpyxl``;
* the header row found among the first rows (back offices put a title line
  or a note above it), and a clear error naming the file and the missing
  columns when the file is not the expected export;
* Excel's guards around long numbers (``="4071080000000000"``, a leading
  tab or apostrophe), blank cells as ``None``, date cells as China
  wall-clock text (``2026-10-01 08:30:00``);
* cell conversions exports need (yuan to fen, whole numbers, China time to
  epoch), and :func:`or_text` to keep a cell that does not convert, so that
  normalise rejects that one record with its reason instead of failing the
  file.

Ids stay as the cell holds them: a long id Excel saved as a number has
already lost digits, and normalise rejects it rather than guess.
:func:`write_export_file` writes such files (simulators and tests use it).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from omniplug.errors import InvalidInputError
from omniplug.fields import china_time_to_utc
from omniplug.rowmap import records_batch

__all__ = [
    "BATCH_ROWS", "ENCODINGS", "HEADER_SEARCH_ROWS", "LONG_NUMBER_DIGITS", "china_epoch", "clean_cell", "day_text",
    "decode_label", "export_batches", "group_lines", "or_text", "read_cells", "read_export_rows", "whole_number",
    "write_export_file", "yuan_to_fen",
]

#: Records per raw batch of an imported file.
BATCH_ROWS = 1000
#: The encodings CSV exports come in, tried in this order.
ENCODINGS = ("utf-8-sig", "gb18030")
#: How many rows from the top may hold the header row (title lines and notes come first).
HEADER_SEARCH_ROWS = 10
#: Digits from which Excel shows a number rounded: longer ids are guarded as text.
LONG_NUMBER_DIGITS = 15

Row = dict[str, Any]
_XLSX = (".xlsx", ".xlsm")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DATE_TIME = re.compile(r"\d{4}([-/])\d{2}\1\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


# -- cells --------------------------------------------------------------------------------


def clean_cell(value: Any) -> Any:
    """A cell as the API would send it: Excel guards removed, blanks ``None``, dates as text.

    Strings are stripped of white space and of the guards Excel users put
    around long numbers (``="123"``, a leading tab or apostrophe); an empty
    string becomes ``None``. ``datetime`` cells become
    ``'YYYY-MM-DD HH:MM:SS'`` and ``date`` cells ``'YYYY-MM-DD'`` (China wall
    time, as the back office shows them). Numbers and booleans are kept.
    """
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    text = value.strip().lstrip("\t'")
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1]
    return text or None


def day_text(value: Any) -> Any:
    """The date part of a date-time text (``'2026-10-01 00:00:00'`` -> ``'2026-10-01'``).

    Excel gives date cells as date-times at midnight; report exports mean the
    day. Anything else is returned unchanged (normalise judges it).
    """
    if isinstance(value, str) and _DATE_TIME.fullmatch(value):
        return value[:10]
    return value


def decode_label(labels: Mapping[str, Any], value: Any) -> Any:
    """The API code of a back-office label (``'交易成功'`` -> ``'TRADE_FINISHED'``).

    An unknown label passes through unchanged: normalise rejects that record
    and names the label.
    """
    return labels.get(value, value) if isinstance(value, str) else value


def _number(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise InvalidInputError(f"{what} {value!r} is not a number")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidInputError(f"{what} {value!r} is not a number") from None
    if not number.is_finite():
        raise InvalidInputError(f"{what} {value!r} is not a finite number")
    return number


def yuan_to_fen(value: Any) -> int:
    """A yuan amount cell (``'12.30'``, ``12.3``) as exact whole fen (``1230``).

    Raises:
        InvalidInputError: not a number, or more than two decimal places
            (money is never rounded silently).
    """
    fen = _number(value, "amount") * 100
    if fen != fen.to_integral_value():
        raise InvalidInputError(f"amount {value!r} has more than 2 decimal places")
    return int(fen)


def whole_number(value: Any) -> int:
    """A count cell (``'12'``, ``12.0``) as an ``int``; raises ``InvalidInputError`` for anything else."""
    number = _number(value, "count")
    if number != number.to_integral_value():
        raise InvalidInputError(f"count {value!r} is not a whole number")
    return int(number)


def china_epoch(value: Any, unit: Literal["s", "ms"] = "s") -> int | None:
    """A China wall-clock time cell as epoch seconds or milliseconds; a blank cell is ``None``.

    Raises:
        InvalidInputError: text that is not a date-time (see
            :func:`omniplug.fields.china_time_to_utc` for the accepted forms).
    """
    if value is None:
        return None
    if not isinstance(value, (str, datetime, date)):
        raise InvalidInputError(f"time {value!r} is not a date-time text")
    elapsed = china_time_to_utc(value) - _EPOCH
    return elapsed // timedelta(milliseconds=1) if unit == "ms" else elapsed // timedelta(seconds=1)


def or_text(convert: Callable[[Any], Any], value: Any) -> Any:
    """``convert(value)``, or the cell's text when it does not convert.

    The record keeps the unreadable value (as text, so that the batch still
    forms next to the converted values of the other records) and normalise
    rejects that record alone, with its reason.
    """
    try:
        return convert(value)
    except InvalidInputError:
        return value if value is None or isinstance(value, str) else str(value)


# -- reading ------------------------------------------------------------------------------


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInputError(f"{path.name}: neither UTF-8 nor GB18030 text; save the export as CSV (UTF-8) or XLSX")


def _xlsx_lines(path: Path, sheet: str | None) -> Iterator[Sequence[Any]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InvalidInputError(f"{path.name}: not a readable XLSX workbook ({exc})") from None
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            raise InvalidInputError(f"{path.name} has no sheet {sheet!r}; its sheets: {', '.join(book.sheetnames)}")
        yield from worksheet.iter_rows(values_only=True)
    finally:
        book.close()


def read_cells(path: str | Path, *, sheet: str | None = None) -> Iterator[list[Any]]:
    """Every line of a CSV or XLSX file as cleaned cells (see :func:`clean_cell`), blank lines included.

    ``.xlsx``/``.xlsm`` files are read with ``openpyxl`` (read-only, the
    first sheet unless ``sheet`` names one); any other file as CSV text in
    UTF-8 (BOM or not) or GB18030.

    Raises:
        InvalidInputError: the file is not text in those encodings, not a
            workbook, an old ``.xls`` workbook, or has no such sheet.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InvalidInputError(f"{path.name}: old Excel format; save it as .xlsx or .csv")
    if suffix not in _XLSX:
        for line in csv.reader(io.StringIO(_decode(path), newline="")):
            yield [clean_cell(cell) for cell in line]
        return
    lines = _xlsx_lines(path, sheet)
    try:
        for line in lines:
            yield [clean_cell(cell) for cell in line]
    finally:
        lines.close()  # closes the workbook now, also when the reader stops early


def _header_text(cell: Any) -> str:
    return "" if cell is None else str(cell).strip()


def read_export_rows(
    path: str | Path,
    *,
    headers: Mapping[str, str],
    required: Iterable[str] | None = None,
    sheet: str | None = None,
    kind: str | None = None,
) -> Iterator[Row]:
    """The data rows of a back-office export as ``{raw field: cell}``.

    Args:
        path: a ``.csv`` (UTF-8 or GB18030) or ``.xlsx`` file.
        headers: Chinese column header -> raw field name (the API's name for
            it). Other columns of the file are ignored; a column of
            ``headers`` the file lacks gives ``None`` in every row.
        required: the headers the file must have (default: all of ``headers``).
        sheet: the XLSX sheet to read (default: the first).
        kind: what the file should be, for the error message
            (``"a JD touchpoints export"``).

    The header row is the first of the top :data:`HEADER_SEARCH_ROWS` rows
    holding every required header. Blank rows are skipped; cells are cleaned
    (:func:`clean_cell`). Rows are read lazily.

    Raises:
        InvalidInputError: no header row with the required columns (the
            message names the file and the missing columns), or the file
            cannot be read (see :func:`read_cells`).
    """
    path = Path(path)
    wanted = set(headers if required is None else required)
    needed = [h for h in headers if h in wanted] + sorted(wanted - set(headers))  # in the file's usual order
    lines = read_cells(path, sheet=sheet)
    try:
        columns = _find_header(path, lines, headers, needed, kind)
        for cells in lines:
            if all(c is None for c in cells):
                continue
            row: Row = dict.fromkeys(headers.values())
            for field, cell in zip(columns, cells, strict=False):
                if field is not None and cell is not None:
                    row[field] = cell
            yield row
    finally:
        lines.close()


def _find_header(path: Path, lines: Iterator[list[Any]], headers: Mapping[str, str], needed: list[str],
                 kind: str | None) -> list[str | None]:
    """The raw field of each column (``None``: not wanted), from the first row holding every needed header."""
    best = needed
    for index, cells in enumerate(lines):
        names = [_header_text(c) for c in cells]
        missing = [h for h in needed if h not in names]
        if not missing:
            # A repeated header counts once, at its first column.
            return [headers.get(name) if name not in names[:i] else None for i, name in enumerate(names)]
        if len(missing) < len(best):
            best = missing
        if index + 1 >= HEADER_SEARCH_ROWS:
            break
    raise InvalidInputError(
        f"{path.name} is not {kind or 'the expected export'}: missing columns {', '.join(best)} "
        f"(looked for a header row with {', '.join(needed)} in the first {HEADER_SEARCH_ROWS} rows)"
    )


def group_lines(rows: Iterable[Row], *, key: str, line_prefix: str, lines: str) -> list[Row]:
    """Line-per-row export rows grouped into one record per ``key`` (orders with their lines).

    Order exports repeat the order's columns on every line row. Fields named
    ``line_prefix + name`` belong to the line: they go, without the prefix,
    into one dict per row in the record's ``lines`` list (a row whose line
    fields are all blank adds no line). The other fields come from the
    order's first row. Records keep the order of their first row.
    """
    grouped: dict[Any, Row] = {}
    for row in rows:
        record = grouped.get(row[key])
        if record is None:
            record = {k: v for k, v in row.items() if not k.startswith(line_prefix)}
            record[lines] = []
            grouped[row[key]] = record
        line = {k.removeprefix(line_prefix): v for k, v in row.items() if k.startswith(line_prefix)}
        if any(v is not None for v in line.values()):
            record[lines].append(line)
    return list(grouped.values())


def export_batches(records: Iterable[Mapping[str, Any]], batch_size: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """Raw records as Arrow batches of at most ``batch_size`` (see :func:`omniplug.rowmap.records_batch`)."""
    if batch_size < 1:
        raise InvalidInputError(f"batch_size must be at least 1, not {batch_size}")
    chunk: list[Mapping[str, Any]] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= batch_size:
            yield records_batch(chunk)
            chunk = []
    if chunk:
        yield records_batch(chunk)


# -- writing ------------------------------------------------------------------------------


def _guarded(value: Any, xlsx: bool) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and len(str(abs(value))) >= LONG_NUMBER_DIGITS:
        return str(value) if xlsx else f'="{value}"'
    return value


def write_export_file(
    path: str | Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8-sig",
    title: str | None = None,
    guard_long_numbers: bool = False,
) -> Path:
    """Write a table as a back office exports it: ``.xlsx`` (one sheet) or CSV in ``encoding``.

    Args:
        path: the file; its suffix picks the format (``.xlsx``/``.xlsm`` or CSV).
        header: the Chinese column headers.
        rows: the cells of each row, in ``header`` order (``None``: empty cell).
        encoding: the CSV encoding (``utf-8-sig``, ``gb18030``, ...); ignored for XLSX.
        title: a title line above the header row, as some back offices write.
        guard_long_numbers: write integers of 15 digits or more as Excel
            keeps them: ``="..."`` in CSV, text cells in XLSX.

    Returns:
        ``path``.
    """
    path = Path(path)
    xlsx = path.suffix.lower() in _XLSX
    table: list[Sequence[Any]] = [[title]] if title is not None else []
    table.append(list(header))
    for cells in rows:
        table.append([_guarded(c, xlsx) for c in cells] if guard_long_numbers else list(cells))
    if xlsx:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Sheet1")
        for cells in table:
            sheet.append(list(cells))
        book.save(path)
        return path
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows([["" if c is None else c for c in cells] for cells in table])
    return path

"""Back-office exports (粉丝通 creative report, 微任务 KOL orders) imported through normalise."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from omniplug_weibo.export import CREATIVE_HEADERS, KOL_HEADERS
from omniplug_weibo.simulator import WeiboSimulator

from omniplug.errors import InvalidInputError
from omniplug.exports import write_export_file
from omniplug.sync import import_file


def _rows(sim: WeiboSimulator) -> tuple[list[list[str]], list[list[str]]]:
    """The simulator's report records as export rows (every cell text, as the back office writes ids)."""
    creative = [[str(r[f]) if r[f] is not None else "" for f in CREATIVE_HEADERS.values()]
                for r in sim.view.creative_report]
    kol = [[str(r[f]) if r[f] is not None else "" for f in KOL_HEADERS.values()] for r in sim.view.kol_orders]
    return creative, kol


def _spend(out: Path) -> pa.Table:
    import pyarrow.parquet as pq

    return pq.read_table(out / "spend.parquet")


def test_csv_exports_import_to_the_worlds_spend(registry, sim: WeiboSimulator, truth, tmp_path: Path) -> None:
    creative, kol = _rows(sim)
    # Excel on a Chinese Windows saves CSV as GB18030; newer back offices write UTF-8 with a BOM.
    first = write_export_file(tmp_path / "粉丝通_创意日报.csv", list(CREATIVE_HEADERS), creative, encoding="gb18030")
    second = write_export_file(tmp_path / "微任务_订单.csv", list(KOL_HEADERS), kol, encoding="utf-8-sig")
    out = tmp_path / "out"
    for path in (first, second):
        result = import_file(registry, "weibo", "ad_reports", path, out_dir=out)
        assert not result.rejects
    assert _spend(out).equals(truth("spend"))


def test_xlsx_export_imports_with_text_ids(registry, sim: WeiboSimulator, truth, tmp_path: Path) -> None:
    creative, kol = _rows(sim)
    out = tmp_path / "out"
    for name, headers, rows in (("creative.xlsx", CREATIVE_HEADERS, creative), ("kol.xlsx", KOL_HEADERS, kol)):
        # Ids stay text (as the back office writes them); amounts and counts are numbers.
        cells = ([_number(h, v) for h, v in zip(headers, row, strict=True)] for row in rows)
        path = write_export_file(tmp_path / name, list(headers), cells)
        result = import_file(registry, "weibo", "ad_reports", path, out_dir=out)
        assert not result.rejects
    assert _spend(out).equals(truth("spend"))


def _number(header: str, value: str) -> object:
    if header in ("消耗(元)", "订单金额(元)"):
        return float(value)
    if header in ("曝光量", "点击量", "阅读数", "互动数"):
        return int(value)
    return value


def test_an_id_saved_as_an_excel_number_is_rejected(registry, sim: WeiboSimulator, tmp_path: Path) -> None:
    creative, _ = _rows(sim)
    row = list(creative[0])
    rows = [row, [*row[:1], "4.07108E+15", *row[2:]]]
    path = write_export_file(tmp_path / "broken.csv", list(CREATIVE_HEADERS), rows, encoding="utf-8")
    result = import_file(registry, "weibo", "ad_reports", path, out_dir=tmp_path / "out")
    assert result.rows["spend"] == 1 and result.n_rejects == 1


def test_an_unknown_file_is_refused_with_the_expected_headers(registry, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="计划ID"):
        import_file(registry, "weibo", "ad_reports", path, out_dir=tmp_path / "out")

"""Back-office imports: 千牛 / 客户运营平台 / 万相台 / 达摩盘 exports, CSV (GB18030) and XLSX."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from omniplug_tmall.export import ORDER_HEADERS
from omniplug_tmall.simulator import TmallSimulator

from omniplug.errors import InvalidInputError
from omniplug.exports import read_export_rows
from omniplug.plugins import PluginRegistry
from omniplug.sync import import_file

Tables = Callable[..., dict[str, pa.Table]]
Expected = Callable[[str], pa.Table]

#: stream -> the tables its import must reproduce exactly.
IMPORTED = {
    "orders": ("orders", "order_items"),
    "members": ("identity_links",),
    "ad_reports": ("spend",),
    "touchpoints": ("touchpoints",),
}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("stream", sorted(IMPORTED))
def test_import_reproduces_the_world(
    registry: PluginRegistry, sim: TmallSimulator, tables: Tables, expected: Expected, stream: str, suffix: str,
    tmp_path: Path,
) -> None:
    path = sim.write_export(stream, tmp_path / f"{stream}{suffix}")
    result = import_file(registry, "tmall", stream, path, out_dir=tmp_path / "out")
    assert not result.rejects, dict(result.rejects)
    got = tables(tmp_path / "out", IMPORTED[stream])
    for name in IMPORTED[stream]:
        want = expected(name)
        if stream == "members":  # the member list holds the CRM links only, not the trades' ones
            want = want.filter(pc.equal(want.column("left_type"), "tmall_ouid"))
        assert got[name].equals(want), f"{stream}{suffix}: {name} differs from the world"


def test_csv_is_gb18030_with_excel_guards(sim: TmallSimulator, tmp_path: Path) -> None:
    path = sim.write_export("orders", tmp_path / "orders.csv")
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    assert text.startswith("订单编号,") and '="' in text
    first = next(read_export_rows(path, headers=ORDER_HEADERS))
    assert first["tid"].isdigit() and len(first["tid"]) == 19


def test_a_file_without_the_needed_columns_is_refused(registry: PluginRegistry, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("日期,花费\n2026-10-01,1.00\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="计划ID"):
        import_file(registry, "tmall", "ad_reports", path, out_dir=tmp_path / "out")

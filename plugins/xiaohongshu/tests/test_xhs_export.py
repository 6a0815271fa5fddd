"""Back-office exports (CSV in UTF-8 or GB18030, XLSX) imported through normalise equal the world."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
from omniplug_xiaohongshu.export import read_ad_reports
from omniplug_xiaohongshu.sim_export import write_export
from omniplug_xiaohongshu.simulator import XiaohongshuSimulator

from omniplug.errors import InvalidInputError
from omniplug.sync import import_file


@pytest.mark.parametrize(("suffix", "encoding"), [(".csv", "utf-8-sig"), (".xlsx", "utf-8-sig"), (".csv", "gb18030")])
def test_exports_import_to_the_world(sim: XiaohongshuSimulator, registry: Any, truth: Any, output: Any,
                                     tmp_path: Path, suffix: str, encoding: str) -> None:
    """Report, note and order exports give the world's spend, KOL materials, orders, lines and links."""
    out = tmp_path / "out"
    for stream in ("ad_reports", "kol_notes", "shop_orders"):
        path = write_export(sim, stream, tmp_path / f"{stream}{suffix}", encoding=encoding)
        result = import_file(registry, "xiaohongshu", stream, path, out_dir=out)
        assert not result.rejects, f"{stream}: {dict(result.rejects)}"
    assert output(out, "spend").to_pylist() == truth("spend").to_pylist()
    for name in ("orders", "order_items", "identity_links"):
        assert output(out, name).to_pylist() == truth(name).to_pylist(), name
    kol = truth("materials").filter(pc.is_valid(pc.field("kol_id")))
    materials = output(out, "materials")
    assert materials.drop_columns(["uri"]).to_pylist() == kol.drop_columns(["uri"]).to_pylist()
    assert materials["uri"].null_count == materials.num_rows  # exports carry no cover URL


def test_masked_phones_give_orders_without_identity_links(sim: XiaohongshuSimulator, registry: Any, truth: Any,
                                                          output: Any, tmp_path: Path) -> None:
    """Ark exports usually mask the receiver phone: the orders land, no link is invented."""
    path = write_export(sim, "shop_orders", tmp_path / "orders.csv", mask_phones=True)
    result = import_file(registry, "xiaohongshu", "shop_orders", path, out_dir=tmp_path / "out")
    assert result.rows["orders"] == truth("orders").num_rows
    assert "identity_links" not in result.rows
    assert b"****" not in (tmp_path / "out" / "orders.parquet").read_bytes()


def test_a_file_without_the_export_headers_is_refused_clearly(tmp_path: Path) -> None:
    """The error names the file and the columns it looked for."""
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"other\.csv is not a Juguang creative report: missing .*计划ID"):
        list(read_ad_reports(path))

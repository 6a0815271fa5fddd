"""Back-office exports (CSV with Chinese headers, GB18030 or UTF-8; XLSX) import to the world's tables."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from omniplug_douyin.export import ORDER_HEADERS, REPORT_HEADERS

from omniplug.exports import write_export_file
from omniplug.fields import CHINA_TZ
from omniplug.plugins import PluginRegistry
from omniplug.sync import import_file
from omniplug.world import World

_CHANNEL_TYPE = {"paid": "通投广告", "search": "搜索广告"}


def _report_rows(world: World) -> list[list[Any]]:
    return [[s["date"].isoformat(), s["campaign_id"], _CHANNEL_TYPE[s["channel"]], s["material_id"] or "",
             f"{s['spend']:.2f}", s["impressions"], s["clicks"]]
            for s in world.slice("douyin")["spend"].to_pylist() if s["channel"] in _CHANNEL_TYPE]


def _order_rows(world: World) -> list[list[Any]]:
    sl = world.slice("douyin")
    items: dict[str, list[dict[str, Any]]] = {}
    for item in sl["order_items"].to_pylist():
        items.setdefault(item["order_id"], []).append(item)
    rows = []
    for o in sl["orders"].to_pylist():
        status = {"paid": "已完成", "refunded": "已取消", "cancelled": "已取消"}[o["status"]]
        when = o["order_time"].astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
        for item in items[o["order_id"]]:
            rows.append([o["order_id"], item["line_id"], item["product_id"], item["quantity"], f"{item['amount']:.2f}",
                         f"{o['amount']:.2f}", when, status, "退款成功" if o["status"] == "refunded" else "",
                         o["id_value"], world.order_phones[("douyin", o["order_id"])]])
    return rows


def test_report_csv_import_matches_the_world(registry: PluginRegistry, world: World, tmp_path: Path,
                                            tables_of: Callable[..., Any], rows: Callable[..., Any]) -> None:
    """An Ocean Engine report download (UTF-8 with BOM) gives the world's paid spend rows."""
    path = write_export_file(tmp_path / "报表.csv", list(REPORT_HEADERS), _report_rows(world))
    result = import_file(registry, "douyin", "ad_reports", path, out_dir=tmp_path / "out")
    assert not result.rejects
    spend = tables_of(tmp_path / "out", ("spend",))["spend"]
    truth = world.slice("douyin")["spend"]
    expected = truth.filter([c != "kol" for c in truth.column("channel").to_pylist()])
    assert rows(spend, "spend") == rows(expected, "spend")


@pytest.mark.parametrize("kind", ["xlsx", "gb18030"])
def test_order_export_import_matches_the_world(kind: str, registry: PluginRegistry, world: World, tmp_path: Path,
                                               tables_of: Callable[..., Any], rows: Callable[..., Any]) -> None:
    """A Doudian order export (one row per sub-order) gives the world's orders, items and phone links."""
    header, data = list(ORDER_HEADERS), _order_rows(world)
    # Long ids are text cells in the XLSX, as the back office writes them (a number would lose digits).
    path = write_export_file(tmp_path / ("订单.xlsx" if kind == "xlsx" else "订单.csv"), header, data,
                             encoding="gb18030")
    result = import_file(registry, "douyin", "shop_orders", path, out_dir=tmp_path / "out")
    assert not result.rejects
    got = tables_of(tmp_path / "out", ("orders", "order_items", "identity_links"))
    truth = world.slice("douyin")
    phone_links = truth["identity_links"].filter(
        [t == "phone_sha256" for t in truth["identity_links"].column("right_type").to_pylist()])
    assert rows(got["orders"], "orders") == rows(truth["orders"], "orders")
    assert rows(got["order_items"], "order_items") == rows(truth["order_items"], "order_items")
    assert rows(got["identity_links"], "identity_links") == rows(phone_links, "identity_links")


def test_a_bad_export_row_is_rejected_with_its_reason(registry: PluginRegistry, world: World,
                                                      tmp_path: Path) -> None:
    """A row whose cost is not a yuan amount is rejected; the others land. Missing columns are named."""
    data = _report_rows(world)
    data[0][4] = "12.345"
    path = write_export_file(tmp_path / "报表.csv", list(REPORT_HEADERS), data)
    result = import_file(registry, "douyin", "ad_reports", path, out_dir=tmp_path / "out")
    assert result.n_rejects == 1 and result.rows["spend"] == len(data) - 1
    broken = write_export_file(tmp_path / "坏.csv", ["日期", "消耗(元)"], [["2026-10-01", "1.00"]])
    with pytest.raises(Exception, match="项目ID"):
        import_file(registry, "douyin", "ad_reports", broken, out_dir=tmp_path / "out2")

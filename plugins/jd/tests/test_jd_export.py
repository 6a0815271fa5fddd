"""Back-office exports: files written in JD's format from the world, imported, compared with the world."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from omniplug_jd.export import read_touchpoints, write_export
from omniplug_jd.sim_render import Rendered, render

from omniplug.errors import InvalidInputError
from omniplug.plugins import PluginRegistry
from omniplug.schema import PRIMARY_KEYS
from omniplug.sync import import_file
from omniplug.world import World

#: stream -> (the simulator's records of it, the tables its import must reproduce).
CASES = {"orders": ("orders", ("orders", "order_items")), "ad_reports": ("ad_rows", ("spend",)),
         "touchpoints": ("touches", ("touchpoints",))}


@pytest.fixture(scope="module")
def rendered(world: World) -> Rendered:
    """The world's JD records in API shape (what the export files are made from)."""
    return render(world, lambda material_id: f"http://media.invalid/{material_id}.jpg")


def _sorted(table: Any, name: str) -> list[dict[str, Any]]:
    return table.sort_by([(k, "ascending") for k in PRIMARY_KEYS[name]]).to_pylist()


@pytest.mark.parametrize("suffix, encoding", [(".csv", "utf-8-sig"), (".xlsx", "")])
@pytest.mark.parametrize("stream", sorted(CASES))
def test_export_file_imports_to_the_world(registry: PluginRegistry, rendered: Rendered, world: World,
                                          tmp_path: Path, stream: str, suffix: str, encoding: str) -> None:
    attribute, tables = CASES[stream]
    path = write_export(stream, getattr(rendered, attribute), tmp_path / f"jd-{stream}{suffix}",
                        encoding=encoding or "utf-8")
    result = import_file(registry, "jd", stream, path, out_dir=tmp_path / "out")
    assert not result.rejects, dict(result.rejects)
    truth = world.slice("jd")
    for name in tables:
        got = pq.read_table(tmp_path / "out" / f"{name}.parquet")
        assert _sorted(got, name) == _sorted(truth[name], name), name


def test_gbk_csv_with_an_unknown_label_rejects_only_that_row(
        registry: PluginRegistry, rendered: Rendered, tmp_path: Path) -> None:
    touches = [dict(t) for t in rendered.touches[:20]]
    touches[3]["behaviorType"] = "收藏"  # a label this reader does not know
    path = write_export("touchpoints", touches, tmp_path / "人群明细.csv", encoding="gb18030")
    assert "行为时间".encode("gb18030") in path.read_bytes()
    result = import_file(registry, "jd", "touchpoints", path, out_dir=tmp_path / "out")
    assert result.rows["touchpoints"] == 19 and result.n_rejects == 1
    reason = pq.read_table(tmp_path / "out" / "rejects.parquet").column("reason")[0].as_py()
    assert "behaviorType" in reason and "收藏" in reason


def test_a_file_that_is_not_the_export_is_named(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_text("日期,花费\n2026-10-01,12.00\n", encoding="utf-8")
    batches: Iterator[Any] = read_touchpoints(path)
    with pytest.raises(InvalidInputError, match="not a JD touchpoints export: missing columns 事件ID"):
        list(batches)

"""Orders: the trade-type trap, TOP's argument checks, and resumed runs by modification time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from omniplug_tmall.client import china_stamp
from omniplug_tmall.config import TmallConfig
from omniplug_tmall.simulator import TmallSimulator

from omniplug.context import FetchContext
from omniplug.plugins import PluginRegistry
from omniplug.sync import StreamResult
from omniplug.world import WorldConfig, build_world

Fetch = Callable[..., dict[str, StreamResult]]
Tables = Callable[..., dict[str, pa.Table]]
TopCall = Callable[..., dict[str, Any]]
FIELDS = "tid,type,created,modified,status"


def _window(sim: TmallSimulator) -> dict[str, str]:
    cfg = sim.world.config
    return {"start_created": china_stamp(cfg.start), "end_created": china_stamp(cfg.end - timedelta(seconds=1))}


def test_leaving_out_type_loses_trades_which_the_plugin_does_not(
    top_call: TopCall, sim: TmallSimulator, fetch: Fetch, tables: Tables, tmp_path: Path
) -> None:
    default = top_call("taobao.trades.sold.get", fields=FIELDS, page_size=100, **_window(sim))
    served = default["trades_sold_get_response"]["total_results"]
    hidden = [t for t in sim.data.trades.values() if t["type"] == "tmall_i18n"]
    assert hidden and served == len(sim.data.trades) - len(hidden)
    cfg = sim.world.config
    fetch(tmp_path, ["orders"], since=cfg.start, until=cfg.end)
    assert tables(tmp_path, ["orders"])["orders"].num_rows == len(sim.data.trades)


@pytest.mark.parametrize(("params", "code", "sub_code"), [
    ({"page_size": 101}, 41, "isv.invalid-parameter:page_size"),
    ({"fields": ""}, 40, "isv.missing-parameter:fields"),
    ({"start_created": "2026/10/01"}, 41, "isv.invalid-parameter:start_created"),
])
def test_sold_get_checks_its_arguments(
    top_call: TopCall, sim: TmallSimulator, params: dict[str, Any], code: int, sub_code: str
) -> None:
    body = top_call("taobao.trades.sold.get", **{"fields": FIELDS, **_window(sim), **params})
    assert (body["error_response"]["code"], body["error_response"]["sub_code"]) == (code, sub_code)


def test_increment_windows_are_at_most_one_day(top_call: TopCall, sim: TmallSimulator) -> None:
    now = sim.clock.now()
    ok = top_call("taobao.trades.sold.increment.get", fields=FIELDS,
                  start_modified=china_stamp(now - timedelta(days=1)),
                  end_modified=china_stamp(now))
    assert "trades_sold_increment_get_response" in ok
    wide = top_call("taobao.trades.sold.increment.get", fields=FIELDS,
                    start_modified=china_stamp(now - timedelta(days=1, seconds=1)), end_modified=china_stamp(now))
    assert wide["error_response"]["code"] == 41


def test_gateway_checks_timestamp_session_and_signature(top_call: TopCall, sim: TmallSimulator) -> None:
    sim.clock.advance(11 * 60)
    stale = top_call("taobao.itemcats.get", cids="1", timestamp=china_stamp(sim.clock.now() - timedelta(minutes=11)))
    assert stale["error_response"]["code"] == 31
    assert top_call("taobao.items.onsale.get", fields="num_iid", session="")["error_response"]["code"] == 26
    assert top_call("taobao.items.onsale.get", fields="num_iid", session="nope")["error_response"]["code"] == 27
    assert top_call("taobao.itemcats.get", cids="1", secret="wrong")["error_response"]["code"] == 25


def test_a_resumed_run_picks_up_changed_trades_by_modification_time(
    fetch: Fetch, tables: Tables, sim: TmallSimulator, tmp_path: Path
) -> None:
    fetch(tmp_path, ["orders"])  # first run: creation-time windows
    paid = next(t for t in sim.data.trades.values() if t["status"] == "TRADE_FINISHED")
    sim.clock.advance(3600)
    sim.modify_trade(paid["tid"], "TRADE_CLOSED")  # refunded after the first run
    sim.clock.advance(3600)
    sim.clear_requests()
    result = fetch(tmp_path, ["orders"])["orders"]
    assert result.rows["orders"] == 1
    methods = {r.body.decode() for r in sim.requests}
    assert any("taobao.trades.sold.increment.get" in m for m in methods)
    assert not any("method=taobao.trades.sold.get&" in m for m in methods)
    orders = {o["order_id"]: o for o in tables(tmp_path, ["orders"])["orders"].to_pylist()}
    assert orders[str(paid["tid"])]["status"] == "refunded"
    assert len(orders) == len(sim.data.trades)


def _raw_fetch(registry: PluginRegistry, sim: TmallSimulator, cursor: dict[str, Any]) -> Iterator[pa.RecordBatch]:
    ctx = FetchContext(platform="tmall", stream="orders", config=TmallConfig(**sim.pipeline_section()),
                       cursor=cursor, now=sim.clock.now, spec=registry.platform("tmall"))
    return registry.fetch("tmall", "orders", ctx)


def test_increment_pages_from_the_last_page_so_a_moving_trade_skips_nothing(registry: PluginRegistry) -> None:
    world = build_world(WorldConfig(seed=9, persons=700))
    with TmallSimulator(world=world) as sim:
        assert len(sim.data.trades) > 100  # at least two pages of 100
        start = sim.clock.now()
        sim.clock.advance(3600)
        for tid in sim.data.trades:  # the shop touches every trade at once
            sim.modify_trade(tid)
        sim.clock.advance(3600)
        newest = max(sim.data.trades)  # first on page 1 (same modified time, larger tid first)
        # After the count and the last page, the newest trade changes again and leaves the window:
        # the trades behind it move up one place, towards the pages already read.
        sim.after_calls(2, lambda: sim.modify_trade(newest, "TRADE_CLOSED"))
        seen: set[int] = set()
        for batch in _raw_fetch(registry, sim, {"mode": "created", "watermark": start.isoformat()}):
            seen.update(batch.column("tid").to_pylist() if batch.num_rows else [])
        assert seen == set(sim.data.trades) - {newest}
        # It comes back in the next run, in its new state.
        sim.clock.advance(3600)
        later = [t for b in _raw_fetch(registry, sim, {"mode": "modified", "watermark": (
            sim.clock.now() - timedelta(hours=1, minutes=5)).isoformat()}) for t in b.to_pylist()]
        assert [(t["tid"], t["status"]) for t in later] == [(newest, "TRADE_CLOSED")]

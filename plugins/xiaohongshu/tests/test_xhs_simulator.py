"""The simulator enforces what the real platform enforces (windows, pages, skew, T+1, tokens)."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from omniplug_xiaohongshu import codes
from omniplug_xiaohongshu.client import ARK_PATH, REFRESH_PATH, ark_sign
from omniplug_xiaohongshu.sim_ark import ARK_APP_ID, ARK_APP_SECRET
from omniplug_xiaohongshu.simulator import (
    APP_ID,
    BRAND_USER_ID,
    SECRET,
    XiaohongshuSimulator,
)
from omniplug_xiaohongshu.streams.juguang import REPORT_PATH
from omniplug_xiaohongshu.streams.pgy import NOTE_PATH

from omniplug.fields import CHINA_TZ
from omniplug.testing import Clock
from omniplug.world import World


def _ark(sim: XiaohongshuSimulator, method: str, *, skew: int = 0, upper: bool = False, **fields: Any) -> dict:
    timestamp = int(sim.clock.time()) + skew
    sign = ark_sign(method, ARK_APP_ID, timestamp, "2.0", ARK_APP_SECRET)
    body = {"appId": ARK_APP_ID, "timestamp": timestamp, "version": "2.0", "method": method,
            "sign": sign.upper() if upper else sign, "accessToken": sim.initial_ark_token, **fields}
    return httpx.post(sim.base_url + ARK_PATH, json=body).json()


def _orders(sim: XiaohongshuSimulator, **fields: Any) -> dict:
    start = int(sim.world.config.start.timestamp())
    query = {"startTime": start, "endTime": start + 86400, "timeType": 1, "pageNo": 1, "pageSize": 100, **fields}
    return _ark(sim, "order.getOrderList", **query)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"endTime": None}, "24 h created window exceeded"),
    ({"timeType": 2}, "30 min update window exceeded"),
    ({"pageSize": 101}, "pageSize above 100"),
    ({"pageNo": 101}, "pageNo above 100"),
])
def test_ark_order_list_limits_answer_minus_2000400(sim: XiaohongshuSimulator, fields: dict, reason: str) -> None:
    """Window and paging limits of order.getOrderList, with the documented error code."""
    if fields.get("endTime", 0) is None:
        fields = {"endTime": int(sim.world.config.start.timestamp()) + 86401}
    answer = _orders(sim, **fields)
    assert (answer["success"], answer["error_code"]) == (False, codes.ARK_BAD_PARAMS), reason


def test_ark_list_pages_with_max_page_no_and_ms_times(sim: XiaohongshuSimulator) -> None:
    """A valid call answers total/pageNo/pageSize/maxPageNo and millisecond epoch times."""
    start = int(min(o["createdTime"] for o in sim.data.orders) // 1000)
    answer = _orders(sim, startTime=start, endTime=start + 86400, pageSize=1)
    data = answer["data"]
    assert answer["success"] and data["maxPageNo"] == data["total"] >= 1
    assert data["orderList"][0]["createdTime"] // 1000 == start


def test_ark_refuses_skewed_timestamps_and_upper_case_signatures(sim: XiaohongshuSimulator) -> None:
    """Seconds timestamps more than 10 minutes off, and an upper-case hex sign, are refused."""
    assert _orders(sim)["success"]
    assert _ark(sim, "order.getOrderList", skew=-1200)["error_code"] == codes.ARK_BAD_TIMESTAMP
    assert _ark(sim, "order.getOrderList", upper=True)["error_code"] == codes.ARK_BAD_SIGN
    sim.expire_ark_tokens()
    assert _orders(sim)["error_code"] == codes.ARK_TOKEN_INVALID


def _note_data(sim: XiaohongshuSimulator, token: str, **fields: Any) -> dict:
    body = {"user_id": BRAND_USER_ID, "date_type": 2, "start_time": "2026-10-01", "end_time": "2026-10-30",
            "page_num": 1, "page_size": 100, **fields}
    return httpx.post(sim.base_url + NOTE_PATH, json=body, headers={"Access-Token": token}).json()


def test_pugongying_limits_and_t_plus_1_snapshots(world: World) -> None:
    """page_size <= 100, spans <= 30 days, date_key only for the last three days; metrics grow per snapshot."""
    clock = Clock(frozen_at=world.config.start + timedelta(days=12))
    with XiaohongshuSimulator(world=world, clock=clock) as sim:
        token = sim.initial_access_token
        today = clock.now().astimezone(CHINA_TZ).date()
        assert _note_data(sim, token, page_size=101)["code"] == codes.JG_BAD_PARAMS
        assert _note_data(sim, token, end_time="2026-11-01")["code"] == codes.JG_BAD_PARAMS
        assert _note_data(sim, token, date_key=today.strftime("%Y%m%d"))["code"] == codes.JG_BAD_PARAMS
        too_old = (today - timedelta(days=4)).strftime("%Y%m%d")
        assert _note_data(sim, token, date_key=too_old)["code"] == codes.JG_BAD_PARAMS
        latest = _note_data(sim, token)["data"]["datas"]
        older = _note_data(sim, token, date_key=(today - timedelta(days=3)).strftime("%Y%m%d"))["data"]["datas"]
        assert {r["date_key"] for r in latest} == {(today - timedelta(days=1)).strftime("%Y%m%d")}
        assert sum(r["imp_num"] for r in older) < sum(r["imp_num"] for r in latest)
        clock.advance(20 * 86400)  # the window is over: the snapshot holds the world's full KOL impressions
        sim.jg_tokens[token] = clock.now() + timedelta(hours=1)
        final = {r["note_id"]: r["imp_num"] for r in _note_data(sim, token)["data"]["datas"]}
        world_kol = world.slice("xiaohongshu")["spend"].to_pylist()
        assert final == {r["material_id"]: r["impressions"] for r in world_kol if r["channel"] == "kol"}


def test_offline_reports_are_t_plus_1(world: World) -> None:
    """On day 11 of the window the report holds days 1 to 10 only."""
    clock = Clock(frozen_at=world.config.start + timedelta(days=10, hours=9))
    with XiaohongshuSimulator(world=world, clock=clock) as sim:
        body = {"advertiser_id": 5817300, "start_date": "2026-10-01", "end_date": "2026-10-30", "time_unit": "DAY",
                "page_num": 1, "page_size": 1000}
        rows = httpx.post(sim.base_url + REPORT_PATH, json=body,
                          headers={"Access-Token": sim.initial_access_token}).json()["data"]["data_list"]
        assert rows and max(r["time"] for r in rows) == "2026-10-10"


def test_tokens_expire_and_refresh_tokens_rotate(sim: XiaohongshuSimulator) -> None:
    """Access tokens die after a day; a refresh hands out a new pair and kills the used one."""
    refresh = {"app_id": APP_ID, "secret": SECRET, "refresh_token": sim.initial_refresh_token}
    first = httpx.post(sim.base_url + REFRESH_PATH, json=refresh).json()
    assert first["success"] and first["data"]["access_token_expires_in"] == 86399
    assert first["data"]["refresh_token_expires_in"] == 2591999
    again = httpx.post(sim.base_url + REFRESH_PATH, json=refresh).json()
    assert again["code"] == codes.JG_REFRESH_INVALID
    assert _note_data(sim, sim.initial_access_token)["code"] == codes.JG_TOKEN_INVALID
    fresh = first["data"]["access_token"]
    assert _note_data(sim, fresh)["success"]
    sim.clock.advance(86400)
    assert _note_data(sim, fresh)["code"] == codes.JG_TOKEN_INVALID


def test_incremental_runs_walk_update_time_windows(sim: XiaohongshuSimulator, fetch: Any, output: Any,
                                                   tmp_path: Path) -> None:
    """After a backfill the next run pages 30-minute update-time windows and catches orders updated since."""
    orders = sorted(sim.data.orders, key=lambda o: o["createdTime"])
    pivot = orders[len(orders) // 2]
    cut = pivot["createdTime"] + 60_000  # one minute after it was placed, before its update
    sim.clock.freeze(_at(cut))
    fetch("shop_orders", tmp_path, window=False)
    first = {r["order_id"] for r in output(tmp_path, "orders").to_pylist()}
    assert pivot["orderId"] in first
    sim.clear_requests()
    sim.clock.advance(3 * 3600)
    fetch("shop_orders", tmp_path, window=False)
    lists = [r for r in (_json(x) for x in sim.requests if x.path == ARK_PATH) if r["method"] == "order.getOrderList"]
    assert lists and all(r["timeType"] == 2 and r["endTime"] - r["startTime"] <= 1800 for r in lists)
    end = cut + 3 * 3600 * 1000
    expected = {o["orderId"] for o in orders if o["createdTime"] < cut or cut <= o["updateTime"] < end}
    assert {r["order_id"] for r in output(tmp_path, "orders").to_pylist()} == expected


def _json(request: Any) -> dict:
    import json

    return json.loads(request.body)


def _at(ms: int) -> Any:
    from datetime import datetime

    return datetime.fromtimestamp(ms / 1000, UTC)

"""The simulated Ark gateway: one signed POST endpoint dispatching on ``method``.

Checks, in the order a gateway would: the JSON body, the ``appId``, the
system parameters, the md5 ``sign`` (lower-case hex over
``method?appId=..&timestamp=..&version=..`` + secret), the ``timestamp``
(UNIX seconds, at most :data:`MAX_SKEW_SECONDS` from the simulator clock),
the ``accessToken``, then throttling. ``order.getOrderList`` enforces the
documented windows (created time <= 24 h, update time <= 30 min),
``pageNo`` <= 100 and ``pageSize`` <= 100, answering ``-2000400`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from omniplug.testing import Clock, SimRequest, SimResponse, route
from omniplug_xiaohongshu import codes
from omniplug_xiaohongshu.client import ARK_PATH, ARK_VERSION, ark_sign
from omniplug_xiaohongshu.sim_world import SimData

__all__ = ["ARK_APP_ID", "ARK_APP_SECRET", "MAX_SKEW_SECONDS", "ArkGateway", "ark_error"]

ARK_APP_ID = "7f3a2c9e1b5d4a60"
ARK_APP_SECRET = "ark-secret-4be1f0a7d2c9"
#: Allowed distance between the request timestamp and the gateway clock (assumed; not documented).
MAX_SKEW_SECONDS = 600
MAX_PAGE_NO, MAX_PAGE_SIZE = 100, 100
MAX_WINDOW = {1: 24 * 3600, 2: 30 * 60}
TIME_FIELD = {1: "createdTime", 2: "updateTime"}


def ark_error(code: int, msg: str) -> SimResponse:
    """Ark's error envelope (HTTP 200)."""
    return SimResponse.json({"success": False, "error_code": code, "error_msg": msg, "data": None})


def _ok(data: Any) -> SimResponse:
    return SimResponse.json({"success": True, "error_code": 0, "error_msg": "", "data": data})


class ArkGateway:
    """Mixin of :class:`~omniplug_xiaohongshu.simulator.XiaohongshuSimulator` serving Ark."""

    # Provided by the simulator class this is mixed into.
    clock: Clock
    data: SimData
    ark_tokens: dict[str, datetime]
    ark_signatures: list[str]
    _take_throttle: Callable[[str], bool]
    _take_malformed: Callable[[str], bool]

    @route("POST", ARK_PATH)
    def ark_gateway(self, req: SimRequest) -> SimResponse:
        """Authenticate the call, then dispatch on ``method``."""
        try:
            body = req.json()
        except ValueError:
            return ark_error(codes.ARK_BAD_PARAMS, "请求体不是合法的JSON")
        if not isinstance(body, dict):
            return ark_error(codes.ARK_BAD_PARAMS, "请求体必须是JSON对象")
        if body.get("appId") != ARK_APP_ID:
            return ark_error(codes.ARK_BAD_APP, "appId不存在")
        method, timestamp, version, sign = (body.get(k) for k in ("method", "timestamp", "version", "sign"))
        if not isinstance(method, str) or not isinstance(timestamp, int) or version != ARK_VERSION or not sign:
            return ark_error(codes.ARK_BAD_PARAMS, "缺少系统参数 method/timestamp(秒)/version=2.0/sign")
        expected = ark_sign(method, ARK_APP_ID, timestamp, version, ARK_APP_SECRET)
        self.ark_signatures.append(expected)
        if sign != expected:
            return ark_error(codes.ARK_BAD_SIGN, "签名校验失败")
        if abs(timestamp - self.clock.time()) > MAX_SKEW_SECONDS:
            return ark_error(codes.ARK_BAD_TIMESTAMP, "timestamp已过期或超前")
        expires = self.ark_tokens.get(str(body.get("accessToken", "")))
        if expires is None or expires <= self.clock.now():
            return ark_error(codes.ARK_TOKEN_INVALID, "accessToken无效或已过期")
        if self._take_throttle("ark"):
            return ark_error(codes.ARK_THROTTLED, "请求过于频繁，请稍后再试")
        if method == "order.getOrderList":
            return self._order_list(body)
        if method == "order.getOrderDetail":
            return self._order_detail(body)
        return ark_error(codes.ARK_BAD_PARAMS, f"不支持的method: {method}")

    def _order_list(self, body: dict[str, Any]) -> SimResponse:
        try:
            start, end = int(body["startTime"]), int(body["endTime"])
            time_type = int(body.get("timeType", 1))
            page_no, page_size = int(body.get("pageNo", 1)), int(body.get("pageSize", 50))
            status = int(body.get("orderStatus") or 0)
        except (KeyError, TypeError, ValueError):
            return ark_error(codes.ARK_BAD_PARAMS, "startTime/endTime(秒)必填，分页参数须为整数")
        if time_type not in MAX_WINDOW:
            return ark_error(codes.ARK_BAD_PARAMS, "timeType只能为1(创建时间)或2(更新时间)")
        if not 0 < end - start <= MAX_WINDOW[time_type]:
            limit = "24小时" if time_type == 1 else "30分钟"
            return ark_error(codes.ARK_BAD_PARAMS, f"时间范围不合法：endTime须大于startTime且跨度不超过{limit}")
        if not 1 <= page_no <= MAX_PAGE_NO or not 1 <= page_size <= MAX_PAGE_SIZE:
            return ark_error(codes.ARK_BAD_PARAMS, f"pageNo最大{MAX_PAGE_NO}，pageSize最大{MAX_PAGE_SIZE}")
        field = TIME_FIELD[time_type]
        matching = [o for o in self.data.orders if start * 1000 <= o[field] < end * 1000
                    and status in (0, o["orderStatus"])]
        matching.sort(key=lambda o: (o[field], o["orderId"]))
        page = matching[(page_no - 1) * page_size: page_no * page_size]
        summaries = [{k: o[k] for k in ("orderId", "orderType", "orderStatus", "createdTime", "updateTime")}
                     for o in page]
        return _ok({"total": len(matching), "pageNo": page_no, "pageSize": page_size,
                    "maxPageNo": math.ceil(len(matching) / page_size), "orderList": summaries})

    def _order_detail(self, body: dict[str, Any]) -> SimResponse:
        order_id = body.get("orderId")
        for order in self.data.orders:
            if order["orderId"] == order_id:
                detail = dict(order)
                if self._take_malformed("shop_orders"):
                    detail["createdTime"] = "yesterday"
                return _ok(detail)
        return ark_error(codes.ARK_BAD_PARAMS, f"订单不存在: {order_id}")

    def expire_ark_tokens(self) -> None:
        """Make every Ark accessToken expired now (re-authorisation needed)."""
        for token in self.ark_tokens:
            self.ark_tokens[token] = self.clock.now() - timedelta(seconds=1)

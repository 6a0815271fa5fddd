"""The simulated Xingtu (星图) APIs under Ocean Engine: demands, orders, post-campaign reports.

Same gate as the rest of Ocean Engine (``Access-Token``, frequency control);
the star account must be the one authorised; the order list answers at most
50 orders per page. Amounts are fen, rates percentages times 100.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from omniplug.testing.simulator import SimRequest, SimResponse, route
from omniplug_douyin.sim_ocean import OceanError, paged
from omniplug_douyin.sim_world import RouteState

__all__ = ["XingtuRoutes"]


class XingtuRoutes(RouteState):
    """Route handlers of Xingtu; mixed into :class:`~omniplug_douyin.simulator.DouyinSimulator`."""

    star_id: str
    ocean_call: Callable[[SimRequest, Callable[[dict[str, Any]], Any]], SimResponse]
    _advertiser: Callable[..., None]
    star_video_url: Callable[[str], str]

    @route("GET", "/open_api/2/star/demand/list/")
    def star_demand_list(self, req: SimRequest) -> SimResponse:
        """The star account's demands (tasks)."""
        def answer(p: dict[str, Any]) -> Any:
            self._advertiser(p, "star_id", self.star_id)
            return paged(self.view.demands, p, max_size=50, default_size=10)
        return self.ocean_call(req, answer)

    @route("GET", "/open_api/2/star/demand/order/list/")
    def star_order_list(self, req: SimRequest) -> SimResponse:
        """Orders of one demand, at most 50 per page."""
        def answer(p: dict[str, Any]) -> Any:
            self._advertiser(p, "star_id", self.star_id)
            try:
                orders = self.view.star_orders[int(p.get("demand_id", ""))]
            except (KeyError, ValueError):
                raise OceanError(40000, f"demand_id {p.get('demand_id')!r} does not exist") from None
            data = paged(orders, p, max_size=50, default_size=10)
            served = []
            for order in data["list"]:
                item = json.loads(json.dumps(order))
                item["video_url"] = self.star_video_url(str(item["item_id"]))
                served.append(item)
            data["list"] = self._corrupt("xingtu_orders", served)
            return data
        return self.ocean_call(req, answer)

    @route("GET", "/open_api/2/star/report/order_overview/get/")
    def star_order_overview(self, req: SimRequest) -> SimResponse:
        """Post-campaign report of one order: spread, convert, cost effectiveness (fen)."""
        def answer(p: dict[str, Any]) -> Any:
            self._advertiser(p, "star_id", self.star_id)
            try:
                return self.view.star_reports[int(p.get("order_id", ""))]
            except (KeyError, ValueError):
                raise OceanError(40000, f"order_id {p.get('order_id')!r} does not exist") from None
        return self.ocean_call(req, answer)

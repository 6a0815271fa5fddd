"""The simulated Douyin open platform: token refresh and the follower list.

Header ``access-token``; answers ``{"data": {..., "error_code", "description"},
"extra": {"error_code", "description", "sub_error_code", "sub_description",
"logid", "now"}}``. An expired access token gives 10008 (an unknown one
2190008); refreshing with an expired refresh token gives 10010; a refresh
does not extend the refresh token. ``count`` is clamped to 20.
"""

from __future__ import annotations

import secrets
from typing import Any

from omniplug.testing.simulator import Clock, SimRequest, SimResponse, route
from omniplug_douyin.sim_tokens import Issued, TokenBook
from omniplug_douyin.sim_world import RouteState

__all__ = ["OpenRoutes", "open_reply"]

MAX_COUNT = 20


def open_reply(clock: Clock, data: dict[str, Any] | None = None, code: int = 0, description: str = "") -> SimResponse:
    """The open platform envelope with ``extra.logid`` and ``extra.now`` (ms)."""
    body = {**(data or {}), "error_code": code, "description": description}
    extra = {"error_code": code, "description": description, "sub_error_code": 0, "sub_description": "",
             "logid": secrets.token_hex(16), "now": int(clock.now().timestamp() * 1000)}
    return SimResponse.json({"data": body, "extra": extra})


class OpenRoutes(RouteState):
    """Route handlers of the open platform; mixed into :class:`~omniplug_douyin.simulator.DouyinSimulator`."""

    open_tokens: TokenBook
    client_key: str
    open_id: str

    @route("POST", "/oauth/refresh_token/")
    def open_refresh_token(self, req: SimRequest) -> SimResponse:
        """A new 15-day access token; the refresh token keeps its expiry (10010 once it passed)."""
        form = req.form()
        if form.get("client_key") != self.client_key or form.get("grant_type") != "refresh_token":
            return SimResponse.json({"data": {"error_code": 2100005, "description": "参数不合法"}, "message": "error"})
        issued = self.open_tokens.refresh(form.get("refresh_token"))
        if not isinstance(issued, Issued):
            return SimResponse.json({"data": {"error_code": 10010, "description": "refresh_token过期，请重新授权"},
                                     "message": "error"})
        return SimResponse.json({"data": {
            "access_token": issued.access_token, "refresh_token": issued.refresh_token, "open_id": self.open_id,
            "expires_in": issued.expires_in, "refresh_expires_in": issued.refresh_expires_in,
            "scope": "user_info,fans.list", "error_code": 0, "description": ""}, "message": "success"})

    @route("GET", "/fans/list/")
    def fans_list(self, req: SimRequest) -> SimResponse:
        """The brand account's followers from ``cursor`` on (ordered by follow time)."""
        status = self.open_tokens.check(req.headers.get("access-token"))
        if status == "expired":
            return open_reply(self.clock, code=10008, description="access_token过期")
        if status != "ok":
            return open_reply(self.clock, code=2190008, description="access_token无效")
        fault = self._take_fault("open")
        if fault is not None:
            return open_reply(self.clock, code=fault[0], description=fault[1])
        if req.query.get("open_id") != self.open_id:
            return open_reply(self.clock, code=2100005, description="参数不合法: open_id")
        try:
            cursor, count = int(req.query.get("cursor", "0")), int(req.query.get("count", "10"))
        except ValueError:
            return open_reply(self.clock, code=2100005, description="参数不合法: cursor/count")
        if cursor < 0 or count < 1:
            return open_reply(self.clock, code=2100005, description="参数不合法: cursor/count")
        count = min(count, MAX_COUNT)
        page = self._corrupt("identities", [dict(f) for f in self.view.fans[cursor: cursor + count]])
        nxt = cursor + len(page)
        return open_reply(self.clock, {"list": page, "cursor": nxt, "has_more": nxt < len(self.view.fans),
                                       "total": len(self.view.fans)})

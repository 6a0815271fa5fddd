"""The simulated Doudian gateway: signed POSTs for orders, decryption and tokens.

Checks, in the gateway's order: the app key (40003 ``isv.app-id-invalid``),
the signature over the raw body (40001 ``isv.signature-missing`` / 40003
``isv.signature-invalid``; ``hmac-sha256`` and the legacy ``md5``), the
timestamp within ``max_skew`` of the simulator clock (40003
``isv.timestamp-invalid``), the access token (40001 missing, 40003
``isv.access-token-no-existed`` / ``isv.access-token-expired``), then
throttling (60000) and system errors (20000) when told to. Success is code
10000. ``order.searchList`` pages from 0 with ``size`` at most 100;
``order.batchDecrypt`` takes at most 50 ciphertexts; ``token.refresh``
rotates the refresh token (the old one gives 50001).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from omniplug.fields import CHINA_TZ
from omniplug.testing.simulator import Clock, SimRequest, SimResponse
from omniplug_douyin.doudian import SUCCESS, sign
from omniplug_douyin.sim_tokens import Issued, TokenBook
from omniplug_douyin.sim_world import RouteState

__all__ = ["DOUDIAN_PATHS", "DoudianRoutes", "doudian_reply"]

DOUDIAN_PATHS = ("/order/searchList", "/order/batchDecrypt", "/token/refresh")
_TOKEN_METHODS = frozenset({"token.refresh", "token.create"})


class _Refused(Exception):
    def __init__(self, code: int, sub_code: str, msg: str) -> None:
        super().__init__(msg)
        self.code, self.sub_code, self.msg = code, sub_code, msg


def doudian_reply(clock: Clock, data: dict[str, Any] | None = None, code: int = SUCCESS, sub_code: str = "",
                  msg: str = "success") -> SimResponse:
    """The Doudian envelope with a ``log_id`` as the gateway writes it."""
    log_id = clock.now().astimezone(CHINA_TZ).strftime("%Y%m%d%H%M%S") + secrets.token_hex(9).upper()
    return SimResponse.json({"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": "" if code == SUCCESS else msg,
                             "log_id": log_id, "data": data if data is not None else {}})


def _legacy_md5(app_key: str, secret: str, method: str, body: str, timestamp: str, v: str) -> str:
    text = f"app_key{app_key}method{method}param_json{body}timestamp{timestamp}v{v}"
    # The legacy sign method Doudian still accepts (to be retired), not our choice of hash.
    return hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest()


class DoudianRoutes(RouteState):
    """Route handlers of Doudian; mixed into :class:`~omniplug_douyin.simulator.DouyinSimulator`."""

    shop_tokens: TokenBook
    shop_app_key: str
    shop_app_secret: str
    max_skew: timedelta

    def doudian_call(self, req: SimRequest) -> SimResponse:
        """Check a Doudian request and dispatch on ``method``."""
        q = req.query
        method = req.path.strip("/").replace("/", ".")
        body = req.body.decode("utf-8") if req.body else "{}"
        try:
            self._check_request(q, method, body)
            fault = self._take_fault("shop")
            if fault is not None:
                raise _Refused(fault[0], "isp.service-error:256" if fault[0] == 20000 else "", fault[1])
            try:
                params = json.loads(body)
            except json.JSONDecodeError:
                raise _Refused(40003, "isv.parameter-format-invalid", "业务参数json解析失败") from None
            handler = {"order.searchList": self._search_list, "order.batchDecrypt": self._batch_decrypt,
                       "token.refresh": self._token_refresh}.get(method)
            if handler is None:
                raise _Refused(70000, "isp.api-service-off", "API不存在或API已下线")
            return doudian_reply(self.clock, handler(params))
        except _Refused as err:
            return doudian_reply(self.clock, code=err.code, sub_code=err.sub_code, msg=err.msg)

    def _check_request(self, q: dict[str, str], method: str, body: str) -> None:
        if q.get("app_key") != self.shop_app_key:
            raise _Refused(40003, "isv.app-id-invalid", "认证失败，app_key不正确")
        if q.get("method") != method:
            raise _Refused(40003, "isv.parameter-invalid", f"method {q.get('method')!r} does not match the path")
        if not q.get("sign"):
            raise _Refused(40001, "isv.signature-missing", "获取签名失败")
        args = (self.shop_app_key, self.shop_app_secret, method, body, q.get("timestamp", ""), q.get("v", ""))
        scheme = q.get("sign_method", "md5")
        expected = sign(*args) if scheme == "hmac-sha256" else _legacy_md5(*args) if scheme == "md5" else None
        if expected is None or not secrets.compare_digest(expected, q["sign"]):
            raise _Refused(40003, "isv.signature-invalid", "签名校验失败")
        try:
            stamp = datetime.strptime(q.get("timestamp", ""), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA_TZ)
        except ValueError:
            raise _Refused(40003, "isv.timestamp-format-error", "时间戳格式错误") from None
        if abs(stamp - self.clock.now()) > self.max_skew:
            raise _Refused(40003, "isv.timestamp-invalid", "时间戳不合法")
        if method in _TOKEN_METHODS:
            return
        status = self.shop_tokens.check(q.get("access_token"))
        if status == "missing":
            raise _Refused(40001, "isv.access-token-missing", "认证失败，access_token不能为空")
        if status == "unknown":
            raise _Refused(40003, "isv.access-token-no-existed", "access_token不存在，请使用最新的access_token访问")
        if status == "expired":
            raise _Refused(40003, "isv.access-token-expired", "access_token已过期")

    def _search_list(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            start, end = int(p["create_time_start"]), int(p["create_time_end"])
            page, size = int(p.get("page", 0)), int(p.get("size", 10))
        except (KeyError, TypeError, ValueError):
            raise _Refused(40004, "isv.parameter-invalid",
                           "参数错误: create_time_start/create_time_end/page/size") from None
        if page < 0 or not 1 <= size <= 100:
            raise _Refused(40004, "isv.parameter-invalid", "参数错误: page >= 0, size 1..100")
        matching = [o for o in self.view.shop_orders if start <= o["create_time"] < end]
        chunk = self._corrupt("shop_orders", json.loads(json.dumps(matching[page * size: (page + 1) * size])))
        return {"shop_order_list": chunk, "page": page, "size": size, "total": len(matching)}

    def _batch_decrypt(self, p: dict[str, Any]) -> dict[str, Any]:
        infos = p.get("cipher_infos")
        if not isinstance(infos, list) or not 1 <= len(infos) <= 50:
            raise _Refused(40004, "isv.parameter-invalid", "cipher_infos: 1..50 items")
        out = []
        for info in infos:
            plain = self.view.ciphers.get(str(info.get("cipher_text")))
            out.append({"auth_id": info.get("auth_id"), "cipher_text": info.get("cipher_text"),
                        "decrypt_text": plain or "", "err_no": 0 if plain else 300008,
                        "err_msg": "" if plain else "解密失败"})
        return {"decrypt_infos": out, "custom_err": {"err_code": 0, "err_msg": ""}}

    def _token_refresh(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("grant_type") != "refresh_token":
            raise _Refused(50001, "dop.token-generate-failed:grant-type-invalid", "grant_type参数取值不正确")
        issued = self.shop_tokens.refresh(p.get("refresh_token"))
        if not isinstance(issued, Issued):
            sub = "token-expired" if issued == "expired" else "token-invalid"
            reason = "已过期" if sub == "token-expired" else "不存在"
            raise _Refused(50001, f"dop.token-generate-failed:{sub}", f"生成token失败，token{reason}")
        return {"access_token": issued.access_token, "expires_in": issued.expires_in,
                "refresh_token": issued.refresh_token, "scope": "SCOPE", "shop_id": 4463798,
                "shop_name": "Lumière官方旗舰店"}

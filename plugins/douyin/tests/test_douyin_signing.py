"""Doudian's HMAC-SHA256 signature: the worked vector, and the simulator's check of it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
from omniplug_douyin.config import DouyinConfig
from omniplug_douyin.doudian import param_json, sign
from omniplug_douyin.simulator import DouyinSimulator

from omniplug.fields import CHINA_TZ


def test_the_worked_vector_of_platforms_md() -> None:
    """platforms.md §3.6: key 1234567890, secret 'secret', order.searchList, {"page":0,"size":10}."""
    body = param_json({"size": 10, "page": 0})
    assert body == '{"page":0,"size":10}'  # keys sorted, no spaces
    assert sign("1234567890", "secret", "order.searchList", body, "2024-01-01 12:00:00", "2") == (
        "4f8926fa39f30d04c0d267424b884ac668f2c6bf720ae450161467763063621d")


def _call(sim: DouyinSimulator, config: DouyinConfig, body: str, *, sign_body: str | None = None,
          method: str = "hmac-sha256", stamp: str | None = None) -> dict[str, Any]:
    stamp = stamp or sim.clock.now().astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")
    key, secret = config.shop_app_key or "", config.shop_app_secret.get_secret_value()  # type: ignore[union-attr]
    signature = sign(key, secret, "order.searchList", sign_body or body, stamp)
    if method == "md5":
        import hashlib

        text = f"app_key{key}methodorder.searchListparam_json{body}timestamp{stamp}v2"
        signature = hashlib.md5(f"{secret}{text}{secret}".encode()).hexdigest()
    return httpx.post(f"{sim.base_url}/order/searchList", content=body.encode(), params={
        "app_key": key, "method": "order.searchList", "timestamp": stamp, "v": "2", "sign_method": method,
        "sign": signature, "access_token": config.shop_access_token.get_secret_value()},  # type: ignore[union-attr]
        headers={"Content-Type": "application/json"}).json()


def test_the_simulator_verifies_the_signature_over_the_raw_body(sim: DouyinSimulator, config: DouyinConfig) -> None:
    """A correct signature passes; a body changed after signing, or a stale timestamp, is refused."""
    body = param_json({"create_time_start": 0, "create_time_end": 2_000_000_000, "page": 0, "size": 5})
    ok = _call(sim, config, body)
    assert ok["code"] == 10000 and len(ok["data"]["shop_order_list"]) == 5
    assert _call(sim, config, body, method="md5")["code"] == 10000  # the legacy sign method
    tampered = _call(sim, config, body.replace('"size":5', '"size":6'), sign_body=body)
    assert (tampered["code"], tampered["sub_code"]) == (40003, "isv.signature-invalid")
    stale = _call(sim, config, body, stamp=datetime(2026, 1, 1, tzinfo=CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"))
    assert (stale["code"], stale["sub_code"]) == (40003, "isv.timestamp-invalid")
    assert json.loads(json.dumps(ok))["data"]["shop_order_list"][0]["encrypt_post_tel"].startswith("$")

"""Doudian (抖店), the Douyin shop: signing, envelopes, token refresh, orders.

Every call is ``POST /<method with dots as slashes>`` with the query
``app_key, method, access_token, timestamp, v=2, sign_method=hmac-sha256,
sign`` and the business parameters as compact JSON (keys sorted) in the
body. The signature is HMAC-SHA256, keyed with the app secret, of
``secret + "app_key" K "method" M "param_json" P "timestamp" T "v" V + secret``
(lower-case hex); ``access_token`` is not signed. Success is ``code`` 10000.

Receiver phones come encrypted (``encrypt_post_tel``); each page's
ciphertexts are decrypted with ``order.batchDecrypt`` and the plaintext is
kept in the raw record as ``post_tel`` until normalise hashes it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.errors import (
    AuthError,
    InvalidInputError,
    PlatformError,
    SignatureError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.fields import epoch_to_utc, exact_id, fen_to_yuan, phone_sha256
from omniplug.http import Page, PlatformClient, RequestSpec
from omniplug.tokens import TokenSet
from omniplug_douyin.common import (
    PLATFORM,
    china_time,
    numbered_phase,
    resume_window,
    walk_phases,
)

__all__ = [
    "PAGE_SIZE",
    "SUCCESS",
    "call",
    "classify",
    "fetch_shop_orders",
    "make_prepare",
    "make_refresh",
    "map_shop_order",
    "param_json",
    "sign",
]

SUCCESS = 10000
#: Orders per page (order.searchList allows up to 100; batchDecrypt takes 50 ciphertexts).
PAGE_SIZE = 50
DECRYPT_BATCH = 50
SIGN_METHOD = "hmac-sha256"
#: Doudian order_status: 2 备货中, 3 已发货, 5 已完成 are paid; 4 已取消 is cancelled (or refunded).
PAID_STATUSES = frozenset({2, 3, 5})
CANCELLED_STATUS = 4
#: after_sale_info.refund_status 3: 退款成功.
REFUND_SUCCEEDED = 3
_TRANSIENT = frozenset({20000, 20001})
_AUTH = frozenset({30001, 30002, 40001, 50001})
_EXPIRED_SUBCODES = ("isv.access-token-expired", "isv.access-token-no-existed")


def param_json(params: dict[str, Any]) -> str:
    """Business parameters as Doudian signs and sends them: compact JSON, keys sorted."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sign(app_key: str, secret: str, method: str, params_json: str, timestamp: str, v: str = "2") -> str:
    """The Doudian HMAC-SHA256 signature (lower-case hex)."""
    text = f"app_key{app_key}method{method}param_json{params_json}timestamp{timestamp}v{v}"
    return hmac.new(secret.encode(), f"{secret}{text}{secret}".encode(), hashlib.sha256).hexdigest()


def _method_of(path: str) -> str:
    return path.split("?", 1)[0].strip("/").replace("/", ".")


def make_prepare(
    app_key: str, secret: str, now: Callable[[], datetime]
) -> Callable[[RequestSpec, TokenSet | None], RequestSpec]:
    """A ``prepare`` that stamps and signs every attempt afresh (the method comes from the path)."""

    def prepare(spec: RequestSpec, token: TokenSet | None) -> RequestSpec:
        body = (spec.content or b"{}").decode("utf-8")
        stamp = china_time(now())
        method = _method_of(spec.url)
        params: dict[str, Any] = {"app_key": app_key, "method": method, "timestamp": stamp, "v": "2",
                                  "sign_method": SIGN_METHOD, "sign": sign(app_key, secret, method, body, stamp)}
        if token is not None:
            params["access_token"] = token.access_token.get_secret_value()
        spec.params = params
        spec.headers = {**(spec.headers or {}), "Content-Type": "application/json"}
        return spec

    return prepare


def classify(response: httpx.Response) -> PlatformError | None:
    """Map Doudian's ``{code, msg, sub_code, sub_msg}`` onto omniplug's error classes."""
    if response.status_code >= 400 or "json" not in response.headers.get("content-type", ""):
        return None
    body = response.json()
    if not isinstance(body, dict) or body.get("code") in (SUCCESS, None):
        return None
    code, sub = int(body["code"]), str(body.get("sub_code") or "")
    text = (f"Doudian error {code} {sub}: {body.get('msg', '')} {body.get('sub_msg', '')} "
            f"(log_id {body.get('log_id', '?')})")
    if code == 60000:
        return ThrottledError(text, platform=PLATFORM, code=code)
    if code in _TRANSIENT:
        return TransientError(text, platform=PLATFORM, code=code)
    if sub.startswith("isv.signature"):
        return SignatureError(f"{text}: Doudian refused the HMAC-SHA256 signature check; check shop_app_key and "
                              "shop_app_secret in [platforms.douyin]", platform=PLATFORM, code=code)
    if sub.startswith(_EXPIRED_SUBCODES):
        return TokenExpiredError(text, platform=PLATFORM, code=code)
    if sub.startswith("isv.timestamp"):
        return PlatformError(f"{text}: the request timestamp was refused; check this machine's clock",
                             platform=PLATFORM, code=code)
    if code in _AUTH or sub.startswith(("isv.access-token", "isv.app-")):
        return AuthError(f"{text}: re-authorise the shop and update shop_access_token/shop_refresh_token",
                         platform=PLATFORM, code=code)
    return PlatformError(text, platform=PLATFORM, code=code)


def call(http: PlatformClient, method: str, params: dict[str, Any]) -> dict[str, Any]:
    """Call a Doudian method and return its ``data`` object."""
    body = http.request_json("POST", "/" + method.replace(".", "/"), content=param_json(params).encode("utf-8"))
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise PlatformError(f"Doudian {method} answered without a data object", platform=PLATFORM)
    return data


def make_refresh(http: PlatformClient, now: Callable[[], datetime]) -> Callable[[TokenSet], TokenSet]:
    """The refresh call: ``token.refresh`` (signed, no access token); the refresh token rotates."""

    def refresh(stale: TokenSet) -> TokenSet:
        if stale.refresh_token is None:
            raise AuthError("douyin: the Doudian access token expired and no shop_refresh_token is configured; "
                            "re-authorise the shop", platform=PLATFORM)
        data = call(http, "token.refresh", {"grant_type": "refresh_token",
                                            "refresh_token": stale.refresh_token.get_secret_value()})
        return TokenSet(access_token=data["access_token"], refresh_token=data["refresh_token"],
                        expires_at=now() + timedelta(seconds=int(data["expires_in"])),
                        extra={"shop_id": str(data.get("shop_id", ""))})

    return refresh


def _decrypt_phones(http: PlatformClient, orders: list[dict[str, Any]]) -> None:
    """Fill ``post_tel`` of each order from ``encrypt_post_tel`` via ``order.batchDecrypt``."""
    ciphers = [{"auth_id": str(o["order_id"]), "cipher_text": o["encrypt_post_tel"]}
               for o in orders if o.get("encrypt_post_tel")]
    plain: dict[str, str] = {}
    for i in range(0, len(ciphers), DECRYPT_BATCH):
        data = call(http, "order.batchDecrypt", {"cipher_infos": ciphers[i:i + DECRYPT_BATCH]})
        for info in data.get("decrypt_infos") or []:
            if int(info.get("err_no") or 0) == 0 and info.get("decrypt_text"):
                plain[str(info["auth_id"])] = info["decrypt_text"]
    for order in orders:
        order["post_tel"] = plain.get(str(order["order_id"]))


def fetch_shop_orders(ctx: FetchContext, http: PlatformClient, initial_days: int) -> Iterator[pa.RecordBatch]:
    """Shop orders created in the window, page by page (``order.searchList``), phones decrypted."""
    window, position = resume_window(ctx, initial_days=initial_days)

    def fetch_page(page_no: int) -> Page[dict[str, Any]]:
        data = call(http, "order.searchList", {
            "create_time_start": int(window.start.timestamp()), "create_time_end": int(window.end.timestamp()),
            "order_by": "create_time", "order_asc": True, "page": page_no - 1, "size": PAGE_SIZE})
        orders = list(data.get("shop_order_list") or [])
        _decrypt_phones(http, orders)
        return Page(items=orders, total=int(data.get("total", 0)))

    phases = [] if window.empty else [("orders", numbered_phase(fetch_page))]
    yield from walk_phases(phases, position, base=window.cursor(), final={"watermark": window.end.isoformat()})


def _status(rec: dict[str, Any]) -> str:
    status = int(rec["order_status"])
    refund = int((rec.get("after_sale_info") or {}).get("refund_status") or 0)
    if refund == REFUND_SUCCEEDED:
        return "refunded"
    if status == CANCELLED_STATUS:
        return "cancelled"
    if status in PAID_STATUSES:
        return "paid"
    raise InvalidInputError(f"order_status {status} ({rec.get('order_status_desc', '')}) is not a paid, "
                            "cancelled or refunded order")


def map_shop_order(rec: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One shop order -> its order row, its sku rows and the buyer's open_id <-> phone hash link."""
    order_id = exact_id(rec["order_id"])
    at = epoch_to_utc(rec["create_time"], unit="s")
    buyer = rec["doudian_open_id"]
    out: dict[str, list[dict[str, Any]]] = {
        "orders": [{"order_id": order_id, "platform": PLATFORM, "id_type": "douyin_openid", "id_value": buyer,
                    "order_time": at, "amount": fen_to_yuan(rec["pay_amount"]), "currency": "CNY",
                    "status": _status(rec)}],
        "order_items": [{"order_id": order_id, "platform": PLATFORM, "line_id": exact_id(sku["order_id"]),
                         "product_id": exact_id(sku["product_id"]), "quantity": int(sku["item_num"]),
                         "amount": fen_to_yuan(sku["pay_amount"])} for sku in rec.get("sku_order_list") or []],
        "identity_links": [],
    }
    hashed = phone_sha256(rec.get("post_tel"))
    if hashed is not None:
        out["identity_links"].append({"platform": PLATFORM, "left_type": "douyin_openid", "left_value": buyer,
                                      "right_type": "phone_sha256", "right_value": hashed, "observed_at": at})
    return out

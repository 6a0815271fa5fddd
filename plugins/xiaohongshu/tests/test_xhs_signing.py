"""Ark request signing: the worked vector, and what the prepare hook puts on every attempt."""

from __future__ import annotations

from datetime import UTC, datetime

from omniplug_xiaohongshu.client import (
    ARK_VERSION,
    ark_sign,
    make_ark_prepare,
    make_jg_prepare,
)

from omniplug.http import RequestSpec
from omniplug.tokens import TokenSet


def test_ark_sign_reproduces_the_worked_vector() -> None:
    """platforms.md §4.3 vector (computed there by hand; the official doc prints only the digest prefix)."""
    assert ark_sign("order.getOrderList", "abc123", 1612518379, "2.0", "xyz789") == "f6bfdff561aebe03cb0b52a945246660"


def test_ark_sign_covers_only_the_four_system_parameters() -> None:
    """Changing the secret or the timestamp changes the sign; it is lower-case hex."""
    base = ark_sign("order.getOrderList", "abc123", 1612518379, "2.0", "xyz789")
    assert base == base.lower() and len(base) == 32
    assert ark_sign("order.getOrderList", "abc123", 1612518380, "2.0", "xyz789") != base
    assert ark_sign("order.getOrderList", "abc123", 1612518379, "2.0", "xyz788") != base


def test_ark_prepare_stamps_signs_and_authorises_each_attempt() -> None:
    """Seconds timestamp from the clock, the sign over it, accessToken unsigned, business fields kept."""
    now = datetime(2021, 2, 5, 9, 46, 19, tzinfo=UTC)  # 1612518379
    prepare = make_ark_prepare("abc123", "xyz789", "token-1", lambda: now)
    spec = prepare(RequestSpec("POST", "/ark", json={"method": "order.getOrderList", "pageNo": 2}), None)
    assert spec.json == {"method": "order.getOrderList", "pageNo": 2, "appId": "abc123", "timestamp": 1612518379,
                         "version": ARK_VERSION, "sign": "f6bfdff561aebe03cb0b52a945246660",
                         "accessToken": "token-1"}


def test_juguang_prepare_sets_the_access_token_header() -> None:
    """``Access-Token`` on Juguang; Pugongying switches to ``Authorization: Bearer`` when configured."""
    token = TokenSet(access_token="at-1")
    jg = make_jg_prepare("Access-Token")(RequestSpec("POST", "/api/open/jg/x"), token)
    assert jg.headers == {"Access-Token": "at-1"}
    bearer = make_jg_prepare("Bearer")
    spec = RequestSpec("POST", "/api/open/pgy/note/post/data")
    assert bearer(spec, token).headers == {"Authorization": "Bearer at-1"}
    assert bearer(RequestSpec("POST", "/api/open/jg/x"), token).headers == {"Access-Token": "at-1"}

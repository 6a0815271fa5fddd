"""The three HTTP clients of the plugin, each with its auth, error mapping and token refresh.

Every gateway keeps its own token set in the state database under the
platform ``douyin``: Ocean Engine under the config's ``account``, the open
platform under ``<account>#open`` and Doudian under ``<account>#shop``. The
configured tokens are the initial authorisation; refreshed (and, for Ocean
Engine and Doudian, rotated) tokens are saved there before first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from pydantic import SecretStr

from omniplug.context import FetchContext
from omniplug.http import PlatformClient, TokenManager
from omniplug.tokens import TokenSet
from omniplug_douyin import doudian, ocean, open_platform
from omniplug_douyin.common import PLATFORM, now_of
from omniplug_douyin.config import DouyinConfig

__all__ = [
    "OPEN_ACCOUNT",
    "SHOP_ACCOUNT",
    "ocean_client",
    "open_client",
    "retry_waits",
    "shop_client",
    "token_account",
]

OPEN_ACCOUNT = "open"
SHOP_ACCOUNT = "shop"

# How retry waits are performed; tests swap in a simulator clock's sleep.
_sleepers: list[Callable[[float], Any]] = [time.sleep]


@contextmanager
def retry_waits(sleep: Callable[[float], Any]) -> Iterator[None]:
    """Inside the block, clients built by this plugin wait between retries with ``sleep``.

    Tests pass ``simulator.clock.sleep`` so a throttling ban passes in
    simulated time, instantly.
    """
    _sleepers.append(sleep)
    try:
        yield
    finally:
        _sleepers.remove(sleep)


def _sleep(seconds: float) -> None:
    _sleepers[-1](seconds)


def token_account(cfg: DouyinConfig, gateway: str | None = None) -> str:
    """Token-store account of one gateway (``None``: Ocean Engine)."""
    return cfg.account if gateway is None else f"{cfg.account}#{gateway}"


def _manager(ctx: FetchContext, account: str, access: SecretStr, refresh_token: SecretStr | None,
             refresh: Callable[[TokenSet], TokenSet]) -> TokenManager:
    if ctx.tokens.get_token(PLATFORM, account) is None:
        # The configured tokens are the initial authorisation; rotated ones
        # live in the state database from then on.
        ctx.tokens.put_token(PLATFORM, TokenSet(access_token=access, refresh_token=refresh_token), account)
    return TokenManager(PLATFORM, ctx.tokens, refresh, account=account, clock=partial(now_of, ctx))


def ocean_client(ctx: FetchContext) -> PlatformClient:
    """The Ocean Engine (and Xingtu) client: ``Access-Token`` header, rotating refresh."""
    cfg: DouyinConfig = ctx.config  # type: ignore[assignment]
    classify = ocean.make_classify(cfg.ocean_token_expired_codes, cfg.throttle_wait_seconds)
    plain = ctx.make_client(base_url=cfg.ocean_url, classify=classify, sleep=_sleep)
    refresh = ocean.make_refresh(plain, cfg.app_id, cfg.secret.get_secret_value(), partial(now_of, ctx))
    manager = _manager(ctx, token_account(cfg), cfg.access_token, cfg.refresh_token, refresh)
    return ctx.make_client(base_url=cfg.ocean_url, classify=classify, prepare=ocean.prepare,
                           token_manager=manager, sleep=_sleep)


def open_client(ctx: FetchContext) -> PlatformClient:
    """The Douyin open platform client: ``access-token`` header, refresh without rotation."""
    cfg: DouyinConfig = ctx.config  # type: ignore[assignment]
    cfg.require("identities", "client_key", "client_secret", "open_access_token", "open_id")
    assert cfg.client_key is not None and cfg.client_secret is not None and cfg.open_access_token is not None
    plain = ctx.make_client(base_url=cfg.open_base_url, classify=open_platform.classify, sleep=_sleep)
    refresh = open_platform.make_refresh(plain, cfg.client_key, partial(now_of, ctx))
    manager = _manager(ctx, token_account(cfg, OPEN_ACCOUNT), cfg.open_access_token, cfg.open_refresh_token, refresh)
    return ctx.make_client(base_url=cfg.open_base_url, classify=open_platform.classify,
                           prepare=open_platform.prepare, token_manager=manager, sleep=_sleep)


def shop_client(ctx: FetchContext) -> PlatformClient:
    """The Doudian client: HMAC-SHA256 signed on every attempt, rotating refresh."""
    cfg: DouyinConfig = ctx.config  # type: ignore[assignment]
    cfg.require("shop_orders", "shop_app_key", "shop_app_secret", "shop_access_token")
    assert cfg.shop_app_key is not None and cfg.shop_app_secret is not None and cfg.shop_access_token is not None
    secret = cfg.shop_app_secret.get_secret_value()
    now = partial(now_of, ctx)  # the context's clock, read at each call
    plain = ctx.make_client(base_url=cfg.shop_base_url, classify=doudian.classify,
                            prepare=doudian.make_prepare(cfg.shop_app_key, secret, now), sleep=_sleep)
    refresh = doudian.make_refresh(plain, now)
    manager = _manager(ctx, token_account(cfg, SHOP_ACCOUNT), cfg.shop_access_token, cfg.shop_refresh_token, refresh)
    return ctx.make_client(base_url=cfg.shop_base_url, classify=doudian.classify,
                           prepare=doudian.make_prepare(cfg.shop_app_key, secret, now),
                           token_manager=manager, sleep=_sleep)

"""The Tmall plugin: streams, the signed TOP client and the dispatch to fetch and normalise."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping

import pyarrow as pa

from omniplug.context import FetchContext
from omniplug.http import PlatformClient, TokenManager
from omniplug.platform import PlatformPlugin, StreamSpec
from omniplug.tokens import TokenSet
from omniplug_tmall import client, export, normalise
from omniplug_tmall.config import TmallConfig
from omniplug_tmall.simulator import TmallSimulator
from omniplug_tmall.streams import FETCHERS, Env

__all__ = ["TmallConfig", "TmallPlugin"]

_T = normalise.TABLES


def _seed_tag(session: str) -> str:
    """A short digest naming which configured session seeded the stored tokens (not the token itself)."""
    return hashlib.sha256(session.encode("utf-8")).hexdigest()[:16]


class TmallPlugin(PlatformPlugin):
    """Tmall / Taobao Open Platform: trades, CRM members, Alimama spend and creatives, items, Databank touches."""

    name = "tmall"
    config_model = TmallConfig
    streams = (
        StreamSpec("orders", tables=_T["orders"], read_export=export.read_orders,
                   cursor="creation-time windows + page, then modification time (1-day windows, last page first)",
                   description="trades: taobao.trades.sold.get, then taobao.trades.sold.increment.get"),
        StreamSpec("members", tables=_T["members"], read_export=export.read_members,
                   cursor="modification-time windows + page",
                   description="CRM members: ouid <-> phone hash and ouid <-> omid links"),
        StreamSpec("ad_reports", tables=_T["ad_reports"], read_export=export.read_ad_reports,
                   cursor="report days + page", description="Alimama daily spend by campaign and creative"),
        StreamSpec("touchpoints", tables=_T["touchpoints"], read_export=export.read_touchpoints,
                   cursor="touch-time windows + page", description="Databank user-level touches (export or API)"),
        StreamSpec("products", tables=_T["products"], cursor="full listing, resumable by page",
                   description="items on sale: taobao.items.onsale.get + taobao.itemcats.get"),
        StreamSpec("materials", tables=_T["materials"], cursor="full listing, resumable by page",
                   description="Alimama creatives with their media URLs"),
    )
    simulator = TmallSimulator

    def create_client(self, ctx: FetchContext) -> PlatformClient:
        """A client that signs every attempt afresh and refreshes the session when TOP says code 27."""
        cfg: TmallConfig = ctx.config  # type: ignore[assignment]
        now = ctx.now or client.utc_now
        secret = cfg.app_secret.get_secret_value()
        tag = _seed_tag(cfg.session.get_secret_value())
        stored = ctx.tokens.get_token(self.name, cfg.account)
        if stored is None or stored.extra.get("seeded_from") != tag:
            # First use of this configured session (or the user re-authorised and
            # configured a new one): it replaces whatever the state database holds.
            # Refreshed sessions live only in the state database from then on.
            ctx.tokens.put_token(self.name, TokenSet(access_token=cfg.session, refresh_token=cfg.refresh_token,
                                                     extra={"seeded_from": tag}), cfg.account)
        refresh = client.make_refresh(cfg.oauth_url, cfg.app_key, secret, timeout=cfg.timeout_seconds, now=now)
        manager = TokenManager(self.name, ctx.tokens, refresh, account=cfg.account, clock=now)
        return ctx.make_client(
            classify=client.classify,
            prepare=client.make_prepare(cfg.app_key, secret, cfg.sign_method, now),
            token_manager=manager,
            sleep=client.clock_sleep(ctx.now),
        )

    def fetch(self, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        """Yield one raw batch per page of ``stream``, each carrying the cursor that resumes after it."""
        return FETCHERS[stream](Env(ctx))

    def normalise(self, stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
        """See :mod:`omniplug_tmall.normalise`."""
        return normalise.normalise(stream, batch)

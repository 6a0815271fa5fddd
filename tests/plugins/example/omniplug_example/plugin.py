"""The Example Mall plugin: configuration, streams and the fetch loop."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from pydantic import SecretStr

from omniplug.config import PlatformConfig
from omniplug.context import FetchContext
from omniplug.cursor import with_cursor
from omniplug.fields import CHINA_TZ
from omniplug.http import CursorPage, Page, PlatformClient, TokenManager, paginate_cursor, paginate_pages
from omniplug.platform import PlatformPlugin, StreamSpec
from omniplug.rowmap import records_batch
from omniplug.tokens import TokenSet
from omniplug_example import client, normalise
from omniplug_example.simulator import ExampleSimulator

PAGE_SIZE = 50


class ExampleConfig(PlatformConfig):
    """``[platforms.example]``: the app's credentials and the shop's authorisation."""

    base_url: str = "https://gw.example-mall.invalid"
    app_key: str
    app_secret: SecretStr
    session: SecretStr
    refresh_token: SecretStr | None = None
    initial_days: int = 30


def _fmt(dt: datetime) -> str:
    return dt.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S")


class ExamplePlugin(PlatformPlugin):
    """Example Mall: a toy TOP-like shop API (orders by window and page, events by cursor)."""

    name = "example"
    config_model = ExampleConfig
    identifier_types = ("example_uid",)
    streams = (
        StreamSpec("orders", tables=("orders", "order_items", "identity_links"), cursor="created time window + page",
                   description="trades by creation time"),
        StreamSpec("events", tables=("touchpoints",), cursor="opaque cursor", description="ad events"),
    )
    simulator = ExampleSimulator

    def create_client(self, ctx: FetchContext) -> PlatformClient:
        """A client that signs each attempt and refreshes the rotating session token."""
        cfg: ExampleConfig = ctx.config  # type: ignore[assignment]
        now = ctx.now or client.utc_now
        secret = cfg.app_secret.get_secret_value()
        if ctx.tokens.get_token(self.name, cfg.account) is None:
            # The configured session is the initial authorisation; rotated
            # tokens live in the state database from then on.
            ctx.tokens.put_token(self.name, TokenSet(access_token=cfg.session, refresh_token=cfg.refresh_token),
                                 cfg.account)
        manager = TokenManager(self.name, ctx.tokens, client.make_refresh(cfg.base_url, cfg.app_key, secret, now),
                               account=cfg.account, clock=now)
        return ctx.make_client(
            classify=client.classify,
            prepare=client.make_prepare(cfg.app_key, secret, now),
            token_manager=manager,
        )

    def fetch(self, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        """Yield one raw batch per page, each carrying the cursor to resume after it."""
        if stream == "orders":
            return self._orders(ctx)
        return self._events(ctx)

    def normalise(self, stream: str, batch: pa.RecordBatch) -> Mapping[str, pa.Table]:
        """See :mod:`omniplug_example.normalise`."""
        return normalise.normalise(stream, batch)

    def _orders(self, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        cfg: ExampleConfig = ctx.config  # type: ignore[assignment]
        now = (ctx.now or client.utc_now)()
        cursor: dict[str, Any] = ctx.cursor or {}
        if ctx.since is not None:
            start, end, first_page, collected = ctx.since, ctx.until or now, 1, 0
        elif "window_start" in cursor:  # interrupted inside a window: finish it
            start = datetime.fromisoformat(cursor["window_start"])
            end = datetime.fromisoformat(cursor["window_end"])
            first_page, collected = cursor["next_page"], cursor["collected"]
        else:
            start = datetime.fromisoformat(cursor["watermark"]) if "watermark" in cursor else now - timedelta(
                days=cfg.initial_days)
            end, first_page, collected = now, 1, 0
        window = {"window_start": start.isoformat(), "window_end": end.isoformat()}

        def fetch_page(page_no: int) -> Page[dict[str, Any]]:
            body = ctx.http.request_json("GET", "/router/rest", params={
                "method": "example.orders.get", "page_no": page_no, "page_size": PAGE_SIZE,
                "start_created": _fmt(start), "end_created": _fmt(end)})["orders_get_response"]
            return Page(items=body["orders"]["order"], has_next=body["has_next"], total=body["total_results"])

        task = ctx.progress.task("example/orders pages", unit="pages")
        pages = paginate_pages(fetch_page, first_page=first_page, collected=collected, platform=self.name)
        for page in pages:
            task.advance()
            resume = {**window, "next_page": page.next_page_no, "collected": page.collected}
            yield with_cursor(_batch(page.items), resume)
        # The window is complete: the next run starts where this one ended.
        yield with_cursor(_batch([]), {"watermark": end.isoformat()})

    def _events(self, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        start = (ctx.cursor or {}).get("cursor")

        def fetch(cursor: str | None) -> CursorPage[dict[str, Any]]:
            params = {"count": 100, **({"cursor": cursor} if cursor else {})}
            data = ctx.http.request_json("GET", "/api/events", params=params)["data"]
            return CursorPage(items=data["list"], next_cursor=data["cursor"], has_more=data["has_more"])

        for page in paginate_cursor(fetch, start=start, platform=self.name):
            yield with_cursor(_batch(page.items), {"cursor": page.next_cursor})


def _batch(items: list[dict[str, Any]]) -> pa.RecordBatch:
    """Raw records as one batch (field names kept, mixed-type fields as text)."""
    return records_batch(items)

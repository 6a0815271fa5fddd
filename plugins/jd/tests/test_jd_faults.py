"""Faults over real HTTP: throttling, server errors, apiResult failures, tokens, signatures, bad records."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from omniplug_jd.client import call
from omniplug_jd.plugin import JdConfig, JdPlugin
from omniplug_jd.sim_api import ORDER_SEARCH
from omniplug_jd.simulator import APP_SECRET, JdSimulator

from omniplug.context import FetchContext
from omniplug.errors import PlatformError, SignatureError, ThrottledError
from omniplug.plugins import PluginRegistry
from omniplug.state import StateStore
from omniplug.world import World

Sync = Callable[..., Any]
Gateway = Callable[[JdSimulator], list[Any]]


def test_per_second_limit_waits_the_named_time_then_goes_on(
        sync: Sync, simulator: JdSimulator, gateway: Gateway, tmp_path: Path) -> None:
    simulator.throttle_next(2, wait_seconds=3)
    before = simulator.clock.now()
    result = sync("orders", tmp_path)
    assert result.rows["orders"] == 40
    # Two code-2 answers, each waited out on the simulated clock, then the page.
    assert len(gateway(simulator)) == 3
    assert simulator.clock.now() - before >= timedelta(seconds=6)


def test_daily_quota_fails_fast_with_a_clear_message(
        sync: Sync, simulator: JdSimulator, gateway: Gateway, tmp_path: Path) -> None:
    simulator.throttle_next(1)
    with pytest.raises(ThrottledError) as caught:
        sync("orders", tmp_path)
    message = str(caught.value)
    assert message.startswith("jd: ") and "daily call quota" in message and "max_single_wait" in message
    assert not caught.value.retryable
    assert len(gateway(simulator)) == 1


def test_server_errors_and_dropped_connections_are_retried(
        sync: Sync, simulator: JdSimulator, gateway: Gateway, tmp_path: Path) -> None:
    simulator.faults.inject("status", status=503, path="/routerjson")
    simulator.faults.inject("drop", path="/routerjson")
    result = sync("orders", tmp_path)
    assert result.rows["orders"] == 40 and result.rows["order_items"] == 84
    assert [r.status for r in gateway(simulator)] == [503, None, 200]


def test_api_result_busy_is_retried(sync: Sync, simulator: JdSimulator, gateway: Gateway, tmp_path: Path) -> None:
    simulator.fail_next_search(2)
    assert sync("orders", tmp_path).rows["orders"] == 40
    assert len(gateway(simulator)) == 3


def test_page_size_above_the_cap_is_refused_once(
        sync: Sync, simulator: JdSimulator, platform_config: JdConfig, gateway: Gateway, tmp_path: Path) -> None:
    too_big = platform_config.model_copy(update={"page_size_cap": 100})
    with pytest.raises(PlatformError) as caught:
        sync("orders", tmp_path, config=too_big)
    assert "page_size" in str(caught.value) and not caught.value.retryable
    assert len(gateway(simulator)) == 1


def _client(simulator: JdSimulator, config: JdConfig) -> FetchContext:
    return FetchContext(platform="jd", stream="orders", config=config, now=simulator.clock.now,
                        spec=JdPlugin().spec())


@pytest.mark.parametrize("args, refused", [
    ({"start_date": "2026-09-01 00:00:00", "end_date": "2026-10-15 00:00:00"}, "one month"),
    ({"start_date": "2026-10-01 00:00:00", "end_date": "2026-10-15 00:00:00", "optional_fields": ""},
     "optional_fields"),
])
def test_order_search_arguments_jd_refuses(
        simulator: JdSimulator, platform_config: JdConfig, gateway: Gateway, args: dict[str, str],
        refused: str) -> None:
    ctx = _client(simulator, platform_config)
    try:
        with pytest.raises(PlatformError) as caught:
            call(ctx.http, ORDER_SEARCH, {"optional_fields": "orderId", "page": "1", "page_size": "10", **args})
    finally:
        ctx.close()
    assert refused in str(caught.value) and not caught.value.retryable
    assert len(gateway(simulator)) == 1


def test_expired_token_is_refreshed_mid_run_and_the_rotated_one_saved(
        registry: PluginRegistry, sync: Sync, simulator: JdSimulator, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    real_fetch = registry.fetch

    def expire_after_first_page(*args: Any, **kwargs: Any) -> Iterator[pa.RecordBatch]:
        batches = real_fetch(*args, **kwargs)
        yield next(batches)
        simulator.expire_tokens()
        yield from batches

    monkeypatch.setattr(registry, "fetch", expire_after_first_page)
    result = sync("touchpoints", tmp_path)
    assert result.rows["touchpoints"] == simulator.world.slice("jd")["touchpoints"].num_rows
    refreshes = [r for r in simulator.requests if r.path == "/oauth2/refresh_token"]
    assert len(refreshes) == 1
    with StateStore.open(tmp_path) as state:
        saved = state.get_token("jd")
    assert saved is not None and saved.refresh_token is not None
    assert saved.refresh_token.get_secret_value() != simulator.initial_refresh_token
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "/oauth2/refresh_token" in logged
    for secret in (saved.access_token.get_secret_value(), saved.refresh_token.get_secret_value(), APP_SECRET):
        assert secret not in logged
    # The old refresh token stopped working: only the saved one can refresh now.
    old = httpx.get(f"{simulator.base_url}/oauth2/refresh_token", params={
        "app_key": "jd-sim-app", "app_secret": APP_SECRET, "grant_type": "refresh_token",
        "refresh_token": simulator.initial_refresh_token}).json()
    assert "access_token" not in old


def test_wrong_secret_is_one_request_and_a_signature_error(
        sync: Sync, simulator: JdSimulator, platform_config: JdConfig, gateway: Gateway, tmp_path: Path) -> None:
    wrong = JdConfig.model_validate({**platform_config.model_dump(), "app_secret": "not-the-secret"})
    with pytest.raises(SignatureError) as caught:
        sync("products", tmp_path, config=wrong)
    message = str(caught.value)
    assert message.startswith("jd: ") and "signature" in message and "app_secret" in message
    assert "not-the-secret" not in message
    assert len(gateway(simulator)) == 1


def test_clock_skew_is_refused_with_advice(
        registry: PluginRegistry, simulator: JdSimulator, platform_config: JdConfig, gateway: Gateway,
        tmp_path: Path) -> None:
    from omniplug.sync import sync_stream

    with pytest.raises(PlatformError) as caught:
        sync_stream(registry, "jd", "products", config=platform_config, out_dir=tmp_path,
                    now=lambda: simulator.clock.now() - timedelta(minutes=7))
    assert caught.value.code == "8" and "clock" in str(caught.value)
    assert len(gateway(simulator)) == 1


def test_format_params_can_be_sent_and_signed(
        sync: Sync, simulator: JdSimulator, platform_config: JdConfig, gateway: Gateway, tmp_path: Path) -> None:
    assert sync("products", tmp_path, config=platform_config.model_copy(update={"sign_format_params": True}))
    form = parse_qs(gateway(simulator)[0].body.decode())
    assert form["format"] == ["json"] and form["sign_method"] == ["md5"]


def test_malformed_order_is_rejected_and_its_page_lands(
        sync: Sync, simulator: JdSimulator, world: World, tmp_path: Path) -> None:
    assert simulator.inject_malformed("orders")
    bad = simulator.rendered.orders[0]
    result = sync("orders", tmp_path)
    assert result.rows["orders"] == 39 and result.n_rejects == 1
    assert result.rows["order_items"] == 84 - len(bad["itemInfoList"])
    reason = pq.read_table(tmp_path / "rejects.parquet").column("reason").to_pylist()[0]
    assert "orders: unmappable record" in reason and "2026-13-45" in reason

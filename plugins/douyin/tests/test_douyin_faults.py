"""Faults over real HTTP: throttling, server errors, expiring and rotating tokens, wrong secrets, bad records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from omniplug_douyin.client import retry_waits
from omniplug_douyin.config import DouyinConfig
from omniplug_douyin.simulator import DouyinSimulator
from pydantic import SecretStr

from omniplug.errors import AuthError, SignatureError
from omniplug.plugins import PluginRegistry
from omniplug.state import StateStore
from omniplug.tokens import TokenSet
from omniplug.world import World


@pytest.fixture
def waits(sim: DouyinSimulator) -> Iterator[list[float]]:
    """Retry waits the clients asked for; they pass in simulated time, instantly."""
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        sim.clock.sleep(seconds)

    with retry_waits(sleep):
        yield asked


def _after_first_batch(monkeypatch: pytest.MonkeyPatch, registry: PluginRegistry, action: Callable[[], None]) -> None:
    """Run ``action`` once the first batch of the next fetch has been stored (a mid-run event)."""
    real = registry.fetch

    def fetch(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for index, batch in enumerate(real(*args, **kwargs)):
            yield batch
            if index == 0:
                action()

    monkeypatch.setattr(registry, "fetch", fetch)


def _codes(sim: DouyinSimulator, path: str) -> list[int]:
    return [r.status or 0 for r in sim.requests if r.path == path]


def test_ocean_frequency_control_waits_then_goes_on(sim: DouyinSimulator, config: DouyinConfig, world: World,
                                                   fetch: Callable[..., Any], waits: list[float]) -> None:
    """40100 and 40110 wait the configured second (simulated) and retry; nothing is lost."""
    sim.throttle_next(1)
    sim.throttle_next(1, code=40110)
    before = sim.clock.now()
    result = fetch(sim, config, "ad_reports")
    assert waits == [1.0, 1.0]
    assert sim.clock.now() - before == timedelta(seconds=2)
    assert result.rows["spend"] == sum(1 for s in world.slice("douyin")["spend"].to_pylist() if s["channel"] == "paid")


def test_doudian_rate_limit_is_retried(sim: DouyinSimulator, config: DouyinConfig, world: World,
                                       fetch: Callable[..., Any], waits: list[float]) -> None:
    """Doudian's 60000 (触发限流) backs off and retries."""
    sim.throttle_next(2, api="shop")
    result = fetch(sim, config, "shop_orders")
    assert len(waits) == 2 and all(w > 0 for w in waits)
    assert result.rows["orders"] == world.slice("douyin")["orders"].num_rows


def test_transient_server_errors_are_retried(sim: DouyinSimulator, config: DouyinConfig, world: World,
                                             fetch: Callable[..., Any], waits: list[float]) -> None:
    """HTTP 503, a dropped connection and Ocean Engine's 50000 are retried until the page arrives."""
    path = "/open_api/v3.0/report/custom/get/"
    sim.faults.inject("status", status=503, path=path)
    sim.faults.inject("drop", path=path)
    sim.fail_next(1)
    result = fetch(sim, config, "ad_reports")
    assert len(waits) == 3
    assert 503 in _codes(sim, path) and None in [r.status for r in sim.requests if r.path == path]
    assert result.rows["spend"] == sum(1 for s in world.slice("douyin")["spend"].to_pylist() if s["channel"] == "paid")


class _RecordingStore(StateStore):
    """A state store that checks, when a token is saved, that the simulator has not yet seen it used."""

    simulator: DouyinSimulator
    saved: list[TokenSet]

    def put_token(self, platform: str, token: TokenSet, account: str = "default") -> None:
        value = token.access_token.get_secret_value()
        used = [r for r in self.simulator.requests
                if value in (r.headers.get("Access-Token"), r.query.get("access_token"))]
        assert not used, "a refreshed token was used before it was saved"
        super().put_token(platform, token, account)
        self.saved.append(token)


def test_ocean_token_expiring_mid_run_is_refreshed_and_the_rotation_saved_first(
        sim: DouyinSimulator, config: DouyinConfig, world: World, fetch: Callable[..., Any],
        registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """40102 mid-run: one refresh, the rotated pair saved before use, the old refresh token dead."""
    _after_first_batch(monkeypatch, registry, lambda: sim.expire_tokens("ocean"))
    out = tmp_path / "out"
    with _RecordingStore.open(out) as store:
        store.simulator, store.saved = sim, []
        result = fetch(sim, config, "ad_reports", out=out, state=store)
        assert result.batches >= 3 and sim.ocean_tokens.refreshes == 1
        rotated = store.get_token("douyin", "default")
    assert rotated is not None and rotated.refresh_token is not None
    assert rotated.refresh_token.get_secret_value() != sim.ocean_tokens.initial_refresh
    assert [t.access_token for t in store.saved][-1] == rotated.access_token
    assert result.rows["spend"] == sum(1 for s in world.slice("douyin")["spend"].to_pylist() if s["channel"] == "paid")
    old = httpx.post(f"{sim.base_url}/open_api/oauth2/refresh_token/", json={
        "app_id": int(config.app_id), "secret": config.secret.get_secret_value(), "grant_type": "refresh_token",
        "refresh_token": sim.ocean_tokens.initial_refresh}).json()
    assert old["code"] == 40103
    # A second run starts from the saved (rotated) tokens, not the configured ones.
    monkeypatch.undo()
    sim.clear_requests()
    fetch(sim, config, "ad_reports", out=out, window=False)
    assert {r.headers.get("Access-Token") for r in sim.requests} == {rotated.access_token.get_secret_value()}


def test_doudian_token_rotation_kills_the_old_refresh_token(
        sim: DouyinSimulator, config: DouyinConfig, world: World, fetch: Callable[..., Any],
        tmp_path: Path) -> None:
    """An expired Doudian token is refreshed through token.refresh; the old refresh token then gives 50001."""
    sim.expire_tokens("shop")
    out = tmp_path / "out"
    result = fetch(sim, config, "shop_orders", out=out)
    assert result.rows["orders"] == world.slice("douyin")["orders"].num_rows
    with StateStore.open(out) as store:
        token = store.get_token("douyin", "default#shop")
    assert token is not None and token.refresh_token is not None
    assert token.refresh_token.get_secret_value() != sim.shop_tokens.initial_refresh
    assert sim.shop_tokens.refresh(sim.shop_tokens.initial_refresh) == "unknown"


def test_open_platform_refresh_keeps_the_refresh_token(
        sim: DouyinSimulator, config: DouyinConfig, world: World, fetch: Callable[..., Any],
        registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """10008 mid-run: a new access token, the same refresh token (the open platform does not rotate)."""
    _after_first_batch(monkeypatch, registry, lambda: sim.expire_tokens("open"))
    out = tmp_path / "out"
    result = fetch(sim, config, "identities", out=out)
    assert result.rows["identity_links"] == sum(
        1 for r in world.slice("douyin")["identity_links"].to_pylist() if r["right_type"] != "phone_sha256")
    with StateStore.open(out) as store:
        token = store.get_token("douyin", "default#open")
    assert token is not None and token.refresh_token is not None
    assert token.access_token.get_secret_value() != sim.open_tokens.initial_access
    assert token.refresh_token.get_secret_value() == sim.open_tokens.initial_refresh


def test_expired_refresh_token_asks_to_reauthorise(sim: DouyinSimulator, config: DouyinConfig,
                                                   fetch: Callable[..., Any]) -> None:
    """Refreshing with an expired open-platform refresh token (10010) is an AuthError, not a retry loop."""
    sim.expire_tokens("open")
    sim.expire_refresh_tokens("open")
    with pytest.raises(AuthError, match="10010.*re-authorise"):
        fetch(sim, config, "identities")
    assert len([r for r in sim.requests if r.path == "/oauth/refresh_token/"]) == 1


def test_wrong_shop_secret_is_one_request_and_a_signature_error(sim: DouyinSimulator, config: DouyinConfig,
                                                               fetch: Callable[..., Any]) -> None:
    """A wrong Doudian secret fails at once with a SignatureError naming the platform and the check."""
    wrong = config.model_copy(update={"shop_app_secret": SecretStr("not-the-secret")})
    with pytest.raises(SignatureError) as caught:
        fetch(sim, wrong, "shop_orders")
    message = str(caught.value)
    assert message.startswith("douyin:") and "signature" in message and "shop_app_secret" in message
    assert "not-the-secret" not in message
    assert [r.path for r in sim.requests] == ["/order/searchList"]


def test_malformed_order_is_rejected_while_its_page_lands(sim: DouyinSimulator, config: DouyinConfig,
                                                          world: World, fetch: Callable[..., Any],
                                                          tables_of: Callable[..., Any], tmp_path: Path) -> None:
    """An order with an unreadable create_time goes to rejects with the reason; the others land."""
    assert sim.inject_malformed("shop_orders")
    result = fetch(sim, config, "shop_orders", out=tmp_path)
    assert result.n_rejects == 1
    assert result.rows["orders"] == world.slice("douyin")["orders"].num_rows - 1
    reject = tables_of(tmp_path, ("rejects",))["rejects"].to_pylist()[0]
    assert reject["stream"] == "shop_orders" and "yesterday" in reject["reason"]
    assert "13800138000" not in reject["row"]


def test_windows_longer_than_30_days_are_split(sim: DouyinSimulator, config: DouyinConfig, world: World,
                                               fetch: Callable[..., Any], registry: PluginRegistry,
                                               tmp_path: Path) -> None:
    """A 45-day window becomes report and touch queries of at most 30 days; the simulator refuses longer ones."""
    from omniplug.sync import sync_stream

    since = world.config.start - timedelta(days=15)
    for stream in ("ad_reports", "touchpoints"):
        result = sync_stream(registry, "douyin", stream, config=config, out_dir=tmp_path / stream, since=since,
                             until=world.config.end, now=sim.clock.now)
        assert not result.rejects and sum(result.rows.values()) > 0
    spans = {(r.query["start_time"], r.query["end_time"]) for r in sim.requests
             if r.path == "/open_api/v3.0/report/custom/get/"}
    assert spans == {("2026-09-16", "2026-10-15"), ("2026-10-16", "2026-10-30")}
    too_long = httpx.get(f"{sim.base_url}/open_api/v3.0/report/custom/get/",
                         headers={"Access-Token": config.access_token.get_secret_value()},
                         params={"advertiser_id": config.advertiser_id, "dimensions": '["stat_time_day"]',
                                 "metrics": '["stat_cost"]', "start_time": "2026-09-01", "end_time": "2026-10-30"})
    assert too_long.json()["code"] == 40000


def test_the_simulator_checks_what_the_gateways_check(sim: DouyinSimulator, config: DouyinConfig) -> None:
    """Page-size caps, JSON-encoded parameters, missing tokens and one-time auth codes, in each API's own form."""
    token = {"Access-Token": config.access_token.get_secret_value()}
    base = {"advertiser_id": config.advertiser_id}
    report = {**base, "dimensions": '["stat_time_day"]', "metrics": '["stat_cost"]', "start_time": "2026-10-01",
              "end_time": "2026-10-02"}

    def ocean(path: str, params: dict[str, Any], headers: dict[str, str] = token) -> int:
        return int(httpx.get(f"{sim.base_url}{path}", headers=headers, params=params).json()["code"])

    assert ocean("/open_api/v3.0/report/custom/get/", {**report, "page_size": 1000}) == 0
    assert ocean("/open_api/v3.0/report/custom/get/", {**report, "page_size": 1001}) == 40000
    assert ocean("/open_api/v3.0/report/custom/get/", {**report, "dimensions": "stat_time_day"}) == 40000
    assert ocean("/open_api/2/star/demand/order/list/", {"star_id": config.star_id, "demand_id": 1,
                                                         "page_size": 51}) == 40000
    assert ocean("/open_api/v3.0/project/list/", base, headers={}) == 40105
    app = {"app_id": int(config.app_id), "secret": config.secret.get_secret_value(), "grant_type": "auth_code",
           "auth_code": "oe-auth-code-once"}
    first = httpx.post(f"{sim.base_url}/open_api/oauth2/access_token/", json=app).json()
    second = httpx.post(f"{sim.base_url}/open_api/oauth2/access_token/", json=app).json()
    assert first["code"] == 0 and second["code"] == 40115
    fans = httpx.get(f"{sim.base_url}/fans/list/", params={"open_id": config.open_id, "count": 50},
                     headers={"access-token": config.open_access_token.get_secret_value()}).json()  # type: ignore[union-attr]
    assert len(fans["data"]["list"]) == 20 and fans["extra"]["now"] > 0

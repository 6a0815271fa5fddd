"""Faults over real HTTP: bans, server errors, expired sessions, a wrong secret, bad records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from omniplug_tmall.config import TmallConfig
from omniplug_tmall.simulator import TmallSimulator
from pydantic import SecretStr

from omniplug.errors import AuthError, PlatformError, SignatureError
from omniplug.state import StateStore
from omniplug.sync import StreamResult

Fetch = Callable[..., dict[str, StreamResult]]
Tables = Callable[..., dict[str, pa.Table]]
Expected = Callable[[str], pa.Table]


def gateway_calls(sim: TmallSimulator) -> list[datetime]:
    """Simulator times of the gateway calls received so far."""
    return [r.time for r in sim.requests if r.path == "/router/rest"]


def test_ban_is_waited_out_on_the_clock_then_the_run_goes_on(
    fetch: Fetch, tables: Tables, expected: Expected, sim: TmallSimulator, window: dict[str, datetime],
    tmp_path: Path,
) -> None:
    sim.throttle_next(1, seconds=3)
    start = sim.clock.now()
    fetch(tmp_path, ["orders"], **window)
    calls = gateway_calls(sim)
    # The banned call, then its retry 3 s of simulated time later (no real waiting).
    assert calls[1] - calls[0] >= timedelta(seconds=3)
    assert sim.clock.now() - start >= timedelta(seconds=3)
    assert tables(tmp_path, ["orders"])["orders"].equals(expected("orders"))


def test_a_ban_keeps_rejecting_until_it_ends(sim: TmallSimulator, top_call: Callable[..., dict]) -> None:
    sim.throttle_next(1, seconds=5)
    first = top_call("taobao.itemcats.get", cids="121400000")["error_response"]
    assert (first["code"], first["sub_msg"]) == (7, "This ban will last for 5 more seconds")
    sim.clock.advance(2)
    again = top_call("taobao.itemcats.get", cids="121400000")["error_response"]
    assert again["sub_msg"] == "This ban will last for 3 more seconds"
    sim.clock.advance(3)
    assert "itemcats_get_response" in top_call("taobao.itemcats.get", cids="121400000")


def test_server_errors_and_dropped_connections_are_retried(
    fetch: Fetch, tables: Tables, expected: Expected, sim: TmallSimulator, window: dict[str, datetime],
    tmp_path: Path,
) -> None:
    sim.faults.inject("status", status=503, path="/router/rest")
    sim.faults.inject("drop", path="/router/rest")
    sim.fail_next(1)  # code 15 isp.remote-service-timeout: TOP says retry
    fetch(tmp_path, ["touchpoints"], **window)
    statuses = [r.status for r in sim.requests if r.path == "/router/rest"]
    assert statuses[:3] == [503, None, 200]
    assert tables(tmp_path, ["touchpoints"])["touchpoints"].equals(expected("touchpoints"))


def test_an_isv_error_is_not_retried(fetch: Fetch, sim: TmallSimulator, tmp_path: Path) -> None:
    sim.fail_next(3, code=15, msg="Remote service error", sub_code="isv.invalid-parameter", sub_msg="bad")
    with pytest.raises(PlatformError, match="isv.invalid-parameter") as caught:
        fetch(tmp_path, ["products"])
    assert not caught.value.retryable
    assert len(gateway_calls(sim)) == 1


def test_expired_session_is_refreshed_mid_run_and_the_rotated_token_saved(
    fetch: Fetch, tables: Tables, expected: Expected, sim: TmallSimulator, config: TmallConfig,
    window: dict[str, datetime], tmp_path: Path,
) -> None:
    sim.after_calls(2, sim.expire_tokens)  # the session dies between two pages
    fetch(tmp_path, ["orders"], **window)
    assert tables(tmp_path, ["orders"])["orders"].equals(expected("orders"))
    with StateStore.open(tmp_path) as state:
        saved = state.get_token("tmall")
    assert saved is not None and saved.refresh_token is not None
    assert saved.access_token.get_secret_value() != sim.initial_session
    assert saved.refresh_token.get_secret_value() != sim.initial_refresh
    # Rotation: the refresh token the run started with no longer works.
    old = httpx.post(f"{sim.base_url}/token", data={
        "grant_type": "refresh_token", "client_id": config.app_key,
        "client_secret": config.app_secret.get_secret_value(), "refresh_token": sim.initial_refresh})
    assert old.status_code == 400 and old.json()["error"] == "invalid_grant"
    # The next run uses the saved session: no refresh needed.
    sim.clear_requests()
    fetch(tmp_path, ["products"])
    assert not [r for r in sim.requests if r.path == "/token"]


def test_expired_session_without_refresh_token_asks_to_reauthorise(
    fetch: Fetch, sim: TmallSimulator, config: TmallConfig, tmp_path: Path
) -> None:
    sim.expire_tokens()
    with pytest.raises(AuthError, match="re-authorise") as caught:
        fetch(tmp_path, ["products"], cfg=config.model_copy(update={"refresh_token": None}))
    assert caught.value.platform == "tmall"


def test_wrong_secret_fails_once_with_a_signature_error(
    fetch: Fetch, sim: TmallSimulator, config: TmallConfig, tmp_path: Path
) -> None:
    wrong = config.model_copy(update={"app_secret": SecretStr("not-the-secret")})
    with pytest.raises(SignatureError) as caught:
        fetch(tmp_path, ["orders"], cfg=wrong)
    text = str(caught.value)
    assert "tmall" in text and "signature" in text and "app_secret" in text
    assert "not-the-secret" not in text
    assert len(sim.requests) == 1  # no retry storm


@pytest.mark.parametrize("sign_method", ["hmac", "hmac-sha256"])
def test_other_sign_methods_are_accepted(
    fetch: Fetch, tables: Tables, expected: Expected, config: TmallConfig, sign_method: str, tmp_path: Path
) -> None:
    fetch(tmp_path, ["products"], cfg=config.model_copy(update={"sign_method": sign_method}))
    assert tables(tmp_path, ["products"])["products"].equals(expected("products"))


def test_malformed_trade_is_rejected_and_its_page_lands(
    fetch: Fetch, tables: Tables, expected: Expected, sim: TmallSimulator, window: dict[str, datetime],
    tmp_path: Path,
) -> None:
    assert sim.inject_malformed("orders")
    result = fetch(tmp_path, ["orders"], **window)["orders"]
    assert result.n_rejects == 1
    got = tables(tmp_path, ["orders", "rejects"])
    [reject] = got["rejects"].to_pylist()
    assert reject["stream"] == "orders" and "2026-13-45" in reject["reason"]
    assert got["orders"].num_rows == expected("orders").num_rows - 1
    # The rest of its page landed: every other trade is there, unchanged.
    missing = set(expected("orders").column("order_id").to_pylist()) - set(got["orders"].column("order_id").to_pylist())
    assert len(missing) == 1 and missing.pop() in reject["row"]

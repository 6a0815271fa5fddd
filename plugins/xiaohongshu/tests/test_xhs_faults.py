"""Faults over real HTTP: throttling, server errors, token expiry and rotation, wrong secrets, bad records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from omniplug_xiaohongshu.client import ARK_PATH, REFRESH_PATH
from omniplug_xiaohongshu.config import XiaohongshuConfig
from omniplug_xiaohongshu.plugin import XiaohongshuPlugin
from omniplug_xiaohongshu.simulator import APP_ID, SECRET, XiaohongshuSimulator
from omniplug_xiaohongshu.streams.juguang import REPORT_PATH

from omniplug.errors import AuthError, SignatureError
from omniplug.state import StateStore


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch, sim: XiaohongshuSimulator) -> list[float]:
    """Retry waits the clients ask for; they pass on the simulator clock instead of really sleeping."""
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        sim.clock.advance(seconds)

    monkeypatch.setattr(XiaohongshuPlugin, "retry_sleep", staticmethod(sleep))
    return asked


def _requests(sim: XiaohongshuSimulator, path: str) -> list[Any]:
    return [r for r in sim.requests if r.path == path]


def test_juguang_throttling_waits_the_configured_time_then_goes_on(
    sim: XiaohongshuSimulator, fetch: Any, truth: Any, waits: list[float], tmp_path: Path
) -> None:
    """The throttle answer (HTTP 200, the envelope's own code) is waited out and retried."""
    sim.throttle_next(2)
    throttled = XiaohongshuConfig(**sim.pipeline_section(), throttle_wait_seconds=7.0)
    result = fetch("ad_reports", tmp_path, config=throttled)
    assert waits == [7.0, 7.0]
    assert [r.status for r in _requests(sim, REPORT_PATH)] == [200, 200, 200]
    assert result.rows["spend"] == truth("spend").filter(pc.field("channel") != "kol").num_rows


def test_ark_throttling_is_retried(
    sim: XiaohongshuSimulator, fetch: Any, truth: Any, output: Any, waits: list[float], tmp_path: Path
) -> None:
    """Ark's throttle envelope is waited out too; every order still arrives once."""
    sim.throttle_next(1, api="ark")
    fetch("shop_orders", tmp_path)
    assert waits == [1.0]
    assert output(tmp_path, "orders").to_pylist() == truth("orders").to_pylist()


def test_server_errors_and_dropped_connections_are_retried(
    sim: XiaohongshuSimulator, fetch: Any, truth: Any, output: Any, waits: list[float], tmp_path: Path
) -> None:
    """HTTP 503 from the Juguang edge and a dropped Ark connection are transient: backoff, retry, no loss."""
    sim.faults.inject("status", status=503, path=REPORT_PATH)
    sim.faults.inject("drop", path=ARK_PATH)
    fetch("ad_reports", tmp_path)
    fetch("shop_orders", tmp_path)
    assert len(waits) == 2 and all(w > 0 for w in waits)
    assert [r.status for r in _requests(sim, REPORT_PATH)][:2] == [503, 200]
    assert _requests(sim, ARK_PATH)[0].status is None
    assert output(tmp_path, "orders").to_pylist() == truth("orders").to_pylist()
    assert output(tmp_path, "spend").num_rows == truth("spend").filter(pc.field("channel") != "kol").num_rows


def test_expired_token_is_refreshed_mid_run_and_the_rotated_pair_is_kept(
    sim: XiaohongshuSimulator, config: XiaohongshuConfig, fetch: Any, truth: Any, output: Any, tmp_path: Path
) -> None:
    """Tokens expire between two pages: one refresh, the run completes, the new pair is saved and used next time."""
    sim.expire_tokens(after_calls=2)
    fetch("touchpoints", tmp_path)
    assert len(_requests(sim, REFRESH_PATH)) == 1
    assert output(tmp_path, "touchpoints").to_pylist() == truth("touchpoints").to_pylist()
    with StateStore.open(tmp_path) as state:
        saved = state.get_token("xiaohongshu")
    assert saved is not None and saved.refresh_token is not None
    assert saved.access_token.get_secret_value() != config.access_token.get_secret_value()
    assert saved.refresh_token.get_secret_value() != config.refresh_token.get_secret_value()  # type: ignore[union-attr]
    assert saved.extra["user_id"]
    # Rotation: the configured refresh token died with its first use.
    old = httpx.post(sim.base_url + REFRESH_PATH, json={"app_id": APP_ID, "secret": SECRET,
                                                        "refresh_token": config.refresh_token.get_secret_value()})  # type: ignore[union-attr]
    assert old.json()["success"] is False
    # The next run uses the saved pair (the configured access token is dead too) without another refresh.
    fetch("kol_notes", tmp_path)
    assert len(_requests(sim, REFRESH_PATH)) == 2  # the probe above, not the run


def test_wrong_ark_secret_is_one_request_and_a_clear_signature_error(
    sim: XiaohongshuSimulator, fetch: Any, tmp_path: Path
) -> None:
    """A wrong ark_app_secret fails the signature check once, loudly, without a retry storm."""
    wrong = XiaohongshuConfig(**{**sim.pipeline_section(), "ark_app_secret": "not-the-secret"})
    with pytest.raises(SignatureError) as raised:
        fetch("shop_orders", tmp_path, config=wrong)
    message = str(raised.value)
    assert "xiaohongshu" in message and "signature" in message and "ark_app_secret" in message
    assert "not-the-secret" not in message
    assert len(_requests(sim, ARK_PATH)) == 1


def test_wrong_juguang_secret_fails_the_refresh_once(sim: XiaohongshuSimulator, fetch: Any, tmp_path: Path) -> None:
    """With an expired token and a wrong secret the refresh is refused once, naming what to check."""
    sim.expire_tokens()
    wrong = XiaohongshuConfig(**{**sim.pipeline_section(), "secret": "not-the-secret"})
    with pytest.raises(AuthError, match="refused the token refresh.*check app_id and secret"):
        fetch("ad_reports", tmp_path, config=wrong)
    assert len(_requests(sim, REFRESH_PATH)) == 1
    assert len(_requests(sim, REPORT_PATH)) == 1


def test_malformed_order_is_rejected_with_its_reason_while_the_page_lands(
    sim: XiaohongshuSimulator, fetch: Any, truth: Any, output: Any, tmp_path: Path
) -> None:
    """A corrupt order time rejects that order only; the rest of its page (and its raw phone) is handled."""
    assert sim.inject_malformed("shop_orders")
    result = fetch("shop_orders", tmp_path)
    assert result.n_rejects == 1
    rejects = pq.read_table(tmp_path / "rejects.parquet").to_pylist()
    assert "shop_orders: unmappable record" in rejects[0]["reason"]
    assert "yesterday" in rejects[0]["reason"]
    assert "receiverPhone" in rejects[0]["row"] and "<redacted personal data>" in rejects[0]["row"]
    assert output(tmp_path, "orders").num_rows == truth("orders").num_rows - 1


def test_ids_above_2_53_stay_exact(sim: XiaohongshuSimulator, config: XiaohongshuConfig,
                                   registry: Any, tmp_path: Path) -> None:
    """Creative and unit ids Juguang sends as JSON numbers above 2**53 arrive exact (not through floats)."""
    from omniplug.context import FetchContext
    from omniplug.fields import parse_when

    spec = registry.platform("xiaohongshu")
    ctx = FetchContext(platform="xiaohongshu", stream="ad_reports", config=config, since=parse_when("2026-10-01"),
                       until=parse_when("2026-10-31"), now=sim.clock.now, spec=spec)
    try:
        got: set[int] = set()
        for batch in registry.fetch("xiaohongshu", "ad_reports", ctx):
            if "creativity_id" in batch.schema.names:
                got |= {v for v in batch.column("creativity_id").to_pylist() if v is not None}
    finally:
        ctx.close()
    served = {r["creativity_id"] for r in sim.data.report_rows if "creativity_id" in r}
    assert got == served and min(served) > 2**53


def test_big_numeric_campaign_id_normalises_to_the_exact_string() -> None:
    """An id above 2**53 sent as a JSON number becomes the exact decimal string."""
    from omniplug_xiaohongshu.normalise import normalise

    from omniplug.fields import json_loads_exact
    from omniplug.rowmap import records_batch

    raw = json_loads_exact('{"time": "2026-10-02", "campaign_id": 9007199254740993, "placement": 1,'
                           ' "fee": 12.34, "impression": 100, "click": 3}')
    spend = normalise("ad_reports", records_batch([raw]))["spend"].to_pylist()[0]
    assert spend["campaign_id"] == "9007199254740993"
    assert str(spend["spend"]) == "12.34"


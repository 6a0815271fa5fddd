"""Weibo's failure modes over real HTTP: hourly limits, server errors, tokens, bad records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from omniplug_weibo.simulator import WeiboSimulator

from omniplug.errors import AuthError, PlatformError, ThrottledError, TokenExpiredError
from omniplug.state import StateStore

# 00:59:30 China time on the day after the window: the hour turns in 30 s.
BEFORE_THE_HOUR = datetime(2026, 10, 31, 16, 59, 30, tzinfo=UTC)
NEXT_HOUR = datetime(2026, 10, 31, 17, 0, 0, tzinfo=UTC)


def _materials_match(fetched, truth, out: Path) -> bool:
    return bool(fetched(out, "materials").drop_columns(["uri"]).equals(truth("materials").drop_columns(["uri"])))


@pytest.mark.parametrize(("limit", "calls", "code"), [("ip", 2, 10022), ("user", 2, 10023), ("api", 1, 10024)])
def test_hourly_limits_wait_for_the_next_hour_then_go_on(run, sim: WeiboSimulator, truth, fetched, tmp_path: Path,
                                                         limit: str, calls: int, code: int) -> None:
    sim.clock.freeze(BEFORE_THE_HOUR)
    sim.set_limits(**{limit: calls})
    # One creative-list call, then two timeline calls: the third call (the second of the API) is refused.
    run("statuses", tmp_path)
    assert sim.refusals and {c for _, c in sim.refusals} == {code}
    assert all(r.status in (200, 403) for r in sim.requests)
    # The client waited on the simulator's clock until the hour turned; then the call passed.
    assert sim.clock.now() >= NEXT_HOUR
    assert _materials_match(fetched, truth, tmp_path)


def test_forced_throttling_and_rate_limit_status(run, sim: WeiboSimulator, config, tmp_path: Path) -> None:
    from omniplug_weibo import client
    from omniplug_weibo.plugin import WeiboPlugin

    from omniplug.context import FetchContext

    sim.clock.freeze(BEFORE_THE_HOUR)
    sim.throttle_next(1, code=10023)
    run("ad_reports", tmp_path)
    assert [c for _, c in sim.refusals] == [10023]
    assert sim.clock.now() >= NEXT_HOUR
    ctx = FetchContext(platform="weibo", stream="statuses", config=config, now=sim.clock.now)
    status = client.rate_limit_status(WeiboPlugin().create_client(ctx))
    calls_this_hour = sum(1 for r in sim.requests if r.time >= NEXT_HOUR and r.status == 200
                          and not r.path.endswith("rate_limit_status.json"))
    assert status["limit_time_unit"] == "HOURS"
    assert status["remaining_user_hits"] == status["user_limit"] - calls_this_hour
    assert status["reset_time"] == "2026-11-01 02:00:00"
    ctx.close()


def test_a_wait_past_max_single_wait_fails_at_once_with_a_clear_message(run, sim: WeiboSimulator,
                                                                         tmp_path: Path) -> None:
    # The clock stands at the top of the hour: the next window opens in an hour, beyond max_single_wait.
    sim.throttle_next(1, code=10023)
    with pytest.raises(ThrottledError) as caught:
        run("statuses", tmp_path)
    message = str(caught.value)
    assert "weibo" in message and "10023" in message and "hourly" in message and "max_single_wait" in message
    assert caught.value.retryable is False
    assert len(sim.requests) == 1


def test_server_errors_and_dropped_connections_are_retried(run, sim: WeiboSimulator, truth, fetched,
                                                           tmp_path: Path) -> None:
    sim.faults.inject("status", status=503, times=2, path="/2/statuses/user_timeline.json")
    sim.faults.inject("drop", path="/2/statuses/user_timeline.json")
    sim.faults.inject("body", status=400, path="/2/statuses/user_timeline.json",
                      body={"request": "/2/statuses/user_timeline.json", "error_code": 10001, "error": "system error!"})
    run("statuses", tmp_path)
    timeline = [r.status for r in sim.requests if r.path == "/2/statuses/user_timeline.json"]
    assert timeline[:4] == [503, 503, None, 400] and timeline[4] == 200
    assert _materials_match(fetched, truth, tmp_path)


def test_an_expired_token_stops_the_run_and_a_new_authorisation_resumes_it(
    run, sim: WeiboSimulator, make_config, truth, fetched, tmp_path: Path,
) -> None:
    sim.expire_tokens(after_calls=12)
    with pytest.raises(TokenExpiredError) as caught:
        run("engagements", tmp_path)
    message = str(caught.value)
    assert "21327" in message and "authorise the brand account again" in message
    assert "refresh_token" in message  # says why no refresh was tried
    assert [c for _, c in sim.refusals] == [21327], "one refused call: no retry storm"
    with StateStore.open(tmp_path) as state:
        saved = state.get_cursor("weibo", "engagements", "default")
    assert saved and saved["since"], "pages fetched before the expiry were kept"
    run("engagements", tmp_path, config=make_config(access_token=sim.issue_token()))
    assert fetched(tmp_path, "touchpoints").equals(truth("touchpoints"))


def test_an_invalid_token_is_refused_after_one_request(run, sim: WeiboSimulator, make_config,
                                                       tmp_path: Path) -> None:
    with pytest.raises(AuthError) as caught:
        run("statuses", tmp_path, config=make_config(access_token="2.00not-a-token"))
    assert not isinstance(caught.value, TokenExpiredError)
    assert "21332" in str(caught.value) and "Weibo signs nothing" in str(caught.value)
    assert len(sim.requests) == 1


def test_another_accounts_uid_is_refused(run, sim: WeiboSimulator, make_config, tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="21335"):
        run("statuses", tmp_path, config=make_config(uid="1234567890"))
    assert [c for _, c in sim.refusals] == [21335]


def test_the_token_can_travel_in_the_oauth2_header(run, sim: WeiboSimulator, make_config, truth, fetched,
                                                   tmp_path: Path) -> None:
    run("statuses", tmp_path, config=make_config(token_in="header"))
    timeline = [r for r in sim.requests if r.path.startswith("/2/")]
    assert timeline and all(r.headers["authorization"].startswith("OAuth2 2.00") for r in timeline)
    assert all("access_token" not in r.query for r in timeline)
    ads = [r for r in sim.requests if r.path.startswith("/v3/")]
    assert ads and all(r.headers["authorization"].startswith("Bearer ") for r in ads)
    assert _materials_match(fetched, truth, tmp_path)


def test_a_malformed_comment_is_rejected_with_its_reason_while_its_page_lands(
    run, sim: WeiboSimulator, truth, tmp_path: Path,
) -> None:
    assert sim.inject_malformed("engagements")
    result = run("engagements", tmp_path)
    rejects = pq.read_table(tmp_path / "rejects.parquet").to_pylist()
    assert len(rejects) == 1 and result.n_rejects == 1
    assert "Sun Oct 32" in rejects[0]["reason"] and rejects[0]["stream"] == "engagements"
    assert result.rows["touchpoints"] == truth("touchpoints").num_rows - 1


def test_paging_limits_are_enforced_by_the_simulator(sim: WeiboSimulator) -> None:
    import httpx

    response = httpx.get(f"{sim.base_url}/2/statuses/user_timeline.json",
                         params={"access_token": sim.initial_token, "count": 150})
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == 10017 and body["request"] == "/2/statuses/user_timeline.json"
    response = httpx.get(f"{sim.base_url}/v3/reports/creative_daily",
                         headers={"Authorization": f"Bearer {sim.initial_token}"},
                         params={"start_date": "2026-09-01", "end_date": "2026-10-30"})
    assert response.json()["code"] == 10017


def test_a_platform_error_is_not_retried(run, sim: WeiboSimulator, tmp_path: Path) -> None:
    sim.faults.inject("body", status=400, path="/v3/creatives",
                      body={"code": 20012, "message": "campaign data unavailable", "data": None})
    with pytest.raises(PlatformError, match="20012"):
        run("statuses", tmp_path)
    assert len(sim.requests) == 1

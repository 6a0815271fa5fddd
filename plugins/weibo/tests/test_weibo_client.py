"""The client's pieces on their own: error classification, the hourly wait, OAuth, normalise rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pyarrow as pa
import pytest
from omniplug_weibo import client, normalise
from omniplug_weibo.sim_world import weibo_time
from omniplug_weibo.simulator import APP_KEY, APP_SECRET, REDIRECT_URI, WeiboSimulator

from omniplug.errors import (
    AuthError,
    PlatformError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.http import PlatformClient

NOW = datetime(2026, 11, 1, 3, 59, 20, tzinfo=UTC)


def _response(body: object, status: int = 400) -> httpx.Response:
    request = httpx.Request("GET", "https://api.weibo.com/2/statuses/user_timeline.json")
    return httpx.Response(status, json=body, request=request)


@pytest.mark.parametrize(("code", "kind"), [
    (10022, ThrottledError), (10023, ThrottledError), (10024, ThrottledError),
    (21327, TokenExpiredError), (21332, AuthError), (10006, AuthError), (10014, AuthError),
    (10001, TransientError), (10009, TransientError), (20101, PlatformError),
])
def test_open_api_and_ads_error_codes_are_classified(code: int, kind: type) -> None:
    classify = client.make_classify(lambda: NOW)
    for body in ({"request": "/2/statuses/user_timeline.json", "error_code": code, "error": "x"},
                 {"code": code, "message": "x", "data": None}):
        error = classify(_response(body, 403 if code in client.RATE_LIMIT_CODES else 400))
        assert type(error) is kind, (code, body)
        assert error.platform == "weibo" and error.code == code
    assert classify(_response({"statuses": []}, 200)) is None
    assert classify(_response({"code": 0, "message": "OK", "data": {}}, 200)) is None


def test_rate_limits_wait_until_the_top_of_the_next_hour() -> None:
    limited = _response({"error_code": 10023, "error": "User requests out of rate limit!"})
    error = client.make_classify(lambda: NOW)(limited)
    assert isinstance(error, ThrottledError) and error.retry_after == 41  # 40 s to 04:00 UTC, plus 1 s of margin
    assert client.seconds_to_next_hour(NOW.replace(minute=0, second=0)) == 3601
    # China is UTC+8 all year: the hour turns at the same instant in both.
    china = NOW.astimezone(timezone(timedelta(hours=8)))
    assert client.seconds_to_next_hour(china) == 41


def test_prepare_puts_the_token_where_configured() -> None:
    from omniplug.http import RequestSpec

    spec = client.make_prepare("2.00abc", "param")(RequestSpec("GET", "/2/x.json"), None)
    assert spec.params == {"access_token": "2.00abc"} and "Authorization" not in spec.headers
    spec = client.make_prepare("2.00abc", "header")(RequestSpec("GET", "/2/x.json"), None)
    assert spec.headers == {"Authorization": "OAuth2 2.00abc"} and not spec.params
    spec = client.make_ads_prepare("2.00abc")(RequestSpec("GET", "/v3/creatives"), None)
    assert spec.headers == {"Authorization": "Bearer 2.00abc"}


def test_weibo_times_and_event_ids() -> None:
    when = datetime(2011, 5, 31, 9, 46, 55, tzinfo=UTC)
    assert weibo_time(when) == "Tue May 31 17:46:55 +0800 2011"
    assert normalise.event_id(2**60 + 5) == f"we{2**60 + 5:015x}"
    assert normalise.event_id("72057594037927935") == "weffffffffffffff"
    big = 9_007_199_254_740_993  # 2**53 + 1: a double would make it ...992
    batch = pa.RecordBatch.from_pylist([{"id": big, "idstr": None, "uid": 5209947660, "action": "like",
                                         "time": "2026-10-03 17:12:19", "mid": big, "campaign_id": None}])
    row = normalise.normalise("engagements", batch)["touchpoints"].to_pylist()[0]
    assert row["event_id"] == f"we{big:014x}" and int(row["event_id"].removeprefix("we"), 16) == big
    assert row["event_time"] == datetime(2026, 10, 3, 9, 12, 19, tzinfo=UTC)
    assert row["channel"] == "organic" and row["material_id"] is None


def test_oauth_code_exchange_and_token_info(sim: WeiboSimulator) -> None:
    classify = client.make_classify(sim.clock.now)
    with PlatformClient("weibo", sim.base_url, classify=classify) as api:
        token = client.exchange_code(api, app_key=APP_KEY, app_secret=APP_SECRET, code=sim.issue_code(),
                                     redirect_uri=REDIRECT_URI, now=sim.clock.now())
        assert token.refresh_token is None and token.extra == {"uid": sim.uid}
        assert token.expires_at is not None and token.expires_at > sim.clock.now()
        info = client.token_info(api, token.access_token.get_secret_value())
        assert str(info["uid"]) == sim.uid and info["appkey"] == APP_KEY and info["expire_in"] > 0
    url = client.authorize_url("https://api.weibo.com", APP_KEY, REDIRECT_URI)
    assert url.startswith("https://api.weibo.com/oauth2/authorize?client_id=") and "response_type=code" in url


def test_a_wrong_app_secret_is_refused_after_one_request(sim: WeiboSimulator) -> None:
    api = PlatformClient("weibo", sim.base_url, classify=client.make_classify(sim.clock.now))
    with api, pytest.raises(AuthError) as caught:
        client.exchange_code(api, app_key=APP_KEY, app_secret="wrong-secret", code=sim.issue_code(),
                             redirect_uri=REDIRECT_URI, now=sim.clock.now())
    assert "weibo" in str(caught.value) and "21324" in str(caught.value) and "invalid_client" in str(caught.value)
    assert len(sim.requests) == 1

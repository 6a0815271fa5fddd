"""PlatformClient over real loopback HTTP: signing per attempt, retries, tokens, redaction."""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniplug.errors import (
    AuthError,
    PlatformError,
    SignatureError,
    ThrottledError,
    TokenExpiredError,
    TransientError,
)
from omniplug.http import (
    MASK,
    PlatformClient,
    RequestLog,
    RequestSpec,
    RetryPolicy,
    TokenBucket,
    TokenManager,
    parse_ban_seconds,
    parse_retry_after,
    redact,
)
from omniplug.testing.simulator import Clock, SimRequest, SimResponse, SimulatorBase, route
from omniplug.tokens import MemoryTokenStore, TokenSet

APP_KEY = "12345678"
APP_SECRET = "app-secret-9f3c77e1"
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


def top_sign(params: dict[str, str], secret: str) -> str:
    """TOP md5 signing: secret + sorted key/value pairs + secret, upper-case hex."""
    text = secret + "".join(f"{k}{params[k]}" for k in sorted(params)) + secret
    return hashlib.md5(text.encode()).hexdigest().upper()


class TopSim(SimulatorBase):
    """A TOP-like gateway: verifies signatures and sessions, plays a script of envelope errors."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sessions = {"access-A-7d1e0c"}
        self.refresh_tokens = {"refresh-R1-55aa01"}
        self.script: list[dict[str, Any]] = []
        self.accept_sessions = True
        self.store: MemoryTokenStore | None = None
        self.store_refresh_seen: list[
            str | None
        ] = []  # store content when a new token is first used
        self._issued = itertools.count(2)
        self._lock = threading.Lock()

    @route("POST", "/router/rest")
    def router(self, req: SimRequest) -> SimResponse:
        params = req.params()
        sign = params.pop("sign", "")
        if sign != top_sign(params, APP_SECRET):
            return _top_error(25, "Invalid Signature")
        session = params.get("session")
        if session not in self.sessions or not self.accept_sessions:
            return _top_error(27, "Invalid session", "invalid-sessionkey")
        if session != "access-A-7d1e0c" and self.store is not None:
            saved = self.store.get_token("tmall")
            self.store_refresh_seen.append(
                saved.refresh_token.get_secret_value() if saved and saved.refresh_token else None
            )
        with self._lock:
            scripted = self.script.pop(0) if self.script else None
        if scripted is not None:
            return SimResponse.json({"error_response": scripted})
        return SimResponse.json(
            {"trades_sold_get_response": {"total_results": 0, "ts": params["timestamp"]}}
        )

    @route("POST", "/token")
    def token(self, req: SimRequest) -> SimResponse:
        form = req.form()
        with self._lock:
            if form.get("refresh_token") not in self.refresh_tokens:
                return SimResponse.json({"error": "invalid_grant"}, status=400)
            n = next(self._issued)
            # Rotation: the old refresh token dies the moment a new one is issued.
            self.refresh_tokens = {f"refresh-R{n}-55aa0{n}"}
            self.sessions.add(f"access-{n}-7d1e0c")
        return SimResponse.json(
            {
                "access_token": f"access-{n}-7d1e0c",
                "refresh_token": f"refresh-R{n}-55aa0{n}",
                "expires_in": 86400,
            }
        )


def _top_error(code: int, msg: str, sub_code: str = "", sub_msg: str = "") -> SimResponse:
    return SimResponse.json(
        {"error_response": {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}}
    )


def top_prepare(secret: str = APP_SECRET) -> Any:
    """System parameters in the query, recomputed (timestamp, session, sign) on every attempt."""
    ticks = itertools.count()

    def prepare(req: RequestSpec, token: TokenSet | None) -> RequestSpec:
        req.params.update(
            app_key=APP_KEY,
            v="2.0",
            sign_method="md5",
            timestamp=f"2024-03-01 08:00:{next(ticks):02d}",
        )
        if token is not None:
            req.params["session"] = token.access_token.get_secret_value()
        req.params["sign"] = top_sign({**req.params, **(req.data or {})}, secret)
        return req

    return prepare


def top_classify(response: httpx.Response) -> PlatformError | None:
    """Map TOP's error_response envelope to omniplug errors."""
    err = response.json().get("error_response")
    if err is None:
        return None
    code, sub_code, sub_msg = err["code"], err.get("sub_code", ""), err.get("sub_msg", "")
    text = f"code {code} {err['msg']} {sub_code} {sub_msg}".strip()
    if code == 7:
        return ThrottledError(text, code=code, retry_after=parse_ban_seconds(sub_msg))
    if code == 25:
        return SignatureError(text, code=code)
    if code == 27:
        return TokenExpiredError(text, code=code)
    if sub_code.startswith("isp."):
        return TransientError(text, code=code)
    return PlatformError(text, code=code, retryable=False)


def tok(**fields: Any) -> TokenSet:
    """A TokenSet from plain values (pydantic wraps the secrets)."""
    return TokenSet.model_validate(fields)


class Sleeps(list[float]):
    """A fake ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sim() -> Iterator[TopSim]:
    with TopSim(clock=Clock(frozen_at=T0)) as running:
        yield running


@pytest.fixture
def store() -> MemoryTokenStore:
    tokens = MemoryTokenStore()
    tokens.put_token(
        "tmall", tok(access_token="access-A-7d1e0c", refresh_token="refresh-R1-55aa01")
    )
    return tokens


def make_client(
    sim: TopSim,
    store: MemoryTokenStore,
    sleeps: Sleeps,
    refresh_calls: list[TokenSet] | None = None,
    **kwargs: Any,
) -> PlatformClient:
    """A TOP client wired like a plugin would wire it."""

    def refresh(stale: TokenSet) -> TokenSet:
        if refresh_calls is not None:
            refresh_calls.append(stale)
        assert stale.refresh_token is not None
        with PlatformClient("tmall", sim.base_url, sleep=sleeps, secrets=[APP_SECRET]) as oauth:
            body = oauth.request_json(
                "POST",
                "/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": stale.refresh_token.get_secret_value(),
                    "client_secret": APP_SECRET,
                },
            )
        return tok(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            expires_at=sim.clock.now() + timedelta(seconds=body["expires_in"]),
        )

    options: dict[str, Any] = {
        "classify": top_classify,
        "prepare": top_prepare(),
        "token_manager": TokenManager("tmall", store, refresh, clock=sim.clock.now),
        "sleep": sleeps,
        "secrets": [APP_SECRET],
        "timeout": 5.0,
    }
    options.update(kwargs)
    return PlatformClient("tmall", sim.base_url, **options)


def call(client: PlatformClient) -> Any:
    return client.request_json(
        "POST", "/router/rest", data={"method": "taobao.trades.sold.get", "page_no": "1"}
    )


# -- throttling and retries -----------------------------------------------------------


def test_ban_code_7_waits_the_announced_seconds_and_resigns(
    sim: TopSim, store: MemoryTokenStore
) -> None:
    sim.script.append(
        {
            "code": 7,
            "msg": "App Call Limited",
            "sub_code": "accesscontrol.limited-by-api-access-count",
            "sub_msg": "This ban will last for 2 more seconds",
        }
    )
    sleeps = Sleeps()
    with make_client(sim, store, sleeps) as client:
        body = call(client)
    assert "trades_sold_get_response" in body
    assert sleeps == [2.0]
    first, second = sim.requests
    # prepare ran again: a fresh timestamp and a fresh, valid signature.
    assert first.query["timestamp"] != second.query["timestamp"]
    assert first.query["sign"] != second.query["sign"]


def test_invalid_signature_is_raised_after_exactly_one_request(
    sim: TopSim, store: MemoryTokenStore
) -> None:
    sleeps = Sleeps()
    with (
        make_client(sim, store, sleeps, prepare=top_prepare("wrong-secret")) as client,
        pytest.raises(SignatureError) as info,
    ):
        call(client)
    assert len(sim.requests) == 1
    assert sleeps == []
    assert info.value.platform == "tmall"
    assert info.value.code == 25
    message = str(info.value)
    assert message.startswith("tmall: POST /router/rest failed: code 25 Invalid Signature")
    assert "check the app key, app secret and sign method" in message


def test_http_429_honours_retry_after(sim: TopSim, store: MemoryTokenStore) -> None:
    sim.faults.inject("status", status=429, headers={"Retry-After": "3"})
    sleeps = Sleeps()
    with make_client(sim, store, sleeps) as client:
        call(client)
    assert sleeps == [3.0]
    assert [r.status for r in sim.requests] == [429, 200]


def test_retry_after_parsing() -> None:
    now = datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_ban_seconds_parsing() -> None:
    assert parse_ban_seconds("This ban will last for 2 more seconds") == 2.0
    assert parse_ban_seconds("this ban will last for 86400 more seconds.") == 86400.0
    assert parse_ban_seconds("Remote service error") is None
    assert parse_ban_seconds(None) is None


def test_5xx_and_dropped_connections_are_retried_with_backoff(
    sim: TopSim, store: MemoryTokenStore
) -> None:
    sim.faults.inject("status", status=503)
    sim.faults.inject("drop")
    sim.faults.inject("body", body="<html>bad gateway</html>", status=502)
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=5, backoff_initial=0.5, backoff_max=30)
    with make_client(sim, store, sleeps, retry=policy) as client:
        call(client)
    assert [r.status for r in sim.requests] == [503, None, 502, 200]
    # Exponential with jitter: initial * 2**(n-1) plus up to `initial` of jitter.
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 1.5 and 2.0 <= sleeps[2] <= 2.5


def test_read_timeout_is_retried(sim: TopSim, store: MemoryTokenStore) -> None:
    sim.faults.inject("slow", delay=0.4)
    log = RequestLog()
    with make_client(sim, store, Sleeps(), timeout=0.1, request_log=log) as client:
        call(client)
    # (The simulator records the slow request only once its sleep ends: ask the client.)
    assert [(e.status, e.attempt) for e in log.entries] == [(None, 1), (200, 2)]
    assert "ReadTimeout" in (log.entries[0].error or "")


def test_prepare_may_mutate_in_place(sim: TopSim, store: MemoryTokenStore) -> None:
    sign_and_return = top_prepare()

    def in_place(req: RequestSpec, token: TokenSet | None) -> None:
        sign_and_return(req, token)

    with make_client(sim, store, Sleeps(), prepare=in_place) as client:
        assert "trades_sold_get_response" in call(client)


def test_isp_envelope_error_is_transient(sim: TopSim, store: MemoryTokenStore) -> None:
    sim.script.append(
        {"code": 15, "msg": "Remote service error", "sub_code": "isp.top-remote-connection-timeout"}
    )
    sleeps = Sleeps()
    with make_client(sim, store, sleeps) as client:
        call(client)
    assert len(sim.requests) == 2 and len(sleeps) == 1


def test_non_json_success_body_is_retried(sim: TopSim, store: MemoryTokenStore) -> None:
    sim.faults.inject("body", body="<html>maintenance</html>", status=200)
    with make_client(sim, store, Sleeps(), classify=None) as client:
        assert "trades_sold_get_response" in call(client)
    assert len(sim.requests) == 2


@pytest.mark.parametrize("status", [400, 404, 403])
def test_4xx_other_than_429_is_not_retried(
    sim: TopSim, store: MemoryTokenStore, status: int
) -> None:
    sim.faults.inject("status", status=status)
    sleeps = Sleeps()
    with make_client(sim, store, sleeps) as client, pytest.raises(PlatformError) as info:
        call(client)
    assert len(sim.requests) == 1 and sleeps == []
    assert info.value.code == status and not info.value.retryable


def test_exhausted_attempts_raise_the_classified_error(
    sim: TopSim, store: MemoryTokenStore
) -> None:
    sim.faults.inject("status", status=503, times=10)
    with (
        make_client(sim, store, Sleeps(), retry=RetryPolicy(max_attempts=3)) as client,
        pytest.raises(TransientError) as info,
    ):
        call(client)
    assert len(sim.requests) == 3
    assert info.value.platform == "tmall" and info.value.code == 503
    assert "tmall: POST /router/rest failed: HTTP 503" in str(info.value)
    assert "gave up after 3 attempts" in str(info.value)


def test_a_ban_longer_than_max_single_wait_raises_at_once(
    sim: TopSim, store: MemoryTokenStore
) -> None:
    sim.script.append(
        {
            "code": 7,
            "msg": "App Call Limited",
            "sub_msg": "This ban will last for 7200 more seconds",
        }
    )
    sleeps = Sleeps()
    with (
        make_client(sim, store, sleeps, retry=RetryPolicy(max_single_wait=900)) as client,
        pytest.raises(ThrottledError) as info,
    ):
        call(client)
    assert sleeps == [] and len(sim.requests) == 1
    assert info.value.retry_after == 7200
    assert "longer than max_single_wait 900 s" in str(info.value)


def test_transport_errors_become_transient_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sleeps = Sleeps()
    client = PlatformClient(
        "jd",
        "http://jd.invalid",
        transport=httpx.MockTransport(refuse),
        sleep=sleeps,
        retry=RetryPolicy(max_attempts=2),
    )
    with client, pytest.raises(TransientError) as info:
        client.request("GET", "/routerjson")
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert len(sleeps) == 1
    assert "jd: GET /routerjson failed" in str(info.value)


def test_rate_limiter_is_drawn_once_per_attempt(sim: TopSim, store: MemoryTokenStore) -> None:
    now = [0.0]

    def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    bucket = TokenBucket(2, 1, clock=lambda: now[0], sleep=fake_sleep)
    sim.faults.inject("status", status=500)
    with make_client(sim, store, Sleeps(), rate_limiter=bucket) as client:
        call(client)
        call(client)
    # Three attempts at 2/s with burst 1: the 2nd and 3rd each wait half a second.
    assert len(sim.requests) == 3 and now[0] == pytest.approx(1.0)


# -- tokens -------------------------------------------------------------------------


def test_token_expired_mid_run_refreshes_once_saves_then_retries(
    sim: TopSim, store: MemoryTokenStore
) -> None:
    sim.store = store
    refresh_calls: list[TokenSet] = []
    with make_client(sim, store, Sleeps(), refresh_calls) as client:
        call(client)
        sim.sessions.discard("access-A-7d1e0c")  # the platform invalidates the token mid-run
        call(client)
        call(client)
    assert len(refresh_calls) == 1
    assert [r.path for r in sim.requests] == [
        "/router/rest",
        "/router/rest",
        "/token",
        "/router/rest",
        "/router/rest",
    ]
    retried = sim.requests[3]
    assert retried.query["session"] == "access-2-7d1e0c"
    # The rotated refresh token was in the store before the new token was used.
    assert sim.store_refresh_seen[0] == "refresh-R2-55aa02"
    saved = store.get_token("tmall")
    assert saved is not None and saved.refresh_token is not None
    assert saved.refresh_token.get_secret_value() == "refresh-R2-55aa02"


def test_second_token_expiry_raises(sim: TopSim, store: MemoryTokenStore) -> None:
    refresh_calls: list[TokenSet] = []
    sim.accept_sessions = False  # the platform rejects every session, even fresh ones
    with (
        make_client(sim, store, Sleeps(), refresh_calls) as client,
        pytest.raises(TokenExpiredError) as info,
    ):
        call(client)
    assert len(refresh_calls) == 1
    assert [r.path for r in sim.requests] == ["/router/rest", "/token", "/router/rest"]
    assert "re-authorise" in str(info.value)


def test_http_401_triggers_a_refresh(store: MemoryTokenStore) -> None:
    class BearerSim(SimulatorBase):
        @route("GET", "/v1/me")
        def me(self, req: SimRequest) -> SimResponse:
            if req.headers.get("Access-Token") != "fresh-token-1":
                return SimResponse.json({"message": "expired"}, status=401)
            return SimResponse.json({"ok": True})

    def prepare(req: RequestSpec, token: TokenSet | None) -> RequestSpec:
        req.headers["Access-Token"] = token.access_token.get_secret_value() if token else ""
        return req

    def refresh(stale: TokenSet) -> TokenSet:
        return tok(access_token="fresh-token-1", refresh_token="fresh-refresh-1")

    manager = TokenManager("tmall", store, refresh)
    with (
        BearerSim() as sim,
        PlatformClient(
            "douyin", sim.base_url, prepare=prepare, token_manager=manager, sleep=Sleeps()
        ) as client,
    ):
        assert client.request_json("GET", "/v1/me") == {"ok": True}
        assert len(sim.requests) == 2


def test_token_manager_refreshes_proactively_within_the_skew() -> None:
    clock = Clock(frozen_at=T0)
    store = MemoryTokenStore()
    store.put_token(
        "xhs",
        tok(
            access_token="old-access",
            refresh_token="old-refresh",
            expires_at=T0 + timedelta(seconds=600),
        ),
    )
    manager = TokenManager(
        "xhs",
        store,
        lambda stale: tok(access_token="new-access", expires_at=clock.now() + timedelta(days=1)),
        refresh_skew=300,
        clock=clock.now,
    )
    assert manager.current().access_token.get_secret_value() == "old-access"
    clock.advance(301)  # now within 300 s of expiry
    assert manager.current().access_token.get_secret_value() == "new-access"
    assert store.get_token("xhs").access_token.get_secret_value() == "new-access"  # type: ignore[union-attr]


def test_concurrent_refreshes_call_the_platform_once() -> None:
    store = MemoryTokenStore()
    stale = tok(access_token="stale-access", refresh_token="stale-refresh")
    store.put_token("douyin", stale)
    calls: list[TokenSet] = []
    barrier = threading.Barrier(4)

    def refresh(old: TokenSet) -> TokenSet:
        calls.append(old)
        return tok(access_token="rotated-access", refresh_token="rotated-refresh")

    manager = TokenManager("douyin", store, refresh)
    results: list[str] = []

    def worker() -> None:
        barrier.wait()
        results.append(manager.refresh(stale).access_token.get_secret_value())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert results == ["rotated-access"] * 4


def test_token_manager_errors_name_what_to_do() -> None:
    store = MemoryTokenStore()
    manager = TokenManager("weibo", store, lambda stale: stale, clock=lambda: T0)
    with pytest.raises(AuthError, match=r"no access token saved.*authorise the account"):
        manager.current()
    expired = tok(
        access_token="a-token", refresh_token="r-token", refresh_expires_at=T0 - timedelta(days=1)
    )
    store.put_token("weibo", expired)
    with pytest.raises(AuthError, match=r"refresh token .* expired"):
        manager.refresh(expired)


# -- logging and redaction ------------------------------------------------------------


def test_secrets_never_reach_the_logs(
    sim: TopSim, store: MemoryTokenStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sim.script.append(
        {"code": 7, "msg": "App Call Limited", "sub_msg": "This ban will last for 1 more seconds"}
    )
    sim.faults.inject("status", status=503)
    log = RequestLog()
    with make_client(sim, store, Sleeps(), request_log=log) as client:
        call(client)
        sim.sessions.discard("access-A-7d1e0c")
        call(client)
    with (
        make_client(sim, store, Sleeps(), prepare=top_prepare("wrong-secret")) as bad,
        pytest.raises(SignatureError) as info,
    ):
        call(bad)
    signatures = {r.query["sign"] for r in sim.requests if "sign" in r.query}
    secrets = {
        APP_SECRET,
        "access-A-7d1e0c",
        "refresh-R1-55aa01",
        "access-2-7d1e0c",
        "refresh-R2-55aa02",
        *signatures,
    }
    logged = [r.getMessage() for r in caplog.records]
    logged += [repr(entry) for entry in log.entries]
    logged.append(str(info.value))
    leaks = [(s, line) for line in logged for s in secrets if s in line]
    assert leaks == []
    # ... while the log still says what happened, attempt by attempt.
    assert [(e.status, e.attempt) for e in log.entries][:3] == [(503, 1), (200, 2), (200, 3)]
    info_lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "omniplug.http" and r.levelno >= logging.INFO
    ]
    assert any(
        "POST http://127.0.0.1:" in line
        and "sign=***" in line
        and "-> 200" in line
        and "(attempt 1)" in line
        for line in info_lines
    )
    # The token endpoint's form and answer are logged at DEBUG, masked by key name.
    assert any("request body:" in line and "refresh_token=***" in line for line in logged)
    assert any("response body:" in line and '"access_token": "***"' in line for line in logged)


def test_redact_by_name() -> None:
    url = "https://eco.taobao.com/router/rest?method=taobao.x&session=abc123&sign=FFEE&app_key=1&x-signature=z"
    assert (
        redact(url)
        == f"https://eco.taobao.com/router/rest?method=taobao.x&session={MASK}&sign={MASK}&app_key=1&x-signature={MASK}"
    )
    assert (
        redact('{"accessToken": "t-1", "page": 2, "nested": {"client_secret": "c"}}')
        == f'{{"accessToken": "{MASK}", "page": 2, "nested": {{"client_secret": "{MASK}"}}}}'
    )
    headers = {
        "Authorization": "OAuth2 tok",
        "Access-Token": "tok",
        "Content-Type": "application/json",
    }
    assert redact(headers) == {
        "Authorization": MASK,
        "Access-Token": MASK,
        "Content-Type": "application/json",
    }
    assert redact({"data": [{"refresh_token": "r", "id": 1}]}) == {
        "data": [{"refresh_token": MASK, "id": 1}]
    }
    assert redact(b"password=hunter2&user=me") == f"password={MASK}&user=me"
    assert redact("Authorization: Bearer abc.def") == f"Authorization: {MASK}"


def test_redact_scrubs_literal_secret_values_anywhere() -> None:
    text = "error: signature mismatch for secret app-secret-9f3c77e1 (token Zk3Q-77)"
    assert (
        redact(text, ["app-secret-9f3c77e1", "Zk3Q-77"])
        == f"error: signature mismatch for secret {MASK} (token {MASK})"
    )
    assert redact("ok 1", ["1"]) == "ok 1"  # too short to be a secret
    # Masking one secret must not glue its neighbours into another one.
    assert "x*****y" not in redact("xabcd**y", ["abcd", "x*****y"])


@given(
    text=st.text(max_size=200),
    secrets=st.lists(st.text(min_size=4, max_size=12), min_size=1, max_size=4),
    data=st.data(),
)
def test_redact_never_leaves_a_registered_secret(
    text: str, secrets: list[str], data: st.DataObject
) -> None:
    # Plant the secrets inside the text at arbitrary places, glued to each other.
    for secret in secrets:
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + secret + text[at:]
    out = redact(text, secrets)
    assert not any(secret in out for secret in secrets)
    nested = redact({"msg": text, "items": [text, {"k": text}]}, secrets)
    for value in (nested["msg"], nested["items"][0], nested["items"][1]["k"]):
        assert not any(secret in value for secret in secrets)


def test_logged_body_previews_mask_phones_and_emails() -> None:
    from omniplug.http.requestlog import preview

    text = preview('{"mobile": "13812345678", "alt": "+86 13912345678", "mail": "a.b@example.com", "tid": 4000000000000000001}')
    assert text is not None
    assert "13812345678" not in text and "13912345678" not in text and "a.b@example.com" not in text
    assert "4000000000000000001" in text  # long ids are not phones

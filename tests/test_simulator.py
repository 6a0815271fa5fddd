"""SimulatorBase and Clock: real HTTP on loopback, routing, recording, fault injection."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from omniplug.testing.simulator import (
    Clock,
    Handler,
    SimRequest,
    SimResponse,
    SimulatorBase,
    route,
)

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


class EchoSim(SimulatorBase):
    """Echoes what it received; a gateway fallback; a route that crashes."""

    @route("GET", "/echo")
    def echo(self, req: SimRequest) -> SimResponse:
        return SimResponse.json(
            {
                "method": req.method,
                "query": req.query,
                "query_all": req.query_all,
                "x_sign": req.headers.get("X-SIGN"),
                "seed": self.seed,
            }
        )

    @route("POST", "/form")
    def form(self, req: SimRequest) -> SimResponse:
        return SimResponse.json({"form": req.form(), "params": req.params()})

    @route("POST", "/json")
    def body_json(self, req: SimRequest) -> SimResponse:
        return SimResponse.json({"got": req.json()}, status=201, headers={"X-Trace": "t1"})

    @route("*", "/any")
    def any_method(self, req: SimRequest) -> SimResponse:
        return SimResponse.text(req.method)

    @route("GET", "/image")
    def image(self, req: SimRequest) -> SimResponse:
        return SimResponse.bytes(b"\x89PNG\r\n", "image/png")

    @route("GET", "/boom")
    def boom(self, req: SimRequest) -> SimResponse:
        raise KeyError("no such campaign 42")

    @route("GET", "/wrong-type")
    def wrong_type(self, req: SimRequest) -> SimResponse:
        return {"not": "a SimResponse"}  # type: ignore[return-value]

    def fallback(self, req: SimRequest) -> SimResponse | None:
        # Gateway style: one path, the operation is a parameter.
        if req.path == "/router" and req.query.get("method") == "ping":
            return SimResponse.json({"pong": True})
        return None


@pytest.fixture
def sim() -> Iterator[EchoSim]:
    with EchoSim(seed=11, clock=Clock(frozen_at=T0)) as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


# -- Clock -------------------------------------------------------------------


def test_clock_follows_real_time_by_default() -> None:
    clock = Clock()
    before = datetime.now(UTC)
    now = clock.now()
    assert now.tzinfo is not None
    assert before <= now <= datetime.now(UTC)


def test_clock_freeze_advance_unfreeze() -> None:
    clock = Clock()
    clock.freeze(T0)
    assert clock.now() == T0
    assert clock.now() == T0  # frozen: does not move by itself
    clock.advance(90)
    assert clock.now() == T0 + timedelta(seconds=90)
    assert clock.time() == (T0 + timedelta(seconds=90)).timestamp()
    clock.unfreeze()
    # Runs again from where it stood, not from the real time.
    assert T0 + timedelta(seconds=90) <= clock.now() < T0 + timedelta(seconds=3600)


def test_clock_advance_while_running_shifts_time() -> None:
    clock = Clock()
    clock.advance(86400)
    assert clock.now() - datetime.now(UTC) > timedelta(hours=23)


def test_clock_sleep_advances_a_frozen_clock() -> None:
    clock = Clock(frozen_at=T0)
    clock.sleep(7200)
    assert clock.now() == T0 + timedelta(hours=2)


def test_clock_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock().freeze(datetime(2024, 1, 1))


# -- serving and routing ------------------------------------------------------


def test_base_url_is_loopback_with_an_ephemeral_port(sim: EchoSim) -> None:
    assert sim.base_url.startswith("http://127.0.0.1:")
    assert int(sim.base_url.rsplit(":", 1)[1]) > 0
    assert sim.seed == 11


def test_base_url_before_start_raises() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        _ = EchoSim().base_url


def test_request_parts_reach_the_handler(sim: EchoSim, http: httpx.Client) -> None:
    r = http.get(f"{sim.base_url}/echo?a=1&tag=x&tag=y", headers={"x-sign": "abc"})
    assert r.status_code == 200
    body = r.json()
    assert body["method"] == "GET"
    assert body["query"] == {"a": "1", "tag": "x"}
    assert body["query_all"] == {"a": ["1"], "tag": ["x", "y"]}
    assert body["x_sign"] == "abc"  # header names are case-insensitive
    assert body["seed"] == 11


def test_form_and_params_helpers(sim: EchoSim, http: httpx.Client) -> None:
    r = http.post(
        f"{sim.base_url}/form?v=2.0&method=q", data={"method": "taobao.x", "page_no": "2"}
    )
    body = r.json()
    assert body["form"] == {"method": "taobao.x", "page_no": "2"}
    assert body["params"] == {"v": "2.0", "method": "taobao.x", "page_no": "2"}


def test_json_body_status_and_headers(sim: EchoSim, http: httpx.Client) -> None:
    r = http.post(f"{sim.base_url}/json", json={"名称": "新品", "n": 2})
    assert r.status_code == 201
    assert r.headers["x-trace"] == "t1"
    assert r.json() == {"got": {"名称": "新品", "n": 2}}
    assert "新品".encode() in r.content  # non-ASCII sent as UTF-8, not \u escapes


def test_any_method_route_text_and_bytes(sim: EchoSim, http: httpx.Client) -> None:
    assert http.delete(f"{sim.base_url}/any").text == "DELETE"
    img = http.get(f"{sim.base_url}/image")
    assert img.headers["content-type"] == "image/png"
    assert img.content == b"\x89PNG\r\n"


def test_unknown_route_is_404_json_and_wrong_method_405(sim: EchoSim, http: httpx.Client) -> None:
    r = http.get(f"{sim.base_url}/nope")
    assert r.status_code == 404
    assert "no route" in r.json()["error"]
    assert http.post(f"{sim.base_url}/echo").status_code == 405


def test_fallback_serves_gateway_style_requests(sim: EchoSim, http: httpx.Client) -> None:
    assert http.get(f"{sim.base_url}/router", params={"method": "ping"}).json() == {"pong": True}
    assert http.get(f"{sim.base_url}/router", params={"method": "other"}).status_code == 404


def test_handler_exception_is_500_and_recorded(sim: EchoSim, http: httpx.Client) -> None:
    r = http.get(f"{sim.base_url}/boom")
    assert r.status_code == 500
    assert "no such campaign 42" in r.json()["error"]
    assert sim.requests[-1].status == 500
    assert "KeyError" in (sim.requests[-1].error or "")
    assert isinstance(sim.errors[-1], KeyError)


def test_handler_returning_the_wrong_type_is_500(sim: EchoSim, http: httpx.Client) -> None:
    r = http.get(f"{sim.base_url}/wrong-type")
    assert r.status_code == 500
    assert "expected SimResponse" in r.json()["error"]


def test_routes_mapping_can_be_extended() -> None:
    class MappedSim(SimulatorBase):
        def routes(self) -> dict[tuple[str, str], Handler]:
            return {**super().routes(), ("GET", "/mapped"): lambda req: SimResponse.text("mapped")}

    with MappedSim() as sim, httpx.Client() as http:
        assert http.get(f"{sim.base_url}/mapped").text == "mapped"


def test_stop_releases_the_port() -> None:
    sim = EchoSim().start()
    url = sim.base_url
    sim.stop()
    sim.stop()  # idempotent
    with pytest.raises(httpx.ConnectError), httpx.Client() as http:
        http.get(f"{url}/echo")


# -- recording ----------------------------------------------------------------


def test_requests_are_recorded_with_clock_time(sim: EchoSim, http: httpx.Client) -> None:
    http.get(f"{sim.base_url}/echo?x=1", headers={"X-A": "b"})
    sim.clock.advance(60)
    http.post(
        f"{sim.base_url}/json", content=b'{"k": 1}', headers={"Content-Type": "application/json"}
    )
    first, second = sim.requests
    assert (first.method, first.path, first.query, first.status) == (
        "GET",
        "/echo",
        {"x": "1"},
        200,
    )
    assert first.headers["x-a"] == "b"
    assert first.time == T0
    assert (second.method, second.body, second.status) == ("POST", b'{"k": 1}', 201)
    assert second.time == T0 + timedelta(seconds=60)
    sim.clear_requests()
    assert sim.requests == []


def test_concurrent_requests_are_all_recorded(sim: EchoSim) -> None:
    def worker(n: int) -> None:
        with httpx.Client() as http:
            for i in range(10):
                assert http.get(f"{sim.base_url}/echo", params={"w": n, "i": i}).status_code == 200

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seen = {(r.query["w"], r.query["i"]) for r in sim.requests}
    assert len(sim.requests) == 40
    assert len(seen) == 40


# -- faults -------------------------------------------------------------------


def test_status_fault_applies_times_then_is_used_up(sim: EchoSim, http: httpx.Client) -> None:
    sim.faults.inject("status", status=429, headers={"Retry-After": "3"}, times=2)
    statuses = [http.get(f"{sim.base_url}/echo") for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 200]
    assert statuses[0].headers["retry-after"] == "3"
    assert [r.status for r in sim.requests] == [429, 429, 200]


def test_fault_path_filter(sim: EchoSim, http: httpx.Client) -> None:
    sim.faults.inject("status", status=503, path="/json")
    assert http.get(f"{sim.base_url}/echo").status_code == 200
    assert http.post(f"{sim.base_url}/json", json={}).status_code == 503
    assert http.post(f"{sim.base_url}/json", json={}).status_code == 201


def test_drop_fault_is_a_transport_error(sim: EchoSim, http: httpx.Client) -> None:
    sim.faults.inject("drop")
    with pytest.raises(httpx.TransportError):
        http.get(f"{sim.base_url}/echo")
    assert sim.requests[-1].status is None
    assert http.get(f"{sim.base_url}/echo").status_code == 200


def test_slow_fault_delays_the_response(sim: EchoSim) -> None:
    sim.faults.inject("slow", delay=0.5)
    with httpx.Client(timeout=0.1) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get(f"{sim.base_url}/echo")
    with httpx.Client(timeout=5) as patient:
        assert patient.get(f"{sim.base_url}/echo").status_code == 200


def test_body_fault_sends_a_custom_response(sim: EchoSim, http: httpx.Client) -> None:
    sim.faults.inject("body", body={"error_response": {"code": 15}})
    sim.faults.inject("body", body="<html>gateway</html>", status=502)
    first = http.get(f"{sim.base_url}/echo")
    assert (first.status_code, first.json()) == (200, {"error_response": {"code": 15}})
    second = http.get(f"{sim.base_url}/echo")
    assert (second.status_code, second.text) == (502, "<html>gateway</html>")


def test_faults_clear(sim: EchoSim, http: httpx.Client) -> None:
    sim.faults.inject("status", status=500, times=5)
    sim.faults.clear()
    assert http.get(f"{sim.base_url}/echo").status_code == 200


@pytest.mark.parametrize(
    ("kind", "kwargs", "message"),
    [
        ("explode", {}, "unknown fault kind"),
        ("status", {}, "needs status"),
        ("slow", {}, "needs delay"),
        ("body", {}, "needs body"),
        ("drop", {"times": 0}, "at least 1"),
    ],
)
def test_invalid_faults_are_refused(kind: str, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EchoSim().faults.inject(kind, **kwargs)  # type: ignore[arg-type]


def test_simulator_log_never_shows_the_query(
    sim: EchoSim, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    http.get(f"{sim.base_url}/echo", params={"sign": "ABCDEF123456", "session": "tok-secret-1"})
    # The simulator's own records (httpx's are the client's business).
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("omniplug"))
    assert "/echo" in text
    assert "ABCDEF123456" not in text
    assert "tok-secret-1" not in text
    assert json.loads(http.get(f"{sim.base_url}/echo").text)["method"] == "GET"

"""Reading media by uri: local files, file URIs and real HTTP on loopback, always within limits."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from omniplug.media import MediaError, MediaLimits, MediaReader
from omniplug.testing import SimulatorBase
from omniplug.testing.messages import SimRequest, SimResponse
from omniplug.testing.simulator import route

PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes


class MediaServer(SimulatorBase):
    """Serves one file, a missing file, a flaky file (503 twice) and a query-signed file."""

    def __init__(self) -> None:
        super().__init__()
        self.flaky_calls = 0

    @route("GET", "/a.jpg")
    def file(self, request: SimRequest) -> SimResponse:
        return SimResponse.bytes(PAYLOAD, content_type="image/jpeg")

    @route("GET", "/flaky.jpg")
    def flaky(self, request: SimRequest) -> SimResponse:
        self.flaky_calls += 1
        if self.flaky_calls <= 2:
            return SimResponse.text("busy", 503)
        return SimResponse.bytes(PAYLOAD, content_type="image/jpeg")

    @route("GET", "/empty.jpg")
    def empty(self, request: SimRequest) -> SimResponse:
        return SimResponse.bytes(b"", content_type="image/jpeg")


class _NoLength(BaseHTTPRequestHandler):
    """Answers with a body and no Content-Length (HTTP/1.0, closes the connection)."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[MediaServer]:
    with MediaServer() as sim:
        yield sim


@pytest.fixture
def no_length_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _NoLength)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/x.jpg"
    httpd.shutdown()
    httpd.server_close()


def test_reads_http_file_uri_and_local_path(server: MediaServer, tmp_path: Path) -> None:
    local = tmp_path / "素材 1.jpg"
    local.write_bytes(PAYLOAD)
    with MediaReader() as reader:
        assert reader.read(server.base_url + "/a.jpg") == PAYLOAD
        assert reader.read(local.as_uri()) == PAYLOAD
        assert reader.read(str(local)) == PAYLOAD


def test_transient_failures_are_retried_then_succeed(server: MediaServer) -> None:
    waits: list[float] = []
    with MediaReader(sleep=waits.append) as reader:
        assert reader.read(server.base_url + "/flaky.jpg") == PAYLOAD
    assert server.flaky_calls == 3 and len(waits) == 2


def test_size_limits_hold_with_and_without_content_length(server: MediaServer, no_length_url: str,
                                                          tmp_path: Path) -> None:
    small = MediaLimits(max_image_bytes=1000, max_video_bytes=20_000)
    local = tmp_path / "big.jpg"
    local.write_bytes(PAYLOAD)
    with MediaReader(small) as reader:
        with pytest.raises(MediaError, match="Content-Length"):
            reader.read(server.base_url + "/a.jpg")
        with pytest.raises(MediaError, match="stopped reading"):
            reader.read(no_length_url)
        with pytest.raises(MediaError, match="over the limit"):
            reader.read(str(local))
        # The video limit applies to videos.
        assert reader.read(no_length_url, "video") == PAYLOAD


@pytest.mark.parametrize("uri, reason", [
    (None, "no uri"),
    ("", "no uri"),
    ("ftp://example.com/a.jpg", "unsupported uri scheme 'ftp'"),
    ("data:image/png;base64,AAAA", "unsupported uri scheme 'data'"),
])
def test_unusable_uris_are_named(uri: str | None, reason: str) -> None:
    with MediaReader() as reader, pytest.raises(MediaError, match=reason):
        reader.read(uri)


def test_missing_empty_and_refused_media_give_reasons(server: MediaServer, tmp_path: Path) -> None:
    (tmp_path / "zero.jpg").write_bytes(b"")
    with MediaReader(sleep=lambda s: None) as reader:
        with pytest.raises(MediaError, match="cannot read"):
            reader.read(str(tmp_path / "missing.jpg"))
        with pytest.raises(MediaError, match="empty"):
            reader.read(str(tmp_path / "zero.jpg"))
        with pytest.raises(MediaError, match="empty"):
            reader.read(server.base_url + "/empty.jpg")
        with pytest.raises(MediaError, match="HTTP 404"):
            reader.read(server.base_url + "/nothing.jpg?token=secret")
    # Signed query strings are not echoed into reasons (they end up in rejects).
    with MediaReader(sleep=lambda s: None) as reader:
        try:
            reader.read(server.base_url + "/nothing.jpg?token=secret")
        except MediaError as exc:
            assert "secret" not in str(exc)


def test_unreachable_host_is_a_reason_after_retries() -> None:
    waits: list[float] = []
    with MediaReader(MediaLimits(timeout=2.0), sleep=waits.append) as reader:
        with pytest.raises(MediaError, match="failed after 3 attempts"):
            reader.read("http://127.0.0.1:9/a.jpg")
    assert len(waits) == 2

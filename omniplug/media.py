"""Reading a material's media (image or video bytes) from its ``uri``, with limits.

Materials name their media by ``uri``: an ``http(s)`` address on the
platform's CDN, a ``file://`` URI, or a local path (back-office exports,
brand asset folders). A hostile or broken file must not exhaust memory or
hang a run, so every read is bounded:

* a size limit checked against ``Content-Length`` before reading and again
  while streaming (servers may lie or omit it), and against the file size
  for local files;
* a timeout per request and a few retries for transient failures (5xx,
  429, dropped connections), never for a 4xx;
* only ``http``, ``https`` and ``file`` schemes (no ``ftp:``, ``data:`` ...).

Decoding limits (pixels, dimensions) are the Rust core's business; this
module only moves bytes. Failures are :class:`MediaError` with a reason that
goes to ``rejects`` as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from omniplug.errors import InvalidInputError

__all__ = ["MediaError", "MediaLimits", "MediaReader"]

MIB = 1024 * 1024


class MediaError(InvalidInputError):
    """A material's media could not be read; ``str(error)`` is the reason for ``rejects``."""


@dataclass(frozen=True)
class MediaLimits:
    """Bounds on reading media.

    Attributes:
        max_image_bytes: largest image file accepted (default 32 MiB; platform
            creatives are far smaller).
        max_video_bytes: largest video file accepted (default 512 MiB).
        timeout: seconds per HTTP request (connect and each read).
        attempts: tries per HTTP read for transient failures.
    """

    max_image_bytes: int = 32 * MIB
    max_video_bytes: int = 512 * MIB
    timeout: float = 30.0
    attempts: int = 3

    def max_bytes(self, media_type: str) -> int:
        """The size limit for ``media_type`` (``image`` or ``video``)."""
        return self.max_video_bytes if media_type == "video" else self.max_image_bytes


class _Transient(Exception):
    """A failure worth another try (5xx, 429, network)."""


class MediaReader:
    """Reads media bytes by URI within :class:`MediaLimits`; one HTTP connection pool for all reads.

    Args:
        limits: the bounds applied to every read.
        client: an ``httpx.Client`` to use (default: a new one, closed by :meth:`close`).
        sleep: how waits between retries are spent (tests pass a fake).
        on_read: called with ``(uri, media_type, data)`` after every successful
            read (the pipeline keeps thumbnails this way); it may run in
            several threads at once and its exceptions are not caught.
    """

    def __init__(self, limits: MediaLimits | None = None, *, client: httpx.Client | None = None,
                 sleep: Callable[[float], object] = time.sleep,
                 on_read: Callable[[str, str, bytes], object] | None = None) -> None:
        self.limits = limits or MediaLimits()
        self.on_read = on_read
        self._own_client = client is None
        self._client = client or httpx.Client(timeout=self.limits.timeout, follow_redirects=True)
        self._sleep = sleep

    def __enter__(self) -> MediaReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this reader made it."""
        if self._own_client:
            self._client.close()

    def read(self, uri: str | None, media_type: str = "image") -> bytes:
        """The bytes of ``uri``, at most ``limits.max_bytes(media_type)`` of them.

        Raises:
            MediaError: no uri, unsupported scheme, missing file, HTTP error,
                empty or oversized content; the message is the reason.
        """
        if not uri:
            raise MediaError("material has no uri")
        limit = self.limits.max_bytes(media_type)
        scheme = urlsplit(uri).scheme.lower()
        if scheme in ("http", "https"):
            data = self._read_http(uri, limit)
        elif scheme == "file" or scheme == "" or (len(scheme) == 1 and uri[1:3] in (":\\", ":/")):
            data = self._read_file(uri, limit)
        else:
            raise MediaError(f"unsupported uri scheme {scheme!r} (use http, https, file or a local path)")
        if not data:
            raise MediaError("media is empty (0 bytes)")
        if self.on_read is not None:
            self.on_read(uri, media_type, data)
        return data

    def _read_file(self, uri: str, limit: int) -> bytes:
        path = Path(unquote(urlsplit(uri).path)) if uri.lower().startswith("file:") else Path(uri)
        try:
            size = path.stat().st_size
            if size > limit:
                raise MediaError(f"media is {size} bytes, over the limit of {limit} bytes")
            with path.open("rb") as fh:
                # Read one byte past the limit: a file growing under us is still caught.
                data = fh.read(limit + 1)
        except OSError as exc:
            raise MediaError(f"cannot read {path}: {exc.strerror or exc}") from None
        if len(data) > limit:
            raise MediaError(f"media is over the limit of {limit} bytes")
        return data

    def _read_http(self, uri: str, limit: int) -> bytes:
        last: Exception | None = None
        for attempt in range(1, self.limits.attempts + 1):
            try:
                return self._get(uri, limit)
            except _Transient as exc:
                last = exc
                if attempt < self.limits.attempts:
                    self._sleep(min(2.0 ** (attempt - 1), 8.0))
        raise MediaError(f"GET {_display(uri)} failed after {self.limits.attempts} attempts: {last}")

    def _get(self, uri: str, limit: int) -> bytes:
        try:
            with self._client.stream("GET", uri) as response:
                status = response.status_code
                if status == 429 or status >= 500:
                    raise _Transient(f"HTTP {status}")
                if status >= 400:
                    raise MediaError(f"GET {_display(uri)} answered HTTP {status}")
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > limit:
                    raise MediaError(f"media is {declared} bytes (Content-Length), over the limit of {limit} bytes")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise MediaError(f"media is over the limit of {limit} bytes (stopped reading)")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TransportError as exc:
            raise _Transient(type(exc).__name__) from None


def _display(uri: str) -> str:
    """``uri`` without its query: CDN URLs often carry signed, expiring tokens there."""
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")

"""Real media behind the simulated library: rendered creatives, MD5 signatures, expiring URLs.

The files are the world's creatives as Douyin edits them
(:class:`omniplug.world.media_server.MediaLibrary`, rendered on first use
and cached for the process, because several simulators of the same world
serve the same files). Videos have 6 frames a second: plenty for frame
fingerprints, and half the rendering time.

Library URLs look like the CDN's signed ones
(``/media/<material_id>.jpg?x-expires=<epoch>&x-signature=<hmac>``) and stop
working one simulated hour after they were listed (403). Xingtu video URLs
(``/media/star/<item_id>.mp4``) do not expire.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from omniplug.testing.simulator import Clock, SimRequest, SimResponse
from omniplug.world import World
from omniplug.world.media_server import MediaLibrary

__all__ = ["URL_LIFETIME_SECONDS", "VIDEO_FPS", "MediaStore"]

URL_LIFETIME_SECONDS = 3600
VIDEO_FPS = 6
_EXTENSIONS = {"image": "jpg", "video": "mp4"}


class MediaStore:
    """Serves the media of one simulated world and mints its URLs."""

    def __init__(self, world: World, clock: Clock) -> None:
        self.library = MediaLibrary(world, "douyin", video_fps=VIDEO_FPS)
        self.clock = clock
        # Deterministic per world, so URLs stay valid across a simulator restart (the demo).
        self._key = hashlib.sha256(f"douyin-media-{world.config.seed}".encode()).digest()
        self.base_url = ""

    def md5(self, material_id: str) -> tuple[str, int]:
        """``(md5 hex, size in bytes)`` of a material: Ocean Engine's ``signature`` and ``size``."""
        file = self.library.get(material_id)
        return file.md5, file.size

    def _sig(self, material_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{material_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, material_id: str, media_type: str) -> str:
        """A library URL valid for one simulated hour from now."""
        expires = int(self.clock.now().timestamp()) + URL_LIFETIME_SECONDS
        ext = _EXTENSIONS[media_type]
        return (f"{self.base_url}/media/{quote(material_id)}.{ext}"
                f"?x-expires={expires}&x-signature={self._sig(material_id, expires)}")

    def star_url(self, item_id: str) -> str:
        """A Xingtu video URL (no expiry)."""
        return f"{self.base_url}/media/star/{quote(item_id)}.mp4"

    def serve(self, req: SimRequest) -> SimResponse | None:
        """Answer a ``/media/...`` request, or ``None`` for other paths."""
        if not req.path.startswith("/media/"):
            return None
        name = req.path[len("/media/"):]
        star = name.startswith("star/")
        stem = name.removeprefix("star/").rsplit(".", 1)[0]
        if stem not in self.library:
            return _cdn_error(404, "object not found")
        if not star:
            error = self._check(stem, req.query)
            if error is not None:
                return error
        file = self.library.get(stem)
        return SimResponse.bytes(file.data, file.media_type)

    def _check(self, material_id: str, query: dict[str, Any]) -> SimResponse | None:
        try:
            expires = int(query.get("x-expires", ""))
        except ValueError:
            return _cdn_error(403, "missing x-expires")
        if not hmac.compare_digest(self._sig(material_id, expires), str(query.get("x-signature", ""))):
            return _cdn_error(403, "signature mismatch")
        if self.clock.now().timestamp() >= expires:
            return _cdn_error(403, "URL expired")
        return None


def _cdn_error(status: int, message: str) -> SimResponse:
    return SimResponse.text(f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>", status,
                            "application/xml")

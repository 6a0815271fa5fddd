"""Real media behind the simulated library: rendered creatives, MD5 signatures, expiring URLs.

Each material is an edit of one of the world's original creatives (the
truth table says which creative and which of Douyin's edit pipelines): an
image is :func:`~omniplug.world.media.render_creative` passed through
:func:`~omniplug.world.media.edit_for_platform`, a video is
:func:`~omniplug.world.media.render_video`. Bytes are rendered on first use
and cached for the process, because several simulators of the same world
(one per test) serve the same files.

Library URLs look like the CDN's signed ones
(``/media/<material_id>.jpg?x-expires=<epoch>&x-signature=<hmac>``) and stop
working one simulated hour after they were listed (403). Xingtu video URLs
(``/media/star/<item_id>.mp4``) do not expire.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from omniplug.testing.simulator import Clock, SimRequest, SimResponse
from omniplug_douyin.sim_world import MediaRef

__all__ = ["URL_LIFETIME_SECONDS", "MediaStore", "media_bytes"]

URL_LIFETIME_SECONDS = 3600
VIDEO_FPS = 6
_TYPES = {"image": ("jpg", "image/jpeg"), "video": ("mp4", "video/mp4")}


@lru_cache(maxsize=256)
def media_bytes(seed: int, creative_id: int, variant: int, media_type: str) -> bytes:
    """The file Douyin serves for an edit of ``creative_id`` (cached per process)."""
    from omniplug.world.media import edit_for_platform, render_creative, render_video

    if media_type == "video":
        # 6 frames a second is plenty for frame fingerprints and halves the rendering time.
        return render_video(creative_id, "douyin", seed=seed, fps=VIDEO_FPS)
    return edit_for_platform(render_creative(creative_id, seed=seed), "douyin", variant, seed=seed)


class MediaStore:
    """Serves the media of one simulated world and mints its URLs."""

    def __init__(self, seed: int, refs: dict[str, MediaRef], clock: Clock) -> None:
        self.seed = seed
        self.refs = refs
        self.clock = clock
        # Deterministic per world, so URLs stay valid across a simulator restart (the demo).
        self._key = hashlib.sha256(f"douyin-media-{seed}".encode()).digest()
        self.base_url = ""

    def content(self, material_id: str) -> bytes:
        """The bytes of a material."""
        ref = self.refs[material_id]
        return media_bytes(self.seed, ref.creative_id, ref.variant, ref.media_type)

    def md5(self, material_id: str) -> tuple[str, int]:
        """``(md5 hex, size in bytes)`` of a material: Ocean Engine's ``signature`` and ``size``."""
        data = self.content(material_id)
        # MD5 here is Ocean Engine's file signature, not a security measure.
        return hashlib.md5(data).hexdigest(), len(data)

    def _sig(self, material_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{material_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, material_id: str, media_type: str) -> str:
        """A library URL valid for one simulated hour from now."""
        expires = int(self.clock.now().timestamp()) + URL_LIFETIME_SECONDS
        ext = _TYPES[media_type][0]
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
        if stem not in self.refs:
            return _cdn_error(404, "object not found")
        if not star:
            error = self._check(stem, req.query)
            if error is not None:
                return error
        ref = self.refs[stem]
        return SimResponse.bytes(self.content(stem), _TYPES[ref.media_type][1])

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

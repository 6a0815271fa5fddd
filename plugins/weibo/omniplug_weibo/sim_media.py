"""The pictures behind the simulated posts: each creative re-edited the way Weibo serves it.

A post's picture is the world's original creative passed through Weibo's
edit pipeline for the material's variant
(:class:`omniplug.world.media_server.MediaLibrary`). ``large`` is that file;
``bmiddle`` and ``thumbnail`` are the smaller renditions Weibo's CDN also
offers. Rendering is deterministic and cached.
"""

from __future__ import annotations

import io
import threading

from PIL import Image

from omniplug.world import World
from omniplug.world.media_server import MediaLibrary, MediaSource

__all__ = ["SIZES", "MediaStore"]

#: Rendition -> longest side in pixels (``None``: the edited file as it is).
SIZES = {"large": None, "bmiddle": 440, "thumbnail": 180}


class MediaStore:
    """Rendered picture bytes by picture id and rendition, made on first request."""

    def __init__(self, world: World, pictures: dict[str, tuple[int, int]]) -> None:
        sources = {pic: MediaSource(creative_id, variant) for pic, (creative_id, variant) in pictures.items()}
        self.library = MediaLibrary(world, "weibo", sources=sources)
        self._small: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def get(self, pic_id: str, size: str) -> bytes | None:
        """The JPEG of ``pic_id`` at ``size``, or ``None`` for an unknown picture or rendition."""
        if pic_id not in self.library or size not in SIZES:
            return None
        large = self.library.get(pic_id).data
        side = SIZES[size]
        if side is None:
            return large
        with self._lock:  # one resize per rendition, even under concurrent downloads
            if (pic_id, size) not in self._small:
                self._small[(pic_id, size)] = _shrink(large, side)
            return self._small[(pic_id, size)]


def _shrink(data: bytes, side: int) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        small = img.convert("RGB")
    small.thumbnail((side, side))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()

"""The pictures behind the simulated posts: each creative re-edited the way Weibo serves it.

A post's picture is the world's original creative passed through Weibo's
edit pipeline for the material's variant (:func:`omniplug.world.media.edit_for_platform`).
``large`` is that file; ``bmiddle`` and ``thumbnail`` are the smaller
renditions Weibo's CDN also offers. Rendering is deterministic and cached.
"""

from __future__ import annotations

import io
import threading

from PIL import Image

from omniplug.world import World

__all__ = ["SIZES", "MediaStore"]

#: Rendition -> longest side in pixels (``None``: the edited file as it is).
SIZES = {"large": None, "bmiddle": 440, "thumbnail": 180}


class MediaStore:
    """Rendered picture bytes by picture id and rendition, made on first request."""

    def __init__(self, world: World, pictures: dict[str, tuple[int, int]]) -> None:
        self.world = world
        self.pictures = pictures
        self._cache: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()

    def get(self, pic_id: str, size: str) -> bytes | None:
        """The JPEG of ``pic_id`` at ``size``, or ``None`` for an unknown picture or rendition."""
        if pic_id not in self.pictures or size not in SIZES:
            return None
        with self._lock:  # one render per picture, even under concurrent downloads
            if (pic_id, size) not in self._cache:
                self._cache[(pic_id, size)] = self._render(pic_id, size)
            return self._cache[(pic_id, size)]

    def _render(self, pic_id: str, size: str) -> bytes:
        side = SIZES[size]
        if side is None:
            from omniplug.world.media import edit_for_platform, render_creative

            creative_id, variant = self.pictures[pic_id]
            seed = self.world.config.seed
            return edit_for_platform(render_creative(creative_id, seed=seed), "weibo", variant, seed=seed)
        large = self._cache.get((pic_id, "large")) or self._render(pic_id, "large")
        self._cache[(pic_id, "large")] = large
        with Image.open(io.BytesIO(large)) as img:
            small = img.convert("RGB")
        small.thumbnail((side, side))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
        return out.getvalue()

"""Creative media served by the simulator: each Tmall material's bytes, as Tmall re-edited them.

The original creative behind a material and the edit pipeline Tmall applied
(``truth_materials``: creative_id, variant) decide the pixels; images are
rendered with :func:`omniplug.world.media.render_creative` and
:func:`~omniplug.world.media.edit_for_platform`, videos with
:func:`~omniplug.world.media.render_video`. Rendering is slow-ish, so each
file is rendered on first request and cached.
"""

from __future__ import annotations

import threading

from omniplug.world import World
from omniplug_tmall.client import PLATFORM

__all__ = ["MediaShelf"]

_EXTENSIONS = {"JPEG": "jpg", "WEBP": "webp", "PNG": "png"}
_BRAND = "Lumière"


class MediaShelf:
    """The media files of the world's Tmall materials, under ``/media/<material_id>.<ext>``."""

    def __init__(self, world: World) -> None:
        self.seed = world.config.seed
        truth = world.truth["truth_materials"].to_pylist()
        self._origin = {t["material_id"]: (t["creative_id"], t["variant"]) for t in truth if t["platform"] == PLATFORM}
        self._video = {m["material_id"] for m in world.slice(PLATFORM)["materials"].to_pylist()
                       if m["media_type"] == "video"}
        self._cache: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def path(self, material_id: str) -> str:
        """The URL path of a material's file (its extension says the encoding Tmall serves)."""
        from omniplug.world.media import platform_edit

        if material_id in self._video:
            return f"/media/{material_id}.mp4"
        _, variant = self._origin[material_id]
        return f"/media/{material_id}.{_EXTENSIONS[platform_edit(PLATFORM, variant).format]}"

    def get(self, path: str) -> tuple[bytes, str] | None:
        """``(bytes, content type)`` of the file at ``path``, or ``None`` if no material has it."""
        material_id = path.removeprefix("/media/").rsplit(".", 1)[0]
        if material_id not in self._origin or self.path(material_id) != path:
            return None
        with self._lock:
            if path not in self._cache:
                self._cache[path] = self._render(material_id)
            return self._cache[path]

    def _render(self, material_id: str) -> tuple[bytes, str]:
        from omniplug.world.media import (
            edit_for_platform,
            platform_edit,
            render_creative,
            render_video,
        )

        creative_id, variant = self._origin[material_id]
        if material_id in self._video:
            return render_video(creative_id, PLATFORM, seed=self.seed, brand=_BRAND), "video/mp4"
        original = render_creative(creative_id, seed=self.seed)
        data = edit_for_platform(original, PLATFORM, variant, seed=self.seed, brand=_BRAND)
        return data, platform_edit(PLATFORM, variant).media_type

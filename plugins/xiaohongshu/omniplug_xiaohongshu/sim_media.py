"""Real media bytes for the simulator's notes: the world's creatives, re-edited the Xiaohongshu way.

A note's image is the original creative (``truth_materials.creative_id``)
run through Xiaohongshu's edit pipeline ``variant`` (3:4 or square note
covers with the RED logo, WebP), so matching assets across platforms is
measured on realistic edits. Video notes are short MP4s of the creative.
Rendering takes a moment, so bytes are made on first request and cached.
"""

from __future__ import annotations

import threading

from omniplug.world import World
from omniplug_xiaohongshu.codes import PLATFORM

__all__ = ["MediaStore", "media_path"]

_EXTENSIONS = {"JPEG": "jpg", "WEBP": "webp", "PNG": "png"}


def media_path(material_id: str, media_type: str, variant: int) -> str:
    """The simulator path serving a material: ``/media/<id>.webp`` (or ``.jpg``, ``.mp4``)."""
    if media_type == "video":
        return f"/media/{material_id}.mp4"
    from omniplug.world.media import platform_edit

    return f"/media/{material_id}.{_EXTENSIONS.get(platform_edit(PLATFORM, variant).format, 'bin')}"


class MediaStore:
    """Renders and caches the media of each material on demand (thread-safe)."""

    def __init__(self, world: World, materials: dict[str, tuple[int, int, str]]) -> None:
        self._seed = world.config.seed
        self._materials = materials
        self._cache: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def path(self, material_id: str) -> str:
        """The path of ``material_id``'s media file."""
        _, variant, media_type = self._materials[material_id]
        return media_path(material_id, media_type, variant)

    def get(self, name: str) -> tuple[bytes, str] | None:
        """``(bytes, content type)`` of ``<material_id>.<ext>``, or ``None`` if there is no such file."""
        material_id = name.rsplit(".", 1)[0]
        if material_id not in self._materials or f"/media/{name}" != self.path(material_id):
            return None
        with self._lock:
            if name not in self._cache:
                self._cache[name] = self._render(material_id)
            return self._cache[name]

    def _render(self, material_id: str) -> tuple[bytes, str]:
        from omniplug.world.media import (
            edit_for_platform,
            media_type_of,
            render_creative,
            render_video,
        )

        creative_id, variant, media_type = self._materials[material_id]
        if media_type == "video":
            data = render_video(creative_id, PLATFORM, seed=self._seed)
        else:
            data = edit_for_platform(render_creative(creative_id, seed=self._seed), PLATFORM, variant, seed=self._seed)
        return data, media_type_of(data)

"""Creative media bytes for the JD simulator: the world's creatives, edited the way JD edits them.

Each JD material is an edit (``variant``) of one of the world's original
creatives (``truth_materials``): images go through
:func:`omniplug.world.media.edit_for_platform` for ``"jd"``, videos through
:func:`~omniplug.world.media.render_video`. Bytes are drawn on first request
and cached, so the same URL always gives the same bytes.
"""

from __future__ import annotations

import threading

from omniplug.world import World

__all__ = ["MediaCache"]

_EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "image/png": "png", "video/mp4": "mp4"}


class MediaCache:
    """Names, renders and caches the media files of the JD materials of ``world``."""

    def __init__(self, world: World) -> None:
        self._seed = world.config.seed
        kinds = {m["material_id"]: m["media_type"] for m in world.slice("jd")["materials"].to_pylist()}
        self._materials = {m["material_id"]: (m["creative_id"], m["variant"], kinds.get(m["material_id"], "image"))
                           for m in world.truth["truth_materials"].to_pylist() if m["platform"] == "jd"}
        self._cache: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()

    def file_name(self, material_id: str) -> str:
        """``<material_id>.<ext>``, the extension following what JD's edit of it encodes to."""
        _, variant, kind = self._materials[material_id]
        if kind == "video":
            return f"{material_id}.mp4"
        # Imported here: drawing needs Pillow, numpy and PyAV, which the gateway alone does not.
        from omniplug.world.media import platform_edit

        return f"{material_id}.{_EXTENSIONS[platform_edit('jd', variant).media_type]}"

    def get(self, name: str) -> tuple[bytes, str] | None:
        """``(bytes, content type)`` of a file named by :meth:`file_name`, or ``None`` if there is none."""
        material_id = name.rpartition(".")[0]
        if material_id not in self._materials or name != self.file_name(material_id):
            return None
        with self._lock:
            if name not in self._cache:
                self._cache[name] = self._render(*self._materials[material_id])
            return self._cache[name]

    def _render(self, creative_id: int, variant: int, kind: str) -> tuple[bytes, str]:
        from omniplug.world import media

        if kind == "video":
            data = media.render_video(creative_id, "jd", seed=self._seed)
        else:
            data = media.edit_for_platform(media.render_creative(creative_id, seed=self._seed), "jd", variant,
                                           seed=self._seed)
        return data, media.media_type_of(data)

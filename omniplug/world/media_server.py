"""The media files a platform simulator serves: the world's creatives as that platform edited them.

Each platform material is an edit of one of the world's original
creatives (``truth_materials``: ``creative_id`` and the platform's edit
pipeline ``variant``). An image is :func:`~omniplug.world.media.render_creative`
passed through :func:`~omniplug.world.media.edit_for_platform`; a video is
:func:`~omniplug.world.media.render_video`. :class:`MediaLibrary` names,
renders and caches those files for one platform::

    library = MediaLibrary(world, "jd")
    name = library.file_name(material_id)      # '8812.jpg' (no rendering)
    found = library.find(name)                 # MediaFile(data, media_type) or None
    found.md5, found.size                      # what some APIs report of a file

Rendering takes a moment, so a file is drawn on first request and kept in
a cache shared by the process: the simulators of one world (one per test)
serve the same bytes without drawing them again. Platform specifics, such as
URL shapes, signed or expiring URLs and extra renditions, stay in the plugin.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from omniplug.world import World

__all__ = [
    "EXTENSIONS", "MediaFile", "MediaLibrary", "MediaSource", "media_file_name", "media_type_of_source",
    "world_media_sources",
]

#: MIME type -> file extension of the files simulators serve.
EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp", "image/png": "png", "video/mp4": "mp4"}

# Rendering is deterministic, so files are shared by every library of the process.
_render_lock = threading.Lock()


class MediaSource(NamedTuple):
    """What a served file is drawn from: the original creative, the platform's edit, image or video."""

    creative_id: int
    variant: int
    kind: str = "image"  # "image" or "video"


@dataclass(frozen=True)
class MediaFile:
    """One served file: its bytes and MIME type."""

    data: bytes
    media_type: str

    @property
    def md5(self) -> str:
        """MD5 hex digest of the bytes (a file signature some platforms report, not a security measure)."""
        return hashlib.md5(self.data).hexdigest()

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


def media_type_of_source(platform: str, source: MediaSource) -> str:
    """The MIME type ``platform`` serves ``source`` as (``video/mp4``, or its edit's image type)."""
    if source.kind == "video":
        return "video/mp4"
    # Imported here: drawing needs Pillow, numpy and PyAV, which a plugin's gateway code does not.
    from omniplug.world.media import platform_edit

    return platform_edit(platform, source.variant).media_type


def media_file_name(platform: str, key: str, source: MediaSource) -> str:
    """``<key>.<ext>``, the extension saying what ``platform`` encodes ``source`` to."""
    return f"{key}.{EXTENSIONS.get(media_type_of_source(platform, source), 'bin')}"


@lru_cache(maxsize=256)
def _render(seed: int, platform: str, source: MediaSource, brand: str | None, video_fps: int | None) -> MediaFile:
    from omniplug.world.media import edit_for_platform, render_creative, render_video

    if source.kind == "video":
        fps = {} if video_fps is None else {"fps": video_fps}
        data = render_video(source.creative_id, platform, seed=seed, brand=brand, **fps)
    else:
        original = render_creative(source.creative_id, seed=seed)
        data = edit_for_platform(original, platform, source.variant, seed=seed, brand=brand)
    return MediaFile(data, media_type_of_source(platform, source))


def world_media_sources(world: World, platform: str) -> dict[str, MediaSource]:
    """Material id -> source of every ``platform`` material of ``world`` (kind from its ``materials`` row)."""
    kinds = {m["material_id"]: m["media_type"] for m in world.slice(platform)["materials"].to_pylist()}
    return {t["material_id"]: MediaSource(int(t["creative_id"]), int(t["variant"]),
                                          kinds.get(t["material_id"]) or "image")
            for t in world.truth["truth_materials"].to_pylist()
            if t["platform"] == platform}


class MediaLibrary:
    """The media files of one platform's materials in a world, rendered on first request.

    Args:
        world: the world whose creatives are drawn (its seed picks the texts).
        platform: whose edits (``tmall``, ``jd``, ``douyin``, ``xiaohongshu``, ``weibo``).
        sources: key -> :class:`MediaSource`; by default every material of
            ``platform`` in ``world.truth["truth_materials"]``, keyed by material id.
        brand: the brand printed by the platform's edits and video cards
            (default: the seed's brand).
        video_fps: frame rate of videos (default: :func:`~omniplug.world.media.render_video`'s).
    """

    def __init__(self, world: World, platform: str, *, sources: Mapping[str, MediaSource] | None = None,
                 brand: str | None = None, video_fps: int | None = None) -> None:
        self.platform = platform
        self.seed = world.config.seed
        self.sources: dict[str, MediaSource] = (world_media_sources(world, platform) if sources is None
                                                else {k: MediaSource(*v) for k, v in sources.items()})
        self.brand = brand
        self.video_fps = video_fps

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` names a file of this library."""
        return key in self.sources

    def media_type(self, key: str) -> str:
        """The MIME type of ``key``'s file, without rendering it."""
        return media_type_of_source(self.platform, self.sources[key])

    def file_name(self, key: str) -> str:
        """``<key>.<ext>`` (``8812.jpg``, ``8812.webp``, ``8812.mp4``), without rendering."""
        return media_file_name(self.platform, key, self.sources[key])

    def get(self, key: str) -> MediaFile:
        """The file of ``key`` (rendered once per process); ``KeyError`` for an unknown key."""
        source = self.sources[key]
        with _render_lock:  # one render per file, even under concurrent downloads
            return _render(self.seed, self.platform, source, self.brand, self.video_fps)

    def find(self, file_name: str) -> MediaFile | None:
        """The file named ``file_name`` (as :meth:`file_name` gives it), or ``None`` if there is none."""
        key = file_name.rpartition(".")[0]
        if key not in self.sources or self.file_name(key) != file_name:
            return None
        return self.get(key)

"""Small thumbnails of creatives, embedded in the report as ``data:`` URIs.

The report must open without a network, so every picture travels inside
the HTML file. A thumbnail comes from, in order: the ``media`` function
given to :func:`omniplug.report.build_report` (bytes of a material's file,
e.g. from a media cache or the demo's world), else the material's ``uri``
when it is a local path or a ``file://`` URI that can be read. Nothing is
fetched over the network. Images are decoded with Pillow, videos through
PyAV (a frame from the middle), downscaled to fit
:data:`THUMB_SIZE` and re-encoded as a small JPEG. Anything that cannot be
read (unreachable URI, broken file, unknown format, oversized file) gives
no thumbnail, silently: the report still renders with a placeholder.
"""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["MAX_MEDIA_BYTES", "THUMB_SIZE", "MediaSource", "thumbnail", "thumbnail_bytes"]

log = logging.getLogger(__name__)

#: A function ``(platform, material_id) -> encoded image or video bytes, or None``.
MediaSource = Callable[[str, str], bytes | None]
#: Largest side of a thumbnail, in pixels.
THUMB_SIZE = (96, 96)
#: Media files larger than this are not read (a thumbnail is not worth it).
MAX_MEDIA_BYTES = 64 * 1024 * 1024
# Pillow's own decompression-bomb guard, made strict: refuse rather than warn.
_MAX_PIXELS = 64_000_000
# Frames decoded at most while looking for the middle of a video.
_MAX_DECODED_FRAMES = 300


def _local_path(uri: str | None) -> Path | None:
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # http, https, s3...: not local (a 1-letter scheme is a drive)
        return None
    return Path(uri)


def _video_frame(data: bytes) -> object:
    """A frame from the middle of a video (the start is often a brand card shared by every video)."""
    import av

    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        target = stream.duration // 2 if stream.duration and stream.duration > 0 else 0
        if target:
            try:  # lands on the keyframe before the target; decode forward from there
                container.seek(target, stream=stream)
            except av.error.FFmpegError:
                container.seek(0)
        last = None
        for n, frame in enumerate(container.decode(stream)):
            last = frame
            if frame.pts is None or frame.pts >= target or n >= _MAX_DECODED_FRAMES:
                break
        if last is None:
            raise ValueError("no video frame")
        return last.to_image()


def thumbnail_bytes(data: bytes, *, media_type: str | None = None) -> str | None:
    """A ``data:image/jpeg;base64,...`` thumbnail of an encoded image or video, or ``None``."""
    from PIL import Image

    if not data or len(data) > MAX_MEDIA_BYTES:
        return None
    try:
        if media_type == "video":
            img = _video_frame(data)
        else:
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > _MAX_PIXELS:
                return None
            img.load()
    except Exception as exc:  # noqa: BLE001 - any decoder failure just means "no thumbnail"
        if media_type != "video":
            try:  # a file labelled image may be a video, and the other way round
                img = _video_frame(data)
            except Exception:  # noqa: BLE001
                log.debug("report: no thumbnail (%s)", exc)
                return None
        else:
            log.debug("report: no thumbnail (%s)", exc)
            return None
    assert isinstance(img, Image.Image)
    img = img.convert("RGB")
    img.thumbnail(THUMB_SIZE)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def thumbnail(platform: str, material_id: str, uri: str | None, media_type: str | None,
              media: MediaSource | None = None) -> str | None:
    """The thumbnail of one material as a ``data:`` URI, or ``None`` when its media cannot be read locally."""
    data: bytes | None = None
    if media is not None:
        try:
            data = media(platform, material_id)
        except Exception as exc:  # noqa: BLE001 - a user-supplied source; a failure means no thumbnail
            log.debug("report: media source failed for %s/%s (%s)", platform, material_id, exc)
    if data is None:
        path = _local_path(uri)
        try:
            if path is not None and path.is_file() and path.stat().st_size <= MAX_MEDIA_BYTES:
                data = path.read_bytes()
        except OSError as exc:
            log.debug("report: cannot read %s (%s)", path, exc)
    return thumbnail_bytes(data, media_type=media_type) if data else None

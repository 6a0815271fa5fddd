"""Short videos built from a creative, and frames read back from videos.

A video is a short intro card that dissolves into the creative, edited to
the platform's video format, followed by a slow zoom and pan (Ken Burns).
The first frame after the intro is exactly :func:`video_cover`, the still a
platform shows as the video's cover, so a fingerprint of the cover matches a
frame of the video.

Encoding goes through PyAV, whose wheels carry their own FFmpeg: H.264
(``libx264``) when the wheel has it, MPEG-4 part 2 (``mpeg4``) otherwise;
:data:`VIDEO_CODEC` says which. The encoder runs single-threaded with fixed
settings, frames are handed over with every byte defined (see
``_to_yuv420``), and the MP4 muxer writes no wall-clock time, so the same
arguments give the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from types import MappingProxyType

import av
import av.error
import numpy as np
from PIL import Image, ImageDraw

from omniplug.errors import InvalidInputError
from omniplug.world.media_creative import render_creative
from omniplug.world.media_edits import cover_crop, resize
from omniplug.world.media_platforms import platform_edit
from omniplug.world.media_text import brand_name, draw_text
from omniplug.world.media_texture import (
    linear_gradient,
    make_palette,
    rng_for,
    to_image,
)

__all__ = ["VIDEO_CODEC", "VIDEO_FORMATS", "intro_frames", "render_video", "video_cover", "video_frames"]


def _has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except (av.error.FFmpegError, ValueError):
        return False
    return True


#: The encoder :func:`render_video` uses: ``libx264`` if PyAV's FFmpeg has it, else ``mpeg4``.
VIDEO_CODEC = "libx264" if _has_encoder("libx264") else "mpeg4"

#: Per platform: the default video size and the still-edit variant whose look the frames take.
VIDEO_FORMATS: Mapping[str, tuple[tuple[int, int], int]] = MappingProxyType({
    "douyin": ((540, 960), 0),
    "xiaohongshu": ((540, 720), 0),
    "weibo": ((960, 540), 1),
    "tmall": ((720, 720), 1),
    "jd": ((720, 720), 0),
})

_MAX_SECONDS = 60.0


def _video_format(platform: str, size: tuple[int, int] | None) -> tuple[tuple[int, int], int]:
    if platform not in VIDEO_FORMATS:
        raise InvalidInputError(f"unknown platform {platform!r}; expected one of {', '.join(VIDEO_FORMATS)}")
    default, variant = VIDEO_FORMATS[platform]
    w, h = size or default
    if w % 2 or h % 2 or not (32 <= w <= 1920 and 32 <= h <= 1920):
        raise InvalidInputError(f"video size {(w, h)} must be even and 32-1920 pixels per side")
    return (w, h), variant


def video_cover(
    creative_id: int,
    platform: str,
    *,
    seed: int = 0,
    size: tuple[int, int] | None = None,
    brand: str | None = None,
    price: int | None = None,
    creative: Image.Image | None = None,
) -> Image.Image:
    """The still cover of ``platform``'s video of a creative: the creative in the platform's video look.

    Arguments are those of :func:`render_video`.
    """
    (w, h), variant = _video_format(platform, size)
    if creative is None:
        side = max(w, h)
        creative = render_creative(creative_id, seed=seed, size=(side, side), brand=brand, price=price)
    still = platform_edit(platform, variant).apply(creative, seed=seed, brand=brand, price=price)
    return resize(cover_crop(still, (w, h)), (w, h))


def intro_frames(seed: int, size: tuple[int, int], count: int, brand: str | None = None) -> list[Image.Image]:
    """``count`` frames of the brand's intro card (a gradient, an emblem and the brand name)."""
    rng = rng_for(seed, "intro")
    pal = make_palette(rng, "bold")
    w, h = size
    base = to_image(linear_gradient(size, pal.bg0, pal.bg1, float(rng.uniform(0, 360))))
    frames = []
    for i in range(count):
        card = base.copy()
        draw = ImageDraw.Draw(card)
        # The emblem grows and the name rises a little: an intro that moves.
        t = (i + 1) / count
        r = min(w, h) * (0.08 + 0.04 * t)
        cx, cy = w / 2, h * 0.42
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=pal.accent2, width=max(2, round(r * 0.15)))
        draw_text(draw, (w / 2, h * (0.6 - 0.03 * t)), brand or brand_name(seed), size=round(min(w, h) * 0.1),
                  fill=(255, 255, 255), anchor="mm", max_width=0.8 * w)
        frames.append(card)
    return frames


def _ken_burns(cover: Image.Image, count: int, rng_key: tuple[int, ...]) -> Iterator[Image.Image]:
    """``count`` frames zooming from the full cover (first frame: the cover itself) into a drifting window."""
    rng = rng_for(*rng_key, "ken-burns")
    w, h = cover.size
    zoom = float(rng.uniform(1.08, 1.18))
    # Where the window's centre ends up, as a fraction of the room the zoom leaves.
    tx, ty = float(rng.uniform(-1.0, 1.0)), float(rng.uniform(-1.0, 1.0))
    for i in range(count):
        t = i / max(1, count - 1)
        ease = t * t * (3 - 2 * t)
        z = 1.0 + (zoom - 1.0) * ease
        bw, bh = w / z, h / z
        x0 = (w - bw) / 2 * (1 + tx * ease)
        y0 = (h - bh) / 2 * (1 + ty * ease)
        if i == 0:
            yield cover.copy()
        else:
            yield cover.resize((w, h), Image.Resampling.BILINEAR, box=(x0, y0, x0 + bw, y0 + bh))


def _to_yuv420(img: Image.Image) -> av.VideoFrame:
    """An RGB image as a yuv420p frame (BT.601, limited range), every byte of it defined.

    Frames made by FFmpeg's converter (``VideoFrame.from_image``) or
    ``from_ndarray`` leave the rows' alignment padding uninitialised, and
    libx264 reads it, so the encoded bytes differed from run to run; here the
    conversion is done in NumPy and the padding is filled.
    """
    rgb = np.asarray(img.convert("RGB"), dtype=np.float32)
    h, w = rgb.shape[:2]

    # Explicit weighted sums rather than ``rgb @ weights``: the order of the float
    # operations stays fixed whatever BLAS and threading numpy was built with.
    def mix(px: np.ndarray, kr: float, kg: float, kb: float) -> np.ndarray:
        return (px[..., 0] * np.float32(kr) + px[..., 1] * np.float32(kg) + px[..., 2] * np.float32(kb)) / 255.0

    y = 16.0 + mix(rgb, 65.481, 128.553, 24.966)
    # Chroma of each 2x2 block: average the block's RGB, then convert (the map is linear).
    block = rgb.reshape(h // 2, 2, w // 2, 2, 3).mean(axis=(1, 3))
    cb = 128.0 + mix(block, -37.797, -74.203, 112.0)
    cr = 128.0 + mix(block, 112.0, -93.786, -18.214)
    frame = av.VideoFrame(w, h, "yuv420p")
    for plane, values in zip(frame.planes, (y, cb, cr), strict=True):
        rows = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        # Fill each row's alignment padding too (edge pixels repeated): FFmpeg leaves it
        # uninitialised and x264 reads it, which made the bytes differ between runs.
        pad = plane.line_size - rows.shape[1]
        if pad:
            rows = np.pad(rows, ((0, 0), (0, pad)), mode="edge")
        plane.update(np.ascontiguousarray(rows).tobytes())
    return frame


def _from_yuv420(frame: av.VideoFrame) -> Image.Image:
    """The RGB image of a decoded frame; the inverse of :func:`_to_yuv420` for yuv420p."""
    if frame.format.name != "yuv420p":
        return frame.to_image().convert("RGB")
    raw = frame.to_ndarray()
    h, w = frame.height, frame.width
    y = raw[:h].astype(np.float32) - 16.0
    chroma = raw[h:].reshape(2, h // 2, w // 2).astype(np.float32) - 128.0
    cb, cr = (np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)[:h, :w] for c in chroma)
    rgb = np.stack([1.164 * y + 1.596 * cr, 1.164 * y - 0.392 * cb - 0.813 * cr, 1.164 * y + 2.017 * cb], axis=-1)
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))


def _encode(frames: Iterator[Image.Image], size: tuple[int, int], fps: int, codec: str) -> bytes:
    buf = io.BytesIO()
    options = {"preset": "veryfast", "crf": "23"} if codec == "libx264" else {}
    if codec == "libx264":
        # Repeatable bytes need one thread everywhere (a "threads" option alone
        # leaves the lookahead threaded) and cpu-independent mode (otherwise the
        # SIMD macroblock-tree code rounds differently from run to run).
        options["x264-params"] = "threads=1:lookahead-threads=1:sliced-threads=0:cpu-independent=1"
    with av.open(buf, mode="w", format="mp4") as out:
        try:
            stream = out.add_stream(codec, rate=fps, options=options)
        except ValueError as exc:
            raise InvalidInputError(f"unknown video codec {codec!r}") from exc
        if not isinstance(stream, av.VideoStream):
            raise InvalidInputError(f"codec {codec!r} is not a video codec")
        stream.codec_context.thread_count = 1
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if codec != "libx264":
            stream.bit_rate = 1_500_000  # mpeg4 is rate-controlled, not crf-controlled
        for i, img in enumerate(frames):
            frame = _to_yuv420(img)
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def render_video(
    creative_id: int,
    platform: str,
    *,
    seed: int = 0,
    seconds: float = 3.0,
    fps: int = 10,
    size: tuple[int, int] | None = None,
    brand: str | None = None,
    price: int | None = None,
    creative: Image.Image | None = None,
    codec: str | None = None,
) -> bytes:
    """An MP4 video of a creative as ``platform`` would show it.

    Args:
        creative_id: the creative (rendered with :func:`render_creative`) and the seed of its motion.
        platform: ``tmall``, ``jd``, ``douyin``, ``xiaohongshu`` or ``weibo``.
        seed: the world seed.
        seconds: duration (at most 60).
        fps: frames per second (1-60).
        size: frame size, even numbers; default the platform's (:data:`VIDEO_FORMATS`),
            540 x 960 for Douyin.
        brand: the brand on the intro card and in the platform's overlays.
        price: the price on price bands, if the platform's look has one.
        creative: an already rendered original to use instead of rendering ``creative_id``.
        codec: the encoder; default :data:`VIDEO_CODEC`.

    The video opens with an intro card (about 0.5 s) that dissolves into
    :func:`video_cover`, which is then slowly zoomed and panned.
    """
    if not (0 < seconds <= _MAX_SECONDS) or not (1 <= fps <= 60):
        raise InvalidInputError(f"seconds {seconds} must be in (0, {_MAX_SECONDS}] and fps {fps} in 1-60")
    (w, h), _ = _video_format(platform, size)
    cover = video_cover(creative_id, platform, seed=seed, size=(w, h), brand=brand, price=price, creative=creative)
    total = max(2, round(seconds * fps))
    n_intro = max(1, min(round(0.5 * fps), total // 3))
    intro = intro_frames(seed, (w, h), n_intro, brand)
    # The last intro frames dissolve into the cover, so the cut is not a hard one.
    for k in range(1, min(3, n_intro)):
        intro[-k] = Image.blend(intro[-k], cover, 1.0 - k / 3)

    def frames() -> Iterator[Image.Image]:
        yield from intro
        yield from _ken_burns(cover, total - n_intro, (seed, creative_id, w, h))

    return _encode(frames(), (w, h), fps, codec or VIDEO_CODEC)


def video_frames(data: bytes, every_seconds: float = 1.0) -> list[Image.Image]:
    """Decode frames of a video, one every ``every_seconds`` starting at 0 (RGB images).

    Each image's ``info["time"]`` holds its presentation time in seconds. Pass
    ``1 / fps`` (or less) to get every frame. Raises ``InvalidInputError`` for
    bytes that are not a video.
    """
    if every_seconds <= 0:
        raise InvalidInputError(f"every_seconds {every_seconds} must be positive")
    picked: list[Image.Image] = []
    next_time = 0.0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidInputError("the media has no video stream")
            for frame in container.decode(container.streams.video[0]):
                t = float(frame.time or 0.0)
                if t + 1e-6 < next_time:
                    continue
                img = _from_yuv420(frame)
                img.info["time"] = t
                picked.append(img)
                while next_time <= t + 1e-6:
                    next_time += every_seconds
    except av.error.FFmpegError as exc:
        raise InvalidInputError(f"not a decodable video ({len(data)} bytes): {exc}") from exc
    return picked

"""Video fingerprints: sampled frames hashed like still images.

:func:`fingerprint_video` decodes each video with PyAV (whose wheels carry
FFmpeg's decoders), keeps the first frame (what platforms show as the cover
by default) and then one frame every ``every_seconds`` seconds, spreading the
samples over the whole video when it is longer than ``max_frames`` samples
allow. Each kept frame's luma goes to the Rust core, frames batched and
hashed in parallel with the GIL released, and comes back as
``material_fingerprints`` rows whose ``frame`` is the frame's index in the
video (0 = the first frame). The luma hashed is the frame's Y plane as
encoded, rescaled from video range (16-235) to 0-255, turned upright when
the file carries a display rotation (phone videos).

A still image that is a frame or the cover of a video matches it:
:func:`omniplug.group_assets` treats every frame's codes as the material's
codes, so one matching window of one frame joins the image to the video.
Two videos, though, must share most of their sampled frames (a brand's
shared intro card is not enough); see ``video_min_overlap`` there.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import av
import av.error
import numpy as np
import pyarrow as pa

from omniplug import _core
from omniplug.errors import InvalidInputError
from omniplug.fingerprint_io import (
    ALGORITHMS,
    DEFAULTS,
    FingerprintResult,
    attach_keys,
    concat,
    keyed_rejects,
    media_columns,
    options_json,
    pixel_buffer,
    source_table,
    uri_to_path,
)
from omniplug.schema import schema_of

__all__ = ["DEFAULT_MAX_VIDEO_BYTES", "fingerprint_video", "sample_frames"]

#: Default size limit of one video (512 MiB).
DEFAULT_MAX_VIDEO_BYTES = 512 * 1024 * 1024
#: Frames handed to the core per call: enough to keep every core busy, few enough
#: that their full-size luma planes stay small in memory.
FRAMES_PER_CALL = 32
#: Pixel formats whose first plane is 8-bit luma.
_Y_PLANE_FORMATS = frozenset(
    {"yuv420p", "yuv422p", "yuv444p", "yuv411p", "yuv410p", "yuv440p", "nv12", "nv21", "nv16", "nv24",
     "yuvj420p", "yuvj422p", "yuvj444p", "yuvj440p", "yuvj411p", "gray"}
)
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG


def _luma_buffer(frame: av.VideoFrame) -> tuple[bytes, int, int, str, int]:
    """The frame as the core's pixel buffer, turned upright when the video carries a rotation."""
    w, h = frame.width, frame.height
    turns = round((frame.rotation or 0) / 90) % 4
    if frame.format.name in _Y_PLANE_FORMATS:
        plane = frame.planes[0]
        full = frame.format.name.startswith("yuvj") or frame.format.name == "gray" or frame.color_range == _FULL_RANGE
        layout = "gray" if full else "video_y"
        if not turns:
            # The plane as it is, row padding included: the core skips it by the stride.
            return bytes(plane), w, h, layout, plane.line_size
        y = np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)[:, :w]
        # FFmpeg's display matrix rotates counter-clockwise by ``rotation`` degrees, as np.rot90 does.
        y = np.ascontiguousarray(np.rot90(y, turns))
        return y.tobytes(), y.shape[1], y.shape[0], layout, 0
    rgb = frame.to_ndarray(format="rgb24")
    return pixel_buffer(np.rot90(rgb, turns) if turns else rgb)


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def sample_frames(
    container: av.container.InputContainer, every_seconds: float, max_frames: int
) -> Iterator[tuple[int, av.VideoFrame]]:
    """``(frame index, frame)`` of the frames :func:`fingerprint_video` hashes.

    The first frame, then the first frame at or after each multiple of the
    step; the step is ``every_seconds``, or longer when the video's duration
    is known and more than ``max_frames`` samples would be needed. Stops
    after ``max_frames`` frames, so decoding is bounded even when the
    duration is unknown.
    """
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    duration = _duration(container, stream)
    step = every_seconds
    if duration is not None and duration > 0:
        step = max(step, duration / max_frames)
    rate = float(stream.average_rate) if stream.average_rate else 0.0
    next_time, taken = 0.0, 0
    for index, frame in enumerate(container.decode(stream)):
        t = frame.time if frame.time is not None else (index / rate if rate else float(index))
        if index > 0 and t + 1e-6 < next_time:
            continue
        yield index, frame
        taken += 1
        if taken >= max_frames:
            return
        while next_time <= t + 1e-6:
            next_time += step


@dataclass
class _Pending:
    """Frames waiting for one core call, with the input row and frame index of each."""

    buffers: list[tuple[bytes, int, int, str, int]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)


def fingerprint_video(
    table: Any,
    *,
    material_id: str | None = None,
    platform: str | None = None,
    every_seconds: float = 1.0,
    max_frames: int = 20,
    algorithms: Sequence[str] = ALGORITHMS,
    windows: Literal["all", "full"] = "all",
    min_quality: int = DEFAULTS["min_quality"],
    max_bytes: int = DEFAULT_MAX_VIDEO_BYTES,
    max_pixels: int = DEFAULTS["max_pixels"],
    max_side: int = DEFAULTS["max_side"],
    root: str | os.PathLike[str] | None = None,
) -> FingerprintResult:
    """Fingerprint sampled frames of the videos of a table.

    Args:
        table: Arrow tabular data with ``material_id``, ``platform`` and a
            binary ``content`` column (the video file's bytes: MP4, MOV, WebM,
            ... anything FFmpeg reads) or a string ``uri`` column (a local
            path or ``file://`` URI); with both, ``content`` wins where it is
            not null. Or one video: its ``bytes``, or its path / URI as
            ``str``, with ``material_id=`` and ``platform=``.
        material_id, platform: the keys of a single video.
        every_seconds: time between sampled frames (default 1 s), after the
            first frame, which is always kept.
        max_frames: most frames per video (default 20); a longer video is
            sampled evenly over its whole duration instead.
        algorithms, windows, min_quality, max_pixels, max_side: as in
            :func:`omniplug.fingerprint_images`, per frame. A frame with too
            little structure (a black frame, a plain title card) gets quality
            0 and is never matched; the other frames still are.
        max_bytes: larger videos are rejected unread (default 512 MiB).
        root: folder that relative paths in ``uri`` are relative to.

    Returns:
        A :class:`~omniplug.fingerprint.FingerprintResult`: ``fingerprints``
        (``material_fingerprints`` rows, ``frame`` = the frame's index in the
        video, in input row then frame order) and ``rejects`` (row,
        material_id, platform, reason) for inputs that gave no frame: not a
        video, no video stream, corrupt or truncated, empty, too large, a
        missing file.

    Raises:
        InvalidInputError: the table lacks the columns, or a setting is invalid.
    """
    if not every_seconds > 0:
        raise InvalidInputError(f"every_seconds {every_seconds} must be positive")
    if int(max_frames) < 1:
        raise InvalidInputError(f"max_frames {max_frames} must be at least 1")
    opts = options_json(algorithms, windows, min_quality, max_bytes, max_pixels, max_side)
    data = source_table(table, material_id, platform, "fingerprint_video")
    material_ids, platforms, content, uri = media_columns(data, "fingerprint_video table")
    pieces: list[pa.Table] = []
    rejects: dict[int, str] = {}
    hashed: set[int] = set()
    pending = _Pending()

    def flush() -> None:
        _flush(pending, opts, material_ids, platforms, pieces, rejects, hashed)

    for row in range(len(material_ids)):
        try:
            source = _source(row, content, uri, root, int(max_bytes))
            if _read_frames(source, row, every_seconds, int(max_frames), int(max_pixels), pending) == 0:
                raise InvalidInputError("the video has no decodable frame")
        except InvalidInputError as exc:
            rejects[row] = str(exc)
        if len(pending.buffers) >= FRAMES_PER_CALL:
            flush()
    flush()
    # A video is rejected only when none of its frames gave fingerprints.
    bad = sorted(r for r in rejects if r not in hashed)
    rejected = pa.table(
        {"item": pa.array(bad, pa.int64()), "reason": pa.array([rejects[r] for r in bad], pa.string())}
    )
    return FingerprintResult(
        concat(pieces, schema_of("material_fingerprints")), keyed_rejects(rejected, material_ids, platforms)
    )


def _flush(
    pending: _Pending,
    opts: str,
    material_id: pa.Array,
    platform: pa.Array,
    pieces: list[pa.Table],
    rejects: dict[int, str],
    hashed: set[int],
) -> None:
    """Hash the pending frames in one core call and empty ``pending``."""
    if not pending.buffers:
        return
    core_rows, core_rejects = _core.fingerprint_pixels(pending.buffers, opts)
    rows = np.asarray(pending.rows, dtype=np.int64)
    frames = np.asarray(pending.frames, dtype=np.int32)
    item = core_rows.column("item").to_numpy()
    piece = attach_keys(core_rows.set_column(0, "item", pa.array(rows[item])), material_id, platform, frames[item])
    pieces.append(piece)
    hashed.update(rows[item].tolist())
    for i, reason in zip(core_rejects.column("item").to_pylist(), core_rejects.column("reason").to_pylist(),
                         strict=True):
        # Keep the first frame's reason of a video.
        rejects.setdefault(int(rows[i]), f"frame {int(frames[i])}: {reason}")
    pending.buffers.clear()
    pending.rows.clear()
    pending.frames.clear()


def _source(
    row: int, content: pa.Array | None, uri: pa.Array | None, root: str | os.PathLike[str] | None, max_bytes: int
) -> bytes | str:
    """The video's bytes or local path, size-checked."""
    if content is not None and content[row].is_valid:
        data = content[row].as_buffer()
        if data.size == 0:
            raise InvalidInputError("video input is empty (0 bytes)")
        if data.size > max_bytes:
            raise InvalidInputError(f"video input is {data.size} bytes, above the limit of {max_bytes}")
        return data.to_pybytes()
    value = uri[row].as_py() if uri is not None else None
    if value is None:
        raise InvalidInputError("neither content nor uri is given")
    path = uri_to_path(value, root)
    try:
        size = os.stat(path).st_size
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path!r}: {exc.strerror or exc}") from exc
    if size == 0:
        raise InvalidInputError(f"video file {path!r} is empty (0 bytes)")
    if size > max_bytes:
        raise InvalidInputError(f"video file {path!r} is {size} bytes, above the limit of {max_bytes}")
    return path


def _read_frames(
    source: bytes | str, row: int, every_seconds: float, max_frames: int, max_pixels: int, pending: _Pending
) -> int:
    """Decode the sampled frames of one video into ``pending``; the number of frames taken."""
    taken = 0
    try:
        with av.open(io.BytesIO(source) if isinstance(source, bytes) else source, mode="r") as container:
            if not container.streams.video:
                raise InvalidInputError("the media has no video stream")
            ctx = container.streams.video[0].codec_context
            if ctx.width * ctx.height > max_pixels:
                raise InvalidInputError(
                    f"video frames are {ctx.width}x{ctx.height}, above the limit of {max_pixels} pixels"
                )
            for index, frame in sample_frames(container, every_seconds, max_frames):
                pending.buffers.append(_luma_buffer(frame))
                pending.rows.append(row)
                pending.frames.append(index)
                taken += 1
    except av.error.FFmpegError as exc:
        # Frames decoded before a truncated or corrupt part still count.
        if taken == 0:
            raise InvalidInputError(f"not a decodable video: {exc.strerror or exc}") from exc
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        if taken == 0:
            raise InvalidInputError(f"not a decodable video: {exc}") from exc
    return taken

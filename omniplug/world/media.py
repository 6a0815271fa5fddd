"""Real image and video files for the synthetic world: creatives and their platform edits.

The demo world and the platform simulators serve real media, and the
fingerprint tests measure themselves on it, so the pictures have to behave
like real ones: varied layouts, natural-image texture (smooth noise fields,
gradients, blurred shapes, grain), product-like objects with shading, text,
and the re-edits platforms really make. Everything is deterministic (same
arguments, byte-identical output), offline, and drawn with Pillow's bundled
font.

Originals: :func:`render_creative` draws a ``product`` shot, a ``lifestyle``
scene or a ``poster``. A creative is a subject (``creative_id``: the product)
on a layout (``template``, by default the id) seen from a ``viewpoint``
(0 = reference shot). Hard negatives come from those two knobs: the same
template with another id is the same campaign layout with a different
product; another viewpoint is the same scene shot from a little further
along. :func:`creative_spec` gives the choices without the pixels and
:func:`subject_box` where the product stands.

Platform edits: :data:`PLATFORM_EDITS` lists, per platform (``tmall``,
``jd``, ``douyin``, ``xiaohongshu``, ``weibo``), three pipelines of the
small public edit operations below; :func:`edit_for_platform` runs one and
returns the bytes the platform would serve (:func:`media_type_of` names
them), :func:`edit_image` the pixels, and ``PlatformEdit.placement`` where
the original lands in the result.

Videos: :func:`render_video` builds an MP4 (H.264 when PyAV's FFmpeg has
``libx264``, else MPEG-4 part 2; see :data:`VIDEO_CODEC`) from an intro card
and a slow zoom over :func:`video_cover`; :func:`video_frames` decodes frames
back.

Example::

    from omniplug.world.media import render_creative, edit_for_platform, media_type_of

    original = render_creative(7, seed=1)
    cover = edit_for_platform(original, "douyin", variant=0, seed=1)
    media_type_of(cover)  # 'image/jpeg'
"""

from __future__ import annotations

from omniplug.world.media_codec import (
    IMAGE_FORMATS,
    decode,
    encode,
    media_type_of,
    reencode,
)
from omniplug.world.media_creative import render_creative
from omniplug.world.media_edits import (
    Aspect,
    aspect_ratio,
    border,
    centre_crop,
    centre_crop_box,
    colour_shift,
    corner_badge,
    cover_crop,
    cover_crop_box,
    fit_size,
    fit_within,
    mirror,
    one_sided_crop,
    one_sided_crop_box,
    overlay_logo,
    pad,
    pad_layout,
    price_band,
    resize,
    rotate,
    text_band,
    watermark_text,
)
from omniplug.world.media_platforms import (
    OPS,
    PLATFORM_EDITS,
    EditStep,
    Placement,
    PlatformEdit,
    edit_for_platform,
    edit_image,
    platform_edit,
)
from omniplug.world.media_scene import KINDS, CreativeSpec, creative_spec, subject_box
from omniplug.world.media_subjects import SHAPES
from omniplug.world.media_video import (
    VIDEO_CODEC,
    VIDEO_FORMATS,
    render_video,
    video_cover,
    video_frames,
)

__all__ = [
    "IMAGE_FORMATS",
    "KINDS",
    "OPS",
    "PLATFORM_EDITS",
    "SHAPES",
    "VIDEO_CODEC",
    "VIDEO_FORMATS",
    "Aspect",
    "CreativeSpec",
    "EditStep",
    "Placement",
    "PlatformEdit",
    "aspect_ratio",
    "border",
    "centre_crop",
    "centre_crop_box",
    "colour_shift",
    "corner_badge",
    "cover_crop",
    "cover_crop_box",
    "creative_spec",
    "decode",
    "edit_for_platform",
    "edit_image",
    "encode",
    "fit_size",
    "fit_within",
    "media_type_of",
    "mirror",
    "one_sided_crop",
    "one_sided_crop_box",
    "overlay_logo",
    "pad",
    "pad_layout",
    "platform_edit",
    "price_band",
    "reencode",
    "render_creative",
    "render_video",
    "resize",
    "rotate",
    "subject_box",
    "text_band",
    "video_cover",
    "video_frames",
    "watermark_text",
]

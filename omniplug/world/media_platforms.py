"""How each platform re-edits a creative: pipelines of the edits in :mod:`media_edits`.

:data:`PLATFORM_EDITS` maps a platform to its variants; each
:class:`PlatformEdit` is a list of named steps plus the encoding the platform
serves, readable as data (``describe()``) so a report or a benchmark can say
exactly what was done. Text in step parameters may use placeholders filled
per call: ``{brand}``, ``{handle}`` (the brand as an account name),
``{title}``, ``{promo}`` and ``{price}``.

:meth:`PlatformEdit.placement` follows the geometric steps on sizes alone and
says which part of the original is visible and where it lands: the exact
inverse a test or a fingerprint benchmark needs to compare like with like.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from PIL import Image

from omniplug.errors import InvalidInputError
from omniplug.world import media_edits as ed
from omniplug.world.media_codec import IMAGE_FORMATS, encode
from omniplug.world.media_text import PROMOS, TITLES, brand_name
from omniplug.world.media_texture import rng_for

__all__ = [
    "OPS",
    "PLATFORM_EDITS",
    "EditStep",
    "Placement",
    "PlatformEdit",
    "edit_for_platform",
    "edit_image",
    "platform_edit",
]

#: The operations a step may name, by name.
OPS: Mapping[str, Callable[..., Image.Image]] = MappingProxyType({
    name: getattr(ed, name)
    for name in ("resize", "fit_within", "centre_crop", "cover_crop", "one_sided_crop", "pad", "border",
                 "overlay_logo", "text_band", "price_band", "corner_badge", "watermark_text", "mirror",
                 "rotate", "colour_shift")
})

Rect = tuple[float, float, float, float]


def _geometry(op: str, size: tuple[int, int], p: Mapping[str, Any]) -> tuple[tuple[int, int], float, float, float, float]:
    """New size and the map ``x' = sx*x + tx, y' = sy*y + ty`` of a geometric step."""
    w, h = size
    if op == "resize" or op == "fit_within":
        nw, nh = p["size"] if op == "resize" else ed.fit_size(size, p["max_side"])
        return (nw, nh), nw / w, nh / h, 0.0, 0.0
    if op in ("centre_crop", "cover_crop", "one_sided_crop"):
        x0, y0, x1, y1 = {
            "centre_crop": lambda: ed.centre_crop_box(size, p["frac"]),
            "cover_crop": lambda: ed.cover_crop_box(size, p["aspect"], p.get("anchor", 0.5)),
            "one_sided_crop": lambda: ed.one_sided_crop_box(size, p["side"], p["frac"]),
        }[op]()
        return (x1 - x0, y1 - y0), 1.0, 1.0, -x0, -y0
    if op == "pad":
        canvas, (ox, oy) = ed.pad_layout(size, p["aspect"])
        return canvas, 1.0, 1.0, ox, oy
    if op == "border":
        return (w + 2 * p["width"], h + 2 * p["width"]), 1.0, 1.0, p["width"], p["width"]
    raise InvalidInputError(f"the placement of {op!r} is not tracked")


_GEOMETRIC = frozenset({"resize", "fit_within", "centre_crop", "cover_crop", "one_sided_crop", "pad", "border"})
_PIXEL_ONLY = frozenset({"overlay_logo", "text_band", "price_band", "corner_badge", "watermark_text", "colour_shift"})


@dataclass(frozen=True)
class EditStep:
    """One step of a pipeline: an operation of :data:`OPS` and its keyword parameters."""

    op: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        """The step as text, e.g. ``pad(aspect=9:16, mode=blur)``."""
        def show(v: Any) -> str:
            return f"{v[0]}:{v[1]}" if isinstance(v, tuple) and len(v) == 2 and self.op != "resize" else str(v)

        return f"{self.op}({', '.join(f'{k}={show(v)}' for k, v in self.params.items())})"


@dataclass(frozen=True)
class Placement:
    """Where the original creative ends up in an edited image.

    Attributes:
        source_box: the part of the original that is visible (x0, y0, x1, y1), original pixels.
        output_box: where that part lands in the output, output pixels.
        output_size: the size of the edited image.
    """

    source_box: Rect
    output_box: Rect
    output_size: tuple[int, int]


@dataclass(frozen=True)
class PlatformEdit:
    """One way a platform re-edits a creative.

    Attributes:
        platform: the platform name.
        variant: its index in ``PLATFORM_EDITS[platform]``.
        description: what the platform does, in a line.
        steps: the edits, in order.
        format: the encoding served (``JPEG``, ``WEBP`` or ``PNG``).
        quality: the encoder quality.
        aspect: the output aspect as (width, height); ``None`` keeps the original's.
    """

    platform: str
    variant: int
    description: str
    steps: tuple[EditStep, ...]
    format: str
    quality: int
    aspect: tuple[int, int] | None

    @property
    def media_type(self) -> str:
        """The MIME type of what this edit serves."""
        return IMAGE_FORMATS[self.format]

    def describe(self) -> str:
        """The whole pipeline as one line, steps and encoding."""
        return " -> ".join([*(s.describe() for s in self.steps), f"{self.format.lower()}(q={self.quality})"])

    def apply(self, img: Image.Image, *, seed: int = 0, brand: str | None = None, price: int | None = None) -> Image.Image:
        """The edited pixels, before encoding; see :func:`edit_for_platform` for the arguments."""
        texts = _texts(self.platform, self.variant, seed, brand, price)
        out = img.convert("RGB")
        for step in self.steps:
            params = {k: _fill(v, texts) for k, v in step.params.items()}
            out = OPS[step.op](out, **params)
        return out

    def placement(self, size: tuple[int, int]) -> Placement:
        """Where an original of ``size`` lands after this edit (overlays drawn on top ignored)."""
        w, h = size
        src: Rect = (0.0, 0.0, float(w), float(h))
        ax, bx, ay, by = 1.0, 0.0, 1.0, 0.0  # original -> current coordinates
        cur = size
        for step in self.steps:
            if step.op in _PIXEL_ONLY:
                continue
            cur, sx, sy, tx, ty = _geometry(step.op, cur, step.params)
            ax, bx, ay, by = ax * sx, bx * sx + tx, ay * sy, by * sy + ty
            # Clip what is still visible to the new canvas, then express it in original pixels.
            x0, x1 = max(0.0, src[0] * ax + bx), min(float(cur[0]), src[2] * ax + bx)
            y0, y1 = max(0.0, src[1] * ay + by), min(float(cur[1]), src[3] * ay + by)
            src = ((x0 - bx) / ax, (y0 - by) / ay, (x1 - bx) / ax, (y1 - by) / ay)
        out: Rect = (src[0] * ax + bx, src[1] * ay + by, src[2] * ax + bx, src[3] * ay + by)
        return Placement(src, out, cur)


def _texts(platform: str, variant: int, seed: int, brand: str | None, price: int | None) -> dict[str, Any]:
    rng = rng_for(seed, platform, variant, "texts")
    brand = brand or brand_name(seed)
    drawn_price = int(rng.integers(5, 60)) * 10 - 1
    return {
        "brand": brand,
        "handle": re.sub(r"[^0-9a-z_]", "", brand.lower().replace("&", "and").replace(" ", "_")) or "brand",
        "title": TITLES[int(rng.integers(len(TITLES)))],
        "promo": PROMOS[int(rng.integers(len(PROMOS)))],
        "price": drawn_price if price is None else int(price),
    }


def _fill(value: Any, texts: Mapping[str, Any]) -> Any:
    if value == "{price}":
        return texts["price"]
    if isinstance(value, str) and "{" in value:
        return value.format(**texts)
    return value


def _s(op: str, **params: Any) -> EditStep:
    if op not in OPS:
        raise InvalidInputError(f"unknown edit operation {op!r}")
    return EditStep(op, MappingProxyType(params))


_WHITE = (255, 255, 255)
_TMALL, _JD, _RED = (255, 0, 54), (228, 0, 43), (255, 36, 66)

#: Every platform's edit pipelines, by platform name; index a tuple by variant.
PLATFORM_EDITS: Mapping[str, tuple[PlatformEdit, ...]] = MappingProxyType({
    "tmall": (
        PlatformEdit("tmall", 0, "800x800 main image: square crop, white frame, price band", (
            _s("cover_crop", aspect=(1, 1)), _s("resize", size=(760, 760)), _s("border", width=20, colour=_WHITE),
            _s("price_band", price="{price}", promo="{promo}", colour=_TMALL)), "JPEG", 90, (1, 1)),
        PlatformEdit("tmall", 1, "800x800: white letterbox, red frame, store logo", (
            _s("pad", aspect=(1, 1), mode="solid", colour=_WHITE), _s("resize", size=(776, 776)),
            _s("border", width=12, colour=_TMALL),
            _s("overlay_logo", position="top-left", scale=0.16, text="TMALL", colour=_TMALL)), "JPEG", 88, (1, 1)),
        PlatformEdit("tmall", 2, "750x1000 3:4 detail image with price band", (
            _s("cover_crop", aspect=(3, 4)), _s("resize", size=(750, 1000)),
            _s("price_band", price="{price}", promo="{promo}", height=0.1, colour=_TMALL)), "JPEG", 85, (3, 4)),
    ),
    "jd": (
        PlatformEdit("jd", 0, "800x800: light grey letterbox, promo corner badge", (
            _s("pad", aspect=(1, 1), mode="solid", colour=(245, 245, 245)), _s("resize", size=(800, 800)),
            _s("corner_badge", text="{promo}", corner="top-left", colour=_JD)), "JPEG", 85, (1, 1)),
        PlatformEdit("jd", 1, "800x800: zoomed square, badge, JD logo", (
            _s("centre_crop", frac=0.92), _s("cover_crop", aspect=(1, 1)), _s("resize", size=(800, 800)),
            _s("corner_badge", text="{promo}", corner="top-right", colour=_JD),
            _s("overlay_logo", position="bottom-left", scale=0.14, text="JD", colour=_JD)), "JPEG", 80, (1, 1)),
        PlatformEdit("jd", 2, "800x800: white letterbox, red frame, price band", (
            _s("pad", aspect=(1, 1), mode="solid", colour=_WHITE), _s("resize", size=(780, 780)),
            _s("border", width=10, colour=_JD),
            _s("price_band", price="{price}", promo="{promo}", height=0.12, colour=_JD)), "JPEG", 82, (1, 1)),
    ),
    "douyin": (
        PlatformEdit("douyin", 0, "1080x1920 cover: blurred letterbox, title and account bands", (
            _s("pad", aspect=(9, 16), mode="blur"), _s("resize", size=(1080, 1920)),
            _s("text_band", side="top", text="{title}", height=0.08),
            _s("text_band", side="bottom", text="@{handle}", height=0.07)), "JPEG", 80, (9, 16)),
        PlatformEdit("douyin", 1, "1080x1920 cover: full-bleed crop, account band", (
            _s("cover_crop", aspect=(9, 16)), _s("resize", size=(1080, 1920)),
            _s("text_band", side="bottom", text="@{handle} | {title}", height=0.08)), "JPEG", 75, (9, 16)),
        PlatformEdit("douyin", 2, "720x1280 cover: saturated filter, blurred letterbox, title band", (
            _s("colour_shift", saturation=1.2, contrast=1.06), _s("pad", aspect=(9, 16), mode="blur"),
            _s("resize", size=(720, 1280)), _s("text_band", side="top", text="{title}", height=0.09)),
            "JPEG", 78, (9, 16)),
    ),
    "xiaohongshu": (
        PlatformEdit("xiaohongshu", 0, "1080x1440 3:4 note cover: crop, logo watermark, WebP", (
            _s("cover_crop", aspect=(3, 4)), _s("resize", size=(1080, 1440)),
            _s("overlay_logo", position="bottom-right", scale=0.14, text="RED", colour=_RED)), "WEBP", 80, (3, 4)),
        PlatformEdit("xiaohongshu", 1, "1080x1440 3:4: warm filter, pastel letterbox, logo, WebP", (
            _s("colour_shift", brightness=1.05, saturation=0.9), _s("pad", aspect=(3, 4), colour=(250, 240, 236)),
            _s("resize", size=(1080, 1440)),
            _s("overlay_logo", position="top-left", scale=0.14, text="RED", colour=_RED)), "WEBP", 78, (3, 4)),
        PlatformEdit("xiaohongshu", 2, "1080x1080 square note cover, logo, WebP", (
            _s("cover_crop", aspect=(1, 1)), _s("resize", size=(1080, 1080)),
            _s("overlay_logo", position="bottom-right", scale=0.12, text="RED", colour=_RED)), "WEBP", 82, (1, 1)),
    ),
    "weibo": (
        PlatformEdit("weibo", 0, "original aspect up to 1080 px, @account watermark, JPEG q70", (
            _s("fit_within", max_side=1080), _s("watermark_text", text="@{handle}")), "JPEG", 70, None),
        PlatformEdit("weibo", 1, "1280x720 16:9 timeline card, watermark", (
            _s("cover_crop", aspect=(16, 9)), _s("resize", size=(1280, 720)),
            _s("watermark_text", text="@{handle}")), "JPEG", 72, (16, 9)),
        PlatformEdit("weibo", 2, "690 px 'bmiddle' size, watermark, JPEG q60", (
            _s("fit_within", max_side=690), _s("watermark_text", text="@{handle}", scale=0.045)), "JPEG", 60, None),
    ),
})


def platform_edit(platform: str, variant: int = 0) -> PlatformEdit:
    """The edit ``variant`` of ``platform``; raises ``InvalidInputError`` for unknown ones."""
    edits = PLATFORM_EDITS.get(platform)
    if edits is None:
        raise InvalidInputError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORM_EDITS)}")
    if not 0 <= variant < len(edits):
        raise InvalidInputError(f"{platform} has edit variants 0-{len(edits) - 1}, not {variant}")
    return edits[variant]


def edit_image(
    img: Image.Image, platform: str, variant: int = 0, *, seed: int = 0, brand: str | None = None,
    price: int | None = None,
) -> Image.Image:
    """``img`` re-edited as ``platform``'s pipeline ``variant`` does, as pixels (not yet encoded)."""
    return platform_edit(platform, variant).apply(img, seed=seed, brand=brand, price=price)


def edit_for_platform(
    img: Image.Image, platform: str, variant: int = 0, *, seed: int = 0, brand: str | None = None,
    price: int | None = None,
) -> bytes:
    """``img`` re-edited and encoded as ``platform`` serves it (JPEG or WebP bytes).

    Args:
        img: the original creative.
        platform: ``tmall``, ``jd``, ``douyin``, ``xiaohongshu`` or ``weibo``.
        variant: which of the platform's pipelines (see :data:`PLATFORM_EDITS`).
        seed: picks the texts the platform adds (title, promo, default price).
        brand: the account/brand name in watermarks; defaults to the seed's brand.
        price: the price printed on price bands, in yuan; defaults to one drawn from ``seed``.

    Use :func:`~omniplug.world.media_codec.media_type_of` on the result, or
    ``platform_edit(platform, variant).media_type``, for its MIME type.
    """
    edit = platform_edit(platform, variant)
    return encode(edit.apply(img, seed=seed, brand=brand, price=price), edit.format, edit.quality)

"""Words and lettering for synthetic creatives.

Only Pillow's bundled default font is used (``ImageFont.load_default(size=)``),
so nothing is downloaded and output is the same on every machine. That font
has no CJK glyphs and no yen sign, so copy is in English and the ``¥`` of a
price is drawn from strokes by :func:`draw_price`.
"""

from __future__ import annotations

import functools
import unicodedata

from PIL import ImageDraw, ImageFont

from omniplug.world.media_texture import Colour, rng_for

__all__ = [
    "BRANDS",
    "HEADLINES",
    "PRODUCT_NAMES",
    "PROMOS",
    "TAGLINES",
    "TITLES",
    "brand_name",
    "draw_price",
    "draw_text",
    "fitted_font",
    "font",
    "price_width",
    "printable",
]

#: Brand names a seeded world picks from (one brand per seed).
BRANDS = (
    "LUMI", "AURELLE", "NOVA SKIN", "MIRA", "KOKO", "VELA", "SORA", "JADE & CO",
    "PEONY LAB", "YUNA", "BAILU", "QINGSHE",
)
#: Product names; a creative's product picks one.
PRODUCT_NAMES = (
    "Hydra Serum", "Glow Cream", "Lip Velvet", "Rose Essence", "Aqua Mist",
    "Night Repair", "Silk Cleanser", "Tea Tree Toner", "Vita C Drops", "Matte Tint",
    "Pearl Mask", "Oat Lotion", "Bamboo Gel", "Ginseng Elixir", "Cica Balm", "Sun Shield",
)
#: Campaign headlines (template level: shared by creatives of one template).
HEADLINES = (
    "NEW ARRIVAL", "LIMITED EDITION", "DOUBLE 11", "618 SALE", "BEST SELLER",
    "SPRING DROP", "GLOW UP", "SKIN FIRST", "SUMMER EDIT", "GIFT SET",
)
#: Second-line copy.
TAGLINES = (
    "Hydrate. Glow. Repeat.", "Made for every skin", "Clean formula, real results",
    "Dermatologist tested", "48h moisture lock", "Light as air", "Your daily ritual",
)
#: Promotion texts for badges and price bands.
PROMOS = ("-20%", "-30%", "2 FOR 1", "GIFT", "HOT", "NEW", "SALE", "-50%")
#: Post titles (Douyin bands, Xiaohongshu notes).
TITLES = (
    "my top pick this week", "honest review", "before / after", "3 steps routine",
    "unboxing", "worth the hype?", "daily skincare", "what I use at night",
)


@functools.lru_cache(maxsize=128)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled default font at ``size`` pixels (cached)."""
    return ImageFont.load_default(size=max(6, int(size)))


def fitted_font(text: str, max_width: float, max_size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The default font at the largest size ≤ ``max_size`` at which ``text`` fits ``max_width``."""
    length = font(max_size).getlength(text) or 1.0
    return font(min(max_size, int(max_size * max_width / length)))


def printable(text: str) -> str:
    """``text`` reduced to what the default font can draw: accents dropped, other non-ASCII removed.

    The bundled font covers ASCII only; ``Lumière`` becomes ``Lumiere`` rather
    than showing a missing-glyph box.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if 32 <= ord(ch) < 127)


def draw_text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    *,
    size: int,
    fill: Colour | tuple[int, int, int, int],
    anchor: str = "la",
    max_width: float | None = None,
) -> None:
    """Draw ``text`` at ``xy`` (Pillow anchor semantics), shrunk to ``max_width`` if given.

    Characters the default font lacks are dropped (see :func:`printable`).
    """
    text = printable(text)
    if not text.strip():
        return
    f = fitted_font(text, max_width, size) if max_width else font(size)
    draw.text(xy, text, font=f, fill=fill, anchor=anchor)


def _yen(draw: ImageDraw.ImageDraw, x: float, y: float, h: float, fill: tuple[int, ...]) -> float:
    """Draw a yen sign whose top-left is (x, y) and height ``h``; return its advance width."""
    w = 0.62 * h
    lw = max(1, round(h * 0.11))
    mid_x, mid_y = x + w / 2, y + 0.48 * h
    draw.line([(x, y), (mid_x, mid_y), (x + w, y)], fill=fill, width=lw, joint="curve")
    draw.line([(mid_x, mid_y), (mid_x, y + h)], fill=fill, width=lw)
    for bar in (0.58, 0.76):
        draw.line([(x + 0.12 * w, y + bar * h), (x + 0.88 * w, y + bar * h)], fill=fill, width=lw)
    return w + 0.12 * h


def price_width(amount: int, size: int) -> float:
    """The width :func:`draw_price` needs for ``amount`` at ``size`` pixels."""
    cap = 0.72 * size
    return 0.62 * cap + 0.12 * cap + font(size).getlength(str(amount))


def draw_price(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    amount: int,
    *,
    size: int,
    fill: Colour | tuple[int, int, int, int],
    anchor: str = "mm",
) -> None:
    """Draw ``¥amount`` with ``xy`` at the given anchor (``lm``, ``mm`` or ``rm``; vertical middle)."""
    f = font(size)
    digits = str(amount)
    total = price_width(amount, size)
    x = xy[0] - {"l": 0.0, "m": total / 2, "r": total}[anchor[0]]
    top, bottom = f.getbbox(digits, anchor="lm")[1::2]
    cap = bottom - top
    colour = tuple(fill)
    advance = _yen(draw, x, xy[1] + top, cap, colour)
    draw.text((x + advance, xy[1]), digits, font=f, fill=colour, anchor="lm")


def brand_name(seed: int) -> str:
    """The brand of the world generated with ``seed``."""
    rng = rng_for(seed, "brand")
    return BRANDS[int(rng.integers(len(BRANDS)))]

"""The edits platforms (and people) make to a creative, one small function each.

Every function takes a PIL image and returns a new one; none mutates its
input, none uses randomness, so a pipeline of them is deterministic. The
geometric ones have a ``*_box`` / ``*_layout`` twin that computes the same
rectangle from sizes alone: :mod:`omniplug.world.media_platforms` uses them
to say where the original ends up in an edited image, and a robustness
benchmark can use them to undo an edit.

Aspect ratios are given as ``(width, height)`` pairs such as ``(9, 16)`` or as
a float ``width / height``.
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from omniplug.errors import InvalidInputError
from omniplug.world.media_text import draw_price, draw_text, font, printable
from omniplug.world.media_texture import Colour, mix

__all__ = [
    "Aspect",
    "aspect_ratio",
    "border",
    "centre_crop",
    "centre_crop_box",
    "colour_shift",
    "corner_badge",
    "cover_crop",
    "cover_crop_box",
    "fit_size",
    "fit_within",
    "mirror",
    "one_sided_crop",
    "one_sided_crop_box",
    "overlay_logo",
    "pad",
    "pad_layout",
    "price_band",
    "resize",
    "rotate",
    "text_band",
    "watermark_text",
]

Aspect = float | tuple[int, int]
Box = tuple[int, int, int, int]

_CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
_SIDES = ("top", "bottom", "left", "right")


def aspect_ratio(aspect: Aspect) -> float:
    """``width / height`` of an aspect given as a pair or a float."""
    ratio = aspect[0] / aspect[1] if isinstance(aspect, tuple) else float(aspect)
    if not (0.05 < ratio < 20.0):
        raise InvalidInputError(f"aspect ratio {aspect!r} is out of range")
    return ratio


def resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """``img`` scaled to exactly ``size`` (bicubic, the common image-server default)."""
    if img.size == tuple(size):
        return img.copy()
    return img.resize(size, Image.Resampling.BICUBIC, reducing_gap=3.0)


def fit_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size ``size`` scales to so that its longer side is at most ``max_side``."""
    w, h = size
    scale = min(1.0, max_side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def fit_within(img: Image.Image, max_side: int) -> Image.Image:
    """``img`` shrunk (never enlarged) so its longer side is at most ``max_side``."""
    return resize(img, fit_size(img.size, max_side))


def centre_crop_box(size: tuple[int, int], frac: float) -> Box:
    """The box keeping the central ``frac`` (0-1] of each dimension."""
    if not 0.0 < frac <= 1.0:
        raise InvalidInputError(f"crop fraction {frac} must be in (0, 1]")
    w, h = size
    cw, ch = max(1, round(w * frac)), max(1, round(h * frac))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return x0, y0, x0 + cw, y0 + ch


def centre_crop(img: Image.Image, frac: float) -> Image.Image:
    """Keep the central ``frac`` of each dimension (a zoom-in)."""
    return img.crop(centre_crop_box(img.size, frac))


def cover_crop_box(size: tuple[int, int], aspect: Aspect, anchor: float = 0.5) -> Box:
    """The largest box of ``aspect`` inside ``size``; ``anchor`` 0-1 slides it along the cut axis."""
    w, h = size
    ratio = aspect_ratio(aspect)
    if w / h > ratio:
        cw, ch = max(1, round(h * ratio)), h
    else:
        cw, ch = w, max(1, round(w / ratio))
    x0, y0 = round((w - cw) * anchor), round((h - ch) * anchor)
    return x0, y0, x0 + cw, y0 + ch


def cover_crop(img: Image.Image, aspect: Aspect, anchor: float = 0.5) -> Image.Image:
    """Crop to ``aspect``, cutting the excess of the too-long side (what "fill" modes do)."""
    return img.crop(cover_crop_box(img.size, aspect, anchor))


def one_sided_crop_box(size: tuple[int, int], side: str, frac: float) -> Box:
    """The box that removes ``frac`` of the image from one ``side``."""
    if side not in _SIDES:
        raise InvalidInputError(f"side {side!r} must be one of {', '.join(_SIDES)}")
    if not 0.0 <= frac < 1.0:
        raise InvalidInputError(f"crop fraction {frac} must be in [0, 1)")
    w, h = size
    cut_x, cut_y = round(w * frac), round(h * frac)
    return {
        "top": (0, cut_y, w, h),
        "bottom": (0, 0, w, h - cut_y),
        "left": (cut_x, 0, w, h),
        "right": (0, 0, w - cut_x, h),
    }[side]


def one_sided_crop(img: Image.Image, side: str, frac: float) -> Image.Image:
    """Remove ``frac`` of the image from one side (a cropped-off caption or UI bar)."""
    return img.crop(one_sided_crop_box(img.size, side, frac))


def pad_layout(size: tuple[int, int], aspect: Aspect) -> tuple[tuple[int, int], tuple[int, int]]:
    """The canvas of ``aspect`` that just holds ``size``, and the offset that centres it."""
    w, h = size
    ratio = aspect_ratio(aspect)
    if w / h > ratio:
        canvas = (w, max(h, round(w / ratio)))
    else:
        canvas = (max(w, round(h * ratio)), h)
    return canvas, ((canvas[0] - w) // 2, (canvas[1] - h) // 2)


def pad(img: Image.Image, aspect: Aspect, mode: str = "solid", colour: Colour = (255, 255, 255)) -> Image.Image:
    """Letterbox ``img`` to ``aspect``.

    ``mode="solid"`` fills with ``colour``; ``mode="blur"`` fills with a
    darkened, heavily blurred copy of the image stretched over the canvas (the
    short-video look). The image itself is centred and untouched.
    """
    canvas_size, offset = pad_layout(img.size, aspect)
    if mode == "solid":
        canvas = Image.new("RGB", canvas_size, colour)
    elif mode == "blur":
        # Blur a small copy and enlarge it: same look, a fraction of the cost.
        small = cover_crop(img, canvas_size[0] / canvas_size[1]).resize(
            (max(8, canvas_size[0] // 8), max(8, canvas_size[1] // 8)), Image.Resampling.BILINEAR
        )
        small = ImageEnhance.Brightness(small.filter(ImageFilter.GaussianBlur(4))).enhance(0.75)
        canvas = small.resize(canvas_size, Image.Resampling.BICUBIC)
    else:
        raise InvalidInputError(f"pad mode {mode!r} must be 'solid' or 'blur'")
    canvas.paste(img.convert("RGB"), offset)
    return canvas


def border(img: Image.Image, width: int, colour: Colour = (255, 255, 255)) -> Image.Image:
    """Surround ``img`` with a frame ``width`` pixels wide (the image grows by ``2 * width``)."""
    canvas = Image.new("RGB", (img.width + 2 * width, img.height + 2 * width), colour)
    canvas.paste(img.convert("RGB"), (width, width))
    return canvas


def _corner_xy(size: tuple[int, int], box: tuple[int, int], corner: str, margin: int) -> tuple[int, int]:
    if corner not in _CORNERS:
        raise InvalidInputError(f"position {corner!r} must be one of {', '.join(_CORNERS)}")
    w, h = size
    x = margin if corner.endswith("left") else w - box[0] - margin
    y = margin if corner.startswith("top") else h - box[1] - margin
    return x, y


def overlay_logo(
    img: Image.Image,
    position: str = "top-right",
    scale: float = 0.12,
    *,
    text: str = "LOGO",
    colour: Colour = (255, 36, 66),
    opacity: int = 230,
) -> Image.Image:
    """Stamp a small logo (a round icon and a word on a pill) in a corner.

    ``scale`` is the logo's width as a fraction of the image's shorter side.
    """
    out = img.convert("RGB")
    lw = max(12, round(min(out.size) * scale))
    lh = max(6, round(lw * 0.36))
    logo = Image.new("RGBA", (lw, lh), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((0, 0, lw - 1, lh - 1), radius=lh // 2, fill=(*colour, opacity))
    r = lh * 0.3
    draw.ellipse((lh * 0.5 - r, lh * 0.5 - r, lh * 0.5 + r, lh * 0.5 + r), fill=(255, 255, 255, opacity))
    draw_text(draw, (lh * 0.95 + (lw - lh * 0.95) / 2, lh / 2), text, size=round(lh * 0.55),
              fill=(255, 255, 255, opacity), anchor="mm", max_width=lw - lh * 1.1)
    out.paste(logo, _corner_xy(out.size, (lw, lh), position, round(min(out.size) * 0.025)), logo)
    return out


def text_band(
    img: Image.Image,
    side: str = "bottom",
    *,
    text: str,
    height: float = 0.1,
    colour: Colour = (0, 0, 0),
    opacity: int = 150,
    text_colour: Colour = (255, 255, 255),
) -> Image.Image:
    """Lay a translucent band across the top or bottom with a line of text on it.

    ``height`` is the band's height as a fraction of the image's height.
    """
    if side not in ("top", "bottom"):
        raise InvalidInputError(f"text band side {side!r} must be 'top' or 'bottom'")
    out = img.convert("RGB")
    w, h = out.size
    bh = max(6, round(h * height))
    band = Image.new("RGBA", (w, bh), (*colour, opacity))
    draw_text(ImageDraw.Draw(band), (w / 2, bh / 2), text, size=round(bh * 0.42),
              fill=(*text_colour, 255), anchor="mm", max_width=w * 0.9)
    out.paste(band, (0, 0 if side == "top" else h - bh), band)
    return out


def price_band(
    img: Image.Image,
    price: int,
    *,
    promo: str = "",
    height: float = 0.14,
    colour: Colour = (226, 35, 26),
) -> Image.Image:
    """Cover the bottom with an opaque e-commerce price band: ``¥price`` and a promo text."""
    out = img.convert("RGB")
    w, h = out.size
    bh = max(8, round(h * height))
    draw = ImageDraw.Draw(out)
    top = h - bh
    draw.rectangle((0, top, w, h), fill=colour)
    # A darker slanted block on the left, the "activity" flag of mall templates.
    draw.polygon([(0, top), (0.38 * w, top), (0.32 * w, h), (0, h)], fill=mix(colour, (0, 0, 0), 0.3))
    if promo:
        draw_text(draw, (0.17 * w, top + bh / 2), promo, size=round(bh * 0.45), fill=(255, 230, 160),
                  anchor="mm", max_width=0.28 * w)
    draw_price(draw, (0.66 * w, top + bh / 2), price, size=round(bh * 0.62), fill=(255, 255, 255), anchor="mm")
    return out


def corner_badge(
    img: Image.Image,
    text: str,
    *,
    corner: str = "top-left",
    scale: float = 0.24,
    colour: Colour = (228, 0, 43),
) -> Image.Image:
    """Fold a triangular promo badge over a corner with ``text`` along its diagonal."""
    out = img.convert("RGB")
    w, h = out.size
    s = round(min(w, h) * scale)
    tri = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    ImageDraw.Draw(tri).polygon([(0, 0), (s, 0), (0, s)], fill=(*colour, 255))
    label = Image.new("RGBA", (s, round(s * 0.3)), (0, 0, 0, 0))
    draw_text(ImageDraw.Draw(label), (s / 2, label.height / 2), text, size=round(s * 0.2),
              fill=(255, 255, 255, 255), anchor="mm", max_width=s * 0.7)
    label = label.rotate(45, resample=Image.Resampling.BICUBIC, expand=True)
    tri.paste(label, (round(s * 0.3 - label.width / 2), round(s * 0.3 - label.height / 2)), label)
    # The badge is drawn for the top-left corner and mirrored into the others.
    if corner.endswith("right"):
        tri = tri.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if corner.startswith("bottom"):
        tri = tri.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    out.paste(tri, _corner_xy((w, h), (s, s), corner, 0), tri)
    return out


def watermark_text(
    img: Image.Image,
    text: str,
    *,
    position: str = "bottom-right",
    scale: float = 0.035,
    opacity: int = 210,
) -> Image.Image:
    """Write a white watermark with a soft shadow (e.g. Weibo's ``@account``) in a corner.

    ``scale`` is the text height as a fraction of the image's shorter side.
    """
    out = img.convert("RGB")
    size = max(8, round(min(out.size) * scale))
    text = printable(text)
    if not text.strip():
        return out
    f = font(size)
    box = f.getbbox(text)
    tw, th = int(box[2]) + size // 4, int(box[3]) + size // 4
    mark = Image.new("RGBA", (tw, th), (0, 0, 0, 0))
    ImageDraw.Draw(mark).text((2, 2), text, font=f, fill=(0, 0, 0, opacity // 2))
    mark = mark.filter(ImageFilter.GaussianBlur(max(1, size // 12)))
    ImageDraw.Draw(mark).text((0, 0), text, font=f, fill=(255, 255, 255, opacity))
    out.paste(mark, _corner_xy(out.size, (tw, th), position, round(min(out.size) * 0.02)), mark)
    return out


def mirror(img: Image.Image) -> Image.Image:
    """Flip left to right."""
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def rotate(img: Image.Image, degrees: float, *, mode: str = "crop", fill: Colour = (255, 255, 255)) -> Image.Image:
    """Rotate counter-clockwise by ``degrees``.

    ``mode="expand"`` grows the canvas to hold the whole rotated image (corners
    filled with ``fill``); ``mode="crop"`` keeps the largest centred rectangle
    of the original aspect that has no filled corners and scales it back to the
    original size (what a "straighten" tool does).
    """
    if mode == "expand":
        return img.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    if mode != "crop":
        raise InvalidInputError(f"rotate mode {mode!r} must be 'crop' or 'expand'")
    w, h = img.size
    c, s = abs(math.cos(math.radians(degrees))), abs(math.sin(math.radians(degrees)))
    k = min(w / (w * c + h * s), h / (w * s + h * c))
    turned = img.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)
    cw, ch = max(1, math.floor(w * k)), max(1, math.floor(h * k))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    return resize(turned.crop((x0, y0, x0 + cw, y0 + ch)), (w, h))


def colour_shift(
    img: Image.Image, *, brightness: float = 1.0, contrast: float = 1.0, saturation: float = 1.0
) -> Image.Image:
    """Adjust brightness, contrast and saturation (1.0 leaves each unchanged): a "filter"."""
    out = img.convert("RGB")
    if brightness != 1.0:
        out = ImageEnhance.Brightness(out).enhance(brightness)
    if contrast != 1.0:
        out = ImageEnhance.Contrast(out).enhance(contrast)
    if saturation != 1.0:
        out = ImageEnhance.Color(out).enhance(saturation)
    return out


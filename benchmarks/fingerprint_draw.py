"""Image operations the edit families are built from (Pillow only).

Every function takes an RGB :class:`PIL.Image.Image` and returns a new one;
randomness, where there is any, comes from the caller's
:class:`random.Random`, so an edit is a pure function of (photo, seed).
Sizes follow the platforms' usual upload sizes scaled down to about 0.5-1
megapixel, which is what a creative library holds and keeps the benchmark
quick.
"""

from __future__ import annotations

import io
import math
import random
from functools import cache
from importlib import resources

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

__all__ = [
    "PLATFORM_SIZES", "encode", "resize_to", "fit_within", "cover_crop", "pad_to", "blurred_pad", "border",
    "centre_crop", "side_crop", "rotate", "paste_logo", "text_band", "caption", "price_badge", "watermark",
    "colour", "font", "logo", "random_colour",
]

#: Canvas size per aspect ratio (width, height).
PLATFORM_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (800, 800), "3:4": (768, 1024), "9:16": (720, 1280), "16:9": (1280, 720),
}

_ASPECTS = {"1:1": 1.0, "3:4": 3 / 4, "9:16": 9 / 16, "16:9": 16 / 9, "4:3": 4 / 3}


def encode(img: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    """Encode as ``JPEG`` (4:2:0, like the platforms), ``WEBP`` or ``PNG``."""
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(buf, "JPEG", quality=quality, subsampling=2)
    elif fmt == "WEBP":
        img.convert("RGB").save(buf, "WEBP", quality=quality, method=4)
    elif fmt == "PNG":
        img.save(buf, "PNG", compress_level=1)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return buf.getvalue()


def resize_to(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resample to exactly ``size`` (Lanczos; box-reduced first when shrinking a lot)."""
    w, h = max(1, size[0]), max(1, size[1])
    return img.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)


def fit_within(img: Image.Image, box: tuple[int, int]) -> Image.Image:
    """Largest aspect-preserving resize that fits inside ``box``."""
    s = min(box[0] / img.width, box[1] / img.height)
    return resize_to(img, (round(img.width * s), round(img.height * s)))


def _aspect(aspect: str | float) -> float:
    return _ASPECTS[aspect] if isinstance(aspect, str) else float(aspect)


def cover_crop(img: Image.Image, aspect: str | float, shift: float = 0.0) -> Image.Image:
    """Largest crop of ``aspect`` (width / height); ``shift`` in [-1, 1] slides it off centre."""
    a = _aspect(aspect)
    w, h = img.size
    if w / h > a:
        cw, ch = round(h * a), h
    else:
        cw, ch = w, round(w / a)
    x = int((w - cw) * (1 + shift) / 2)
    y = int((h - ch) * (1 + shift) / 2)
    return img.crop((x, y, x + cw, y + ch))


def pad_to(img: Image.Image, aspect: str, fill: tuple[int, int, int], inner: float = 1.0) -> Image.Image:
    """Fit the image on a canvas of ``aspect`` (platform size) filled with ``fill``.

    ``inner`` < 1 leaves a margin all round (product shots on a white canvas).
    """
    cw, ch = PLATFORM_SIZES[aspect]
    fg = fit_within(img, (round(cw * inner), round(ch * inner)))
    canvas = Image.new("RGB", (cw, ch), fill)
    canvas.paste(fg, ((cw - fg.width) // 2, (ch - fg.height) // 2))
    return canvas


def blurred_pad(img: Image.Image, aspect: str, radius: float = 24.0, dim: float = 0.75) -> Image.Image:
    """The image fitted on a blurred, darkened cover-scaled copy of itself (short-video covers)."""
    cw, ch = PLATFORM_SIZES[aspect]
    bg = resize_to(cover_crop(img, cw / ch), (cw // 4, ch // 4)).filter(ImageFilter.GaussianBlur(radius / 4))
    bg = ImageEnhance.Brightness(resize_to(bg, (cw, ch))).enhance(dim)
    fg = fit_within(img, (cw, ch))
    bg.paste(fg, ((cw - fg.width) // 2, (ch - fg.height) // 2))
    return bg


def border(img: Image.Image, frac: float, fill: tuple[int, int, int], bottom_extra: float = 0.0) -> Image.Image:
    """A solid frame ``frac`` of the short side wide (``bottom_extra`` more at the bottom: a polaroid)."""
    b = max(1, round(min(img.size) * frac))
    extra = round(min(img.size) * bottom_extra)
    canvas = Image.new("RGB", (img.width + 2 * b, img.height + 2 * b + extra), fill)
    canvas.paste(img, (b, b))
    return canvas


def centre_crop(img: Image.Image, frac: float) -> Image.Image:
    """Remove ``frac`` of the width and of the height, half on each side."""
    w, h = img.size
    dx, dy = round(w * frac / 2), round(h * frac / 2)
    return img.crop((dx, dy, w - dx, h - dy))


def side_crop(img: Image.Image, side: str, frac: float) -> Image.Image:
    """Remove ``frac`` of the image from one side: ``left``, ``right``, ``top`` or ``bottom``."""
    w, h = img.size
    dx, dy = round(w * frac), round(h * frac)
    box = {"left": (dx, 0, w, h), "right": (0, 0, w - dx, h), "top": (0, dy, w, h), "bottom": (0, 0, w, h - dy)}[side]
    return img.crop(box)


def rotate(img: Image.Image, degrees: float, mode: str, fill: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Rotate counter-clockwise, same canvas size.

    ``mode="fill"`` leaves ``fill``-coloured corners; ``mode="crop"`` zooms to
    the largest axis-aligned rectangle inside the rotated image (no corners).
    """
    out = img.rotate(degrees, Image.Resampling.BICUBIC, expand=False, fillcolor=fill)
    if mode == "fill":
        return out
    w, h = img.size
    t = math.radians(abs(degrees))
    # Zoom so that the rotated frame covers the whole canvas.
    z = math.cos(t) + max(w / h, h / w) * math.sin(t)
    cw, ch = round(w / z), round(h / z)
    inner = out.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))
    return resize_to(inner, (w, h))


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled FreeType font at ``size`` pixels (no system fonts needed)."""
    return ImageFont.load_default(size=size)


@cache
def logo() -> Image.Image:
    """scikit-image's logo (RGBA), from the installed wheel."""
    with resources.files("skimage.data").joinpath("logo.png").open("rb") as f:
        return Image.open(f).convert("RGBA")


def random_colour(rng: random.Random, light: bool | None = None) -> tuple[int, int, int]:
    """A saturated-ish colour; ``light`` picks the brightness half."""
    lo, hi = (150, 255) if light else (0, 110) if light is False else (0, 255)
    return (rng.randint(lo, hi), rng.randint(lo, hi), rng.randint(lo, hi))


def paste_logo(img: Image.Image, corner: str, frac: float, opacity: float = 1.0,
               mark: Image.Image | None = None) -> Image.Image:
    """Paste a logo ``frac`` of the width wide in a corner (``tl``, ``tr``, ``bl``, ``br``, ``c``)."""
    mark = mark or logo()
    lw = max(8, round(img.width * frac))
    lg = resize_to(mark, (lw, max(1, round(mark.height * lw / mark.width))))
    if opacity < 1.0:
        alpha = lg.getchannel("A").point(lambda a: round(a * opacity))
        lg.putalpha(alpha)
    m = round(img.width * 0.03)
    x = {"tl": m, "bl": m, "tr": img.width - lw - m, "br": img.width - lw - m, "c": (img.width - lw) // 2}[corner]
    y = {"tl": m, "tr": m, "bl": img.height - lg.height - m, "br": img.height - lg.height - m,
         "c": (img.height - lg.height) // 2}[corner]
    out = img.copy()
    out.paste(lg, (x, y), lg)
    return out


def _text_box(draw: ImageDraw.ImageDraw, text: str, f: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> tuple[int, int]:
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=f)
    return x1 - x0, y1 - y0


def text_band(img: Image.Image, text: str, where: str, height_frac: float = 0.12,
              band: tuple[int, int, int, int] = (0, 0, 0, 170), ink: tuple[int, int, int] = (255, 255, 255),
              ) -> Image.Image:
    """A translucent full-width band (``top`` / ``bottom``) with centred text."""
    out = img.convert("RGBA")
    bh = max(10, round(img.height * height_frac))
    y = 0 if where == "top" else img.height - bh
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    d.rectangle((0, y, img.width, y + bh), fill=band)
    f = font(max(8, round(bh * 0.55)))
    tw, th = _text_box(d, text, f)
    d.text(((img.width - tw) / 2, y + (bh - th) / 2), text, font=f, fill=ink, anchor="lt")
    return Image.alpha_composite(out, layer).convert("RGB")


def caption(img: Image.Image, text: str, rel_xy: tuple[float, float], size_frac: float,
            ink: tuple[int, int, int], stroke: tuple[int, int, int] | None = None, opacity: float = 1.0) -> Image.Image:
    """Text drawn straight on the picture at a relative position (optionally outlined, translucent)."""
    out = img.convert("RGBA")
    layer = Image.new("RGBA", out.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    f = font(max(8, round(img.height * size_frac)))
    a = round(255 * opacity)
    sw = max(1, round(img.height * size_frac * 0.08)) if stroke else 0
    d.text((img.width * rel_xy[0], img.height * rel_xy[1]), text, font=f, fill=(*ink, a), stroke_width=sw,
           stroke_fill=(*stroke, a) if stroke else None)
    return Image.alpha_composite(out, layer).convert("RGB")


def price_badge(img: Image.Image, price: str, colour_: tuple[int, int, int] = (226, 35, 26)) -> Image.Image:
    """A rounded price badge at the bottom left (Tmall / JD style)."""
    out = img.copy()
    d = ImageDraw.Draw(out)
    f = font(max(10, round(img.height * 0.075)))
    tw, th = _text_box(d, price, f)
    m = round(img.width * 0.04)
    box = (m, img.height - m - th * 2, m + tw + th, img.height - m)
    d.rounded_rectangle(box, radius=th // 2, fill=colour_)
    d.text((box[0] + th / 2, box[1] + th / 2), price, font=f, fill=(255, 255, 255), anchor="lt")
    return out


def watermark(img: Image.Image, text: str, corner: str = "br", size_frac: float = 0.035) -> Image.Image:
    """A small white platform watermark with a dark outline near a corner."""
    d = ImageDraw.Draw(img)
    f = font(max(8, round(img.height * size_frac)))
    tw, th = _text_box(d, text, f)
    m = round(img.width * 0.025)
    x = img.width - tw - m if corner.endswith("r") else m
    y = img.height - th - 2 * m if corner.startswith("b") else m
    return caption(img, text, (x / img.width, y / img.height), size_frac, (255, 255, 255), (40, 40, 40), 0.85)


def colour(img: Image.Image, kind: str, amount: float, rng: random.Random | None = None) -> Image.Image:
    """Photometric edits: ``brightness``, ``contrast``, ``saturation`` (factors), ``gamma``
    (exponent), ``warm`` (red up, blue down by the factor), ``noise`` (Gaussian sigma in levels,
    drawn from ``rng``), ``blur`` (radius), ``sharpen`` (unsharp-mask strength)."""
    if kind == "brightness":
        return ImageEnhance.Brightness(img).enhance(amount)
    if kind == "contrast":
        return ImageEnhance.Contrast(img).enhance(amount)
    if kind == "saturation":
        return ImageEnhance.Color(img).enhance(amount)
    if kind == "gamma":
        return img.point([round(255 * (i / 255) ** amount) for i in range(256)] * 3)
    if kind == "warm":
        r, g, b = img.split()
        return Image.merge("RGB", (r.point(lambda v: min(255, round(v * amount))), g,
                                   b.point(lambda v: round(v / amount))))
    if kind == "noise":
        gen = np.random.default_rng((rng or random.Random(0)).getrandbits(64))
        arr = np.asarray(img, dtype=np.float32) + gen.normal(0.0, amount, (img.height, img.width, 1))
        return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")
    if kind == "blur":
        return img.filter(ImageFilter.GaussianBlur(amount))
    if kind == "sharpen":
        return img.filter(ImageFilter.UnsharpMask(radius=2, percent=round(amount * 100), threshold=2))
    raise ValueError(f"unknown colour edit {kind!r}")

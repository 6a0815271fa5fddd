"""Things that stand in a creative: products, podiums, trees, rocks and shadows.

Each subject is a list of parts (rectangles, rounded rectangles, ellipses,
polygons) in coordinates normalised to the subject's own box, painted with
a shading model (a cylinder's soft falloff and specular stripe, or the flat
faces of a box) so that it reads as a photographed object rather than a flat
icon. Subjects come back as small RGBA sprites; the creative places them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from omniplug.world.media_text import draw_text
from omniplug.world.media_texture import Colour, hsv, mix, soften

__all__ = [
    "SHAPES",
    "ProductLook",
    "contact_shadow",
    "product_aspect",
    "product_look",
    "render_podium",
    "render_product",
    "render_rock",
    "render_tree",
]

#: Product silhouettes and their width / height ratio.
SHAPES: dict[str, float] = {
    "bottle": 0.42,
    "box": 0.78,
    "lipstick": 0.30,
    "jar": 1.05,
    "tube": 0.36,
    "dropper": 0.40,
    "pump": 0.38,
}

_GOLD: Colour = (201, 163, 92)
_SILVER: Colour = (196, 200, 206)


@dataclass(frozen=True)
class _Part:
    kind: str  # "rect" | "round" | "ellipse" | "poly"
    coords: tuple[float, ...]  # x in width units, y in height units (0-1)
    colour: Colour
    shading: str = "cylinder"  # "cylinder" | "soft" | "flat" | "side" | "top"
    radius: float = 0.0  # corner radius of "round", in width units


@dataclass(frozen=True)
class ProductLook:
    """What one product looks like.

    Attributes:
        shape: a key of :data:`SHAPES`.
        body: main colour of the container.
        cap: colour of cap, collar or case.
        paper: label colour.
        ink: label text colour.
        label: the text printed on the label (the product name).
        mark: the brand's initial, printed above the label text.
    """

    shape: str
    body: Colour
    cap: Colour
    paper: Colour
    ink: Colour
    label: str
    mark: str


def product_look(rng: np.random.Generator, label: str, brand: str, shape: str | None = None) -> ProductLook:
    """A random product look for ``label`` of ``brand`` (random shape unless given)."""
    drawn = list(SHAPES)[int(rng.integers(len(SHAPES)))]  # drawn always: keeps the stream aligned
    shape = shape or drawn
    h = float(rng.random())
    style = int(rng.integers(4))
    body = [
        hsv(h, rng.uniform(0.5, 0.85), rng.uniform(0.55, 0.9)),  # saturated
        hsv(h, rng.uniform(0.08, 0.2), rng.uniform(0.9, 0.97)),  # white-ish
        hsv(h, rng.uniform(0.3, 0.6), rng.uniform(0.15, 0.3)),  # dark
        hsv(h, rng.uniform(0.25, 0.4), rng.uniform(0.75, 0.9)),  # soft
    ][style]
    cap = [_GOLD, _SILVER, (28, 28, 30), hsv(h + 0.5, 0.6, 0.75)][int(rng.integers(4))]
    paper = hsv(h, 0.05, 0.97) if style != 1 else hsv(h + 0.5, 0.55, 0.6)
    ink = hsv(h, 0.7, 0.25) if style != 1 else (255, 255, 255)
    return ProductLook(shape, body, cap, paper, ink, label, brand[:1])


def product_aspect(shape: str) -> float:
    """Width / height of a product of ``shape``."""
    return SHAPES[shape]


def _parts(look: ProductLook) -> tuple[list[_Part], tuple[float, float, float, float]]:
    """The parts of a product and its label box (x0, y0, x1, y1), normalised."""
    b, c, p = look.body, look.cap, look.paper
    dark = mix(b, (0, 0, 0), 0.35)
    s = look.shape
    if s == "bottle":
        parts = [
            _Part("round", (0.04, 0.22, 0.96, 1.0), b, radius=0.16),
            _Part("ellipse", (0.04, 0.15, 0.96, 0.36), b),
            _Part("rect", (0.36, 0.1, 0.64, 0.2), dark),
            _Part("round", (0.31, 0.0, 0.69, 0.13), c, radius=0.05),
        ]
        label = (0.1, 0.46, 0.9, 0.8)
    elif s == "box":
        parts = [
            _Part("poly", (0.0, 0.14, 0.3, 0.0, 1.0, 0.0, 0.72, 0.14), mix(b, (255, 255, 255), 0.2), "top"),
            _Part("poly", (0.72, 0.14, 1.0, 0.0, 1.0, 0.86, 0.72, 1.0), b, "side"),
            _Part("rect", (0.0, 0.14, 0.72, 1.0), b, "flat"),
        ]
        label = (0.06, 0.45, 0.66, 0.72)
    elif s == "lipstick":
        parts = [
            _Part("round", (0.04, 0.46, 0.96, 1.0), c, radius=0.08),
            _Part("poly", (0.22, 0.13, 0.78, 0.0, 0.78, 0.42, 0.22, 0.42), mix(c, b, 0.85)),
            _Part("rect", (0.1, 0.38, 0.9, 0.47), _GOLD),
        ]
        label = (0.12, 0.7, 0.88, 0.86)
    elif s == "jar":
        parts = [
            _Part("round", (0.0, 0.38, 1.0, 1.0), b, radius=0.08),
            _Part("rect", (0.04, 0.17, 0.96, 0.42), c),
            _Part("ellipse", (0.04, 0.08, 0.96, 0.27), mix(c, (255, 255, 255), 0.25), "top"),
        ]
        label = (0.08, 0.55, 0.92, 0.86)
    elif s == "tube":
        parts = [
            _Part("poly", (0.02, 0.06, 0.98, 0.06, 0.86, 0.82, 0.14, 0.82), b),
            _Part("rect", (0.02, 0.0, 0.98, 0.07), mix(b, (255, 255, 255), 0.3), "flat"),
            _Part("round", (0.2, 0.8, 0.8, 1.0), c, radius=0.06),
        ]
        label = (0.16, 0.28, 0.84, 0.6)
    elif s == "dropper":
        parts = [
            _Part("round", (0.03, 0.3, 0.97, 1.0), b, radius=0.3),
            _Part("rect", (0.2, 0.18, 0.8, 0.32), _GOLD),
            _Part("round", (0.3, 0.0, 0.7, 0.2), (40, 36, 38), radius=0.2),
        ]
        label = (0.12, 0.55, 0.88, 0.84)
    else:  # pump
        parts = [
            _Part("round", (0.05, 0.22, 0.95, 1.0), b, radius=0.12),
            _Part("rect", (0.25, 0.14, 0.75, 0.24), c),
            _Part("rect", (0.38, 0.04, 0.62, 0.15), c),
            _Part("rect", (0.38, 0.0, 0.98, 0.06), c, "flat"),
        ]
        label = (0.12, 0.45, 0.88, 0.8)
    if s == "box":
        parts.append(_Part("rect", label, p, "flat"))
    else:
        # The body comes first; the label wraps it, under caps and collars.
        parts.insert(1, _Part("rect", label, p))
    return parts, label


def _shade(part: _Part, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Multiplicative shade (h, w) and additive specular (h, w) for one part."""
    xs_n = part.coords[0::2]
    x0, x1 = min(xs_n) * w, max(xs_n) * w
    x = np.arange(w, dtype=np.float32)
    p = np.clip((x - x0) / max(x1 - x0, 1.0), 0.0, 1.0)
    vertical = 1.0 - 0.12 * np.arange(h, dtype=np.float32) / h
    if part.shading == "cylinder":
        across = 0.5 + 0.5 * np.clip(np.sin(np.pi * p), 0.0, 1.0) ** 0.6
        spec = 0.55 * np.exp(-(((p - 0.28) / 0.06) ** 2)) + 0.18 * np.exp(-(((p - 0.86) / 0.04) ** 2))
    elif part.shading == "soft":
        across = 0.62 + 0.38 * np.clip(np.sin(np.pi * p), 0.0, 1.0) ** 0.8
        spec = 0.1 * np.exp(-(((p - 0.35) / 0.2) ** 2))
    else:
        level = {"flat": 1.0, "side": 0.68, "top": 1.12}[part.shading]
        across = level * (1.04 - 0.08 * p)
        spec = 0.12 * np.exp(-(((p - 0.15) / 0.1) ** 2)) if part.shading == "flat" else 0.0 * p
    return vertical[:, None] * across[None, :], np.broadcast_to(spec[None, :], (h, w))


def _paint(parts: list[_Part], w: int, h: int) -> Image.Image:
    """Paint shaded parts into an RGBA sprite of (w, h)."""
    rgb = np.zeros((h, w, 3), dtype=np.float32)
    alpha = np.zeros((h, w), dtype=np.float32)
    for part in parts:
        mask_img = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(mask_img)
        pts = [(part.coords[i] * (w - 1), part.coords[i + 1] * (h - 1)) for i in range(0, len(part.coords), 2)]
        if part.kind == "rect":
            draw.rectangle((pts[0], pts[1]), fill=255)
        elif part.kind == "round":
            draw.rounded_rectangle((pts[0], pts[1]), radius=part.radius * w, fill=255)
        elif part.kind == "ellipse":
            draw.ellipse((pts[0], pts[1]), fill=255)
        else:
            draw.polygon(pts, fill=255)
        # A sub-pixel blur anti-aliases the hard mask edges.
        mask_img = mask_img.filter(ImageFilter.GaussianBlur(0.7))
        box = mask_img.getbbox()
        if box is None:
            continue
        x0, y0, x1, y1 = box
        m = np.asarray(mask_img.crop(box), dtype=np.float32)[..., None] / 255.0
        shade, spec = _shade(part, w, h)
        colour = np.asarray(part.colour, dtype=np.float32) * shade[y0:y1, x0:x1, None]
        colour += 255.0 * spec[y0:y1, x0:x1, None]
        rgb[y0:y1, x0:x1] = rgb[y0:y1, x0:x1] * (1.0 - m) + colour * m
        alpha[y0:y1, x0:x1] = np.maximum(alpha[y0:y1, x0:x1], m[..., 0])
    out = np.dstack([np.clip(rgb, 0, 255), alpha * 255.0]).astype(np.uint8)
    return Image.fromarray(out, "RGBA")


def render_product(look: ProductLook, height: int) -> Image.Image:
    """An RGBA sprite of the product, ``height`` pixels tall, with its printed label."""
    h = max(16, int(height))
    w = max(8, round(h * SHAPES[look.shape]))
    parts, label = _parts(look)
    sprite = _paint(parts, w, h)
    draw = ImageDraw.Draw(sprite)
    lx0, ly0, lx1, ly1 = label[0] * w, label[1] * h, label[2] * w, label[3] * h
    lw, lh = lx1 - lx0, ly1 - ly0
    cx = (lx0 + lx1) / 2
    draw_text(draw, (cx, ly0 + 0.33 * lh), look.mark, size=max(6, int(lh * 0.42)), fill=look.ink, anchor="mm")
    words = look.label.split()
    draw_text(draw, (cx, ly0 + 0.72 * lh), words[0].upper(), size=max(6, int(lh * 0.2)),
              fill=look.ink, anchor="mm", max_width=lw * 0.86)
    if len(words) > 1:
        draw_text(draw, (cx, ly0 + 0.9 * lh), " ".join(words[1:]), size=max(6, int(lh * 0.13)),
                  fill=look.ink, anchor="mm", max_width=lw * 0.8)
    return sprite


def render_podium(width: int, colour: Colour) -> Image.Image:
    """An RGBA sprite of a cylindrical display podium ``width`` pixels wide."""
    w = max(16, int(width))
    h = max(8, round(w * 0.32))
    top = mix(colour, (255, 255, 255), 0.25)
    parts = [
        _Part("ellipse", (0.0, 0.6, 1.0, 1.0), colour),
        _Part("rect", (0.0, 0.22, 1.0, 0.8), colour),
        _Part("ellipse", (0.0, 0.0, 1.0, 0.44), top, "top"),
    ]
    return _paint(parts, w, h)


def render_tree(rng: np.random.Generator, height: int, colour: Colour) -> Image.Image:
    """An RGBA sprite of a stylised tree (trunk and clustered canopy), ``height`` tall."""
    h = max(16, int(height))
    w = max(8, round(h * 0.62))
    trunk = mix(colour, (70, 45, 30), 0.75)
    parts = [_Part("rect", (0.44, 0.45, 0.56, 1.0), trunk, "soft")]
    for _ in range(int(rng.integers(3, 6))):
        cx, cy = float(rng.uniform(0.32, 0.68)), float(rng.uniform(0.24, 0.42))
        r = float(rng.uniform(0.28, 0.4))
        tint = mix(colour, (255, 255, 200), float(rng.uniform(0.0, 0.25)))
        # Radii in width and height units that make a circle on a 0.62-wide sprite.
        parts.append(_Part("ellipse", (cx - r, cy - r * 0.62, cx + r, cy + r * 0.62), tint, "soft"))
    return _paint(parts, w, h)


def render_rock(rng: np.random.Generator, width: int, colour: Colour) -> Image.Image:
    """An RGBA sprite of a rock or stone slab ``width`` pixels wide."""
    w = max(16, int(width))
    h = max(8, round(w * float(rng.uniform(0.3, 0.5))))
    jag = [float(v) for v in rng.uniform(0.0, 0.15, 4)]
    poly = (0.0, 1.0, 0.05, 0.3 + jag[0], 0.3, jag[1], 0.7, jag[2], 0.95, 0.25 + jag[3], 1.0, 1.0)
    return _paint([_Part("poly", poly, colour, "soft")], w, h)


def contact_shadow(width: int, height: int, strength: int = 120) -> Image.Image:
    """A soft elliptical RGBA shadow, for the ground under a subject."""
    w, h = max(8, int(width)), max(4, int(height))
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(layer).ellipse((w * 0.12, h * 0.25, w * 0.88, h * 0.75), fill=(0, 0, 0, strength))
    return soften(layer, h * 0.18)

"""Pixels for synthetic creatives: seeded randomness, palettes, gradients and noise.

Everything here is deterministic: randomness comes from :func:`rng_for`, whose
stream depends only on its keys, and every drawing primitive is computed in
normalised coordinates so a creative rendered at 540 px and at 1080 px shows
the same picture. Noise is generated on a coarse grid and upsampled once,
which keeps a 1080 x 1080 background in the tens of milliseconds and gives the
low-frequency structure perceptual hashes look at (flat images hash badly).
"""

from __future__ import annotations

import colorsys
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

__all__ = [
    "SCHEMES",
    "Colour",
    "Palette",
    "add_grain",
    "fractal_noise",
    "hsv",
    "linear_gradient",
    "make_palette",
    "mix",
    "radial_gradient",
    "rng_for",
    "soft_blobs",
    "soften",
    "to_image",
]

Colour = tuple[int, int, int]

#: Colour schemes a palette can follow; each gives creatives a distinct mood.
SCHEMES = ("pastel", "bold", "dark", "earth")

_MASK64 = 0xFFFF_FFFF_FFFF_FFFF


def rng_for(*keys: int | str) -> np.random.Generator:
    """A NumPy generator whose stream depends only on ``keys``.

    Strings are hashed with BLAKE2b (not Python's salted ``hash``), so the same
    keys give the same stream in every process. Use one stream per concern
    (layout, background, subject) so that changing one never shifts another.
    """
    entropy: list[int] = []
    for key in keys:
        if isinstance(key, str):
            digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
            entropy.append(int.from_bytes(digest, "little"))
        else:
            entropy.append(int(key) & _MASK64)
    return np.random.default_rng(np.random.SeedSequence(entropy))


def hsv(h: float, s: float, v: float) -> Colour:
    """An RGB colour from hue (0-1, wraps), saturation and value (0-1)."""
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0.0), 1.0), min(max(v, 0.0), 1.0))
    return (round(r * 255), round(g * 255), round(b * 255))


def mix(c0: Colour, c1: Colour, t: float) -> Colour:
    """The colour a fraction ``t`` of the way from ``c0`` to ``c1``."""
    return (
        round(c0[0] + (c1[0] - c0[0]) * t),
        round(c0[1] + (c1[1] - c0[1]) * t),
        round(c0[2] + (c1[2] - c0[2]) * t),
    )


@dataclass(frozen=True)
class Palette:
    """The colours of one creative template.

    Attributes:
        scheme: one of :data:`SCHEMES`.
        bg0: background colour where a gradient starts.
        bg1: background colour where it ends.
        accent: the main contrasting colour (blocks, tags, podiums).
        accent2: a second accent, for decorations.
        ink: text colour readable on the background.
        paper: a light neutral (labels, cards).
    """

    scheme: str
    bg0: Colour
    bg1: Colour
    accent: Colour
    accent2: Colour
    ink: Colour
    paper: Colour


def make_palette(rng: np.random.Generator, scheme: str | None = None) -> Palette:
    """A harmonious random palette following ``scheme`` (random when ``None``)."""
    if scheme is None:
        scheme = SCHEMES[int(rng.integers(len(SCHEMES)))]
    h = float(rng.random())
    # The accent sits opposite or a third round the wheel: contrast, not a tint.
    ha = h + float(rng.choice([0.5, 0.33, -0.33])) + float(rng.uniform(-0.04, 0.04))
    if scheme == "pastel":
        bg0 = hsv(h, rng.uniform(0.10, 0.22), rng.uniform(0.93, 0.99))
        bg1 = hsv(h + rng.uniform(-0.08, 0.08), rng.uniform(0.25, 0.40), rng.uniform(0.80, 0.90))
        accent, accent2 = hsv(ha, 0.55, 0.85), hsv(h, 0.45, 0.75)
        ink = hsv(h, 0.5, 0.22)
    elif scheme == "bold":
        bg0 = hsv(h, rng.uniform(0.70, 0.90), rng.uniform(0.80, 0.95))
        bg1 = hsv(h + rng.uniform(0.05, 0.12), rng.uniform(0.80, 1.0), rng.uniform(0.45, 0.60))
        accent, accent2 = hsv(ha, 0.85, 0.95), hsv(ha + 0.1, 0.2, 0.98)
        ink = (255, 255, 255)
    elif scheme == "dark":
        bg0 = hsv(h, rng.uniform(0.30, 0.60), rng.uniform(0.22, 0.32))
        bg1 = hsv(h, rng.uniform(0.40, 0.70), rng.uniform(0.05, 0.12))
        accent, accent2 = hsv(0.11, 0.55, 0.85), hsv(ha, 0.6, 0.7)  # gold on dark
        ink = (245, 236, 214)
    else:  # earth
        he = 0.03 + float(rng.uniform(0.0, 0.12))
        bg0 = hsv(he, rng.uniform(0.20, 0.35), rng.uniform(0.78, 0.88))
        bg1 = hsv(he + 0.02, rng.uniform(0.35, 0.50), rng.uniform(0.45, 0.58))
        accent, accent2 = hsv(he + 0.25, 0.45, 0.55), hsv(he, 0.6, 0.35)
        ink = hsv(he, 0.6, 0.18)
    paper = hsv(h, 0.04, 0.98)
    return Palette(scheme, bg0, bg1, accent, accent2, ink, paper)


def _lerp(c0: Colour, c1: Colour, t: np.ndarray) -> np.ndarray:
    a = np.asarray(c0, dtype=np.float32)
    b = np.asarray(c1, dtype=np.float32)
    return a + (b - a) * t[..., None]


def linear_gradient(size: tuple[int, int], c0: Colour, c1: Colour, angle: float) -> np.ndarray:
    """An (h, w, 3) float32 array going from ``c0`` to ``c1`` along ``angle`` degrees."""
    w, h = size
    rad = np.deg2rad(angle)
    xs = (np.arange(w, dtype=np.float32) / max(w - 1, 1) - 0.5) * np.float32(np.cos(rad))
    ys = (np.arange(h, dtype=np.float32) / max(h - 1, 1) - 0.5) * np.float32(np.sin(rad))
    t = ys[:, None] * (h / max(w, h)) + xs[None, :] * (w / max(w, h))
    span = float(t.max() - t.min()) or 1.0
    return _lerp(c0, c1, (t - t.min()) / span)


def radial_gradient(
    size: tuple[int, int],
    inner: Colour,
    outer: Colour,
    centre: tuple[float, float] = (0.5, 0.5),
    radius: float = 0.75,
) -> np.ndarray:
    """An (h, w, 3) float32 array: ``inner`` at ``centre`` fading to ``outer`` at ``radius``.

    ``centre`` and ``radius`` are fractions of the longer side.
    """
    w, h = size
    side = float(max(w, h))
    xs = (np.arange(w, dtype=np.float32) - centre[0] * w) / side
    ys = (np.arange(h, dtype=np.float32) - centre[1] * h) / side
    d = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2) / np.float32(radius)
    return _lerp(inner, outer, np.clip(d, 0.0, 1.0) ** 1.3)


def fractal_noise(
    rng: np.random.Generator,
    size: tuple[int, int],
    cells: int = 3,
    octaves: int = 4,
    persistence: float = 0.55,
) -> np.ndarray:
    """Smooth multi-scale value noise, an (h, w) float32 array with mean 0 and std 1.

    ``cells`` is the number of noise cells across the width at the coarsest
    octave; each further octave doubles it. The octaves are summed on a grid a
    quarter of the size and upsampled once, which is what makes it cheap.
    """
    w, h = size
    work = (max(4, w // 4), max(4, h // 4))
    acc = np.zeros((work[1], work[0]), dtype=np.float32)
    amp = 1.0
    for octave in range(octaves):
        n = cells * 2**octave
        grid = rng.random((max(2, round(n * h / w)) + 1, n + 1), dtype=np.float32)
        layer = Image.fromarray(grid * 2.0 - 1.0).resize(work, Image.Resampling.BICUBIC)
        acc += np.float32(amp) * np.asarray(layer, dtype=np.float32)
        amp *= persistence
    acc -= acc.mean()
    acc /= float(acc.std()) or 1.0
    return np.asarray(Image.fromarray(acc).resize(size, Image.Resampling.BICUBIC), dtype=np.float32)


def add_grain(image: Image.Image, rng: np.random.Generator, sigma: float) -> Image.Image:
    """``image`` (RGB) with Gaussian film grain of std ``sigma``, the same on every channel.

    The grain is drawn once on a 509 x 509 tile and repeated: at this amplitude
    the repeat is invisible and it avoids a per-pixel random draw on big canvases.
    """
    w, h = image.size
    tile = np.clip(128.0 + rng.standard_normal((509, 509), dtype=np.float32) * np.float32(sigma), 0, 255)
    reps = (h // 509 + 1, w // 509 + 1)
    plane = Image.fromarray(np.tile(tile.astype(np.uint8), reps)[:h, :w])
    return ImageChops.add(image, Image.merge("RGB", (plane, plane, plane)), 1.0, -128)


def to_image(arr: np.ndarray) -> Image.Image:
    """An RGB image from an (h, w, 3) float array, clipped to 0-255."""
    return Image.fromarray(np.clip(arr, 0.0, 255.0).astype(np.uint8))


def soft_blobs(
    rng: np.random.Generator,
    size: tuple[int, int],
    count: int,
    colours: Sequence[Colour],
    radius: tuple[float, float] = (0.04, 0.16),
    alpha: tuple[int, int] = (40, 130),
    blur: float = 0.012,
) -> Image.Image:
    """An RGBA layer of ``count`` blurred discs (bokeh, glows, out-of-focus props).

    Drawn at a quarter of the size, blurred, then upsampled: blurred shapes
    lose nothing at low resolution and this is many times faster.
    """
    w, h = size
    sw, sh = max(8, w // 4), max(8, h // 4)
    layer = Image.new("RGBA", (sw, sh), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(count):
        r = float(rng.uniform(*radius)) * sw
        cx, cy = float(rng.uniform(0, sw)), float(rng.uniform(0, sh))
        colour = colours[int(rng.integers(len(colours)))]
        a = int(rng.integers(alpha[0], alpha[1] + 1))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*colour, a))
    return soften(layer, blur * sw).resize(size, Image.Resampling.BILINEAR)


def soften(layer: Image.Image, radius: float) -> Image.Image:
    """Gaussian-blur an RGBA layer without dark fringes.

    Blurring straight RGBA mixes the black of transparent pixels into the
    edges; blurring the premultiplied form (``RGBa``) does not.
    """
    blurred = layer.convert("RGBa").filter(ImageFilter.GaussianBlur(max(0.5, radius)))
    return blurred.convert("RGBA")

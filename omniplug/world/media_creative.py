"""Original creatives: product shots, lifestyle scenes and posters.

:func:`render_creative` draws the original artwork a brand would hand to
each platform, before any platform re-edits it. See
:mod:`omniplug.world.media_scene` for what ``creative_id``, ``template`` and
``viewpoint`` control. The random streams are split by concern (layout and
background per template, product per creative id, camera per viewpoint) so
creatives that share a template differ only where the product is.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from omniplug.errors import InvalidInputError
from omniplug.world.media_scene import (
    CreativeSpec,
    Scene,
    camera_for,
    creative_spec,
    product_pixels,
)
from omniplug.world.media_subjects import (
    contact_shadow,
    render_podium,
    render_product,
    render_rock,
    render_tree,
)
from omniplug.world.media_text import draw_price, draw_text
from omniplug.world.media_texture import (
    Palette,
    add_grain,
    fractal_noise,
    hsv,
    linear_gradient,
    make_palette,
    mix,
    radial_gradient,
    rng_for,
    soft_blobs,
    soften,
    to_image,
)

__all__ = ["render_creative"]

_MIN_SIDE = 32
_MAX_SIDE = 4096


def render_creative(
    creative_id: int,
    *,
    seed: int = 0,
    size: tuple[int, int] = (1080, 1080),
    kind: str | None = None,
    template: int | None = None,
    viewpoint: int = 0,
    brand: str | None = None,
    product_name: str | None = None,
    price: int | None = None,
    shape: str | None = None,
) -> Image.Image:
    """Draw an original creative as an RGB image of ``size`` (width, height).

    Args:
        creative_id: which product is shown (shape, colours, label, name, price).
        seed: the world seed (also picks the brand).
        size: output size in pixels; drawn at this size directly, any aspect.
        kind: ``"product"``, ``"lifestyle"`` or ``"poster"``; ``None`` picks
            ``KINDS[template % 3]``.
        template: the layout (palette, background, decoration, headline);
            defaults to ``creative_id``. Same template + different id = hard negative.
        viewpoint: 0 for the reference shot; other values re-shoot the same
            scene from a slightly different camera position.
        brand: the brand printed on the creative (default: the seed's brand).
        product_name: the product's name (default: drawn from the id).
        price: the price in yuan on price tags (default: drawn from the id).
        shape: the product's silhouette, a key of ``SHAPES`` (default: drawn from the id).

    The same arguments always give the same pixels. Raises
    :class:`~omniplug.errors.InvalidInputError` for an unknown kind or a size
    outside 32-4096 pixels.
    """
    w, h = size
    if not (_MIN_SIDE <= w <= _MAX_SIDE and _MIN_SIDE <= h <= _MAX_SIDE):
        raise InvalidInputError(f"creative size {size} must be {_MIN_SIDE}-{_MAX_SIDE} pixels per side")
    spec = creative_spec(creative_id, seed=seed, kind=kind, template=template, viewpoint=viewpoint,
                         brand=brand, product_name=product_name, price=price, shape=shape)
    scene = Scene((w, h))
    rng = rng_for(seed, spec.template, "background", spec.kind)
    palette = make_palette(rng)
    {"product": _product_scene, "lifestyle": _lifestyle_scene, "poster": _poster_scene}[spec.kind](
        scene, spec, palette, rng
    )
    _place_product(scene, spec)
    image = scene.render(camera_for(spec))
    overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    {"product": _product_overlay, "lifestyle": _lifestyle_overlay, "poster": _poster_overlay}[spec.kind](
        ImageDraw.Draw(overlay), spec, palette, (w, h)
    )
    image.paste(overlay, (0, 0), overlay)
    return image


def _texture(arr: np.ndarray, rng: np.random.Generator, amount: float, tint: tuple[int, int, int]) -> np.ndarray:
    """Add luminance noise and a tinted colour-noise field to a background array."""
    size = (arr.shape[1], arr.shape[0])
    lum = fractal_noise(rng, size, cells=int(rng.integers(2, 5)))
    tint_field = np.clip(fractal_noise(rng, size, cells=2, octaves=3), 0.0, None)
    tint_delta = np.asarray(tint, dtype=np.float32) - arr.mean(axis=(0, 1))
    arr += lum[..., None] * np.float32(amount)
    arr += tint_field[..., None] * (tint_delta * np.float32(0.12))
    return arr


def _work_size(scene: Scene) -> tuple[int, int]:
    """Backgrounds are smooth, so their arrays are computed at half the canvas size."""
    cw, ch = scene.canvas_size
    return cw // 2, ch // 2


def _finish(work: Image.Image, scene: Scene, rng: np.random.Generator) -> Image.Image:
    """Upsample a half-size background to the canvas and give it full-resolution grain."""
    return add_grain(work.resize(scene.canvas_size, Image.Resampling.BILINEAR), rng, 2.5)


def _profile(rng: np.random.Generator, width: int, base: float, amplitude: float, cells: int) -> np.ndarray:
    """A smooth random skyline: y in pixels for each x."""
    ctrl = rng.uniform(-1.0, 1.0, cells + 1).astype(np.float32)
    curve = Image.fromarray(ctrl[None, :]).resize((width, 1), Image.Resampling.BICUBIC)
    return base + amplitude * np.asarray(curve, dtype=np.float32)[0]


def _below(profile: np.ndarray, height: int) -> np.ndarray:
    """Anti-aliased (h, w) coverage of the region below ``profile``."""
    ys = np.arange(height, dtype=np.float32)[:, None]
    return np.clip(ys - profile[None, :] + 0.5, 0.0, 1.0)


def _product_scene(scene: Scene, spec: CreativeSpec, pal: Palette, rng: np.random.Generator) -> None:
    cw, ch = _work_size(scene)
    k = cw / scene.canvas_size[0]
    s = min(scene.size) * k  # the output's shorter side, in work pixels
    hx = (scene.margin + spec.product_anchor[0] * scene.size[0]) * k
    hy = (scene.margin + spec.product_anchor[1] * scene.size[1]) * k
    style = int(rng.integers(4))
    if style == 0:
        arr = linear_gradient((cw, ch), pal.bg0, pal.bg1, float(rng.uniform(0, 360)))
    elif style in (1, 3):
        arr = radial_gradient((cw, ch), pal.bg0, pal.bg1, (hx / cw, 0.45), float(rng.uniform(0.55, 0.9)))
    else:  # a wall and a table top meeting behind the product
        wall = linear_gradient((cw, ch), pal.bg0, mix(pal.bg0, pal.bg1, 0.4), 90.0)
        table = linear_gradient((cw, ch), mix(pal.bg1, pal.bg0, 0.3), pal.bg1, 90.0)
        cover = _below(np.full(cw, hy - 0.06 * s, dtype=np.float32), ch)[..., None]
        arr = wall * (1 - cover) + table * cover
    image = to_image(_texture(arr, rng, float(rng.uniform(6, 14)), pal.accent2))
    draw_layer = Image.new("RGBA", (cw, ch), (0, 0, 0, 0))
    draw = ImageDraw.Draw(draw_layer)
    deco = int(rng.integers(4)) if style != 3 else 4
    if deco == 0:  # bokeh
        blobs = soft_blobs(rng, (cw, ch), int(rng.integers(6, 15)), [pal.paper, pal.accent2, pal.bg0])
        draw_layer.paste(blobs, (0, 0), blobs)
    elif deco == 1:  # leaves along the edges
        for _ in range(int(rng.integers(5, 10))):
            x = float(rng.choice([rng.uniform(0, 0.25), rng.uniform(0.75, 1.0)])) * cw
            y, r = float(rng.uniform(0.05, 0.95)) * ch, float(rng.uniform(0.06, 0.12)) * s
            ang = float(rng.uniform(0, np.pi))
            pts = [(x + r * np.cos(t) * np.cos(ang) - 0.35 * r * np.sin(t) * np.sin(ang),
                    y + r * np.cos(t) * np.sin(ang) + 0.35 * r * np.sin(t) * np.cos(ang))
                   for t in np.linspace(0, 2 * np.pi, 24)]
            draw.polygon(pts, fill=(*mix(pal.accent, (20, 60, 30), 0.5), int(rng.integers(150, 230))))
    elif deco == 2:  # sweeping waves behind the product
        for j in range(int(rng.integers(2, 4))):
            base, amp = hy - float(rng.uniform(0.05, 0.3)) * s, float(rng.uniform(0.03, 0.08)) * s
            phase, freq = float(rng.uniform(0, 6.3)), float(rng.uniform(1.0, 2.5))
            top = [(x, base + amp * np.sin(phase + freq * 2 * np.pi * x / cw)) for x in np.linspace(0, cw, 48)]
            colour = (pal.accent, pal.accent2, pal.paper)[j % 3]
            draw.polygon([*top, (cw, ch), (0, ch)], fill=(*colour, int(rng.integers(70, 150))))
    elif deco == 3:  # concentric rings around the product
        for j in range(int(rng.integers(2, 5))):
            r = (0.18 + 0.09 * j) * s
            draw.ellipse((hx - r, hy - 1.3 * r, hx + r, hy + 0.7 * r), outline=(*pal.accent, 150),
                         width=max(1, round(0.008 * s)))
    else:  # an arch in the accent colour framing the product
        r = float(rng.uniform(0.2, 0.28)) * s
        draw.rounded_rectangle((hx - r, hy - 3.2 * r, hx + r, hy + 0.2 * r), radius=r, fill=(*pal.accent, 235))
    layer = soften(draw_layer, 0.6)
    image.paste(layer, (0, 0), layer)
    scene.layers.append((_finish(image, scene, rng), 0.35))
    if rng.random() < 0.7:
        pw = product_pixels(spec, scene.size) * float(rng.uniform(1.1, 1.5))
        podium = render_podium(round(pw), pal.accent if pal.scheme != "bold" else pal.paper)
        px, py = spec.product_anchor[0] * scene.size[0], spec.product_anchor[1] * scene.size[1]
        scene.sprites.append((podium, px, py + 0.78 * podium.height, 0.95))


def _place_product(scene: Scene, spec: CreativeSpec) -> None:
    """Put the product and its contact shadow at the spec's anchor."""
    product = render_product(spec.look, round(product_pixels(spec, scene.size)))
    x, y = spec.product_anchor[0] * scene.size[0], spec.product_anchor[1] * scene.size[1]
    shadow = contact_shadow(round(product.width * 1.5), max(4, round(product.width * 0.3)))
    scene.sprites.append((shadow, x + 0.08 * product.width, y + 0.45 * shadow.height, 1.0))
    scene.sprites.append((product, x, y, 1.0))


def _lifestyle_scene(scene: Scene, spec: CreativeSpec, pal: Palette, rng: np.random.Generator) -> None:
    cw, ch = _work_size(scene)
    k = cw / scene.canvas_size[0]
    m, (w, h) = scene.margin, scene.size
    hue = float(rng.random())
    tod = int(rng.integers(4))
    sky_top, sky_low = [
        (hsv(0.58, 0.55, 0.85), hsv(0.55, 0.15, 0.98)),  # day
        (hsv(0.75, 0.45, 0.45), hsv(0.07, 0.65, 0.98)),  # sunset
        (hsv(0.64, 0.7, 0.25), hsv(0.92, 0.35, 0.75)),  # dusk
        (hsv(0.6, 0.08, 0.62), hsv(0.6, 0.04, 0.88)),  # overcast
    ][tod]
    horizon = m + float(rng.uniform(0.42, 0.58)) * h  # canvas pixels
    arr = linear_gradient((cw, ch), sky_top, sky_low, 90.0)
    sun_at = (float(rng.uniform(0.15, 0.85)), horizon / scene.canvas_size[1] - 0.12)
    arr += radial_gradient((cw, ch), (255, 240, 200), (0, 0, 0), sun_at, 0.35) * np.float32(0.5 if tod != 3 else 0.15)
    clouds = np.clip((fractal_noise(rng, (cw, ch), cells=3, octaves=5) - 0.4) * 0.9, 0.0, 0.8)
    arr += (np.float32(250.0) - arr) * clouds[..., None] * np.float32(0.6)
    far = _below(_profile(rng, cw, (horizon - 0.06 * h) * k, 0.07 * h * k, int(rng.integers(4, 9))), ch)[..., None]
    far_colour = np.asarray(mix(hsv(hue, 0.35, 0.55), sky_low, 0.45), dtype=np.float32)
    arr = arr * (1 - far) + far_colour * far
    scene.layers.append((_finish(to_image(arr), scene, rng), 0.15))
    # The near ground is its own layer so it slides against the far hills between viewpoints.
    ground_hue = [0.28, 0.1, 0.55, hue][int(rng.integers(4))]
    near = _below(_profile(rng, cw, (horizon + 0.08 * h) * k, 0.05 * h * k, int(rng.integers(3, 6))), ch)
    ground = linear_gradient((cw, ch), hsv(ground_hue, 0.5, 0.6), hsv(ground_hue, 0.6, 0.3), 90.0)
    ground_img = _finish(to_image(_texture(ground, rng, 14.0, hsv(ground_hue + 0.1, 0.5, 0.5))), scene, rng)
    alpha = Image.fromarray((near * 255.0).astype(np.uint8)).resize(scene.canvas_size, Image.Resampling.BILINEAR)
    ground_img.putalpha(alpha)
    scene.layers.append((ground_img, 0.55))
    ground_y = horizon + 0.08 * h - m
    for _ in range(int(rng.integers(2, 7))):
        x = float(rng.uniform(0.0, 1.0)) * w
        if abs(x / w - spec.product_anchor[0]) < 0.15:
            continue  # keep the product in the clear
        depth = float(rng.uniform(0.6, 0.85))
        tall = min(h, 1.2 * w) * float(rng.uniform(0.18, 0.34)) * depth
        tree = render_tree(rng, round(tall), hsv(ground_hue + 0.02, 0.55, 0.5))
        scene.sprites.append((tree, x, ground_y + (depth - 0.6) * 0.3 * h, depth))
    slab = render_rock(rng, round(product_pixels(spec, scene.size) * 1.4), hsv(hue, 0.12, 0.6))
    scene.sprites.append((slab, spec.product_anchor[0] * w, spec.product_anchor[1] * h + 0.6 * slab.height, 0.98))


def _poster_scene(scene: Scene, spec: CreativeSpec, pal: Palette, rng: np.random.Generator) -> None:
    cw, ch = scene.canvas_size
    m, (w, h) = scene.margin, scene.size
    arr = linear_gradient(_work_size(scene), pal.bg0, mix(pal.bg0, pal.bg1, 0.35), float(rng.uniform(0, 360)))
    image = _finish(to_image(_texture(arr, rng, 5.0, pal.accent)), scene, rng)
    # Print-like blocks are drawn at full resolution: their hard edges are the point.
    draw = ImageDraw.Draw(image)
    style = int(rng.integers(4))
    if style == 0:  # diagonal bands
        for k, colour in enumerate((pal.accent, pal.accent2)):
            y0 = m + float(rng.uniform(0.3, 0.7)) * h + k * 0.12 * h
            tilt = float(rng.uniform(0.2, 0.5)) * w
            draw.polygon([(0, y0), (cw, y0 - tilt), (cw, y0 - tilt + 0.14 * h), (0, y0 + 0.14 * h)], fill=colour)
    elif style == 1:  # a grid of blocks with heavy rules
        xs = sorted(float(v) for v in rng.uniform(0.25, 0.75, 2))
        y = float(rng.uniform(0.45, 0.65))
        blocks = [(0, y, xs[0], 1), (xs[0], y, xs[1], 1), (xs[1], 0, 1, y)]
        for (x0, y0, x1, y1), colour in zip(blocks, (pal.accent, pal.paper, pal.accent2), strict=True):
            box = (m + x0 * w, m + y0 * h, m + x1 * w, m + y1 * h)
            draw.rectangle(box, fill=colour, outline=pal.ink, width=max(2, round(0.012 * w)))
    elif style == 2:  # a big sun disc behind the product
        r = float(rng.uniform(0.28, 0.38)) * min(w, h)
        cx, cy = m + spec.product_anchor[0] * w, m + (spec.product_anchor[1] - 0.25) * h
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=pal.accent)
        draw.ellipse((cx - 1.15 * r, cy - 1.15 * r, cx + 1.15 * r, cy + 1.15 * r), outline=pal.accent2,
                     width=max(2, round(0.01 * w)))
    else:  # stripes
        step = float(rng.uniform(0.04, 0.07)) * min(w, h)
        for k in range(int(cw / step) + int(ch / step) + 1):
            x = k * step
            draw.line([(x, 0), (x - ch, ch)], fill=pal.accent2, width=max(2, round(step * 0.35)))
    # A halftone patch: the printed-poster texture, and fine structure for the hashes.
    corner_x = m + (0.08 if spec.product_anchor[0] > 0.55 else 0.62) * w
    pitch = max(4.0, 0.022 * min(w, h))
    for i in range(12):
        for j in range(9):
            r = pitch * 0.45 * (1 - j / 10)
            x, y = corner_x + i * pitch, m + 0.7 * h + j * pitch
            draw.ellipse((x - r, y - r, x + r, y + r), fill=pal.ink)
    scene.layers.append((image, 1.0))


def _column(spec: CreativeSpec, size: tuple[int, int]) -> tuple[float, str]:
    """x and anchor of a text column on the side away from the product."""
    ax = spec.product_anchor[0]
    if ax > 0.55:
        return 0.06 * size[0], "l"
    if ax < 0.45:
        return 0.94 * size[0], "r"
    return 0.5 * size[0], "m"


# Overlay text is sized by the shorter side (u) and placed by fractions of each
# side, so a portrait or landscape render keeps readable, non-overlapping copy.


def _product_overlay(draw: ImageDraw.ImageDraw, spec: CreativeSpec, pal: Palette, size: tuple[int, int]) -> None:
    w, h = size
    u = min(w, h)
    x, a = _column(spec, size)
    draw_text(draw, (0.05 * w, 0.05 * h) if a != "l" else (0.95 * w, 0.05 * h), spec.brand,
              size=round(0.032 * u), fill=pal.ink, anchor="la" if a != "l" else "ra")
    if a == "m":
        draw_text(draw, (x, 0.06 * h + 0.08 * u), spec.headline, size=round(0.085 * u), fill=pal.ink, anchor="mm",
                  max_width=0.86 * w)
        draw_text(draw, (x, 0.06 * h + 0.15 * u), spec.tagline, size=round(0.036 * u), fill=pal.ink, anchor="mm",
                  max_width=0.8 * w)
        draw_text(draw, (0.48 * w, h - 0.07 * u), spec.product_name, size=round(0.04 * u), fill=pal.ink, anchor="rm")
        draw_price(draw, (0.52 * w, h - 0.07 * u), spec.price, size=round(0.05 * u), fill=pal.accent, anchor="lm")
        return
    col = 0.38 * w
    y = 0.12 * h + 0.08 * u
    for word in spec.headline.split():
        draw_text(draw, (x, y), word, size=round(0.09 * u), fill=pal.ink, anchor=a + "m", max_width=col)
        y += 0.1 * u
    draw_text(draw, (x, y), spec.tagline, size=round(0.032 * u), fill=pal.ink, anchor=a + "m", max_width=col)
    draw_text(draw, (x, y + 0.1 * u), spec.product_name, size=round(0.045 * u), fill=pal.ink, anchor=a + "m",
              max_width=col)
    draw_price(draw, (x, y + 0.18 * u), spec.price, size=round(0.06 * u), fill=pal.accent, anchor=a + "m")


def _lifestyle_overlay(draw: ImageDraw.ImageDraw, spec: CreativeSpec, pal: Palette, size: tuple[int, int]) -> None:
    w, h = size
    u = min(w, h)
    right = spec.product_anchor[0] < 0.5
    cw, ch = 0.39 * u * max(1.0, w / h) ** 0.5, 0.17 * u
    x0 = w - 0.05 * u - cw if right else 0.05 * u
    y0 = h - 0.05 * u - ch
    draw.rounded_rectangle((x0, y0, x0 + cw, y0 + ch), radius=0.02 * u, fill=(*pal.paper, 215))
    ink = mix(pal.accent2, (20, 20, 24), 0.75)  # the card is light whatever the palette
    tx = x0 + 0.03 * u
    draw_text(draw, (tx, y0 + 0.03 * u), spec.brand, size=round(0.03 * u), fill=ink, anchor="lt")
    draw_text(draw, (tx, y0 + 0.075 * u), spec.product_name, size=round(0.045 * u), fill=ink, anchor="lt",
              max_width=cw - 0.06 * u)
    draw_text(draw, (tx, y0 + 0.135 * u), spec.tagline, size=round(0.026 * u), fill=ink, anchor="lt",
              max_width=cw - 0.06 * u)
    draw_text(draw, (0.06 * u, 0.08 * u), spec.headline, size=round(0.07 * u), fill=(255, 255, 255, 235),
              anchor="lm", max_width=0.7 * w)


def _poster_overlay(draw: ImageDraw.ImageDraw, spec: CreativeSpec, pal: Palette, size: tuple[int, int]) -> None:
    w, h = size
    u = min(w, h)
    y = 0.1 * u
    for word in spec.headline.split():
        draw_text(draw, (0.06 * u, y), word, size=round(0.13 * u), fill=pal.ink, anchor="lm", max_width=0.6 * w)
        y += 0.13 * u
    draw_text(draw, (0.06 * u, y), spec.tagline, size=round(0.04 * u), fill=pal.ink, anchor="lm", max_width=0.55 * w)
    cx = 0.22 * w if spec.product_anchor[0] > 0.55 else 0.8 * w
    cy, r = max(y + 0.2 * u, 0.62 * h), 0.12 * u
    star = [(cx + (r if k % 2 == 0 else 0.8 * r) * np.cos(np.pi * k / 12),
             cy + (r if k % 2 == 0 else 0.8 * r) * np.sin(np.pi * k / 12)) for k in range(24)]
    draw.polygon(star, fill=(220, 30, 45, 255))
    draw_price(draw, (cx, cy), spec.price, size=round(0.07 * u), fill=(255, 255, 255, 255), anchor="mm")
    draw_text(draw, (0.06 * u, h - 0.05 * u), spec.brand, size=round(0.035 * u), fill=pal.ink, anchor="lm")

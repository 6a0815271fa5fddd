"""What a creative shows (its spec) and the camera that photographs it.

A creative is identified by three numbers:

- ``creative_id``: the *subject*: which product (shape, colours, label,
  name, price) stands in the picture.
- ``template``: the *layout*: kind, palette, background, decoration,
  where the product stands, the campaign headline. It defaults to the
  creative id; two creatives that share a template but not an id are a hard
  negative pair (the same campaign template with a different product).
- ``viewpoint``: the *camera*: 0 is the reference shot; any other value is
  the same scene taken from a slightly different position (shift, zoom and
  parallax between depth layers, a small lighting change). Design overlays
  (headlines, price tags) do not move: they are laid out after the shot.

A :class:`Scene` holds the depth layers and sprites of one picture in the
coordinates of the reference shot and renders them through a
:class:`Camera`. Background layers are drawn with an overscan margin so a
moved camera never sees past their edges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from omniplug.errors import InvalidInputError
from omniplug.world.media_subjects import (
    SHAPES,
    ProductLook,
    product_aspect,
    product_look,
)
from omniplug.world.media_text import HEADLINES, PRODUCT_NAMES, TAGLINES, brand_name
from omniplug.world.media_texture import rng_for

__all__ = [
    "KINDS",
    "Camera",
    "CreativeSpec",
    "Scene",
    "camera_for",
    "creative_spec",
    "product_pixels",
    "subject_box",
]

#: The kinds of creative :func:`creative_spec` knows.
KINDS = ("product", "lifestyle", "poster")

#: Background overscan on each side, as a fraction of the longer side.
OVERSCAN = 0.08


@dataclass(frozen=True)
class CreativeSpec:
    """The choices behind one creative (everything but the pixels).

    Attributes:
        creative_id: the subject (product) id.
        template: the layout id (equal to ``creative_id`` unless given).
        viewpoint: the camera position (0 = reference shot).
        seed: the world seed; it also picks the brand.
        kind: one of :data:`KINDS`.
        brand: the brand name printed on the creative.
        headline: the campaign headline (template level).
        tagline: the second line of copy (template level).
        product_name: the product's name (subject level).
        price: the product's price in yuan (subject level).
        look: how the product looks.
        product_anchor: where the product's base stands, as fractions of (width, height).
        product_height: the product's height as a fraction of the canvas height.
    """

    creative_id: int
    template: int
    viewpoint: int
    seed: int
    kind: str
    brand: str
    headline: str
    tagline: str
    product_name: str
    price: int
    look: ProductLook
    product_anchor: tuple[float, float]
    product_height: float


def creative_spec(
    creative_id: int,
    *,
    seed: int = 0,
    kind: str | None = None,
    template: int | None = None,
    viewpoint: int = 0,
    brand: str | None = None,
    product_name: str | None = None,
    price: int | None = None,
    shape: str | None = None,
) -> CreativeSpec:
    """The spec of a creative; see the module docstring for what each number controls.

    ``kind`` defaults to ``KINDS[template % 3]``. ``brand``, ``product_name``,
    ``price`` and ``shape`` (a key of ``SHAPES``) replace what would be drawn
    (a world with its own catalogue passes them); replacing one changes no
    other choice. Raises :class:`~omniplug.errors.InvalidInputError` for an
    unknown kind or shape.
    """
    template = creative_id if template is None else template
    if kind is None:
        kind = KINDS[template % len(KINDS)]
    if kind not in KINDS:
        raise InvalidInputError(f"unknown creative kind {kind!r}; expected one of {', '.join(KINDS)}")
    lay = rng_for(seed, template, "layout", kind)
    sub = rng_for(seed, creative_id, "subject")
    brand = brand or brand_name(seed)
    # Draw even what the caller replaces, so the rest of the stream stays the same.
    drawn_name = PRODUCT_NAMES[int(sub.integers(len(PRODUCT_NAMES)))]
    drawn_price = int(sub.integers(5, 60)) * 10 - 1
    name = product_name or drawn_name
    price = drawn_price if price is None else int(price)
    if shape is not None and shape not in SHAPES:
        raise InvalidInputError(f"unknown product shape {shape!r}; expected one of {', '.join(SHAPES)}")
    look = product_look(sub, name, brand, shape)
    if kind == "product":
        anchor = (float(lay.choice([0.5, 0.34, 0.66])), float(lay.uniform(0.74, 0.8)))
        height = float(lay.uniform(0.42, 0.54))
    elif kind == "lifestyle":
        anchor = (float(lay.uniform(0.3, 0.7)), float(lay.uniform(0.8, 0.86)))
        height = float(lay.uniform(0.3, 0.38))
    else:
        anchor = (float(lay.choice([0.68, 0.5])), float(lay.uniform(0.84, 0.88)))
        height = float(lay.uniform(0.38, 0.46))
    # Wide shapes (jars, boxes) are drawn lower so every product covers a similar area.
    height *= min(1.0, (0.42 / product_aspect(look.shape)) ** 0.5)
    return CreativeSpec(
        creative_id=creative_id,
        template=template,
        viewpoint=viewpoint,
        seed=seed,
        kind=kind,
        brand=brand,
        headline=HEADLINES[int(lay.integers(len(HEADLINES)))],
        tagline=TAGLINES[int(lay.integers(len(TAGLINES)))],
        product_name=name,
        price=price,
        look=look,
        product_anchor=anchor,
        product_height=height,
    )


@dataclass(frozen=True)
class Camera:
    """Where the camera stands relative to the reference shot.

    Attributes:
        zoom: magnification of the nearest layer (depth 1); farther layers get less.
        shift: displacement of the nearest layer, as fractions of (width, height).
        gain: brightness multiplier (light changes between shots).
        warmth: added to red and taken from blue, in 0-255 units.
    """

    zoom: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    gain: float = 1.0
    warmth: float = 0.0

    def layer(self, depth: float) -> tuple[float, float, float]:
        """Zoom and (dx, dy) shift fractions seen by a layer at ``depth`` (0 far, 1 near)."""
        return 1.0 + (self.zoom - 1.0) * depth, self.shift[0] * depth, self.shift[1] * depth

    def project(self, xy: tuple[float, float], depth: float, size: tuple[int, int]) -> tuple[float, float, float]:
        """Where a reference-shot pixel ``xy`` at ``depth`` lands, and its scale."""
        z, dx, dy = self.layer(depth)
        cx, cy = size[0] / 2, size[1] / 2
        return cx + (xy[0] - cx) * z + dx * size[0], cy + (xy[1] - cy) * z + dy * size[1], z


def camera_for(spec: CreativeSpec) -> Camera:
    """The camera of ``spec``'s viewpoint (the identity for viewpoint 0)."""
    if spec.viewpoint == 0:
        return Camera()
    rng = rng_for(spec.seed, spec.template, "viewpoint", spec.viewpoint)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    return Camera(
        zoom=float(rng.uniform(1.03, 1.09)),
        shift=(sign * float(rng.uniform(0.025, 0.05)), float(rng.uniform(-0.02, 0.02))),
        gain=float(rng.uniform(0.94, 1.06)),
        warmth=float(rng.uniform(-6.0, 6.0)),
    )


def product_pixels(spec: CreativeSpec, size: tuple[int, int]) -> float:
    """The product's height in pixels in a render at ``size``.

    A fraction of the height, capped for tall canvases so that a 9:16 render
    does not show a giant product.
    """
    return spec.product_height * min(size[1], 1.2 * size[0])


def subject_box(spec: CreativeSpec, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixel box (x0, y0, x1, y1) the product occupies in a render of ``spec`` at ``size``."""
    h = product_pixels(spec, size)
    w = h * product_aspect(spec.look.shape)
    base = (spec.product_anchor[0] * size[0], spec.product_anchor[1] * size[1])
    bx, by, z = camera_for(spec).project(base, 1.0, size)
    return round(bx - w * z / 2), round(by - h * z), round(bx + w * z / 2), round(by)


@dataclass
class Scene:
    """Depth layers and sprites of one picture, in reference-shot coordinates.

    Attributes:
        size: output size (width, height).
        margin: overscan in pixels on each side of every layer.
        layers: (image of ``canvas_size``, depth); the first is RGB, the others RGBA.
        sprites: (RGBA image, x of its bottom centre, y of its bottom, depth).
    """

    size: tuple[int, int]
    margin: int = 0
    layers: list[tuple[Image.Image, float]] = field(default_factory=list)
    sprites: list[tuple[Image.Image, float, float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.margin = round(OVERSCAN * max(self.size))

    @property
    def canvas_size(self) -> tuple[int, int]:
        """Size of a layer canvas: the output plus the overscan margin on each side."""
        return self.size[0] + 2 * self.margin, self.size[1] + 2 * self.margin

    def _view(self, layer: Image.Image, camera: Camera, depth: float) -> Image.Image:
        w, h = self.size
        m = self.margin
        z, dx, dy = camera.layer(depth)
        if z == 1.0 and dx == 0.0 and dy == 0.0:
            return layer.crop((m, m, m + w, m + h))
        # Output pixel x sees scene point cx + (x - cx - dx*w) / z, offset by the margin.
        x0 = m + w / 2 + (-w / 2 - dx * w) / z
        y0 = m + h / 2 + (-h / 2 - dy * h) / z
        return layer.resize(self.size, Image.Resampling.BILINEAR, box=(x0, y0, x0 + w / z, y0 + h / z))

    def render(self, camera: Camera) -> Image.Image:
        """Photograph the scene with ``camera``: an RGB image of :attr:`size`."""
        if not self.layers:
            raise InvalidInputError("a scene needs at least a background layer")
        base, depth = self.layers[0]
        out = self._view(base, camera, depth).convert("RGB")
        for layer, depth in self.layers[1:]:
            view = self._view(layer, camera, depth)
            out.paste(view, (0, 0), view)
        for sprite, x, y, depth in self.sprites:
            px, py, z = camera.project((x, y), depth, self.size)
            if z != 1.0:
                sprite = sprite.resize((max(1, round(sprite.width * z)), max(1, round(sprite.height * z))),
                                       Image.Resampling.BICUBIC)
            out.paste(sprite, (round(px - sprite.width / 2), round(py - sprite.height)), sprite)
        if camera.gain != 1.0 or camera.warmth != 0.0:
            g, t = camera.gain, camera.warmth
            lut = [min(255, max(0, round(v * g + off))) for off in (t, 0.0, -t) for v in range(256)]
            out = out.point(lut)
        return out

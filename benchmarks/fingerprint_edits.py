"""The edit families of the material-fingerprinting benchmark.

A creative is re-edited on its way to each platform: resized and re-encoded,
colour-graded, mirrored, framed, padded or cropped to the platform's aspect
ratio, stamped with logos, text, price badges and watermarks. Each
:class:`Edit` here is one such edit, grouped in the families of the issue,
each family with its recall goal (:data:`GOALS`). :func:`apply_edit` is a
pure function of (photo, edit, seed): the same inputs give the same bytes.

``python -m benchmarks.fingerprint_edits OUT_DIR`` writes every edit of one
photo as files, to look at.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fingerprint_draw as fd  # noqa: E402  (needs the path above)

__all__ = ["Edit", "FAMILIES", "GOALS", "edits", "apply_edit", "platform_template", "TEMPLATES"]

#: Family -> (description, recall goal of the issue).
FAMILIES: dict[str, tuple[str, float]] = {
    "resize_reencode_colour": ("resize, JPEG/WebP re-encode, colour and filter edits", 0.99),
    "mirror": ("left-right mirror, alone and with re-encoding or colour", 0.99),
    "logo": ("logo overlays in corners, centre watermark logos", 0.99),
    "border": ("solid borders and frames", 0.99),
    "pad": ("solid pads to 1:1, 3:4, 9:16", 0.99),
    "text": ("text overlays: bands, captions, outlined titles", 0.98),
    "cover_crop": ("cover crops to 1:1, 3:4, 9:16, 16:9", 0.98),
    "centre_crop": ("centre crops removing 5-30 %", 0.97),
    "platform": ("whole platform pipelines (Douyin, Xiaohongshu, Tmall, Weibo, JD)", 0.95),
    "blurred_pad": ("blurred-background pads to 9:16, 1:1, 3:4", 0.90),
    "rotation": ("2-5 degree rotations, corners filled or cropped", 0.90),
    "one_sided_crop": ("crops of 10-25 % from one side", 0.85),
}
#: Family -> recall goal.
GOALS: dict[str, float] = {k: v[1] for k, v in FAMILIES.items()}

Op = Callable[[Image.Image, random.Random], Image.Image]

_WORDS = ("NEW", "SALE", "HOT", "Limited", "Edition", "Free", "Shipping", "Best", "Seller", "2025", "Only", "Today",
          "Official", "Store", "Gift", "Set", "Summer", "Look", "Daily", "Pick", "Must", "Have", "Flash", "Deal")


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _price(rng: random.Random) -> str:
    # Pillow's bundled font has no yuan sign: the badge says RMB.
    return f"RMB {rng.choice((49, 69, 99, 129, 199, 299, 399, 599))}"


@dataclass(frozen=True)
class Edit:
    """One edit: ``op`` turns the RGB photo into the edited picture, then it is
    encoded as ``fmt`` at ``quality`` (platforms re-encode whatever they get)."""

    family: str
    name: str
    op: Op = field(repr=False, compare=False)
    fmt: str = "JPEG"
    quality: int = 85

    @property
    def key(self) -> str:
        """``family/name``: unique within :func:`edits`."""
        return f"{self.family}/{self.name}"


def _scale(f: float) -> Op:
    return lambda im, _r: fd.resize_to(im, (round(im.width * f), round(im.height * f)))


def _resize_family() -> list[Edit]:
    fam = "resize_reencode_colour"
    out = [Edit(fam, "resize50", _scale(0.5)), Edit(fam, "resize33", _scale(1 / 3)),
           Edit(fam, "thumb160", lambda im, _r: fd.fit_within(im, (160, 160))),
           Edit(fam, "upscale150", _scale(1.5)),
           Edit(fam, "stretch_x110", lambda im, _r: fd.resize_to(im, (round(im.width * 1.1), im.height)))]
    out += [Edit(fam, f"jpeg{q}", lambda im, _r: im, "JPEG", q) for q in (30, 50, 70)]
    out += [Edit(fam, f"webp{q}", lambda im, _r: im, "WEBP", q) for q in (50, 80)]
    out.append(Edit(fam, "png_quantised64", lambda im, _r: im.quantize(64).convert("RGB"), "PNG"))
    for kind, amount in (("brightness", 1.2), ("brightness", 0.8), ("contrast", 1.3), ("contrast", 0.75),
                         ("saturation", 0.0), ("saturation", 1.5), ("gamma", 0.8), ("gamma", 1.25), ("warm", 1.12),
                         ("noise", 6.0), ("blur", 1.5), ("sharpen", 1.5)):
        out.append(Edit(fam, f"{kind}{amount:g}", lambda im, r, k=kind, a=amount: fd.colour(im, k, a, r)))
    out.append(Edit(fam, "resize50_webp60_contrast1.15",
                    lambda im, r: fd.colour(_scale(0.5)(im, r), "contrast", 1.15), "WEBP", 60))
    return out


def _mirror(im: Image.Image) -> Image.Image:
    return im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def _simple_families() -> list[Edit]:
    out = [Edit("mirror", "mirror", lambda im, _r: _mirror(im)),
           Edit("mirror", "mirror_resize50_jpeg60", lambda im, r: _mirror(_scale(0.5)(im, r)), "JPEG", 60),
           Edit("mirror", "mirror_brightness1.15", lambda im, _r: fd.colour(_mirror(im), "brightness", 1.15))]
    for corner, frac in (("tl", 0.15), ("tr", 0.12), ("bl", 0.18), ("br", 0.1)):
        out.append(Edit("logo", f"logo_{corner}{round(frac * 100)}", lambda im, _r, c=corner, f=frac:
                        fd.paste_logo(im, c, f)))
    out += [Edit("logo", "logo_centre30_alpha35", lambda im, _r: fd.paste_logo(im, "c", 0.3, 0.35)),
            Edit("logo", "logo_two_corners", lambda im, _r: fd.paste_logo(fd.paste_logo(im, "tl", 0.12), "br", 0.12))]
    for frac, name, fill in ((0.03, "white3", (255, 255, 255)), (0.06, "black6", (0, 0, 0)), (0.1, "colour10", None),
                             (0.015, "grey1.5", (128, 128, 128))):
        out.append(Edit("border", name, lambda im, r, f=frac, c=fill: fd.border(im, f, c or fd.random_colour(r))))
    out.append(Edit("border", "double_white_colour", lambda im, r:
                    fd.border(fd.border(im, 0.02, (255, 255, 255)), 0.05, fd.random_colour(r, light=False))))
    out.append(Edit("border", "polaroid", lambda im, _r: fd.border(im, 0.05, (250, 250, 250), bottom_extra=0.2)))
    for aspect, name, fill in (("1:1", "white", (255, 255, 255)), ("1:1", "black", (0, 0, 0)),
                               ("3:4", "white", (255, 255, 255)), ("3:4", "colour", None),
                               ("9:16", "black", (0, 0, 0)), ("9:16", "white", (255, 255, 255))):
        out.append(Edit("pad", f"pad{aspect.replace(':', 'x')}_{name}", lambda im, r, a=aspect, c=fill:
                        fd.pad_to(im, a, c or fd.random_colour(r, light=True))))
    return out


def _text_families() -> list[Edit]:
    white, black = (255, 255, 255), (0, 0, 0)
    return [
        Edit("text", "band_bottom", lambda im, r: fd.text_band(im, _words(r, 3), "bottom")),
        Edit("text", "band_top_colour", lambda im, r: fd.text_band(im, _words(r, 2), "top", 0.14,
                                                                   (*fd.random_colour(r, light=False), 200))),
        Edit("text", "title_outlined", lambda im, r: fd.caption(im, _words(r, 2), (0.06, 0.08), 0.12, white, black)),
        Edit("text", "centre_translucent", lambda im, r: fd.caption(im, _words(r, 2), (0.15, 0.42), 0.14, white,
                                                                    None, 0.6)),
        Edit("text", "two_lines", lambda im, r: fd.caption(fd.caption(im, _words(r, 3), (0.05, 0.7), 0.07, white,
                                                                      black), _words(r, 4), (0.05, 0.8), 0.06,
                                                           (255, 220, 0), black)),
        Edit("text", "price_and_caption", lambda im, r: fd.price_badge(fd.caption(im, _words(r, 2), (0.06, 0.06),
                                                                                  0.08, white, black), _price(r))),
    ]


def _crop_families() -> list[Edit]:
    out = []
    for aspect in ("1:1", "3:4", "9:16", "16:9"):
        out.append(Edit("cover_crop", f"cover{aspect.replace(':', 'x')}", lambda im, _r, a=aspect:
                        fd.resize_to(fd.cover_crop(im, a), fd.PLATFORM_SIZES[a])))
    for pct in (5, 10, 15, 20, 25, 30):
        out.append(Edit("centre_crop", f"crop{pct:02d}", lambda im, _r, p=pct: fd.centre_crop(im, p / 100)))
    for side, pct in (("left", 10), ("right", 15), ("top", 20), ("bottom", 25), ("left", 25), ("top", 10)):
        out.append(Edit("one_sided_crop", f"{side}{pct}", lambda im, _r, s=side, p=pct: fd.side_crop(im, s, p / 100)))
    for deg, mode in ((2, "fill"), (-2, "crop"), (3, "crop"), (-3, "fill"), (4, "crop"), (-5, "fill"), (5, "crop")):
        out.append(Edit("rotation", f"rot{deg:+d}_{mode}", lambda im, _r, d=deg, m=mode: fd.rotate(im, d, m)))
    for aspect in ("9:16", "1:1", "3:4"):
        out.append(Edit("blurred_pad", f"blurpad{aspect.replace(':', 'x')}", lambda im, _r, a=aspect:
                        fd.blurred_pad(im, a)))
    return out


def _douyin(im: Image.Image, r: random.Random) -> Image.Image:
    cover = fd.blurred_pad(im, "9:16")
    cover = fd.text_band(cover, _words(r, 2), "top", 0.09, (255, 214, 0, 230), (20, 20, 20))
    cover = fd.text_band(cover, "@" + _words(r, 1).lower() + "_official  #" + _words(r, 1).lower(), "bottom", 0.07)
    return fd.caption(cover, "Douyin ID 8" + str(r.randint(10**6, 10**7 - 1)), (0.03, 0.11), 0.025,
                      (255, 255, 255), (40, 40, 40), 0.85)


def _xiaohongshu(im: Image.Image, r: random.Random) -> Image.Image:
    cover = fd.resize_to(fd.cover_crop(im, "3:4"), fd.PLATFORM_SIZES["3:4"])
    cover = fd.caption(cover, _words(r, 2), (0.06, 0.05), 0.07, (255, 255, 255), (200, 30, 60))
    return fd.watermark(cover, "RED @user" + str(r.randint(1000, 9999)), "br")


def _tmall(im: Image.Image, r: random.Random) -> Image.Image:
    canvas = fd.pad_to(im, "1:1", (255, 255, 255), inner=0.9)
    return fd.price_badge(fd.paste_logo(canvas, "tl", 0.1), _price(r))


def _weibo_mark(r: random.Random) -> str:
    return f"@brand_{r.randint(100, 999)} weibo.com/u/{r.randint(10**9, 10**10 - 1)}"


def _weibo(im: Image.Image, r: random.Random) -> Image.Image:
    # Weibo's feed size: 690 px wide, aspect kept, its "@user weibo.com/u/..." mark bottom right.
    return fd.watermark(fd.fit_within(im, (690, 690 * 4)), _weibo_mark(r))


def _weibo_16x9(im: Image.Image, r: random.Random) -> Image.Image:
    cover = fd.resize_to(fd.cover_crop(im, "16:9"), fd.PLATFORM_SIZES["16:9"])
    return fd.watermark(cover, _weibo_mark(r))


def _jd(im: Image.Image, r: random.Random) -> Image.Image:
    canvas = fd.pad_to(im, "1:1", (255, 255, 255), inner=0.82)
    canvas = fd.text_band(canvas, "JD 618  -" + str(r.choice((20, 30, 50))) + "%", "bottom", 0.1, (225, 37, 27, 255))
    return fd.paste_logo(canvas, "tr", 0.1)


#: Platform pipeline name -> operation (the same template for every photo).
TEMPLATES: dict[str, Op] = {"douyin": _douyin, "xiaohongshu": _xiaohongshu, "tmall": _tmall, "weibo": _weibo,
                            "weibo_16x9": _weibo_16x9, "jd": _jd}
_PLATFORM_QUALITY = {"douyin": 80, "xiaohongshu": 82, "tmall": 90, "weibo": 75, "weibo_16x9": 75, "jd": 88}


def platform_template(name: str) -> Op:
    """The operation of one platform pipeline (``douyin``, ``xiaohongshu``, ``tmall``, ``weibo``...)."""
    return TEMPLATES[name]


def edits() -> list[Edit]:
    """Every edit of the benchmark, grouped by family in :data:`FAMILIES` order."""
    every = _resize_family() + _simple_families() + _text_families() + _crop_families()
    every += [Edit("platform", n, op, "JPEG", _PLATFORM_QUALITY[n]) for n, op in TEMPLATES.items()]
    order = list(FAMILIES)
    every.sort(key=lambda e: order.index(e.family))
    return every


def apply_edit(edit: Edit, photo: Image.Image, photo_id: str, seed: int) -> bytes:
    """The encoded bytes of ``edit`` applied to ``photo`` (RGB).

    Random choices (colours, words, prices) come from a generator seeded by
    ``(seed, photo_id, edit.key)``: deterministic, and independent of which
    other edits run.
    """
    rng = random.Random(f"{seed}:{photo_id}:{edit.key}")
    return fd.encode(edit.op(photo.convert("RGB"), rng), edit.fmt, edit.quality)


def _main(argv: list[str]) -> int:
    import fingerprint_dataset

    if not argv:
        print("usage: python -m benchmarks.fingerprint_edits OUT_DIR [PHOTO]", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    name = argv[1] if len(argv) > 1 else "astronaut"
    photo = fingerprint_dataset.load_photo(name)
    for e in edits():
        data = apply_edit(e, photo, name, 0)
        (out / f"{e.family}--{e.name}.{e.fmt.lower().replace('jpeg', 'jpg')}").write_bytes(data)
    print(f"{len(edits())} edits of {name} written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))

"""Tests of omniplug.world.media: synthetic creatives, platform edits and videos.

Distances are mean absolute pixel differences on small thumbnails (0-255
scale). Reference figures measured while writing this module: different
creatives >= 35 apart, same template with another product 1-12 apart overall
but >= 28 inside the product box, platform edits < 1.5 from the original
once the geometry is undone (< 1 after normalising a colour filter away).
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
from PIL import Image

from omniplug.errors import InvalidInputError
from omniplug.world import media
from omniplug.world.media import (
    KINDS,
    PLATFORM_EDITS,
    VIDEO_CODEC,
    creative_spec,
    decode,
    edit_for_platform,
    edit_image,
    media_type_of,
    platform_edit,
    render_creative,
    render_video,
    subject_box,
    video_cover,
    video_frames,
)

SMALL = (320, 320)


def _thumb(img: Image.Image, n: int = 64) -> np.ndarray:
    return np.asarray(img.convert("RGB").resize((n, n), Image.Resampling.BILINEAR), dtype=np.float64)


def _mad(a: Image.Image, b: Image.Image, n: int = 64) -> float:
    """Mean absolute RGB difference of two images after shrinking both to n x n."""
    return float(np.abs(_thumb(a, n) - _thumb(b, n)).mean())


def _shape_mad(a: Image.Image, b: Image.Image, n: int = 32) -> float:
    """Like _mad on grey levels normalised to the same mean and spread: blind to colour filters."""
    def norm(img: Image.Image) -> np.ndarray:
        g = np.asarray(img.convert("L").resize((n, n), Image.Resampling.BILINEAR), dtype=np.float64)
        return (g - g.mean()) / (g.std() + 1e-9) * 40.0

    return float(np.abs(norm(a) - norm(b)).mean())


def _inner(box: tuple[float, float, float, float], margin: float = 0.2) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return round(x0 + margin * w), round(y0 + margin * h), round(x1 - margin * w), round(y1 - margin * h)


@pytest.fixture(scope="module")
def original() -> Image.Image:
    return render_creative(5, seed=3)


# --- originals -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_render_creative_is_deterministic_sized_and_textured(kind: str) -> None:
    a = render_creative(11, seed=2, size=(300, 200), kind=kind)
    b = render_creative(11, seed=2, size=(300, 200), kind=kind)
    assert a.mode == "RGB" and a.size == (300, 200)
    assert a.tobytes() == b.tobytes()
    # Not flat: structure at the scale perceptual hashes look at, and fine texture too.
    assert _thumb(a, 16).std() > 20
    grey = np.asarray(a.convert("L"), dtype=np.float64)
    assert np.abs(np.diff(grey, axis=1)).mean() > 1.0


def test_kind_follows_template_and_seed_changes_the_world() -> None:
    assert [creative_spec(i).kind for i in range(6)] == [KINDS[i % 3] for i in range(6)]
    assert creative_spec(4, template=9).kind == KINDS[0]
    assert _mad(render_creative(4, size=SMALL), render_creative(4, seed=1, size=SMALL)) > 15


def test_different_creatives_differ_substantially() -> None:
    images = [render_creative(i, size=SMALL) for i in range(12)]
    distances = [_mad(a, b) for a, b in itertools.combinations(images, 2)]
    assert min(distances) > 20


def test_hard_negative_same_template_differs_only_in_the_product_region() -> None:
    unrelated = _mad(render_creative(40, size=SMALL), render_creative(41, size=SMALL))
    for template in range(3):  # one of each kind
        a = render_creative(100 + template, template=template, size=SMALL)
        b = render_creative(200 + template, template=template, size=SMALL)
        sa, sb = creative_spec(100 + template, template=template), creative_spec(200 + template, template=template)
        assert sa.kind == sb.kind and sa.headline == sb.headline
        ba, bb = subject_box(sa, SMALL), subject_box(sb, SMALL)
        union = (min(ba[0], bb[0]), min(ba[1], bb[1]), max(ba[2], bb[2]), max(ba[3], bb[3]))
        assert _mad(a.crop(union), b.crop(union), 32) > 25
        whole = _mad(a, b)
        assert whole < 15 and whole < unrelated / 2


def test_other_viewpoint_is_the_same_scene_moved() -> None:
    for cid in range(3):
        ref = render_creative(cid, size=SMALL)
        moved = render_creative(cid, size=SMALL, viewpoint=1)
        assert 2 < _mad(ref, moved) < 25
        # The product moved with the camera.
        assert subject_box(creative_spec(cid, viewpoint=1), SMALL) != subject_box(creative_spec(cid), SMALL)
    assert render_creative(0, size=SMALL, viewpoint=1).tobytes() != render_creative(0, size=SMALL, viewpoint=2).tobytes()


def test_overrides_change_the_copy_not_the_layout() -> None:
    base = render_creative(2, size=SMALL)
    custom = render_creative(2, size=SMALL, brand="Lumière", product_name="Gloss Lip Oil", price=169, shape="lipstick")
    spec = creative_spec(2, brand="Lumière", product_name="Gloss Lip Oil", price=169, shape="lipstick")
    assert (spec.brand, spec.product_name, spec.price, spec.look.shape) == ("Lumière", "Gloss Lip Oil", 169, "lipstick")
    assert spec.headline == creative_spec(2).headline and spec.product_anchor == creative_spec(2).product_anchor
    assert 0 < _mad(base, custom) < 15


def test_render_creative_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidInputError):
        render_creative(1, kind="banner")
    with pytest.raises(InvalidInputError):
        render_creative(1, size=(8, 8))
    with pytest.raises(InvalidInputError):
        render_creative(1, shape="sphere")


# --- platform edits --------------------------------------------------------------------------


def test_every_platform_edit_decodes_with_its_aspect_and_mime(original: Image.Image) -> None:
    assert set(PLATFORM_EDITS) == {"tmall", "jd", "douyin", "xiaohongshu", "weibo"}
    for platform, edits in PLATFORM_EDITS.items():
        assert len(edits) >= 2
        for edit in edits:
            data = edit_for_platform(original, platform, edit.variant, seed=3)
            assert media_type_of(data) == edit.media_type
            with Image.open(io.BytesIO(data)) as img:
                assert img.format == edit.format
                size = img.size
            assert size == edit.placement(original.size).output_size
            want = edit.aspect[0] / edit.aspect[1] if edit.aspect else original.width / original.height
            assert size[0] / size[1] == pytest.approx(want, rel=0.01), (platform, edit.variant)


def test_platform_edits_are_byte_identical_twice(original: Image.Image) -> None:
    for platform in PLATFORM_EDITS:
        first = edit_for_platform(original, platform, 1, seed=9)
        assert first == edit_for_platform(original, platform, 1, seed=9)
    assert edit_for_platform(original, "tmall", 0, seed=1) != edit_for_platform(original, "tmall", 0, seed=2)


def test_platform_edit_matches_the_original_once_geometry_is_undone(original: Image.Image) -> None:
    other = render_creative(6, seed=3)
    for platform, edits in PLATFORM_EDITS.items():
        for edit in edits:
            out = decode(edit_for_platform(original, platform, edit.variant, seed=3))
            place = edit.placement(original.size)
            src = original.crop(_inner(place.source_box))
            got = out.crop(_inner(place.output_box)).resize(src.size)
            assert _shape_mad(src, got) < 3, (platform, edit.variant)
            if not any(step.op == "colour_shift" for step in edit.steps):
                assert _mad(src, got, 32) < 4, (platform, edit.variant)
            # The same comparison against another creative is far off: the check has teeth.
            assert _mad(other.crop(_inner(place.source_box)), got, 32) > 15


def test_placement_follows_crops_pads_and_frames() -> None:
    size = (1080, 1080)
    tmall = platform_edit("tmall", 0).placement(size)
    assert tmall.source_box == (0, 0, 1080, 1080) and tmall.output_box == pytest.approx((20, 20, 780, 780))
    douyin = platform_edit("douyin", 0).placement(size)
    assert douyin.output_size == (1080, 1920) and douyin.output_box == pytest.approx((0, 420, 1080, 1500))
    weibo = platform_edit("weibo", 1).placement(size)
    assert weibo.source_box == pytest.approx((0, 236, 1080, 844)) and weibo.output_box == pytest.approx((0, 0, 1280, 720))
    assert platform_edit("douyin", 0).describe().startswith("pad(aspect=9:16, mode=blur) -> resize(size=(1080, 1920))")


def test_edit_texts_use_brand_and_price(original: Image.Image) -> None:
    plain = edit_image(original, "tmall", 0, seed=3)
    priced = edit_image(original, "tmall", 0, seed=3, price=88)
    band = (0, 700, 800, 800)
    assert plain.crop(band).tobytes() != priced.crop(band).tobytes()
    assert plain.crop((0, 0, 800, 600)).tobytes() == priced.crop((0, 0, 800, 600)).tobytes()
    assert edit_image(original, "weibo", 0, brand="Acme").tobytes() != edit_image(original, "weibo", 0).tobytes()


def test_unknown_platform_or_variant_is_refused(original: Image.Image) -> None:
    with pytest.raises(InvalidInputError, match="unknown platform"):
        edit_for_platform(original, "taobao")
    with pytest.raises(InvalidInputError, match="variants"):
        edit_for_platform(original, "jd", 7)


# --- edit operations -------------------------------------------------------------------------


def test_geometric_operations() -> None:
    img = render_creative(1, size=(400, 300))
    assert media.cover_crop(img, (9, 16)).size == (169, 300)
    assert media.cover_crop(img, 2.0).size == (400, 200)
    assert media.centre_crop(img, 0.5).size == (200, 150)
    assert media.one_sided_crop(img, "left", 0.25).size == (300, 300)
    assert media.one_sided_crop(img, "bottom", 0.1).size == (400, 270)
    assert media.border(img, 10).size == (420, 320)
    assert media.fit_within(img, 200).size == (200, 150) and media.fit_within(img, 999).size == (400, 300)
    padded = media.pad(img, (1, 1), colour=(0, 255, 0))
    assert padded.size == (400, 400)
    assert padded.getpixel((5, 5)) == (0, 255, 0) and padded.crop((0, 50, 400, 350)).tobytes() == img.tobytes()
    blurred = media.pad(img, (9, 16), mode="blur")
    pad_area = np.asarray(blurred.crop((0, 0, 400, 200)), dtype=np.float64)
    assert blurred.size == (400, 711) and pad_area.std(axis=(0, 1)).max() > 5  # an image, not a fill
    assert media.mirror(media.mirror(img)).tobytes() == img.tobytes()
    straightened = media.rotate(img, 7)
    assert straightened.size == img.size
    corners = [straightened.getpixel(xy) for xy in ((0, 0), (399, 0), (0, 299), (399, 299))]
    assert corners != [(255, 255, 255)] * 4  # cropped inside the rotated picture: no fill shows
    assert media.rotate(img, 7, mode="expand").size > img.size
    with pytest.raises(InvalidInputError):
        media.pad(img, (1, 1), mode="mirror")
    with pytest.raises(InvalidInputError):
        media.centre_crop(img, 0.0)
    with pytest.raises(InvalidInputError):
        media.one_sided_crop(img, "middle", 0.1)


def test_overlay_and_colour_operations_touch_only_their_region() -> None:
    img = render_creative(1, size=(400, 300))
    logo = media.overlay_logo(img, "top-left", 0.2, text="RED")
    assert logo.crop((200, 150, 400, 300)).tobytes() == img.crop((200, 150, 400, 300)).tobytes()
    assert logo.crop((0, 0, 80, 40)).tobytes() != img.crop((0, 0, 80, 40)).tobytes()
    band = media.text_band(img, "bottom", text="hello", height=0.1)
    assert band.crop((0, 0, 400, 270)).tobytes() == img.crop((0, 0, 400, 270)).tobytes()
    badge = media.corner_badge(img, "-20%", corner="bottom-right")
    assert badge.getpixel((398, 298)) != img.getpixel((398, 298))
    assert badge.crop((0, 0, 200, 150)).tobytes() == img.crop((0, 0, 200, 150)).tobytes()
    marked = media.watermark_text(img, "@lumiere")
    assert marked.crop((0, 0, 200, 150)).tobytes() == img.crop((0, 0, 200, 150)).tobytes()
    assert marked.tobytes() != img.tobytes()
    assert media.colour_shift(img).tobytes() == img.tobytes()
    brighter = media.colour_shift(img, brightness=1.2)
    assert np.asarray(brighter, dtype=float).mean() > np.asarray(img, dtype=float).mean() + 5
    assert np.asarray(media.colour_shift(img, saturation=0.0).convert("HSV"))[..., 1].max() <= 2
    priced = media.price_band(img, 199, promo="-20%")
    assert priced.getpixel((300, 290)) != img.getpixel((300, 290))


def test_encodings_and_media_types() -> None:
    img = render_creative(1, size=(200, 200))
    for fmt, mime in media.IMAGE_FORMATS.items():
        data = media.encode(img, fmt, 80)
        assert media_type_of(data) == mime and decode(data).size == (200, 200)
    assert media.encode(img, "PNG") == media.encode(img, "PNG")
    assert _mad(media.reencode(img, "JPEG", 30), img) < 6
    assert media.reencode(img, "JPEG", 30).tobytes() != img.tobytes()
    assert media_type_of(b"GIF89a....") == "image/gif"
    assert media_type_of(b"\x00\x00\x00\x18ftypmp42") == "video/mp4"
    assert media_type_of(b"hello world") == "application/octet-stream"
    with pytest.raises(InvalidInputError):
        media.encode(img, "TIFF")
    with pytest.raises(InvalidInputError):
        decode(b"not an image")


# --- video -----------------------------------------------------------------------------------


def test_video_is_deterministic_decodes_and_contains_its_cover() -> None:
    data = render_video(4, "douyin", seed=1, seconds=2.0, fps=5)
    assert data == render_video(4, "douyin", seed=1, seconds=2.0, fps=5)
    assert media_type_of(data) == "video/mp4"
    per_second = video_frames(data, every_seconds=0.5)
    assert len(per_second) >= 4 and all(f.size == (540, 960) for f in per_second)
    assert [f.info["time"] for f in per_second[:4]] == pytest.approx([0.0, 0.6, 1.0, 1.6], abs=0.11)
    frames = video_frames(data, every_seconds=0.2)
    assert len(frames) == 10
    cover = video_cover(4, "douyin", seed=1)
    distances = [_mad(f, cover) for f in frames]
    assert min(distances) < 6  # the first frame after the intro is the cover
    assert distances[0] > 30  # the intro card is not
    # The platform's still cover (from a full-size render) is close to a video frame too.
    still = decode(edit_for_platform(render_creative(4, seed=1), "douyin", 0, seed=1))
    assert min(_mad(f, still) for f in frames) < 8


def test_video_sizes_codecs_and_errors() -> None:
    weibo = render_video(2, "weibo", seconds=1.0, fps=4, size=(320, 180))
    frames = video_frames(weibo, every_seconds=0.25)
    assert len(frames) == 4 and frames[0].size == (320, 180)
    fallback = render_video(2, "jd", seconds=1.0, fps=4, size=(200, 200), codec="mpeg4")
    assert len(video_frames(fallback, 0.25)) == 4
    assert VIDEO_CODEC in ("libx264", "mpeg4")
    with pytest.raises(InvalidInputError):
        render_video(2, "douyin", size=(321, 180))
    with pytest.raises(InvalidInputError):
        render_video(2, "myspace")
    with pytest.raises(InvalidInputError):
        render_video(2, "jd", seconds=0.5, size=(64, 64), codec="aac")
    with pytest.raises(InvalidInputError):
        render_video(2, "douyin", seconds=0)
    with pytest.raises(InvalidInputError):
        video_frames(b"\x00" * 64)
    with pytest.raises(InvalidInputError):
        video_frames(weibo, every_seconds=0)

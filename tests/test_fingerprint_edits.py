"""The fingerprinting benchmark's edit generator, dataset and metrics (benchmarks/fingerprint_*.py).

Geometry is checked against plain numpy slicing of the same pixels,
determinism by regenerating, and the metrics against brute force.
"""

from __future__ import annotations

import io
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import fingerprint_dataset as fds  # noqa: E402
import fingerprint_draw as fd  # noqa: E402
import fingerprint_edits as fe  # noqa: E402
import fingerprint_eval as ev  # noqa: E402
import fingerprint_peers as fp  # noqa: E402


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A structured 300 x 200 RGB picture (gradients and blocks: every pixel column differs)."""
    y, x = np.mgrid[0:200, 0:300]
    arr = np.stack([x * 255 // 299, y * 255 // 199, ((x // 25 + y // 25) % 2) * 200 + 20], axis=-1)
    return Image.fromarray(arr.astype(np.uint8), "RGB")


def _decode(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_edit_keys_are_unique_and_cover_every_family() -> None:
    keys = [e.key for e in fe.edits()]
    assert len(keys) == len(set(keys))
    assert {e.family for e in fe.edits()} == set(fe.FAMILIES)
    assert all(0.8 <= g <= 1.0 for g in fe.GOALS.values())
    assert set(fe.TEMPLATES) >= {"douyin", "xiaohongshu", "tmall", "weibo"}


def test_every_edit_decodes_in_its_format_and_is_deterministic(photo: Image.Image) -> None:
    for e in fe.edits():
        data = fe.apply_edit(e, photo, "p", 1)
        img = _decode(data)
        assert img.format == e.fmt, e.key
        assert min(img.size) >= 40, e.key
        assert fe.apply_edit(e, photo, "p", 1) == data, f"{e.key} is not deterministic"


def test_random_choices_follow_the_seed_and_the_photo(photo: Image.Image) -> None:
    band = next(e for e in fe.edits() if e.key == "text/band_bottom")
    a = fe.apply_edit(band, photo, "p", 1)
    assert fe.apply_edit(band, photo, "p", 2) != a
    assert fe.apply_edit(band, photo, "q", 1) != a


@pytest.mark.parametrize(("aspect", "ratio"), [("1:1", 1.0), ("3:4", 0.75), ("9:16", 9 / 16), ("16:9", 16 / 9)])
def test_cover_crop_has_the_aspect_and_keeps_the_centre(photo: Image.Image, aspect: str, ratio: float) -> None:
    out = fd.cover_crop(photo, aspect)
    assert abs(out.width / out.height - ratio) < 2 / min(out.size)
    assert out.width == photo.width or out.height == photo.height
    x0, y0 = (photo.width - out.width) // 2, (photo.height - out.height) // 2
    ref = np.asarray(photo)[y0:y0 + out.height, x0:x0 + out.width]
    assert np.abs(np.asarray(out).astype(int) - ref).max() <= 1


@pytest.mark.parametrize("aspect", ["1:1", "3:4", "9:16"])
def test_pad_fills_the_platform_canvas_around_the_fitted_image(photo: Image.Image, aspect: str) -> None:
    out = np.asarray(fd.pad_to(photo, aspect, (255, 0, 255)))
    w, h = fd.PLATFORM_SIZES[aspect]
    assert out.shape == (h, w, 3)
    assert (out[0, 0] == (255, 0, 255)).all() and (out[-1, -1] == (255, 0, 255)).all()
    # The photo (3:2) fills the width of these portrait or square canvases, centred vertically.
    fh = round(photo.height * w / photo.width)
    top = (h - fh) // 2
    assert (out[top + fh // 2, :, 1] != 0).any() and (out[top - 1, :] == (255, 0, 255)).all()


def test_blurred_pad_has_the_aspect_and_no_solid_bars(photo: Image.Image) -> None:
    out = np.asarray(fd.blurred_pad(photo, "9:16"))
    assert out.shape == (1280, 720, 3)
    assert out[:100].std() > 1.0 and out[-100:].std() > 1.0


@pytest.mark.parametrize("frac", [0.05, 0.1, 0.3])
def test_centre_crop_is_numpy_slicing(photo: Image.Image, frac: float) -> None:
    out = np.asarray(fd.centre_crop(photo, frac))
    dx, dy = round(300 * frac / 2), round(200 * frac / 2)
    assert np.array_equal(out, np.asarray(photo)[dy:200 - dy, dx:300 - dx])


@pytest.mark.parametrize(("side", "frac"), [("left", 0.1), ("right", 0.15), ("top", 0.2), ("bottom", 0.25)])
def test_side_crop_removes_one_side_only(photo: Image.Image, side: str, frac: float) -> None:
    arr = np.asarray(photo)
    dx, dy = round(300 * frac), round(200 * frac)
    ref = {"left": arr[:, dx:], "right": arr[:, :300 - dx], "top": arr[dy:], "bottom": arr[:200 - dy]}[side]
    assert np.array_equal(np.asarray(fd.side_crop(photo, side, frac)), ref)


def test_border_adds_the_frame_all_round(photo: Image.Image) -> None:
    out = np.asarray(fd.border(photo, 0.05, (1, 2, 3), bottom_extra=0.1))
    b = 10  # 5 % of the short side (200)
    assert out.shape == (200 + 2 * b + 20, 300 + 2 * b, 3)
    assert np.array_equal(out[b:b + 200, b:b + 300], np.asarray(photo))
    assert (out[:b] == (1, 2, 3)).all() and (out[-b - 20:] == (1, 2, 3)).all()


def test_rotation_fill_leaves_corners_and_crop_removes_them(photo: Image.Image) -> None:
    filled = np.asarray(fd.rotate(photo, 5, "fill", (255, 255, 255)))
    cropped = np.asarray(fd.rotate(photo, 5, "crop", (255, 255, 255)))
    assert filled.shape == cropped.shape == (200, 300, 3)
    assert (filled[0, 0] == 255).all() and (filled[-1, -1] == 255).all()
    # The test picture's blue channel is never 255, so a white corner would show.
    assert (cropped[[0, 0, -1, -1], [0, -1, 0, -1], 2] < 250).all()


def test_platform_templates_have_the_platform_sizes(photo: Image.Image) -> None:
    sizes = {n: op(photo, random.Random(0)).size for n, op in fe.TEMPLATES.items()}
    assert sizes["douyin"] == (720, 1280) and sizes["xiaohongshu"] == (768, 1024)
    assert sizes["tmall"] == sizes["jd"] == (800, 800) and sizes["weibo_16x9"] == (1280, 720)
    assert sizes["weibo"][0] == 690


def test_one_template_draws_the_same_furniture_for_every_photo(photo: Image.Image) -> None:
    other = photo.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    a = np.asarray(fe.platform_template("tmall")(photo, random.Random("t")))
    b = np.asarray(fe.platform_template("tmall")(other, random.Random("t")))
    # The price badge (bottom left, below the fitted photo) is identical; the product area is not.
    assert np.array_equal(a[-60:, :200], b[-60:, :200])
    assert not np.array_equal(a[300:500], b[300:500])


def test_scene_pair_crops_do_not_overlap(photo: Image.Image) -> None:
    a, b = fds._scene_pair(photo)
    assert a.height == b.height == 200 and a.width + b.width < 300 * 0.93


def test_pack_bits_matches_the_hex_form() -> None:
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, (5, 256)).astype(bool)
    packed = fp.pack_bits(bits)
    for row, words in zip(bits, packed, strict=True):
        assert int("".join("1" if b else "0" for b in row), 2) == int("".join(f"{w:016x}" for w in words), 16)


def test_pairs_within_is_brute_force() -> None:
    rng = np.random.default_rng(2)
    base = rng.integers(0, 2**64, 8, dtype=np.uint64)
    codes = np.concatenate([base, base ^ np.uint64(0b1011), rng.integers(0, 2**64, 40, dtype=np.uint64)])[:, None]
    rows = np.arange(3, 56)
    expected = {(int(i), int(j)) for i in rows for j in rows
                if i < j and bin(int(codes[i, 0]) ^ int(codes[j, 0])).count("1") <= 10}
    got = {tuple(map(int, p)) for p in fp.pairs_within(codes, 10, rows)}
    assert got == expected and len(expected) >= 5


def test_multihash_exactness_rule() -> None:
    assert fp.multihash_is_exact(64, 3, 21, 2, 8)
    assert not fp.multihash_is_exact(64, 3, 21, 1, 8)
    assert not fp.multihash_is_exact(64, 4, 21, 2, 8)


def test_pairs_from_labels_is_every_pair_of_each_group() -> None:
    labels = np.array([5, 7, 5, -1, 7, 5, -1, 9])
    rows = np.array([0, 1, 2, 3, 4, 5, 6])
    got = {tuple(map(int, p)) for p in ev.pairs_from_labels(labels, rows)}
    assert got == {(0, 2), (0, 5), (2, 5), (1, 4)}


def test_score_counts_recall_precision_and_negatives() -> None:
    """A hand-made dataset and matcher with known figures."""
    import pyarrow as pa

    rows = [("a", "original", "a", None, None), ("a/mirror/m", "variant", "a", "mirror", "m"),
            ("a/pad/p", "variant", "a", "pad", "p"), ("b", "original", "b", None, None),
            ("b/mirror/m", "variant", "b", "mirror", "m"), ("d", "distractor", "d", None, None),
            ("f", "flat", "f", None, None), ("t1", "template", "a", "template", "x"),
            ("t2", "template", "b", "template", "x"), ("s/a", "scene", "s/a", "scene", "s"),
            ("s/b", "scene", "s/b", "scene", "s")]
    cols = list(zip(*rows, strict=True))
    table = pa.table({"item_id": cols[0], "kind": cols[1], "source": cols[2], "family": cols[3], "edit": cols[4],
                      "content": [b""] * len(rows)})
    ds = fds.Dataset(table, 0, ("a", "b"))
    # Matched: a~a/mirror (right), b~b/mirror (right), a/pad~d (wrong), t1~t2 (wrong), s/a~s/b (wrong).
    labels = np.array([1, 1, 2, 3, 3, 2, -1, 4, 4, 5, 5])
    s = ev.score(ds, "toy", lambda r: ev.pairs_from_labels(labels, r))
    assert s.family == {"mirror": (2, 2), "pad": (0, 1)} and s.overall == (2, 3)
    assert s.precision == (2, 3) and s.false_pairs == {"distractor~variant": 1}
    assert s.flat_matched == (0, 1) and s.template_pairs == (1, 1) and s.scene_pairs == (1, 1)
    assert s.missed == ["a/pad/p"]

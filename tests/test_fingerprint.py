"""fingerprint_images / fingerprint_pixels: hashes against independent references, labels, rejects.

References:
* dHash / pHash: a plain numpy statement of the definitions the core documents
  (Rec. 601 float luma, exact area averaging to a 9 x 8 / 32 x 32 grid,
  imagehash's bit rules; scipy's DCT-II for pHash).
* PDQ: the ``pdqhash`` package (Meta's C++ reference, wrapped), on the same
  pixels: the core hashes the reduced working image decoding produces, so
  the reference is given that image (a box reduction for PNG/WebP, the DCT
  scaled decode for JPEG, which Pillow's ``draft`` performs).
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pdqhash
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import scipy.fft
from PIL import Image

from omniplug.errors import InvalidInputError
from omniplug.fingerprint import FingerprintResult, fingerprint_images, fingerprint_pixels
from omniplug.schema import schema_of
from omniplug.world.media import encode, pad, render_creative

# -- references ---------------------------------------------------------------------------------


def ref_luma(rgb: np.ndarray) -> np.ndarray:
    a = np.asarray(rgb, dtype=np.float32)
    return a[..., 0] * np.float32(0.299) + a[..., 1] * np.float32(0.587) + a[..., 2] * np.float32(0.114)


def _area_weights(n_in: int, start: float, length: float, n_out: int) -> np.ndarray:
    """Row i: how much of input pixel j lies in output cell i, divided by the cell size."""
    step = length / n_out
    w = np.zeros((n_out, n_in))
    for i in range(n_out):
        a, b = start + i * step, start + (i + 1) * step
        for j in range(math.floor(a), min(n_in, math.ceil(b))):
            w[i, j] = max(0.0, min(b, j + 1) - max(a, j))
    return w / step


def ref_grid(luma: np.ndarray, w: int, h: int, box: tuple[float, float, float, float] | None = None) -> np.ndarray:
    rows, cols = luma.shape
    x0, y0, x1, y1 = box or (0, 0, cols, rows)
    return _area_weights(rows, y0, y1 - y0, h) @ luma.astype(np.float64) @ _area_weights(cols, x0, x1 - x0, w).T


def _to_int(bits: np.ndarray) -> int:
    return int("".join("1" if b else "0" for b in bits.ravel()), 2)


def ref_dhash(luma: np.ndarray, box: tuple[float, float, float, float] | None = None) -> int:
    g = ref_grid(luma, 9, 8, box)
    return _to_int(g[:, 1:] > g[:, :-1])


def ref_phash(luma: np.ndarray, box: tuple[float, float, float, float] | None = None) -> int:
    d = scipy.fft.dct(scipy.fft.dct(ref_grid(luma, 32, 32, box), axis=0), axis=1)[:8, :8]
    return _to_int(d > np.median(d))


def ref_pdq(luma: np.ndarray) -> tuple[int, int]:
    """PDQ of a luma image through pdqhash (gray given as equal RGB: its luma is the gray)."""
    gray = np.rint(np.clip(luma, 0, 255)).astype(np.uint8)
    bits, quality = pdqhash.compute(np.ascontiguousarray(np.repeat(gray[..., None], 3, axis=2)))
    return int.from_bytes(np.packbits(bits.astype(np.uint8)).tobytes(), "big"), int(quality)


def box_reduce(luma: np.ndarray, k: int) -> np.ndarray:
    """Integer box reduction; edge blocks average the pixels they have."""
    h, w = luma.shape
    hh, ww = -(-h // k), -(-w // k)
    total, count = np.zeros((hh * k, ww * k)), np.zeros((hh * k, ww * k))
    total[:h, :w], count[:h, :w] = luma, 1
    return total.reshape(hh, k, ww, k).sum((1, 3)) / count.reshape(hh, k, ww, k).sum((1, 3))


def working_luma(data: bytes) -> np.ndarray:
    """The luma image the core decodes to (short side at least 64)."""
    img = Image.open(io.BytesIO(data))
    w, h = img.size
    if img.format == "JPEG":
        d = next((d for d in (8, 4, 2) if math.ceil(min(w, h) / d) >= 64), 1)
        img.draft("RGB", (math.ceil(w / d), math.ceil(h / d)))
        return ref_luma(np.asarray(img.convert("RGB")))
    return box_reduce(ref_luma(np.asarray(img.convert("RGB"))), max(1, min(w, h) // 64))


def dist(a: int | bytes, b: int | bytes) -> int:
    a = int.from_bytes(a, "big") if isinstance(a, bytes) else a
    b = int.from_bytes(b, "big") if isinstance(b, bytes) else b
    return (a ^ b).bit_count()


def codes(fingerprints: pa.Table, algorithm: str, key: str = "material_id") -> dict[object, bytes]:
    rows = fingerprints.filter(pc.equal(fingerprints.column("algorithm"), algorithm))
    return dict(zip(rows.column(key).to_pylist(), rows.column("hash").to_pylist(), strict=True))


def table_of(contents: list[bytes | None], platform: str = "tmall") -> pa.Table:
    return pa.table(
        {
            "material_id": [f"m{i}" for i in range(len(contents))],
            "platform": [platform] * len(contents),
            "content": pa.array(contents, pa.binary()),
        }
    )


SIZES = [(100, 80), (120, 90), (90, 120), (127, 127), (64, 100)]


@pytest.fixture(scope="module")
def small_images() -> list[np.ndarray]:
    """Creatives whose short side is under 128 px: hashed at their own size, no reduction."""
    return [np.asarray(render_creative(i, seed=3, size=SIZES[i % len(SIZES)])) for i in range(20)]


@pytest.fixture(scope="module")
def photos() -> list[Image.Image]:
    sizes = [(480, 360), (360, 480), (640, 640), (800, 450), (300, 500)]
    return [render_creative(i, seed=4, size=sizes[i % len(sizes)]) for i in range(12)]


# -- hashes against the references ------------------------------------------------------------


def test_dhash_phash_of_pixels_equal_the_numpy_definitions(small_images: list[np.ndarray]) -> None:
    fps = fingerprint_pixels(small_images).fingerprints
    checks = {
        "dhash64": lambda lum: ref_dhash(lum),
        "phash64": lambda lum: ref_phash(lum),
        "dhash64@full_mirror": lambda lum: ref_dhash(lum[:, ::-1]),
        "phash64@full_mirror": lambda lum: ref_phash(lum[:, ::-1]),
        "phash64@crop10": lambda lum: ref_phash(
            lum, (0.05 * lum.shape[1], 0.05 * lum.shape[0], 0.95 * lum.shape[1], 0.95 * lum.shape[0])
        ),
        "dhash64@crop20_mirror": lambda lum: ref_dhash(
            lum[:, ::-1], (0.1 * lum.shape[1], 0.1 * lum.shape[0], 0.9 * lum.shape[1], 0.9 * lum.shape[0])
        ),
    }
    distances = []
    for label, ref in checks.items():
        got = codes(fps, label, key="item")
        assert len(got) >= len(small_images) - 2, label  # a window may be skipped as flat
        for item, code in got.items():
            distances.append(dist(code, ref(ref_luma(small_images[item]))))
    # Same definition, float rounding aside: equal, except a bit sitting on an exact tie.
    assert max(distances) <= 2
    assert sum(d == 0 for d in distances) >= 0.95 * len(distances)


def test_pdq_of_pixels_equals_pdqhash(small_images: list[np.ndarray]) -> None:
    fps = fingerprint_pixels(small_images, algorithms=["pdq256"], windows="full").fingerprints
    assert fps.num_rows == len(small_images)
    for item, code, quality in zip(*(fps.column(c).to_pylist() for c in ("item", "hash", "quality")), strict=True):
        bits, ref_quality = pdqhash.compute(small_images[item])
        ref = np.packbits(bits.astype(np.uint8)).tobytes()
        assert dist(code, ref) <= 2, item
        assert quality == ref_quality


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_encoded_images_hash_like_the_references_of_their_working_image(photos: list[Image.Image], fmt: str) -> None:
    data = [encode(img, fmt, 90) for img in photos]
    fps = fingerprint_images(table_of(data)).fingerprints
    pdq, dh, ph = codes(fps, "pdq256"), codes(fps, "dhash64"), codes(fps, "phash64")
    pdq_rows = fps.filter(pc.equal(fps.column("algorithm"), "pdq256"))
    quality = dict(zip(pdq_rows.column("material_id").to_pylist(), pdq_rows.column("quality").to_pylist(), strict=True))
    pdq_d, grid_d, quality_d = [], [], []
    for i, b in enumerate(data):
        key = f"m{i}"
        work = working_luma(b)
        ref, ref_quality = ref_pdq(work)
        pdq_d.append(dist(pdq[key], ref))
        quality_d.append(abs(quality[key] - ref_quality))
        # dHash/pHash are taken from the working image too; its area average over the whole
        # image equals the full-resolution one up to the decoder's rounding.
        full = ref_luma(np.asarray(Image.open(io.BytesIO(b)).convert("RGB")))
        grid_d += [dist(dh[key], ref_dhash(full)), dist(ph[key], ref_phash(full))]
    if fmt == "JPEG":
        # Two JPEG decoders' scaled IDCTs differ by a little luma, which PDQ's median
        # threshold turns into a few bits; PDQ's documented match threshold is 31.
        assert max(pdq_d) <= 31 and np.mean(pdq_d) <= 12
        assert max(quality_d) <= 10
    else:
        # Lossless decodes give the same pixels; only the reference's rounding to uint8 differs.
        assert max(pdq_d) <= 4 and max(quality_d) <= 2
    assert max(grid_d) <= 6 and np.mean(grid_d) <= 1.5


# -- output shape -------------------------------------------------------------------------------


def test_rows_follow_the_material_fingerprints_contract(photos: list[Image.Image]) -> None:
    data = [encode(photos[0], "JPEG", 85), encode(photos[1], "PNG")]
    result = fingerprint_images(table_of(data, platform="douyin"))
    assert isinstance(result, FingerprintResult)
    fps, rejects = result  # unpacks
    assert fps.schema == schema_of("material_fingerprints")
    assert rejects.num_rows == 0
    assert fps.column("material_id").to_pylist() == sorted(fps.column("material_id").to_pylist())
    assert set(fps.column("frame").to_pylist()) == {-1}
    assert set(fps.column("platform").to_pylist()) == {"douyin"}
    labels = set(fps.filter(pc.equal(fps.column("material_id"), "m0")).column("algorithm").to_pylist())
    # Full-image rows carry the bare names; windows are name@window, with mirrors.
    expected = {"dhash64", "phash64", "pdq256", "dhash64@full_mirror", "phash64@crop10", "dhash64@cover1x1_mirror"}
    assert expected <= labels
    assert all(label.split("@")[0] in {"dhash64", "phash64", "pdq256"} for label in labels)
    assert not any(label.startswith("pdq256@") and "mirror" in label for label in labels)
    widths = pc.binary_length(fps.column("hash")).to_pylist()
    for label, width in zip(fps.column("algorithm").to_pylist(), widths, strict=True):
        assert width == (32 if label.startswith("pdq256") else 8)
    assert 0 < min(fps.column("quality").to_pylist()) <= max(fps.column("quality").to_pylist()) <= 100


def test_options_select_algorithms_and_windows(photos: list[Image.Image]) -> None:
    data = [encode(photos[2])]
    fps = fingerprint_images(table_of(data), algorithms=["phash64"], windows="full").fingerprints
    assert fps.column("algorithm").to_pylist() == ["phash64", "phash64@full_mirror"]
    with pytest.raises(InvalidInputError, match="algorithms"):
        fingerprint_images(table_of(data), algorithms=["md5"])
    with pytest.raises(InvalidInputError, match="windows"):
        fingerprint_images(table_of(data), windows="some")  # type: ignore[arg-type]


def test_flat_images_get_quality_zero_and_photos_do_not(photos: list[Image.Image]) -> None:
    flat = Image.new("RGB", (400, 300), (200, 30, 30))
    faint = Image.fromarray(np.tile(np.linspace(120, 126, 400, dtype=np.uint8), (300, 1)))
    fps = fingerprint_images(table_of([encode(flat), encode(faint), encode(photos[3])])).fingerprints
    by = {
        m: set(fps.filter(pc.equal(fps.column("material_id"), m)).column("quality").to_pylist())
        for m in ("m0", "m1", "m2")
    }
    assert by["m0"] == {0.0} and by["m1"] == {0.0}
    assert min(by["m2"]) > 10


def test_results_do_not_depend_on_thread_count(photos: list[Image.Image], monkeypatch: pytest.MonkeyPatch) -> None:
    table = table_of([encode(p, "JPEG", 80) for p in photos])
    parallel = fingerprint_images(table).fingerprints
    monkeypatch.setenv("OMNIPLUG_NUM_THREADS", "1")
    assert fingerprint_images(table).fingerprints.equals(parallel)


# -- bad inputs are rejects ---------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _huge_png_header() -> bytes:
    """A valid-looking PNG whose header claims 60000 x 60000 pixels."""
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def test_bad_inputs_become_rejects_and_the_rest_is_hashed(photos: list[Image.Image]) -> None:
    good_jpeg, good_png = encode(photos[0], "JPEG", 85), encode(photos[1], "PNG")
    flipped = bytes(b ^ 0xFF if 600 < i < 2000 else b for i, b in enumerate(good_jpeg))
    cases: dict[str, tuple[bytes | None, str]] = {
        "good_jpeg": (good_jpeg, ""),
        "empty": (b"", "empty"),
        "text": (b"this is not an image at all", "not a JPEG, PNG or WebP"),
        "pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not a JPEG, PNG or WebP"),
        "gif": (encode(photos[2], "PNG")[:0] + b"GIF89a" + b"\x00" * 64, "not a JPEG, PNG or WebP"),
        "jpeg_truncated": (good_jpeg[: len(good_jpeg) // 2], "truncated jpeg"),
        "jpeg_header_only": (good_jpeg[:300], "jpeg"),
        "jpeg_garbled": (flipped, "jpeg"),
        "png_truncated": (good_png[: len(good_png) * 9 // 10], "truncated png"),
        "webp_truncated": (encode(photos[3], "WEBP", 80)[:2000], "webp"),
        "huge_header": (_huge_png_header(), "exceeds the limit"),
        "null": (None, "content is null"),
        "good_png": (good_png, ""),
    }
    result = fingerprint_images(table_of([c for c, _ in cases.values()]))
    names = list(cases)
    rejected = {names[r["row"]]: r for r in result.rejects.to_pylist()}
    assert set(rejected) == set(names) - {"good_jpeg", "good_png"}
    for name, row in rejected.items():
        assert cases[name][1].lower() in row["reason"].lower(), (name, row["reason"])
        assert row["material_id"] == f"m{names.index(name)}" and row["platform"] == "tmall"
    hashed = set(result.fingerprints.column("material_id").to_pylist())
    assert hashed == {f"m{names.index('good_jpeg')}", f"m{names.index('good_png')}"}
    assert result.rejects.column("row").to_pylist() == sorted(result.rejects.column("row").to_pylist())


def test_size_and_pixel_limits_reject(photos: list[Image.Image]) -> None:
    data = encode(photos[2], "PNG")  # 640 x 640
    result = fingerprint_images(table_of([data]), max_bytes=len(data) - 1)
    assert "above the limit" in result.rejects.column("reason")[0].as_py()
    result = fingerprint_images(table_of([data]), max_pixels=640 * 640 - 1)
    assert "pixels" in result.rejects.column("reason")[0].as_py()
    result = fingerprint_images(table_of([data]), max_side=639)
    assert "limit of 639 px" in result.rejects.column("reason")[0].as_py()
    assert fingerprint_images(table_of([data]), max_pixels=640 * 640).rejects.num_rows == 0


def test_files_by_path_and_file_uri(tmp_path: Path, photos: list[Image.Image]) -> None:
    (tmp_path / "a b.jpg").write_bytes(encode(photos[0], "JPEG", 85))
    (tmp_path / "b.png").write_bytes(encode(photos[1], "PNG"))
    (tmp_path / "zero.jpg").write_bytes(b"")
    (tmp_path / "big.png").write_bytes(encode(photos[2], "PNG"))
    (tmp_path / "dir").mkdir()
    uris = [
        (tmp_path / "a b.jpg").as_uri(),  # file:// with a percent-encoded space
        "b.png",  # relative to root
        str(tmp_path / "zero.jpg"),
        str(tmp_path / "missing.jpg"),
        str(tmp_path / "dir"),
        "https://cdn.example.com/x.jpg",
        None,
        str(tmp_path / "big.png"),
    ]
    table = pa.table({"material_id": [f"f{i}" for i in range(len(uris))], "platform": ["jd"] * len(uris), "uri": uris})
    result = fingerprint_images(table, root=tmp_path, max_bytes=(tmp_path / "big.png").stat().st_size - 1)
    reasons = {r["material_id"]: r["reason"] for r in result.rejects.to_pylist()}
    assert set(result.fingerprints.column("material_id").to_pylist()) == {"f0", "f1"}
    assert "empty" in reasons["f2"]
    assert "cannot read" in reasons["f3"]
    assert "not a regular file" in reasons["f4"]
    assert "unsupported URI scheme 'https'" in reasons["f5"]
    assert "neither content nor uri" in reasons["f6"]
    assert "above the limit" in reasons["f7"]
    # A file read from disk hashes exactly like its bytes.
    direct = fingerprint_images(table_of([encode(photos[0], "JPEG", 85)])).fingerprints
    from_file = result.fingerprints.filter(pc.equal(result.fingerprints.column("material_id"), "f0"))
    assert from_file.column("hash").equals(direct.column("hash"))


def test_content_wins_and_uri_fills_in_keeping_row_order(tmp_path: Path, photos: list[Image.Image]) -> None:
    (tmp_path / "one.jpg").write_bytes(encode(photos[1], "JPEG", 85))
    table = pa.table(
        {
            "material_id": ["a", "b", "c"],
            "platform": ["weibo"] * 3,
            "content": pa.array([encode(photos[0]), None, encode(photos[2])], pa.large_binary()),
            "uri": ["ignored-because-content-is-set", str(tmp_path / "one.jpg"), None],
        }
    )
    fps = fingerprint_images(table).fingerprints
    ids = fps.column("material_id").to_pylist()
    assert ids == sorted(ids) and set(ids) == {"a", "b", "c"}
    single = fingerprint_images(encode(photos[2]), material_id="c", platform="weibo").fingerprints
    assert single.column("hash").equals(fps.filter(pc.equal(fps.column("material_id"), "c")).column("hash"))


def test_polars_input_and_input_errors(photos: list[Image.Image]) -> None:
    frame = pl.DataFrame({"material_id": ["p"], "platform": ["xiaohongshu"], "content": [encode(photos[4])]})
    assert fingerprint_images(frame).fingerprints.num_rows > 10
    with pytest.raises(InvalidInputError, match="content"):
        fingerprint_images(pa.table({"material_id": ["x"], "platform": ["y"]}))
    with pytest.raises(InvalidInputError, match="binary"):
        fingerprint_images(pa.table({"material_id": ["x"], "platform": ["y"], "content": [1]}))
    with pytest.raises(InvalidInputError, match="material_id"):
        fingerprint_images(encode(photos[4]))
    empty = fingerprint_images(table_of([]))
    assert empty.fingerprints.num_rows == 0 and empty.rejects.num_rows == 0


def test_pixels_accept_gray_and_pil_and_reject_bad_buffers(small_images: list[np.ndarray]) -> None:
    rgb = small_images[0]
    gray = np.rint(ref_luma(rgb)).astype(np.uint8)
    result = fingerprint_pixels([Image.fromarray(rgb), gray, np.zeros((3, 3), np.uint8)], max_pixels=10_000)
    by_item = {i: codes(result.fingerprints.filter(pc.equal(result.fingerprints.column("item"), i)), "dhash64", "item")
               for i in (0, 1)}
    assert dist(by_item[0][0], by_item[1][1]) <= 2  # gray of the same picture
    # A 3 x 3 image is hashable (PDQ is left out below 5 px) but has no structure: quality 0.
    tiny = result.fingerprints.filter(pc.equal(result.fingerprints.column("item"), 2))
    assert set(tiny.column("quality").to_pylist()) == {0.0}
    big = fingerprint_pixels([np.zeros((200, 100), np.uint8)], max_pixels=10_000)
    assert big.rejects.column("item").to_pylist() == [0] and "pixels" in big.rejects.column("reason")[0].as_py()
    with pytest.raises(InvalidInputError, match="uint8"):
        fingerprint_pixels([np.zeros((10, 10), np.float32)])


def test_padded_edit_matches_its_original_through_the_trimmed_window(photos: list[Image.Image]) -> None:
    original = photos[0]  # 480 x 360
    padded = pad(original, (9, 16))  # white bars to 9:16
    fps = fingerprint_images(table_of([encode(original), encode(padded)])).fingerprints
    full = codes(fps.filter(pc.equal(fps.column("material_id"), "m0")), "dhash64")["m0"]
    trimmed = codes(fps.filter(pc.equal(fps.column("material_id"), "m1")), "dhash64@trim")["m1"]
    assert dist(full, trimmed) <= 8


def test_batches_give_the_same_result_as_one_call(
    tmp_path: Path, photos: list[Image.Image], monkeypatch: pytest.MonkeyPatch
) -> None:
    import omniplug.fingerprint as module

    (tmp_path / "x.png").write_bytes(encode(photos[5], "PNG"))
    table = pa.table(
        {
            "material_id": [f"b{i}" for i in range(5)],
            "platform": ["tmall"] * 5,
            "content": pa.array([encode(photos[0]), None, b"junk", None, encode(photos[1])], pa.binary()),
            "uri": [None, str(tmp_path / "x.png"), None, "ftp://host/y.jpg", None],
        }
    )
    whole = fingerprint_images(table)
    monkeypatch.setattr(module, "BATCH_ROWS", 2)
    batched = fingerprint_images(table)
    assert batched.fingerprints.equals(whole.fingerprints)
    assert batched.rejects.equals(whole.rejects)
    assert batched.rejects.column("material_id").to_pylist() == ["b2", "b3"]
    ids = whole.fingerprints.column("material_id").to_pylist()
    assert ids == sorted(ids) and set(ids) == {"b0", "b1", "b4"}

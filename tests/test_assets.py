"""group_assets: re-edits of one creative become one asset, different creatives stay apart.

Two layers: real images (creatives of the synthetic world, edited the way
platforms edit them, fingerprinted by the core) and hand-made fingerprint
tables that pin down the table rules (window pairing, confirmation, quality,
frames, representatives, ids), the latter also against a brute-force
reference on random tables.
"""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from omniplug.assets import DEFAULT_CONFIRM_DISTANCE, DEFAULT_MAX_DISTANCE, DEFAULT_MIN_WINDOW_PAIRS, group_assets
from omniplug.errors import InvalidInputError
from omniplug.fingerprint import fingerprint_images
from omniplug.schema import schema_of
from omniplug.world.media import (
    border,
    centre_crop,
    colour_shift,
    cover_crop,
    encode,
    mirror,
    overlay_logo,
    pad,
    price_band,
    render_creative,
    resize,
    text_band,
)

# -- real images ----------------------------------------------------------------------------------

EDITS = {
    "reencode_q50": lambda im: encode(im, "JPEG", 50),
    "half_size_webp": lambda im: encode(resize(im, (im.width // 2, im.height // 2)), "WEBP", 70),
    "crop10": lambda im: encode(centre_crop(im, 0.9), "JPEG", 80),  # keeps the central 90 %
    "cover_1x1": lambda im: encode(cover_crop(im, (1, 1)), "JPEG", 80),
    "pad_9x16_white": lambda im: encode(pad(im, (9, 16)), "PNG"),
    "pad_1x1_blur": lambda im: encode(pad(im, (1, 1), mode="blur"), "JPEG", 80),
    "mirror": lambda im: encode(mirror(im), "JPEG", 80),
    "border": lambda im: encode(border(im, 18), "JPEG", 80),
    "logo_price": lambda im: encode(price_band(overlay_logo(im), 199), "JPEG", 80),
    "text_filter": lambda im: encode(
        colour_shift(text_band(im, text="NEW"), brightness=1.1, contrast=1.1, saturation=1.2), "JPEG", 80
    ),
}


@pytest.fixture(scope="module")
def edited_catalogue() -> tuple[pa.Table, dict[str, int]]:
    """Six creatives, each with the ten edits above; ``truth`` maps material_id to creative."""
    rows: dict[str, list] = {"material_id": [], "platform": [], "content": []}
    truth: dict[str, int] = {}
    platforms = ["tmall", "jd", "douyin", "xiaohongshu", "weibo"]
    for cid in range(6):
        original = render_creative(100 + cid, seed=7, size=(480, 360) if cid % 2 else (360, 480))
        for k, (name, edit) in enumerate([("original", lambda im: encode(im, "JPEG", 90)), *EDITS.items()]):
            mid = f"c{cid}-{name}"
            rows["material_id"].append(mid)
            rows["platform"].append(platforms[k % len(platforms)])
            rows["content"].append(edit(original))
            truth[mid] = cid
    result = fingerprint_images(pa.table({**rows, "content": pa.array(rows["content"], pa.binary())}))
    assert result.rejects.num_rows == 0
    return result.fingerprints, truth


def partition(groups: pa.Table) -> set[frozenset[str]]:
    members: dict[int, set[str]] = defaultdict(set)
    for mid, asset in zip(groups.column("material_id").to_pylist(), groups.column("asset_id").to_pylist(), strict=True):
        members[asset].add(mid)
    return {frozenset(m) for m in members.values()}


def test_platform_edits_group_with_their_original_and_creatives_stay_apart(
    edited_catalogue: tuple[pa.Table, dict[str, int]],
) -> None:
    fingerprints, truth = edited_catalogue
    groups = group_assets(fingerprints)
    assert groups.schema == schema_of("asset_groups")
    assert groups.num_rows == len(truth)
    expected: dict[int, set[str]] = defaultdict(set)
    for mid, cid in truth.items():
        expected[cid].add(mid)
    assert partition(groups) == {frozenset(m) for m in expected.values()}
    # The representative has distance 0; the others their closest window pair (within the radius
    # here: every edit matches its original directly).
    distance = dict(zip(groups.column("material_id").to_pylist(), groups.column("distance").to_pylist(), strict=True))
    assert all(0 <= d <= DEFAULT_MAX_DISTANCE for d in distance.values())


def test_grouping_does_not_depend_on_row_order(edited_catalogue: tuple[pa.Table, dict[str, int]]) -> None:
    fingerprints, _ = edited_catalogue
    shuffled = fingerprints.take(pa.array(np.random.default_rng(3).permutation(fingerprints.num_rows)))
    assert group_assets(shuffled).equals(group_assets(fingerprints))


def test_flat_images_never_match_anything(edited_catalogue: tuple[pa.Table, dict[str, int]]) -> None:
    fingerprints, _ = edited_catalogue
    flats = [
        Image.new("RGB", (400, 300), (240, 240, 240)),
        Image.new("RGB", (400, 300), (240, 240, 240)),  # the very same flat image
        Image.new("RGB", (300, 300), (20, 20, 20)),
        overlay_logo(Image.new("RGB", (400, 300), (255, 255, 255)), scale=0.08),  # a small logo on white
    ]
    flat_fps = fingerprint_images(
        pa.table(
            {
                "material_id": [f"flat{i}" for i in range(len(flats))],
                "platform": ["jd"] * len(flats),
                "content": pa.array([encode(f, "PNG") for f in flats], pa.binary()),
            }
        )
    ).fingerprints
    assert set(flat_fps.column("quality").to_pylist()) == {0.0}
    groups = group_assets(pa.concat_tables([fingerprints, flat_fps]))
    asset = dict(zip(groups.column("material_id").to_pylist(), groups.column("asset_id").to_pylist(), strict=True))
    flat_assets = [asset[f"flat{i}"] for i in range(len(flats))]
    assert len(set(flat_assets)) == len(flats)
    assert not set(flat_assets) & {a for m, a in asset.items() if not m.startswith("flat")}
    # With the quality gate lowered to 0 the two identical flat images do match: the gate did it.
    loose = group_assets(flat_fps, min_quality=0.0)
    loose_asset = dict(zip(loose.column("material_id").to_pylist(), loose.column("asset_id").to_pylist(), strict=True))
    assert loose_asset["flat0"] == loose_asset["flat1"]


# -- hand-made fingerprint tables -----------------------------------------------------------------


def row(mid: str, algorithm: str, code: int, *, frame: int = -1, quality: float | None = 80.0, platform: str = "p"):
    return {"material_id": mid, "platform": platform, "algorithm": algorithm, "frame": frame,
            "hash": code.to_bytes(8, "big"), "quality": quality}


def window(mid: str, dh: int, ph: int, win: str = "", **kw) -> list[dict]:
    suffix = f"@{win}" if win else ""
    return [row(mid, f"dhash64{suffix}", dh, **kw), row(mid, f"phash64{suffix}", ph, **kw)]


def fp_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema_of("material_fingerprints"))


def assets_of(groups: pa.Table) -> dict[str, int]:
    return dict(zip(groups.column("material_id").to_pylist(), groups.column("asset_id").to_pylist(), strict=True))


def flip(code: int, n: int, start: int = 0) -> int:
    return code ^ sum(1 << (start + i) for i in range(n))


A, B = 0x0123_4567_89AB_CDEF, 0x5A5A_F0F0_3C3C_9696


def test_a_dhash_match_needs_the_phash_of_the_same_window_to_agree() -> None:
    rows = [
        *window("a", A, B),
        *window("b", flip(A, 3), flip(B, 20, 40)),  # dHash close, pHash far: a chance collision
        *window("c", flip(A, 5), flip(B, 4), win="crop10"),  # both close, another window name
    ]
    # One window pair each: the single-pair rule isolates what confirmation does.
    together = assets_of(group_assets(fp_table(rows), min_window_pairs=1))
    assert together["a"] == together["c"] != together["b"]
    unconfirmed = assets_of(group_assets(fp_table(rows), confirm_algorithm=None, min_window_pairs=1))
    assert unconfirmed["a"] == unconfirmed["b"] == unconfirmed["c"]
    # The pHash of another window does not confirm: d's close pHash belongs to its crop20 window.
    rows_d = [*window("a", A, B), row("d", "dhash64", flip(A, 2)), row("d", "phash64@crop20", B)]
    assert len(set(assets_of(group_assets(fp_table(rows_d), min_window_pairs=1)).values())) == 2


C, D = 0x0F1E_2D3C_4B5A_6978, 0x1122_3344_5566_7788


def test_one_loose_window_pair_does_not_merge_but_two_windows_with_an_anchor_do() -> None:
    loose = [*window("a", A, B), *window("b", flip(A, 7), flip(B, 14))]
    assert len(set(assets_of(group_assets(fp_table(loose))).values())) == 2
    assert len(set(assets_of(group_assets(fp_table(loose), min_window_pairs=1)).values())) == 1
    # Its mirrored twin is the same evidence again, not a second pair.
    twin = [*loose, *window("a", C, D, win="crop10_mirror"), *window("b", flip(C, 7), flip(D, 14), win="crop10_mirror"),
            *window("a", flip(A, 30), flip(B, 30), win="crop10"),
            *window("b", flip(flip(A, 30), 5), flip(flip(B, 30), 10), win="crop10")]
    # crop10 pair: dHash 5, pHash 10 (an anchor); crop10_mirror pair: the same window pair mirrored.
    assert len(set(assets_of(group_assets(fp_table(twin[4:]))).values())) == 2
    # A second distinct window pair (full) next to the crop10 anchor: one asset.
    two = [*loose, *twin[8:]]
    assert len(set(assets_of(group_assets(fp_table(two))).values())) == 1
    # A near-exact pair (dHash <= 3, pHash <= 8) needs no second pair.
    exact = [*window("a", A, B), *window("b", flip(A, 3), flip(B, 8))]
    assert len(set(assets_of(group_assets(fp_table(exact))).values())) == 1
    assert DEFAULT_MIN_WINDOW_PAIRS == 2


def test_radii_are_inclusive_and_configurable() -> None:
    rows = [*window("a", A, B), *window("b", flip(A, 8), flip(B, 16))]
    one = {"min_window_pairs": 1}
    assert len(set(assets_of(group_assets(fp_table(rows), **one)).values())) == 1
    assert len(set(assets_of(group_assets(fp_table(rows), max_distance=7, **one)).values())) == 2
    assert len(set(assets_of(group_assets(fp_table(rows), confirm_max_distance=15, **one)).values())) == 2
    assert (DEFAULT_MAX_DISTANCE, DEFAULT_CONFIRM_DISTANCE) == (8, 16)


def test_low_quality_rows_are_ignored_and_null_quality_is_not() -> None:
    rows = [
        *window("a", A, B),
        *window("zero", A, B, quality=0.0),
        *window("unknown", A, B, quality=None),
        *window("video", ~A & (2**64 - 1), B, frame=0, quality=0.0),  # a black first frame...
        *window("video", flip(A, 1), B, frame=7),  # ...and a good one
    ]
    asset = assets_of(group_assets(fp_table(rows)))
    assert asset["a"] == asset["unknown"] == asset["video"] != asset["zero"]


def test_a_still_matches_a_video_through_one_frame_but_videos_need_most_frames() -> None:
    far = [random.Random(i).getrandbits(64) for i in range(12)]
    intro = (A, B)

    def video(mid: str, frames: list[tuple[int, int]]) -> list[dict]:
        return [r for f, (dh, ph) in enumerate(frames) for r in window(mid, dh, ph, frame=f * 10)]

    rows = [
        *video("v1", [intro, (far[0], far[1]), (far[2], far[3]), (far[4], far[5])]),
        *video("v2", [intro, (far[6], far[7]), (far[8], far[9]), (far[10], far[11])]),
        *video("v1-edit", [intro, (flip(far[0], 2), far[1]), (far[2], flip(far[3], 4)), (far[4], far[5])]),
        *window("cover-v2", flip(far[8], 3), far[9]),
    ]
    asset = assets_of(group_assets(fp_table(rows)))
    assert asset["v1"] == asset["v1-edit"]
    assert asset["v2"] == asset["cover-v2"]
    assert asset["v1"] != asset["v2"]  # only the intro is shared
    assert len(set(assets_of(group_assets(fp_table(rows), video_min_overlap=0.0)).values())) == 1


def test_representatives_ids_and_distances() -> None:
    # Chain: x0 ~ x1 ~ x2 in 6-bit steps; x0 and x2 are 12 bits apart.
    rows = [
        *window("x1", flip(A, 6), B, platform="jd"),
        *window("x2", flip(flip(A, 6), 6, 20), B, platform="jd"),
        *window("x0", A, B, platform="weibo"),
        row("only-pdq", "pdq256", 0, platform="jd") | {"hash": bytes(32)},
    ]
    groups = group_assets(fp_table(rows), min_window_pairs=1)
    # Sorted by (platform, material_id); the smallest key represents the asset.
    assert list(zip(groups.column("platform").to_pylist(), groups.column("material_id").to_pylist(), strict=True)) == [
        ("jd", "only-pdq"), ("jd", "x1"), ("jd", "x2"), ("weibo", "x0")]
    distance = dict(zip(groups.column("material_id").to_pylist(), groups.column("distance").to_pylist(), strict=True))
    assert distance == {"only-pdq": 0, "x1": 0, "x2": 6, "x0": 6}
    asset = assets_of(groups)
    assert asset["x0"] == asset["x1"] == asset["x2"] != asset["only-pdq"]
    # The id is the representative's own: the id a group of x1 alone gets.
    assert asset["x1"] == assets_of(group_assets(fp_table(window("x1", 0, 0, platform="jd"))))["x1"]
    assert all(a >= 0 for a in asset.values())
    # "first": the first listed member represents, and distances are measured to it.
    first = group_assets(fp_table(rows), representative="first", min_window_pairs=1)
    assert first.column("material_id").to_pylist() == ["x1", "x2", "x0", "only-pdq"]
    assert dict(zip(first.column("material_id").to_pylist(), first.column("distance").to_pylist(), strict=True)) == {
        "x1": 0, "x2": 6, "x0": 6, "only-pdq": 0}


def test_inputs_are_checked() -> None:
    good = fp_table(window("a", A, B))
    with pytest.raises(InvalidInputError, match="lack columns"):
        group_assets(good.drop_columns(["hash"]))
    bad_width = fp_table([row("a", "dhash64", A) | {"hash": b"\x01\x02"}])
    with pytest.raises(InvalidInputError, match="2-byte hash"):
        group_assets(bad_width)
    for kwargs in ({"max_distance": 65}, {"max_distance": -1}, {"algorithm": "pdq256"},
                   {"confirm_algorithm": "dhash64"}, {"representative": "oldest"}, {"video_min_overlap": 1.0},
                   {"min_window_pairs": 0}, {"min_window_pairs": True}):
        with pytest.raises(InvalidInputError):
            group_assets(good, **kwargs)
    # Without frame and quality columns every row is a still of unknown quality.
    minimal = good.select(["material_id", "platform", "algorithm", "hash"])
    assert group_assets(minimal).num_rows == 1
    assert group_assets(fp_table([])).num_rows == 0


# -- brute force on random tables -----------------------------------------------------------------


def supported(pairs: list[tuple], min_pairs: int) -> bool:
    """The support rule read literally: pairs are (window a, window b, dHash distance, pHash distance)."""
    if min_pairs <= 1:
        return bool(pairs)
    if any(d <= 3 and p <= 8 for _, _, d, p in pairs):
        return True
    if not any(d <= 6 and p <= 12 for _, _, d, p in pairs):
        return False

    def base(w: str) -> tuple[str, bool]:
        w = w or "full"
        return (w[: -len("_mirror")], True) if w.endswith("_mirror") else (w, False)

    keys = {(base(a)[0], base(b)[0], base(a)[1] != base(b)[1]) for a, b, _, _ in pairs}
    return len(keys) >= min_pairs


def reference_groups(rows: list[dict], radius: int, confirm: int, overlap: float,
                     min_pairs: int = 1) -> set[frozenset[str]]:
    """Union-find over every pair of materials, checked window pair by window pair."""
    windows: dict[str, dict[tuple[int, str], dict[str, int]]] = defaultdict(dict)
    for r in rows:
        name, _, win = r["algorithm"].partition("@")
        if r["quality"] is not None and r["quality"] < 1:
            continue
        windows[r["material_id"]].setdefault((r["frame"], win), {})[name] = int.from_bytes(r["hash"], "big")
    codes = {
        m: [(f, w["dhash64"], w["phash64"], win) for (f, win), w in ws.items() if len(w) == 2]
        for m, ws in windows.items()
    }
    mids = sorted({r["material_id"] for r in rows})
    parent = {m: m for m in mids}

    def find(m: str) -> str:
        while parent[m] != m:
            m = parent[m]
        return m

    for i, a in enumerate(mids):
        for b in mids[i + 1:]:
            pairs = [(fa, fb, wa, wb, (da ^ db).bit_count(), (pa_ ^ pb).bit_count())
                     for fa, da, pa_, wa in codes.get(a, []) for fb, db, pb, wb in codes.get(b, [])
                     if (da ^ db).bit_count() <= radius and (pa_ ^ pb).bit_count() <= confirm]
            if not pairs:
                continue
            videos = [{f for f, *_ in codes[m]} for m in (a, b)]
            if all(min(f) >= 0 for f in videos):
                # Two videos: frame pairs supported on their own, then the overlap.
                frame_pairs = {(p[0], p[1]) for p in pairs}
                good = [fp for fp in frame_pairs
                        if supported([p[2:] for p in pairs if (p[0], p[1]) == fp], min_pairs)]
                n = min(len(v) for v in videos)
                need = min(n, int(overlap * n) + 1)
                if len({g[0] for g in good}) < need or len({g[1] for g in good}) < need:
                    continue
            elif not supported([p[2:] for p in pairs], min_pairs):
                continue
            parent[find(b)] = find(a)
    members: dict[str, set[str]] = defaultdict(set)
    for m in mids:
        members[find(m)].add(m)
    return {frozenset(v) for v in members.values()}


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 14), radius=st.integers(0, 12), confirm=st.integers(0, 24),
       min_pairs=st.sampled_from([1, 2, 3]))
def test_grouping_equals_brute_force_on_random_tables(seed: int, n: int, radius: int, confirm: int,
                                                      min_pairs: int) -> None:
    rng = random.Random(seed)
    base = [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(4)]  # a few "creatives"
    rows: list[dict] = []
    for m in range(n):
        frames = [-1] if rng.random() < 0.6 else sorted(rng.sample(range(30), rng.randint(1, 4)))
        for f in frames:
            for w in rng.sample(["", "crop10", "trim", "cover1x1_mirror"], rng.randint(1, 3)):
                dh, ph = rng.choice(base) if rng.random() < 0.7 else (rng.getrandbits(64), rng.getrandbits(64))
                quality = rng.choice([90.0, 90.0, 90.0, 0.0, None])
                rows += window(f"m{m}", flip(dh, rng.randint(0, 10), rng.randint(0, 54)),
                               flip(ph, rng.randint(0, 20), rng.randint(0, 44)), win=w, frame=f, quality=quality)
    got = partition(group_assets(fp_table(rows), max_distance=radius, confirm_max_distance=confirm,
                                 min_window_pairs=min_pairs))
    assert got == reference_groups(rows, radius, confirm, 0.5, min_pairs)

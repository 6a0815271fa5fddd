"""fingerprint_video: frame sampling, per-frame hashes, covers matching videos, rejects, rotation.

Videos are real MP4 files written with PyAV (H.264 when its FFmpeg has
libx264, else MPEG-4 part 2), decoded back by the code under test.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from omniplug.assets import group_assets
from omniplug.errors import InvalidInputError
from omniplug.fingerprint import fingerprint_images, fingerprint_pixels, fingerprint_video
from omniplug.schema import schema_of
from omniplug.world.media import encode, render_creative
from omniplug.world.media_video import VIDEO_CODEC, render_video, video_cover

SIZE = (160, 288)  # portrait, even sides


def write_mp4(frames: list[np.ndarray], fps: int = 10, rotation: int = 0) -> bytes:
    """An MP4 of RGB frames; ``rotation`` sets the display matrix (counter-clockwise degrees)."""
    buf = io.BytesIO()
    h, w = frames[0].shape[:2]
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream(VIDEO_CODEC, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        for i, rgb in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()


def transcode(data: bytes, size: tuple[int, int], fps: int = 10) -> bytes:
    """A platform's re-edit of a video: every frame cover-cropped to ``size``'s aspect, resized, re-encoded."""
    with av.open(io.BytesIO(data)) as container:
        images = [f.to_image() for f in container.decode(video=0)]
    w, h = images[0].size
    target = size[0] / size[1]
    cw, ch = (round(h * target), h) if w / h > target else (w, round(w / target))
    box = ((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch)
    return write_mp4([np.asarray(img.resize(size, box=box)) for img in images], fps=fps)


def audio_only_mp4() -> bytes:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("aac", rate=16000)
        t = np.arange(16000, dtype=np.float32) / 16000
        frame = av.AudioFrame.from_ndarray(np.sin(2 * np.pi * 440 * t)[None, :].astype(np.float32), format="fltp",
                                           layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            out.mux(packet)
        out.mux(stream.encode(None))
    return buf.getvalue()


@pytest.fixture(scope="module")
def scenes() -> list[np.ndarray]:
    """Four different creatives at the video size: one per second of the test video."""
    return [np.asarray(render_creative(40 + i, seed=5, size=SIZE)) for i in range(4)]


@pytest.fixture(scope="module")
def four_seconds(scenes: list[np.ndarray]) -> bytes:
    """4 s at 10 fps: scene k for frames 10k .. 10k + 9."""
    return write_mp4([scenes[i // 10] for i in range(40)])


def one(data: bytes | str, material_id: str = "v", platform: str = "douyin") -> pa.Table:
    column = {"content": pa.array([data], pa.binary())} if isinstance(data, bytes) else {"uri": [data]}
    return pa.table({"material_id": [material_id], "platform": [platform], **column})


def frames_of(fps: pa.Table) -> list[int]:
    return sorted(set(fps.column("frame").to_pylist()))


def test_samples_the_first_frame_then_one_per_step(four_seconds: bytes) -> None:
    result = fingerprint_video(one(four_seconds))
    assert result.rejects.num_rows == 0
    assert result.fingerprints.schema == schema_of("material_fingerprints")
    assert frames_of(result.fingerprints) == [0, 10, 20, 30]
    assert frames_of(fingerprint_video(one(four_seconds), every_seconds=0.5).fingerprints) == list(range(0, 40, 5))
    # Three samples over 4 s: the step grows to 4/3 s so they spread over the whole video.
    assert frames_of(fingerprint_video(one(four_seconds), max_frames=3).fingerprints) == [0, 14, 27]
    assert frames_of(fingerprint_video(one(four_seconds), max_frames=1).fingerprints) == [0]
    with pytest.raises(InvalidInputError):
        fingerprint_video(one(four_seconds), every_seconds=0)


def test_frame_rows_hash_the_decoded_frames(four_seconds: bytes) -> None:
    fps = fingerprint_video(one(four_seconds)).fingerprints
    with av.open(io.BytesIO(four_seconds)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    # The same frames through the RGB path (FFmpeg's colour conversion, then Rec. 601 luma):
    # the core's video-range Y path agrees up to rounding.
    reference = fingerprint_pixels([decoded[i] for i in (0, 10, 20, 30)]).fingerprints
    for algorithm in ("dhash64", "phash64", "pdq256", "dhash64@crop10_mirror"):
        ours = fps.filter(pc.equal(fps.column("algorithm"), algorithm))
        ref = reference.filter(pc.equal(reference.column("algorithm"), algorithm))
        assert ours.num_rows == ref.num_rows == 4
        for a, b in zip(ours.column("hash").to_pylist(), ref.column("hash").to_pylist(), strict=True):
            limit = 16 if algorithm == "pdq256" else 4
            assert (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count() <= limit, algorithm
    # Different scenes hash differently.
    dh = fps.filter(pc.equal(fps.column("algorithm"), "dhash64")).column("hash").to_pylist()
    assert len(set(dh)) == 4


def test_covers_and_re_edits_group_with_their_video_and_a_shared_intro_does_not(tmp_path: Path) -> None:
    # Every video of the world's brand opens with the same intro card, so frame 0 of all of
    # them is the same picture: that alone must not make them one asset.
    videos = {
        ("douyin", 11): render_video(11, "douyin", seed=2, seconds=3.0, fps=10, size=SIZE),
        ("douyin", 12): render_video(12, "douyin", seed=2, seconds=3.0, fps=10, size=SIZE),
    }
    # Xiaohongshu's copy of video 11: cut to 3:4 and scaled down.
    videos[("xiaohongshu", 11)] = transcode(videos[("douyin", 11)], (120, 160))
    covers = {cid: encode(video_cover(cid, "douyin", seed=2, size=SIZE), "JPEG", 80) for cid in (11, 12)}
    (tmp_path / "v12.mp4").write_bytes(videos[("douyin", 12)])
    vids = pa.table(
        {
            "material_id": ["video-11", "video-11-xhs", "video-12"],
            "platform": ["douyin", "xiaohongshu", "douyin"],
            "content": pa.array([videos[("douyin", 11)], videos[("xiaohongshu", 11)], None], pa.binary()),
            "uri": [None, None, (tmp_path / "v12.mp4").as_uri()],
        }
    )
    video_fps = fingerprint_video(vids)
    assert video_fps.rejects.num_rows == 0
    stills = fingerprint_images(
        pa.table(
            {
                "material_id": ["cover-11", "cover-12"],
                "platform": ["tmall", "tmall"],
                "content": pa.array([covers[11], covers[12]], pa.binary()),
            }
        )
    ).fingerprints
    everything = pa.concat_tables([video_fps.fingerprints, stills])
    groups = group_assets(everything)
    asset = dict(zip(groups.column("material_id").to_pylist(), groups.column("asset_id").to_pylist(), strict=True))
    assert asset["cover-11"] == asset["video-11"] == asset["video-11-xhs"]
    assert asset["cover-12"] == asset["video-12"]
    assert asset["video-11"] != asset["video-12"]
    # The intro frames do match: with no overlap required, the shared intro merges everything.
    loose = group_assets(everything, video_min_overlap=0.0)
    assert len(set(loose.column("asset_id").to_pylist())) == 1


def test_black_frames_get_quality_zero_and_the_rest_still_count(scenes: list[np.ndarray]) -> None:
    black = np.zeros_like(scenes[0])
    data = write_mp4([black] * 10 + [scenes[0]] * 10)
    fps = fingerprint_video(one(data)).fingerprints
    quality = {f: set(fps.filter(pc.equal(fps.column("frame"), f)).column("quality").to_pylist()) for f in (0, 10)}
    assert quality[0] == {0.0}
    assert min(quality[10]) > 10


def test_a_rotated_video_is_hashed_upright(scenes: list[np.ndarray]) -> None:
    upright = scenes[1]
    # Stored turned clockwise; the display matrix turns it back counter-clockwise by 90 degrees.
    stored = np.ascontiguousarray(np.rot90(upright, -1))
    rotated = fingerprint_video(one(write_mp4([stored] * 5, rotation=90))).fingerprints
    plain = fingerprint_video(one(write_mp4([upright] * 5))).fingerprints
    for algorithm in ("dhash64", "phash64"):
        a = rotated.filter(pc.equal(rotated.column("algorithm"), algorithm)).column("hash")[0].as_py()
        b = plain.filter(pc.equal(plain.column("algorithm"), algorithm)).column("hash")[0].as_py()
        assert (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count() <= 4


def test_bad_videos_are_rejects_and_good_ones_still_hashed(four_seconds: bytes, tmp_path: Path) -> None:
    cases: dict[str, tuple[bytes | None, str]] = {
        "good": (four_seconds, ""),
        "empty": (b"", "empty"),
        "random": (np.random.default_rng(0).bytes(5000), "not a decodable video"),
        "truncated": (four_seconds[: len(four_seconds) // 2], "not a decodable video"),
        "audio_only": (audio_only_mp4(), "no video stream"),
        "null": (None, "neither content nor uri"),
    }
    table = pa.table(
        {
            "material_id": list(cases),
            "platform": ["weibo"] * len(cases),
            "content": pa.array([c for c, _ in cases.values()], pa.binary()),
        }
    )
    result = fingerprint_video(table)
    reasons = {r["material_id"]: r["reason"] for r in result.rejects.to_pylist()}
    assert set(reasons) == set(cases) - {"good"}
    for name, reason in reasons.items():
        assert cases[name][1] in reason, (name, reason)
    assert set(result.fingerprints.column("material_id").to_pylist()) == {"good"}
    rows = {r["material_id"]: r["row"] for r in result.rejects.to_pylist()}
    assert rows == {name: list(cases).index(name) for name in reasons}

    small = fingerprint_video(one(four_seconds), max_bytes=len(four_seconds) - 1)
    assert "above the limit" in small.rejects.column("reason")[0].as_py()
    pixels = fingerprint_video(one(four_seconds), max_pixels=SIZE[0] * SIZE[1] - 1)
    assert "pixels" in pixels.rejects.column("reason")[0].as_py()
    missing = fingerprint_video(one(str(tmp_path / "nope.mp4")))
    assert "cannot read" in missing.rejects.column("reason")[0].as_py()


def test_single_video_by_bytes_or_path(four_seconds: bytes, tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(four_seconds)
    by_bytes = fingerprint_video(four_seconds, material_id="c", platform="jd").fingerprints
    by_path = fingerprint_video(str(path), material_id="c", platform="jd").fingerprints
    assert by_bytes.equals(by_path)
    assert set(by_bytes.column("material_id").to_pylist()) == {"c"}
    with pytest.raises(InvalidInputError, match="material_id"):
        fingerprint_video(four_seconds)


def test_a_letterboxed_short_video_groups_with_the_cropped_note_cover_of_its_creative() -> None:
    # Douyin's video puts the square creative on a 9:16 canvas (darkened blurred letterbox, title
    # and account bands) and zooms in; Xiaohongshu's note cover is a 3:4 crop of the same
    # creative. Creative 6 of seed 7 is soft (smooth gradients, few edges): its letterbox is found
    # by the straight edges where the pad meets it, and the trimmed content's 3:4 crop matches.
    from omniplug.world.media import edit_for_platform

    video = render_video(6, "douyin", seed=7)
    notes = [edit_for_platform(render_creative(cid, seed=7), "xiaohongshu", 0, seed=7) for cid in (6, 9)]
    fps = pa.concat_tables([
        fingerprint_video(video, material_id="video-6", platform="douyin").fingerprints,
        fingerprint_images(
            pa.table({"material_id": ["note-6", "note-9"], "platform": ["xiaohongshu"] * 2,
                      "content": pa.array(notes, pa.binary())})
        ).fingerprints,
    ])
    assert any("@tcover3x4" in a for a in fps.column("algorithm").to_pylist())
    groups = group_assets(fps)
    asset = dict(zip(groups.column("material_id").to_pylist(), groups.column("asset_id").to_pylist(), strict=True))
    assert asset["video-6"] == asset["note-6"]
    assert asset["note-9"] != asset["video-6"]

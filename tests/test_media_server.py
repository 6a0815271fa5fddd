"""``MediaLibrary``: the world's creatives as each platform serves them, named, rendered once and cached."""

from __future__ import annotations

import hashlib

import pytest

from omniplug.world import World, WorldConfig, build_world
from omniplug.world.media import edit_for_platform, media_type_of, render_creative
from omniplug.world.media_server import MediaFile, MediaLibrary, MediaSource, media_file_name


@pytest.fixture(scope="module")
def world() -> World:
    """A small world: every platform has materials, Douyin videos among them."""
    return build_world(WorldConfig(seed=5, persons=300))


def test_default_sources_are_the_platforms_materials_with_their_kind(world: World) -> None:
    library = MediaLibrary(world, "douyin")
    truth = [t for t in world.truth["truth_materials"].to_pylist() if t["platform"] == "douyin"]
    assert set(library.sources) == {t["material_id"] for t in truth}
    kinds = {m["material_id"]: m["media_type"] for m in world.slice("douyin")["materials"].to_pylist()}
    for t in truth:
        assert library.sources[t["material_id"]] == MediaSource(t["creative_id"], t["variant"], kinds[t["material_id"]])
    assert {s.kind for s in library.sources.values()} == {"image", "video"}


def test_an_image_is_the_platforms_edit_of_the_creative_named_by_its_encoding(world: World) -> None:
    library = MediaLibrary(world, "xiaohongshu")
    key, source = next(iter(library.sources.items()))
    assert library.file_name(key) == f"{key}.webp" and library.media_type(key) == "image/webp"
    found = library.find(f"{key}.webp")
    seed = world.config.seed
    assert found is not None and found.data == edit_for_platform(render_creative(source.creative_id, seed=seed),
                                                                 "xiaohongshu", source.variant, seed=seed)
    assert media_type_of(found.data) == found.media_type == "image/webp"
    assert found.md5 == hashlib.md5(found.data).hexdigest() and found.size == len(found.data)


def test_find_refuses_unknown_keys_and_wrong_extensions(world: World) -> None:
    library = MediaLibrary(world, "jd")
    key = next(iter(library.sources))
    assert library.find(f"{key}.png") is None and library.find("nope.jpg") is None and library.find(key) is None
    assert "nope" not in library and key in library
    with pytest.raises(KeyError):
        library.get("nope")


def test_files_are_rendered_once_per_process_and_keyed_by_everything_that_changes_them(world: World) -> None:
    key = next(iter(MediaLibrary(world, "weibo").sources))
    first, again = MediaLibrary(world, "weibo").get(key), MediaLibrary(world, "weibo").get(key)
    assert first is again  # a second simulator of the same world draws nothing
    branded = MediaLibrary(world, "weibo", brand="Other Brand").get(key)
    assert branded is not first and branded.data != first.data


def test_given_sources_and_videos(world: World) -> None:
    library = MediaLibrary(world, "douyin", sources={"clip": (3, 0, "video"), "pic": MediaSource(3, 1)},
                           video_fps=6)
    assert library.file_name("clip") == "clip.mp4" and library.file_name("pic") == "pic.jpg"
    clip = library.find("clip.mp4")
    assert isinstance(clip, MediaFile) and clip.media_type == "video/mp4" and b"ftyp" in clip.data[:16]
    assert media_file_name("tmall", "x", MediaSource(1, 2)) == "x.jpg"

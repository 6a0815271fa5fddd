"""The plugin manager: entry points, allow-list, broken plugins, dispatch and overrides."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pyarrow as pa
import pytest

from omniplug import plugins as plugin_module
from omniplug.errors import PluginError
from omniplug.plugins import PluginLoadWarning, PluginRegistry, load_registry

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))

from toy_plugins import BadSpecPlugin, DuplicateToy, OtherToyPlugin, TitleOverride, ToyPlugin  # noqa: E402


def _fake_entry_points(*eps: EntryPoint):  # type: ignore[no-untyped-def]
    def entry_points(group: str) -> list[EntryPoint]:
        assert group == "omniplug"
        return list(eps)

    return entry_points


TOY_EP = EntryPoint(name="toy", value="toy_plugins:ToyPlugin", group="omniplug")
BROKEN_EP = EntryPoint(name="broken", value="broken_plugin:Plugin", group="omniplug")


@pytest.fixture
def only(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Make the entry-point group contain exactly the given entry points."""

    def install(*eps: EntryPoint) -> None:
        monkeypatch.setattr(plugin_module, "entry_points", _fake_entry_points(*eps))

    return install


def test_entry_point_plugin_is_loaded(only, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OMNIPLUG_LOAD_PLUGINS", raising=False)
    only(TOY_EP)
    registry = load_registry()
    assert set(registry.platforms) == {"toy"}
    assert registry.platform("toy").plugin == "toy"
    assert registry.platform("toy").stream("products").tables == ("products",)


def test_broken_plugin_is_skipped_with_a_warning(only, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OMNIPLUG_STRICT_PLUGINS", raising=False)
    monkeypatch.delenv("OMNIPLUG_LOAD_PLUGINS", raising=False)
    only(BROKEN_EP, TOY_EP)
    with pytest.warns(PluginLoadWarning, match="plugin 'broken'.*skipped.*not installed"):
        registry = load_registry()
    assert set(registry.platforms) == {"toy"}  # the others still load
    assert [b.name for b in registry.broken] == ["broken"]
    assert "ImportError" in registry.broken[0].error


def test_broken_plugin_is_fatal_in_strict_mode(only, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OMNIPLUG_STRICT_PLUGINS", "1")
    monkeypatch.delenv("OMNIPLUG_LOAD_PLUGINS", raising=False)
    only(TOY_EP, BROKEN_EP)
    with pytest.raises(PluginError, match="plugin 'broken'"):
        load_registry()


def test_allow_list_limits_what_loads(only, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OMNIPLUG_LOAD_PLUGINS", "toy")
    monkeypatch.setenv("OMNIPLUG_STRICT_PLUGINS", "1")
    only(TOY_EP, BROKEN_EP)  # broken is not on the list, so strict mode never sees it
    assert set(load_registry().platforms) == {"toy"}
    monkeypatch.setenv("OMNIPLUG_LOAD_PLUGINS", "")
    assert load_registry().platforms == {}


def test_base_class_dispatches_on_platform_name() -> None:
    registry = PluginRegistry([ToyPlugin(), OtherToyPlugin()], load_entry_points=False)
    raw = pa.RecordBatch.from_pydict({"pid": ["p1"], "name": ["Serum"]})
    assert registry.normalise("toy", "products", raw)["products"].column("platform").to_pylist() == ["toy"]
    assert registry.normalise("othertoy", "products", raw)["products"].column("platform").to_pylist() == [
        "othertoy"
    ]


def test_tryfirst_override_wins_for_its_platform_only() -> None:
    registry = PluginRegistry([ToyPlugin(), OtherToyPlugin(), TitleOverride()], load_entry_points=False)
    raw = pa.RecordBatch.from_pydict({"pid": ["p1"], "name": ["Serum"]})
    assert registry.normalise("toy", "products", raw)["products"].column("title").to_pylist() == ["SERUM"]
    assert registry.normalise("othertoy", "products", raw)["products"].column("title").to_pylist() == ["Serum"]


def test_duplicate_platform_is_refused() -> None:
    with pytest.raises(PluginError, match="already declared.*tryfirst"):
        PluginRegistry([ToyPlugin(), DuplicateToy()], load_entry_points=False)


def test_plugin_with_bad_spec_is_refused() -> None:
    with pytest.raises(PluginError, match="PlatformSpec"):
        PluginRegistry([BadSpecPlugin()], load_entry_points=False)


def test_unknown_platform_and_stream_errors_say_what_exists() -> None:
    registry = PluginRegistry([ToyPlugin()], load_entry_points=False)
    with pytest.raises(PluginError, match="installed platforms: toy"):
        registry.platform("kuaishou")
    with pytest.raises(KeyError, match="its streams: products"):
        registry.platform("toy").stream("orders")


def test_unanswered_hook_is_a_clear_error() -> None:
    registry = PluginRegistry([ToyPlugin()], load_entry_points=False)
    raw = pa.RecordBatch.from_pydict({"x": [1]})
    with pytest.raises(PluginError, match="no plugin implements normalise for nowhere/x"):
        registry.normalise("nowhere", "x", raw)


def test_abstract_plugin_cannot_be_instantiated() -> None:
    from omniplug.platform import PlatformPlugin

    class Half(PlatformPlugin):
        name = "half"

    with pytest.raises(TypeError, match="abstract"):
        Half()

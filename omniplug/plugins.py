"""Finding, loading and calling platform plugins.

Plugins are found through the ``omniplug`` entry-point group. Loading
follows the habits of ``llm`` and ``sqlfluff``:

* ``OMNIPLUG_LOAD_PLUGINS=tmall,jd`` loads only the named entry points
  (an empty value loads none); unset loads all;
* a plugin that fails to import, to instantiate or to declare its platforms
  is reported with its name and distribution and skipped, with a
  :class:`PluginLoadWarning`;
* ``OMNIPLUG_STRICT_PLUGINS=1`` turns that into a :class:`~omniplug.errors.PluginError`.

:class:`PluginRegistry` is what the rest of omniplug talks to: it knows the
declared platforms and calls the hooks, turning "nobody answered" into a
clear error.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any

import pluggy
import pyarrow as pa

from omniplug import hookspecs, schema
from omniplug.errors import PluginError
from omniplug.platform import PlatformSpec

if TYPE_CHECKING:
    from omniplug.context import FetchContext

__all__ = [
    "ENTRY_POINT_GROUP",
    "PluginLoadWarning",
    "BrokenPlugin",
    "PluginRegistry",
    "load_registry",
]

ENTRY_POINT_GROUP = "omniplug"


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded and was skipped."""


@dataclass(frozen=True)
class BrokenPlugin:
    """A plugin that was skipped, and why."""

    name: str
    distribution: str
    error: str


def _strict() -> bool:
    return os.environ.get("OMNIPLUG_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes"}


def _allowed() -> set[str] | None:
    raw = os.environ.get("OMNIPLUG_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def _distribution_of(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"


def _instantiate(obj: Any) -> Any:
    """Entry points may name a module, an instance or a class (instantiated without arguments)."""
    return obj() if inspect.isclass(obj) else obj


class PluginRegistry:
    """The loaded plugins and the platforms they declare.

    Build one with :func:`load_registry` (entry points) or directly with a
    list of plugin objects (tests, embedding)::

        registry = PluginRegistry([MyPlugin()], load_entry_points=False)
    """

    def __init__(self, plugins: Iterable[Any] = (), *, load_entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager("omniplug")
        self.pm.add_hookspecs(hookspecs)
        self.broken: list[BrokenPlugin] = []
        self._platforms: dict[str, PlatformSpec] = {}
        # The framework's own trylast fingerprinting (imported here: it needs the core).
        from omniplug.material import DefaultFingerprinter

        self.pm.register(DefaultFingerprinter(), name=DefaultFingerprinter.name)
        if load_entry_points:
            self._load_entry_points()
        for plugin in plugins:
            self.register(plugin)

    # -- loading -------------------------------------------------------------------

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Register a plugin object and collect the platforms it declares.

        Raises :class:`PluginError` if the plugin is invalid (the caller
        decides whether to skip it).
        """
        plugin = _instantiate(plugin)
        name = name or getattr(plugin, "name", None) or type(plugin).__name__
        try:
            specs = self._specs_of(plugin)
        except Exception as exc:
            raise PluginError(f"plugin {name!r} failed to declare its platforms: {exc}") from exc
        for spec in specs:
            other = self._platforms.get(spec.name)
            if other is not None:
                raise PluginError(
                    f"plugin {name!r} declares platform {spec.name!r}, already declared by "
                    f"plugin {other.plugin!r}; to change one hook of an existing platform, "
                    f"implement that hook with @hookimpl(tryfirst=True) instead"
                )
        try:
            self.pm.register(plugin, name=name)
        except (ValueError, pluggy.PluginValidationError) as exc:
            raise PluginError(f"plugin {name!r} is not a valid omniplug plugin: {exc}") from exc
        for spec in specs:
            for id_type in spec.identifier_types:
                schema.register_identifier_type(id_type)
            for event_type in spec.event_types:
                schema.register_event_type(event_type)
            self._platforms[spec.name] = _with_plugin(spec, name)

    def _specs_of(self, plugin: Any) -> list[PlatformSpec]:
        impl = getattr(plugin, "omniplug_platforms", None)
        if impl is None:
            return []
        specs = list(impl() or [])
        for spec in specs:
            if not isinstance(spec, PlatformSpec):
                raise TypeError(
                    f"omniplug_platforms must return PlatformSpec objects, got {type(spec).__name__}"
                )
        return specs

    def _load_entry_points(self) -> None:
        allowed = _allowed()
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if allowed is not None and ep.name not in allowed:
                continue
            try:
                self.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin must not take the others down
                self._broken(ep, exc)

    def _broken(self, ep: EntryPoint, exc: BaseException) -> None:
        dist = _distribution_of(ep)
        error = f"{type(exc).__name__}: {exc}"
        self.broken.append(BrokenPlugin(ep.name, dist, error))
        message = (
            f"omniplug plugin {ep.name!r} ({dist}) failed to load and was skipped: {error}. "
            f"Set OMNIPLUG_STRICT_PLUGINS=1 to make this fatal, or exclude it with "
            f"OMNIPLUG_LOAD_PLUGINS."
        )
        if _strict():
            raise PluginError(message) from exc
        warnings.warn(message, PluginLoadWarning, stacklevel=3)

    # -- platforms -----------------------------------------------------------------

    @property
    def platforms(self) -> Mapping[str, PlatformSpec]:
        """Declared platforms by name."""
        return dict(self._platforms)

    def platform(self, name: str) -> PlatformSpec:
        """The platform called ``name``; a :class:`PluginError` says which exist and what to install."""
        try:
            return self._platforms[name]
        except KeyError:
            known = ", ".join(sorted(self._platforms)) or "none"
            raise PluginError(
                f"no plugin provides platform {name!r} (installed platforms: {known}); "
                f"install its plugin (pip install omniplug-{name}) or check OMNIPLUG_LOAD_PLUGINS"
            ) from None

    # -- hook calls ----------------------------------------------------------------

    def fetch(self, platform: str, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        """Call ``omniplug_fetch``; raises :class:`PluginError` when nobody answers."""
        self.platform(platform).stream(stream)
        result = self.pm.hook.omniplug_fetch(platform=platform, stream=stream, ctx=ctx)
        if result is None:
            raise PluginError(f"no plugin implements fetch for {platform}/{stream}")
        return iter(result)

    def normalise(
        self, platform: str, stream: str, batch: pa.RecordBatch
    ) -> Mapping[str, pa.RecordBatch | pa.Table]:
        """Call ``omniplug_normalise``; raises :class:`PluginError` when nobody answers."""
        result = self.pm.hook.omniplug_normalise(platform=platform, stream=stream, batch=batch)
        if result is None:
            raise PluginError(f"no plugin implements normalise for {platform}/{stream}")
        return result

    def fingerprint(self, platform: str, materials: pa.RecordBatch | pa.Table,
                    ctx: FetchContext) -> dict[str, pa.Table]:
        """Call ``omniplug_fingerprint``: ``{"material_fingerprints": ..., "rejects": ...}``.

        An implementation may return a bare ``material_fingerprints`` batch
        (no rejects) or the mapping. Raises :class:`PluginError` when nobody
        answers (the framework's default always does, unless unregistered).
        """
        result = self.pm.hook.omniplug_fingerprint(platform=platform, materials=materials, ctx=ctx)
        if result is None:
            raise PluginError(f"no plugin implements fingerprint for {platform}")
        if isinstance(result, pa.RecordBatch | pa.Table):
            result = {"material_fingerprints": result}
        if not isinstance(result, Mapping) or "material_fingerprints" not in result:
            raise PluginError(f"omniplug_fingerprint for {platform} returned {type(result).__name__}; return a "
                              "material_fingerprints batch or a mapping with 'material_fingerprints' (and 'rejects')")
        tables = {name: pa.table(data) if isinstance(data, pa.RecordBatch) else data for name, data in result.items()}
        tables.setdefault("rejects", schema.TABLES["rejects"].empty_table())
        return tables


def _with_plugin(spec: PlatformSpec, plugin: str) -> PlatformSpec:
    return replace(spec, plugin=plugin)


def load_registry(plugins: Iterable[Any] = ()) -> PluginRegistry:
    """A registry with every installed plugin (entry points) plus ``plugins``."""
    return PluginRegistry(plugins, load_entry_points=True)

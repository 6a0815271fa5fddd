"""What a platform is, and the base class that makes a one-platform plugin short.

:class:`PlatformSpec` and :class:`StreamSpec` are the typed objects a plugin
returns from ``omniplug_platforms``. :class:`PlatformPlugin` implements the
hooks of :mod:`omniplug.hookspecs` and dispatches to plain methods, answering
only for its own platform, so a plugin author writes::

    class TmallPlugin(PlatformPlugin):
        name = "tmall"
        config_model = TmallConfig
        streams = (StreamSpec("orders", tables=("orders", "order_items"), cursor="modified time"),)

        def fetch(self, stream, ctx): ...
        def normalise(self, stream, batch): ...
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

from omniplug import hookimpl
from omniplug.config import PlatformConfig
from omniplug.schema import TABLES

if TYPE_CHECKING:
    from omniplug.context import FetchContext
    from omniplug.http import PlatformClient

__all__ = ["StreamSpec", "PlatformSpec", "PlatformPlugin"]

#: Reads a back-office export file into raw batches (same field names as fetch).
ExportReader = Callable[[Path], Iterator[pa.RecordBatch]]


@dataclass(frozen=True)
class StreamSpec:
    """One stream of a platform.

    Attributes:
        name: stream name used on the command line (``orders``, ``ad_reports``).
        tables: the canonical tables its normalise yields.
        cursor: what the incremental cursor follows, in words shown by
            ``omniplug plugins`` (``"modified time"``, ``"since_id"``, ``"none"``).
        description: one line for ``omniplug plugins``.
        read_export: reads the platform's back-office export file for this
            stream (``omniplug import``), or ``None`` if there is no such export.
    """

    name: str
    tables: tuple[str, ...]
    cursor: str = "none"
    description: str = ""
    read_export: ExportReader | None = None

    def __post_init__(self) -> None:
        unknown = [t for t in self.tables if t not in TABLES]
        if unknown:
            raise ValueError(
                f"stream {self.name!r} declares unknown canonical tables {unknown}; "
                f"known: {', '.join(sorted(TABLES))}"
            )


@dataclass(frozen=True)
class PlatformSpec:
    """A platform as a plugin declares it.

    Attributes:
        name: platform name (lower case), the key of ``[platforms.<name>]``.
        streams: its streams.
        config_model: pydantic model of its ``[platforms.<name>]`` section.
        identifier_types: identifier types it introduces beyond the canonical ones.
        event_types: touchpoint event types it introduces.
        description: one line for ``omniplug plugins``.
        simulator: a factory ``simulator(seed=..., port=...)`` returning a
            :class:`omniplug.testing.simulator.SimulatorBase` (for ``omniplug simulate``).
        client_factory: builds the platform's default HTTP client from a
            context (normally :meth:`PlatformPlugin.create_client`).
        plugin: filled in by the plugin manager: which plugin declared it.
    """

    name: str
    streams: tuple[StreamSpec, ...]
    config_model: type[PlatformConfig] = PlatformConfig
    identifier_types: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    description: str = ""
    simulator: Callable[..., Any] | None = None
    client_factory: Callable[[FetchContext], PlatformClient] | None = None
    plugin: str = field(default="", compare=False)

    def stream(self, name: str) -> StreamSpec:
        """The stream called ``name``; a ``KeyError`` lists the known ones."""
        for s in self.streams:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.streams)
        raise KeyError(f"platform {self.name!r} has no stream {name!r}; its streams: {known}")


class PlatformPlugin(ABC):
    """Base class for a plugin that serves one platform.

    Set the class attributes ``name``, ``config_model``, ``streams`` (and
    optionally ``description``, ``identifier_types``, ``event_types``,
    ``simulator``), then implement :meth:`fetch` and :meth:`normalise`.
    Override :meth:`create_client` to give the platform's HTTP client its
    signing (``prepare``), error classification (``classify``) and token
    refresh. Every hook answers ``None`` for other platforms, so several
    such plugins coexist and a third party can still override one hook with
    ``@hookimpl(tryfirst=True)``.
    """

    name: ClassVar[str]
    config_model: ClassVar[type[PlatformConfig]] = PlatformConfig
    streams: ClassVar[tuple[StreamSpec, ...]] = ()
    description: ClassVar[str] = ""
    identifier_types: ClassVar[tuple[str, ...]] = ()
    event_types: ClassVar[tuple[str, ...]] = ()
    simulator: ClassVar[Callable[..., Any] | None] = None

    # -- what subclasses implement -------------------------------------------------

    @abstractmethod
    def fetch(self, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch]:
        """Yield raw batches of ``stream`` (see ``omniplug_fetch``)."""

    @abstractmethod
    def normalise(
        self, stream: str, batch: pa.RecordBatch
    ) -> Mapping[str, pa.RecordBatch | pa.Table]:
        """Map one raw batch to canonical tables (see ``omniplug_normalise``)."""

    def fingerprint(self, materials: pa.RecordBatch, ctx: FetchContext) -> pa.RecordBatch | None:
        """Fingerprint materials; ``None`` (the default) uses the framework's implementation."""
        return None

    def create_client(self, ctx: FetchContext) -> PlatformClient:
        """The platform's default HTTP client; override to add signing and error mapping.

        The default is a plain client on ``ctx.config.base_url`` with the
        config's retry and rate-limit settings (see :meth:`FetchContext.make_client`).
        """
        return ctx.make_client()

    # -- hook implementations (dispatch on platform name) ----------------------------

    def spec(self) -> PlatformSpec:
        """This plugin's :class:`PlatformSpec`, built from the class attributes."""
        return PlatformSpec(
            name=self.name,
            streams=tuple(self.streams),
            config_model=self.config_model,
            identifier_types=tuple(self.identifier_types),
            event_types=tuple(self.event_types),
            description=self.description or _first_line(type(self).__doc__),
            simulator=type(self).simulator,
            client_factory=self.create_client,
        )

    @hookimpl
    def omniplug_platforms(self) -> Iterable[PlatformSpec]:
        """Declare this plugin's platform."""
        return [self.spec()]

    @hookimpl
    def omniplug_fetch(self, platform: str, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch] | None:
        """Dispatch to :meth:`fetch` for this plugin's platform."""
        if platform != self.name:
            return None
        return self.fetch(stream, ctx)

    @hookimpl
    def omniplug_normalise(
        self, platform: str, stream: str, batch: pa.RecordBatch
    ) -> Mapping[str, pa.RecordBatch | pa.Table] | None:
        """Dispatch to :meth:`normalise` for this plugin's platform."""
        if platform != self.name:
            return None
        return self.normalise(stream, batch)

    @hookimpl
    def omniplug_fingerprint(self, platform: str, materials: pa.RecordBatch, ctx: FetchContext) -> pa.RecordBatch | None:
        """Dispatch to :meth:`fingerprint` for this plugin's platform."""
        if platform != self.name:
            return None
        return self.fingerprint(materials, ctx)


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""

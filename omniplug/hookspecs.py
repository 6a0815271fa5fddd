"""Hook specifications: the contract between omniplug and platform plugins.

A platform plugin is an object (module, class instance) whose methods are
marked with ``@omniplug.hookimpl`` and named after the hooks below. It is
found through the ``omniplug`` entry-point group::

    # pyproject.toml of the plugin distribution
    [project.entry-points.omniplug]
    tmall = "omniplug_tmall.plugin:TmallPlugin"

Most plugins serve one platform and should subclass
:class:`omniplug.platform.PlatformPlugin`, which implements these hooks and
answers only for its own platform name; you then write plain methods
``fetch``, ``normalise`` (and optionally ``fingerprint``). Implement the hooks
directly only to serve several platforms from one object, or to override one
hook of another plugin's platform with ``@hookimpl(tryfirst=True)`` (return
``None`` for every platform/stream you do not handle, so the call falls
through to the next implementation).

Data crosses every hook as Arrow (``pyarrow.RecordBatch``). The three
per-platform hooks are ``firstresult``: the first implementation that returns
something other than ``None`` wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import pyarrow as pa

    from omniplug.context import FetchContext
    from omniplug.platform import PlatformSpec

hookspec = pluggy.HookspecMarker("omniplug")


@hookspec
def omniplug_platforms() -> Iterable[PlatformSpec]:
    """Declare the platforms this plugin provides.

    Called once per plugin when the plugin manager loads it; every
    implementation's result is collected (not firstresult).

    :return: the :class:`omniplug.platform.PlatformSpec` of each platform:
        its name, its streams (with the canonical tables each yields and its
        incremental cursor), its configuration model (a subclass of
        :class:`omniplug.config.PlatformConfig`, credentials as ``SecretStr``)
        and the identifier and event types it introduces. Two plugins
        declaring the same platform name is an error.
    """


@hookspec(firstresult=True)
def omniplug_fetch(platform: str, stream: str, ctx: FetchContext) -> Iterator[pa.RecordBatch] | None:
    """Fetch one stream of one platform as raw Arrow batches.

    :param platform: the platform name, as declared in ``omniplug_platforms``.
    :param stream: the stream name.
    :param ctx: a :class:`omniplug.context.FetchContext` with the validated
        platform config (``ctx.config``), a ready HTTP client
        (``ctx.http``: retries, throttling, token refresh, a request log with
        secrets redacted), the window to fetch (``ctx.since``/``ctx.until``,
        UTC; ``None`` when resuming), the stream's saved cursor
        (``ctx.cursor``, ``None`` on the first run), a logger and a progress
        reporter.
    :return: an iterator of ``pyarrow.RecordBatch`` in the platform's own
        field names (one batch per page is typical), or ``None`` if this
        implementation does not handle ``(platform, stream)``.

    Each batch should carry the cursor from which fetching would resume
    *after* it, attached with :func:`omniplug.cursor.with_cursor`. The
    framework saves that cursor only after the batch's normalised rows are
    durably written, so a run killed between pages resumes without losing or
    duplicating records. Raise :class:`omniplug.errors.PlatformError`
    subclasses for platform failures (the HTTP client already does).

    firstresult: the first non-``None`` result is used.
    """


@hookspec(firstresult=True)
def omniplug_normalise(
    platform: str, stream: str, batch: pa.RecordBatch
) -> Mapping[str, pa.RecordBatch | pa.Table] | None:
    """Turn one raw batch into canonical tables.

    :param platform: the platform name.
    :param stream: the stream the batch came from.
    :param batch: one raw batch, as yielded by ``omniplug_fetch`` or read
        from a back-office export file.
    :return: a mapping from canonical table name (``orders``,
        ``identity_links``, ... see :mod:`omniplug.schema`) to the rows of that
        table, or ``None`` if this implementation does not handle
        ``(platform, stream)``. One raw stream may yield several tables
        (orders + order_items + identity_links).

    Convert China time to UTC (:func:`omniplug.fields.china_time_to_utc`),
    money to yuan decimals, and hash raw phone numbers and emails here
    (:func:`omniplug.fields.phone_sha256`): raw personal data must never leave
    this hook. Do not drop bad records: emit them as they are and the
    framework's validator sends each failing row to ``rejects`` with the
    reason, or put rows you cannot even map under the key ``"rejects"``
    using the rejects schema.

    firstresult: the first non-``None`` result is used.
    """


@hookspec(firstresult=True)
def omniplug_fingerprint(
    platform: str, materials: pa.RecordBatch, ctx: FetchContext
) -> pa.RecordBatch | Mapping[str, pa.RecordBatch | pa.Table] | None:
    """Compute perceptual fingerprints for a batch of ``materials`` rows.

    :param platform: the platform the materials belong to.
    :param materials: rows of the canonical ``materials`` table.
    :param ctx: the context: ``ctx.media`` reads media within the run's
        size limits (:class:`omniplug.media.MediaReader`), ``ctx.http`` is
        the platform's API client, ``ctx.run_id`` stamps rejects.
    :return: a ``material_fingerprints`` batch (one row per material,
        algorithm and frame), or a mapping ``{"material_fingerprints": ...,
        "rejects": ...}`` when some materials could not be read or decoded
        (rejects schema, ``stream = "fingerprint"``, the reason in
        ``reason``), or ``None`` to let the next implementation answer.

    The framework registers a default implementation (``trylast``,
    :class:`omniplug.material.DefaultFingerprinter`) that reads each
    material's ``uri`` (http, https, file or a local path) and hashes it with
    the Rust core: images with :func:`omniplug.fingerprint_images`, videos
    with :func:`omniplug.fingerprint_video`. Override it only when a platform
    needs something special, such as refreshing expiring preview URLs before
    download; the simplest override rewrites the ``uri`` column and calls
    :func:`omniplug.material.fingerprint_materials`.

    firstresult: the first non-``None`` result is used.
    """

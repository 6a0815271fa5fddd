"""omniplug: one brand-side view of effect, crowd and material across Chinese platforms.

Platform plugins (pluggy hooks, see :mod:`omniplug.hookspecs`) fetch and
normalise each platform's data into the canonical Arrow tables of
:mod:`omniplug.schema`; the Rust core (``omniplug._core``) stitches
identities, matches re-edited creatives and attributes conversions.
"""

from __future__ import annotations

import os
import warnings

import pluggy

from omniplug import _core
from omniplug.errors import OmniplugError

__version__: str = _core.__version__

#: Marker for plugin hook implementations: ``@omniplug.hookimpl``.
hookimpl = pluggy.HookimplMarker("omniplug")

if _core.build_profile() != "release":
    warnings.warn(
        "omniplug's Rust core is a debug build: it is many times slower than a release "
        "build. Do not benchmark it; build with `make build` (maturin --release).",
        RuntimeWarning,
        stacklevel=2,
    )

# rayon's global pool does not survive fork(); tell the core so a forked child
# (multiprocessing, Spark workers) builds a fresh pool instead of hanging.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_core._after_fork_in_child)

from omniplug.aipl_flows import aipl_flows, stage_flows  # noqa: E402
from omniplug.assets import HashIndex, group_assets  # noqa: E402
from omniplug.attribution import aipl, attribute  # noqa: E402  (needs hookimpl defined first)
from omniplug.attribution_stream import attribute_stream  # noqa: E402
from omniplug.fingerprint import FingerprintResult, fingerprint_images  # noqa: E402
from omniplug.fingerprint_video import fingerprint_video  # noqa: E402
from omniplug.identity import StitchResult, stitch  # noqa: E402
from omniplug.identity_stream import stitch_parquet  # noqa: E402
from omniplug.markov_paths import markov_removal_effects  # noqa: E402

__all__ = [
    "FingerprintResult", "HashIndex", "OmniplugError", "StitchResult", "__version__", "aipl", "aipl_flows",
    "attribute", "attribute_stream", "fingerprint_images", "fingerprint_video", "group_assets", "hookimpl",
    "markov_removal_effects", "stage_flows", "stitch", "stitch_parquet",
]

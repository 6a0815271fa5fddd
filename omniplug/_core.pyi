"""Type stubs of the compiled Rust core (``core_rs``, built by maturin).

Users call the documented wrappers in :mod:`omniplug`; these are the raw
bindings. Arrow arguments accept anything with the Arrow PyCapsule interface
(pyarrow, polars, DuckDB relations); results are ``pyarrow`` objects.
"""

from typing import Any, final

import pyarrow as pa

__version__: str

def echo_table(table: Any) -> pa.Table:
    """Return ``table`` as a ``pyarrow.Table`` after a round trip through Rust, without copying."""

def buffer_addresses(table: Any) -> list[tuple[str, int, int, int]]:
    """``(column, chunk, buffer_index, address)`` of every data buffer as Rust sees it."""

def build_profile() -> str:
    """``"release"`` or ``"debug"``."""

def num_threads() -> int:
    """Threads the next heavy call will use."""

def stitch_links(
    links: Any, previous: Any | None = None, config_json: str = "{}"
) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table, str]:
    """Identity stitching: ``(persons, merges, splits, cuts, report_json)``; see :func:`omniplug.stitch`."""

def default_stitch_config_json() -> str:
    """The core's default stitching settings (recommended guardrails) as JSON."""

def attribute_tables(
    touchpoints: Any, orders: Any, group_by: list[str], channel: str | None = None, config_json: str = "{}"
) -> pa.Table:
    """Attribution over person-resolved single-batch tables; see :func:`omniplug.attribute`."""

def aipl_tables(touchpoints: Any, orders: Any, as_of_ms: int, rules_json: str = "{}") -> pa.Table:
    """AIPL stages ``(person_id, stage)``; see :func:`omniplug.aipl`."""

def _after_fork_in_child() -> None: ...
def _raise_core_error(kind: str, message: str) -> None: ...

# -- fingerprinting (omniplug.fingerprint) --------------------------------------------------------
# Rows are ``item`` (uint32: position of the input), ``algorithm``, ``hash``, ``quality`` (float32);
# rejects are ``item``, ``reason``. ``options_json`` holds algorithms, all_windows, min_quality,
# max_input_bytes, max_pixels, max_side (missing ones default).

def fingerprint_encoded(content: Any, options_json: str = "{}") -> tuple[pa.Table, pa.Table]:
    """Fingerprint encoded JPEG/PNG/WebP images of a binary array, in parallel: ``(rows, rejects)``."""

def fingerprint_files(paths: Any, options_json: str = "{}") -> tuple[pa.Table, pa.Table]:
    """Fingerprint image files named by a string array of local paths, in parallel: ``(rows, rejects)``."""

def fingerprint_pixels(
    buffers: list[tuple[bytes, int, int, str, int]], options_json: str = "{}"
) -> tuple[pa.Table, pa.Table]:
    """Fingerprint ``(bytes, width, height, layout, stride)`` pixel buffers (layout ``gray``, ``video_y``
    or ``rgb``; stride 0 for packed rows), in parallel: ``(rows, rejects)``."""

def default_fingerprint_options_json() -> str:
    """The fingerprint defaults as JSON."""

# -- Hamming index and asset grouping (omniplug.assets) -------------------------------------------

@final
class HashIndex:
    """Exact Hamming-radius index over uint64 or binary (8 / 32-byte) codes; see :class:`omniplug.HashIndex`."""

    def __new__(cls, codes: Any, bits: int = 64) -> HashIndex: ...
    @property
    def bits(self) -> int: ...
    def __len__(self) -> int: ...
    def search(self, queries: Any, max_distance: int) -> pa.Table:
        """``query_row`` (int64), ``match_row`` (int64), ``distance`` (int32) of every pair in range."""

def group_fingerprints(fingerprints: Any, options_json: str = "{}") -> pa.Table:
    """``asset_groups`` rows of a one-batch fingerprints table with canonical column types;
    see :func:`omniplug.group_assets`."""

def default_group_options_json() -> str:
    """The grouping defaults (radii, algorithms, representative rule) as JSON."""

# -- Markov from distinct paths (omniplug.markov_paths) -------------------------------------------

def markov_paths_table(
    table: Any,
    order: int,
    path_column: str,
    conversions_column: str,
    null_column: str,
    value_column: str | None = None,
    separator: str = ...,
    max_states: int = 2000,
) -> pa.Table:
    """Exact removal effects and credit per channel of a distinct-path table whose path column is ``utf8``
    or ``list<utf8>`` and counts/value ``float64``; see :func:`omniplug.markov_paths.markov_removal_effects`."""

# -- streamed identity stitching (omniplug.identity_stream) ---------------------------------------

@final
class StreamStitcher:
    """Identity stitching fed batch by batch into compact storage; see
    :func:`omniplug.identity_stream.stitch_batches`."""

    def __new__(cls, config_json: str = "{}") -> StreamStitcher: ...
    def push_links(self, batch: Any) -> None:
        """Copy the link rows of a record batch or table (``left_type, left_value, right_type,
        right_value``, optionally ``observed_at``)."""
    def push_previous(self, batch: Any) -> None:
        """Copy rows of the previous persons (``id_type, id_value, person_id``)."""
    def n_links(self) -> int:
        """Link rows pushed so far."""
    def n_values(self) -> int:
        """Distinct identifier values stored so far."""
    def value_bytes(self) -> int:
        """Bytes of identifier text stored so far."""
    def finish(self, batch_rows: int = ...) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table, str]:
        """``(persons, merges, splits, cuts, report_json)``, persons in ``batch_rows``-row batches
        (default 2**20); the stitcher cannot be used afterwards."""

# -- streamed attribution (omniplug.attribution_stream) -------------------------------------------

@final
class AttributionStream:
    """State of one streamed attribution run; see :func:`omniplug.attribution_stream.attribute_stream`."""

    def __new__(cls, group_by: list[str], config_json: str, persons: Any = None) -> AttributionStream: ...
    def resolve(self, keys: Any) -> pa.Table:
        """Person ids (one int64 column) of the next ``id_type \\x1f id_value`` keys, touchpoints first,
        then orders, as :func:`omniplug.attribute` resolves them; ``persons`` (``k``, ``p``) is the lookup."""
    def observe(self, columns: Any) -> None:
        """Enter the next touch rows' group-by values (utf8 columns in ``group_by`` order) in the global
        first-appearance dictionaries."""
    def split(self, person: Any) -> tuple[pa.Table, list[int]]:
        """Row numbers grouped by spill partition (one uint32 column ``row``, input order inside a
        partition) and the ``partitions() + 1`` offsets of each partition's rows."""
    @property
    def needs_paths(self) -> bool:
        """Whether a model (``markov*``, ``shapley_exact``) learns channel weights from every path first: the
        run then needs ``observe_channel`` while spilling, ``collect_paths`` over every partition and ``learn``."""
    def observe_channel(self, values: Any) -> None:
        """Enter the next touch rows' channel values (utf8: the channel column, else the first group-by
        column), in input order, in the global channel dictionary."""
    def collect_paths(self, touchpoints: Any, orders: Any, channel: str | None = None) -> None:
        """Collect the paths of the next spill partition (its spilled touch and order rows, one batch each)
        with global channel ranks, merging them into the run's path statistics."""
    def learn(self) -> list[tuple[str, list[tuple[str | None, float]]]]:
        """Solve the models needing paths once from every collected partition: per model (in model order)
        its name and ``(channel value, weight)`` by ascending value, the weights the in-memory engine learns."""
    def attribute(self, touchpoints: Any, orders: Any, channel: str | None = None) -> pa.Table:
        """Attribute one spill partition under the run's models (with the learnt weights for the models
        needing paths): the ``attribute_tables`` output, for ``add``."""
    def add(self, output: Any) -> None:
        """Add the ``attribute_tables`` output of the next spill partition, in partition order."""
    def finish(self) -> pa.Table:
        """The merged output, as ``attribute_tables`` over the whole input would give it."""
    @staticmethod
    def partitions() -> int:
        """Number of spill partitions (the engine's 64 reduction chunks)."""

"""The crowd connection: identity stitching, one person across platforms.

:func:`stitch` joins identifiers seen together (``identity_links``: a phone
hash with a Tmall ouid, a Douyin open id with its union id, a device OAID
with an open id, ...) into one ``person_id`` per consumer, in the Rust core
(parallel union-find straight over the Arrow string buffers), with the
guardrails commercial CDPs ship against over-merging:

* **blocked values** never link anything: placeholders (``null``, ``unknown``,
  all-zero device ids), hashes of the empty string, well-known test phone
  numbers, and any ``blocked_values`` you add;
* **hubs**: an identifier linked to more distinct identifiers than
  ``hub_degree`` (a shared device, the shop's test phone) is cut, not merged;
* **caps**: at most ``max_ids_per_type[t]`` identifiers of type ``t`` and
  ``max_component_size`` in total per person; when a component would break a
  cap, links are joined in trust order (``type_priority``, then recency) and
  the ones that would break it are cut.

Every cut is reported (which identifier, which rule, how many persons it
would have merged). With ``previous`` persons, ids stay stable across runs:
a component keeps the oldest earlier id, merges are recorded, new persons
get ids never issued before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from omniplug import _core
from omniplug.errors import InvalidInputError

__all__ = ["StitchResult", "stitch", "LINK_COLUMNS", "PERSON_COLUMNS"]

#: Columns ``stitch`` reads from ``links`` (others are ignored).
LINK_COLUMNS = ("left_type", "left_value", "right_type", "right_value")
#: Columns of ``previous`` persons.
PERSON_COLUMNS = ("id_type", "id_value", "person_id")


@dataclass
class StitchResult:
    """The outcome of :func:`stitch`.

    Attributes:
        persons: ``id_type, id_value, person_id`` (one row per identifier,
            ordered by person_id, id_type, id_value). Blocked values and hubs
            belong to no person.
        merges: ``old_person_id, surviving_person_id``: earlier persons merged
            into an older one.
        splits: ``old_person_id, new_person_id``: parts that left an earlier person.
        cuts: one row per cut: ``rule, detail, id_type, id_value, other_type,
            other_value, links, would_merge_persons, would_merge_identifiers``.
        report: counts: links, identifiers, components, largest component,
            links cut by rule, persons kept/new/merged/split/vanished,
            ``next_person_id`` (pass it to the next run).
    """

    persons: pa.Table
    merges: pa.Table
    splits: pa.Table
    cuts: pa.Table
    report: dict[str, Any] = field(default_factory=dict)


def _select(data: Any, columns: tuple[str, ...], what: str) -> pa.Table:
    """Only the needed columns, so unrelated columns of any type never reach the core."""
    table = _arrow(data, what)
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise InvalidInputError(
            f"{what} lacks columns {missing}; it needs {list(columns)} (has {table.column_names})"
        )
    return table.select(list(columns))


def stitch(
    links: Any,
    *,
    previous: Any = None,
    max_component_size: int | None = None,
    max_ids_per_type: dict[str, int] | None = None,
    type_priority: list[str] | None = None,
    hub_degree: int | None = None,
    hub_degree_per_type: dict[str, int] | None = None,
    blocked_values: list[str] | tuple[str, ...] = (),
    allowed_types: list[str] | None = None,
    mode: Literal["incremental", "rebuild"] = "incremental",
    next_person_id: int | None = None,
    guardrails: bool = True,
) -> StitchResult:
    """Stitch identifier pairs into persons (see the module docstring for the rules).

    Args:
        links: an Arrow table (pyarrow, polars, DuckDB...) with ``left_type,
            left_value, right_type, right_value`` and optionally ``observed_at``
            (link recency decides which link a cap cuts).
        previous: yesterday's ``persons`` (``id_type, id_value, person_id``) for stable ids.
        max_component_size: most identifiers per person (default 200).
        max_ids_per_type: per-type caps (default: 3 phone hashes, 5 emails, 5 device ids).
        type_priority: identifier types from most to least trusted.
        hub_degree: distinct partners above which an identifier is a hub (default 100).
        hub_degree_per_type: per-type hub thresholds.
        blocked_values: extra values that never link (exact, case-insensitive).
        allowed_types: when given, any other identifier type is an input error.
        mode: ``"incremental"`` (``links`` are today's, added to ``previous``
            persons) or ``"rebuild"`` (``links`` are the whole history;
            ``previous`` only lends its ids).
        next_person_id: smallest id a new person may get (the previous run's
            ``report["next_person_id"]``), so vanished ids are never reissued.
        guardrails: ``False`` gives plain connected components (no blocking,
            caps or hubs), e.g. to compare with a reference.

    Returns:
        A :class:`StitchResult`.

    Raises:
        InvalidInputError: a missing column, a non-string id column, an
            unknown identifier type (with ``allowed_types``), a bad setting.
    """
    config: dict[str, Any] = {}
    if not guardrails:
        config.update(max_component_size=None, max_ids_per_type={}, hub_degree=2**32 - 1, block_rules=[])
    settings = {
        "max_component_size": max_component_size,
        "max_ids_per_type": max_ids_per_type,
        "type_priority": type_priority,
        "hub_degree": hub_degree,
        "hub_degree_per_type": hub_degree_per_type,
        "allowed_types": allowed_types,
        "next_person_id": next_person_id,
    }
    config.update({k: v for k, v in settings.items() if v is not None})
    config["previous_mode"] = {"incremental": "incremental", "rebuild": "ids_only"}[mode]
    if blocked_values:
        from_core = json.loads(_core.default_stitch_config_json())["block_rules"] if guardrails else []
        config["block_rules"] = [*config.get("block_rules", from_core),
                                 *({"pattern": {"kind": "exact", "text": v}} for v in blocked_values)]
    links = _arrow(links, "links")
    columns = LINK_COLUMNS + (("observed_at",) if "observed_at" in links.column_names else ())
    prev = None if previous is None else _select(previous, PERSON_COLUMNS, "previous persons")
    persons, merges, splits, cuts, report = _core.stitch_links(
        _select(links, columns, "links"), prev, json.dumps(config)
    )
    return StitchResult(persons, merges, splits, cuts, json.loads(report))


def _arrow(data: Any, what: str) -> pa.Table:
    """Any Arrow tabular data (pyarrow, polars, DuckDB: the PyCapsule interface) as a table, without copying."""
    if isinstance(data, pa.Table):
        return data
    try:
        return pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else pa.table(data)
    except (TypeError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"{what} must be Arrow tabular data (pyarrow, polars, DuckDB): {exc}") from None

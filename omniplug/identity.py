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
get ids never issued before. A daily incremental run with ``cap_order="arrival"``
and the previous run's cuts (``previous_cuts``, which carry its hubs) gives
the same persons and ids as a rebuild over all links so far (see
:func:`stitch` for the exact conditions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from omniplug import _core
from omniplug.errors import InvalidInputError

__all__ = ["StitchResult", "stitch", "LINK_COLUMNS", "PERSON_COLUMNS", "CUT_COLUMNS", "CAP_ORDERS"]

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
            A carried hub that occurs today is a ``hub`` row whose detail
            ends in ``carried``; with ``previous_cuts``, each carried hub
            absent today gets a ``hub`` row too (detail ``carried from an
            earlier run``, ``links`` 0), so the next run can be given these
            cuts and still carry every hub.
        report: counts: links, identifiers, components, largest component,
            links cut by rule, persons kept/new/merged/split/vanished,
            ``next_person_id`` (pass it to the next run); with
            ``previous_cuts``, ``hubs_carried``.
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
    cap_order: Literal["trust", "arrival"] = "trust",
    previous_cuts: Any = None,
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
        cap_order: in which order the links of a person that breaks a cap
            are joined; the links that no longer fit when their turn comes
            are cut. ``"trust"`` (default): most trusted type first
            (``type_priority``), then most recent, so the weakest, stalest
            links are cut. ``"arrival"``: first come, first served, oldest
            ``observed_at`` first; a link is cut when it comes too late.
            Use ``"arrival"`` for daily incremental runs (see below).
        previous_cuts: the ``cuts`` of the previous run
            (:attr:`StitchResult.cuts` or its ``cuts.parquet``). Its ``hub``
            identifiers (exact type and value) are cut again whatever their
            degree today: in an incremental run a hub's degree counts
            today's links only, and a hub with a few new partners would
            otherwise join a person. They still count as partners, so a
            link to an old hub adds to its partner's degree as in a rebuild.
            Needs the columns ``rule, id_type, id_value``. Meant for
            incremental runs: a rebuild sees every link and finds the hubs
            itself.

    Incremental runs and rebuilds: with ``mode="incremental"`` the result
    has the same persons *and* the same person ids as a ``mode="rebuild"``
    over every link so far (with the previous rebuild's persons and
    ``next_person_id``), guardrails on, when all of these hold:

    * ``cap_order="arrival"`` (with ``"trust"`` a rebuild may rank an old
      link below a newer, more trusted one and cut differently);
    * every link of today has a later ``observed_at`` than every earlier link;
    * ``previous_cuts`` carries the earlier runs' hubs (pass each day the
      cuts of the day before: they include the hubs it carried);
    * no identifier becomes a hub only through links spread over several
      days (an incremental run does not know its earlier degree).

    Without guardrails firing the partition is always the rebuild's. An
    incremental run never splits a person: the links that would show a
    split are not in its input; run a rebuild for that.

    Returns:
        A :class:`StitchResult`.

    Raises:
        InvalidInputError: a missing column (of ``links``, ``previous`` or
            ``previous_cuts``), a non-string id column, an unknown identifier
            type (with ``allowed_types``), an unknown ``mode`` or
            ``cap_order``, a bad setting.
    """
    config = _config_json(
        guardrails=guardrails, mode=mode, cap_order=cap_order, previous_cuts=previous_cuts,
        max_component_size=max_component_size, max_ids_per_type=max_ids_per_type,
        type_priority=type_priority, hub_degree=hub_degree, hub_degree_per_type=hub_degree_per_type,
        blocked_values=blocked_values, allowed_types=allowed_types, next_person_id=next_person_id,
    )
    links = _arrow(links, "links")
    columns = LINK_COLUMNS + (("observed_at",) if "observed_at" in links.column_names else ())
    prev = None if previous is None else _select(previous, PERSON_COLUMNS, "previous persons")
    persons, merges, splits, cuts, report = _core.stitch_links(
        _select(links, columns, "links"), prev, config
    )
    counts = json.loads(report)
    if previous_cuts is not None:
        carried = _hub_values(previous_cuts)
        cuts = _with_carried_hubs(cuts, carried)
        counts["hubs_carried"] = len(carried)
    return StitchResult(persons, merges, splits, cuts, counts)


def _arrow(data: Any, what: str) -> pa.Table:
    """Any Arrow tabular data (pyarrow, polars, DuckDB: the PyCapsule interface) as a table, without copying."""
    if isinstance(data, pa.Table):
        return data
    try:
        return pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else pa.table(data)
    except (TypeError, ValueError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"{what} must be Arrow tabular data (pyarrow, polars, DuckDB): {exc}") from None


#: Accepted values of ``mode`` and what the core calls them.
_MODES = {"incremental": "incremental", "rebuild": "ids_only"}
#: Accepted values of ``cap_order``.
CAP_ORDERS = ("trust", "arrival")
#: Columns of ``previous_cuts`` read to carry earlier hubs.
CUT_COLUMNS = ("rule", "id_type", "id_value")


def _config_json(
    *,
    guardrails: bool = True,
    mode: str = "incremental",
    cap_order: str = "trust",
    previous_cuts: Any = None,
    max_component_size: int | None = None,
    max_ids_per_type: dict[str, int] | None = None,
    type_priority: list[str] | None = None,
    hub_degree: int | None = None,
    hub_degree_per_type: dict[str, int] | None = None,
    blocked_values: list[str] | tuple[str, ...] = (),
    allowed_types: list[str] | None = None,
    next_person_id: int | None = None,
) -> str:
    """The core's JSON settings for :func:`stitch`'s keyword arguments (same meanings).

    Settings left at ``None`` take the core's defaults. ``blocked_values``
    are added to the core's default block rules (or stand alone without
    guardrails); the hubs of ``previous_cuts`` become ``known_hubs``.

    Raises:
        InvalidInputError: an unknown ``mode`` or ``cap_order``, or
            ``previous_cuts`` lacking a column.
    """
    if mode not in _MODES:
        raise InvalidInputError(f"mode must be one of {list(_MODES)}, not {mode!r}")
    if cap_order not in CAP_ORDERS:
        raise InvalidInputError(f"cap_order must be one of {list(CAP_ORDERS)}, not {cap_order!r}")
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
    config["previous_mode"] = _MODES[mode]
    config["cap_order"] = cap_order
    extra = [{"pattern": {"kind": "exact", "text": v}} for v in blocked_values]
    config["known_hubs"] = [{"id_type": t, "value": v} for t, v in _hub_values(previous_cuts)]
    if extra:
        from_core = json.loads(_core.default_stitch_config_json())["block_rules"] if guardrails else []
        config["block_rules"] = [*config.get("block_rules", from_core), *extra]
    return json.dumps(config)


def _hub_values(previous_cuts: Any) -> list[tuple[str, str]]:
    """``(id_type, id_value)`` of the ``hub`` rows of ``previous_cuts``, first occurrence order."""
    if previous_cuts is None:
        return []
    cuts = _select(previous_cuts, CUT_COLUMNS, "previous cuts")
    hubs = cuts.filter(pc.equal(cuts.column("rule"), "hub"))
    pairs = zip(hubs.column("id_type").to_pylist(), hubs.column("id_value").to_pylist(), strict=True)
    return list(dict.fromkeys((t, v) for t, v in pairs if t is not None and v is not None))


def _with_carried_hubs(cuts: pa.Table, carried: list[tuple[str, str]]) -> pa.Table:
    """``cuts`` plus one ``hub`` row per carried hub absent today, so this run's cuts carry them on.

    A carried hub that occurs today is cut by the core and reported as a
    ``hub`` cut (detail ending in ``carried``); one that does not occur
    would be forgotten by the next run without these rows.
    """
    today = cuts.filter(pc.equal(cuts.column("rule"), "hub"))
    seen = set(zip(today.column("id_type").to_pylist(), today.column("id_value").to_pylist(), strict=True))
    carried = [hub for hub in carried if hub not in seen]
    if not carried:
        return cuts
    n = len(carried)
    columns: dict[str, Any] = {
        "rule": ["hub"] * n,
        "detail": ["carried from an earlier run"] * n,
        "id_type": [t for t, _ in carried],
        "id_value": [v for _, v in carried],
        "other_type": [None] * n,
        "other_value": [None] * n,
        "links": [0] * n,
        "would_merge_persons": [0] * n,
        "would_merge_identifiers": [0] * n,
    }
    extra = pa.table({f.name: pa.array(columns[f.name], f.type) for f in cuts.schema}, schema=cuts.schema)
    return pa.concat_tables([cuts, extra])

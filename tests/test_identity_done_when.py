"""Identity stitching: the remaining "done when" items of the stitching issue.

Partition against scipy (plain and with a planted hub), stable ids across
three runs checked against a plain-Python model of the documented id rules
(heir, merge, split, new, vanished), and bad input: every column with a
wrong type, null and empty identifiers, unknown identifier types, and a
fuzz that no input makes the core panic across the Python boundary.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from omniplug.errors import InvalidInputError, LimitExceededError
from omniplug.identity import stitch

Node = tuple[str, str]
Pair = tuple[Node, Node]
COLUMNS = ("left_type", "left_value", "right_type", "right_value")


def links(pairs: list[Pair]) -> pa.Table:
    return pa.table({
        "left_type": pa.array([a[0] for a, _ in pairs], pa.string()),
        "left_value": pa.array([a[1] for a, _ in pairs], pa.string()),
        "right_type": pa.array([b[0] for _, b in pairs], pa.string()),
        "right_value": pa.array([b[1] for _, b in pairs], pa.string()),
    })


def partition(persons: pa.Table) -> set[frozenset[Node]]:
    groups: dict[int, set[Node]] = defaultdict(set)
    for row in persons.to_pylist():
        groups[row["person_id"]].add((row["id_type"], row["id_value"]))
    return {frozenset(g) for g in groups.values()}


def scipy_components(pairs: list[Pair]) -> list[list[Node]]:
    """Components by scipy, each listed in order of first appearance (left, then right, row by row)."""
    nodes = list(dict.fromkeys(n for pair in pairs for n in pair))
    index = {n: i for i, n in enumerate(nodes)}
    graph = coo_matrix((np.ones(len(pairs)), ([index[a] for a, _ in pairs], [index[b] for _, b in pairs])),
                       shape=(len(nodes), len(nodes)))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[Node]] = {}
    for node in nodes:  # first appearance order, so groups come out in order of first appearance too
        groups.setdefault(int(labels[index[node]]), []).append(node)
    return list(groups.values())


# -- partition against scipy -------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.tuples(st.sampled_from(["oaid", "jd_pin"]), st.integers(0, 300).map(str)),
                          st.tuples(st.sampled_from(["oaid", "jd_pin"]), st.integers(0, 300).map(str))),
                min_size=1, max_size=600),
       st.integers(1, 5))
def test_partition_equals_scipy_on_larger_graphs_in_several_chunks(pairs: list[Pair], chunks: int) -> None:
    # Values like "7" (one repeated character) would be blocked by the guardrails; without them they link.
    table = links(pairs)
    size = -(-table.num_rows // chunks)
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=size))
    result = stitch(chunked, guardrails=False)
    assert partition(result.persons) == {frozenset(c) for c in scipy_components(pairs)}
    assert result.report["largest_component"] == max(len(c) for c in scipy_components(pairs))


def test_planted_test_phone_shared_by_ten_thousand_people_leaves_the_rest_as_scipy_finds_it() -> None:
    phone = ("phone_sha256", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8")
    rng = np.random.default_rng(4)
    people = [[("douyin_openid", f"op-{i:05d}"), ("oaid", f"dev-{i:05d}-x"), ("tmall_ouid", f"ou-{i:05d}")]
              for i in range(10_000)]
    genuine = [(p[0], p[1]) for p in people] + [(p[1], p[2]) for p in people[::3]]
    # A few genuine cross-person links (a shared family device), to keep scipy honest.
    genuine += [(people[i][2], people[i + 1][0]) for i in rng.choice(9_999, 50, replace=False).tolist()]
    planted = [(p[0], phone) for p in people]  # the shop's test phone on every account
    order = rng.permutation(len(genuine) + len(planted)).tolist()
    pairs = [(genuine + planted)[i] for i in order]
    result = stitch(links(pairs))
    assert partition(result.persons) == {frozenset(c) for c in scipy_components(genuine)}
    assert phone not in {(r["id_type"], r["id_value"]) for r in result.persons.to_pylist()}
    hub = [c for c in result.cuts.to_pylist() if c["rule"] == "hub"]
    assert [(c["id_type"], c["id_value"], c["links"]) for c in hub] == [(*phone, 10_000)]
    assert hub[0]["would_merge_persons"] == len(scipy_components(genuine))
    assert result.report["hubs"] == 1 and result.report["links_cut"]["hub"] == 10_000


# -- stable ids across three runs --------------------------------------------------------------------


def test_merge_split_new_and_vanished_across_three_runs() -> None:
    a, b, c, d, e, f = (("jd_pin", f"jd-{x}") for x in "abcdef")
    pa_, pb, pc_, pd, pe = (("phone_sha256", f"ph-{x}") for x in "abcde")
    # Day 1: persons {a, pa, b} (id 1), {c, pc} (id 2), {d, pd} (id 3).
    day1 = stitch(links([(a, pa_), (pa_, b), (c, pc_), (d, pd)]), mode="rebuild")
    ids1 = {r["id_value"]: r["person_id"] for r in day1.persons.to_pylist()}
    assert (ids1["jd-a"], ids1["jd-c"], ids1["jd-d"]) == (1, 2, 3)
    # Day 2 (the whole history again): the link pa-b is gone, so b (now with a device) splits
    # off person 1; c and d are joined by a new link (merge: 2 survives, 3 is merged into it);
    # e is new.
    day2 = stitch(links([(a, pa_), (c, pc_), (d, pd), (pc_, d), (b, ("oaid", "dev-bbb")), (e, pe)]),
                  previous=day1.persons, mode="rebuild",
                  next_person_id=day1.report["next_person_id"])
    ids2 = {r["id_value"]: r["person_id"] for r in day2.persons.to_pylist()}
    assert ids2["jd-a"] == ids2["ph-a"] == 1  # the heir (2 of the 3 identifiers) keeps 1
    assert ids2["jd-c"] == ids2["ph-c"] == ids2["jd-d"] == ids2["ph-d"] == 2  # the oldest id survives
    assert ids2["jd-b"] == 4 and ids2["jd-e"] == 5  # new ids, in order of first appearance, never reused
    assert day2.merges.to_pylist() == [{"old_person_id": 3, "surviving_person_id": 2}]
    assert day2.splits.to_pylist() == [{"old_person_id": 1, "new_person_id": 4}]
    assert (day2.report["persons_merged"], day2.report["persons_split"], day2.report["persons_vanished"]) == (1, 1, 0)
    # Day 3: person 5 (e, pe) vanishes; f is new and gets 6 even though 5 is free now.
    day3 = stitch(links([(a, pa_), (b, ("oaid", "dev-bbb")), (c, pc_), (pc_, d), (d, pd), (f, ("oaid", "dev-f"))]),
                  previous=day2.persons, mode="rebuild", next_person_id=day2.report["next_person_id"])
    ids3 = {r["id_value"]: r["person_id"] for r in day3.persons.to_pylist()}
    assert (ids3["jd-a"], ids3["jd-b"], ids3["dev-bbb"], ids3["jd-c"], ids3["jd-d"]) == (1, 4, 4, 2, 2)
    assert ids3["jd-f"] == 6 and "jd-e" not in ids3
    assert day3.merges.num_rows == 0 and day3.splits.num_rows == 0
    assert day3.report["persons_vanished"] == 1 and day3.report["persons_new"] == 1


def expected_ids(components: list[list[Node]], previous: dict[Node, int], floor: int
                 ) -> tuple[dict[Node, int], set[tuple[int, int]], set[tuple[int, int]], int]:
    """The documented id rules (omniplug.identity docstring, core stable_ids) in plain Python.

    Returns (id of every identifier, merges, splits, persons vanished). A previous
    person's heir is the component holding most of its identifiers, ties to the
    component seen first; a component carries the smallest id it is heir of; the
    other parts of a split get their own id; new ids start at ``floor``.
    """
    where = {n: i for i, comp in enumerate(components) for n in comp}
    members: dict[int, list[Node]] = defaultdict(list)
    for node, pid in previous.items():
        members[pid].append(node)
    heir_of: dict[int, list[int]] = defaultdict(list)
    heir: dict[int, int] = {}
    vanished = 0
    for pid, nodes in members.items():
        count: dict[int, int] = defaultdict(int)
        for n in nodes:
            if n in where:
                count[where[n]] += 1
        if not count:
            vanished += 1
            continue
        heir[pid] = min(count, key=lambda i: (-count[i], i))
        heir_of[heir[pid]].append(pid)
    ids: dict[int, int] = {}
    merges: set[tuple[int, int]] = set()
    for i in range(len(components)):
        if heir_of[i]:
            ids[i] = min(heir_of[i])
            merges |= {(p, ids[i]) for p in heir_of[i] if p != ids[i]}
    next_id = max([floor, *(x + 1 for x in previous.values())])
    for i in range(len(components)):
        if i not in ids:
            ids[i], next_id = next_id, next_id + 1
    splits = {(pid, ids[where[n]]) for pid, nodes in members.items() for n in nodes
              if n in where and where[n] != heir.get(pid)}
    return {n: ids[where[n]] for n in where}, merges, splits, vanished


node = st.tuples(st.sampled_from(["jd_pin", "oaid", "phone_sha256"]), st.integers(0, 14).map(lambda v: f"v-{v:02d}"))
day = st.lists(st.tuples(node, node), min_size=1, max_size=25)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(day, min_size=3, max_size=3))
def test_three_rebuilds_follow_the_documented_id_rules(days: list[list[Pair]]) -> None:
    previous: pa.Table | None = None
    prev_ids: dict[Node, int] = {}
    floor = 1
    issued: set[int] = set()
    for pairs in days:
        result = stitch(links(pairs), previous=previous, mode="rebuild", next_person_id=floor, guardrails=False)
        comps = scipy_components(pairs)
        want, merges, splits, vanished = expected_ids(comps, prev_ids, floor)
        got = {(r["id_type"], r["id_value"]): r["person_id"] for r in result.persons.to_pylist()}
        assert got == want
        assert {(r["old_person_id"], r["surviving_person_id"]) for r in result.merges.to_pylist()} == merges
        assert {(r["old_person_id"], r["new_person_id"]) for r in result.splits.to_pylist()} == splits
        assert result.report["persons_vanished"] == vanished
        new = set(got.values()) - set(prev_ids.values())
        assert not new & issued, "an id was issued twice"
        issued |= set(got.values())
        previous, prev_ids, floor = result.persons, got, result.report["next_person_id"]


# -- bad input ---------------------------------------------------------------------------------------


GOOD = {"left_type": ["jd_pin", "jd_pin"], "left_value": ["jd-001", "jd-002"],
        "right_type": ["oaid", "oaid"], "right_value": ["dev-001", "dev-001"]}


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("bad", [pa.array([1, 2]), pa.array([1.5, 2.5]), pa.array([b"jd", b"x1"]),
                                 pa.array([True, False]), pa.nulls(2), pa.array([[1], [2]])],
                         ids=["int64", "float64", "binary", "bool", "null", "list"])
def test_every_link_column_of_a_wrong_type_is_named(column: str, bad: pa.Array) -> None:
    table = pa.table({**GOOD, column: bad})
    with pytest.raises(InvalidInputError, match=column):
        stitch(table)


@pytest.mark.parametrize("kind", [pa.large_string(), pa.string_view(), "dictionary"])
def test_other_string_layouts_give_the_same_persons(kind: Any) -> None:
    plain = stitch(pa.table(GOOD)).persons
    columns = {c: (pa.array(v).dictionary_encode() if kind == "dictionary" else pa.array(v, kind))
               for c, v in GOOD.items()}
    assert stitch(pa.table(columns)).persons.equals(plain)
    assert partition(plain) == {frozenset({("jd_pin", "jd-001"), ("jd_pin", "jd-002"), ("oaid", "dev-001")})}


@pytest.mark.parametrize(("column", "bad", "match"), [
    ("id_type", pa.array([7]), "id_type"), ("id_value", pa.array([7]), "id_value"),
    ("person_id", pa.array(["one"]), "person_id"), ("person_id", pa.array([1.0]), "person_id"),
])
def test_previous_persons_of_a_wrong_type_are_named(column: str, bad: pa.Array, match: str) -> None:
    previous = {"id_type": ["jd_pin"], "id_value": ["jd-001"], "person_id": pa.array([1], pa.int64())}
    with pytest.raises(InvalidInputError, match=match):
        stitch(pa.table(GOOD), previous=pa.table({**previous, column: bad}))


def test_observed_at_of_a_wrong_type_is_named() -> None:
    with pytest.raises(InvalidInputError, match="observed_at"):
        stitch(pa.table({**GOOD, "observed_at": ["yesterday", "today"]}))


def test_null_and_empty_identifiers_never_link_and_are_counted() -> None:
    pairs = pa.table({
        "left_type": ["jd_pin", "jd_pin", None, "", "jd_pin", "jd_pin"],
        "left_value": ["jd-001", "jd-002", "jd-003", "jd-004", None, ""],
        "right_type": ["oaid", "oaid", "oaid", "oaid", "oaid", "oaid"],
        # jd-001 and jd-002 both meet a null / empty device: that must not join them.
        "right_value": [None, "", "dev-003", "dev-004", "dev-005", "dev-005"],
    })
    result = stitch(pairs)
    rows = result.persons.to_pylist()
    assert all(r["id_type"] and r["id_value"] for r in rows)
    assert all(len(p) == 1 for p in partition(result.persons))
    assert result.report["links_cut"]["invalid"] == 6
    assert result.report["invalid_sides"] == {"null_type": 1, "empty_type": 1, "null_value": 2, "empty_value": 2,
                                             "null_person_id": 0}
    # Previous persons with a null person_id are dropped and counted, not carried.
    prev = pa.table({"id_type": ["jd_pin"], "id_value": ["jd-777"], "person_id": pa.array([None], pa.int64())})
    again = stitch(pairs, previous=prev)
    assert ("jd_pin", "jd-777") not in {(r["id_type"], r["id_value"]) for r in again.persons.to_pylist()}
    assert again.report["invalid_sides"]["null_person_id"] == 1


def test_unknown_identifier_types_are_rejected_only_when_types_are_restricted() -> None:
    odd = links([(("kuaishou_id", "ks-001"), ("oaid", "dev-001"))])
    # Identifier types are extensible by plugins: without allowed_types a new type stitches.
    assert partition(stitch(odd).persons) == {frozenset({("kuaishou_id", "ks-001"), ("oaid", "dev-001")})}
    with pytest.raises(InvalidInputError, match="kuaishou_id"):
        stitch(odd, allowed_types=["oaid", "jd_pin"])
    flipped = links([(("oaid", "dev-001"), ("kuaishou_id", "ks-001"))])  # on the right side too
    with pytest.raises(InvalidInputError, match="right_type.*kuaishou_id"):
        stitch(flipped, allowed_types=["oaid"])


@pytest.mark.parametrize("data", [[1, 2, 3], "links.parquet", None, 42, {"left_type": ["jd_pin"]}])
def test_non_tabular_input_is_a_clear_error(data: Any) -> None:
    with pytest.raises(InvalidInputError):
        stitch(data)


def _column(draw: Any, n: int) -> pa.Array:
    kind = draw(st.sampled_from(["text", "text", "text", "large", "dict", "int", "null", "binary"]))
    text = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["", " ", "null", "0", "jd-1", "dev-1"]))
    if kind == "int":
        return pa.array(draw(st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=n, max_size=n)), pa.int64())
    if kind == "null":
        return pa.nulls(n)
    if kind == "binary":
        return pa.array(draw(st.lists(st.one_of(st.none(), st.binary(max_size=4)), min_size=n, max_size=n)))
    values = draw(st.lists(text, min_size=n, max_size=n))
    if kind == "dict":
        return pa.array(values, pa.string()).dictionary_encode()
    return pa.array(values, pa.large_string() if kind == "large" else pa.string())


@st.composite
def messy_links(draw: Any) -> tuple[pa.Table, pa.Table | None, dict[str, Any]]:
    n = draw(st.integers(0, 12))
    table = pa.table({c: _column(draw, n) for c in COLUMNS if draw(st.integers(0, 20)) > 0})
    previous = None
    if draw(st.booleans()):
        m = draw(st.integers(0, 5))
        previous = pa.table({"id_type": _column(draw, m), "id_value": _column(draw, m),
                             "person_id": pa.array(draw(st.lists(st.one_of(st.none(), st.integers(-3, 2**62)),
                                                                 min_size=m, max_size=m)), pa.int64())})
    options = draw(st.fixed_dictionaries({}, optional={
        "max_component_size": st.integers(-1, 4), "hub_degree": st.integers(-1, 3),
        "max_ids_per_type": st.dictionaries(st.sampled_from(["jd_pin", "oaid"]), st.integers(-1, 2)),
        "mode": st.sampled_from(["incremental", "rebuild"]), "guardrails": st.booleans(),
        "next_person_id": st.integers(-2, 2**62), "blocked_values": st.lists(st.text(max_size=3), max_size=2),
    }))
    return table, previous, options


@settings(max_examples=150, deadline=None)
@given(messy_links())
def test_no_input_panics_across_the_python_boundary(case: tuple[pa.Table, pa.Table | None, dict[str, Any]]) -> None:
    table, previous, options = case
    try:
        result = stitch(table, previous=previous, **options)
    except (InvalidInputError, LimitExceededError) as exc:
        assert str(exc)  # a message, not a bare exception
        return
    # Whatever was accepted gives well-formed persons: no null, no empty identifier.
    for row in result.persons.to_pylist():
        assert row["id_type"] and row["id_value"] and row["person_id"] is not None

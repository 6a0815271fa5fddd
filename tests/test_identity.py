"""Identity stitching through the public API, against independent references."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from omniplug.errors import InvalidInputError
from omniplug.identity import stitch
from omniplug.world import WorldConfig, build_world

TYPES = ("phone_sha256", "tmall_ouid", "douyin_openid", "oaid")


def _links(pairs: list[tuple[tuple[str, str], tuple[str, str]]]) -> pa.Table:
    return pa.table({
        "left_type": [a[0] for a, _ in pairs], "left_value": [a[1] for a, _ in pairs],
        "right_type": [b[0] for _, b in pairs], "right_value": [b[1] for _, b in pairs],
    })


def _partition(persons: pa.Table) -> set[frozenset[tuple[str, str]]]:
    groups: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for row in persons.to_pylist():
        groups[row["person_id"]].add((row["id_type"], row["id_value"]))
    return {frozenset(g) for g in groups.values()}


def _scipy_partition(pairs: list[tuple[tuple[str, str], tuple[str, str]]]) -> set[frozenset[tuple[str, str]]]:
    nodes = sorted({n for pair in pairs for n in pair})
    index = {n: i for i, n in enumerate(nodes)}
    rows = [index[a] for a, _ in pairs]
    cols = [index[b] for _, b in pairs]
    graph = coo_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for node, label in zip(nodes, labels, strict=True):
        groups[int(label)].add(node)
    return {frozenset(g) for g in groups.values()}


identifier = st.tuples(st.sampled_from(TYPES), st.integers(0, 40).map(lambda n: f"id-{n:05d}"))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(identifier, identifier), min_size=1, max_size=120))
def test_partition_equals_scipy_without_guardrails(pairs: list[tuple[tuple[str, str], tuple[str, str]]]) -> None:
    result = stitch(_links(pairs), guardrails=False)
    assert _partition(result.persons) == _scipy_partition(pairs)
    assert result.report["components"] == len(_scipy_partition(pairs))


def test_planted_hub_phone_does_not_merge_ten_thousand_people() -> None:
    hub = ("phone_sha256", "f" * 63 + "e")
    pairs = [(("douyin_openid", f"open-{i:06d}"), hub) for i in range(10_000)]
    pairs += [(("douyin_openid", f"open-{i:06d}"), ("douyin_unionid" if False else "oaid", f"dev-{i:06d}"))
              for i in range(10_000)]
    result = stitch(_links(pairs))
    sizes = result.persons.group_by("person_id").aggregate([("id_value", "count")])
    assert max(sizes.column("id_value_count").to_pylist()) == 2  # each openid stays with its own device
    hubs = [c for c in result.cuts.to_pylist() if c["rule"] == "hub"]
    assert [(c["id_type"], c["id_value"]) for c in hubs] == [hub]
    assert hubs[0]["links"] == 10_000 and hubs[0]["would_merge_persons"] >= 10_000
    assert result.report["hubs"] == 1


def test_blocked_values_are_reported_and_never_link() -> None:
    pairs = [(("tmall_ouid", "ou-a"), ("phone_sha256", "my-test-phone")),
             (("tmall_ouid", "ou-b"), ("phone_sha256", "my-test-phone")),
             (("tmall_ouid", "ou-c"), ("oaid", "00000000-0000-0000-0000-000000000000"))]
    result = stitch(_links(pairs), blocked_values=["MY-TEST-PHONE"])
    assert _partition(result.persons) == {frozenset({("tmall_ouid", "ou-a")}), frozenset({("tmall_ouid", "ou-b")}),
                                          frozenset({("tmall_ouid", "ou-c")})}
    blocked = {(c["id_type"], c["id_value"]) for c in result.cuts.to_pylist() if c["rule"] == "blocked"}
    assert blocked == {("phone_sha256", "my-test-phone"), ("oaid", "00000000-0000-0000-0000-000000000000")}


def test_ids_are_stable_across_three_runs_with_merge_new_and_vanished() -> None:
    day1 = stitch(_links([(("tmall_ouid", "ou-1"), ("phone_sha256", "p1")),
                          (("jd_pin", "jd-2"), ("phone_sha256", "p2")),
                          (("jd_pin", "jd-3"), ("phone_sha256", "p3"))]), mode="rebuild")
    ids1 = {r["id_value"]: r["person_id"] for r in day1.persons.to_pylist()}
    # Day 2: person of p1 and person of p2 turn out to be one (merge); a new person appears.
    day2 = stitch(_links([(("tmall_ouid", "ou-1"), ("phone_sha256", "p1")),
                          (("jd_pin", "jd-2"), ("phone_sha256", "p2")),
                          (("jd_pin", "jd-2"), ("tmall_ouid", "ou-1")),
                          (("jd_pin", "jd-3"), ("phone_sha256", "p3")),
                          (("xhs_user_id", "x-4"), ("phone_sha256", "p4"))]),
                  previous=day1.persons, mode="rebuild", next_person_id=day1.report["next_person_id"])
    ids2 = {r["id_value"]: r["person_id"] for r in day2.persons.to_pylist()}
    survivor = min(ids1["p1"], ids1["p2"])
    assert ids2["p1"] == ids2["p2"] == survivor
    assert ids2["p3"] == ids1["p3"]
    assert ids2["p4"] not in ids1.values()
    assert day2.merges.to_pylist() == [{"old_person_id": max(ids1["p1"], ids1["p2"]), "surviving_person_id": survivor}]
    # Day 3: p3's person vanishes from the links; ids of the others stay; a new id is never a reused one.
    day3 = stitch(_links([(("tmall_ouid", "ou-1"), ("phone_sha256", "p1")),
                          (("jd_pin", "jd-2"), ("tmall_ouid", "ou-1")),
                          (("weibo_uid", "w-5"), ("phone_sha256", "p5"))]),
                  previous=day2.persons, mode="rebuild", next_person_id=day2.report["next_person_id"])
    ids3 = {r["id_value"]: r["person_id"] for r in day3.persons.to_pylist()}
    assert ids3["p1"] == survivor and "p3" not in ids3
    assert ids3["p5"] not in set(ids1.values()) | set(ids2.values())
    assert day3.report["persons_vanished"] >= 1


def test_incremental_run_equals_a_full_rebuild() -> None:
    base = [(("tmall_ouid", f"ou-{i}"), ("phone_sha256", f"ph-{i // 2}")) for i in range(200)]
    today = [(("jd_pin", f"jd-{i}"), ("phone_sha256", f"ph-{i}")) for i in range(0, 100, 7)]
    first = stitch(_links(base), mode="rebuild")
    incremental = stitch(_links(today), previous=first.persons, next_person_id=first.report["next_person_id"])
    full = stitch(_links(base + today), previous=first.persons, mode="rebuild",
                  next_person_id=first.report["next_person_id"])
    assert _partition(incremental.persons) == _partition(full.persons)
    assert incremental.persons.equals(full.persons)


def test_polars_links_give_the_same_persons_as_pyarrow() -> None:
    import polars as pl

    pairs = [(("douyin_openid", f"o{i}"), ("douyin_unionid", f"u{i % 7}")) for i in range(40)]
    assert stitch(pl.from_arrow(_links(pairs))).persons.equals(stitch(_links(pairs)).persons)


def test_same_input_gives_identical_output() -> None:
    pairs = [(("douyin_openid", f"o{i}"), ("douyin_unionid", f"u{i % 37}")) for i in range(500)]
    a, b = stitch(_links(pairs)), stitch(_links(pairs))
    assert a.persons.equals(b.persons) and a.cuts.equals(b.cuts) and a.report == b.report


def test_bad_input_gives_clear_errors() -> None:
    with pytest.raises(InvalidInputError, match="lacks columns"):
        stitch(pa.table({"left_type": ["a"], "left_value": ["x"]}))
    wrong_type = pa.table({"left_type": ["jd_pin"], "left_value": [12345], "right_type": ["oaid"], "right_value": ["d"]})
    with pytest.raises(InvalidInputError, match="left_value"):
        stitch(wrong_type)
    with pytest.raises(InvalidInputError, match="kuaishou_id"):
        stitch(_links([(("kuaishou_id", "k1"), ("oaid", "dev-1"))]), allowed_types=["oaid", "jd_pin"])
    with pytest.raises(InvalidInputError, match="max_component_size"):
        stitch(_links([(("jd_pin", "a1"), ("oaid", "dev-1"))]), max_component_size=0)


def test_nulls_and_empty_values_are_counted_not_linked() -> None:
    links = pa.table({"left_type": ["jd_pin", "jd_pin", None], "left_value": ["jd-1", "", "jd-3"],
                      "right_type": ["oaid", "oaid", "oaid"], "right_value": [None, "dev-2", "dev-3"]})
    result = stitch(links)
    assert result.report["links_cut"]["invalid"] == 3
    invalid = result.report["invalid_sides"]
    assert invalid["null_value"] == 1 and invalid["empty_value"] == 1 and invalid["null_type"] == 1


def _pairs(groups: set[frozenset[tuple[str, str]]]) -> set[frozenset[tuple[str, str]]]:
    return {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}


def test_demo_world_is_stitched_with_high_precision_and_recall() -> None:
    world = build_world(WorldConfig(seed=13, persons=600))
    links = world.tables["identity_links"]
    result = stitch(links)
    truth = {(r["id_type"], r["id_value"]): r["person_id"] for r in world.truth["truth_identities"].to_pylist()}
    predicted = _pairs(_partition(result.persons))
    assert predicted, "nothing was stitched"
    # Precision: predicted same-person pairs that really are one person.
    precision = sum(1 for p in predicted if len({truth.get(i) for i in p}) == 1) / len(predicted)
    # Recall: of the same-person pairs the genuine links reveal (the planted
    # test-phone links are not genuine), how many were recovered.
    genuine = [((r["left_type"], r["left_value"]), (r["right_type"], r["right_value"])) for r in links.to_pylist()]
    genuine = [(a, b) for a, b in genuine if a in truth and b in truth and truth[a] == truth[b]]
    revealed = _pairs(_scipy_partition(genuine))
    recall = len(revealed & predicted) / len(revealed)
    assert precision >= 0.99, precision
    assert recall >= 0.95, recall


def test_stitch_command_writes_its_outputs_and_keeps_ids_on_the_next_day(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import subprocess
    import sys

    import pyarrow.parquet as pq

    day1 = tmp_path / "day1.parquet"
    pq.write_table(_links([(("tmall_ouid", "ou-1"), ("phone_sha256", "p1")),
                           (("jd_pin", "jd-2"), ("phone_sha256", "p2"))]), day1)
    cmd = [sys.executable, "-m", "omniplug.cli", "stitch"]
    subprocess.run([*cmd, str(day1), "--out", str(tmp_path / "s1"), "--max-ids", "phone_sha256=2"], check=True,
                   capture_output=True)
    for name in ("persons", "merges", "splits", "cuts"):
        assert (tmp_path / "s1" / f"{name}.parquet").exists()
    report = json.loads((tmp_path / "s1" / "stitch_report.json").read_text())
    assert report["components"] == 2
    day2 = tmp_path / "day2.parquet"
    pq.write_table(_links([(("xhs_user_id", "x-3"), ("phone_sha256", "p3"))]), day2)
    subprocess.run([*cmd, str(day2), "--previous", str(tmp_path / "s1" / "persons.parquet"),
                    "--out", str(tmp_path / "s2")], check=True, capture_output=True)
    before = {r["id_value"]: r["person_id"] for r in pq.read_table(tmp_path / "s1" / "persons.parquet").to_pylist()}
    after = {r["id_value"]: r["person_id"] for r in pq.read_table(tmp_path / "s2" / "persons.parquet").to_pylist()}
    assert {k: after[k] for k in before} == before
    assert after["p3"] not in before.values()

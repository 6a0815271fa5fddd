"""Daily incremental stitching equals a rebuild: arrival cap order and carried hubs.

Each day, ``stitch(today, previous=yesterday.persons, previous_cuts=yesterday.cuts,
mode="incremental", cap_order="arrival")`` is compared with a rebuild over all
links so far (same settings, yesterday's rebuild persons lending ids) and,
for the partition, with a small independent Python reference of the guarded
stitch in arrival order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from omniplug.cli import cli
from omniplug.errors import InvalidInputError
from omniplug.identity import StitchResult, _config_json, stitch

Link = tuple[str, str, str, str]
Ident = tuple[str, str]

#: Tight guardrails so hubs and both caps fire on small inputs.
GUARDS: dict[str, Any] = {
    "hub_degree": 20,
    "max_component_size": 8,
    "max_ids_per_type": {"phone_sha256": 2, "member_id": 3},
}
HUB: Ident = ("phone_sha256", "test-phone-13800138000")


def _table(links: list[Link], t0: int) -> pa.Table:
    """Links observed at t0, t0+1, ... in list order (strictly increasing)."""
    cols = list(zip(*links, strict=True)) if links else [(), (), (), ()]
    return pa.table({
        "left_type": pa.array(cols[0], pa.string()), "left_value": pa.array(cols[1], pa.string()),
        "right_type": pa.array(cols[2], pa.string()), "right_value": pa.array(cols[3], pa.string()),
        "observed_at": pa.array(range(t0, t0 + len(links)), pa.int64()),
    })


def _rows(result: StitchResult) -> list[tuple[str, str, int]]:
    """Persons as sorted (id_type, id_value, person_id) rows: partition and ids at once."""
    p = result.persons
    return sorted(zip(*(p.column(c).to_pylist() for c in ("id_type", "id_value", "person_id")), strict=True))


def _partition(result: StitchResult) -> set[frozenset[Ident]]:
    groups: dict[int, set[Ident]] = {}
    for t, v, pid in _rows(result):
        groups.setdefault(pid, set()).add((t, v))
    return {frozenset(g) for g in groups.values()}


def _reference(links: list[Link], guards: dict[str, Any]) -> set[frozenset[Ident]]:
    """Independent guarded stitch in arrival order (links already in arrival order).

    Hubs (more distinct partners than hub_degree) belong to no person; the
    other links are joined first come, first served, and a link that would
    break max_component_size or a per-type cap is cut.
    """
    partners: dict[Ident, set[Ident]] = {}
    for lt, lv, rt, rv in links:
        partners.setdefault((lt, lv), set()).add((rt, rv))
        partners.setdefault((rt, rv), set()).add((lt, lv))
    hubs = {i for i, p in partners.items() if len(p) > guards["hub_degree"]}
    # Every other identifier is a person, if only alone (its links all cut).
    parent: dict[Ident, Ident] = {i: i for i in partners if i not in hubs}
    members: dict[Ident, list[Ident]] = {i: [i] for i in parent}

    def find(x: Ident) -> Ident:
        while parent[x] != x:
            x = parent[x]
        return x

    for lt, lv, rt, rv in links:
        a, b = (lt, lv), (rt, rv)
        if a in hubs or b in hubs:
            continue
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        joined = members[ra] + members[rb]
        caps = guards["max_ids_per_type"]
        if len(joined) > guards["max_component_size"] or any(
            sum(1 for t, _ in joined if t == typ) > cap for typ, cap in caps.items()
        ):
            continue
        parent[rb], members[ra] = ra, joined
        del members[rb]
    return {frozenset(m) for m in members.values()}


def _run_days(days: list[list[Link]], guards: dict[str, Any], carry: bool = True
              ) -> list[tuple[StitchResult, StitchResult, list[Link]]]:
    """Per day: (incremental result, rebuild result, all links so far)."""
    out = []
    inc = reb = None
    so_far: list[Link] = []
    for d, today in enumerate(days):
        t0 = 1_000_000 * (d + 1)
        prev_inc: dict[str, Any] = {} if inc is None else {
            "previous": inc.persons, "next_person_id": inc.report["next_person_id"],
            "previous_cuts": inc.cuts if carry else None}
        inc = stitch(_table(today, t0), mode="incremental", cap_order="arrival", **prev_inc, **guards)
        # The rebuild sees every day's links with their own timestamps.
        all_tables = [_table(day, 1_000_000 * (k + 1)) for k, day in enumerate(days[: d + 1])]
        prev_reb: dict[str, Any] = {} if reb is None else {
            "previous": reb.persons, "next_person_id": reb.report["next_person_id"]}
        reb = stitch(pa.concat_tables(all_tables), mode="rebuild", cap_order="arrival", **prev_reb, **guards)
        so_far = so_far + today
        out.append((inc, reb, list(so_far)))
    return out


def _planted_days() -> list[list[Link]]:
    """Three days: a test phone hub, persons hitting the phone and member caps, merges across days."""
    h_t, h_v = HUB
    day1: list[Link] = [(h_t, h_v, "member_id", f"mem-{i:03d}") for i in range(150)]
    day1 += [("member_id", f"mem-{i:03d}", "jd_pin", f"pin-{i:03d}") for i in range(10)]
    # Person A: member with two phones (the phone cap), person B: two members.
    day1 += [("member_id", "mem-a1", "phone_sha256", "ph-a1"), ("member_id", "mem-a1", "phone_sha256", "ph-a2"),
             ("member_id", "mem-b1", "jd_pin", "pin-b1"), ("member_id", "mem-b2", "jd_pin", "pin-b1")]
    day2: list[Link] = [(h_t, h_v, "member_id", f"new2-{i}") for i in range(4)]
    day2 += [(h_t, h_v, "member_id", "mem-a1"),           # the hub touching a real person
             ("member_id", "mem-a1", "phone_sha256", "ph-a3"),   # third phone: over the phone cap
             ("tmall_ouid", "ou-ab", "member_id", "mem-a1"),     # A and B merge across days
             ("tmall_ouid", "ou-ab", "member_id", "mem-b1"),
             ("member_id", "mem-005", "jd_pin", "pin-006")]      # two day-1 persons merge
    day3: list[Link] = [(h_t, h_v, "member_id", f"new3-{i}") for i in range(3)]
    day3 += [("member_id", "mem-c1", "tmall_ouid", "ou-ab"),       # a fourth member: over the member cap
             ("phone_sha256", "ph-a3", "jd_pin", "pin-c3"),       # cut yesterday, links anew today
             ("member_id", "mem-007", "member_id", "mem-008"),
             ("member_id", "mem-008", "member_id", "mem-009")]
    return [day1, day2, day3]


def test_three_daily_runs_equal_the_rebuild_each_day() -> None:
    for d, (inc, reb, so_far) in enumerate(_run_days(_planted_days(), GUARDS), start=1):
        assert _rows(inc) == _rows(reb), f"day {d}: persons and ids"
        assert _partition(reb) == _reference(so_far, GUARDS), f"day {d}: reference"
        assert HUB not in {(t, v) for t, v, _ in _rows(inc)}, f"day {d}: the hub joined a person"
    # The caps and merges really fired (else the test proves little).
    assert reb.report["links_cut"]["max_ids_per_type"] >= 2
    assert inc.report["hubs_carried"] == 1
    pid = {(t, v): p for t, v, p in _rows(inc)}
    assert pid[("member_id", "mem-a1")] == pid[("member_id", "mem-b2")] == pid[("tmall_ouid", "ou-ab")]
    assert ("member_id", "mem-c1") not in pid or pid[("member_id", "mem-c1")] != pid[("member_id", "mem-a1")]
    assert pid[("phone_sha256", "ph-a3")] == pid[("jd_pin", "pin-c3")] != pid[("member_id", "mem-a1")]


def test_without_carried_cuts_the_hub_joins_a_person() -> None:
    runs = _run_days(_planted_days(), GUARDS, carry=False)
    inc, reb, _ = runs[1]
    members = {(t, v) for t, v, _ in _rows(inc)}
    assert HUB in members  # five partners today: below hub_degree without yesterday's cut
    assert _partition(inc) != _partition(reb)
    assert "hubs_carried" not in inc.report


def test_carried_hubs_survive_a_day_the_hub_is_absent() -> None:
    days = _planted_days()
    days[1] = [link for link in days[1] if HUB not in ((link[0], link[1]), (link[2], link[3]))]
    runs = _run_days(days, GUARDS)
    day2_hubs = runs[1][0].cuts.filter(pa.compute.equal(runs[1][0].cuts.column("rule"), "hub"))
    assert day2_hubs.column("id_value").to_pylist() == [HUB[1]]
    assert day2_hubs.column("detail").to_pylist() == ["carried from an earlier run"]
    inc, reb, _ = runs[2]
    assert _rows(inc) == _rows(reb)
    assert HUB not in {(t, v) for t, v, _ in _rows(inc)}


@st.composite
def _daily_graphs(draw: st.DrawFn) -> tuple[list[list[Link]], dict[str, Any]]:
    """Random small graphs over three days, sometimes a hub planted on one day."""
    n_ids = draw(st.integers(4, 18))
    types = ("member_id", "jd_pin", "phone_sha256")
    ids = [(types[i % 3], f"v{i:02d}x") for i in range(n_ids)]
    pair = st.tuples(st.sampled_from(ids), st.sampled_from(ids)).filter(lambda p: p[0] != p[1])
    days = [[(a[0], a[1], b[0], b[1]) for a, b in draw(st.lists(pair, max_size=10))] for _ in range(3)]
    guards: dict[str, Any] = {"hub_degree": draw(st.integers(3, 6)), "max_component_size": draw(st.integers(3, 8)),
              "max_ids_per_type": {"phone_sha256": draw(st.integers(1, 2)), "member_id": draw(st.integers(1, 3))}}
    if draw(st.booleans()):
        day = draw(st.integers(0, 2))
        hub_links = [("oaid", "hub-dev", t, v) for t, v in ids[: guards["hub_degree"] + 1]]
        days[day] += hub_links
        for later in range(day + 1, 3):
            days[later] += [("oaid", "hub-dev", "member_id", f"late{later}")]
    return days, guards


def _hubs_agree(days: list[list[Link]], hub_degree: int) -> bool:
    """The conditions on hubs under which a daily run can equal the rebuild.

    Each day the hubs of the daily runs (today's distinct partners, carried
    hubs counted: they stay identifiers, cut as hubs) must be the rebuild's
    (distinct partners over all days), and a new hub must have had no links
    on earlier days (the daily run cannot undo yesterday's joins).
    """
    so_far: dict[Ident, set[Ident]] = {}
    carried: set[Ident] = set()
    for today in days:
        partners: dict[Ident, set[Ident]] = {}
        for lt, lv, rt, rv in today:
            partners.setdefault((lt, lv), set()).add((rt, rv))
            partners.setdefault((rt, rv), set()).add((lt, lv))
        new = {i for i, p in partners.items() if i not in carried and len(p) > hub_degree}
        if any(i in so_far for i in new):
            return False
        for i, p in partners.items():
            so_far.setdefault(i, set()).update(p)
        carried |= new
        if carried != {i for i, p in so_far.items() if len(p) > hub_degree}:
            return False
    return True


def test_a_new_hub_counts_its_link_to_an_old_hub_as_the_rebuild_does() -> None:
    # Day 1: dev-x1 links four members (hub_degree 3): a hub. Day 2: dev-y2
    # links dev-x1 and three new members: four partners, a hub in the rebuild,
    # so the daily run must count the carried hub as a partner too.
    day1 = [("oaid", "dev-x1", "member_id", f"m{i}a") for i in range(4)]
    day2 = [("oaid", "dev-y2", "oaid", "dev-x1")] + [("oaid", "dev-y2", "member_id", f"n{i}b") for i in range(3)]
    guards = {"hub_degree": 3, "cap_order": "arrival"}
    first = stitch(_table(day1, 0), **guards)
    daily = stitch(_table(day2, 100), previous=first.persons, previous_cuts=first.cuts,
                   next_person_id=first.report["next_person_id"], **guards)
    rebuild = stitch(pa.concat_tables([_table(day1, 0), _table(day2, 100)]), previous=first.persons,
                     mode="rebuild", next_person_id=first.report["next_person_id"], **guards)
    assert _partition(daily) == _partition(rebuild)
    hubs = {r["id_value"]: r["detail"] for r in daily.cuts.to_pylist() if r["rule"] == "hub"}
    assert hubs == {"dev-x1": "degree=1 threshold=3 carried", "dev-y2": "degree=4 threshold=3"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_daily_graphs())
def test_property_incremental_equals_rebuild_in_arrival_order(
        case: tuple[list[list[Link]], dict[str, Any]]) -> None:
    days, guards = case
    assume(_hubs_agree(days, guards["hub_degree"]))
    for d, (inc, reb, so_far) in enumerate(_run_days(days, guards), start=1):
        assert _partition(inc) == _partition(reb), f"day {d}"
        assert _rows(inc) == _rows(reb), f"day {d}: ids"
        assert _partition(reb) == _reference(so_far, guards), f"day {d}: reference"
        for rule, n in reb.report["links_cut"].items():
            if n:
                event(f"day {d}: {rule} cut links")


def _write(path: Path, links: list[Link], t0: int) -> Path:
    pq.write_table(_table(links, t0), path)
    return path


def test_cli_cap_order_and_automatic_hub_carry(tmp_path: Path) -> None:
    days = _planted_days()
    runner = CliRunner()
    guard_args = ["--hub-degree", "20", "--max-component-size", "8",
                  "--max-ids", "phone_sha256=2", "--max-ids", "member_id=3", "--cap-order", "arrival"]
    d1 = runner.invoke(cli, ["stitch", str(_write(tmp_path / "l1.parquet", days[0], 1_000_000)),
                             "--out", str(tmp_path / "day1"), *guard_args])
    assert d1.exit_code == 0, d1.output
    l2 = str(_write(tmp_path / "l2.parquet", days[1], 2_000_000))
    prev = str(tmp_path / "day1" / "persons.parquet")
    d2 = runner.invoke(cli, ["stitch", l2, "--previous", prev, "--out", str(tmp_path / "day2"), *guard_args])
    assert d2.exit_code == 0, d2.output
    assert "hubs carried" in d2.output
    persons = pq.read_table(tmp_path / "day2" / "persons.parquet")
    assert HUB[1] not in persons.column("id_value").to_pylist()
    assert json.loads((tmp_path / "day2" / "stitch_report.json").read_text())["hubs_carried"] == 1
    # Same as the API with the same settings: the CLI passed cap_order and the cuts.
    api = _run_days(days[:2], GUARDS)[1][0]
    assert sorted(persons.to_pylist(), key=str) == sorted(api.persons.to_pylist(), key=str)

    off = runner.invoke(cli, ["stitch", l2, "--previous", prev, "--out", str(tmp_path / "off"),
                              "--no-carry-hubs", *guard_args])
    assert off.exit_code == 0, off.output
    assert HUB[1] in pq.read_table(tmp_path / "off" / "persons.parquet").column("id_value").to_pylist()
    # A rebuild finds hubs itself: nothing carried.
    l12 = str(_write(tmp_path / "l12.parquet", days[0] + days[1], 1_000_000))
    reb = runner.invoke(cli, ["stitch", l12, "--previous", prev, "--rebuild", "--out", str(tmp_path / "reb"),
                              *guard_args])
    assert reb.exit_code == 0 and "hubs carried" not in reb.output, reb.output
    assert "hubs_carried" not in json.loads((tmp_path / "reb" / "stitch_report.json").read_text())
    # Day 3 in day 2's own folder: the hub rows day 2 carried are carried on.
    l3 = str(_write(tmp_path / "l3.parquet", days[2], 3_000_000))
    d3 = runner.invoke(cli, ["stitch", l3, "--previous", str(tmp_path / "day2" / "persons.parquet"),
                             "--out", str(tmp_path / "day2"), *guard_args])
    assert d3.exit_code == 0 and "hubs carried" in d3.output, d3.output
    day3 = pq.read_table(tmp_path / "day2" / "persons.parquet")
    assert sorted(day3.to_pylist(), key=str) == sorted(_run_days(days, GUARDS)[2][0].persons.to_pylist(), key=str)
    bad = runner.invoke(cli, ["stitch", l2, "--out", str(tmp_path / "bad"), "--cap-order", "newest"])
    assert bad.exit_code != 0 and "arrival" in bad.output


def test_cap_order_changes_which_link_a_cap_cuts() -> None:
    # An old weak link and a new trusted one compete for one phone slot.
    links = [("oaid", "dev-1a", "phone_sha256", "ph-old"), ("member_id", "mem-9z", "phone_sha256", "ph-new"),
             ("oaid", "dev-1a", "member_id", "mem-9z")]
    caps: dict[str, Any] = {"max_ids_per_type": {"phone_sha256": 1}}
    by = {order: _partition(stitch(_table(links, 1), cap_order=order, **caps)) for order in ("trust", "arrival")}
    assert by["trust"] != by["arrival"]
    assert any({("oaid", "dev-1a"), ("phone_sha256", "ph-old")} <= g for g in by["arrival"])


@pytest.mark.parametrize("bad, message", [
    ({"cap_order": "newest"}, "['trust', 'arrival']"),
    ({"mode": "daily"}, "['incremental', 'rebuild']"),
    ({"previous_cuts": pa.table({"rule": ["hub"], "id_value": ["x1"]})}, "['id_type']"),
    ({"previous_cuts": "not a table"}, "Arrow tabular data"),
])
def test_bad_input(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        stitch(_table([("member_id", "mem-1a", "jd_pin", "pin-1a")], 1), **bad)
    assert message in str(err.value)


def test_config_json_carries_known_hubs_only_for_hub_cuts() -> None:
    cuts = pa.table({"rule": ["hub", "blocked", "hub", "hub"], "id_type": ["phone_sha256", "oaid", "oaid", "oaid"],
                     "id_value": ["h1", "junk", "d2", "d2"]})
    config = json.loads(_config_json(previous_cuts=cuts, guardrails=False))
    assert config["known_hubs"] == [{"id_type": "phone_sha256", "value": "h1"}, {"id_type": "oaid", "value": "d2"}]
    assert config["block_rules"] == []  # nothing is blocked without guardrails
    guarded = json.loads(_config_json(previous_cuts=cuts, cap_order="arrival"))
    assert guarded["cap_order"] == "arrival" and "block_rules" not in guarded  # the core's defaults apply


def test_pipeline_passes_cap_order_from_the_stitch_section(tmp_path: Path) -> None:
    from omniplug.config import load_pipeline
    from omniplug.pipeline_steps import run_stitch

    (tmp_path / "pipeline.toml").write_text(
        'output_dir = "out"\n[stitch]\ncap_order = "arrival"\nmax_ids_per_type = {phone_sha256 = 1}\n',
        encoding="utf-8")
    config = load_pipeline(tmp_path / "pipeline.toml", env={})
    out = tmp_path / "out"
    out.mkdir()
    links = [("oaid", "dev-1a", "phone_sha256", "ph-old"), ("member_id", "mem-9z", "phone_sha256", "ph-new"),
             ("oaid", "dev-1a", "member_id", "mem-9z")]
    pq.write_table(_table(links, 1), out / "identity_links.parquet")
    assert "persons" in run_stitch(out, config, {"identity_links"})
    got = sorted(pq.read_table(out / "persons.parquet").to_pylist(), key=str)
    caps: dict[str, Any] = {"max_ids_per_type": {"phone_sha256": 1}}
    assert got == sorted(stitch(_table(links, 1), mode="rebuild", cap_order="arrival", **caps).persons.to_pylist(),
                         key=str)
    assert got != sorted(stitch(_table(links, 1), mode="rebuild", **caps).persons.to_pylist(), key=str)

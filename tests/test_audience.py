"""Audience export: selection, hashing rules, file formats (Ocean Engine protobuf decoded independently), CLI."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import omniplug
import omniplug.cli.audience  # noqa: F401  (registers the commands on the CLI group)
from omniplug.audience import audience_table, export_audiences
from omniplug.audience_formats import FORMATS, dmp_data_line
from omniplug.cli import cli
from omniplug.errors import InvalidInputError
from omniplug.world import WorldConfig, build_world

HEX64 = re.compile(r"^[0-9a-f]{64}$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


PHONE_A, PHONE_B = "13800138000", "13912345678"
IDFA = "ff1999cd-7177-4937-a474-74937a102630"


def small() -> tuple[pa.Table, pa.Table]:
    """aipl and persons: person 1 (I) has everything, 2 (P) a phone with junk around it, 3 (A) nothing uploadable."""
    persons = pa.table({
        "id_type": ["phone_sha256", "phone_md5", "oaid", "idfa", "douyin_openid",
                    "phone_sha256", "phone_sha256", "oaid", "oaid", "tmall_ouid"],
        "id_value": [sha(PHONE_A).upper(), md5(PHONE_A), "a1b2c3d4e5f60718", IDFA, "_000openid",
                     sha(PHONE_B), PHONE_B, "00000000-0000-0000-0000-000000000000", "unknown", "ou123"],
        "person_id": pa.array([1, 1, 1, 1, 1, 2, 2, 2, 2, 3], pa.int64()),
    })
    aipl = pa.table({"person_id": pa.array([1, 2, 3], pa.int64()), "stage": ["I", "P", "A"],
                     "as_of": pa.array([date(2026, 10, 30)] * 3, pa.date32())})
    return aipl, persons


def test_audience_table_by_hand() -> None:
    aipl, persons = small()
    got = audience_table(aipl, persons, platform="douyin", stages=["I", "P"]).to_pylist()
    phones = sorted([(1, "I", sha(PHONE_A)), (2, "P", sha(PHONE_B))], key=lambda r: r[2])
    assert got == [  # grouped by type in the platform's order, sorted by value
        *({"person_id": p, "stage": s, "upload_type": "MOBILE_HASH_SHA256", "id_value": v} for p, s, v in phones),
        {"person_id": 1, "stage": "I", "upload_type": "OAID_MD5", "id_value": md5("a1b2c3d4e5f60718")},
        # IDFA is upper-cased before hashing (the convention DMPs document).
        {"person_id": 1, "stage": "I", "upload_type": "IDFA_MD5", "id_value": md5(IDFA.upper())},
    ]
    tmall = audience_table(aipl, persons, platform="tmall", stages=["I"]).to_pylist()
    assert {(r["upload_type"], r["id_value"]) for r in tmall} == {
        ("phone_md5", md5(PHONE_A)), ("phone_sha256", sha(PHONE_A)), ("OAID_MD5", md5("a1b2c3d4e5f60718")),
        ("IDFA_MD5", md5(IDFA.upper()))}
    # Segments narrow the stages, or stand alone.
    seg = pa.table({"person_id": [2, 3]})
    assert {r["person_id"] for r in audience_table(aipl, persons, platform="jd", stages=["I", "P"],
                                                    segment=seg).to_pylist()} == {2}
    alone = audience_table(None, persons, platform="jd", segment=pa.table({"person_id": [1]}))
    assert set(alone.column("stage").to_pylist()) == {None} and alone.num_rows == 4


def test_a_shared_id_is_written_once_for_the_lowest_person() -> None:
    persons = pa.table({"id_type": ["oaid", "oaid", "oaid"], "id_value": ["dev-b", "dev-a", "dev-a"],
                        "person_id": pa.array([7, 9, 4], pa.int64())})
    aipl = pa.table({"person_id": pa.array([4, 7, 9], pa.int64()), "stage": ["I", "I", "P"]})
    got = audience_table(aipl, persons, platform="jd").to_pylist()
    assert sorted((r["person_id"], r["id_value"]) for r in got) == sorted([(4, md5("dev-a")), (7, md5("dev-b"))])
    assert [r["id_value"] for r in got] == sorted(r["id_value"] for r in got)


def test_raw_phones_and_placeholders_are_never_written(tmp_path: Path) -> None:
    aipl, persons = small()
    result = export_audiences(aipl, persons, platform="weibo", stages=["P"], out_dir=tmp_path)
    manifest = json.loads(result.manifest.read_text()) if result.manifest else {}
    # The raw phone in a phone_sha256 column and both placeholder OAIDs are skipped and counted.
    assert manifest["skipped"] == {"phone_sha256": 1, "oaid": 2}
    assert (manifest["persons"], manifest["reached"]) == (1, 1)
    for f in result.folder.iterdir():
        assert PHONE_B.encode() not in f.read_bytes()
    assert (result.folder / "phone_sha256.txt").read_text() == sha(PHONE_B) + "\n"


def test_text_files_are_one_lowercase_hash_per_line_split_by_max_lines(tmp_path: Path) -> None:
    persons = pa.table({"id_type": ["phone_sha256"] * 5, "id_value": [sha(str(i)) for i in range(5)],
                        "person_id": pa.array(range(5), pa.int64())})
    aipl = pa.table({"person_id": pa.array(range(5), pa.int64()), "stage": ["I"] * 5})
    result = export_audiences(aipl, persons, platform="xiaohongshu", stages=["I"], out_dir=tmp_path, max_lines=2)
    names = [f.path.name for f in result.files]
    assert names == ["phone_sha256-part1.txt", "phone_sha256-part2.txt", "phone_sha256-part3.txt"]
    lines = [line for f in result.files for line in f.path.read_text().split("\n")[:-1]]
    assert lines == sorted(sha(str(i)) for i in range(5))
    assert [f.ids for f in result.files] == [2, 2, 1]
    for f in result.files:
        assert f.path.read_bytes().endswith(b"\n") and b"\r" not in f.path.read_bytes()
        assert f.md5 == hashlib.md5(f.path.read_bytes()).hexdigest()
    # A rerun with fewer parts leaves no stale part behind.
    again = export_audiences(aipl, persons, platform="xiaohongshu", stages=["I"], out_dir=tmp_path)
    assert sorted(p.name for p in again.folder.glob("*.txt")) == ["phone_sha256.txt"]


# -- Ocean Engine's protobuf upload, decoded independently -----------------------------------------


def varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7


def decode_dmp_data(line: bytes) -> list[tuple[int, str]]:
    """(dataType, id) of every IdItem of one base64 DmpData line (proto2 wire format, by hand)."""
    raw, items, i = base64.b64decode(line, validate=True), [], 0
    while i < len(raw):
        assert raw[i] == 0x0A  # field 1 (idList), length-delimited
        size, i = varint(raw, i + 1)
        item, i, j = raw[i:i + size], i + size, 0
        fields: dict[int, object] = {}
        while j < len(item):
            key, j = varint(item, j)
            if key & 7 == 0:
                fields[key >> 3], j = varint(item, j)
            else:
                n, j = varint(item, j)
                fields[key >> 3], j = item[j:j + n].decode(), j + n
        items.append((int(fields[2]), str(fields[3])))  # type: ignore[call-overload]
    return items


def test_dmp_data_line_wire_format() -> None:
    line = dmp_data_line(6, ["ab", "c"])
    # IdItem {dataType: 6, id: "ab"} = 10 06 1a 02 61 62, wrapped as field 1.
    assert base64.b64decode(line) == bytes.fromhex("0a06" "1006" "1a026162" "0a05" "1006" "1a0163")
    assert decode_dmp_data(line) == [(6, "ab"), (6, "c")]
    with pytest.raises(ValueError, match="at most 10000"):
        dmp_data_line(6, ["x"] * 10_001)


def test_ocean_engine_zip_holds_10000_ids_per_line(tmp_path: Path) -> None:
    n = 25_001
    persons = pa.table({"id_type": ["phone_sha256"] * n, "id_value": [sha(f"p{i}") for i in range(n)],
                        "person_id": pa.array(range(n), pa.int64())})
    aipl = pa.table({"person_id": pa.array(range(n), pa.int64()), "stage": ["I"] * n})
    result = export_audiences(aipl, persons, platform="douyin", stages=["I"], out_dir=tmp_path)
    zips = [f for f in result.files if f.path.suffix == ".zip"]
    assert [f.path.name for f in zips] == ["dmp-MOBILE_HASH_SHA256.zip"] and zips[0].ids == n
    with zipfile.ZipFile(zips[0].path) as archive:
        assert archive.namelist() == ["MOBILE_HASH_SHA256.txt"]
        lines = archive.read("MOBILE_HASH_SHA256.txt").split(b"\n")
    assert lines[-1] == b""
    decoded = [decode_dmp_data(line) for line in lines[:-1]]
    assert [len(d) for d in decoded] == [10_000, 10_000, 5_001]
    assert {code for d in decoded for code, _ in d} == {6}  # MOBILE_HASH_SHA256
    ids = [value for d in decoded for _, value in d]
    assert ids == (result.folder / "MOBILE_HASH_SHA256.txt").read_text().split()
    assert all(HEX64.match(v) for v in ids)
    # Byte-identical reruns (fixed zip timestamps): the MD5 is a stable file_signature.
    again = export_audiences(aipl, persons, platform="douyin", stages=["I"], out_dir=tmp_path / "again")
    assert [f.md5 for f in again.files] == [f.md5 for f in result.files]


# -- the synthetic world, against a plain-Python reference -----------------------------------------


@pytest.fixture(scope="module")
def world_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    world = build_world(WorldConfig(persons=300))
    out = tmp_path_factory.mktemp("pipeline")
    persons = omniplug.stitch(world.tables["identity_links"]).persons
    aipl = omniplug.aipl(world.tables["touchpoints"], world.tables["orders"], persons=persons,
                         as_of=date(2026, 10, 30))
    for name, table in {"persons": persons, "aipl": aipl}.items():
        pq.write_table(table, out / f"{name}.parquet")
    return out, world


def reference(persons: pa.Table, aipl: pa.Table, platform: str, stages: set[str]) -> set[tuple[str, str]]:
    """(upload type, value) pairs, from the rules written out independently of the module."""
    chosen = {r["person_id"] for r in aipl.to_pylist() if r["stage"] in stages}
    rules = {"douyin": {"phone_sha256": "MOBILE_HASH_SHA256", "oaid": "OAID_MD5", "idfa": "IDFA_MD5"}}.get(
        platform, {"phone_sha256": "phone_sha256", "phone_md5": "phone_md5", "oaid": "OAID_MD5", "idfa": "IDFA_MD5"})
    out = set()
    for r in persons.to_pylist():
        if r["person_id"] in chosen and r["id_type"] in rules:
            value = r["id_value"]
            if r["id_type"] == "oaid":
                value = md5(value)
            elif r["id_type"] == "idfa":
                value = md5(value.upper())
            out.add((rules[r["id_type"]], value.lower()))
    return out


@pytest.mark.parametrize("platform", sorted(FORMATS))
def test_world_audiences_match_the_reference_and_hold_no_phone(world_out: tuple[Path, object], tmp_path: Path,
                                                               platform: str) -> None:
    out, world = world_out
    persons, aipl = pq.read_table(out / "persons.parquet"), pq.read_table(out / "aipl.parquet")
    result = export_audiences(aipl, persons, platform=platform, stages=["I", "P"], out_dir=tmp_path)
    written = set()
    for f in result.files:
        if f.path.suffix == ".txt":
            written |= {(f.upload_type, line) for line in f.path.read_text().split()}
    assert written == reference(persons, aipl, platform, {"I", "P"})
    assert written, "the world's interested and purchasing persons hold hashed phones"
    phones = [p.phone.encode() for p in world.people]  # type: ignore[attr-defined]
    for f in result.folder.iterdir():
        data = f.read_bytes()
        assert not any(phone in data for phone in phones), f"a raw phone in {f.name}"
        if f.suffix == ".txt":
            assert all(HEX64.match(x) or HEX32.match(x) for x in data.decode().split())


def test_errors_say_what_to_fix() -> None:
    aipl, persons = small()
    with pytest.raises(InvalidInputError, match="no audience upload format for platform 'kuaishou'"):
        audience_table(aipl, persons, platform="kuaishou", stages=["I"])
    with pytest.raises(InvalidInputError, match="stages must be among"):
        audience_table(aipl, persons, platform="jd", stages=["X"])
    with pytest.raises(InvalidInputError, match="persons= .* is needed"):
        audience_table(aipl, None, platform="jd", stages=["I"])
    with pytest.raises(InvalidInputError, match="person_id column"):
        audience_table(None, persons, platform="jd", segment=pa.table({"who": [1]}))


def test_audience_command(world_out: tuple[Path, object]) -> None:
    out, _ = world_out
    runner = CliRunner()
    res = runner.invoke(cli, ["audience", str(out), "--platform", "douyin", "--platform", "tmall", "--stage", "P"])
    assert res.exit_code == 0, res.output
    assert "douyin:" in res.output and "tmall:" in res.output
    manifest = json.loads((out / "audiences" / "douyin" / "aipl-P" / "manifest.json").read_text())
    assert manifest["format_documented"] is True and manifest["stages"] == ["P"] and manifest["as_of"] == "2026-10-30"
    sql = "select person_id from aipl where stage in ('P', 'L')"
    res = runner.invoke(cli, ["audience", str(out), "--platform", "jd", "--sql", sql, "--name", "buyers"])
    assert res.exit_code == 0, res.output
    by_sql = (out / "audiences" / "jd" / "buyers" / "phone_sha256.txt").read_text().split()
    aipl, persons = pq.read_table(out / "aipl.parquet"), pq.read_table(out / "persons.parquet")
    assert {("phone_sha256", v) for v in by_sql} == {
        x for x in reference(persons, aipl, "jd", {"P", "L"}) if x[0] == "phone_sha256"}
    res = runner.invoke(cli, ["audience", str(out), "--platform", "jd"])
    assert res.exit_code == 2 and "choose people with --stage, --sql or --segment" in res.output
    res = runner.invoke(cli, ["audience", str(out), "--platform", "jd", "--sql", "select 1 as x"])
    assert res.exit_code == 2 and "must return a person_id column" in res.output

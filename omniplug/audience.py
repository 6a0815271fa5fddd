"""Audience export: the people of an AIPL stage (or any segment) as platform upload files.

A brand re-targets the people it already knows: the *interested* (I) of
last month on Douyin, its *purchasers* (P) on Tmall, a hand-made segment
anywhere. Each platform's audience (DMP) upload takes only identifiers the
platform can match against its own users: hashed phones, hashed device ids.
:func:`export_audiences` takes the people (AIPL stages from
:func:`omniplug.aipl`, and/or a ``segment`` table of ``person_id`` s),
looks up every identifier each person holds in ``persons`` (from
:func:`omniplug.stitch`), keeps the types the platform accepts, derives the
uploadable form, and writes the files the platform takes
(:mod:`omniplug.audience_formats` says which, and whether that is
documented or assumed), with a ``manifest.json`` of counts and checksums.
:func:`audience_table` returns the same identifiers as an Arrow table, for
an ETL job that uploads through its own client.

Only hashed identifiers ever leave: phones exist in omniplug only as
``phone_sha256`` / ``phone_md5`` digests, device ids are MD5-hashed here,
and a value that is not a well-formed digest is skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from omniplug.audience_formats import (
    FORMATS,
    OCEAN_IDS_PER_ZIP,
    AudienceFormat,
    derive_ids,
    write_ocean_engine_zips,
    write_text_parts,
)
from omniplug.errors import InvalidInputError

__all__ = ["STAGES", "AudienceFile", "AudienceExport", "audience_table", "export_audiences", "FORMATS"]

#: AIPL stages, lowest first.
STAGES = ("A", "I", "P", "L")
# ASCII code -> hex digit value (only 0-9 and a-f occur in validated digests).
_NIBBLE = np.zeros(256, np.uint8)
_NIBBLE[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)
_TABLE_SCHEMA = pa.schema([("person_id", pa.int64()), ("stage", pa.string()), ("upload_type", pa.string()),
                           ("id_value", pa.string())])


@dataclass(frozen=True)
class AudienceFile:
    """One written file.

    Attributes:
        path: the file.
        upload_type: the identifier type it holds (``MOBILE_HASH_SHA256``, ``phone_md5``...).
        ids: identifiers in it.
        md5: MD5 of the file (Ocean Engine's ``file_signature``), lower-case hex.
    """

    path: Path
    upload_type: str
    ids: int
    md5: str


@dataclass
class AudienceExport:
    """What :func:`export_audiences` wrote.

    Attributes:
        folder: the audience's folder (``out_dir/<platform>/<name>``).
        persons: persons selected (before looking up identifiers).
        reached: persons with at least one uploadable identifier.
        files: the files, in the order written.
        skipped: per canonical id type, values skipped as malformed or placeholders.
        manifest: the ``manifest.json`` describing all of it.
    """

    folder: Path
    persons: int
    reached: int
    files: list[AudienceFile] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    manifest: Path | None = None


def _table(data: Any, what: str) -> pa.Table:
    try:
        return data if isinstance(data, pa.Table) else pa.table(data)
    except (TypeError, pa.ArrowInvalid) as exc:
        raise InvalidInputError(f"{what} must be an Arrow table (pyarrow, polars, DuckDB): {exc}") from None


def _format(platform: str) -> AudienceFormat:
    if platform not in FORMATS:
        raise InvalidInputError(f"no audience upload format for platform {platform!r}; known: {', '.join(FORMATS)}")
    return FORMATS[platform]


def _selected(aipl: Any, stages: Sequence[str] | None, segment: Any) -> pa.Table:
    """The selected rows of ``aipl`` (person_id, stage, and id_type/id_value when it has them)."""
    if aipl is None and segment is None:
        raise InvalidInputError("give aipl= (with stages=) or segment= (a table with a person_id column)")
    if stages is not None:
        bad = [s for s in stages if s not in STAGES]
        if bad or not stages:
            raise InvalidInputError(f"stages must be among {', '.join(STAGES)}, got {list(stages)}")
        if aipl is None:
            raise InvalidInputError("stages= needs the aipl table (from omniplug.aipl)")
    if aipl is None:
        people = _table(segment, "segment")
        if "person_id" not in people.column_names:
            raise InvalidInputError(f"segment needs a person_id column (has {people.column_names})")
        ids = pc.unique(people.column("person_id").cast(pa.int64()).drop_null())
        return pa.table({"person_id": ids, "stage": pa.nulls(len(ids), pa.string())})
    table = _table(aipl, "aipl")
    if "person_id" not in table.column_names or "stage" not in table.column_names:
        raise InvalidInputError(f"aipl needs person_id and stage columns (has {table.column_names})")
    keep = [c for c in ("person_id", "stage", "id_type", "id_value") if c in table.column_names]
    table = table.select(keep).set_column(0, "person_id", table.column("person_id").cast(pa.int64()))
    if stages is not None:
        table = table.filter(pc.is_in(table.column("stage"), pa.array(list(stages), pa.string())))
    if segment is not None:
        people = _table(segment, "segment")
        if "person_id" not in people.column_names:
            raise InvalidInputError(f"segment needs a person_id column (has {people.column_names})")
        table = table.filter(pc.is_in(table.column("person_id"), people.column("person_id").cast(pa.int64())))
    return table


def _identifiers(selected: pa.Table, persons: Any, sources: list[str]) -> pa.Table:
    """(person_id, stage, id_type, id_value) of the selected persons, for the wanted id types."""
    if "id_type" in selected.column_names and "id_value" in selected.column_names and persons is None:
        # aipl without person resolution: each row is one identifier already.
        rows = selected.select(["person_id", "stage", "id_type", "id_value"])
    else:
        if persons is None:
            raise InvalidInputError("persons= (from omniplug.stitch) is needed to find each person's identifiers")
        people = _table(persons, "persons")
        missing = [c for c in ("id_type", "id_value", "person_id") if c not in people.column_names]
        if missing:
            raise InvalidInputError(f"persons lacks columns {missing} (has {people.column_names})")
        people = pa.table({"person_id": people.column("person_id").cast(pa.int64()),
                           "id_type": people.column("id_type").cast(pa.string()),
                           "id_value": people.column("id_value").cast(pa.string())})
        people = people.filter(pc.is_in(people.column("id_type"), pa.array(sources, pa.string())))
        # Each selected person once (aipl has one stage per person): a hash lookup, not a join.
        at = pc.index_in(people.column("person_id"), selected.column("person_id"))
        hit = pc.is_valid(at)
        rows = pa.table({"person_id": people.column("person_id").filter(hit),
                         "stage": selected.column("stage").cast(pa.string()).take(at.filter(hit)),
                         "id_type": people.column("id_type").filter(hit),
                         "id_value": people.column("id_value").filter(hit)})
    return rows.filter(pc.is_in(rows.column("id_type"), pa.array(sources, pa.string())))


def _sorted_unique(piece: pa.Table) -> pa.Table:
    """``piece`` (one upload type) sorted by value, each value once, kept by its lowest person id.

    Derived ids of one type all have the same length (64 or 32 hex digits),
    so they sort as numbers in numpy, much faster than a general string
    sort (audiences of millions of phones are common).
    """
    values = piece.column("id_value").combine_chunks()
    width = len(values[0].as_py())
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[values.offset:values.offset + len(values) + 1]
    if not np.all(np.diff(offsets) == width):
        raise AssertionError("derived ids of one type must have one length")
    raw = np.frombuffer(values.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(len(values), width)
    # Lower-case hex sorts like its numeric value: decode the digits into
    # 64-bit words (numeric sorts are far faster than string sorts).
    nibbles = _NIBBLE[raw]
    packed = np.ascontiguousarray((nibbles[:, 0::2] << 4) | nibbles[:, 1::2])  # width/2 bytes per id
    words = [packed.view(">u8")[:, i] for i in range(width // 16)]  # big-endian: numeric order = text order
    order = np.lexsort((piece.column("person_id").to_numpy(), *reversed(words)))
    first = np.ones(len(order), dtype=bool)
    # Ids of two persons can coincide (stitching cut a shared device): the lowest person id keeps it.
    same = np.ones(len(order) - 1, dtype=bool) if len(order) else np.ones(0, dtype=bool)
    for w in words:
        same &= w[order[1:]] == w[order[:-1]]
    first[1:] = ~same
    return piece.take(pa.array(order[first]))


def _derive(rows: pa.Table, fmt: AudienceFormat) -> tuple[pa.Table, dict[str, int]]:
    pieces: list[pa.Table] = []
    skipped: dict[str, int] = {}
    for upload in fmt.upload_types:
        mine = rows.filter(pc.equal(rows.column("id_type"), upload.source))
        if not mine.num_rows:
            continue
        derived = derive_ids(upload, mine.column("id_value"))
        if derived.null_count:
            skipped[upload.source] = skipped.get(upload.source, 0) + derived.null_count
        keep = pc.is_valid(derived)
        if derived.null_count == len(derived):
            continue
        pieces.append(_sorted_unique(pa.table({
            "person_id": mine.column("person_id").filter(keep),
            "stage": mine.column("stage").cast(pa.string()).filter(keep),
            "upload_type": pa.array([upload.name] * (len(derived) - derived.null_count), pa.string()),
            "id_value": derived.filter(keep)}, schema=_TABLE_SCHEMA)))
    return (pa.concat_tables(pieces) if pieces else _TABLE_SCHEMA.empty_table()), skipped


def audience_table(aipl: Any = None, persons: Any = None, *, platform: str, stages: Sequence[str] | None = None,
                   segment: Any = None) -> pa.Table:
    """The uploadable identifiers of the selected persons for one platform, as Arrow.

    Args:
        aipl: the ``aipl`` table (``person_id, stage, as_of``) from :func:`omniplug.aipl`.
        persons: ``persons`` (``id_type, id_value, person_id``) from
            :func:`omniplug.stitch`: every identifier each person holds.
            Not needed when ``aipl`` carries ``id_type, id_value`` itself.
        platform: ``douyin``, ``tmall``, ``jd``, ``xiaohongshu`` or ``weibo``.
        stages: AIPL stages to export, e.g. ``["I"]`` or ``["A", "I"]``
            (default: every person in ``aipl``).
        segment: any table with a ``person_id`` column (a saved filter's
            result); alone, or narrowing ``aipl``/``stages``.

    Returns:
        ``person_id, stage, upload_type, id_value``: one row per uploadable
        identifier (``upload_type`` is the platform's name for it, e.g.
        ``MOBILE_HASH_SHA256``; ``id_value`` lower-case hex), grouped by type
        in the platform's order, sorted by value, each value once.

    Raises:
        InvalidInputError: unknown platform or stage, missing columns, no
            way to find identifiers.
    """
    fmt = _format(platform)
    rows = _identifiers(_selected(aipl, stages, segment), persons, fmt.sources())
    return _derive(rows, fmt)[0]


def _file_md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()  # Ocean Engine's file_signature


def _safe_name(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip(".-")
    if not cleaned:
        raise InvalidInputError(f"audience name {name!r} has no usable characters")
    return cleaned


def export_audiences(aipl: Any = None, persons: Any = None, *, platform: str, out_dir: str | Path,
                     stages: Sequence[str] | None = None, segment: Any = None, name: str | None = None,
                     max_lines: int = 1_000_000, extra: Mapping[str, Any] | None = None) -> AudienceExport:
    """Write the upload files of one audience for one platform.

    Selects persons as :func:`audience_table` does, then writes into
    ``out_dir/<platform>/<name>/``:

    * one text file per identifier type (``<upload_type>.txt``, one
      lower-case hex id per line, ``-partN`` past ``max_lines`` lines);
    * for Douyin, also Ocean Engine's API upload (``dmp-<TYPE>.zip``: lines
      of base64 protobuf ``DmpData``, see :mod:`omniplug.audience_formats`);
    * ``manifest.json``: platform, product, whether the format is
      documented, the selection, persons selected and reached, per file its
      id count and MD5 (Ocean Engine's ``file_signature``), skipped values.

    Args:
        aipl, persons, platform, stages, segment: as :func:`audience_table`.
        out_dir: the audiences folder.
        name: the audience's name (default ``aipl-<stages>`` or ``segment``).
        max_lines: most ids per text file.
        extra: more fields for the manifest (e.g. the SQL of a saved filter).

    Returns:
        An :class:`AudienceExport`.
    """
    if max_lines < 1:
        raise InvalidInputError(f"max_lines must be at least 1, got {max_lines}")
    fmt = _format(platform)
    selected = _selected(aipl, stages, segment)
    ids, skipped = _derive(_identifiers(selected, persons, fmt.sources()), fmt)
    label = _safe_name(name or (f"aipl-{''.join(stages)}" if stages else "segment"))
    folder = Path(out_dir) / platform / label
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob("*.txt"), *folder.glob("dmp-*.zip")]:
        old.unlink()  # a rerun replaces the audience, it never mixes old parts in
    result = AudienceExport(folder, persons=len(pc.unique(selected.column("person_id"))),
                            reached=len(pc.unique(ids.column("person_id"))) if ids.num_rows else 0, skipped=skipped)
    for upload in fmt.upload_types:
        values = ids.filter(pc.equal(ids.column("upload_type"), upload.name)).column("id_value").to_pylist()
        if not values:
            continue
        written = write_text_parts(folder, upload.name, values, max_lines)
        counts = [min(max_lines, len(values) - i * max_lines) for i in range(len(written))]
        if fmt.ocean_engine_api and upload.ocean_code is not None:
            zips = write_ocean_engine_zips(folder, upload, values)
            written += zips
            counts += [min(OCEAN_IDS_PER_ZIP, len(values) - i * OCEAN_IDS_PER_ZIP) for i in range(len(zips))]
        result.files += [AudienceFile(p, upload.name, n, _file_md5(p)) for p, n in zip(written, counts, strict=True)]
    as_of = None
    stage_table = None if aipl is None else _table(aipl, "aipl")
    if stage_table is not None and "as_of" in stage_table.column_names and stage_table.num_rows:
        as_of = str(stage_table.column("as_of")[0].as_py())
    manifest = {
        "platform": platform, "product": fmt.product, "format_documented": fmt.documented, "audience": label,
        "stages": list(stages) if stages else None, "as_of": as_of, "persons": result.persons,
        "reached": result.reached, "skipped": skipped,
        "files": [{"file": f.path.name, "upload_type": f.upload_type, "ids": f.ids, "md5": f.md5}
                  for f in result.files],
        **dict(extra or {}),
    }
    result.manifest = folder / "manifest.json"
    result.manifest.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return result

"""What each platform's audience (DMP) upload accepts, and the files omniplug writes for it.

Used by :mod:`omniplug.audience`. One :class:`AudienceFormat` per platform
lists the identifier types its custom-audience upload takes, how each is
derived from omniplug's canonical identifiers, and whether that is
documented or omniplug's assumption:

* **douyin** — Ocean Engine DMP (巨量引擎 DMP 数据源), *documented*: ids
  are uploaded as ``MOBILE_HASH_SHA256`` (lower-case hex SHA-256 of the 11
  phone digits), ``OAID_MD5`` and ``IDFA_MD5``; the API upload
  (``dmp/data_source/file/upload``) is a zip of text files, each line one
  base64-encoded protobuf ``DmpData`` message of at most 10,000 ``IdItem``
  s, ids lower-case, zip at most 50 MB. omniplug writes that zip (one per id
  type, split every :data:`OCEAN_IDS_PER_ZIP` ids) and a plain text file per
  type for the web upload.
* **tmall** (Alimama 达摩盘 / Brand Databank), **jd** (京准通 DMP / 京东数坊),
  **xiaohongshu** (聚光 DMP), **weibo** (超级粉丝通): *not documented in
  omniplug's platform notes*. omniplug writes the most common public shape
  of Chinese DMP uploads: one UTF-8 text file per id type, one lower-case
  hex hash per line, no header, ``\\n`` line ends, hashed phones as MD5 and
  SHA-256 (whichever the account's upload dialog asks for) and device ids as
  ``OAID_MD5`` / ``IDFA_MD5``. Check the upload dialog of your account.

Device-id hashing follows the widespread convention (Tencent's DMP documents
it): MD5 of the OAID as collected, MD5 of the IDFA upper-cased; the result
is lower-case hex. Raw phones are never written: phones only exist in
omniplug as hashes (DESIGN §4), and a ``phone_*`` value that is not a
well-formed hex digest is skipped, not written.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["UploadType", "AudienceFormat", "FORMATS", "OCEAN_IDS_PER_LINE", "OCEAN_IDS_PER_ZIP",
           "derive_id", "derive_ids", "dmp_data_line", "write_text_parts", "write_ocean_engine_zips"]

#: Ocean Engine: at most 10,000 ids in one ``DmpData`` line.
OCEAN_IDS_PER_LINE = 10_000
#: Ids per zip: 500,000 64-hex ids are ~45 MB of base64 before compression, under the 50 MB cap.
OCEAN_IDS_PER_ZIP = 500_000
# A fixed timestamp inside zips keeps the files byte-identical from run to run.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_HEX = frozenset("0123456789abcdef")
_PLACEHOLDERS = frozenset({"", "null", "none", "nil", "nan", "unknown", "undefined", "0", "-", "n/a"})
# Digests of the empty string: what a hashing step produces from a missing value.
_EMPTY_DIGESTS = frozenset({hashlib.md5(b"").hexdigest(), hashlib.sha256(b"").hexdigest()})


@dataclass(frozen=True)
class UploadType:
    """One identifier type a platform's audience upload accepts.

    Attributes:
        name: the platform's name for it (``MOBILE_HASH_SHA256``, ``phone_md5``...).
        source: the canonical ``id_type`` it is derived from.
        rule: ``hex64`` / ``hex32`` (already a digest: validated and
            lower-cased), ``md5`` (MD5 of the raw value) or ``md5_upper``
            (MD5 of the upper-cased raw value, for IDFA).
        ocean_code: the ``IdItem.DataType`` number of Ocean Engine's protobuf
            (``None`` elsewhere).
    """

    name: str
    source: str
    rule: str
    ocean_code: int | None = None


@dataclass(frozen=True)
class AudienceFormat:
    """A platform's audience upload.

    Attributes:
        platform: omniplug's platform name.
        product: the platform's audience product.
        upload_types: the identifier types it accepts, in file order.
        documented: whether the format comes from platform documentation
            (``True``) or is omniplug's assumption (``False``).
        ocean_engine_api: also write Ocean Engine's protobuf zip.
    """

    platform: str
    product: str
    upload_types: tuple[UploadType, ...]
    documented: bool
    ocean_engine_api: bool = False

    def sources(self) -> list[str]:
        """Canonical identifier types this format reads."""
        return sorted({u.source for u in self.upload_types})


_DEVICE = (UploadType("OAID_MD5", "oaid", "md5"), UploadType("IDFA_MD5", "idfa", "md5_upper"))
_GENERIC = (UploadType("phone_md5", "phone_md5", "hex32"), UploadType("phone_sha256", "phone_sha256", "hex64"),
            *_DEVICE)
#: Platform name -> its audience upload.
FORMATS: dict[str, AudienceFormat] = {
    "douyin": AudienceFormat("douyin", "Ocean Engine DMP (巨量引擎 DMP 数据源)", (
        UploadType("MOBILE_HASH_SHA256", "phone_sha256", "hex64", 6),
        UploadType("OAID_MD5", "oaid", "md5", 8),
        UploadType("IDFA_MD5", "idfa", "md5_upper", 5)), documented=True, ocean_engine_api=True),
    "tmall": AudienceFormat("tmall", "Alimama DMP 达摩盘 / Brand Databank 数据银行", _GENERIC, documented=False),
    "jd": AudienceFormat("jd", "JD 京准通 DMP / 京东数坊", _GENERIC, documented=False),
    "xiaohongshu": AudienceFormat("xiaohongshu", "Xiaohongshu Juguang 聚光 DMP", _GENERIC, documented=False),
    "weibo": AudienceFormat("weibo", "Weibo 超级粉丝通 audience package", _GENERIC, documented=False),
}


def _is_hex(value: str, length: int) -> bool:
    return len(value) == length and set(value) <= _HEX


def _placeholder(raw: str) -> bool:
    """Junk a device id column carries instead of an id (all zeros, ``unknown``...)."""
    text = raw.strip().lower()
    return text in _PLACEHOLDERS or len(set(text) - {"-"}) <= 1


def derive_id(upload: UploadType, value: str | None) -> str | None:
    """The uploadable form of one canonical identifier value, or ``None`` to skip it.

    Digests (``hex64``/``hex32``) must already be well-formed hex of the
    right length (any case; written lower-case): anything else, a raw phone
    included, is skipped. Raw device ids are hashed; placeholders and hashes
    of the empty string are skipped.
    """
    if value is None:
        return None
    if upload.rule in ("hex64", "hex32"):
        digest = value.strip().lower()
        ok = _is_hex(digest, 64 if upload.rule == "hex64" else 32)
        return digest if ok and digest not in _EMPTY_DIGESTS else None
    if _placeholder(value):
        return None
    raw = value.strip().upper() if upload.rule == "md5_upper" else value.strip()
    return hashlib.md5(raw.encode("utf-8")).hexdigest()  # the platforms' matching key, not a security measure


def derive_ids(upload: UploadType, values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`derive_id` over an Arrow string array: null where a value is skipped.

    Digest rules run vectorised (audiences of millions of phone hashes are
    common); raw device ids are hashed one by one.
    """
    if upload.rule in ("hex64", "hex32"):
        digest = pc.utf8_lower(pc.utf8_trim_whitespace(values.cast(pa.string())))
        pattern = "^[0-9a-f]{64}$" if upload.rule == "hex64" else "^[0-9a-f]{32}$"
        ok = pc.and_(pc.match_substring_regex(digest, pattern),
                     pc.invert(pc.is_in(digest, pa.array(sorted(_EMPTY_DIGESTS), pa.string()))))
        out = pc.if_else(pc.fill_null(ok, False), digest, pa.scalar(None, pa.string()))
        return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
    return pa.array([derive_id(upload, v) for v in values.to_pylist()], pa.string())


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def dmp_data_line(code: int, ids: Sequence[str]) -> bytes:
    """One line of an Ocean Engine upload file: base64 of a protobuf ``DmpData``
    whose ``idList`` holds one ``IdItem {dataType = code, id}`` per id.

    Wire format (proto2, ``toutiao.dmp``): ``DmpData.idList`` is field 1
    (length-delimited); ``IdItem.dataType`` field 2 (varint) and ``id``
    field 3 (length-delimited); the optional ``timestamp`` is left out (the
    platform then uses the upload time).
    """
    if len(ids) > OCEAN_IDS_PER_LINE:
        raise ValueError(f"at most {OCEAN_IDS_PER_LINE} ids per DmpData line, got {len(ids)}")
    message = bytearray()
    for value in ids:
        raw = value.encode("ascii")
        item = b"\x10" + _varint(code) + b"\x1a" + _varint(len(raw)) + raw
        message += b"\x0a" + _varint(len(item)) + item
    return base64.b64encode(bytes(message))


def _parts(values: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _part_path(folder: Path, stem: str, suffix: str, index: int, total: int) -> Path:
    return folder / (f"{stem}{suffix}" if total == 1 else f"{stem}-part{index + 1}{suffix}")


def write_text_parts(folder: Path, stem: str, values: Sequence[str], max_lines: int) -> list[Path]:
    """``values`` one per line in ``stem.txt`` (``stem-part1.txt``... past ``max_lines``)."""
    parts = list(_parts(values, max_lines)) or [[]]
    paths = []
    for i, chunk in enumerate(parts):
        path = _part_path(folder, stem, ".txt", i, len(parts))
        path.write_bytes("".join(f"{v}\n" for v in chunk).encode("ascii"))
        paths.append(path)
    return paths


def write_ocean_engine_zips(folder: Path, upload: UploadType, values: Sequence[str]) -> list[Path]:
    """Ocean Engine API upload zips for one id type (see the module docstring)."""
    if upload.ocean_code is None:
        raise ValueError(f"{upload.name} has no Ocean Engine data type")
    parts = list(_parts(values, OCEAN_IDS_PER_ZIP)) or [[]]
    paths = []
    for i, chunk in enumerate(parts):
        path = _part_path(folder, f"dmp-{upload.name}", ".zip", i, len(parts))
        body = b"".join(dmp_data_line(upload.ocean_code, line) + b"\n" for line in _parts(chunk, OCEAN_IDS_PER_LINE))
        info = zipfile.ZipInfo(f"{upload.name}.txt", date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(info, body)
        paths.append(path)
    return paths

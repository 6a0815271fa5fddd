"""Identifier values shaped like the platforms give them, rendered with numpy.

Every identifier of the synthetic workload is a global integer ``k``; its
value is a pure function of ``(seed, type, k)``, so the same identifier
renders to the same string wherever it appears (a link today, a link in the
1 % increment tomorrow) without keeping a table of strings around.

Rendering is vectorised: ``k`` is hashed (splitmix64) into as many random
bytes as the shape has random slots, each byte picks a character of the
slot's alphabet through one lookup table per shape, and the characters of a
whole block become one Arrow string array built straight from buffers. No
Python string is created per identifier, which is what lets ten million
links be written in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

__all__ = ["IdShape", "SHAPES", "TYPE_NAMES", "TYPE_WEIGHTS", "splitmix64", "render"]

_HEX = b"0123456789abcdef"
_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_DIGITS = b"0123456789"
#: Placeholders in a pattern: one random character from the alphabet each.
_SLOTS = {"*": _HEX, "?": _ALNUM, "#": _DIGITS}


@dataclass(frozen=True)
class IdShape:
    """One identifier type and the shape of its values.

    Attributes:
        name: the ``id_type`` written to ``identity_links``.
        pattern: the value's template: ``*`` is a random hex digit, ``?`` a
            random letter or digit, ``#`` a random decimal digit, anything
            else is literal (``"jd_?????????????"`` is a JD pin).
        weight: relative frequency of the type among identifiers.
    """

    name: str
    pattern: str
    weight: float

    @property
    def width(self) -> int:
        """Length of every value of this type (all shapes are fixed-width)."""
        return len(self.pattern)

    def table(self) -> np.ndarray:
        """``(width, 256)`` lookup: character at position ``j`` for random byte ``b``."""
        out = np.empty((self.width, 256), dtype=np.uint8)
        for j, ch in enumerate(self.pattern):
            alphabet = _SLOTS.get(ch)
            if alphabet is None:
                out[j, :] = ord(ch)
            else:
                # byte % len is slightly biased for 62 letters; irrelevant for a benchmark.
                out[j, :] = np.frombuffer(alphabet, dtype=np.uint8)[np.arange(256) % len(alphabet)]
        return out


#: The identifier types of the workload, as the world simulator and the
#: platforms shape them (see omniplug.world.people).
SHAPES: tuple[IdShape, ...] = (
    IdShape("phone_sha256", "*" * 64, 0.16),
    IdShape("tmall_buyer_open_uid", "AAH" + "?" * 21, 0.08),
    IdShape("tmall_ouid", "ou" + "*" * 30, 0.10),
    IdShape("tmall_omid", "om" + "*" * 30, 0.04),
    IdShape("jd_pin", "jd_" + "?" * 13, 0.10),
    IdShape("douyin_openid", "_000" + "?" * 32, 0.14),
    IdShape("douyin_unionid", "********-****-************", 0.08),
    IdShape("oaid", "********-****-****-****-************", 0.14),
    IdShape("xhs_user_id", "*" * 24, 0.07),
    IdShape("weibo_uid", "5#########", 0.05),
    IdShape("member_id", "M##########", 0.04),
)
TYPE_NAMES: tuple[str, ...] = tuple(s.name for s in SHAPES)
TYPE_WEIGHTS = np.array([s.weight for s in SHAPES]) / sum(s.weight for s in SHAPES)
_TABLES = [s.table() for s in SHAPES]


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, elementwise on uint64 (a bijection: distinct in, distinct out)."""
    z = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def _random_bytes(k: np.ndarray, type_index: int, seed: int, width: int) -> np.ndarray:
    """``(len(k), width)`` bytes that depend only on (seed, type, k)."""
    words = -(-width // 8)
    base = (k.astype(np.uint64) * np.uint64(16) + np.uint64(type_index)) ^ np.uint64(seed * 0x2545F4914F6CDD1D % 2**64)
    cols = [splitmix64(base ^ np.uint64(i * 0xD6E8FEB86659FD93 % 2**64)) for i in range(words)]
    return np.stack(cols, axis=1).view(np.uint8)[:, :width]


def _render_type(k: np.ndarray, type_index: int, seed: int) -> np.ndarray:
    """Values of ``k`` as identifiers of one type: an ``(n, width)`` uint8 matrix."""
    shape = SHAPES[type_index]
    raw = _random_bytes(k, type_index, seed, shape.width)
    table = _TABLES[type_index]
    # One gather through a (width*256) table: position j, byte b -> table[j, b].
    flat = raw.astype(np.intp) + (np.arange(shape.width, dtype=np.intp) * 256)[None, :]
    return table.reshape(-1)[flat]


def render(k: np.ndarray, types: np.ndarray, seed: int) -> pa.StringArray:
    """The values of identifiers ``k`` with type indexes ``types``, in input order.

    Args:
        k: global identifier numbers (uint64/int64).
        types: index into :data:`SHAPES` of each identifier.
        seed: the workload seed (same seed, same strings).

    Returns:
        A ``utf8`` array, one value per identifier.
    """
    n = len(k)
    widths = np.array([s.width for s in SHAPES], dtype=np.int64)[types]
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(widths, out=offsets[1:])
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    for t in np.unique(types):
        rows = np.flatnonzero(types == t)
        chars = _render_type(k[rows], int(t), seed)
        # Scatter each row's characters to where that row starts in the buffer.
        dest = offsets[rows].astype(np.int64)[:, None] + np.arange(chars.shape[1], dtype=np.int64)[None, :]
        data[dest.reshape(-1)] = chars.reshape(-1)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))

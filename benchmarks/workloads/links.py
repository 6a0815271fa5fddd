"""The structure of the synthetic ``identity_links``: who is linked to whom.

Persons are drawn block by block (one block is one Parquet row group), each
with a heavy-tailed number of identifiers: ``1 + Zipf(2.25)`` truncated at
300, so half the persons hold two identifiers, one in a hundred about thirty
and a few hundreds (households, shared accounts). A person's links form a
random recursive tree over their identifiers (each new identifier seen with
one seen before), plus extra observations: repeats of a link and links
closing a cycle. One person in a thousand rotates device ids: an open id and
a chain of 50 OAIDs each seen with the next, a component of diameter 50.

Planted across the whole file:

* a shop staff phone (hash) given on the orders of ``hub_persons`` persons,
  the hub the guardrails must cut;
* a shared device (a store's demo phone) used by ``hub_persons / 5`` persons;
* the well-known test phone 13800138000 (its hash is on the default block
  list) on ``hub_persons / 10`` persons;
* 0.2 % of links carry a placeholder (``null``, ``unknown``, an all-zero
  OAID) instead of the real value on one side.

Everything is a function of the seed and the block number only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .shapes import SHAPES, TYPE_NAMES, TYPE_WEIGHTS, render

__all__ = ["LINKS_SCHEMA", "Block", "BlockBuilder", "EXPECTED_LINKS_PER_PERSON", "links_batch"]

LINKS_SCHEMA = pa.schema([
    ("left_type", pa.string()), ("left_value", pa.string()),
    ("right_type", pa.string()), ("right_value", pa.string()),
    ("observed_at", pa.timestamp("ms", tz="UTC")),
])

_ZIPF_A = 2.25
_MAX_SIZE = 300
_CHAIN_RATE = 0.001
_CHAIN_LEN = 51
_EXTRA_RATE = 0.32  # extra observations per tree link, half repeats, half cycles
_JUNK_RATE = 0.002
#: Tree links + extras + planted links per person for this distribution,
#: measured on 3 * 10^6 persons; used to size blocks and space the hubs.
EXPECTED_LINKS_PER_PERSON = 3.2
T0_MS = 1_735_660_800_000  # 2025-01-01 00:00 +08:00

_TYPE = {name: i for i, name in enumerate(TYPE_NAMES)}
#: Identifiers that are not a person's: appended after the block's own values.
SPECIALS: tuple[tuple[str, str], ...] = (
    ("phone_sha256", hashlib.sha256(b"13912345678").hexdigest()),  # shop staff phone: a hub
    ("oaid", "6f1c2a9e-04b7-4d3a-9c1e-5b8f7a2d3e10"),  # store demo device: a hub
    ("phone_sha256", hashlib.sha256(b"13800138000").hexdigest()),  # textbook test phone: blocked
    ("oaid", "00000000-0000-0000-0000-000000000000"),
)
_PLACEHOLDERS = ("null", "unknown")


@dataclass
class Block:
    """One block of links as index arrays, before strings are rendered.

    ``*_k`` are global identifier numbers; a negative number ``-1 - j`` is
    special value ``j`` (see :data:`SPECIALS`, then the placeholders).
    """

    left_k: np.ndarray
    left_t: np.ndarray
    right_k: np.ndarray
    right_t: np.ndarray
    observed_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.left_k)


def links_batch(left_k: np.ndarray, left_t: np.ndarray, right_k: np.ndarray, right_t: np.ndarray,
             observed_ms: np.ndarray, seed: int) -> pa.RecordBatch:
    """Links given as identifier numbers and type indexes, as an Arrow batch
    (schema :data:`LINKS_SCHEMA`), values rendered by :func:`shapes.render`."""
    ks = np.concatenate([left_k, right_k])
    ts = np.concatenate([left_t, right_t])
    regular = ks >= 0
    # Render each distinct regular identifier once, then gather by position
    # (an identifier number always comes with the same type).
    uniq, first, inverse = np.unique(ks[regular], return_index=True, return_inverse=True)
    specials = [v for _, v in SPECIALS] + list(_PLACEHOLDERS)
    values = pa.concat_arrays([render(uniq, ts[regular][first], seed), pa.array(specials, pa.string())])
    pos = np.empty(len(ks), dtype=np.int64)
    pos[regular] = inverse
    pos[~regular] = len(uniq) + (-1 - ks[~regular])
    side = pa.array(values.take(pa.array(pos)))
    n = len(left_k)
    names = pa.array(TYPE_NAMES, pa.string())
    return pa.RecordBatch.from_arrays([
        pa.DictionaryArray.from_arrays(pa.array(left_t.astype(np.int32)), names).cast(pa.string()),
        side.slice(0, n),
        pa.DictionaryArray.from_arrays(pa.array(right_t.astype(np.int32)), names).cast(pa.string()),
        side.slice(n),
        pa.array(observed_ms, pa.int64()).cast(pa.timestamp("ms", tz="UTC")),
    ], schema=LINKS_SCHEMA)


class BlockBuilder:
    """Draws blocks of persons and their links, in order, for one workload.

    Args:
        seed: the workload seed.
        hub_persons: persons sharing the staff phone (the largest planted hub).
        expected_persons: about how many persons the whole workload holds
            (spaces the hub links over the file).
    """

    def __init__(self, seed: int, hub_persons: int, expected_persons: int) -> None:
        self.seed = seed
        self.next_k = 0
        self.next_person = 0
        self._strides = [max(1, expected_persons // max(1, n))
                         for n in (hub_persons, hub_persons // 5, hub_persons // 10)]

    def block(self, index: int, persons: int) -> Block:
        """Block ``index`` with ``persons`` persons (identifiers numbered after the previous block)."""
        rng = np.random.default_rng([self.seed, index])
        sizes = _sizes(rng, persons)
        chain = rng.random(persons) < _CHAIN_RATE
        sizes[chain] = _CHAIN_LEN
        n_ids = int(sizes.sum())
        starts = np.zeros(persons, dtype=np.int64)
        np.cumsum(sizes[:-1], out=starts[1:])
        person_of = np.repeat(np.arange(persons), sizes)
        local = np.arange(n_ids, dtype=np.int64) - starts[person_of]
        types = rng.choice(len(SHAPES), size=n_ids, p=TYPE_WEIGHTS).astype(np.int16)
        on_chain = chain[person_of]
        types[on_chain & (local == 0)] = _TYPE["douyin_openid"]
        types[on_chain & (local > 0)] = _TYPE["oaid"]

        # Tree: every identifier but the first is seen with an earlier one of its person.
        child = np.flatnonzero(local > 0)
        parent_local = np.where(on_chain[child], local[child] - 1,
                                (rng.random(len(child)) * local[child]).astype(np.int64))
        parent = starts[person_of[child]] + parent_local
        days = np.where(on_chain[child], local[child] * 7, rng.integers(0, 365, len(child)))
        a, b, when = [parent], [child], [days]

        # Extra observations: repeats (reversed) and cycle-closing links.
        extra = rng.random(len(child)) < _EXTRA_RATE
        repeat = extra & (rng.random(len(child)) < 0.5)
        a.append(child[repeat])
        b.append(parent[repeat])
        when.append(rng.integers(0, 365, int(repeat.sum())))
        cyc = np.flatnonzero(extra & ~repeat & (local[child] >= 2) & ~on_chain[child])
        other = starts[person_of[child[cyc]]] + (rng.random(len(cyc)) * local[child[cyc]]).astype(np.int64)
        a.append(other)
        b.append(child[cyc])
        when.append(rng.integers(0, 365, len(cyc)))

        left_k = np.concatenate(a) + self.next_k
        right_k = np.concatenate(b) + self.next_k
        left_t, right_t = types[np.concatenate(a)], types[np.concatenate(b)]
        day = np.concatenate(when)

        # Planted hubs: persons at a fixed stride of the global person number.
        first_k = starts + self.next_k
        gperson = np.arange(persons) + self.next_person
        hub_rows = []
        for special, stride in enumerate(self._strides):
            who = np.flatnonzero(gperson % stride == stride // 2)
            t = _TYPE[SPECIALS[special][0]]
            hub_rows.append((np.full(len(who), -1 - special), np.full(len(who), t), first_k[who],
                             types[starts[who]], rng.integers(0, 365, len(who))))
        left_k = np.concatenate([left_k, *(h[0] for h in hub_rows)])
        left_t = np.concatenate([left_t, *(h[1] for h in hub_rows)]).astype(np.int16)
        right_k = np.concatenate([right_k, *(h[2] for h in hub_rows)])
        right_t = np.concatenate([right_t, *(h[3] for h in hub_rows)]).astype(np.int16)
        day = np.concatenate([day, *(h[4] for h in hub_rows)])

        # Junk: a placeholder instead of the right-hand value.
        junk = np.flatnonzero(rng.random(len(right_k)) < _JUNK_RATE)
        kind = rng.integers(0, 3, len(junk))
        right_k[junk] = np.where(kind == 2, -4, -1 - len(SPECIALS) - kind)
        right_t[junk[kind == 2]] = _TYPE["oaid"]

        order = rng.permutation(len(left_k))  # arrival order has no person locality
        observed = T0_MS + day * 86_400_000 + rng.integers(0, 86_400_000, len(day))
        self.next_k += n_ids
        self.next_person += persons
        return Block(left_k[order], left_t[order], right_k[order], right_t[order], observed[order])


def _sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``1 + Zipf(2.25)`` identifiers per person, redrawn above the maximum."""
    sizes = 1 + rng.zipf(_ZIPF_A, n)
    while (big := np.flatnonzero(sizes > _MAX_SIZE)).size:
        sizes[big] = 1 + rng.zipf(_ZIPF_A, big.size)
    return sizes.astype(np.int64)


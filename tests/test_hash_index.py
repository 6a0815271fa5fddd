"""HashIndex: exact Hamming-radius search, checked against brute force on random codes."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omniplug.assets import HashIndex
from omniplug.errors import InvalidInputError

_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int32)


def brute_force(index_codes: np.ndarray, queries: np.ndarray, max_distance: int) -> list[tuple[int, int, int]]:
    """(query_row, match_row, distance) by comparing every pair; codes are rows of uint8 bytes."""
    d = _POP8[np.bitwise_xor(queries[:, None, :], index_codes[None, :, :])].sum(axis=2)
    q, r = np.nonzero(d <= max_distance)
    return sorted(zip(q.tolist(), r.tolist(), d[q, r].tolist(), strict=True), key=lambda t: (t[0], t[2], t[1]))


def as_rows(table: pa.Table) -> list[tuple[int, int, int]]:
    return list(
        zip(
            table.column("query_row").to_pylist(),
            table.column("match_row").to_pylist(),
            table.column("distance").to_pylist(),
            strict=True,
        )
    )


def flip_bits(rng: np.random.Generator, code: np.ndarray, k: int) -> np.ndarray:
    out = code.copy()
    for b in rng.choice(code.size * 8, size=k, replace=False):
        out[b // 8] ^= np.uint8(1 << (7 - b % 8))
    return out


def codes_with_neighbours(
    seed: int, n: int, n_queries: int, width: int, max_flip: int
) -> tuple[np.ndarray, np.ndarray]:
    """Random codes plus queries that are either random or a few bits from an indexed code."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, size=(n, width), dtype=np.uint8)
    if n >= 4:
        # Clusters and exact duplicates inside the index too.
        codes[n // 2] = codes[0]
        codes[n // 3] = flip_bits(rng, codes[1], 2)
    queries = rng.integers(0, 256, size=(n_queries, width), dtype=np.uint8)
    for i in range(0, n_queries, 2):
        queries[i] = flip_bits(rng, codes[rng.integers(n)], int(rng.integers(0, max_flip + 1)))
    return codes, queries


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    n_queries=st.integers(0, 60),
    max_distance=st.integers(0, 24),
    form=st.sampled_from(["binary", "fixed", "uint64", "numpy"]),
)
def test_64_bit_search_equals_brute_force(seed: int, n: int, n_queries: int, max_distance: int, form: str) -> None:
    codes, queries = codes_with_neighbours(seed, n, n_queries, 8, 20)

    def convert(a: np.ndarray) -> object:
        if form == "binary":
            return pa.array([bytes(r) for r in a], pa.binary())
        if form == "fixed":
            return pa.array([bytes(r) for r in a], pa.binary(8))
        values = a.view(">u8").ravel().astype(np.uint64)  # big-endian bytes -> the same number
        return pa.array(values, pa.uint64()) if form == "uint64" else values

    index = HashIndex(convert(codes), bits=64)
    assert len(index) == n and index.bits == 64
    assert as_rows(index.search(convert(queries), max_distance)) == brute_force(codes, queries, max_distance)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    n_queries=st.integers(0, 40),
    max_distance=st.integers(0, 90),
)
def test_256_bit_search_equals_brute_force(seed: int, n: int, n_queries: int, max_distance: int) -> None:
    codes, queries = codes_with_neighbours(seed, n, n_queries, 32, 60)
    index = HashIndex(pa.array([bytes(r) for r in codes], pa.binary(32)), bits=256)
    result = index.search(pa.array([bytes(r) for r in queries], pa.binary()), max_distance)
    assert as_rows(result) == brute_force(codes, queries, max_distance)


def test_large_radius_and_full_radius_are_exact() -> None:
    codes, queries = codes_with_neighbours(7, 2000, 30, 8, 10)
    index = HashIndex(codes, bits=64)  # 2-D uint8 numpy: one row per code
    for radius in (0, 5, 32, 64):
        assert as_rows(index.search(queries, radius)) == brute_force(codes, queries, radius)
    assert index.search(queries, 64).num_rows == 2000 * 30


def test_result_schema_and_order() -> None:
    index = HashIndex([0b0000, 0b0011, 0b0001, 0b1111], bits=64)
    result = index.search([0, 0b0111], 2)
    assert result.schema == pa.schema(
        [
            pa.field("query_row", pa.int64(), nullable=False),
            pa.field("match_row", pa.int64(), nullable=False),
            pa.field("distance", pa.int32(), nullable=False),
        ]
    )
    # By query row, then distance, then match row.
    assert as_rows(result) == [(0, 0, 0), (0, 2, 1), (0, 1, 2), (1, 1, 1), (1, 3, 1), (1, 2, 2)]


def test_accepts_tables_chunks_polars_and_lists() -> None:
    values = [0xFFFF_0000_FFFF_0000, 0x0123_4567_89AB_CDEF, 2**64 - 1]
    expected = as_rows(HashIndex(values).search(values, 0))
    assert expected == [(0, 0, 0), (1, 1, 0), (2, 2, 0)]
    as_bytes = [v.to_bytes(8, "big") for v in values]
    chunked = pa.chunked_array([pa.array(as_bytes[:1]), pa.array(as_bytes[1:])])
    table = pa.table({"material_id": ["a", "b", "c"], "hash": as_bytes})
    forms = [chunked, table, pl.Series("h", values, dtype=pl.UInt64), as_bytes, np.array(values, dtype=np.uint64)]
    for form in forms:
        assert as_rows(HashIndex(form).search(values, 0)) == expected, type(form)
    # int64 columns carry the same bit patterns (polars and DuckDB often hold hashes so).
    signed = pa.array(np.array(values, dtype=np.uint64).view(np.int64))
    assert as_rows(HashIndex(signed).search(values, 0)) == expected


def test_empty_index_and_empty_queries() -> None:
    index = HashIndex(pa.array([], pa.binary()), bits=256)
    assert len(index) == 0
    assert index.search(pa.array([b"\x00" * 32]), 10).num_rows == 0
    assert HashIndex([1, 2]).search(pa.array([], pa.uint64()), 3).num_rows == 0


def test_bad_inputs_raise() -> None:
    with pytest.raises(InvalidInputError, match="bits"):
        HashIndex([1], bits=128)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="row 1 has 7 bytes"):
        HashIndex([b"\x00" * 8, b"\x00" * 7])
    with pytest.raises(InvalidInputError, match="row 0 is null"):
        HashIndex(pa.array([None, b"\x00" * 8], pa.binary()))
    with pytest.raises(InvalidInputError, match="256-bit codes"):
        HashIndex(pa.array([1], pa.uint64()), bits=256)
    with pytest.raises(InvalidInputError, match="non-negative"):
        HashIndex([-1])
    index = HashIndex([b"\x01" * 32], bits=256)
    with pytest.raises(InvalidInputError, match="0-256"):
        index.search([b"\x01" * 32], 257)
    with pytest.raises(InvalidInputError, match="0-256"):
        index.search([b"\x01" * 32], -1)
    with pytest.raises(InvalidInputError, match="32"):
        index.search([b"\x01" * 8], 3)
    with pytest.raises(InvalidInputError, match="integer"):
        index.search([b"\x01" * 32], 2.5)  # type: ignore[arg-type]
    assert "1 codes of 256 bits" in repr(index)

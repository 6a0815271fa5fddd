"""The Python/Rust boundary: zero-copy Arrow exchange, errors, build profile, threads."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import polars as pl
import pyarrow as pa
import pytest

import omniplug
from omniplug import _core
from omniplug.errors import (
    CoreInternalError,
    InvalidInputError,
    LimitExceededError,
    OmniplugError,
)


def _addresses(table: pa.Table) -> list[int | None]:
    out: list[int | None] = []
    for column in table.columns:
        for chunk in column.chunks:
            out.extend(b.address if b is not None else None for b in chunk.buffers())
    return out


def test_pyarrow_table_crosses_both_ways_without_copy() -> None:
    table = pa.table(
        {
            "n": pa.array(range(10_000), pa.int64()),
            "s": pa.array([f"id-{i}" for i in range(10_000)]),
            "x": pa.array([i / 3 for i in range(10_000)]),
        }
    )
    back = _core.echo_table(table)
    assert back.equals(table)
    assert _addresses(back) == _addresses(table)
    seen_by_rust = {addr for *_, addr in _core.buffer_addresses(table)}
    assert {a for a in _addresses(table) if a is not None} == seen_by_rust


def test_polars_dataframe_crosses_without_copy() -> None:
    df = pl.DataFrame({"n": list(range(5_000)), "s": [str(i) for i in range(5_000)]})
    polars_ptr = df["n"]._s.as_single_ptr()  # start of the (single-chunk) values buffer
    seen_by_rust = {(col, idx): addr for col, _, idx, addr in _core.buffer_addresses(df)}
    assert seen_by_rust[("n", 0)] == polars_ptr
    back = _core.echo_table(df)
    assert isinstance(back, pa.Table)
    assert back.column("n").chunk(0).buffers()[1].address == polars_ptr
    assert back.column("n").to_pylist() == df["n"].to_list()


def test_table_with_several_chunks_keeps_every_chunk() -> None:
    table = pa.concat_tables([pa.table({"a": [1, 2]}), pa.table({"a": [3]})])
    back = _core.echo_table(table)
    assert back.column("a").num_chunks == 2
    assert _addresses(back) == _addresses(table)


def test_non_arrow_input_is_a_type_error_not_a_crash() -> None:
    with pytest.raises(Exception) as info:
        _core.echo_table([1, 2, 3])
    assert "arrow" in str(info.value).lower() or isinstance(info.value, TypeError)


@pytest.mark.parametrize(
    ("kind", "cls"),
    [("invalid", InvalidInputError), ("limit", LimitExceededError), ("internal", CoreInternalError)],
)
def test_rust_errors_are_omniplug_errors(kind: str, cls: type[Exception]) -> None:
    with pytest.raises(cls, match="column x") as info:
        _core._raise_core_error(kind, "column x is bad")
    assert isinstance(info.value, OmniplugError)


def test_release_build_is_installed() -> None:
    # make test builds with --release; a debug build would make benchmarks meaningless.
    assert _core.build_profile() == "release"


def test_thread_cap_from_environment() -> None:
    code = "from omniplug import _core; print(_core.num_threads())"
    env = {**os.environ, "OMNIPLUG_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def _child_threads(queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    queue.put(_core.num_threads())


def test_forked_child_uses_a_private_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNIPLUG_NUM_THREADS", raising=False)  # a cap would override the fork rule
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child_threads, args=(queue,))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0
    assert queue.get(timeout=5) == 1


def test_version_is_exposed() -> None:
    assert omniplug.__version__ == _core.__version__

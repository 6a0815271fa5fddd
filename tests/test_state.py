"""Tests of omniplug.state: cursors move only with their parts, tokens, run log, schema."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from omniplug.errors import StateError
from omniplug.state import SCHEMA_VERSION, STATE_FILENAME, PartRecord, StateStore
from omniplug.tokens import TokenSet, TokenStore


class FakeClock:
    """A clock that advances one second per call, so ordering never depends on real time."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def part(path: str, rows: int = 10, table: str = "orders") -> PartRecord:
    return PartRecord(table=table, path=path, rows=rows, size=rows * 100)


@pytest.fixture
def store(tmp_path: Path):
    with StateStore.open(tmp_path / "out", clock=FakeClock()) as s:
        yield s


def test_open_creates_folder_and_uses_wal(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    with StateStore.open(out) as s:
        assert s.path == out / STATE_FILENAME
    conn = sqlite3.connect(out / STATE_FILENAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_commit_batch_records_parts_and_moves_cursor(store: StateStore) -> None:
    assert store.get_cursor("tmall", "orders") is None
    recorded = store.commit_batch(
        "tmall", "orders", cursor={"modified": "2024-05-01T00:00:00"},
        parts=[part("parts/orders/p1.parquet"), part("parts/order_items/p1.parquet", table="order_items")],
        run_id="r1",
    )
    store.commit_batch("tmall", "orders", cursor={"modified": "2024-05-02T00:00:00"},
                       parts=[part("parts/orders/p2.parquet")], run_id="r1")
    store.commit_batch("jd", "orders", cursor={"page": 3}, parts=[], run_id="r1", account="shop2")

    assert store.get_cursor("tmall", "orders") == {"modified": "2024-05-02T00:00:00"}
    assert store.get_cursor("jd", "orders", account="shop2") == {"page": 3}
    assert store.get_cursor("jd", "orders") is None
    assert [p.seq for p in recorded] == [1, 2] and recorded[0].platform == "tmall"
    parts = store.committed_parts()
    assert [p.path for p in parts] == [
        "parts/orders/p1.parquet", "parts/order_items/p1.parquet", "parts/orders/p2.parquet",
    ]
    assert [p.seq for p in parts] == sorted({p.seq for p in parts})
    assert [p.path for p in store.committed_parts(table="orders")] == [
        "parts/orders/p1.parquet", "parts/orders/p2.parquet",
    ]
    assert store.committed_parts(platform="jd") == []
    assert [(c.platform, c.account) for c in store.cursors()] == [("jd", "shop2"), ("tmall", "default")]


def test_failure_inside_the_transaction_moves_nothing(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.commit_batch("tmall", "orders", cursor={"page": 1}, parts=[part("p/1.parquet")], run_id="r")

    def explode(*args: object) -> None:
        raise RuntimeError("disk vanished")

    # The parts are inserted first, then the cursor write fails: both must roll back.
    monkeypatch.setattr(StateStore, "_write_cursor", staticmethod(explode))
    with pytest.raises(RuntimeError):
        store.commit_batch("tmall", "orders", cursor={"page": 2}, parts=[part("p/2.parquet")], run_id="r")
    monkeypatch.undo()

    assert store.get_cursor("tmall", "orders") == {"page": 1}
    assert [p.path for p in store.committed_parts()] == ["p/1.parquet"]


def test_duplicate_part_path_rolls_back_the_whole_batch(store: StateStore) -> None:
    store.commit_batch("tmall", "orders", cursor={"page": 1}, parts=[part("p/1.parquet")], run_id="r")
    with pytest.raises(StateError, match="p/1.parquet is already committed"):
        store.commit_batch("tmall", "orders", cursor={"page": 2},
                           parts=[part("p/2.parquet"), part("p/1.parquet")], run_id="r")
    assert store.get_cursor("tmall", "orders") == {"page": 1}
    assert [p.path for p in store.committed_parts()] == ["p/1.parquet"]


@pytest.mark.parametrize(
    ("parts", "cursor", "message"),
    [
        ([PartRecord("orders", "p/1.parquet", 1)], {}, "sha256 or its size"),
        ([PartRecord("orders", "p/1.parquet", -1, size=1)], {}, "negative row count"),
        ([], {"at": object()}, "not JSON-able"),
    ],
)
def test_commit_batch_rejects_bad_input(store: StateStore, parts: list, cursor: dict, message: str) -> None:
    with pytest.raises(StateError, match=message):
        store.commit_batch("tmall", "orders", cursor=cursor, parts=parts, run_id=None)
    assert store.get_cursor("tmall", "orders") is None


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside.parquet", "a/../../b", ""])
def test_part_paths_must_stay_inside_the_output_folder(path: str) -> None:
    with pytest.raises(StateError, match="relative to the output folder"):
        PartRecord("orders", path, 1, size=1)


def test_part_paths_are_normalised_to_posix() -> None:
    assert PartRecord("orders", "parts\\orders\\p1.parquet", 1, size=1).path == "parts/orders/p1.parquet"
    assert PartRecord("orders", Path("parts") / "x.parquet", 1, size=1).path == "parts/x.parquet"  # type: ignore[arg-type]


def test_reopen_keeps_everything(tmp_path: Path) -> None:
    token = TokenSet(access_token=SecretStr("acc-123"), refresh_token=SecretStr("ref-456"),
                     expires_at=datetime(2024, 6, 1, tzinfo=UTC), extra={"user_id": "u1"})
    with StateStore.open(tmp_path) as s:
        run_id = s.start_run("run", config_hash="abc")
        s.commit_batch("douyin", "ads", cursor={"date": "2024-05-01"},
                       parts=[PartRecord("spend", "p/a.parquet", 5, sha256="00" * 32)], run_id=run_id)
        s.put_token("douyin", token)
        s.log_event(run_id, "INFO", "fetch", "fetched", {"rows": 5})
        s.finish_run(run_id, "succeeded", {"rows": 5})
    with StateStore.open(tmp_path) as s:
        assert s.get_cursor("douyin", "ads") == {"date": "2024-05-01"}
        [p] = s.committed_parts()
        assert (p.table, p.path, p.rows, p.sha256, p.run_id) == ("spend", "p/a.parquet", 5, "00" * 32, run_id)
        assert s.get_token("douyin") == token
        [run] = s.runs()
        assert (run.run_id, run.status, run.config_hash, run.summary) == (run_id, "succeeded", "abc", {"rows": 5})
        [event] = s.events(run_id)
        assert (event.level, event.step, event.data) == ("info", "fetch", {"rows": 5})


def test_concurrent_commits_lose_nothing(tmp_path: Path) -> None:
    # Two stores on one file (two connections) shared by eight threads.
    stores = [StateStore.open(tmp_path), StateStore.open(tmp_path)]
    streams = [f"s{i}" for i in range(8)]

    def work(i: int) -> None:
        s, stream = stores[i % 2], streams[i]
        for n in range(25):
            s.commit_batch("tmall", stream, cursor={"n": n},
                           parts=[part(f"p/{stream}/{n}.parquet")], run_id="r")
            s.put_token("tmall", TokenSet(access_token=SecretStr(f"t{i}-{n}")), account=stream)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))

    s = stores[0]
    parts = s.committed_parts()
    assert len(parts) == 8 * 25
    assert len({p.seq for p in parts}) == len(parts)
    for stream in streams:
        assert s.get_cursor("tmall", stream) == {"n": 24}
        assert [p.path for p in s.committed_parts(stream=stream)] == [f"p/{stream}/{n}.parquet" for n in range(25)]
        token = s.get_token("tmall", account=stream)
        assert token is not None and token.access_token.get_secret_value().endswith("-24")
    for st in stores:
        st.close()


def test_tokens_round_trip_and_keep_secrets_out_of_reprs(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as s:
        assert isinstance(s, TokenStore)
        assert s.get_token("jd") is None
        s.put_token("jd", TokenSet(access_token=SecretStr("old")))
        s.put_token("jd", TokenSet(access_token=SecretStr("sekrit-access"), refresh_token=SecretStr("sekrit-refresh")))
        s.put_token("jd", TokenSet(access_token=SecretStr("other")), account="shop2")
        token = s.get_token("jd")
        assert token is not None
        assert token.access_token.get_secret_value() == "sekrit-access"
        assert token.refresh_token is not None and token.refresh_token.get_secret_value() == "sekrit-refresh"
        for text in (repr(token), str(token), repr(s)):
            assert "sekrit" not in text
    # Durable: a plain SQLite reader sees the stored secrets (the state file is the vault).
    conn = sqlite3.connect(tmp_path / STATE_FILENAME)
    stored = conn.execute("SELECT data FROM tokens WHERE platform='jd' AND account='default'").fetchone()[0]
    conn.close()
    assert "sekrit-access" in stored


def test_unreadable_token_raises_without_quoting_it(tmp_path: Path) -> None:
    with StateStore.open(tmp_path) as s:
        s.put_token("jd", TokenSet(access_token=SecretStr("sekrit")))
    conn = sqlite3.connect(tmp_path / STATE_FILENAME)
    conn.execute("""UPDATE tokens SET data='{"access_token": ["sekrit"]}'""")
    conn.commit()
    conn.close()
    with StateStore.open(tmp_path) as s, pytest.raises(StateError, match="re-authorise") as info:
        s.get_token("jd")
    assert "sekrit" not in str(info.value) and info.value.__cause__ is None


def test_stale_running_runs_become_interrupted(tmp_path: Path) -> None:
    clock = FakeClock()
    with StateStore.open(tmp_path, clock=clock) as s:
        crashed = s.start_run("run")
        s.log_event(crashed, "error", "fetch", "about to crash")
        # the process dies here: no finish_run, no close
    with StateStore.open(tmp_path, clock=clock) as s:
        assert [r.status for r in s.runs()] == ["running"]
        current = s.start_run("run")
        first, second = s.runs()
        assert (first.run_id, first.status) == (crashed, "interrupted")
        assert first.finished_at is not None
        assert (second.run_id, second.status) == (current, "running")
        assert sorted([current, crashed]) == [crashed, current]
        s.finish_run(current, "partial", {"failed_platforms": ["jd"]})
        assert s.runs()[-1].status == "partial"


def test_run_log_validates_and_masks_secrets(store: StateStore) -> None:
    run_id = store.start_run("fetch")
    with pytest.raises(StateError, match="unknown final run status"):
        store.finish_run(run_id, "running")
    with pytest.raises(StateError, match="no run"):
        store.finish_run("nope", "failed")
    with pytest.raises(StateError, match="unknown event level"):
        store.log_event(run_id, "loud", "fetch", "x")
    store.log_event(run_id, "warning", "fetch", "throttled",
                    {"secret": SecretStr("sekrit"), "at": datetime(2024, 5, 1, tzinfo=UTC)})
    [event] = store.events(run_id)
    assert event.data == {"secret": "**********", "at": "2024-05-01T00:00:00+00:00"}
    assert store.events("other") == []


def test_uncommitted_part_files_are_detected_and_forgotten(store: StateStore) -> None:
    out = store.path.parent
    for rel in ("parts/orders/p1.parquet", "parts/orders/p2.parquet", "parts/orders/.p3.parquet.tmp"):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(b"x")
    (out / "persons.parquet").write_bytes(b"not a part")
    store.commit_batch("tmall", "orders", cursor={"page": 1}, parts=[part("parts/orders/p1.parquet")], run_id="r")

    expected = [out / "parts/orders/.p3.parquet.tmp", out / "parts/orders/p2.parquet"]
    assert store.uncommitted_files("parts") == expected
    assert store.forget_uncommitted("parts") == expected
    assert not any(p.exists() for p in expected)
    assert (out / "parts/orders/p1.parquet").exists() and (out / "persons.parquet").exists()
    assert store.uncommitted_files("parts") == []
    assert store.uncommitted_files("missing-folder") == []


def test_reset_stream_drops_cursor_and_parts(store: StateStore) -> None:
    store.commit_batch("tmall", "orders", cursor={"p": 1}, parts=[part("p/1.parquet")], run_id="r")
    store.commit_batch("tmall", "orders", cursor={"p": 1}, parts=[part("p/2.parquet")], run_id="r", account="b")
    store.commit_batch("tmall", "members", cursor={"p": 9}, parts=[part("p/m.parquet")], run_id="r")
    dropped = store.reset_stream("tmall", "orders", account="b")
    assert [p.path for p in dropped] == ["p/2.parquet"]
    assert store.get_cursor("tmall", "orders") == {"p": 1}
    assert [p.path for p in store.reset_stream("tmall", "orders")] == ["p/1.parquet"]
    assert store.get_cursor("tmall", "orders") is None and store.get_cursor("tmall", "orders", "b") is None
    assert [p.path for p in store.committed_parts()] == ["p/m.parquet"]
    # a reset path can be committed again
    store.commit_batch("tmall", "orders", cursor={"p": 2}, parts=[part("p/1.parquet")], run_id="r")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    StateStore.open(tmp_path).close()
    conn = sqlite3.connect(tmp_path / STATE_FILENAME)
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    with pytest.raises(StateError, match="newer omniplug.*upgrade omniplug"):
        StateStore.open(tmp_path)


def test_corrupt_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILENAME
    path.write_bytes(b"this is not a database at all\x00" * 200)
    with pytest.raises(StateError, match="not a readable omniplug state database") as info:
        StateStore.open(tmp_path)
    assert str(path) in str(info.value)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / STATE_FILENAME)
    conn.execute("CREATE TABLE something (x)")
    conn.close()
    with pytest.raises(StateError, match="not an omniplug state database"):
        StateStore.open(tmp_path)


def test_missing_folder_and_closed_store(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="does not exist"):
        StateStore(tmp_path / "nope" / STATE_FILENAME)
    s = StateStore.open(tmp_path)
    s.close()
    s.close()
    with pytest.raises(StateError, match="closed"):
        s.get_cursor("tmall", "orders")

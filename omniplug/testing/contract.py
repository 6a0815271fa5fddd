"""The contract test suite every platform plugin runs against its simulator.

Subclass :class:`PluginContract` in your plugin's tests and provide two
fixtures; pytest then runs every contract test against your plugin over
real HTTP::

    from omniplug.testing import PluginContract

    class TestTmallContract(PluginContract):
        platform = "tmall"

        @pytest.fixture
        def simulator(self):
            with TmallSimulator(seed=7) as sim:
                yield sim

        @pytest.fixture
        def platform_config(self, simulator):
            return TmallConfig(base_url=simulator.base_url, app_key=..., app_secret=..., session=...)

What is checked, per stream:

* the plugin is installed through the ``omniplug`` entry-point group and
  declares the platform, its streams and a config model;
* fetched tables conform to the canonical schemas, with no rejects on clean
  data and no raw phone number or email anywhere in the output;
* paging ends, and a second run from the saved cursor adds nothing, also
  when it starts a fraction of a second after the first (real clocks);
* a run interrupted after its first batch (with a half-written part file
  left behind) resumes to exactly the tables of an uninterrupted run;
* no secret of the configuration appears in any log record or output file;
* a malformed record (``simulator.inject_malformed(stream)``) goes to
  ``rejects`` with a reason while the other records of its page land.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from omniplug.config import PlatformConfig
from omniplug.context import secret_values
from omniplug.fields import looks_like_raw_email, looks_like_raw_phone
from omniplug.plugins import PluginRegistry, load_registry
from omniplug.schema import PRIMARY_KEYS, TABLES
from omniplug.state import StateStore
from omniplug.sync import PARTS_DIR, StreamResult, sync_stream

__all__ = ["PluginContract", "read_tables"]


class _Interrupted(Exception):
    """Stands in for a crash between two pages."""


def read_tables(out_dir: Path, tables: Iterator[str] | list[str] | tuple[str, ...]) -> dict[str, pa.Table]:
    """The compacted canonical tables in ``out_dir`` (missing ones omitted), sorted by primary key."""
    found: dict[str, pa.Table] = {}
    for name in tables:
        path = out_dir / f"{name}.parquet"
        if path.exists():
            table = pq.read_table(path)
            keys = PRIMARY_KEYS.get(name)
            found[name] = table.sort_by([(k, "ascending") for k in keys]) if keys else table
    return found


class PluginContract:
    """Contract tests for one platform plugin; subclass it and provide the fixtures.

    Required fixtures:
        ``simulator``: a started simulator of the platform (seeded, so two
        runs see the same world), with a ``clock`` and, for the bad-record
        test, ``inject_malformed(stream) -> bool``.
        ``platform_config``: the plugin's config model pointing at ``simulator.base_url``.

    Class attributes:
        platform: the platform name under test.
    """

    platform: ClassVar[str]

    # -- fixtures and helpers ----------------------------------------------------

    @pytest.fixture
    def registry(self) -> PluginRegistry:
        """Plugins loaded the way users load them: from the entry-point group."""
        return load_registry()

    def streams(self, registry: PluginRegistry) -> list[str]:
        """Streams under test (default: all the platform declares)."""
        return [s.name for s in registry.platform(self.platform).streams]

    def run_stream(
        self,
        registry: PluginRegistry,
        stream: str,
        config: PlatformConfig,
        out: Path,
        simulator: Any,
        **kwargs: Any,
    ) -> StreamResult:
        """Sync one stream against the simulator, on the simulator's clock (waits included)."""
        kwargs.setdefault("sleep", simulator.clock.sleep)
        kwargs.setdefault("now", simulator.clock.now)
        return sync_stream(registry, self.platform, stream, config=config, out_dir=out, **kwargs)

    def _tables_of(self, registry: PluginRegistry, stream: str) -> tuple[str, ...]:
        return registry.platform(self.platform).stream(stream).tables

    # -- the contract --------------------------------------------------------------

    def test_plugin_is_installed_and_declares_its_platform(self, registry: PluginRegistry) -> None:
        """The entry point loads and declares streams with canonical tables and a config model."""
        assert self.platform in registry.platforms, (
            f"platform {self.platform!r} not found through the 'omniplug' entry-point group; "
            f"installed: {sorted(registry.platforms)}; broken: {registry.broken}"
        )
        spec = registry.platform(self.platform)
        assert spec.streams, "a platform must declare at least one stream"
        assert issubclass(spec.config_model, PlatformConfig)
        for stream in spec.streams:
            assert stream.tables and all(t in TABLES for t in stream.tables)

    def test_streams_conform_to_canonical_schemas(
        self, registry: PluginRegistry, simulator: Any, platform_config: PlatformConfig, tmp_path: Path
    ) -> None:
        """Every stream yields rows, in the canonical schema, without rejects or raw personal data."""
        for stream in self.streams(registry):
            out = tmp_path / stream
            result = self.run_stream(registry, stream, platform_config, out, simulator)
            assert sum(result.rows.values()) > 0, f"{stream}: fetched no rows from the simulator"
            assert not result.rejects, f"{stream}: clean data was rejected: {dict(result.rejects)}"
            for name, table in read_tables(out, self._tables_of(registry, stream)).items():
                assert table.schema.remove_metadata().equals(TABLES[name]), f"{stream}/{name} schema"
                _assert_no_raw_personal_data(table, f"{stream}/{name}")

    def test_paging_ends_and_a_second_run_adds_nothing(
        self, registry: PluginRegistry, simulator: Any, platform_config: PlatformConfig, tmp_path: Path
    ) -> None:
        """A second run resumes from the saved cursor and changes no table."""
        for stream in self.streams(registry):
            out = tmp_path / stream
            self.run_stream(registry, stream, platform_config, out, simulator)
            first = read_tables(out, self._tables_of(registry, stream))
            self.run_stream(registry, stream, platform_config, out, simulator)
            second = read_tables(out, self._tables_of(registry, stream))
            assert first.keys() == second.keys()
            for name in first:
                assert first[name].equals(second[name]), f"{stream}/{name} changed on a second run"

    def test_a_rerun_within_the_same_second_is_accepted_and_adds_nothing(
        self, registry: PluginRegistry, simulator: Any, platform_config: PlatformConfig, tmp_path: Path
    ) -> None:
        """Real clocks carry fractions of a second: a rerun 0.3 s after a run must not send an inverted window."""
        first_now = simulator.clock.now().replace(microsecond=600_000)
        for stream in self.streams(registry):
            out = tmp_path / stream
            self.run_stream(registry, stream, platform_config, out, simulator, now=lambda: first_now)
            first = read_tables(out, self._tables_of(registry, stream))
            rerun = first_now + timedelta(milliseconds=300)
            self.run_stream(registry, stream, platform_config, out, simulator, now=lambda rerun=rerun: rerun)
            second = read_tables(out, self._tables_of(registry, stream))
            for name in first:
                assert first[name].equals(second[name]), f"{stream}/{name} changed on a rerun 0.3 s later"

    def test_interrupted_run_resumes_without_loss_or_duplicates(
        self,
        registry: PluginRegistry,
        simulator: Any,
        platform_config: PlatformConfig,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Killed after its first batch, with a torn part file left, a run resumes to the same tables."""
        for stream in self.streams(registry):
            reference = tmp_path / f"{stream}-reference"
            self.run_stream(registry, stream, platform_config, reference, simulator)
            expected = read_tables(reference, self._tables_of(registry, stream))

            resumed = tmp_path / f"{stream}-resumed"
            _carry_tokens(reference, resumed, self.platform, platform_config.account)
            real_fetch = registry.fetch

            torn = resumed / PARTS_DIR / self._tables_of(registry, stream)[0] / "torn.parquet"

            def crashing_fetch(
                *args: Any, _fetch: Any = real_fetch, _torn: Path = torn, **kwargs: Any
            ) -> Iterator[pa.RecordBatch]:
                batches = _fetch(*args, **kwargs)
                yield next(batches)
                # A part file written but never committed, as a crash leaves it.
                torn = _torn
                torn.parent.mkdir(parents=True, exist_ok=True)
                torn.write_bytes(b"PAR1 half a file")
                raise _Interrupted

            monkeypatch.setattr(registry, "fetch", crashing_fetch)
            with pytest.raises(_Interrupted):
                self.run_stream(registry, stream, platform_config, resumed, simulator)
            monkeypatch.setattr(registry, "fetch", real_fetch)
            self.run_stream(registry, stream, platform_config, resumed, simulator)
            got = read_tables(resumed, self._tables_of(registry, stream))
            assert got.keys() == expected.keys(), stream
            for name in expected:
                assert got[name].equals(expected[name]), f"{stream}/{name} differs after resume"
            assert not torn.exists()

    def test_secrets_never_logged_or_written(
        self,
        registry: PluginRegistry,
        simulator: Any,
        platform_config: PlatformConfig,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """No configured secret appears in any log record (DEBUG included) or output table."""
        secrets = secret_values(platform_config)
        assert secrets, "the config model should hold its credentials as SecretStr"
        caplog.set_level(logging.DEBUG)
        for stream in self.streams(registry):
            self.run_stream(registry, stream, platform_config, tmp_path / stream, simulator)
        logged = "\n".join(f"{r.getMessage()} {r.args!r} {getattr(r, '__dict__', '')!r}" for r in caplog.records)
        assert caplog.records, "expected the HTTP client to log its requests"
        for secret in secrets:
            assert secret not in logged, "a secret value reached the logs"
        for parquet in tmp_path.rglob("*.parquet"):
            data = parquet.read_bytes()
            for secret in secrets:
                assert secret.encode() not in data, f"a secret value was written to {parquet.name}"

    def test_malformed_record_goes_to_rejects(
        self, registry: PluginRegistry, simulator: Any, platform_config: PlatformConfig, tmp_path: Path
    ) -> None:
        """One malformed record is rejected with a reason; the rest of its page lands."""
        tested = 0
        for stream in self.streams(registry):
            primary = self._tables_of(registry, stream)[0]
            clean = self.run_stream(registry, stream, platform_config, tmp_path / f"{stream}-clean", simulator)
            if not simulator.inject_malformed(stream):
                continue
            tested += 1
            bad = self.run_stream(registry, stream, platform_config, tmp_path / f"{stream}-bad", simulator)
            assert bad.n_rejects >= 1, f"{stream}: the malformed record was not rejected"
            rejects = pq.read_table(tmp_path / f"{stream}-bad" / "rejects.parquet")
            assert all(reason for reason in rejects.column("reason").to_pylist())
            assert bad.rows[primary] == clean.rows[primary] - bad.n_rejects, (
                f"{stream}: rows other than the malformed one were lost or duplicated"
            )
        assert tested, "the simulator's inject_malformed() supported no stream"


def _carry_tokens(src: Path, dst: Path, platform: str, account: str) -> None:
    """Copy the platform's current (maybe rotated) tokens to a fresh output folder."""
    with StateStore.open(src) as old:
        token = old.get_token(platform, account)
    if token is not None:
        with StateStore.open(dst) as new:
            new.put_token(platform, token, account)


def _assert_no_raw_personal_data(table: pa.Table, where: str) -> None:
    for field in table.schema:
        if pa.types.is_string(field.type):
            for value in table.column(field.name).to_pylist():
                if value is not None:
                    assert not looks_like_raw_phone(value), f"{where}.{field.name}: raw phone number"
                    assert not looks_like_raw_email(value), f"{where}.{field.name}: raw email"

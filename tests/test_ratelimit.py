"""TokenBucket and the per-platform registry, on a fake clock."""

from __future__ import annotations

import itertools
import logging
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniplug.http import TokenBucket, rate_limiter_for

_names = itertools.count()


class FakeTime:
    """A monotonic clock that only moves when someone sleeps (thread-safe)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def idle(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def test_burst_is_free_then_the_rate_applies() -> None:
    t = FakeTime()
    bucket = TokenBucket(5, 3, clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        assert bucket.acquire() == 0.0
    assert t.sleeps == []
    assert bucket.acquire() == pytest.approx(0.2)
    assert bucket.acquire(2) == pytest.approx(0.4)
    assert t.now == pytest.approx(0.6)


def test_idle_time_refills_up_to_the_burst_only() -> None:
    t = FakeTime()
    bucket = TokenBucket(1, 2, clock=t.clock, sleep=t.sleep)
    bucket.acquire(2)
    t.idle(3600)
    bucket.acquire(2)
    assert t.sleeps == []
    bucket.acquire()
    assert t.sleeps == [pytest.approx(1.0)]


def test_invalid_buckets_and_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="rate_per_second"):
        TokenBucket(0, 1)
    with pytest.raises(ValueError, match="burst"):
        TokenBucket(1, 0.5)
    with pytest.raises(ValueError, match="cannot acquire 3"):
        TokenBucket(1, 2).acquire(3)


@given(
    rate=st.floats(0.1, 50),
    burst=st.integers(1, 10),
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("take"), st.integers(1, 10)),
            st.tuples(st.just("idle"), st.floats(0, 5)),
        ),
        max_size=40,
    ),
)
def test_never_more_than_burst_plus_rate_times_t(
    rate: float, burst: int, ops: list[tuple[str, float]]
) -> None:
    t = FakeTime()
    bucket = TokenBucket(rate, burst, clock=t.clock, sleep=t.sleep)
    grants: list[tuple[float, int]] = []  # (time granted, tokens)
    for op, value in ops:
        if op == "idle":
            t.idle(value)
        else:
            n = min(int(value), burst)
            bucket.acquire(n)
            grants.append((t.now, n))
    # Every window [grants[i].time, grants[j].time] holds at most burst + rate * t tokens.
    for i in range(len(grants)):
        taken = 0
        for j in range(i, len(grants)):
            taken += grants[j][1]
            elapsed = grants[j][0] - grants[i][0]
            assert taken <= burst + rate * elapsed + 1e-6


def test_threads_share_one_bucket() -> None:
    t = FakeTime()
    bucket = TokenBucket(10, 5, clock=t.clock, sleep=t.sleep)
    granted: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            bucket.acquire()
            with lock:
                granted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(granted) == 100
    # 100 tokens at 10/s with a burst of 5 need at least 9.5 s of (fake) time.
    assert t.now >= 9.5 - 1e-9


def test_registry_shares_one_bucket_per_platform(caplog: pytest.LogCaptureFixture) -> None:
    name = f"platform-{next(_names)}"
    first = rate_limiter_for(name, 10, 20)
    assert rate_limiter_for(name, 10, 20) is first
    assert rate_limiter_for(f"other-{next(_names)}", 10, 20) is not first
    with caplog.at_level(logging.WARNING, logger="omniplug.http"):
        assert rate_limiter_for(name, 99, 1) is first
    assert (first.rate, first.burst) == (10.0, 20.0)
    assert "already set to 10.0/s" in caplog.text

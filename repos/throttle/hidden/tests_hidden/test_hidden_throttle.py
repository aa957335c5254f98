import time

import pytest

from throttle import FakeClock, KeyedLimiter, MonotonicClock, TokenBucket


def test_steady_rate_after_burst():
    clock = FakeClock()
    bucket = TokenBucket(5, 2, clock)
    allowed = 0
    for _ in range(40):            # 40 calls over 5 seconds
        clock.advance(0.125)
        allowed += bucket.try_acquire()
    assert allowed == 14           # the burst of 5, then 2/s once the bucket is no longer full


def test_partial_refill_is_fractional():
    clock = FakeClock()
    bucket = TokenBucket(10, 1, clock)
    bucket.try_acquire(10)
    clock.advance(2.5)
    assert bucket.available() == pytest.approx(2.5)
    assert not bucket.try_acquire(3)
    assert bucket.try_acquire(2)


def test_capacity_is_a_ceiling_after_long_idle():
    clock = FakeClock()
    bucket = TokenBucket(3, 100, clock)
    clock.advance(3600)
    assert bucket.available() == 3
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_wait_time_after_idle():
    clock = FakeClock()
    bucket = TokenBucket(2, 2, clock)
    clock.advance(5)
    bucket.try_acquire(2)
    assert bucket.wait_time(2) == pytest.approx(1.0)


def test_real_clock_steady_rate():
    bucket = TokenBucket(1, 10, MonotonicClock())
    started = time.monotonic()
    for _ in range(4):
        assert bucket.acquire()
    assert time.monotonic() - started >= 0.25


def test_keyed_limiter_after_pause():
    clock = FakeClock()
    limiter = KeyedLimiter(3, 1, clock)
    limiter.allow("k")
    clock.advance(0.1)
    assert [limiter.allow("k") for _ in range(4)] == [True, True, False, False]

import time

import pytest

from throttle import FakeClock, MonotonicClock, TokenBucket


def test_starts_full():
    bucket = TokenBucket(5, 1, FakeClock())
    assert bucket.available() == 5


def test_burst_then_refuse():
    bucket = TokenBucket(3, 1, FakeClock())
    assert [bucket.try_acquire() for _ in range(5)] == [True, True, True, False, False]


def test_refills_over_time():
    clock = FakeClock()
    bucket = TokenBucket(4, 2, clock)
    for _ in range(4):
        bucket.try_acquire()
    clock.advance(1.0)
    assert bucket.available() == pytest.approx(2.0)


def test_never_exceeds_capacity():
    clock = FakeClock()
    bucket = TokenBucket(4, 2, clock)
    clock.advance(60)
    assert bucket.available() == 4


def test_wait_time():
    clock = FakeClock()
    bucket = TokenBucket(2, 4, clock)
    bucket.try_acquire(2)
    assert bucket.wait_time() == pytest.approx(0.25)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        TokenBucket(0, 1)
    with pytest.raises(ValueError):
        TokenBucket(1, 1, FakeClock()).try_acquire(2)


def test_blocking_acquire_with_fake_clock():
    clock = FakeClock()
    bucket = TokenBucket(1, 10, clock)
    assert bucket.acquire()
    assert bucket.acquire()
    assert clock.now() == pytest.approx(0.1)


def test_real_clock_refill():
    bucket = TokenBucket(2, 10, MonotonicClock())
    assert bucket.try_acquire(2)
    assert not bucket.try_acquire()
    time.sleep(0.35)
    assert bucket.try_acquire()


def test_real_clock_blocking_acquire_waits():
    bucket = TokenBucket(1, 4, MonotonicClock())
    bucket.try_acquire()
    started = time.monotonic()
    assert bucket.acquire()
    assert time.monotonic() - started >= 0.2


def test_real_clock_timeout():
    bucket = TokenBucket(1, 1, MonotonicClock())
    bucket.try_acquire()
    assert bucket.acquire(timeout=0.3) is False


def test_real_clock_sustained_rate():
    bucket = TokenBucket(1, 20, MonotonicClock())
    started = time.monotonic()
    for _ in range(21):
        assert bucket.acquire()
    assert time.monotonic() - started >= 0.9

import time

import pytest

from throttle import FakeClock, KeyedLimiter, MonotonicClock, RateLimited, SlidingWindow, rate_limited


def test_window_limits_hits():
    clock = FakeClock()
    window = SlidingWindow(3, 10, clock)
    assert [window.hit() for _ in range(4)] == [True, True, True, False]
    assert window.retry_after() == pytest.approx(10)
    clock.advance(10)
    assert window.hit()


def test_window_slides_with_real_clock():
    window = SlidingWindow(2, 0.3, MonotonicClock())
    assert window.hit() and window.hit()
    assert not window.hit()
    time.sleep(0.35)
    assert window.count() == 0
    assert window.hit()


def test_keys_are_independent():
    limiter = KeyedLimiter(1, 1, FakeClock())
    assert limiter.allow("alice")
    assert limiter.allow("bob")
    assert not limiter.allow("alice")


def test_keyed_limiter_refuses_after_time_passes():
    clock = FakeClock()
    limiter = KeyedLimiter(2, 1, clock)
    clock.advance(0.5)
    assert [limiter.allow("k") for _ in range(4)] == [True, True, False, False]


def test_idle_keys_are_dropped():
    limiter = KeyedLimiter(1, 1, FakeClock(), max_keys=2)
    limiter.allow("a")
    limiter.allow("b")
    limiter.allow("a")
    limiter.allow("c")
    assert limiter.keys() == ["a", "c"]


def test_decorator_raises_when_limited():
    limiter = KeyedLimiter(2, 1, FakeClock())

    @rate_limited(limiter, key_func=lambda user: user)
    def fetch(user):
        return f"data for {user}"

    assert fetch("u1") == "data for u1"
    fetch("u1")
    with pytest.raises(RateLimited) as info:
        fetch("u1")
    assert info.value.retry_after == pytest.approx(1.0)


def test_real_clock_keyed_limiter_recovers():
    limiter = KeyedLimiter(1, 5, MonotonicClock())
    assert limiter.allow("x")
    assert not limiter.allow("x")
    time.sleep(0.3)
    assert limiter.allow("x")

"""throttle: token buckets, sliding windows and a keyed limiter."""
from .bucket import TokenBucket
from .clock import FakeClock, MonotonicClock
from .limiter import KeyedLimiter, RateLimited, rate_limited
from .window import SlidingWindow

__all__ = ["TokenBucket", "FakeClock", "MonotonicClock", "KeyedLimiter", "RateLimited",
           "rate_limited", "SlidingWindow"]

"""Per-key limiting (one bucket per client, user, route...) and a decorator."""
import functools

from .bucket import TokenBucket
from .clock import MonotonicClock


class RateLimited(Exception):
    def __init__(self, key, retry_after):
        super().__init__(f"rate limit exceeded for {key!r}; retry in {retry_after:.3f}s")
        self.key = key
        self.retry_after = retry_after


class KeyedLimiter:
    def __init__(self, capacity, rate, clock=None, max_keys=10_000):
        self.capacity = capacity
        self.rate = rate
        self.clock = clock or MonotonicClock()
        self.max_keys = max_keys
        self._buckets = {}

    def bucket(self, key):
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = TokenBucket(self.capacity, self.rate, self.clock)
            if len(self._buckets) >= self.max_keys:
                # Dicts keep insertion order and we re-insert on use: the first key is the idlest.
                self._buckets.pop(next(iter(self._buckets)))
        self._buckets[key] = bucket
        return bucket

    def allow(self, key, tokens=1):
        return self.bucket(key).try_acquire(tokens)

    def check(self, key, tokens=1):
        bucket = self.bucket(key)
        if not bucket.try_acquire(tokens):
            raise RateLimited(key, bucket.wait_time(tokens))

    def keys(self):
        return list(self._buckets)


def rate_limited(limiter, key_func=None):
    """Decorate a function so each call takes one token for key_func(*args)."""
    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            key = key_func(*args, **kwargs) if key_func else func.__name__
            limiter.check(key)
            return func(*args, **kwargs)
        return wrapper
    return decorate

"""The classic token bucket: holds up to `capacity` tokens, refills at `rate` per second."""
from .clock import MonotonicClock


class TokenBucket:
    def __init__(self, capacity, rate, clock=None):
        if capacity <= 0 or rate <= 0:
            raise ValueError("capacity and rate must be positive")
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.clock = clock or MonotonicClock()
        self._tokens = self.capacity
        self._updated = self.clock.now()

    def _refill(self):
        now = self.clock.now()
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = max(self.capacity, self._tokens + elapsed * self.rate)
            self._updated = now

    def available(self):
        self._refill()
        return self._tokens

    def try_acquire(self, tokens=1):
        if tokens > self.capacity:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self.capacity:g}")
        self._refill()
        if self._tokens >= tokens:
            self._tokens -= tokens
            return True
        return False

    def wait_time(self, tokens=1):
        """Seconds until `tokens` tokens will be available (0 if they are now)."""
        self._refill()
        missing = tokens - self._tokens
        return max(0.0, missing / self.rate)

    def acquire(self, tokens=1, timeout=None):
        """Block (using the bucket's clock) until tokens are taken; False on timeout."""
        deadline = None if timeout is None else self.clock.now() + timeout
        while not self.try_acquire(tokens):
            delay = self.wait_time(tokens)
            if deadline is not None and self.clock.now() + delay > deadline:
                return False
            self.clock.sleep(delay)
        return True
